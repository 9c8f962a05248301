/* vmcore/machine — guest RAM: one anonymous mapping. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
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
	m->dma_dirty = calloc(((size_t)(size / 4096) + 63) / 64, sizeof(uint64_t));
	if (!m->dma_dirty) {
		munmap(p, size);
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "memory: out of memory for the dirty bitmap");
	}
	m->ram = p;
	m->ram_size = size;
	return 0;
}

void machine_ram_free(struct machine *m)
{
	if (m->ram)
		munmap(m->ram, m->ram_size);
	free(m->dma_dirty);
	m->dma_dirty = NULL;
	m->ram = NULL;
	m->ram_size = 0;
}

void machine_ram_prefault(struct machine *m)
{
#ifdef MADV_POPULATE_READ
	if (m->ram)
		(void)madvise(m->ram, m->ram_size, MADV_POPULATE_READ);
#else
	(void)m;
#endif
}

void machine_mark_dirty(struct machine *m, uint32_t gpa, uint32_t len)
{
	if (!len || !m->dma_dirty || gpa >= m->ram_size)
		return;
	uint32_t last = gpa + (len - 1 < m->ram_size - 1 - gpa ? len - 1 : m->ram_size - 1 - gpa);
	for (uint32_t pg = gpa / 4096; pg <= last / 4096; pg++)
		m->dma_dirty[pg / 64] |= 1ull << (pg % 64);
	if (m->cpu && m->cpu_ops)
		m->cpu_ops->invalidate_code(m->cpu, gpa, len);
}

int machine_dirty_log(struct machine *m, uint64_t *bitmap, bool clear)
{
	uint32_t npages = m->ram_size / 4096;
	size_t words = ((size_t)npages + 63) / 64;
	memset(bitmap, 0, words * sizeof(uint64_t));
	if (m->cpu && m->cpu_ops) {
		int rc = m->cpu_ops->dirty_log(m->cpu, bitmap, npages, clear);
		if (rc < 0)
			return rc;
	}
	for (size_t w = 0; w < words; w++)
		bitmap[w] |= m->dma_dirty[w];
	if (clear)
		memset(m->dma_dirty, 0, words * sizeof(uint64_t));
	return 0;
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
