/* vhd_convert.c, vhd_compact.c, vhd_merge.c, vhd_resize.c: what each tool
 * writes and what it refuses, on small images in a temp directory. The
 * oracle comparisons and crash loops are in tests/integration. */
#include "vhd_testimg.h"

#include "common/fault.h"
#include "vmcore/disk/vhd_int.h"

#include <limits.h>
#include <stdlib.h>

#include <sys/stat.h>
#include <unistd.h>

static char *path_in(const char *dir, const char *name)
{
	char *p = malloc(600);
	snprintf(p, 600, "%s/%s", dir, name);
	return p;
}

static void make_dynamic(const char *p, uint64_t size, uint32_t bs)
{
	struct vhd_create_opts o = { .type = VHD_TYPE_DYNAMIC, .size = size, .block_size = bs,
				     .size_policy = VHD_SIZE_EXACT };
	struct havm_err e;
	assert_int_equal(vhd_create(p, &o, NULL, &e), 0);
}

/* Writes @n sectors of byte @v at @sector (0 = zeros) and flushes. */
static void put(const char *p, uint64_t sector, uint32_t n, uint8_t v)
{
	struct blk_dev *d;
	struct havm_err e;
	assert_int_equal(blk_open(p, BLK_O_RDWR, &d, &e), 0);
	uint8_t *buf = malloc((size_t)n * 512);
	memset(buf, v, (size_t)n * 512);
	assert_int_equal(blk_write(d, sector, buf, n), 0);
	assert_int_equal(blk_close(d), 0);
	free(buf);
}

static uint8_t get(const char *p, uint64_t sector)
{
	struct blk_dev *d;
	struct havm_err e;
	uint8_t buf[512];
	assert_int_equal(blk_open(p, 0, &d, &e), 0);
	assert_int_equal(blk_read(d, sector, buf, 1), 0);
	assert_int_equal(blk_close(d), 0);
	return buf[0];
}

static uint32_t blocks(const char *p)
{
	struct blk_dev *d;
	struct havm_err e;
	uint32_t n = 0, cnt;
	assert_int_equal(blk_open(p, BLK_O_NO_PARENT, &d, &e), 0);
	const uint32_t *bat = vhd_image_bat(blk_vhd(d), &cnt);
	for (uint32_t i = 0; i < cnt; i++)
		n += bat[i] != VHD_BAT_UNUSED;
	assert_int_equal(blk_close(d), 0);
	return n;
}

static void test_vhd_convert_dynamic_to_raw_and_back_skips_zero_blocks(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), *a = path_in(dir, "a.vhd"), *r = path_in(dir, "a.raw"), *b = path_in(dir, "b.vhd");
	make_dynamic(a, 4u << 20, 64u << 10);
	put(a, 0, 8, 0x11);
	put(a, 7000, 8, 0x22);
	put(a, 2000, 128, 0); /* allocates nothing */
	struct havm_err e;
	struct vhd_tool_stats st;
	assert_int_equal(vhd_convert(a, r, VHD_OUT_RAW, NULL, &st, &e), 0);
	struct stat sb;
	assert_int_equal(stat(r, &sb), 0);
	assert_int_equal(sb.st_size, 4u << 20);
	assert_int_equal(vhd_convert(r, b, VHD_OUT_DYNAMIC, NULL, &st, &e), 0);
	assert_int_equal(blocks(b), 2);
	assert_int_equal(get(b, 0), 0x11);
	assert_int_equal(get(b, 7000), 0x22);
	assert_int_equal(get(b, 3000), 0);
	/* DST exists: refused, untouched. */
	assert_int_equal(vhd_convert(a, b, VHD_OUT_FIXED, NULL, &st, &e), -EEXIST);
	assert_int_equal(e.kind, HAVM_E_STATE);
	assert_int_equal(blocks(b), 2);
	free(a), free(r), free(b);
	timg_rmdir(dir);
}

