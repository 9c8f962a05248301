/* vmcore/dev — the 8254 PIT (0x40-0x43; channel 0 on IRQ 0) and port 0x61
 * (channel 2 gate, speaker enable, OUT2 and refresh readback).
 *
 * Counters are not ticked: each channel remembers the guest time its count
 * was loaded, and the count and OUT level are computed from the virtual
 * clock when read, so PIT and TSC stay consistent for the kernel's TSC
 * calibration. Channel 0 arms a vtimer at its next rising OUT edge. BCD
 * counting is accepted but counts in binary. */
#define LOG_TAG HAVM_TAG_DEV
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmcore/dev/dev.h"
#include "vmcore/machine/machine.h"
#include "vmcore/vsv/fields.h"

#define PIT_HZ 1193182ull
#define NS_PER_S 1000000000ull

struct pit_channel_state {
	uint64_t load_ns;      /* guest time counting (re)started from reload */
	uint32_t reload;       /* 1..65536 */
	uint16_t latched;      /* latched count */
	uint16_t frozen;       /* count while the gate is low */
	uint8_t latch_state;   /* 0 none; else bytes left to read: 1 LSB, 2 MSB, 3 LSB then MSB */
	uint8_t status_latched, status;
	uint8_t read_msb, write_msb, write_lsb;
	uint8_t mode, bcd, rw_mode;
	uint8_t gate;
	uint8_t counting;      /* a count was written since the control word */
	uint8_t reserved[2];
};

struct pit_state {
	struct pit_channel_state ch[3];
	uint8_t port61;        /* bits 0-3 as written */
	uint8_t reserved[7];
};

struct pit {
	struct pit_state s;
	struct machine *m;
	struct irq_line irq0;
	struct vtimer timer;
};

static uint64_t ns_to_ticks(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * PIT_HZ / NS_PER_S);
}

static uint64_t ticks_to_ns(uint64_t t)
{
	return (uint64_t)(((unsigned __int128)t * NS_PER_S + PIT_HZ - 1) / PIT_HZ);
}

static uint64_t elapsed(const struct pit *p, const struct pit_channel_state *c)
{
	uint64_t now = machine_now(p->m);
	return now > c->load_ns ? ns_to_ticks(now - c->load_ns) : 0;
}

static uint16_t count_at(const struct pit_channel_state *c, uint64_t d)
{
	switch (c->mode) {
	case 2:
		return (uint16_t)(c->reload - d % c->reload);
	case 3:
		return (uint16_t)((c->reload - (2 * d) % c->reload) & 0xfffe);
	default:
		return (uint16_t)((c->reload - d) & 0xffff);
	}
}

static int out_at(const struct pit_channel_state *c, uint64_t d)
{
	if (!c->counting)
		return c->mode != 0;
	switch (c->mode) {
	case 0: case 1:
		return d >= c->reload;
	case 2:
		return d % c->reload != c->reload - 1;
	case 3:
		return d % c->reload < (c->reload + 1) / 2;
	default:
		return d != c->reload;
	}
}

static uint16_t count_now(struct pit *p, const struct pit_channel_state *c)
{
	if (!c->gate)
		return c->frozen;
	return c->counting ? count_at(c, elapsed(p, c)) : 0;
}

static int out_now(struct pit *p, const struct pit_channel_state *c)
{
	if (!c->gate && c->counting && c->mode != 0)
		return 1;
	uint64_t d = c->gate ? elapsed(p, c) : (c->reload - c->frozen) % c->reload;
	return out_at(c, d);
}

