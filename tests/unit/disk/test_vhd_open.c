/* vhd_open.c + vhd_locator.c lookup: lenient reading of images built by
 * hand (Hyper-V differencing layout, 511-byte footer, bad tail footer) and
 * clear errors for bad ones (truncated, both footers bad, missing or
 * mismatched parent, loops) without writing to them. */
#include "vhd_testimg.h"

#include <sys/stat.h>

#define MiB (1u << 20)

static void make_parent(const char *path, uint8_t fill, uint8_t uuid_byte)
{
	struct vhd_create_opts o = { .type = VHD_TYPE_DYNAMIC, .size = 4 * MiB, .size_policy = VHD_SIZE_EXACT };
	uint8_t u[16];
	memset(u, uuid_byte, 16);
	o.uuid = u;
	struct havm_err e;
	assert_int_equal(vhd_create(path, &o, NULL, &e), 0);
	struct blk_dev *d;
	assert_int_equal(blk_open(path, BLK_O_RDWR, &d, &e), 0);
	uint8_t buf[64 * 512];
	memset(buf, fill, sizeof(buf));
	assert_int_equal(blk_write(d, 0, buf, 64), 0);
	assert_int_equal(blk_close(d), 0);
}

/* Hyper-V (Windows 10) differencing layout: creator "win ", BAT at 8192,
 * W2ku in slot 0 at 4096 (before the BAT), W2ru in slot 1 at 12288 with
 * 64 KiB of space, parent timestamp 0, absolute parent name, block data
 * 4 KiB aligned and the footer where the next bitmap would go. */
static size_t hyperv_child(uint8_t **out, uint8_t parent_uuid_byte)
{
	const uint64_t size = 4 * MiB, data = 81920, bs = 2 * MiB;
	size_t n = data + bs + 3584 + 512;
	uint8_t *b = timg_alloc(n);
	timg_footer(b, VHD_TYPE_DIFF, size, "win ", 0x77);
	struct vhd_header h;
	timg_header(b + 512, size, (uint32_t)bs, 8192, &h);
	memset(h.parent_uuid, parent_uuid_byte, 16);
	h.parent_timestamp = 0;
	assert_true(vhd_utf16_encode("C:\\vms\\parent.vhd", h.parent_name, 512, 1) > 0);
	uint8_t w2ku[128], w2ru[128];
	int lk = vhd_utf16_encode("C:\\vms\\parent.vhd", w2ku, sizeof(w2ku), 0);
	int lr = vhd_utf16_encode(".\\parent.vhd", w2ru, sizeof(w2ru), 0);
	h.loc[0] = (struct vhd_locator){ VHD_PLAT_W2KU, 4096, (uint32_t)lk, 0, 4096 };
	h.loc[1] = (struct vhd_locator){ VHD_PLAT_W2RU, 65536, (uint32_t)lr, 0, 12288 };
	vhd_header_encode(&h, b + 512);
	memcpy(b + 4096, w2ku, (size_t)lk);
	memcpy(b + 12288, w2ru, (size_t)lr);
	memset(b + 8192, 0xFF, 512);
	vhd_put32(b + 8192, (uint32_t)((data - 512) / 512)); /* block 0 */
	uint8_t *bm = b + data - 512;
	bm[0] = 0xFF;  /* sectors 0-7 (one 4 KiB cluster) in the child */
	bm[2] = 0x80;  /* sector 16 */
	memset(b + data, 0xC1, 17 * 512);
	memcpy(b + n - 512, b, 512);
	*out = b;
	return n;
}

static void test_vhd_open_hyperv_differencing_layout(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), p[600], c[600];
	snprintf(p, sizeof(p), "%s/parent.vhd", dir);
	snprintf(c, sizeof(c), "%s/child.vhd", dir);
	make_parent(p, 0xAA, 0x42);
	uint8_t *b;
	size_t n = hyperv_child(&b, 0x42);
	timg_write_file(c, b, n);
	struct blk_dev *d;
	struct havm_err e;
	assert_int_equal(blk_open(c, 0, &d, &e), 0);
	assert_int_equal(blk_format(d), BLK_FMT_VHD_DIFF);
	assert_int_equal(blk_size(d), 4 * MiB);
	uint8_t buf[40 * 512];
	assert_int_equal(blk_read(d, 0, buf, 40), 0);
	for (int s = 0; s < 40; s++) {
		uint8_t want = (s < 8 || s == 16) ? 0xC1 : 0xAA;
		assert_int_equal(buf[s * 512], want);
		assert_int_equal(buf[s * 512 + 511], want);
	}
	assert_int_equal(blk_read(d, 64, buf, 1), 0);
	assert_int_equal(buf[0], 0); /* past the parent's data */
	assert_non_null(strstr(vhd_image_parent_path(blk_vhd(d)), "parent.vhd"));
	assert_int_equal(blk_close(d), 0);
	free(b);
	timg_rmdir(dir);
}

