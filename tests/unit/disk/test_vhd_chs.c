/* vhd_chs.c: the spec algorithm against the reference note's table, the
 * QEMU-style round-up, the 127 GiB ceiling and the read-side size rule. */
#include "vhd_testimg.h"

struct row {
	uint64_t bytes;
	uint16_t c;
	uint8_t h, s;
	uint64_t floor_bytes, round_up;
};

static void test_vhd_chs_matches_reference_table(void **state)
{
	(void)state;
	static const struct row rows[] = {
		{ 2ull << 20, 60, 4, 17, 2088960, 2123776 },
		{ 4ull << 20, 120, 4, 17, 4177920, 4212736 },
		{ 100ull << 20, 1003, 12, 17, 104761344, 104865792 },
		{ 512ull << 20, 1040, 16, 63, 536739840, 0 },
		{ 1ull << 30, 2080, 16, 63, 1073479680, 1073995776 },
		{ 127ull << 30, 65278, 16, 255, 266334240ull * 512, 0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct vhd_chs g = vhd_chs_from_sectors(rows[i].bytes / 512);
		assert_int_equal(g.cylinders, rows[i].c);
		assert_int_equal(g.heads, rows[i].h);
		assert_int_equal(g.sectors, rows[i].s);
		assert_int_equal(vhd_chs_sectors(g) * 512, rows[i].floor_bytes);
		if (rows[i].round_up) {
			uint64_t up;
			assert_int_equal(vhd_chs_round_up(rows[i].bytes, &up), 0);
			assert_int_equal(up, rows[i].round_up);
		}
	}
}

static void test_vhd_chs_round_up_is_identity_on_exact_sizes(void **state)
{
	(void)state;
	uint64_t up;
	assert_int_equal(vhd_chs_round_up(104865792, &up), 0);
	assert_int_equal(up, 104865792);
	assert_int_equal(vhd_chs_round_up(2088960, &up), 0);
	assert_int_equal(up, 2088960);
}

static void test_vhd_chs_ceiling_saturates_and_round_up_refuses(void **state)
{
	(void)state;
	struct vhd_chs g = vhd_chs_from_sectors(VHD_CHS_MAX_SECTORS * 4);
	assert_int_equal(g.cylinders, 65535);
	assert_int_equal(g.heads, 16);
	assert_int_equal(g.sectors, 255);
	uint64_t up;
	assert_int_equal(vhd_chs_round_up(130ull << 30, &up), -ERANGE);
}

static void test_vhd_virtual_size_rule_per_creator(void **state)
{
	(void)state;
	uint8_t raw[512];
	struct vhd_footer f;
	timg_footer(raw, VHD_TYPE_DYNAMIC, 100ull << 20, "vpc ", 1);
	vhd_footer_decode(raw, &f);
	assert_int_equal(vhd_footer_virtual_size(&f), 104761344); /* CHS */
	memcpy(f.creator_app, "win ", 4);
	assert_int_equal(vhd_footer_virtual_size(&f), 100ull << 20);
	memcpy(f.creator_app, "havm", 4);
	assert_int_equal(vhd_footer_virtual_size(&f), 100ull << 20);
	memcpy(f.creator_app, "qemu", 4);
	f.cylinders = 65535, f.heads = 16, f.sectors = 255; /* maximum: current size */
	assert_int_equal(vhd_footer_virtual_size(&f), 100ull << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhd_chs_matches_reference_table),
		cmocka_unit_test(test_vhd_chs_round_up_is_identity_on_exact_sizes),
		cmocka_unit_test(test_vhd_chs_ceiling_saturates_and_round_up_refuses),
		cmocka_unit_test(test_vhd_virtual_size_rule_per_creator),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