/* Channel 0: arm the timer at the next rising edge of OUT. */
static void ch0_schedule(struct pit *p)
{
	struct pit_channel_state *c = &p->s.ch[0];
	if (!c->counting || !c->gate) {
		vtimer_del(&p->m->clock, &p->timer);
		return;
	}
	uint64_t d = elapsed(p, c), edge;
	if (c->mode == 2 || c->mode == 3) {
		edge = (d / c->reload + 1) * c->reload;
	} else if (c->mode == 0 || c->mode == 1 || c->mode == 4 || c->mode == 5) {
		/* one-shot: modes 4/5 (Linux's one-shot clockevent) pulse OUT
		 * low for one tick when the count reaches 0 */
		if (d >= c->reload) {
			vtimer_del(&p->m->clock, &p->timer);
			return;
		}
		edge = c->reload;
	} else {
		vtimer_del(&p->m->clock, &p->timer);
		return;
	}
	vtimer_mod(&p->m->clock, &p->timer, c->load_ns + ticks_to_ns(edge));
}

static void ch0_fire(void *opaque)
{
	struct pit *p = opaque;
	struct pit_channel_state *c = &p->s.ch[0];
	if (c->mode == 0 || c->mode == 1)
		irq_set(&p->irq0, 1);    /* stays high until reprogrammed */
	else
		irq_pulse(&p->irq0);
	ch0_schedule(p);
}

static void load_count(struct pit *p, int n, uint32_t v)
{
	struct pit_channel_state *c = &p->s.ch[n];
	c->reload = v ? v : 65536;
	c->load_ns = machine_now(p->m);
	c->counting = 1;
	c->frozen = (uint16_t)c->reload;
	if (n == 0) {
		if (c->mode == 0)
			irq_set(&p->irq0, 0);
		ch0_schedule(p);
	}
}

static void latch_count(struct pit *p, struct pit_channel_state *c)
{
	if (c->latch_state)
		return;   /* a pending latch is kept until read */
	c->latched = count_now(p, c);
	c->latch_state = c->rw_mode;
}

static void write_control(struct pit *p, uint8_t v)
{
	int n = v >> 6;
	if (n == 3) {   /* read-back */
		for (int i = 0; i < 3; i++) {
			if (!(v & (2u << i)))
				continue;
			struct pit_channel_state *c = &p->s.ch[i];
			if (!(v & 0x20))
				latch_count(p, c);
			if (!(v & 0x10) && !c->status_latched) {
				c->status = (uint8_t)(out_now(p, c) << 7 | (c->counting ? 0 : 0x40) |
						      c->rw_mode << 4 | c->mode << 1 | c->bcd);
				c->status_latched = 1;
			}
		}
		return;
	}
	struct pit_channel_state *c = &p->s.ch[n];
	uint8_t rw = (v >> 4) & 3;
	if (rw == 0) {
		latch_count(p, c);
		return;
	}
	c->rw_mode = rw;
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;   /* 6, 7 alias 2, 3 */
	c->bcd = v & 1;
	c->read_msb = c->write_msb = 0;
	c->latch_state = 0;
	c->counting = 0;
	if (n == 0) {
		irq_set(&p->irq0, 0);
		vtimer_del(&p->m->clock, &p->timer);
	}
}

static void write_counter(struct pit *p, int n, uint8_t v)
{
	struct pit_channel_state *c = &p->s.ch[n];
	switch (c->rw_mode) {
	case 1:
		load_count(p, n, v);
		break;
	case 2:
		load_count(p, n, (uint32_t)v << 8);
		break;
	default:
		if (!c->write_msb) {
			c->write_lsb = v;
			c->write_msb = 1;
		} else {
			c->write_msb = 0;
			load_count(p, n, c->write_lsb | (uint32_t)v << 8);
		}
		break;
	}
}

static uint8_t read_counter(struct pit *p, int n)
{
	struct pit_channel_state *c = &p->s.ch[n];
	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}
	if (c->latch_state) {
		uint8_t r;
		if (c->latch_state == 2) {
			r = (uint8_t)(c->latched >> 8);
			c->latch_state = 0;
		} else {
			r = (uint8_t)c->latched;
			c->latch_state = c->latch_state == 3 ? 2 : 0;
		}
		return r;
	}
	uint16_t cnt = count_now(p, c);
	switch (c->rw_mode) {
	case 1:
		return (uint8_t)cnt;
	case 2:
		return (uint8_t)(cnt >> 8);
	default:
		c->read_msb ^= 1;
		return c->read_msb ? (uint8_t)cnt : (uint8_t)(cnt >> 8);
	}
}

