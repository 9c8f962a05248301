/* vmcore/machine — guest RAM: one anonymous mapping. */
#include <errno.h>
#include <sys/mman.h>

#include "vmcore/machine/machine.h"

int machine_ram_alloc(struct machine *m, uint32_t size, struct havm_err *err)
{
	if (size < (1u << 20) || size % 4096)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL,
				    "memory: %u bytes, expected a multiple of 4 KiB of at least 1 MiB", size);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (p == MAP_FAILED)
		return havm_err_set(err, HAVM_E_IO, -errno, "memory: cannot map %u MiB", size >> 20);
	m->ram = p;
	m->ram_size = size;
	return 0;
}

void machine_ram_free(struct machine *m)
{
	if (m->ram)
		munmap(m->ram, m->ram_size);
	m->ram = NULL;
	m->ram_size = 0;
}

uint8_t *machine_ram_ptr(struct machine *m, uint32_t gpa, uint32_t len)
{
	if (!m->ram || gpa > m->ram_size || len > m->ram_size - gpa)
		return NULL;
	return m->ram + gpa;
}

void machine_request(struct machine *m, enum machine_request req)
{
	atomic_fetch_or(&m->requests, (unsigned)req);
	if (m->cpu && m->cpu_ops)
		m->cpu_ops->request_exit(m->cpu);
	if (m->wake)
		m->wake(m->wake_opaque);
}
