/* Unit tests for vmcore/vsv/fields.c, cpu_state.c and crc32c.c: explicit
 * little-endian encodings, versioned field tables, the CPU section. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmcore/vsv/crc32c_int.h"
#include "vmcore/vsv/fields.h"
#include "vmcore/vsv/vsv_cpu.h"

static void test_crc32c_known_answers_and_chaining(void **state)
{
	(void)state;
	assert_int_equal(vsv_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(vsv_crc32c(0, "", 0), 0);
	uint8_t zeros[32] = {0};
	assert_int_equal(vsv_crc32c(0, zeros, 32), 0x8A9136AAu);  /* RFC 3720 B.4 */
	uint8_t buf[1000];
	for (int i = 0; i < 1000; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	uint32_t whole = vsv_crc32c(0, buf, 1000);
	for (size_t cut = 0; cut <= 1000; cut += 37)  /* unaligned splits agree */
		assert_int_equal(vsv_crc32c(vsv_crc32c(0, buf, cut), buf + cut, 1000 - cut), whole);
}

static void test_encoder_is_little_endian_and_decoder_bounds_checked(void **state)
{
	(void)state;
	struct vsv_enc e;
	vsv_enc_init(&e);
	vsv_put_u8(&e, 0x01);
	vsv_put_u16(&e, 0x0302);
	vsv_put_u32(&e, 0x07060504);
	vsv_put_u64(&e, 0x0f0e0d0c0b0a0908ull);
	vsv_put_bytes(&e, "\x10\x11", 2);
	assert_int_equal(e.err, 0);
	assert_int_equal(e.len, 17);
	for (int i = 0; i < 17; i++)
		assert_int_equal(e.buf[i], i + 1);
	struct vsv_dec d;
	vsv_dec_init(&d, e.buf, e.len);
	assert_int_equal(vsv_get_u8(&d), 1);
	assert_int_equal(vsv_get_u16(&d), 0x0302);
	assert_int_equal(vsv_get_u32(&d), 0x07060504);
	assert_true(vsv_get_u64(&d) == 0x0f0e0d0c0b0a0908ull);
	assert_int_equal(vsv_dec_finish(&d), -EBADMSG);  /* 2 bytes left */
	uint8_t two[2];
	vsv_get_bytes(&d, two, 2);
	assert_int_equal(vsv_dec_finish(&d), 0);
	assert_int_equal(vsv_get_u32(&d), 0);  /* past the end: zero, sticky error */
	assert_int_equal(vsv_dec_finish(&d), -EBADMSG);
	vsv_enc_fini(&e);
}

struct dev_state {
	uint8_t a;
	uint32_t b;
	uint16_t arr[3];
	uint64_t c;
	uint8_t fifo[5];
	uint32_t added_v2;
};

static const struct vsv_field dev_fields[] = {
	VSV_FIELD(struct dev_state, a),
	VSV_FIELD(struct dev_state, b),
	VSV_FIELD_ARRAY(struct dev_state, arr),
	VSV_FIELD(struct dev_state, c),
	VSV_FIELD_BYTES(struct dev_state, fifo),
	VSV_FIELD_SINCE(struct dev_state, added_v2, 2),
};
#define NF (sizeof(dev_fields) / sizeof(dev_fields[0]))

static void test_field_table_round_trips_without_padding(void **state)
{
	(void)state;
	struct dev_state s;
	memset(&s, 0, sizeof(s));  /* padding too, for the memcmp below */
	s = (struct dev_state){ 0xa1, 0xb2b3b4b5, { 0x0102, 0x0304, 0x0506 }, 0x1122334455667788ull,
				{ 9, 8, 7, 6, 5 }, 0xdeadbeef };
	struct vsv_enc e;
	vsv_enc_init(&e);
	assert_int_equal(vsv_fields_encode(&e, dev_fields, NF, 2, &s), 0);
	assert_int_equal(e.len, 1 + 4 + 6 + 8 + 5 + 4);
	static const uint8_t head[] = { 0xa1, 0xb5, 0xb4, 0xb3, 0xb2, 0x02, 0x01, 0x04, 0x03 };
	assert_memory_equal(e.buf, head, sizeof(head));
	struct dev_state got;
	memset(&got, 0, sizeof(got));
	assert_int_equal(vsv_fields_decode(e.buf, e.len, dev_fields, NF, 2, &got), 0);
	assert_memory_equal(&got, &s, sizeof(s));
	vsv_enc_fini(&e);
}