static uint32_t pit_read(void *dev, uint32_t off, unsigned size)
{
	(void)size;
	return off == 3 ? 0xff : read_counter(dev, (int)off);
}

static void pit_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
	(void)size;
	if (off == 3)
		write_control(dev, (uint8_t)v);
	else
		write_counter(dev, (int)off, (uint8_t)v);
}

static void set_gate2(struct pit *p, uint8_t gate)
{
	struct pit_channel_state *c = &p->s.ch[2];
	if (gate == c->gate)
		return;
	if (!gate) {
		c->frozen = count_now(p, c);
	} else if (c->mode == 0 || c->mode == 4) {
		/* Resume counting from the frozen value. */
		uint64_t done = c->counting ? (c->reload - c->frozen) & 0xffff : 0;
		uint64_t now = machine_now(p->m);
		c->load_ns = now - (ticks_to_ns(done) < now ? ticks_to_ns(done) : now);
	} else {
		c->load_ns = machine_now(p->m);   /* a rising gate retriggers */
	}
	c->gate = gate;
}

static uint32_t port61_read(void *dev, uint32_t off, unsigned size)
{
	struct pit *p = dev;
	(void)off, (void)size;
	uint64_t now = machine_now(p->m);
	/* Bit 4 toggles with each DRAM refresh (about every 15 us). */
	uint8_t refresh = (uint8_t)(((now / 15085) & 1) << 4);
	return (p->s.port61 & 0x0f) | refresh | (uint8_t)(out_now(p, &p->s.ch[2]) << 5);
}

static void port61_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
	struct pit *p = dev;
	(void)off, (void)size;
	p->s.port61 = (uint8_t)(v & 0x0f);
	set_gate2(p, v & 1);
}

static const struct io_ops pit_ops = { "pit", IO_W8, pit_read, pit_write };
static const struct io_ops port61_ops = { "port61", IO_W8, port61_read, port61_write };

static void pit_reset(void *dev)
{
	struct pit *p = dev;
	vtimer_del(&p->m->clock, &p->timer);
	memset(&p->s, 0, sizeof(p->s));
	for (int i = 0; i < 3; i++) {
		p->s.ch[i].reload = 65536;
		p->s.ch[i].rw_mode = 3;
		p->s.ch[i].gate = i != 2;
	}
	irq_set(&p->irq0, 0);
}

static void pit_unrealize(void *dev)
{
	struct pit *p = dev;
	vtimer_del(&p->m->clock, &p->timer);
	io_unregister(p->m, IO_PORT, 0x61, p);
	io_unregister(p->m, IO_PORT, 0x40, p);
	free(p);
}

static int pit_realize(struct machine *m, const void *params, void **out, struct havm_err *err)
{
	(void)params;
	struct pit *p = calloc(1, sizeof(*p));
	if (!p)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "pit: out of memory");
	p->m = m;
	p->irq0 = machine_isa_irq(m, 0);
	vtimer_init(&p->timer, ch0_fire, p);
	int rc = io_bus_register(&m->io, IO_PORT, 0x40, 4, &pit_ops, p, err);
	if (rc == 0) {
		rc = io_bus_register(&m->io, IO_PORT, 0x61, 1, &port61_ops, p, err);
		if (rc < 0)
			io_unregister(m, IO_PORT, 0x40, p);
	}
	if (rc < 0) {
		free(p);
		return rc;
	}
	pit_reset(p);
	*out = p;
	return 0;
}

static void pit_save(void *dev, void *buf)
{
	memcpy(buf, &((struct pit *)dev)->s, sizeof(struct pit_state));
}

static int pit_load(void *dev, const void *buf, size_t size, struct havm_err *err)
{
	struct pit *p = dev;
	struct pit_state s;
	if (size != sizeof(s))
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "pit: state is %zu bytes, expected %zu",
				    size, sizeof(s));
	memcpy(&s, buf, sizeof(s));
	for (int i = 0; i < 3; i++) {
		const struct pit_channel_state *c = &s.ch[i];
		if (c->reload < 1 || c->reload > 65536 || c->mode > 5 || c->rw_mode < 1 || c->rw_mode > 3)
			return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
					    "pit: channel %d reload %u mode %u rw %u out of range", i,
					    c->reload, c->mode, c->rw_mode);
	}
	p->s = s;
	ch0_schedule(p);
	return 0;
}

