/* vmcore/dev — MC146818 RTC and CMOS NVRAM at 0x70/0x71, IRQ 8.
 *
 * The clock reads host time taken once at realize plus elapsed guest time,
 * so a guest sees time move at guest speed and a test run is repeatable.
 * Registers A-D: UIP is set during the last 244 us of each second; B
 * selects BCD/binary and 12/24 h; update-ended (UIE) and periodic (PIE)
 * interrupts are raised on IRQ 8 from a vtimer. A guest that sets the time
 * (SET bit) moves the clock's base. */
#define LOG_TAG HAVM_TAG_DEV
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "vmcore/dev/dev.h"
#include "vmcore/machine/machine.h"
#include "vmcore/vsv/fields.h"

#define NS_PER_S 1000000000ull
#define UIP_NS 244000ull

enum { RTC_SEC = 0, RTC_MIN = 2, RTC_HOUR = 4, RTC_WDAY = 6, RTC_MDAY = 7, RTC_MON = 8,
       RTC_YEAR = 9, RTC_A = 10, RTC_B = 11, RTC_C = 12, RTC_D = 13, RTC_CENTURY = 0x32 };
enum { B_SET = 0x80, B_PIE = 0x40, B_AIE = 0x20, B_UIE = 0x10, B_DM = 0x04, B_24H = 0x02 };
enum { C_IRQF = 0x80, C_PF = 0x40, C_AF = 0x20, C_UF = 0x10 };

struct cmos_state {
	uint8_t ram[128];
	int64_t base_s;        /* RTC seconds at guest time base_ns */
	uint64_t base_ns;
	uint64_t next_periodic_ns;
	uint8_t index;
	uint8_t nmi_disabled;
	uint8_t reserved[6];
	int64_t saved_host_s;  /* version 2: host UNIX time when saved (0: unknown) */
};

struct cmos {
	struct cmos_state s;
	struct machine *m;
	struct irq_line irq;
	struct vtimer timer;
};

