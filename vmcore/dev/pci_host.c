/* vmcore/dev — PCI configuration mechanism #1 (0xCF8 address, 0xCFC-0xCFF
 * data) with bus 0 holding an i440FX-style host bridge (00:00.0, 8086:1237)
 * and a PIIX3-style ISA bridge (00:01.0, 8086:7000), plus the functions
 * devices add (pci.h). Absent functions read as all-ones. Writable bits
 * follow a per-byte mask: command, latency, interrupt line, and BAR0 of
 * added functions (so a driver can size and move it). */
#define LOG_TAG HAVM_TAG_DEV
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmcore/dev/dev.h"
#include "vmcore/dev/pci.h"
#include "vmcore/machine/machine.h"
#include "vmcore/vsv/fields.h"

struct pci_func_state {
	uint8_t config[256];
	uint8_t wmask[256];
	uint8_t devfn, present;
	uint8_t reserved[6];
};

struct pci_host_state {
	uint32_t address;                /* last value written to 0xCF8 */
	uint32_t reserved;
	struct pci_func_state f[PCI_MAX_FUNCS];
};

struct pci_host {
	struct pci_host_state s;
	struct machine *m;
	pci_bar_fn *bar_cb[PCI_MAX_FUNCS];
	void *bar_dev[PCI_MAX_FUNCS];
	uint32_t bar_size[PCI_MAX_FUNCS];
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

static int func_index(const struct pci_host *h, uint32_t addr)
{
	if (!(addr & 0x80000000u) || ((addr >> 16) & 0xff) != 0)
		return -1;
	uint8_t devfn = (uint8_t)(addr >> 8);
	for (int i = 0; i < PCI_MAX_FUNCS; i++)
		if (h->s.f[i].present && h->s.f[i].devfn == devfn)
			return i;
	return -1;
}

/* Tells the owner of function @i where BAR0 decodes now. */
static void bar_update(struct pci_host *h, int i)
{
	if (!h->bar_cb[i])
		return;
	const uint8_t *c = h->s.f[i].config;
	uint16_t base = (uint16_t)((c[0x10] | c[0x11] << 8) & ~(h->bar_size[i] - 1) & 0xfffc);
	bool on = (c[0x04] & 0x01) && base != 0;
	h->bar_cb[i](h->bar_dev[i], on, base);
}

static uint32_t addr_read(void *dev, uint32_t off, unsigned size)
{
	(void)off, (void)size;
	return ((struct pci_host *)dev)->s.address;
}

static void addr_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
	(void)off, (void)size;
	((struct pci_host *)dev)->s.address = v & 0x80fffffcu;
}

static uint32_t data_read(void *dev, uint32_t off, unsigned size)
{
	struct pci_host *h = dev;
	int f = func_index(h, h->s.address);
	if (f < 0)
		return 0xffffffffu;
	unsigned reg = (h->s.address & 0xfc) + off;
	uint32_t v = 0;
	for (unsigned i = 0; i < size && reg + i < 256; i++)
		v |= (uint32_t)h->s.f[f].config[reg + i] << (8 * i);
	return v;
}

static void data_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
	struct pci_host *h = dev;
	int f = func_index(h, h->s.address);
	if (f < 0)
		return;
	unsigned reg = (h->s.address & 0xfc) + off;
	bool bar_touched = false;
	for (unsigned i = 0; i < size && reg + i < 256; i++) {
		uint8_t mask = h->s.f[f].wmask[reg + i];
		uint8_t *b = &h->s.f[f].config[reg + i];
		*b = (uint8_t)((*b & ~mask) | ((v >> (8 * i)) & mask));
		bar_touched |= reg + i == 0x04 || (reg + i >= 0x10 && reg + i < 0x14);
	}
	if (bar_touched)
		bar_update(h, f);
}

static const struct io_ops addr_ops = { "pci-addr", IO_W32, addr_read, addr_write };
static const struct io_ops data_ops = { "pci-data", IO_WALL, data_read, data_write };

