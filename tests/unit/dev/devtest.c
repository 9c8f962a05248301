#include "devtest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static uint64_t fake_insns(void *opaque)
{
	return ((struct devtest *)opaque)->insns;
}

void devtest_init(struct devtest *t, unsigned nuarts, const char *serial_path, int64_t rtc_time)
{
	struct havm_err err;
	memset(t, 0, sizeof(*t));
	t->cfg.ram_size = 4u << 20;
	t->cfg.rtc_time = rtc_time;
	t->cfg.nuarts = nuarts;
	static const uint16_t bases[] = { 0x3f8, 0x2f8 };
	static const uint8_t irqs[] = { 4, 3 };
	for (unsigned i = 0; i < nuarts && i < 2; i++) {
		t->cfg.uart[i].base = bases[i];
		t->cfg.uart[i].irq = irqs[i];
		if (serial_path) {
			t->cfg.uart[i].chardev.kind = CHARDEV_FILE;
			snprintf(t->cfg.uart[i].chardev.path, CHARDEV_PATH_MAX, "%s.%u", serial_path, i);
		}
	}
	int rc = pc_init(&t->m, &t->cfg, &err);
	if (rc < 0)
		fail_msg("pc_init: %s", err.msg);
	t->m.clock.insns = fake_insns;
	t->m.clock.insns_opaque = t;
}

void devtest_init_cfg(struct devtest *t, const struct pc_config *cfg)
{
	struct havm_err err;
	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	if (!t->cfg.ram_size)
		t->cfg.ram_size = 4u << 20;
	if (pc_init(&t->m, &t->cfg, &err) < 0)
		fail_msg("pc_init: %s", err.msg);
	t->m.clock.insns = fake_insns;
	t->m.clock.insns_opaque = t;
}

void devtest_fini(struct devtest *t)
{
	pc_fini(&t->m);
}

void devtest_advance(struct devtest *t, uint64_t ns)
{
	/* as many instructions as the machine's nominal rate runs in @ns */
	t->insns += (uint64_t)((unsigned __int128)ns * t->m.clock.insn_hz / 1000000000u);
	vclock_run_timers(&t->m.clock);
}

uint8_t devtest_inb(struct devtest *t, uint16_t port)
{
	return (uint8_t)t->m.bus.pio_read(t->m.bus.opaque, port, 1);
}

void devtest_outb(struct devtest *t, uint16_t port, uint8_t v)
{
	t->m.bus.pio_write(t->m.bus.opaque, port, 1, v);
}

void devtest_pic_init(struct devtest *t)
{
	devtest_outb(t, 0x20, 0x11);
	devtest_outb(t, 0x21, 0x20);
	devtest_outb(t, 0x21, 0x04);
	devtest_outb(t, 0x21, 0x01);
	devtest_outb(t, 0xa0, 0x11);
	devtest_outb(t, 0xa1, 0x28);
	devtest_outb(t, 0xa1, 0x02);
	devtest_outb(t, 0xa1, 0x01);
	devtest_outb(t, 0x21, 0x00);
	devtest_outb(t, 0xa1, 0x00);
}