static uint8_t to_reg(const struct cmos *c, int v)
{
	if (c->s.ram[RTC_B] & B_DM)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static int from_reg(const struct cmos *c, uint8_t v)
{
	if (c->s.ram[RTC_B] & B_DM)
		return v;
	return (v >> 4) * 10 + (v & 0x0f);
}

static int64_t rtc_seconds(const struct cmos *c, uint64_t now)
{
	return c->s.base_s + (int64_t)((now - c->s.base_ns) / NS_PER_S);
}

static void store_time(struct cmos *c, int64_t secs)
{
	time_t t = (time_t)secs;
	struct tm tm;
	gmtime_r(&t, &tm);
	uint8_t *r = c->s.ram;
	r[RTC_SEC] = to_reg(c, tm.tm_sec);
	r[RTC_MIN] = to_reg(c, tm.tm_min);
	if (r[RTC_B] & B_24H) {
		r[RTC_HOUR] = to_reg(c, tm.tm_hour);
	} else {
		int h = tm.tm_hour % 12;
		r[RTC_HOUR] = (uint8_t)(to_reg(c, h ? h : 12) | (tm.tm_hour >= 12 ? 0x80 : 0));
	}
	r[RTC_WDAY] = to_reg(c, tm.tm_wday + 1);
	r[RTC_MDAY] = to_reg(c, tm.tm_mday);
	r[RTC_MON] = to_reg(c, tm.tm_mon + 1);
	r[RTC_YEAR] = to_reg(c, tm.tm_year % 100);
	r[RTC_CENTURY] = to_reg(c, (tm.tm_year + 1900) / 100);
}

static int64_t load_time(const struct cmos *c)
{
	const uint8_t *r = c->s.ram;
	struct tm tm = { 0 };
	tm.tm_sec = from_reg(c, r[RTC_SEC]);
	tm.tm_min = from_reg(c, r[RTC_MIN]);
	int h = from_reg(c, r[RTC_HOUR] & 0x7f);
	if (!(r[RTC_B] & B_24H))
		h = h % 12 + ((r[RTC_HOUR] & 0x80) ? 12 : 0);
	tm.tm_hour = h;
	tm.tm_mday = from_reg(c, r[RTC_MDAY]);
	tm.tm_mon = from_reg(c, r[RTC_MON]) - 1;
	tm.tm_year = from_reg(c, r[RTC_CENTURY]) * 100 + from_reg(c, r[RTC_YEAR]) - 1900;
	return (int64_t)timegm(&tm);
}

static uint64_t periodic_ns(const struct cmos *c)
{
	unsigned rate = c->s.ram[RTC_A] & 0x0f;
	if (!rate)
		return 0;
	if (rate < 3)
		rate += 7;
	return NS_PER_S * (1ull << (rate - 1)) / 32768;
}

static void update_irq(struct cmos *c)
{
	uint8_t *r = c->s.ram;
	uint8_t en = r[RTC_C] & r[RTC_B] & (C_PF | C_AF | C_UF);
	if (en)
		r[RTC_C] |= C_IRQF;
	irq_set(&c->irq, en != 0);
}

/* Next event: the next periodic tick or the end of the current second. */
static void schedule(struct cmos *c)
{
	uint64_t now = machine_now(c->m), next = VCLOCK_NEVER;
	uint8_t b = c->s.ram[RTC_B];
	if ((b & B_UIE) && !(b & B_SET)) {
		uint64_t into = (now - c->s.base_ns) % NS_PER_S;
		next = now + (NS_PER_S - into);
	}
	uint64_t per = periodic_ns(c);
	if ((b & B_PIE) && per) {
		if (c->s.next_periodic_ns <= now)
			c->s.next_periodic_ns = now + per - (now % per);
		if (c->s.next_periodic_ns < next)
			next = c->s.next_periodic_ns;
	}
	if (next == VCLOCK_NEVER)
		vtimer_del(&c->m->clock, &c->timer);
	else
		vtimer_mod(&c->m->clock, &c->timer, next);
}

static void cmos_fire(void *opaque)
{
	struct cmos *c = opaque;
	uint64_t now = machine_now(c->m);
	uint8_t *r = c->s.ram;
	if ((r[RTC_B] & B_PIE) && c->s.next_periodic_ns && c->s.next_periodic_ns <= now)
		r[RTC_C] |= C_PF;
	if ((r[RTC_B] & B_UIE) && (now - c->s.base_ns) % NS_PER_S < UIP_NS * 4)
		r[RTC_C] |= C_UF;
	update_irq(c);
	schedule(c);
}

static uint32_t cmos_read(void *dev, uint32_t off, unsigned size)
{
	struct cmos *c = dev;
	(void)size;
	if (off == 0)
		return 0xff;
	uint8_t idx = c->s.index, *r = c->s.ram;
	uint64_t now = machine_now(c->m);
	switch (idx) {
	case RTC_SEC: case RTC_MIN: case RTC_HOUR: case RTC_WDAY: case RTC_MDAY: case RTC_MON:
	case RTC_YEAR: case RTC_CENTURY:
		if (!(r[RTC_B] & B_SET))
			store_time(c, rtc_seconds(c, now));
		return r[idx];
	case RTC_A: {
		uint64_t into = (now - c->s.base_ns) % NS_PER_S;
		int uip = !(r[RTC_B] & B_SET) && into >= NS_PER_S - UIP_NS;
		return (r[RTC_A] & 0x7f) | (uip ? 0x80 : 0);
	}
	case RTC_C: {
		uint8_t v = r[RTC_C];
		r[RTC_C] = 0;
		irq_set(&c->irq, 0);
		return v;
	}
	case RTC_D:
		return 0x80;   /* valid RAM and time */
	default:
		return r[idx];
	}
}

static void cmos_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
	struct cmos *c = dev;
	(void)size;
	if (off == 0) {
		c->s.index = v & 0x7f;
		c->s.nmi_disabled = (v >> 7) & 1;
		return;
	}
	uint8_t *r = c->s.ram, idx = c->s.index;
	uint64_t now = machine_now(c->m);
	switch (idx) {
	case RTC_B: {
		uint8_t old = r[RTC_B];
		if ((v & B_SET) && !(old & B_SET))
			store_time(c, rtc_seconds(c, now));   /* freeze what the guest will edit */
		r[RTC_B] = (uint8_t)v;
		if (!(v & B_SET) && (old & B_SET)) {
			c->s.base_s = load_time(c);
			c->s.base_ns = now;
		}
		update_irq(c);
		schedule(c);
		return;
	}
	case RTC_A:
		r[RTC_A] = (uint8_t)(v & 0x7f);
		schedule(c);
		return;
	case RTC_C: case RTC_D:
		return;   /* read-only */
	default:
		r[idx] = (uint8_t)v;
		return;
	}
}

static const struct io_ops cmos_ops = { "cmos", IO_W8, cmos_read, cmos_write };


