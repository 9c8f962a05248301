/* tests/unit/cpu — a tiny machine for unit tests: 4 MiB of RAM, code at
 * 0x1000, flat 32-bit protected mode (or real mode), exceptions trapped. */
#ifndef HAVM_TESTS_UNIT_CPU_HARNESS_H
#define HAVM_TESTS_UNIT_CPU_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmcore/cpu/cpu_int.h"

#define H_RAM (4u << 20)
#define H_CODE 0x1000u

struct harness {
	struct cpu *c;
	uint8_t *ram;
	struct cpu_state st;
};

static inline struct cpu_segment h_flat(int type, unsigned dpl, uint16_t sel)
{
	return (struct cpu_segment){ .limit = 0xffffffffu, .selector = sel, .type = (uint8_t)type,
				     .present = 1, .s = 1, .db = 1, .g = 1, .dpl = (uint8_t)dpl };
}

static inline void h_init(struct harness *h, bool pmode)
{
	h->ram = calloc(1, H_RAM);
	assert_non_null(h->ram);
	struct cpu_config cfg = { 0 };
	assert_int_equal(cpu_interp_ops.create(&cfg, &h->c, NULL), 0);
	assert_int_equal(cpu_interp_ops.add_ram(h->c, 0, H_RAM, h->ram), 0);
	cpu_interp_ops.get_state(h->c, &h->st);
	if (pmode) {
		for (int s = 0; s < CPU_SEG_COUNT; s++)
			h->st.seg[s] = h_flat(s == CPU_SEG_CS ? 0xb : 0x3, 0, s == CPU_SEG_CS ? 0x08 : 0x10);
		h->st.cr0 = 0x11;
	} else {
		for (int s = 0; s < CPU_SEG_COUNT; s++) {
			h->st.seg[s].base = 0;
			h->st.seg[s].selector = 0;
		}
	}
	h->st.eip = H_CODE;
	h->st.gpr[CPU_ESP] = 0x8000;
	h->st.eflags = 0x2;
	cpu_interp_ops.set_state(h->c, &h->st);
	cpu_interp_trap_exceptions(h->c, true);
}

static inline void h_free(struct harness *h)
{
	cpu_interp_ops.free(h->c);
	free(h->ram);
}

/* Places @n code bytes at EIP (in the RAM, linear = physical). */
static inline void h_code(struct harness *h, const uint8_t *code, size_t n)
{
	memcpy(h->ram + H_CODE, code, n);
	cpu_interp_ops.invalidate_code(h->c, H_CODE, (uint32_t)n);
}

static inline struct cpu_state *h_get(struct harness *h)
{
	cpu_interp_ops.get_state(h->c, &h->st);
	return &h->st;
}

static inline void h_put(struct harness *h)
{
	cpu_interp_ops.set_state(h->c, &h->st);
}

/* Runs @n instructions; returns the exception vector raised, or -1. */
static inline int h_run(struct harness *h, uint64_t n)
{
	struct havm_err err;
	enum cpu_exit_reason why = cpu_interp_ops.run(h->c, n, &err);
	cpu_interp_ops.get_state(h->c, &h->st);
	if (why == CPU_EXIT_INTERNAL)
		return cpu_interp_last_exception(h->c, NULL);
	return -1;
}

static inline uint32_t h_errcode(struct harness *h)
{
	uint32_t e = 0;
	cpu_interp_last_exception(h->c, &e);
	return e;
}

static inline void h_w32(struct harness *h, uint32_t a, uint32_t v)
{
	memcpy(h->ram + a, &v, 4);
}

static inline uint32_t h_r32(struct harness *h, uint32_t a)
{
	uint32_t v;
	memcpy(&v, h->ram + a, 4);
	return v;
}

#endif
