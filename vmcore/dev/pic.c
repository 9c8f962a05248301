/* vmcore/dev — the 8259A pair (master 0x20, slave 0xA0 on master input 2)
 * with the PIIX edge/level control registers at 0x4D0/0x4D1. */
#define LOG_TAG HAVM_TAG_DEV
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmcore/dev/dev.h"
#include "vmcore/machine/machine.h"
#include "vmcore/vsv/fields.h"

struct pic_chip_state {
	uint8_t irr, imr, isr;
	uint8_t last_irr;       /* input levels, for edge detection */
	uint8_t priority_add;   /* lowest-priority rotation */
	uint8_t irq_base;
	uint8_t read_isr;       /* OCW3: read ISR instead of IRR */
	uint8_t poll;
	uint8_t special_mask;
	uint8_t init_state;     /* 0 = ready, 1..3 = expecting ICW2..ICW4 */
	uint8_t init4, single;
	uint8_t auto_eoi, rotate_on_auto_eoi, special_fully_nested;
	uint8_t elcr, elcr_mask;
	uint8_t reserved[1];
};

struct pic_state {
	struct pic_chip_state chip[2];   /* 0 master, 1 slave */
};

struct pic {
	struct pic_state s;
	struct machine *m;
	int out;   /* INTR level last sent to the CPU */
};

static int priority(const struct pic_chip_state *c, uint8_t mask)
{
	if (!mask)
		return 8;
	int p = 0;
	while (!(mask & (1u << ((p + c->priority_add) & 7))))
		p++;
	return p;
}

/* Highest-priority pending irq that beats the in-service one, or -1. */
static int chip_pending(const struct pic_chip_state *c, int is_master)
{
	int p = priority(c, c->irr & ~c->imr);
	if (p == 8)
		return -1;
	uint8_t in_service = c->isr;
	if (c->special_mask)
		in_service &= ~c->imr;
	if (c->special_fully_nested && is_master)
		in_service &= ~(1u << 2);
	if (p < priority(c, in_service))
		return (p + c->priority_add) & 7;
	return -1;
}

static void chip_input(struct pic_chip_state *c, int n, int level)
{
	uint8_t mask = (uint8_t)(1u << n);
	if (c->elcr & mask) {
		if (level)
			c->irr |= mask, c->last_irr |= mask;
		else
			c->irr &= ~mask, c->last_irr &= ~mask;
		return;
	}
	if (level) {
		if (!(c->last_irr & mask))
			c->irr |= mask;
		c->last_irr |= mask;
	} else {
		c->last_irr &= ~mask;
	}
}

static void update(struct pic *p)
{
	/* The cascade input follows the slave's INT as a level, so a request
	 * withdrawn on the slave does not leave a stale IRQ 2 on the master. */
	struct pic_chip_state *mc = &p->s.chip[0];
	if (chip_pending(&p->s.chip[1], 0) >= 0)
		mc->irr |= 1u << 2, mc->last_irr |= 1u << 2;
	else
		mc->irr &= (uint8_t)~(1u << 2), mc->last_irr &= (uint8_t)~(1u << 2);
	int out = chip_pending(&p->s.chip[0], 1) >= 0;
	if (out == p->out)
		return;
	p->out = out;
	if (p->m->cpu && p->m->cpu_ops)
		p->m->cpu_ops->set_irq(p->m->cpu, out);
	if (out && p->m->wake)
		p->m->wake(p->m->wake_opaque);
}

void pic_set_irq(void *opaque, int n, int level)
{
	struct pic *p = opaque;
	if (n < 0 || n > 15)
		return;
	chip_input(&p->s.chip[n >> 3], n & 7, level);
	update(p);
}

int pic_output(const struct pic *p)
{
	return p->out;
}

static void intack(struct pic_chip_state *c, int irq)
{
	if (c->auto_eoi) {
		if (c->rotate_on_auto_eoi)
			c->priority_add = (uint8_t)((irq + 1) & 7);
	} else {
		c->isr |= (uint8_t)(1u << irq);
	}
	if (!(c->elcr & (1u << irq)))
		c->irr &= (uint8_t)~(1u << irq);
}

int pic_ack(struct pic *p)
{
	struct pic_chip_state *m = &p->s.chip[0], *s = &p->s.chip[1];
	int vector, irq = chip_pending(m, 1);
	if (irq < 0) {
		/* The line dropped between INTR and INTA: spurious IRQ 7. */
		vector = m->irq_base + 7;
		p->m->count.spurious_irqs++;
	} else {
		intack(m, irq);
		if (irq == 2) {
			int irq2 = chip_pending(s, 0);
			if (irq2 >= 0) {
				intack(s, irq2);
			} else {
				irq2 = 7;
				p->m->count.spurious_irqs++;
			}
			vector = s->irq_base + irq2;
		} else {
			vector = m->irq_base + irq;
		}
	}
	p->m->count.irq_acks++;
	update(p);
	return vector;
}