static void test_older_version_leaves_new_fields_at_defaults(void **state)
{
	(void)state;
	struct dev_state s = { 1, 2, { 3, 4, 5 }, 6, { 7 }, 0x12345678 };
	struct vsv_enc e;
	vsv_enc_init(&e);
	assert_int_equal(vsv_fields_encode(&e, dev_fields, NF, 1, &s), 0);
	assert_int_equal(e.len, 24);
	struct dev_state got;
	memset(&got, 0, sizeof(got));
	got.added_v2 = 42;  /* the device's default */
	assert_int_equal(vsv_fields_decode(e.buf, e.len, dev_fields, NF, 1, &got), 0);
	assert_int_equal(got.added_v2, 42);
	assert_int_equal(got.c, 6);
	/* a v1 payload claimed as v2 is short; garbage after it is long:
	 * both refused, the struct untouched */
	struct dev_state keep = got;
	assert_int_equal(vsv_fields_decode(e.buf, e.len, dev_fields, NF, 2, &got), -EBADMSG);
	assert_int_equal(vsv_fields_decode(e.buf, e.len - 1, dev_fields, NF, 1, &got), -EBADMSG);
	assert_memory_equal(&got, &keep, sizeof(got));
	vsv_enc_fini(&e);
}

struct odd { uint8_t three[3][3]; };

static void test_bad_element_size_is_a_table_bug(void **state)
{
	(void)state;
	const struct vsv_field bad[] = { VSV_FIELD_ARRAY(struct odd, three) };
	struct odd o = {0};
	struct vsv_enc e;
	vsv_enc_init(&e);
	assert_int_equal(vsv_fields_encode(&e, bad, 1, 1, &o), -EINVAL);
	assert_int_equal(vsv_fields_decode("123456789", 9, bad, 1, 1, &o), -EINVAL);
	vsv_enc_fini(&e);
}

static uint32_t next(uint32_t *k)
{
	*k = *k * 1103515245u + 12345u;
	return *k >> 3;
}

static void fill_seg(struct cpu_segment *s, uint32_t *k, int i)
{
	s->base = next(k);
	s->limit = next(k);
	s->selector = (uint16_t)next(k);
	s->type = (uint8_t)(i + 2);
	s->dpl = (uint8_t)(i & 3);
	s->present = s->db = s->s = s->g = 1;
}

/* Every saved field set, field by field, on a zeroed struct (padding and
 * reserved bytes zero, which is also what decode produces). */