static void fill_memory_sizes(uint8_t *r, uint32_t ram)
{
	uint32_t ext_kb = ram > (1u << 20) ? (ram - (1u << 20)) / 1024 : 0;
	if (ext_kb > 0xffff)
		ext_kb = 0xffff;
	r[0x15] = 0x80, r[0x16] = 0x02;              /* 640 KiB base memory */
	r[0x17] = r[0x30] = (uint8_t)ext_kb;
	r[0x18] = r[0x31] = (uint8_t)(ext_kb >> 8);
	uint32_t above16 = ram > (16u << 20) ? (ram - (16u << 20)) / 65536 : 0;
	if (above16 > 0xffff)
		above16 = 0xffff;
	r[0x34] = (uint8_t)above16;
	r[0x35] = (uint8_t)(above16 >> 8);
}

static void cmos_reset(void *dev)
{
	struct cmos *c = dev;
	/* Reset clears the interrupt enables, not the clock or the NVRAM. */
	c->s.ram[RTC_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE);
	c->s.ram[RTC_C] = 0;
	irq_set(&c->irq, 0);
	schedule(c);
}

static void cmos_unrealize(void *dev)
{
	struct cmos *c = dev;
	vtimer_del(&c->m->clock, &c->timer);
	io_unregister(c->m, IO_PORT, 0x70, c);
	free(c);
}

static int cmos_realize(struct machine *m, const void *params, void **out, struct havm_err *err)
{
	const struct cmos_params *pp = params;
	struct cmos *c = calloc(1, sizeof(*c));
	if (!c)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "cmos: out of memory");
	c->m = m;
	c->irq = machine_isa_irq(m, 8);
	vtimer_init(&c->timer, cmos_fire, c);
	int rc = io_bus_register(&m->io, IO_PORT, 0x70, 2, &cmos_ops, c, err);
	if (rc < 0) {
		free(c);
		return rc;
	}
	c->s.ram[RTC_A] = 0x26;             /* 32.768 kHz base, 1024 Hz rate */
	c->s.ram[RTC_B] = B_24H;
	c->s.base_s = pp && pp->host_time ? pp->host_time : (int64_t)time(NULL);
	c->s.base_ns = machine_now(m);
	fill_memory_sizes(c->s.ram, pp ? pp->ram_size : m->ram_size);
	*out = c;
	return 0;
}

static void cmos_save(void *dev, void *buf)
{
	struct cmos_state s = ((struct cmos *)dev)->s;
	s.saved_host_s = (int64_t)time(NULL);
	memcpy(buf, &s, sizeof(s));
}

static int cmos_load(void *dev, const void *buf, size_t size, struct havm_err *err)
{
	struct cmos *c = dev;
	if (size != sizeof(c->s))
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "cmos: state is %zu bytes, expected %zu",
				    size, sizeof(c->s));
	memcpy(&c->s, buf, sizeof(c->s));
	c->s.index &= 0x7f;
	/* Guest time resumes where it stopped, but the RTC is wall-clock time:
	 * move it on by the host time that passed since the save (keeping any
	 * offset the guest set), unless the guest holds the clock (SET). */
	int64_t host = (int64_t)time(NULL);
	if (c->s.saved_host_s > 0 && host > c->s.saved_host_s && !(c->s.ram[RTC_B] & B_SET))
		c->s.base_s += host - c->s.saved_host_s;
	c->s.saved_host_s = 0;
	update_irq(c);
	schedule(c);
	return 0;
}

/* The saved state, field by field (docs/vsv.md "Device sections"). */
static const struct vsv_field cmos_fields[] = {
	VSV_FIELD_BYTES(struct cmos_state, ram),
	VSV_FIELD(struct cmos_state, base_s),
	VSV_FIELD(struct cmos_state, base_ns),
	VSV_FIELD(struct cmos_state, next_periodic_ns),
	VSV_FIELD(struct cmos_state, index),
	VSV_FIELD(struct cmos_state, nmi_disabled),
	VSV_FIELD_SINCE(struct cmos_state, saved_host_s, 2),
};

const struct dev_ops cmos_dev_ops = {
	.name = "cmos",
	.fields = cmos_fields, .nfields = sizeof(cmos_fields) / sizeof(cmos_fields[0]),
	.state_version = 2,
	.state_size = sizeof(struct cmos_state),
	.realize = cmos_realize,
	.reset = cmos_reset,
	.save = cmos_save,
	.load = cmos_load,
	.unrealize = cmos_unrealize,
};