static void test_vhd_open_locators_in_any_slot_and_w2ku_only(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), p[600], c[600];
	snprintf(p, sizeof(p), "%s/parent.vhd", dir);
	snprintf(c, sizeof(c), "%s/child.vhd", dir);
	make_parent(p, 0xAB, 0x43);
	uint8_t *b;
	size_t n = hyperv_child(&b, 0x43);
	struct vhd_header h;
	vhd_header_decode(b + 512, &h);
	/* Only an absolute W2ku with the real path, moved to slot 6; no
	 * parent name. */
	uint8_t w[600];
	int lw = vhd_utf16_encode(p, w, sizeof(w), 0);
	memset(b + 4096, 0, 4096);
	memcpy(b + 4096, w, (size_t)lw);
	h.loc[6] = (struct vhd_locator){ VHD_PLAT_W2KU, 4096, (uint32_t)lw, 0, 4096 };
	memset(&h.loc[0], 0, sizeof(h.loc[0]));
	memset(&h.loc[1], 0, sizeof(h.loc[1]));
	memset(h.parent_name, 0, sizeof(h.parent_name));
	vhd_header_encode(&h, b + 512);
	timg_write_file(c, b, n);
	struct blk_dev *d;
	struct havm_err e;
	assert_int_equal(blk_open(c, 0, &d, &e), 0);
	uint8_t buf[512];
	assert_int_equal(blk_read(d, 9, buf, 1), 0);
	assert_int_equal(buf[0], 0xAB);
	assert_int_equal(blk_close(d), 0);
	free(b);
	timg_rmdir(dir);
}

static void test_vhd_open_511_byte_footer(void **state)
{
	(void)state;
	uint8_t b[8192 + 511];
	memset(b, 0x33, 8192);
	uint8_t f[512];
	timg_footer(f, VHD_TYPE_FIXED, 8192, "vpc ", 1);
	/* Pre-2004 footers omit the last reserved byte (zero anyway). */
	memcpy(b + 8192, f, 511);
	struct blk_backend *be;
	struct blk_dev *d;
	struct havm_err e;
	assert_int_equal(blk_backend_mem_open(b, sizeof(b), 0, &be), 0);
	assert_int_equal(blk_open_backend(be, 0, &d, &e), 0);
	assert_int_equal(blk_format(d), BLK_FMT_VHD_FIXED);
	assert_int_equal(vhd_image_footer_source(blk_vhd(d)), VHD_FOOTER_SHORT);
	uint8_t s[512];
	assert_int_equal(blk_read(d, 15, s, 1), 0);
	assert_int_equal(s[0], 0x33);
	assert_int_equal(blk_close(d), 0);
}

static char *dynamic_file(char *dir, const char *name, uint8_t fill)
{
	char *p = malloc(600);
	snprintf(p, 600, "%s/%s", dir, name);
	make_parent(p, fill, 0x50);
	return p;
}

static void corrupt(const char *path, long off, int whence)
{
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, off, whence), 0);
	int ch = fgetc(f);
	assert_int_equal(fseek(f, off, whence), 0);
	fputc(ch ^ 0x5A, f);
	fclose(f);
}

static void test_vhd_open_bad_tail_footer_falls_back_to_copy(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), *p = dynamic_file(dir, "d.vhd", 0x11);
	corrupt(p, -400, SEEK_END);
	struct blk_dev *d;
	struct havm_err e;
	assert_int_equal(blk_open(p, 0, &d, &e), 0);
	assert_int_equal(vhd_image_footer_source(blk_vhd(d)), VHD_FOOTER_COPY);
	uint8_t s[512];
	assert_int_equal(blk_read(d, 3, s, 1), 0);
	assert_int_equal(s[0], 0x11);
	assert_int_equal(blk_close(d), 0);
	/* check reports it, --repair rewrites it, then check is clean. */
	struct vhd_check_report r;
	assert_int_equal(vhd_check(p, 0, &r, &e), 0);
	assert_true(r.errors > 0);
	vhd_check_report_free(&r);
	assert_int_equal(vhd_check(p, 1, &r, &e), 0);
	assert_true(r.repaired);
	vhd_check_report_free(&r);
	assert_int_equal(vhd_check(p, 0, &r, &e), 0);
	assert_int_equal(r.errors, 0);
	vhd_check_report_free(&r);
	free(p);
	timg_rmdir(dir);
}

static void test_vhd_open_copy_footer_then_write_repairs_the_tail(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), *p = dynamic_file(dir, "d.vhd", 0x11);
	/* A tail footer overwritten by junk (not zeros), e.g. a torn write. */
	FILE *f = fopen(p, "r+b");
	fseek(f, -512, SEEK_END);
	for (int i = 0; i < 512; i++)
		fputc(0xE7, f);
	fclose(f);
	struct blk_dev *d;
	struct havm_err e;
	assert_int_equal(blk_open(p, BLK_O_RDWR, &d, &e), 0);
	assert_int_equal(vhd_image_footer_source(blk_vhd(d)), VHD_FOOTER_COPY);
	uint8_t s[512];
	memset(s, 0x22, sizeof(s));
	assert_int_equal(blk_write(d, 4096, s, 1), 0); /* block 1: a new block */
	assert_int_equal(blk_close(d), 0);
	assert_int_equal(blk_open(p, 0, &d, &e), 0);
	assert_int_equal(vhd_image_footer_source(blk_vhd(d)), VHD_FOOTER_TAIL);
	for (uint64_t k = 4096; k < 4096 + 8; k++) {
		assert_int_equal(blk_read(d, k, s, 1), 0);
		assert_int_equal(s[0], k == 4096 ? 0x22 : 0); /* never the junk */
	}
	assert_int_equal(blk_read(d, 3, s, 1), 0);
	assert_int_equal(s[0], 0x11);
	assert_int_equal(blk_close(d), 0);
	struct vhd_check_report r;
	assert_int_equal(vhd_check(p, 0, &r, &e), 0);
	assert_int_equal(r.errors, 0);
	vhd_check_report_free(&r);
	free(p);
	timg_rmdir(dir);
}