static void chip_reset(struct pic_chip_state *c)
{
	uint8_t elcr = c->elcr, mask = c->elcr_mask;
	memset(c, 0, sizeof(*c));
	c->elcr = elcr;
	c->elcr_mask = mask;
}

static void chip_write_cmd(struct pic_chip_state *c, uint8_t v)
{
	if (v & 0x10) {   /* ICW1 */
		chip_reset(c);
		c->init_state = 1;
		c->init4 = v & 1;
		c->single = (v >> 1) & 1;
		return;
	}
	if (v & 0x08) {   /* OCW3 */
		if (v & 0x04)
			c->poll = 1;
		if (v & 0x02)
			c->read_isr = v & 1;
		if (v & 0x40)
			c->special_mask = (v >> 5) & 1;
		return;
	}
	int irq;          /* OCW2 */
	switch (v >> 5) {
	case 0: case 4:
		c->rotate_on_auto_eoi = (uint8_t)(v >> 7);
		break;
	case 1: case 5:   /* non-specific EOI, optionally rotating */
		irq = priority(c, c->isr);
		if (irq == 8)
			break;
		irq = (irq + c->priority_add) & 7;
		c->isr &= (uint8_t)~(1u << irq);
		if (v >> 5 == 5)
			c->priority_add = (uint8_t)((irq + 1) & 7);
		break;
	case 3:
		c->isr &= (uint8_t)~(1u << (v & 7));
		break;
	case 6:
		c->priority_add = (uint8_t)((v + 1) & 7);
		break;
	case 7:
		c->isr &= (uint8_t)~(1u << (v & 7));
		c->priority_add = (uint8_t)((v + 1) & 7);
		break;
	default:
		break;
	}
}

static void chip_write_data(struct pic_chip_state *c, uint8_t v)
{
	switch (c->init_state) {
	case 0:
		c->imr = v;
		break;
	case 1:
		c->irq_base = v & 0xf8;
		c->init_state = c->single ? (c->init4 ? 3 : 0) : 2;
		break;
	case 2:
		c->init_state = c->init4 ? 3 : 0;
		break;
	default:
		c->special_fully_nested = (v >> 4) & 1;
		c->auto_eoi = (v >> 1) & 1;
		c->init_state = 0;
		break;
	}
}

static uint32_t chip_read(struct pic *p, int n, uint32_t off)
{
	struct pic_chip_state *c = &p->s.chip[n];
	if (c->poll) {
		c->poll = 0;
		int irq = chip_pending(c, n == 0);
		if (irq < 0)
			return 0;
		intack(c, irq);
		update(p);
		return 0x80u | (unsigned)irq;
	}
	if (off == 0)
		return c->read_isr ? c->isr : c->irr;
	return c->imr;
}

static uint32_t master_read(void *dev, uint32_t off, unsigned size)
{
	(void)size;
	return chip_read(dev, 0, off);
}

static uint32_t slave_read(void *dev, uint32_t off, unsigned size)
{
	(void)size;
	return chip_read(dev, 1, off);
}

static void chip_write(struct pic *p, int n, uint32_t off, uint32_t v)
{
	if (off == 0)
		chip_write_cmd(&p->s.chip[n], (uint8_t)v);
	else
		chip_write_data(&p->s.chip[n], (uint8_t)v);
	update(p);
}

static void master_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
	(void)size;
	chip_write(dev, 0, off, v);
}

static void slave_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
	(void)size;
	chip_write(dev, 1, off, v);
}

static uint32_t elcr_read(void *dev, uint32_t off, unsigned size)
{
	struct pic *p = dev;
	(void)size;
	return p->s.chip[off].elcr;
}

static void elcr_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
	struct pic *p = dev;
	(void)size;
	p->s.chip[off].elcr = (uint8_t)v & p->s.chip[off].elcr_mask;
	update(p);
}

static const struct io_ops master_ops = { "pic-master", IO_W8, master_read, master_write };
static const struct io_ops slave_ops = { "pic-slave", IO_W8, slave_read, slave_write };
static const struct io_ops elcr_ops = { "pic-elcr", IO_W8, elcr_read, elcr_write };

static void pic_reset(void *dev)
{
	struct pic *p = dev;
	memset(&p->s, 0, sizeof(p->s));
	/* IRQ 0, 1, 2, 8 and 13 are always edge on PIIX. */
	p->s.chip[0].elcr_mask = 0xf8;
	p->s.chip[1].elcr_mask = 0xde;
	p->s.chip[0].elcr = (uint8_t)p->m->elcr_level & 0xf8;
	p->s.chip[1].elcr = (uint8_t)(p->m->elcr_level >> 8) & 0xde;
	p->out = 0;
	if (p->m->cpu && p->m->cpu_ops)
		p->m->cpu_ops->set_irq(p->m->cpu, 0);
}