static void test_vhd_compact_drops_zero_blocks_and_keeps_uuid(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), *a = path_in(dir, "a.vhd");
	make_dynamic(a, 4u << 20, 64u << 10);
	put(a, 0, 128, 0x33);
	put(a, 128, 128, 0x44);
	put(a, 128, 128, 0); /* block 1 now all zero */
	struct blk_dev *d;
	struct havm_err e;
	uint8_t uuid[16];
	assert_int_equal(blk_open(a, 0, &d, &e), 0);
	memcpy(uuid, vhd_image_footer(blk_vhd(d))->uuid, 16);
	assert_int_equal(blk_close(d), 0);
	struct vhd_tool_stats st;
	assert_int_equal(vhd_compact(a, NULL, &st, &e), 0);
	assert_int_equal(st.blocks_in, 2);
	assert_int_equal(st.blocks_out, 1);
	assert_int_equal(get(a, 5), 0x33);
	assert_int_equal(blk_open(a, 0, &d, &e), 0);
	assert_memory_equal(vhd_image_footer(blk_vhd(d))->uuid, uuid, 16);
	assert_int_equal(blk_close(d), 0);
	free(a);
	timg_rmdir(dir);
}

static void test_vhd_merge_refuses_siblings_then_merges(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), *p = path_in(dir, "p.vhd"), *c = path_in(dir, "c.vhd"), *s = path_in(dir, "s.vhd");
	make_dynamic(p, 4u << 20, 64u << 10);
	put(p, 10, 1, 0x55);
	struct vhd_create_opts o = { .type = VHD_TYPE_DIFF, .parent = p };
	struct havm_err e;
	assert_int_equal(vhd_create(c, &o, NULL, &e), 0);
	assert_int_equal(vhd_create(s, &o, NULL, &e), 0);
	put(c, 20, 1, 0x66);
	struct vhd_tool_stats st;
	assert_int_equal(vhd_merge(c, NULL, &st, &e), -EBUSY);
	assert_int_equal(e.kind, HAVM_E_STATE);
	assert_non_null(strstr(e.msg, "s.vhd"));
	assert_int_equal(get(p, 20), 0);
	assert_int_equal(unlink(s), 0);
	assert_int_equal(vhd_merge(c, NULL, &st, &e), 0);
	assert_int_equal(get(p, 20), 0x66);
	assert_int_equal(get(p, 10), 0x55);
	assert_int_equal(access(c, F_OK), -1);
	/* A dynamic disk has nothing to merge into. */
	assert_int_equal(vhd_merge(p, NULL, &st, &e), -EINVAL);
	free(p), free(c), free(s);
	timg_rmdir(dir);
}

/* Killed (here: failed) after re-pointing the grandchild and before deleting
 * the child: the grandchild names the parent now, and the rerun must take it
 * for its own work (the merge marker), not for a sibling. */
static void test_vhd_merge_rerun_adopts_the_grandchild_it_repointed(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), *p = path_in(dir, "p.vhd"), *c = path_in(dir, "c.vhd"), *g = path_in(dir, "g.vhd"),
	     *m = path_in(dir, "p.vhd.merge");
	make_dynamic(p, 4u << 20, 64u << 10);
	struct vhd_create_opts o = { .type = VHD_TYPE_DIFF, .parent = p };
	struct havm_err e;
	assert_int_equal(vhd_create(c, &o, NULL, &e), 0);
	put(c, 20, 1, 0x66);
	o.parent = c;
	assert_int_equal(vhd_create(g, &o, NULL, &e), 0);
	put(g, 30, 1, 0x77);
	struct vhd_tool_stats st;
	havm_fault_arm("vhd.merge_unlink", 1, HAVM_FAULT_FAIL);
	assert_int_equal(vhd_merge(c, NULL, &st, &e), -EIO);
	havm_fault_disarm();
	assert_int_equal(st.reparented, 1);
	assert_int_equal(access(m, F_OK), 0); /* the intent outlives the failure */
	assert_int_equal(vhd_merge(c, NULL, &st, &e), 0); /* no --force */
	assert_int_equal(st.reparented, 1);
	assert_int_equal(access(c, F_OK), -1);
	assert_int_equal(access(m, F_OK), -1);
	assert_int_equal(get(g, 20), 0x66);
	assert_int_equal(get(g, 30), 0x77);
	free(p), free(c), free(g), free(m);
	timg_rmdir(dir);
}