static void file_bytes(const char *p, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	*buf = timg_alloc(*len);
	assert_int_equal(fread(*buf, 1, *len, f), *len);
	fclose(f);
}

static void test_vhd_open_both_footers_bad_names_field_and_writes_nothing(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), *p = dynamic_file(dir, "d.vhd", 0x11);
	corrupt(p, -400, SEEK_END);
	corrupt(p, 100, SEEK_SET);
	uint8_t *before, *after;
	size_t lb, la;
	file_bytes(p, &before, &lb);
	struct blk_dev *d;
	struct havm_err e;
	assert_int_equal(blk_open(p, BLK_O_RDWR, &d, &e), -EINVAL);
	assert_int_equal(e.kind, HAVM_E_FORMAT);
	assert_non_null(strstr(e.msg, "d.vhd: footer at offset"));
	assert_non_null(strstr(e.msg, "checksum"));
	file_bytes(p, &after, &la);
	assert_int_equal(la, lb);
	assert_memory_equal(before, after, la);
	free(before);
	free(after);
	free(p);
	timg_rmdir(dir);
}

static void test_vhd_open_truncated_file_is_a_clear_error(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), *p = dynamic_file(dir, "d.vhd", 0x11);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(truncate(p, st.st_size - 4096), 0);
	struct blk_dev *d;
	struct havm_err e;
	assert_true(blk_open(p, 0, &d, &e) < 0);
	assert_non_null(strstr(e.msg, "d.vhd"));
	assert_int_equal(truncate(p, 300), 0);
	assert_true(blk_open(p, 0, &d, &e) < 0 || (blk_close(d), 1)); /* 300 bytes: raw, not VHD */
	free(p);
	timg_rmdir(dir);
}

static void test_vhd_open_missing_and_mismatched_parent(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), p[600], c[600];
	snprintf(p, sizeof(p), "%s/parent.vhd", dir);
	snprintf(c, sizeof(c), "%s/child.vhd", dir);
	uint8_t *b;
	size_t n = hyperv_child(&b, 0x44);
	timg_write_file(c, b, n);
	struct blk_dev *d;
	struct havm_err e;
	assert_int_equal(blk_open(c, 0, &d, &e), -ENOENT);
	assert_int_equal(e.kind, HAVM_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "parent"));
	make_parent(p, 0xAA, 0x45); /* another UUID */
	assert_int_equal(blk_open(c, 0, &d, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "unique id"));
	/* Without the parent (info): opens, parent sectors fail cleanly. */
	assert_int_equal(blk_open(c, BLK_O_NO_PARENT, &d, &e), 0);
	uint8_t s[512];
	assert_int_equal(blk_read(d, 10, s, 1), -ENXIO);
	assert_int_equal(blk_close(d), 0);
	free(b);
	timg_rmdir(dir);
}

static void test_vhd_open_parent_loop_is_refused(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), a[600], c[600];
	snprintf(a, sizeof(a), "%s/parent.vhd", dir);
	snprintf(c, sizeof(c), "%s/child.vhd", dir);
	/* child -> parent.vhd, and parent.vhd is itself a child naming
	 * parent.vhd with its own UUID: a loop of one. */
	uint8_t *b;
	size_t n = hyperv_child(&b, 0x77);
	timg_write_file(a, b, n);
	timg_write_file(c, b, n);
	struct blk_dev *d;
	struct havm_err e;
	assert_int_equal(blk_open(c, 0, &d, &e), -ELOOP);
	assert_non_null(strstr(e.msg, "loop"));
	free(b);
	timg_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhd_open_hyperv_differencing_layout),
		cmocka_unit_test(test_vhd_open_locators_in_any_slot_and_w2ku_only),
		cmocka_unit_test(test_vhd_open_511_byte_footer),
		cmocka_unit_test(test_vhd_open_bad_tail_footer_falls_back_to_copy),
		cmocka_unit_test(test_vhd_open_copy_footer_then_write_repairs_the_tail),
		cmocka_unit_test(test_vhd_open_both_footers_bad_names_field_and_writes_nothing),
		cmocka_unit_test(test_vhd_open_truncated_file_is_a_clear_error),
		cmocka_unit_test(test_vhd_open_missing_and_mismatched_parent),
		cmocka_unit_test(test_vhd_open_parent_loop_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