static int free_slot(struct pci_host *h, uint8_t devfn, int *slot)
{
	*slot = -1;
	for (int i = 0; i < PCI_MAX_FUNCS; i++) {
		if (h->s.f[i].present && h->s.f[i].devfn == devfn)
			return -EBUSY;
		if (!h->s.f[i].present && *slot < 0)
			*slot = i;
	}
	return *slot < 0 ? -ENOSPC : 0;
}

static void fill_func(struct pci_func_state *fs, const struct pci_func_info *in, uint8_t header)
{
	uint8_t *c = fs->config, *w = fs->wmask;
	memset(fs, 0, sizeof(*fs));
	fs->present = 1;
	fs->devfn = in->devfn;
	put16(c + 0x00, in->vendor);
	put16(c + 0x02, in->device);
	c[0x04] = in->io_bar_size ? 0x05 : 0x07;   /* "firmware" enabled decoding and mastering */
	c[0x07] = 0x02;                            /* status: medium DEVSEL */
	c[0x08] = in->revision;
	c[0x09] = in->prog_if;
	c[0x0a] = in->subclass;
	c[0x0b] = in->class_code;
	c[0x0e] = header;
	put16(c + 0x2c, in->subsys_vendor);
	put16(c + 0x2e, in->subsys);
	c[0x3c] = in->irq_pin ? in->irq_line : 0;
	c[0x3d] = in->irq_pin;
	w[0x04] = 0x47;
	w[0x05] = 0x01;
	w[0x0d] = 0xff;
	w[0x3c] = 0xff;
	if (in->io_bar_size) {
		put16(c + 0x10, (uint16_t)(in->io_bar_addr | 0x1));
		uint32_t m = ~(in->io_bar_size - 1) & 0xfffc;
		w[0x10] = (uint8_t)m;
		w[0x11] = (uint8_t)(m >> 8);
	}
}

struct pci_host *pci_host_of(struct machine *m)
{
	for (unsigned i = 0; i < m->nrealized; i++)
		if (m->devs[i].ops == &pci_host_dev_ops)
			return m->devs[i].dev;
	return NULL;
}

int pci_add_func(struct pci_host *h, const struct pci_func_info *info, pci_bar_fn *bar_cb,
		 void *dev, struct havm_err *err)
{
	int slot, rc = free_slot(h, info->devfn, &slot);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_CONFIG, rc, "pci: function %02x.%x %s", info->devfn >> 3,
				    info->devfn & 7, rc == -EBUSY ? "is taken" : "does not fit, the bus is full");
	if (info->io_bar_size && (info->io_bar_size & (info->io_bar_size - 1) || info->io_bar_size < 4 ||
				  info->io_bar_addr & (info->io_bar_size - 1)))
		return havm_err_set(err, HAVM_E_INTERNAL, -EINVAL, "pci: BAR0 size %u at 0x%x is not aligned",
				    info->io_bar_size, info->io_bar_addr);
	fill_func(&h->s.f[slot], info, 0x00);
	h->bar_cb[slot] = bar_cb;
	h->bar_dev[slot] = dev;
	h->bar_size[slot] = info->io_bar_size;
	bar_update(h, slot);
	return 0;
}

void pci_remove_func(struct pci_host *h, uint8_t devfn)
{
	for (int i = 0; i < PCI_MAX_FUNCS; i++) {
		if (h->s.f[i].present && h->s.f[i].devfn == devfn) {
			if (h->bar_cb[i])
				h->bar_cb[i](h->bar_dev[i], false, 0);
			memset(&h->s.f[i], 0, sizeof(h->s.f[i]));
			h->bar_cb[i] = NULL;
			h->bar_dev[i] = NULL;
			h->bar_size[i] = 0;
		}
	}
}