/* The saved state, field by field (docs/vsv.md "Device sections"). */
static const struct vsv_field pit_fields[] = {
	VSV_FIELD(struct pit_state, ch[0].load_ns),
	VSV_FIELD(struct pit_state, ch[0].reload),
	VSV_FIELD(struct pit_state, ch[0].latched),
	VSV_FIELD(struct pit_state, ch[0].frozen),
	VSV_FIELD(struct pit_state, ch[0].latch_state),
	VSV_FIELD(struct pit_state, ch[0].status_latched),
	VSV_FIELD(struct pit_state, ch[0].status),
	VSV_FIELD(struct pit_state, ch[0].read_msb),
	VSV_FIELD(struct pit_state, ch[0].write_msb),
	VSV_FIELD(struct pit_state, ch[0].write_lsb),
	VSV_FIELD(struct pit_state, ch[0].mode),
	VSV_FIELD(struct pit_state, ch[0].bcd),
	VSV_FIELD(struct pit_state, ch[0].rw_mode),
	VSV_FIELD(struct pit_state, ch[0].gate),
	VSV_FIELD(struct pit_state, ch[0].counting),
	VSV_FIELD(struct pit_state, ch[1].load_ns),
	VSV_FIELD(struct pit_state, ch[1].reload),
	VSV_FIELD(struct pit_state, ch[1].latched),
	VSV_FIELD(struct pit_state, ch[1].frozen),
	VSV_FIELD(struct pit_state, ch[1].latch_state),
	VSV_FIELD(struct pit_state, ch[1].status_latched),
	VSV_FIELD(struct pit_state, ch[1].status),
	VSV_FIELD(struct pit_state, ch[1].read_msb),
	VSV_FIELD(struct pit_state, ch[1].write_msb),
	VSV_FIELD(struct pit_state, ch[1].write_lsb),
	VSV_FIELD(struct pit_state, ch[1].mode),
	VSV_FIELD(struct pit_state, ch[1].bcd),
	VSV_FIELD(struct pit_state, ch[1].rw_mode),
	VSV_FIELD(struct pit_state, ch[1].gate),
	VSV_FIELD(struct pit_state, ch[1].counting),
	VSV_FIELD(struct pit_state, ch[2].load_ns),
	VSV_FIELD(struct pit_state, ch[2].reload),
	VSV_FIELD(struct pit_state, ch[2].latched),
	VSV_FIELD(struct pit_state, ch[2].frozen),
	VSV_FIELD(struct pit_state, ch[2].latch_state),
	VSV_FIELD(struct pit_state, ch[2].status_latched),
	VSV_FIELD(struct pit_state, ch[2].status),
	VSV_FIELD(struct pit_state, ch[2].read_msb),
	VSV_FIELD(struct pit_state, ch[2].write_msb),
	VSV_FIELD(struct pit_state, ch[2].write_lsb),
	VSV_FIELD(struct pit_state, ch[2].mode),
	VSV_FIELD(struct pit_state, ch[2].bcd),
	VSV_FIELD(struct pit_state, ch[2].rw_mode),
	VSV_FIELD(struct pit_state, ch[2].gate),
	VSV_FIELD(struct pit_state, ch[2].counting),
	VSV_FIELD(struct pit_state, port61),
};

const struct dev_ops pit_dev_ops = {
	.name = "pit",
	.fields = pit_fields, .nfields = sizeof(pit_fields) / sizeof(pit_fields[0]),
	.state_version = 1,
	.state_size = sizeof(struct pit_state),
	.realize = pit_realize,
	.reset = pit_reset,
	.save = pit_save,
	.load = pit_load,
	.unrealize = pit_unrealize,
};
