/* vmcore/machine — flat binary loader for freestanding test guests. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmcore/machine/boot.h"
#include "vmcore/machine/machine.h"

int boot_flat_load(struct machine *m, const struct boot_flat_config *bc, struct cpu_state *st,
		   struct havm_err *err)
{
	uint8_t *data;
	uint32_t len;
	if (bc->load_addr < 0x2000 || bc->load_addr >= m->ram_size)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL,
				    "image %s: load address 0x%x, expected 0x2000..0x%x", bc->image,
				    bc->load_addr, m->ram_size - 1);
	int rc = boot_read_file("image", bc->image, m->ram_size - bc->load_addr, &data, &len, err);
	if (rc < 0)
		return rc;
	uint32_t entry = bc->entry ? bc->entry : bc->load_addr;
	if (entry < bc->load_addr || entry - bc->load_addr >= len) {
		free(data);
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL,
				    "image %s: entry 0x%x outside the image [0x%x, 0x%x)", bc->image, entry,
				    bc->load_addr, bc->load_addr + len);
	}
	memcpy(machine_ram_ptr(m, bc->load_addr, len), data, len);
	free(data);
	boot_cpu_flat32(m, st, entry, bc->stack ? bc->stack : bc->load_addr);
	return 0;
}