static void pci_host_reset(void *dev)
{
	struct pci_host *h = dev;
	h->s.address = 0;
	/* Added functions keep their firmware assignment; the two bridges are
	 * (re)built here. */
	static const struct pci_func_info host = { .devfn = 0x00, .vendor = 0x8086, .device = 0x1237,
						   .class_code = 0x06, .subclass = 0x00, .revision = 0x02 };
	static const struct pci_func_info isa = { .devfn = 0x08, .vendor = 0x8086, .device = 0x7000,
						  .class_code = 0x06, .subclass = 0x01 };
	fill_func(&h->s.f[0], &host, 0x00);
	fill_func(&h->s.f[1], &isa, 0x80);   /* multi-function */
	for (int i = 2; i < PCI_MAX_FUNCS; i++)
		if (h->s.f[i].present)
			bar_update(h, i);
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
	struct pci_host_state s;
	if (size != sizeof(s))
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "pci: state is %zu bytes, expected %zu",
				    size, sizeof(s));
	memcpy(&s, buf, sizeof(s));
	for (int i = 0; i < PCI_MAX_FUNCS; i++)
		if (s.f[i].present != h->s.f[i].present || (s.f[i].present && s.f[i].devfn != h->s.f[i].devfn))
			return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
					    "pci: slot %d holds function 0x%02x in the state, 0x%02x in this machine",
					    i, s.f[i].devfn, h->s.f[i].devfn);
	h->s = s;
	for (int i = 0; i < PCI_MAX_FUNCS; i++)
		if (h->s.f[i].present)
			bar_update(h, i);
	return 0;
}

/* The saved state, field by field (docs/vsv.md "Device sections"). */
static const struct vsv_field pci_host_fields[] = {
	VSV_FIELD(struct pci_host_state, address),
	VSV_FIELD_BYTES(struct pci_host_state, f[0].config),
	VSV_FIELD_BYTES(struct pci_host_state, f[0].wmask),
	VSV_FIELD(struct pci_host_state, f[0].devfn),
	VSV_FIELD(struct pci_host_state, f[0].present),
	VSV_FIELD_BYTES(struct pci_host_state, f[1].config),
	VSV_FIELD_BYTES(struct pci_host_state, f[1].wmask),
	VSV_FIELD(struct pci_host_state, f[1].devfn),
	VSV_FIELD(struct pci_host_state, f[1].present),
	VSV_FIELD_BYTES(struct pci_host_state, f[2].config),
	VSV_FIELD_BYTES(struct pci_host_state, f[2].wmask),
	VSV_FIELD(struct pci_host_state, f[2].devfn),
	VSV_FIELD(struct pci_host_state, f[2].present),
	VSV_FIELD_BYTES(struct pci_host_state, f[3].config),
	VSV_FIELD_BYTES(struct pci_host_state, f[3].wmask),
	VSV_FIELD(struct pci_host_state, f[3].devfn),
	VSV_FIELD(struct pci_host_state, f[3].present),
	VSV_FIELD_BYTES(struct pci_host_state, f[4].config),
	VSV_FIELD_BYTES(struct pci_host_state, f[4].wmask),
	VSV_FIELD(struct pci_host_state, f[4].devfn),
	VSV_FIELD(struct pci_host_state, f[4].present),
	VSV_FIELD_BYTES(struct pci_host_state, f[5].config),
	VSV_FIELD_BYTES(struct pci_host_state, f[5].wmask),
	VSV_FIELD(struct pci_host_state, f[5].devfn),
	VSV_FIELD(struct pci_host_state, f[5].present),
	VSV_FIELD_BYTES(struct pci_host_state, f[6].config),
	VSV_FIELD_BYTES(struct pci_host_state, f[6].wmask),
	VSV_FIELD(struct pci_host_state, f[6].devfn),
	VSV_FIELD(struct pci_host_state, f[6].present),
	VSV_FIELD_BYTES(struct pci_host_state, f[7].config),
	VSV_FIELD_BYTES(struct pci_host_state, f[7].wmask),
	VSV_FIELD(struct pci_host_state, f[7].devfn),
	VSV_FIELD(struct pci_host_state, f[7].present),
};
_Static_assert(PCI_MAX_FUNCS == 8, "pci_host_fields lists 8 functions");

const struct dev_ops pci_host_dev_ops = {
	.name = "pci-host",
	.fields = pci_host_fields, .nfields = sizeof(pci_host_fields) / sizeof(pci_host_fields[0]),
	.state_version = 2,
	.state_size = sizeof(struct pci_host_state),
	.realize = pci_host_realize,
	.reset = pci_host_reset,
	.save = pci_host_save,
	.load = pci_host_load,
	.unrealize = pci_host_unrealize,
};
