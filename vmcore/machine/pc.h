/* vmcore/machine — the PC board: RAM, the I/O bus, the CPU, and the legacy
 * devices in one explicit array in init order (PIC first: every other
 * device's interrupt line goes through it). Teardown walks the array
 * backwards; a failure names the device. */
#ifndef HAVM_VMCORE_MACHINE_PC_H
#define HAVM_VMCORE_MACHINE_PC_H

#include "vmcore/dev/dev.h"
#include "vmcore/machine/machine.h"

#define PC_MAX_UARTS 4
#define PC_MAX_DISKS 4

struct pc_config {
	uint32_t ram_size;
	const struct cpu_ops *cpu_ops;      /* NULL: devices only (unit tests) */
	qb_loop_t *loop;                    /* chardev input; may be NULL */
	struct uart_params uart[PC_MAX_UARTS];
	unsigned nuarts;
	struct vblk_params disk[PC_MAX_DISKS];   /* virtio-blk-pci, after the PCI host */
	unsigned ndisks;
	int64_t rtc_time;                   /* 0 = host time now */
	uint64_t insn_hz;                   /* 0 = VCLOCK_INSN_HZ */
};

/* Builds the machine in @m (zeroed by the caller is not required). On
 * failure everything built so far is torn down and @err names the part. */
int pc_init(struct machine *m, const struct pc_config *cfg, struct havm_err *err) HAVM_MUST_CHECK;
void pc_fini(struct machine *m);

/* Puts every device back to its power-on state (guest reset). */
void pc_reset_devices(struct machine *m);

/* Finds a realized device instance by name ("uart" finds the first). */
void *pc_find_dev(struct machine *m, const char *name);

#endif
