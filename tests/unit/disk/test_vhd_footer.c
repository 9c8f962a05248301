/* vhd_footer.c: checksum, round trip, and every field the reader rejects. */
#include "vhd_testimg.h"

static void test_vhd_footer_checksum_is_ones_complement_skipping_field(void **state)
{
	(void)state;
	uint8_t raw[512];
	memset(raw, 1, sizeof(raw));
	/* 508 bytes of 1 count; the 4 checksum bytes at 64 do not. */
	assert_int_equal(vhd_checksum(raw, 512, 64), ~508u);
	memset(raw, 0xFF, sizeof(raw));
	assert_int_equal(vhd_checksum(raw, 1024 / 2, 64), ~(508u * 255u));
}

static void test_vhd_footer_round_trip_keeps_every_field(void **state)
{
	(void)state;
	uint8_t raw[512], raw2[512];
	timg_footer(raw, VHD_TYPE_DYNAMIC, 100 << 20, "win ", 7);
	struct vhd_footer f;
	vhd_footer_decode(raw, &f);
	assert_int_equal(vhd_footer_validate(&f, raw, "x", 0, NULL), 0);
	vhd_footer_encode(&f, raw2);
	assert_memory_equal(raw, raw2, 512);
	assert_int_equal(f.current_size, 100 << 20);
	assert_int_equal(f.type, 3);
}

static void expect_reject(uint8_t *raw, const char *field)
{
	struct vhd_footer f;
	struct havm_err e;
	havm_err_clear(&e);
	vhd_footer_decode(raw, &f);
	assert_int_equal(vhd_footer_validate(&f, raw, "disk.vhd", 4096, &e), -EINVAL);
	assert_int_equal(e.kind, HAVM_E_FORMAT);
	assert_non_null(strstr(e.msg, "disk.vhd: footer at offset 4096"));
	assert_non_null(strstr(e.msg, field));
}

static void refresh_checksum(uint8_t *raw)
{
	vhd_put32(raw + 64, vhd_checksum(raw, 512, 64));
}

static void test_vhd_footer_rejects_bad_cookie_checksum_version_type(void **state)
{
	(void)state;
	uint8_t raw[512];
	timg_footer(raw, VHD_TYPE_DYNAMIC, 1 << 20, "havm", 1);
	raw[0] = 'C';
	expect_reject(raw, "cookie");
	timg_footer(raw, VHD_TYPE_DYNAMIC, 1 << 20, "havm", 1);
	raw[100] ^= 1;
	expect_reject(raw, "checksum");
	timg_footer(raw, VHD_TYPE_DYNAMIC, 1 << 20, "havm", 1);
	vhd_put32(raw + 12, 0x00020000);
	refresh_checksum(raw);
	expect_reject(raw, "format version");
	timg_footer(raw, VHD_TYPE_DYNAMIC, 1 << 20, "havm", 1);
	vhd_put32(raw + 60, 5);
	refresh_checksum(raw);
	expect_reject(raw, "disk type 5");
	timg_footer(raw, VHD_TYPE_DYNAMIC, 1 << 20, "havm", 1);
	vhd_put64(raw + 16, 100);
	refresh_checksum(raw);
	expect_reject(raw, "data offset 100");
	timg_footer(raw, VHD_TYPE_DYNAMIC, 1 << 20, "havm", 1);
	vhd_put64(raw + 48, 1000);
	refresh_checksum(raw);
	expect_reject(raw, "current size 1000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhd_footer_checksum_is_ones_complement_skipping_field),
		cmocka_unit_test(test_vhd_footer_round_trip_keeps_every_field),
		cmocka_unit_test(test_vhd_footer_rejects_bad_cookie_checksum_version_type),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
