/* vmcore/machine — one I/O registration API for port and MMIO ranges.
 *
 * A device registers a range with an ops record whose handlers take the
 * offset inside the range and the access size (1, 2 or 4 bytes). The ops
 * state the widths they accept; the bus splits a wider access into
 * accepted narrower ones (little-endian, lowest address first) and serves
 * a narrower access than any accepted width by reading the containing
 * wider unit (writes of such widths are dropped and counted). Unclaimed
 * reads return all-ones, unclaimed writes are dropped; both are counted
 * and logged once per address at DEBUG.
 *
 * Threading: the bus is not locked; the machine calls it with its device
 * lock held (see machine.h). Registration happens before the vCPU runs. */
#ifndef HAVM_VMCORE_MACHINE_IO_H
#define HAVM_VMCORE_MACHINE_IO_H

#include <stdint.h>

#include "common/err.h"

struct machine;

enum io_space { IO_PORT, IO_MMIO };

/* Width mask bits for io_ops.widths. */
#define IO_W8  (1u << 0)
#define IO_W16 (1u << 1)
#define IO_W32 (1u << 2)
#define IO_WALL (IO_W8 | IO_W16 | IO_W32)

struct io_ops {
	const char *name;   /* device name, for logs and counters */
	unsigned widths;    /* IO_W8 | IO_W16 | IO_W32 */
	uint32_t (*read)(void *dev, uint32_t offset, unsigned size);
	void (*write)(void *dev, uint32_t offset, unsigned size, uint32_t value);
};

struct io_region {
	uint32_t base, len;
	const struct io_ops *ops;
	void *dev;
};

#define IO_MAX_REGIONS 64

struct io_space_map {
	struct io_region regions[IO_MAX_REGIONS];
	unsigned count;
};

struct io_counters {
	uint64_t unclaimed_reads, unclaimed_writes, dropped_writes;
};

struct io_bus {
	struct io_space_map port, mmio;
	struct io_counters count;
	uint8_t *port_logged;   /* 65536 bits: unclaimed port already logged */
	unsigned mmio_logged;   /* unclaimed MMIO log lines so far (capped) */
};

/* Initialises an empty bus; -ENOMEM. */
int io_bus_init(struct io_bus *bus) HAVM_MUST_CHECK;
void io_bus_fini(struct io_bus *bus);

/* Claims [base, base+len) in @space for @dev. -EINVAL for an empty or
 * wrapping range or ops without handlers, -EBUSY when it overlaps a
 * registered range (the message names both devices), -ENOSPC when full. */
int io_register(struct machine *m, enum io_space space, uint32_t base, uint32_t len,
		const struct io_ops *ops, void *dev) HAVM_MUST_CHECK;
int io_bus_register(struct io_bus *bus, enum io_space space, uint32_t base, uint32_t len,
		    const struct io_ops *ops, void *dev, struct havm_err *err) HAVM_MUST_CHECK;

/* Releases the range registered for @dev at @base (no-op if none). */
void io_unregister(struct machine *m, enum io_space space, uint32_t base, void *dev);
void io_bus_unregister(struct io_bus *bus, enum io_space space, uint32_t base, void *dev);

/* Dispatches one access of @size bytes (1, 2 or 4). */
uint32_t io_read(struct io_bus *bus, enum io_space space, uint32_t addr, unsigned size);
void io_write(struct io_bus *bus, enum io_space space, uint32_t addr, unsigned size, uint32_t value);

#endif
