/* vhd_header.c: round trip, locator entries, and rejected fields. */
#include "vhd_testimg.h"

static void test_vhd_header_round_trip_with_locators(void **state)
{
	(void)state;
	uint8_t raw[1024], raw2[1024];
	struct vhd_header h;
	timg_header(raw, 100 << 20, 2 << 20, 1536, &h);
	h.loc[4] = (struct vhd_locator){ VHD_PLAT_W2KU, 512, 42, 0, 4608 };
	h.loc[5] = (struct vhd_locator){ VHD_PLAT_W2RU, 512, 26, 0, 4096 };
	vhd_header_encode(&h, raw);
	struct vhd_header d;
	vhd_header_decode(raw, &d);
	assert_int_equal(vhd_header_validate(&d, raw, "x", 512, NULL), 0);
	assert_int_equal(d.loc[4].code, VHD_PLAT_W2KU);
	assert_int_equal(d.loc[4].data_offset, 4608);
	assert_int_equal(d.loc[5].data_len, 26);
	assert_int_equal(d.max_table_entries, 50);
	vhd_header_encode(&d, raw2);
	assert_memory_equal(raw, raw2, 1024);
}

static void expect_reject(struct vhd_header *h, const char *field)
{
	uint8_t raw[1024];
	struct havm_err e;
	havm_err_clear(&e);
	vhd_header_encode(h, raw);
	vhd_header_decode(raw, h);
	assert_int_equal(vhd_header_validate(h, raw, "d.vhd", 512, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "d.vhd: dynamic header at offset 512"));
	assert_non_null(strstr(e.msg, field));
}

static void test_vhd_header_rejects_bad_fields(void **state)
{
	(void)state;
	uint8_t raw[1024];
	struct vhd_header h;
	timg_header(raw, 1 << 20, 2 << 20, 1536, &h);
	h.block_size = 3000;
	expect_reject(&h, "block size 3000");
	timg_header(raw, 1 << 20, 2 << 20, 1536, &h);
	h.block_size = 512u << 20;
	expect_reject(&h, "block size");
	timg_header(raw, 1 << 20, 2 << 20, 1537, &h);
	expect_reject(&h, "table offset 1537");
	timg_header(raw, 1 << 20, 2 << 20, 1536, &h);
	h.version = 0x00020000;
	expect_reject(&h, "header version");
	timg_header(raw, 1 << 20, 2 << 20, 1536, &h);
	memcpy(h.cookie, "cxsparsX", 8);
	expect_reject(&h, "cookie");
	/* A corrupted byte: checksum. */
	timg_header(raw, 1 << 20, 2 << 20, 1536, &h);
	raw[900] = 1;
	struct havm_err e;
	havm_err_clear(&e);
	vhd_header_decode(raw, &h);
	assert_int_equal(vhd_header_validate(&h, raw, "d.vhd", 512, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "checksum"));
}

static void test_vhd_header_accepts_other_power_of_two_block_sizes(void **state)
{
	(void)state;
	uint8_t raw[1024];
	struct vhd_header h;
	for (uint32_t bs = 512; bs <= VHD_MAX_BLOCK_SIZE; bs <<= 1) {
		timg_header(raw, 64 << 20, bs, 8192, &h);
		assert_int_equal(vhd_header_validate(&h, raw, "x", 512, NULL), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhd_header_round_trip_with_locators),
		cmocka_unit_test(test_vhd_header_rejects_bad_fields),
		cmocka_unit_test(test_vhd_header_accepts_other_power_of_two_block_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
