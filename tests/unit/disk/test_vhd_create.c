/* vhd_create.c: what we write (strict fields, copy at 0, locators), the size
 * policy, the limits with clear errors, and cleanup on failure. */
#include "vhd_testimg.h"

#include <sys/stat.h>

static char *path_in(const char *dir, const char *name)
{
	char *p = malloc(600);
	snprintf(p, 600, "%s/%s", dir, name);
	return p;
}

static void test_vhd_create_dynamic_writes_strict_fields(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), *p = path_in(dir, "d.vhd");
	struct vhd_create_opts o = { .type = VHD_TYPE_DYNAMIC, .size = 100u << 20 };
	uint64_t final;
	struct havm_err e;
	assert_int_equal(vhd_create(p, &o, &final, &e), 0);
	assert_int_equal(final, 104865792); /* CHS round-up */
	struct blk_dev *d;
	assert_int_equal(blk_open(p, 0, &d, &e), 0);
	const struct vhd_footer *f = vhd_image_footer(blk_vhd(d));
	assert_int_equal(f->features, 2);
	assert_int_equal(f->original_size, f->current_size);
	assert_memory_equal(f->creator_app, "havm", 4);
	assert_int_equal((uint64_t)f->cylinders * f->heads * f->sectors * 512, final);
	const struct vhd_header *h = vhd_image_header(blk_vhd(d));
	assert_int_equal(h->table_offset, 1536);
	assert_int_equal(h->max_table_entries, 51);
	assert_int_equal(h->data_offset, UINT64_MAX);
	assert_int_equal(blk_close(d), 0);
	/* The copy at 0 is byte-identical to the tail footer. */
	FILE *fp = fopen(p, "rb");
	uint8_t a[512], b[512];
	assert_int_equal(fread(a, 1, 512, fp), 512);
	fseek(fp, -512, SEEK_END);
	assert_int_equal(fread(b, 1, 512, fp), 512);
	fclose(fp);
	assert_memory_equal(a, b, 512);
	struct vhd_check_report r;
	assert_int_equal(vhd_check(p, 0, &r, &e), 0);
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.warnings, 0);
	vhd_check_report_free(&r);
	free(p);
	timg_rmdir(dir);
}

static void test_vhd_create_exact_policy_keeps_size(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), *p = path_in(dir, "f.vhd");
	struct vhd_create_opts o = { .type = VHD_TYPE_FIXED, .size = 1u << 20, .size_policy = VHD_SIZE_EXACT };
	uint64_t final;
	struct havm_err e;
	assert_int_equal(vhd_create(p, &o, &final, &e), 0);
	assert_int_equal(final, 1u << 20);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, (1 << 20) + 512);
	free(p);
	timg_rmdir(dir);
}

static void test_vhd_create_limits_are_clear_errors(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), *p = path_in(dir, "x.vhd");
	struct havm_err e;
	struct vhd_create_opts o = { .type = VHD_TYPE_DYNAMIC, .size = 2041ull << 30 };
	assert_int_equal(vhd_create(p, &o, NULL, &e), -EFBIG);
	assert_non_null(strstr(e.msg, "2040 GiB"));
	o.size = 1u << 20;
	o.block_size = 3u << 20;
	assert_int_equal(vhd_create(p, &o, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "block size"));
	o.block_size = 0;
	o.size_policy = VHD_SIZE_EXACT;
	o.size = 1000;
	assert_int_equal(vhd_create(p, &o, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "multiple of 512"));
	assert_int_equal(access(p, F_OK), -1); /* nothing left behind */
	/* Past 127 GiB the CHS saturates and the exact size is kept. */
	o.size = 130ull << 30;
	o.size_policy = VHD_SIZE_CHS_ROUND_UP;
	uint64_t final;
	assert_int_equal(vhd_create(p, &o, &final, &e), 0);
	assert_int_equal(final, 130ull << 30);
	assert_int_equal(vhd_create(p, &o, &final, &e), -EEXIST);
	assert_int_equal(e.kind, HAVM_E_STATE);
	free(p);
	timg_rmdir(dir);
}

static void test_vhd_create_differencing_locators_and_parent_name(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), *p = path_in(dir, "base.vhd"), *c = path_in(dir, "sub/child.vhd");
	char sub[620];
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	struct vhd_create_opts o = { .type = VHD_TYPE_DYNAMIC, .size = 8u << 20, .block_size = 512u << 10 };
	struct havm_err e;
	assert_int_equal(vhd_create(p, &o, NULL, &e), 0);
	struct vhd_create_opts oc = { .type = VHD_TYPE_DIFF, .parent = p };
	assert_int_equal(vhd_create(c, &oc, NULL, &e), 0);
	struct blk_dev *d;
	assert_int_equal(blk_open(c, 0, &d, &e), 0);
	struct vhd_image *img = blk_vhd(d);
	const struct vhd_header *h = vhd_image_header(img);
	assert_int_equal(h->block_size, 512u << 10); /* the parent's */
	assert_int_equal(h->loc[0].code, VHD_PLAT_W2RU);
	assert_int_equal(h->loc[1].code, VHD_PLAT_W2KU);
	assert_int_equal(h->loc[0].data_space % 512, 0);
	char buf[600];
	assert_int_equal(vhd_locator_read(img, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "../base.vhd"); /* stored as ..\base.vhd */
	assert_true(vhd_image_parent_name(img, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "base.vhd");
	assert_int_equal(blk_size(d), blk_size(blk_parent(d)));
	assert_int_equal(blk_close(d), 0);
	free(p);
	free(c);
	timg_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhd_create_dynamic_writes_strict_fields),
		cmocka_unit_test(test_vhd_create_exact_policy_keeps_size),
		cmocka_unit_test(test_vhd_create_limits_are_clear_errors),
		cmocka_unit_test(test_vhd_create_differencing_locators_and_parent_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
