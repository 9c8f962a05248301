/* blk.c, raw.c, file.c: probing, raw I/O, range and mode errors. */
#include "vhd_testimg.h"

static void test_blk_raw_file_is_probed_as_raw(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), p[600];
	snprintf(p, sizeof(p), "%s/disk.img", dir);
	uint8_t buf[4096];
	memset(buf, 0x3C, sizeof(buf));
	timg_write_file(p, buf, sizeof(buf));
	struct blk_dev *d;
	struct havm_err e;
	assert_int_equal(blk_open(p, BLK_O_RDWR, &d, &e), 0);
	assert_int_equal(blk_format(d), BLK_FMT_RAW);
	assert_string_equal(blk_format_name(blk_format(d)), "raw");
	assert_int_equal(blk_size(d), 4096);
	assert_null(blk_vhd(d));
	uint8_t s[512];
	assert_int_equal(blk_read(d, 7, s, 1), 0);
	assert_int_equal(s[0], 0x3C);
	assert_int_equal(blk_read(d, 8, s, 1), -ERANGE);
	assert_int_equal(blk_read(d, 7, s, 2), -ERANGE);
	memset(s, 0x11, sizeof(s));
	assert_int_equal(blk_write(d, 0, s, 1), 0);
	assert_int_equal(blk_flush(d), 0);
	assert_int_equal(blk_close(d), 0);
	assert_int_equal(blk_open(p, 0, &d, &e), 0);
	assert_int_equal(blk_read(d, 0, s, 1), 0);
	assert_int_equal(s[0], 0x11);
	assert_int_equal(blk_write(d, 0, s, 1), -EROFS);
	assert_int_equal(blk_close(d), 0);
	timg_rmdir(strdup(dir));
	free(dir);
}

/* BLK_O_DIRECT: aligned transfers go O_DIRECT, unaligned ones (a stack
 * buffer, an odd offset, an odd-sized tail) through the page cache, and
 * both read back; where O_DIRECT is refused the file opens buffered. */
static void test_blk_direct_file_takes_aligned_and_unaligned_io(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), p[600];
	snprintf(p, sizeof(p), "%s/disk.img", dir);
	static uint8_t zero[3 * 4096 + 512];
	timg_write_file(p, zero, sizeof(zero));
	struct blk_dev *d;
	struct havm_err e;
	assert_int_equal(blk_open(p, BLK_O_RDWR | BLK_O_DIRECT | BLK_O_FORMAT_RAW, &d, &e), 0);
	void *mem;
	assert_int_equal(posix_memalign(&mem, 4096, 8192), 0);
	uint8_t *al = mem, odd[512];
	memset(al, 0xA1, 8192);
	assert_int_equal(blk_write(d, 8, al, 16), 0);  /* 4 KiB aligned: direct */
	memset(odd, 0xB2, sizeof(odd));
	assert_int_equal(blk_write(d, 3, odd, 1), 0);  /* odd offset */
	assert_int_equal(blk_write(d, 24, odd, 1), 0); /* the odd-sized tail */
	assert_int_equal(blk_flush(d), 0);
	memset(al, 0, 8192);
	assert_int_equal(blk_read(d, 8, al, 16), 0);
	for (int i = 0; i < 8192; i++)
		assert_int_equal(al[i], 0xA1);
	assert_int_equal(blk_read(d, 3, odd, 1), 0);
	assert_int_equal(odd[511], 0xB2);
	assert_int_equal(blk_read(d, 24, odd, 1), 0);
	assert_int_equal(odd[0], 0xB2);
	assert_int_equal(blk_read(d, 2, odd, 1), 0);
	assert_int_equal(odd[0], 0);
	assert_int_equal(blk_close(d), 0);
	free(mem);
	timg_rmdir(strdup(dir));
	free(dir);
}

static void test_blk_missing_file_is_notfound(void **state)
{
	(void)state;
	struct blk_dev *d;
	struct havm_err e;
	assert_int_equal(blk_open("/nonexistent/x.vhd", 0, &d, &e), -ENOENT);
	assert_int_equal(e.kind, HAVM_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "/nonexistent/x.vhd"));
	assert_int_equal(blk_open("/tmp", 0, &d, &e), -EISDIR);
}

static void test_blk_mem_backend_bounds(void **state)
{
	(void)state;
	uint8_t buf[1024] = { 0 };
	struct blk_backend *be;
	assert_int_equal(blk_backend_mem_open(buf, sizeof(buf), 1, &be), 0);
	uint8_t x[16];
	assert_int_equal(blk_backend_pread(be, x, 16, 1020), -EIO);
	assert_int_equal(blk_backend_pwrite(be, x, 16, 1020), -ENOSPC);
	assert_int_equal(blk_backend_close(be), 0);
	assert_int_equal(blk_backend_close(NULL), 0);
	assert_int_equal(blk_close(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blk_raw_file_is_probed_as_raw),
		cmocka_unit_test(test_blk_direct_file_takes_aligned_and_unaligned_io),
		cmocka_unit_test(test_blk_missing_file_is_notfound),
		cmocka_unit_test(test_blk_mem_backend_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
