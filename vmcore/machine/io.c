/* vmcore/machine — port and MMIO dispatch; see io.h. */
#define LOG_TAG HAVM_TAG_DEV
#include "vmcore/machine/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmcore/machine/machine.h"

#define MMIO_LOG_CAP 32

static struct io_space_map *space_map(struct io_bus *bus, enum io_space space)
{
	return space == IO_PORT ? &bus->port : &bus->mmio;
}

static const char *space_name(enum io_space space)
{
	return space == IO_PORT ? "port" : "mmio";
}

int io_bus_init(struct io_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	bus->port_logged = calloc(65536 / 8, 1);
	return bus->port_logged ? 0 : -ENOMEM;
}

void io_bus_fini(struct io_bus *bus)
{
	free(bus->port_logged);
	memset(bus, 0, sizeof(*bus));
}

static struct io_region *find(struct io_space_map *map, uint32_t addr)
{
	for (unsigned i = 0; i < map->count; i++) {
		struct io_region *r = &map->regions[i];
		if (addr - r->base < r->len)
			return r;
	}
	return NULL;
}

int io_bus_register(struct io_bus *bus, enum io_space space, uint32_t base, uint32_t len,
		    const struct io_ops *ops, void *dev, struct havm_err *err)
{
	struct io_space_map *map = space_map(bus, space);
	const char *name = ops && ops->name ? ops->name : "?";
	uint64_t end = (uint64_t)base + len;

	if (!ops || !ops->read || !ops->write || !(ops->widths & IO_WALL) || len == 0 ||
	    end > (space == IO_PORT ? 0x10000ull : 0x100000000ull))
		return havm_err_set(err, HAVM_E_INTERNAL, -EINVAL,
				    "%s: bad %s range 0x%x+0x%x or ops", name, space_name(space), base, len);
	for (unsigned i = 0; i < map->count; i++) {
		struct io_region *r = &map->regions[i];
		if (base < (uint64_t)r->base + r->len && r->base < end)
			return havm_err_set(err, HAVM_E_INTERNAL, -EBUSY,
					    "%s: %s range 0x%x+0x%x overlaps %s at 0x%x+0x%x", name,
					    space_name(space), base, len, r->ops->name, r->base, r->len);
	}
	if (map->count == IO_MAX_REGIONS)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOSPC, "%s: %s map is full (%d ranges)",
				    name, space_name(space), IO_MAX_REGIONS);
	map->regions[map->count++] = (struct io_region){ base, len, ops, dev };
	return 0;
}

int io_register(struct machine *m, enum io_space space, uint32_t base, uint32_t len,
		const struct io_ops *ops, void *dev)
{
	struct havm_err err;
	int rc = io_bus_register(&m->io, space, base, len, ops, dev, &err);
	if (rc < 0)
		hlog(LOG_ERR, "%s", err.msg);
	return rc;
}

void io_bus_unregister(struct io_bus *bus, enum io_space space, uint32_t base, void *dev)
{
	struct io_space_map *map = space_map(bus, space);
	for (unsigned i = 0; i < map->count; i++) {
		if (map->regions[i].base == base && map->regions[i].dev == dev) {
			memmove(&map->regions[i], &map->regions[i + 1],
				(map->count - i - 1) * sizeof(map->regions[0]));
			map->count--;
			return;
		}
	}
}

void io_unregister(struct machine *m, enum io_space space, uint32_t base, void *dev)
{
	io_bus_unregister(&m->io, space, base, dev);
}

static void note_unclaimed(struct io_bus *bus, enum io_space space, uint32_t addr, unsigned size,
			   const char *what)
{
	if (space == IO_PORT) {
		uint16_t p = (uint16_t)addr;
		if (bus->port_logged[p / 8] & (1u << (p % 8)))
			return;
		bus->port_logged[p / 8] |= (uint8_t)(1u << (p % 8));
	} else if (bus->mmio_logged++ >= MMIO_LOG_CAP) {
		return;
	}
	hlog(LOG_DEBUG, "io: unclaimed %s %s 0x%x size %u", space_name(space), what, addr, size);
}

static uint32_t size_mask(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* Smallest accepted width wider than @size, 0 if none. */
static unsigned wider_width(unsigned widths, unsigned size)
{
	for (unsigned w = size * 2; w <= 4; w *= 2)
		if (widths & w)
			return w;
	return 0;
}

static int fits(const struct io_region *r, uint32_t addr, unsigned size)
{
	return (uint64_t)addr - r->base + size <= r->len;
}

uint32_t io_read(struct io_bus *bus, enum io_space space, uint32_t addr, unsigned size)
{
	struct io_region *r = find(space_map(bus, space), addr);
	if (!r) {
		bus->count.unclaimed_reads++;
		note_unclaimed(bus, space, addr, size, "read");
		return size_mask(size);
	}
	uint32_t off = addr - r->base;
	if ((r->ops->widths & size) && fits(r, addr, size))
		return r->ops->read(r->dev, off, size) & size_mask(size);
	if (size > 1) {
		unsigned half = size / 2;
		uint32_t lo = io_read(bus, space, addr, half);
		uint32_t hi = io_read(bus, space, addr + half, half);
		return lo | hi << (8 * half);
	}
	unsigned w = wider_width(r->ops->widths, size);
	uint32_t aligned = off & ~(w - 1);
	if (!w || aligned + w > r->len)
		return size_mask(size);
	uint32_t v = r->ops->read(r->dev, aligned, w);
	return (v >> (8 * (off - aligned))) & size_mask(size);
}

void io_write(struct io_bus *bus, enum io_space space, uint32_t addr, unsigned size, uint32_t value)
{
	struct io_region *r = find(space_map(bus, space), addr);
	if (!r) {
		bus->count.unclaimed_writes++;
		note_unclaimed(bus, space, addr, size, "write");
		return;
	}
	value &= size_mask(size);
	if ((r->ops->widths & size) && fits(r, addr, size)) {
		r->ops->write(r->dev, addr - r->base, size, value);
		return;
	}
	if (size > 1) {
		unsigned half = size / 2;
		io_write(bus, space, addr, half, value & size_mask(half));
		io_write(bus, space, addr + half, half, value >> (8 * half));
		return;
	}
	/* A byte write to a device that only takes wider accesses would need a
	 * read-modify-write with side effects: drop it and count it. */
	bus->count.dropped_writes++;
	note_unclaimed(bus, space, addr, size, "narrow write");
}
