/* vmcore/machine — the machine: RAM, the I/O bus, the virtual clock, the
 * CPU and the devices of a board.
 *
 * Locking: `lock` is the device lock. The vCPU thread takes it around every
 * port/MMIO access and timer run; the event-loop thread takes it before
 * touching a device (chardev input). Device handlers therefore run
 * single-threaded and never take it themselves. */
#ifndef HAVM_VMCORE_MACHINE_MACHINE_H
#define HAVM_VMCORE_MACHINE_MACHINE_H

#include <pthread.h>
#include <qb/qbloop.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common/err.h"
#include "vmcore/cpu/cpu.h"
#include "vmcore/machine/io.h"
#include "vmcore/machine/irq.h"
#include "vmcore/machine/vclock.h"
#include "vmcore/dev/dev.h"

struct dev_ops;
struct pic;

#define MACHINE_MAX_DEVS 24

struct machine_dev {
	const struct dev_ops *ops;
	const void *params;   /* device-specific, borrowed from the board */
	void *dev;            /* the instance, NULL until realized */
};

/* Requests from devices to the vCPU loop (bits of machine.requests). */
enum machine_request {
	MACHINE_REQ_RESET = 1u << 0,    /* i8042 0xFE, port 0x92 bit 0 */
	MACHINE_REQ_DEV_DONE = 1u << 1, /* a device I/O thread finished requests */
};

struct machine_counters {
	uint64_t irq_acks, spurious_irqs;
	uint64_t idle_skips, idle_ns;
};

struct machine {
	pthread_mutex_t lock;
	struct io_bus io;
	struct vclock clock;
	uint8_t *ram;
	uint32_t ram_size;
	const struct cpu_ops *cpu_ops;
	struct cpu *cpu;
	struct cpu_bus bus;
	struct pic *pic;                   /* set by the PIC's realize */
	struct machine_dev devs[MACHINE_MAX_DEVS];
	unsigned ndevs, nrealized;
	atomic_uint requests;
	struct machine_counters count;
	qb_loop_t *loop;                   /* event loop for chardev input; may be NULL */
	void (*wake)(void *opaque);        /* wakes an idle vCPU loop; may be NULL */
	void *wake_opaque;
	struct cmos_params cmos_params;    /* board parameters the CMOS borrows */
	uint16_t elcr_level;               /* ISA lines the PIC treats as level at reset */
	/* Pages devices wrote by DMA since the last machine_dirty_log() clear
	 * (the CPU's dirty log sees only the guest's own stores); device lock. */
	uint64_t *dma_dirty;
};

/* Allocates @size bytes of zeroed guest RAM with mmap (so a restore can
 * later map a file lazily). @size must be a multiple of 4 KiB and at least
 * 1 MiB. */
int machine_ram_alloc(struct machine *m, uint32_t size, struct havm_err *err) HAVM_MUST_CHECK;
void machine_ram_free(struct machine *m);

/* Maps every page of RAM for reading in one call (MADV_POPULATE_READ,
 * Linux 5.14+; a no-op elsewhere): untouched pages get the shared zero
 * page without allocating memory. A save reads all of RAM, and one
 * in-kernel walk costs far less than a page fault per untouched page
 * (30-60 us each on a nested-virtualised host). Best effort. */
void machine_ram_prefault(struct machine *m);

/* Sets bit i of @bm (ram_size / 4096 bits, cleared first) for each page i
 * that the host has never populated: inside an anonymous private mapping,
 * neither present nor swapped (/proc/self/pagemap). Such a page reads as
 * zero, and a save records it so without touching it (ram_untouched.c
 * explains why that matters). Pages mapped from a file (lazy restore) are
 * never marked. Safe while the vCPU runs: a page it touches afterwards is
 * in the dirty log. Returns 0, or a negative errno with @bm all clear. */
int machine_ram_untouched(struct machine *m, uint64_t *bm) HAVM_MUST_CHECK;

/* Records that a device wrote [gpa, gpa+len) behind the CPU's back (DMA):
 * marks the pages dirty for pre-copy and drops decoded code there. Device
 * lock held (devices run under it). */
void machine_mark_dirty(struct machine *m, uint32_t gpa, uint32_t len);

/* The pages written since the last clear, by the guest (cpu_ops->dirty_log)
 * or by devices (machine_mark_dirty): one bit per page from gpa 0,
 * ram_size / 4096 bits. With @clear both logs restart empty. The vCPU
 * must be stopped (cpu.h: dirty_log is not safe against a running vCPU). */
int machine_dirty_log(struct machine *m, uint64_t *bitmap, bool clear) HAVM_MUST_CHECK;

/* Host pointer for [gpa, gpa+len) if it lies inside RAM, else NULL. */
uint8_t *machine_ram_ptr(struct machine *m, uint32_t gpa, uint32_t len);

/* The ISA interrupt line @n (0..15) of the PIC pair. */
struct irq_line machine_isa_irq(struct machine *m, int n);

/* Asks the vCPU loop to act on @req soon (any thread). */
void machine_request(struct machine *m, enum machine_request req);

/* Guest time in ns (device lock held). */
static inline uint64_t machine_now(struct machine *m)
{
	return vclock_now(&m->clock);
}

/* Fills m->bus: port and MMIO to the I/O bus, INTA to the PIC. */
void machine_bus_init(struct machine *m);

#endif
