/* vmcore/dev — the device contract and the devices of the PC board.
 *
 * A device is one file: a plain-struct state (fixed-width fields, no
 * pointers, what .vsv stores as the device's section), static port/MMIO
 * handlers, and a `struct dev_ops` filled with designated initialisers.
 * Runtime parts (registered ranges, timers, chardev handles) live beside the
 * state in the instance and are rebuilt by realize, never saved.
 *
 * Lifecycle: the board (machine/pc.c) calls realize in its array order,
 * reset before the first run and on a guest reset, and unrealize in reverse.
 * save/load run with the vCPU stopped. */
#ifndef HAVM_VMCORE_DEV_DEV_H
#define HAVM_VMCORE_DEV_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "vmcore/dev/chardev.h"

struct machine;
struct vsv_field;

struct dev_ops {
	const char *name;
	uint32_t state_version;   /* bump when the state struct changes */
	size_t state_size;        /* bytes save() writes and load() expects */
	/* How the state struct goes into a .vsv section: field by field in
	 * little-endian (vmcore/vsv/fields.h), never as the struct's bytes. */
	const struct vsv_field *fields;
	size_t nfields;
	/* Creates the instance from @params (device-specific, may be NULL),
	 * registers its ranges; on failure registers nothing. */
	int (*realize)(struct machine *m, const void *params, void **dev, struct havm_err *err);
	void (*reset)(void *dev);
	/* Copies the state struct into @buf (@size == state_size). */
	void (*save)(void *dev, void *buf);
	/* Replaces the state from @buf; -EINVAL with a message naming the field
	 * when a value is out of range. The runtime parts are re-derived. */
	int (*load)(void *dev, const void *buf, size_t size, struct havm_err *err);
	void (*unrealize)(void *dev);
};

/* Parameters of the devices that take some. */
struct uart_params {
	uint16_t base;     /* 0x3f8, 0x2f8, ... */
	uint8_t irq;       /* ISA line */
	struct chardev_config chardev;
};

/* A virtio-blk-pci disk. */
struct blk_dev;

struct vblk_params {
	uint8_t devfn;         /* PCI slot << 3 */
	uint8_t irq;           /* ISA line for INTA (level-triggered) */
	uint16_t io_base;      /* BAR0 as "firmware" assigns it */
	bool readonly;
	bool vhd;              /* the file must be a VHD; otherwise raw */
	char path[4096];
	char serial[16];       /* GET_ID answer after "havm-" */
	/* When set, opens @path instead of blk_open (vmm: iscsi:// URLs with
	 * the PR registration guard); @open_opaque is its first argument. */
	int (*open)(void *opaque, const char *path, unsigned flags, struct blk_dev **out,
		    struct havm_err *err);
	void *open_opaque;
};

extern const struct dev_ops pic_dev_ops;      /* 8259A pair + ELCR */
extern const struct dev_ops pit_dev_ops;      /* 8254 + port 0x61 */
extern const struct dev_ops cmos_dev_ops;     /* MC146818 RTC + NVRAM */
extern const struct dev_ops uart_dev_ops;     /* 16550A */
extern const struct dev_ops i8042_dev_ops;    /* keyboard controller: probe + reset */
extern const struct dev_ops port92_dev_ops;   /* system control port A */
extern const struct dev_ops port80_dev_ops;   /* POST / io_delay port */
extern const struct dev_ops pci_host_dev_ops; /* 0xCF8/0xCFC, host + ISA bridge */
extern const struct dev_ops virtio_blk_dev_ops; /* virtio-blk-pci, legacy interface */

/* The disk behind a realized virtio-blk instance (borrowed), for the VMM's
 * save path: flush before a save, identity and generation. */
struct blk_dev;
struct blk_dev *vblk_disk(void *vblk);

/* Requests run on the disk's own I/O thread. vblk_complete publishes the
 * finished ones (used ring, dirty log, interrupt): the vCPU loop calls it
 * on MACHINE_REQ_DEV_DONE. vblk_drain first waits until none is in flight:
 * with the vCPU stopped, before a save or anything that must see no
 * half-done request. Both with the device lock held. */
void vblk_complete(void *vblk);
void vblk_drain(void *vblk);

/* PIC entry points the machine uses. */
struct pic;
void pic_set_irq(void *pic, int n, int level);   /* an irq_set_fn for ISA lines */
int pic_ack(struct pic *pic);                      /* INTA: vector, or -1 */
int pic_output(const struct pic *pic);             /* the INTR line level */

/* CMOS: memory sizes in the BIOS bytes (0x15-0x18, 0x30-0x31, 0x34-0x35). */
struct cmos_params {
	uint32_t ram_size;
	int64_t host_time;   /* UNIX seconds the RTC starts at; 0 = now */
};

#endif
