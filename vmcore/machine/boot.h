/* vmcore/machine — loaders that put a guest into RAM and describe the CPU
 * state it starts in. They write guest memory and fill @st; the caller
 * hands @st to cpu_ops->set_state. Nothing is written to RAM before the
 * image has been validated.
 *
 * Linux: the 32-bit boot protocol without firmware (boot.rst "32-bit BOOT
 * PROTOCOL", docs/vmc.md): an ELF32 vmlinux is loaded at its physical
 * addresses, or a bzImage's protected-mode part at 0x100000; the zero page
 * at 0x90000 carries the setup header (copied from the bzImage, or built for
 * a vmlinux), the command line at 0x20000, the initrd and an e820 map; the
 * CPU starts flat 32-bit: CS=0x10, DS/ES/SS=0x18, ESI=0x90000, IF=0.
 *
 * Flat: a raw binary loaded at a physical address and entered in the same
 * flat 32-bit state, for the freestanding test guests. */
#ifndef HAVM_VMCORE_MACHINE_BOOT_H
#define HAVM_VMCORE_MACHINE_BOOT_H

#include <stdint.h>

#include "common/err.h"
#include "vmcore/cpu/cpu.h"

struct machine;

#define BOOT_ZERO_PAGE   0x90000u
#define BOOT_CMDLINE     0x20000u
#define BOOT_GDT         0x1000u
#define BOOT_STACK       0x8ff0u
#define BOOT_KERNEL_LOW  0x100000u
#define BOOT_INITRD_PREF 0x4000000u
#define BOOT_SEL_CS      0x10
#define BOOT_SEL_DS      0x18

struct boot_linux_config {
	const char *kernel;    /* ELF32 vmlinux or bzImage */
	const char *initrd;    /* NULL: none */
	const char *cmdline;   /* NULL: empty */
};

struct boot_flat_config {
	const char *image;
	uint32_t load_addr;    /* where the first byte goes */
	uint32_t entry;        /* 0: load_addr */
	uint32_t stack;        /* initial ESP; 0: load_addr (grows down below the image) */
};

int boot_linux_load(struct machine *m, const struct boot_linux_config *bc, struct cpu_state *st,
		    struct havm_err *err) HAVM_MUST_CHECK;
int boot_flat_load(struct machine *m, const struct boot_flat_config *bc, struct cpu_state *st,
		   struct havm_err *err) HAVM_MUST_CHECK;

/* Writes the boot GDT [null, null, code 0x10, data 0x18] at BOOT_GDT and
 * fills @st with flat 32-bit protected mode, paging off, IF=0. */
void boot_cpu_flat32(struct machine *m, struct cpu_state *st, uint32_t eip, uint32_t esp);

/* Reads a whole file (at most @max bytes) into a malloc'd buffer. */
int boot_read_file(const char *what, const char *path, uint32_t max, uint8_t **data, uint32_t *len,
		   struct havm_err *err) HAVM_MUST_CHECK;

#endif
