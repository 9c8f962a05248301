/* Every device's .vsv field table (dev_ops.fields): fields lie inside the
 * state struct, do not overlap, and a state encoded, decoded into a blank
 * struct, loaded and saved again encodes to the same bytes — after the
 * guest has put the devices into non-default states. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "devtest.h"
#include "vmcore/vsv/fields.h"

static void check_table(const struct dev_ops *ops)
{
	uint8_t *used = calloc(1, ops->state_size);
	assert_non_null(used);
	assert_non_null(ops->fields);
	assert_true(ops->nfields > 0);
	for (size_t i = 0; i < ops->nfields; i++) {
		const struct vsv_field *f = &ops->fields[i];
		size_t len = (size_t)f->size * f->count;
		assert_true(f->offset + len <= ops->state_size);
		for (size_t k = 0; k < len; k++) {
			assert_int_equal(used[f->offset + k], 0);   /* no overlap */
			used[f->offset + k] = 1;
		}
	}
	free(used);
}

static void encode(const struct dev_ops *ops, void *dev, struct vsv_enc *e)
{
	uint8_t *buf = calloc(1, ops->state_size);
	assert_non_null(buf);
	ops->save(dev, buf);
	vsv_enc_init(e);
	assert_int_equal(vsv_fields_encode(e, ops->fields, ops->nfields, ops->state_version, buf), 0);
	free(buf);
}

static void test_every_device_state_round_trips_through_its_field_table(void **state)
{
	(void)state;
	struct devtest t;
	devtest_init(&t, 2, NULL, 1795565433);
	devtest_pic_init(&t);
	devtest_outb(&t, 0x21, 0xfa);           /* mask some master lines */
	devtest_outb(&t, 0xa1, 0x7f);
	devtest_outb(&t, 0x43, 0x34);           /* PIT channel 0, mode 2 */
	devtest_outb(&t, 0x40, 0x9c);
	devtest_outb(&t, 0x40, 0x2e);
	devtest_outb(&t, 0x70, 0x0b);           /* RTC binary mode */
	devtest_outb(&t, 0x71, 0x06);
	devtest_outb(&t, 0x3fb, 0x83);          /* UART DLAB, 8N1 */
	devtest_outb(&t, 0x3f8, 0x01);
	devtest_outb(&t, 0x3fb, 0x03);
	devtest_outb(&t, 0x3f9, 0x02);
	devtest_advance(&t, 12345678);
	for (unsigned i = 0; i < t.m.nrealized; i++) {
		const struct dev_ops *ops = t.m.devs[i].ops;
		void *dev = t.m.devs[i].dev;
		check_table(ops);
		struct vsv_enc a, b;
		uint8_t *before = calloc(1, ops->state_size), *after = calloc(1, ops->state_size);
		assert_non_null(before);
		assert_non_null(after);
		ops->save(dev, before);
		encode(ops, dev, &a);
		uint8_t *blank = calloc(1, ops->state_size);
		assert_non_null(blank);
		assert_int_equal(vsv_fields_decode(a.buf, a.len, ops->fields, ops->nfields, ops->state_version,
						   blank), 0);
		assert_int_equal(ops->load(dev, blank, ops->state_size, NULL), 0);
		encode(ops, dev, &b);
		assert_int_equal(a.len, b.len);
		/* A field missing from the table comes back as zero: the state
		 * struct itself must survive whole (cmos stamps the host time of
		 * each save in its last field). */
		ops->save(dev, after);
		size_t cmp = strcmp(ops->name, "cmos") == 0 ? ops->state_size - 8 : ops->state_size;
		assert_memory_equal(before, after, cmp);
		if (cmp == ops->state_size)
			assert_memory_equal(a.buf, b.buf, a.len);
		free(before);
		free(after);
		free(blank);
		vsv_enc_fini(&a);
		vsv_enc_fini(&b);
	}
	devtest_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_device_state_round_trips_through_its_field_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