static void pic_unrealize(void *dev)
{
	struct pic *p = dev;
	io_unregister(p->m, IO_PORT, 0x4d0, p);
	io_unregister(p->m, IO_PORT, 0xa0, p);
	io_unregister(p->m, IO_PORT, 0x20, p);
	if (p->m->pic == p)
		p->m->pic = NULL;
	free(p);
}

static int pic_realize(struct machine *m, const void *params, void **out, struct havm_err *err)
{
	(void)params;
	struct pic *p = calloc(1, sizeof(*p));
	if (!p)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "pic: out of memory");
	p->m = m;
	int rc = io_bus_register(&m->io, IO_PORT, 0x20, 2, &master_ops, p, err);
	if (rc < 0)
		goto fail;
	rc = io_bus_register(&m->io, IO_PORT, 0xa0, 2, &slave_ops, p, err);
	if (rc < 0)
		goto fail_master;
	rc = io_bus_register(&m->io, IO_PORT, 0x4d0, 2, &elcr_ops, p, err);
	if (rc < 0)
		goto fail_slave;
	m->pic = p;
	pic_reset(p);
	*out = p;
	return 0;
fail_slave:
	io_unregister(m, IO_PORT, 0xa0, p);
fail_master:
	io_unregister(m, IO_PORT, 0x20, p);
fail:
	free(p);
	return rc;
}

static void pic_save(void *dev, void *buf)
{
	memcpy(buf, &((struct pic *)dev)->s, sizeof(struct pic_state));
}

static int pic_load(void *dev, const void *buf, size_t size, struct havm_err *err)
{
	struct pic *p = dev;
	struct pic_state s;
	if (size != sizeof(s))
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "pic: state is %zu bytes, expected %zu",
				    size, sizeof(s));
	memcpy(&s, buf, sizeof(s));
	for (int i = 0; i < 2; i++)
		if (s.chip[i].init_state > 3)
			return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
					    "pic: chip %d init_state %u, expected 0..3", i, s.chip[i].init_state);
	p->s = s;
	p->out = -1;   /* force the INTR level out to the CPU */
	update(p);
	return 0;
}

/* The saved state, field by field (docs/vsv.md "Device sections"). */
static const struct vsv_field pic_fields[] = {
	VSV_FIELD(struct pic_state, chip[0].irr),
	VSV_FIELD(struct pic_state, chip[0].imr),
	VSV_FIELD(struct pic_state, chip[0].isr),
	VSV_FIELD(struct pic_state, chip[0].last_irr),
	VSV_FIELD(struct pic_state, chip[0].priority_add),
	VSV_FIELD(struct pic_state, chip[0].irq_base),
	VSV_FIELD(struct pic_state, chip[0].read_isr),
	VSV_FIELD(struct pic_state, chip[0].poll),
	VSV_FIELD(struct pic_state, chip[0].special_mask),
	VSV_FIELD(struct pic_state, chip[0].init_state),
	VSV_FIELD(struct pic_state, chip[0].init4),
	VSV_FIELD(struct pic_state, chip[0].single),
	VSV_FIELD(struct pic_state, chip[0].auto_eoi),
	VSV_FIELD(struct pic_state, chip[0].rotate_on_auto_eoi),
	VSV_FIELD(struct pic_state, chip[0].special_fully_nested),
	VSV_FIELD(struct pic_state, chip[0].elcr),
	VSV_FIELD(struct pic_state, chip[0].elcr_mask),
	VSV_FIELD(struct pic_state, chip[1].irr),
	VSV_FIELD(struct pic_state, chip[1].imr),
	VSV_FIELD(struct pic_state, chip[1].isr),
	VSV_FIELD(struct pic_state, chip[1].last_irr),
	VSV_FIELD(struct pic_state, chip[1].priority_add),
	VSV_FIELD(struct pic_state, chip[1].irq_base),
	VSV_FIELD(struct pic_state, chip[1].read_isr),
	VSV_FIELD(struct pic_state, chip[1].poll),
	VSV_FIELD(struct pic_state, chip[1].special_mask),
	VSV_FIELD(struct pic_state, chip[1].init_state),
	VSV_FIELD(struct pic_state, chip[1].init4),
	VSV_FIELD(struct pic_state, chip[1].single),
	VSV_FIELD(struct pic_state, chip[1].auto_eoi),
	VSV_FIELD(struct pic_state, chip[1].rotate_on_auto_eoi),
	VSV_FIELD(struct pic_state, chip[1].special_fully_nested),
	VSV_FIELD(struct pic_state, chip[1].elcr),
	VSV_FIELD(struct pic_state, chip[1].elcr_mask),
};

const struct dev_ops pic_dev_ops = {
	.name = "pic",
	.fields = pic_fields, .nfields = sizeof(pic_fields) / sizeof(pic_fields[0]),
	.state_version = 1,
	.state_size = sizeof(struct pic_state),
	.realize = pic_realize,
	.reset = pic_reset,
	.save = pic_save,
	.load = pic_load,
	.unrealize = pic_unrealize,
};