/* A marker naming another child (left by a kill after that child's delete)
 * hides no real sibling. */
static void test_vhd_merge_marker_of_another_child_hides_no_sibling(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), *p = path_in(dir, "p.vhd"), *c = path_in(dir, "c.vhd"), *s = path_in(dir, "s.vhd");
	make_dynamic(p, 4u << 20, 64u << 10);
	struct vhd_create_opts o = { .type = VHD_TYPE_DIFF, .parent = p };
	struct havm_err e;
	assert_int_equal(vhd_create(c, &o, NULL, &e), 0);
	assert_int_equal(vhd_create(s, &o, NULL, &e), 0);
	char abs[PATH_MAX];
	assert_non_null(realpath(s, abs));
	char *list[] = { abs };
	static const uint8_t other[16] = { 1, 2, 3 };
	assert_int_equal(vhd_merge_marker_write(p, other, list, 1, &e), 0);
	struct vhd_tool_stats st;
	assert_int_equal(vhd_merge(c, NULL, &st, &e), -EBUSY);
	assert_non_null(strstr(e.msg, "s.vhd"));
	free(p), free(c), free(s);
	timg_rmdir(dir);
}

static void test_vhd_resize_grows_moves_blocks_refuses_shrink(void **state)
{
	(void)state;
	char *dir = timg_tmpdir(), *a = path_in(dir, "a.vhd");
	make_dynamic(a, 4u << 20, 4096); /* 1024 entries: the BAT's room is full */
	put(a, 0, 8, 0x77);
	put(a, 8184, 8, 0x78);
	struct vhd_tool_opts o = { .size_policy = VHD_SIZE_EXACT };
	struct havm_err e;
	struct vhd_tool_stats st;
	assert_int_equal(vhd_resize(a, 8u << 20, &o, &st, &e), 0);
	assert_int_equal(st.final_size, 8u << 20);
	struct blk_dev *d;
	assert_int_equal(blk_open(a, 0, &d, &e), 0);
	assert_int_equal(blk_size(d), 8u << 20);
	const struct vhd_footer *f = vhd_image_footer(blk_vhd(d));
	assert_int_equal(f->original_size, f->current_size);
	assert_int_equal(vhd_image_header(blk_vhd(d))->max_table_entries, 2048);
	assert_int_equal(blk_close(d), 0);
	assert_int_equal(get(a, 0), 0x77);
	assert_int_equal(get(a, 8184), 0x78);
	assert_int_equal(get(a, 9000), 0);
	struct vhd_check_report r;
	assert_int_equal(vhd_check(a, 0, &r, &e), 0);
	assert_int_equal(r.errors, 0);
	vhd_check_report_free(&r);
	assert_int_equal(vhd_resize(a, 4u << 20, &o, &st, &e), -EINVAL);
	assert_int_equal(e.kind, HAVM_E_UNSUPPORTED);
	free(a);
	timg_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhd_convert_dynamic_to_raw_and_back_skips_zero_blocks),
		cmocka_unit_test(test_vhd_compact_drops_zero_blocks_and_keeps_uuid),
		cmocka_unit_test(test_vhd_merge_refuses_siblings_then_merges),
		cmocka_unit_test(test_vhd_merge_rerun_adopts_the_grandchild_it_repointed),
		cmocka_unit_test(test_vhd_merge_marker_of_another_child_hides_no_sibling),
		cmocka_unit_test(test_vhd_resize_grows_moves_blocks_refuses_shrink),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
