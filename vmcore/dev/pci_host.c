/* vmcore/dev — PCI configuration mechanism #1 (0xCF8 address, 0xCFC-0xCFF
 * data) with bus 0 holding an i440FX-style host bridge (00:00.0, 8086:1237)
 * and a PIIX3-style ISA bridge (00:01.0, 8086:7000). Absent functions read
 * as all-ones. Only the command/status and latency bytes are writable. */
#define LOG_TAG HAVM_TAG_DEV
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmcore/dev/dev.h"
#include "vmcore/machine/machine.h"

#define NFUNCS 2

struct pci_host_state {
	uint32_t address;                /* last value written to 0xCF8 */
	uint32_t reserved;
	uint8_t config[NFUNCS][256];     /* devfn 0 (host) and 8 (ISA bridge) */
};

struct pci_host {
	struct pci_host_state s;
	struct machine *m;
};

static const uint8_t devfns[NFUNCS] = { 0x00, 0x08 };

static int func_index(uint32_t addr)
{
	if (!(addr & 0x80000000u) || ((addr >> 16) & 0xff) != 0)
		return -1;
	uint8_t devfn = (uint8_t)(addr >> 8);
	for (int i = 0; i < NFUNCS; i++)
		if (devfns[i] == devfn)
			return i;
	return -1;
}

static uint8_t write_mask(unsigned reg)
{
	switch (reg) {
	case 0x04: return 0x47;   /* command: I/O, memory, master, parity */
	case 0x05: return 0x01;
	case 0x0d: return 0xff;   /* latency timer */
	default: return 0;
	}
}

static uint32_t addr_read(void *dev, uint32_t off, unsigned size)
{
	struct pci_host *h = dev;
	(void)off, (void)size;
	return h->s.address;
}

static void addr_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
	struct pci_host *h = dev;
	(void)off, (void)size;
	h->s.address = v & 0x80fffffcu;
}

static uint32_t data_read(void *dev, uint32_t off, unsigned size)
{
	struct pci_host *h = dev;
	int f = func_index(h->s.address);
	if (f < 0)
		return 0xffffffffu;
	unsigned reg = (h->s.address & 0xfc) + off;
	uint32_t v = 0;
	for (unsigned i = 0; i < size && reg + i < 256; i++)
		v |= (uint32_t)h->s.config[f][reg + i] << (8 * i);
	return v;
}

static void data_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
	struct pci_host *h = dev;
	int f = func_index(h->s.address);
	if (f < 0)
		return;
	unsigned reg = (h->s.address & 0xfc) + off;
	for (unsigned i = 0; i < size && reg + i < 256; i++) {
		uint8_t mask = write_mask(reg + i);
		uint8_t *b = &h->s.config[f][reg + i];
		*b = (uint8_t)((*b & ~mask) | ((v >> (8 * i)) & mask));
	}
}

static const struct io_ops addr_ops = { "pci-addr", IO_W32, addr_read, addr_write };
static const struct io_ops data_ops = { "pci-data", IO_WALL, data_read, data_write };

static void set_ids(uint8_t *c, uint16_t vendor, uint16_t device, uint8_t class, uint8_t subclass,
		    uint8_t header)
{
	memset(c, 0, 256);
	c[0] = (uint8_t)vendor, c[1] = (uint8_t)(vendor >> 8);
	c[2] = (uint8_t)device, c[3] = (uint8_t)(device >> 8);
	c[4] = 0x07;                 /* I/O, memory, bus master */
	c[6] = 0x00, c[7] = 0x02;    /* status: medium DEVSEL */
	c[0x0a] = subclass, c[0x0b] = class;
	c[0x0e] = header;
}

static void pci_host_reset(void *dev)
{
	struct pci_host *h = dev;
	h->s.address = 0;
	set_ids(h->s.config[0], 0x8086, 0x1237, 0x06, 0x00, 0x00);         /* host bridge */
	set_ids(h->s.config[1], 0x8086, 0x7000, 0x06, 0x01, 0x80);         /* ISA bridge, multi-function */
}

static void pci_host_unrealize(void *dev)
{
	struct pci_host *h = dev;
	io_unregister(h->m, IO_PORT, 0xcfc, h);
	io_unregister(h->m, IO_PORT, 0xcf8, h);
	free(h);
}

static int pci_host_realize(struct machine *m, const void *params, void **out, struct havm_err *err)
{
	(void)params;
	struct pci_host *h = calloc(1, sizeof(*h));
	if (!h)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "pci: out of memory");
	h->m = m;
	int rc = io_bus_register(&m->io, IO_PORT, 0xcf8, 4, &addr_ops, h, err);
	if (rc == 0) {
		rc = io_bus_register(&m->io, IO_PORT, 0xcfc, 4, &data_ops, h, err);
		if (rc < 0)
			io_unregister(m, IO_PORT, 0xcf8, h);
	}
	if (rc < 0) {
		free(h);
		return rc;
	}
	pci_host_reset(h);
	*out = h;
	return 0;
}

static void pci_host_save(void *dev, void *buf)
{
	memcpy(buf, &((struct pci_host *)dev)->s, sizeof(struct pci_host_state));
}

static int pci_host_load(void *dev, const void *buf, size_t size, struct havm_err *err)
{
	struct pci_host *h = dev;
	if (size != sizeof(h->s))
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "pci: state is %zu bytes, expected %zu",
				    size, sizeof(h->s));
	memcpy(&h->s, buf, sizeof(h->s));
	return 0;
}

const struct dev_ops pci_host_dev_ops = {
	.name = "pci-host",
	.state_version = 1,
	.state_size = sizeof(struct pci_host_state),
	.realize = pci_host_realize,
	.reset = pci_host_reset,
	.save = pci_host_save,
	.load = pci_host_load,
	.unrealize = pci_host_unrealize,
};