static void fill_cpu(struct cpu_state *c)
{
	uint32_t k = 1;
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 8; i++)
		c->gpr[i] = next(&k);
	c->eip = next(&k);
	c->eflags = next(&k);
	for (int i = 0; i < CPU_SEG_COUNT; i++)
		fill_seg(&c->seg[i], &k, i);
	fill_seg(&c->tr, &k, 9);
	fill_seg(&c->ldtr, &k, 10);
	c->gdt.base = next(&k);
	c->gdt.limit = (uint16_t)next(&k);
	c->idt.base = next(&k);
	c->idt.limit = (uint16_t)next(&k);
	c->cr0 = next(&k);
	c->cr2 = next(&k);
	c->cr3 = next(&k);
	c->cr4 = next(&k);
	for (int i = 0; i < 8; i++)
		c->dr[i] = next(&k);
	c->tsc = (uint64_t)next(&k) << 32 | next(&k);
	c->sysenter_cs = next(&k);
	c->sysenter_esp = next(&k);
	c->sysenter_eip = next(&k);
	c->apic_base = (uint64_t)next(&k) << 32 | next(&k);
	c->fpu.fcw = (uint16_t)next(&k);
	c->fpu.fsw = (uint16_t)next(&k);
	c->fpu.ftw = (uint8_t)next(&k);
	c->fpu.fop = (uint16_t)next(&k);
	c->fpu.fip = next(&k);
	c->fpu.fcs = (uint16_t)next(&k);
	c->fpu.fdp = next(&k);
	c->fpu.fds = (uint16_t)next(&k);
	c->fpu.mxcsr = next(&k);
	c->fpu.mxcsr_mask = next(&k);
	for (int i = 0; i < 8; i++)
		for (int b = 0; b < 10; b++)
			c->fpu.st[i][b] = (uint8_t)next(&k);
	for (int i = 0; i < 8; i++)
		for (int b = 0; b < 16; b++)
			c->fpu.xmm[i][b] = (uint8_t)next(&k);
	c->halted = 1;
	c->nmi_pending = 1;
}

static void test_cpu_state_round_trips_field_by_field(void **state)
{
	(void)state;
	struct cpu_state c, got;
	fill_cpu(&c);
	struct vsv_enc e;
	vsv_enc_init(&e);
	assert_int_equal(vsv_cpu_encode(&e, &c), 0);
	assert_int_equal(e.len, VSV_CPU_V1_SIZE);
	/* EAX first, little-endian */
	assert_int_equal(e.buf[0], c.gpr[CPU_EAX] & 0xff);
	assert_int_equal(e.buf[3], c.gpr[CPU_EAX] >> 24);
	struct havm_err err;
	assert_int_equal(vsv_cpu_decode(e.buf, e.len, 1, &got, &err), 0);
	assert_memory_equal(&got, &c, sizeof(c));
	vsv_enc_fini(&e);
}

static void test_cpu_section_refuses_bad_values_length_and_version(void **state)
{
	(void)state;
	struct cpu_state c, got;
	fill_cpu(&c);
	struct vsv_enc e;
	vsv_enc_init(&e);
	assert_int_equal(vsv_cpu_encode(&e, &c), 0);
	struct havm_err err;
	assert_int_equal(vsv_cpu_decode(e.buf, e.len, 2, &got, &err), -ENOTSUP);
	assert_int_equal(err.kind, HAVM_E_UNSUPPORTED);
	assert_int_equal(vsv_cpu_decode(e.buf, e.len - 1, 1, &got, &err), -EBADMSG);
	assert_int_equal(err.kind, HAVM_E_FORMAT);
	uint8_t *bad = malloc(e.len);
	memcpy(bad, e.buf, e.len);
	bad[e.len - 3] = 2;  /* halted = 2 */
	assert_int_equal(vsv_cpu_decode(bad, e.len, 1, &got, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "halted"));
	memcpy(bad, e.buf, e.len);
	bad[40 + 18 + 12] = 7;  /* cs.dpl: base 4, limit 4, selector 2, type, present, dpl */
	assert_int_equal(vsv_cpu_decode(bad, e.len, 1, &got, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "segment cs has an invalid dpl"));
	free(bad);
	vsv_enc_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_known_answers_and_chaining),
		cmocka_unit_test(test_encoder_is_little_endian_and_decoder_bounds_checked),
		cmocka_unit_test(test_field_table_round_trips_without_padding),
		cmocka_unit_test(test_older_version_leaves_new_fields_at_defaults),
		cmocka_unit_test(test_bad_element_size_is_a_table_bug),
		cmocka_unit_test(test_cpu_state_round_trips_field_by_field),
		cmocka_unit_test(test_cpu_section_refuses_bad_values_length_and_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
