/* vhd_bat.c: MSB-first bitmaps, block placement, and BAT validation on open
 * (entries past the end, overlapping blocks, blocks over metadata). */
#include "vhd_testimg.h"

static void test_vhd_bitmap_is_msb_first(void **state)
{
	(void)state;
	uint8_t bm[4] = { 0 };
	vhd_bitmap_set(bm, 0);
	assert_int_equal(bm[0], 0x80);
	vhd_bitmap_set(bm, 7);
	assert_int_equal(bm[0], 0x81);
	vhd_bitmap_set(bm, 9);
	assert_int_equal(bm[1], 0x40);
	assert_true(vhd_bitmap_test(bm, 9));
	assert_false(vhd_bitmap_test(bm, 8));
	memset(bm, 0, sizeof(bm));
	assert_int_equal(vhd_bitmap_set_range(bm, 3, 14), 1); /* bits 3..16 */
	assert_int_equal(bm[0], 0x1F);
	assert_int_equal(bm[1], 0xFF);
	assert_int_equal(bm[2], 0x80);
	assert_int_equal(vhd_bitmap_set_range(bm, 4, 8), 0); /* nothing new */
	assert_int_equal(vhd_bitmap_run(bm, 0, 32), 3);
	assert_int_equal(vhd_bitmap_run(bm, 3, 32), 14);
	assert_int_equal(vhd_bitmap_run(bm, 17, 10), 10);
}

static void test_vhd_block_place_aligns_data_to_4k(void **state)
{
	(void)state;
	assert_int_equal(vhd_block_place(2048, 512), 3584);
	assert_int_equal(vhd_block_place(3584, 512), 3584);
	assert_int_equal(vhd_block_place(3585, 512), 7680);
	assert_int_equal((vhd_block_place(10000, 1024) + 1024) % 4096, 0);
}

/* A 4-block dynamic image (64 KiB blocks) with blocks at given sectors. */
static uint8_t *image(size_t *len, const uint32_t bat[4])
{
	size_t n = 512 * 1024;
	uint8_t *b = timg_alloc(n);
	timg_footer(b, VHD_TYPE_DYNAMIC, 256 << 10, "havm", 9);
	timg_header(b + 512, 256 << 10, 64 << 10, 1536, NULL);
	memset(b + 1536, 0xFF, 512);
	for (int i = 0; i < 4; i++)
		vhd_put32(b + 1536 + 4 * i, bat[i]);
	memcpy(b + n - 512, b, 512);
	*len = n;
	return b;
}

static int open_mem(uint8_t *b, size_t n, struct havm_err *e)
{
	struct blk_backend *be;
	struct blk_dev *d;
	assert_int_equal(blk_backend_mem_open(b, n, 0, &be), 0);
	havm_err_clear(e);
	int rc = blk_open_backend(be, 0, &d, e);
	if (rc < 0)
		assert_int_equal(blk_backend_close(be), 0);
	else
		assert_int_equal(blk_close(d), 0);
	return rc;
}

static void test_vhd_bat_valid_blocks_open(void **state)
{
	(void)state;
	size_t n;
	const uint32_t bat[4] = { 8, 8 + 130, VHD_BAT_UNUSED, 8 + 260 };
	uint8_t *b = image(&n, bat);
	struct havm_err e;
	assert_int_equal(open_mem(b, n, &e), 0);
	free(b);
}

static void test_vhd_bat_entry_past_end_is_rejected(void **state)
{
	(void)state;
	size_t n;
	const uint32_t bat[4] = { 8, 1000, VHD_BAT_UNUSED, VHD_BAT_UNUSED };
	uint8_t *b = image(&n, bat);
	struct havm_err e;
	assert_int_equal(open_mem(b, n, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "BAT entry 1"));
	assert_non_null(strstr(e.msg, "past the end"));
	free(b);
}

static void test_vhd_bat_overlapping_blocks_are_rejected(void **state)
{
	(void)state;
	size_t n;
	const uint32_t bat[4] = { 8, 8 + 64, VHD_BAT_UNUSED, VHD_BAT_UNUSED };
	uint8_t *b = image(&n, bat);
	struct havm_err e;
	assert_int_equal(open_mem(b, n, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "overlaps"));
	free(b);
}

static void test_vhd_bat_block_over_header_is_rejected(void **state)
{
	(void)state;
	size_t n;
	const uint32_t bat[4] = { 2, VHD_BAT_UNUSED, VHD_BAT_UNUSED, VHD_BAT_UNUSED };
	uint8_t *b = image(&n, bat);
	struct havm_err e;
	assert_int_equal(open_mem(b, n, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "overlaps metadata"));
	free(b);
}

static void test_vhd_bat_too_few_entries_for_size_is_rejected(void **state)
{
	(void)state;
	size_t n;
	const uint32_t bat[4] = { VHD_BAT_UNUSED, VHD_BAT_UNUSED, VHD_BAT_UNUSED, VHD_BAT_UNUSED };
	uint8_t *b = image(&n, bat);
	struct vhd_header h;
	timg_header(b + 512, 256 << 10, 64 << 10, 1536, &h);
	h.max_table_entries = 2;
	vhd_header_encode(&h, b + 512);
	struct havm_err e;
	assert_int_equal(open_mem(b, n, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "max table entries 2"));
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhd_bitmap_is_msb_first),
		cmocka_unit_test(test_vhd_block_place_aligns_data_to_4k),
		cmocka_unit_test(test_vhd_bat_valid_blocks_open),
		cmocka_unit_test(test_vhd_bat_entry_past_end_is_rejected),
		cmocka_unit_test(test_vhd_bat_overlapping_blocks_are_rejected),
		cmocka_unit_test(test_vhd_bat_block_over_header_is_rejected),
		cmocka_unit_test(test_vhd_bat_too_few_entries_for_size_is_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
