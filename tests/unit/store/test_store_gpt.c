/* iscsi/store_gpt.c (through store.h) on an image file acting as a LUN:
 * objects as partitions, regions bounded by their partition, whole-file
 * replace, a VHD living in a region with its footer at the region's end,
 * a .vsv written through the writer's sink, repair of a bad copy, foreign
 * partitions left alone, rename, the write generation. */
#include "store_fixture.h"

#include <sys/wait.h>
#include <unistd.h>

#include "common/fault.h"
#include "iscsi/gpt.h"
#include "vmcore/disk/vhd.h"
#include "vmcore/vsv/vsv.h"

#define IMG (64u << 20)

static int setup(void **state)
{
	struct sfx *f = calloc(1, sizeof(*f));
	sfx_init(f, 1, IMG);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	sfx_fini(*state);
	free(*state);
	return 0;
}

static void test_store_gpt_empty_after_format(void **state)
{
	struct sfx *f = *state;
	struct store *s = sfx_open(f, 0);
	struct store_obj *o;
	size_t n;
	assert_int_equal(store_list(s, &o, &n, NULL), 0);
	assert_int_equal(n, 0);
	free(o);
	struct store_df d;
	assert_int_equal(store_df(s, &d, NULL), 0);
	assert_int_equal(d.total, (uint64_t)(IMG / 512 - 67) * 512);
	assert_int_equal(d.used, 0);
	assert_int_equal(d.max_objects, 128);
	assert_int_equal(d.largest_free, (uint64_t)(IMG / 512 - 34 + 1 - 2048) * 512);
	assert_int_equal(store_type(s), STORE_TYPE_GPT);
	assert_int_equal(store_close(s), 0);
}

static void test_store_gpt_write_read_replace_remove(void **state)
{
	struct sfx *f = *state;
	struct store *s = sfx_open(f, STORE_O_RDWR);
	struct havm_err e;
	const char *v1 = "<vm name='web1'/>\n";
	assert_int_equal(store_write_file(s, "web1.vmc", STORE_KIND_VMC, v1, strlen(v1), &e), 0);
	struct store_obj o;
	assert_int_equal(store_stat(s, "web1.vmc", &o, &e), 0);
	assert_int_equal(o.size, strlen(v1));
	assert_int_equal(o.capacity, 512);
	assert_int_equal(o.offset, 1 << 20); /* first 1 MiB boundary */
	assert_int_equal(o.kind, STORE_KIND_VMC);
	uint8_t big[3000];
	sfx_fill(big, sizeof(big), 7);
	assert_int_equal(store_write_file(s, "web1.vmc", STORE_KIND_VMC, big, sizeof(big), &e), 0);
	assert_int_equal(store_close(s), 0);

	s = sfx_open(f, STORE_O_RDWR);
	void *buf;
	size_t len;
	assert_int_equal(store_read_file(s, "web1.vmc", 1 << 20, &buf, &len, &e), 0);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(buf, big, sizeof(big));
	free(buf);
	assert_int_equal(store_read_file(s, "web1.vmc", 100, &buf, &len, &e), -EFBIG);
	assert_int_equal(store_stat(s, "web1.vmc", &o, &e), 0);
	assert_int_equal(o.offset, 2 << 20); /* the replacement went to free space */
	assert_int_equal(store_remove(s, "web1.vmc", &e), 0);
	assert_int_equal(store_stat(s, "web1.vmc", &o, &e), -ENOENT);
	assert_int_equal(e.kind, HAVM_E_NOTFOUND);
	assert_int_equal(store_remove(s, "web1.vmc", &e), -ENOENT);
	assert_int_equal(store_close(s), 0);
}

static void test_store_gpt_bad_names_kinds_and_sizes(void **state)
{
	struct sfx *f = *state;
	struct store *s = sfx_open(f, STORE_O_RDWR);
	struct havm_err e;
	assert_int_equal(store_create_region(s, "../x.vhd", STORE_KIND_VHD, 4096, &e), -EINVAL);
	assert_string_equal(e.msg, "object name '../x.vhd' starts with '.'");
	assert_int_equal(store_create_region(s, "a/b.vhd", STORE_KIND_VHD, 4096, &e), -EINVAL);
	assert_string_equal(e.msg, "object name 'a/b.vhd': character 2 is not one of A-Z a-z 0-9 . _ -");
	assert_int_equal(store_create_region(s, "disk.img", STORE_KIND_VHD, 4096, &e), -EINVAL);
	assert_string_equal(e.msg, "object name 'disk.img' must end in .vhd for kind vhd");
	assert_int_equal(store_create_region(s, "0123456789012345678901234567890123456", STORE_KIND_OTHER, 1, &e),
			 -EINVAL);
	assert_int_equal(store_create_region(s, "huge.vhd", STORE_KIND_VHD, IMG, &e), -ENOSPC);
	assert_int_equal(e.kind, HAVM_E_STATE);
	assert_int_equal(store_create_region(s, "d.vhd", STORE_KIND_VHD, 1 << 20, &e), 0);
	assert_int_equal(store_create_region(s, "d.vhd", STORE_KIND_VHD, 1 << 20, &e), -EEXIST);
	assert_int_equal(store_close(s), 0);
	/* Read-only handles refuse changes. */
	s = sfx_open(f, 0);
	assert_int_equal(store_remove(s, "d.vhd", &e), -EROFS);
	assert_int_equal(e.kind, HAVM_E_STATE);
	struct blk_backend *be;
	assert_int_equal(store_open_region(s, "d.vhd", BLK_O_RDWR, &be, &e), -EROFS);
	assert_int_equal(store_close(s), 0);
}

static void test_store_gpt_region_is_bounded_and_outlives_the_handle(void **state)
{
	struct sfx *f = *state;
	struct store *s = sfx_open(f, STORE_O_RDWR);
	assert_int_equal(store_create_region(s, "a.vhd", STORE_KIND_VHD, 1 << 20, NULL), 0);
	assert_int_equal(store_create_region(s, "b.vhd", STORE_KIND_VHD, 1 << 20, NULL), 0);
	struct blk_backend *a, *b;
	assert_int_equal(store_open_region(s, "a.vhd", BLK_O_RDWR, &a, NULL), 0);
	assert_int_equal(store_open_region(s, "b.vhd", BLK_O_RDWR, &b, NULL), 0);
	assert_int_equal(store_close(s), 0); /* regions keep the device */
	assert_int_equal(a->ops->size(a), 1 << 20);
	assert_int_equal(a->caps & BLK_BE_CAP_RESIZE, 0);
	uint8_t x[512];
	memset(x, 0xab, sizeof(x));
	assert_int_equal(blk_backend_pwrite(a, x, sizeof(x), (1 << 20) - 512), 0);
	assert_int_equal(blk_backend_pwrite(a, x, sizeof(x), (1 << 20) - 256), -ENOSPC);
	uint8_t y[512];
	assert_int_equal(blk_backend_pread(b, y, sizeof(y), 0), 0);
	assert_int_equal(y[0], 0); /* a's last sector did not reach b */
	assert_int_equal(blk_backend_close(a), 0);
	assert_int_equal(blk_backend_close(b), 0);
}

static void test_store_gpt_vhd_in_region_keeps_footer_at_the_end(void **state)
{
	struct sfx *f = *state;
	struct store *s = sfx_open(f, STORE_O_RDWR);
	struct havm_err e;
	const uint64_t cap = 8u << 20;
	assert_int_equal(store_create_region(s, "d.vhd", STORE_KIND_VHD, cap, &e), 0);
	struct blk_backend *be;
	assert_int_equal(store_open_region(s, "d.vhd", BLK_O_RDWR, &be, &e), 0);
	struct vhd_create_opts o = { .type = VHD_TYPE_DYNAMIC, .size = 32u << 20, .size_policy = VHD_SIZE_EXACT };
	if (vhd_create_backend(be, &o, NULL, NULL, &e) != 0)
		fail_msg("%s", e.msg);
	struct blk_dev *d;
	if (blk_open_backend(be, BLK_O_RDWR, &d, &e) != 0)
		fail_msg("%s", e.msg);
	uint8_t w[4096];
	sfx_fill(w, sizeof(w), 3);
	assert_int_equal(blk_write(d, 12345, w, 8), 0);
	assert_int_equal(blk_close(d), 0);
	assert_int_equal(store_close(s), 0);
	/* The footer is at the region's last sector, inside the image file. */
	struct store_obj so;
	s = sfx_open(f, 0);
	assert_int_equal(store_stat(s, "d.vhd", &so, &e), 0);
	FILE *fp = fopen(f->img, "rb");
	char cookie[8];
	assert_int_equal(fseeko(fp, (off_t)(so.offset + cap - 512), SEEK_SET), 0);
	assert_int_equal(fread(cookie, 1, 8, fp), 8);
	fclose(fp);
	assert_memory_equal(cookie, "conectix", 8);
	assert_int_equal(store_open_region(s, "d.vhd", 0, &be, &e), 0);
	assert_int_equal(blk_open_backend(be, 0, &d, &e), 0);
	assert_int_equal(blk_format(d), BLK_FMT_VHD_DYNAMIC);
	uint8_t r[4096];
	assert_int_equal(blk_read(d, 12345, r, 8), 0);
	assert_memory_equal(r, w, sizeof(w));
	assert_int_equal(blk_close(d), 0);
	assert_int_equal(store_close(s), 0);
}

struct counting_sink {
	struct store_replace *r;
	uint64_t bytes;
};

static int counting_write(void *opaque, const void *buf, size_t len)
{
	struct counting_sink *c = opaque;
	c->bytes += len;
	return store_replace_sink(c->r, buf, len);
}

static void test_store_gpt_vsv_through_the_writer_sink(void **state)
{
	struct sfx *f = *state;
	struct store *s = sfx_open(f, STORE_O_RDWR);
	struct havm_err e;
	struct vsv_machine_desc desc = { .ram_size = 16 * 4096 };
	snprintf(desc.cpu_model, sizeof(desc.cpu_model), "test");
	assert_int_equal(vsv_desc_add_device(&desc, "uart", 0, 1), 0);
	struct store_replace *r;
	assert_int_equal(store_replace_begin(s, "web1.vsv", STORE_KIND_VSV, 0, &r, &e), 0);
	struct store_replace *r2;
	assert_int_equal(store_replace_begin(s, "x.vsv", STORE_KIND_VSV, 0, &r2, &e), -EBUSY);
	struct vsv_writer *w;
	struct counting_sink cs = { .r = r };
	if (vsv_writer_open_sink(counting_write, &cs, "store:web1.vsv", &desc, &w, &e) != 0)
		fail_msg("%s", e.msg);
	uint8_t ram[16 * 4096];
	sfx_fill(ram, sizeof(ram), 9);
	assert_int_equal(vsv_section_begin(w, "uart", 0, 1, &e), 0);
	assert_int_equal(vsv_section_write(w, "state", 5), 0);
	assert_int_equal(vsv_section_end(w, &e), 0);
	assert_true(vsv_ram_pass(w, ram, sizeof(ram), NULL, &e) >= 0);
	assert_int_equal(vsv_writer_commit(w, &e), 0);
	uint64_t size = cs.bytes;
	assert_int_equal(store_replace_commit(r, &e), 0);
	void *buf;
	size_t len;
	assert_int_equal(store_read_file(s, "web1.vsv", 1 << 20, &buf, &len, &e), 0);
	assert_int_equal(len, size); /* exact length, not the partition's */
	struct vsv_reader *rd;
	if (vsv_reader_open_mem(buf, len, "web1.vsv", &desc, &rd, &e) != 0)
		fail_msg("%s", e.msg);
	vsv_reader_close(rd);
	free(buf);
	assert_int_equal(store_close(s), 0);
}

static void test_store_gpt_open_repairs_a_bad_primary(void **state)
{
	struct sfx *f = *state;
	struct store *s = sfx_open(f, STORE_O_RDWR);
	assert_int_equal(store_write_file(s, "a.vmc", STORE_KIND_VMC, "x", 1, NULL), 0);
	assert_int_equal(store_close(s), 0);
	int fd = open(f->img, O_RDWR | O_CLOEXEC);
	assert_int_equal(pwrite(fd, "JUNK", 4, 512), 4);
	close(fd);
	struct blk_backend *be;
	struct gpt_table t;
	assert_int_equal(blk_backend_file_open(f->img, 0, &be, NULL), 0);
	assert_int_equal(gpt_read(be, &t, NULL), GPT_BACKUP_OK);
	assert_int_equal(blk_backend_close(be), 0);
	s = sfx_open(f, 0); /* read-only: reads the backup, writes nothing */
	struct store_obj o;
	assert_int_equal(store_stat(s, "a.vmc", &o, NULL), 0);
	assert_int_equal(store_close(s), 0);
	assert_int_equal(blk_backend_file_open(f->img, 0, &be, NULL), 0);
	assert_int_equal(gpt_read(be, &t, NULL), GPT_BACKUP_OK);
	assert_int_equal(blk_backend_close(be), 0);
	s = sfx_open(f, STORE_O_RDWR); /* read-write: repairs */
	assert_int_equal(store_close(s), 0);
	assert_int_equal(blk_backend_file_open(f->img, 0, &be, NULL), 0);
	assert_int_equal(gpt_read(be, &t, NULL), GPT_PRIMARY_OK | GPT_BACKUP_OK);
	assert_int_equal(blk_backend_close(be), 0);
}

static void test_store_gpt_foreign_partitions_are_kept_and_avoided(void **state)
{
	struct sfx *f = *state;
	struct blk_backend *be;
	struct gpt_table t;
	assert_int_equal(blk_backend_file_open(f->img, BLK_O_RDWR, &be, NULL), 0);
	assert_true(gpt_read(be, &t, NULL) > 0);
	assert_int_equal(gpt_guid_parse("0fc63daf-8483-4772-8e79-3d69d8477de4", t.part[0].type), 0);
	t.part[0].first_lba = 2048;
	t.part[0].last_lba = 4095;
	snprintf(t.part[0].name, sizeof(t.part[0].name), "linux data");
	assert_int_equal(gpt_write(be, &t, false, NULL), 0);
	assert_int_equal(blk_backend_close(be), 0);
	struct store *s = sfx_open(f, STORE_O_RDWR);
	struct store_obj *o;
	size_t n;
	assert_int_equal(store_list(s, &o, &n, NULL), 0);
	assert_int_equal(n, 0);
	free(o);
	assert_int_equal(store_write_file(s, "a.vmc", STORE_KIND_VMC, "x", 1, NULL), 0);
	struct store_obj so;
	assert_int_equal(store_stat(s, "a.vmc", &so, NULL), 0);
	assert_int_equal(so.offset, 4096u * 512);
	struct store_df d;
	assert_int_equal(store_df(s, &d, NULL), 0);
	assert_int_equal(d.used, 2048u * 512 + 512);
	assert_int_equal(d.objects, 1);
	assert_int_equal(store_close(s), 0);
	assert_int_equal(blk_backend_file_open(f->img, 0, &be, NULL), 0);
	assert_true(gpt_read(be, &t, NULL) > 0);
	assert_string_equal(t.part[0].name, "linux data");
	assert_int_equal(blk_backend_close(be), 0);
}

static void test_store_gpt_format_refuses_a_used_table_without_force(void **state)
{
	struct sfx *f = *state;
	struct store *s = sfx_open(f, STORE_O_RDWR);
	assert_int_equal(store_write_file(s, "a.vmc", STORE_KIND_VMC, "x", 1, NULL), 0);
	assert_int_equal(store_close(s), 0);
	struct havm_err e;
	assert_int_equal(store_format(f->url, 0, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "holds a GPT with 1 partitions"));
	assert_int_equal(store_format(f->url, 1, &e), 0);
	s = sfx_open(f, 0);
	struct store_obj o;
	assert_int_equal(store_stat(s, "a.vmc", &o, NULL), -ENOENT);
	assert_int_equal(store_close(s), 0);
}

static void test_store_gpt_not_a_store_is_a_format_error(void **state)
{
	struct sfx *f = *state;
	int fd = open(f->img, O_RDWR | O_CLOEXEC);
	uint8_t z[512] = { 0 };
	assert_int_equal(pwrite(fd, z, 512, 512), 512);
	assert_int_equal(pwrite(fd, z, 512, IMG - 512), 512);
	close(fd);
	struct store *s;
	struct havm_err e;
	assert_int_equal(store_open(f->url, 0, &s, &e), -EINVAL);
	assert_int_equal(e.kind, HAVM_E_FORMAT);
	assert_non_null(strstr(e.msg, "no valid GPT: primary: no \"EFI PART\" signature at LBA 1"));
	assert_int_equal(store_open("iscsi-ish://x", 0, &s, &e), -EINVAL);
	assert_int_equal(e.kind, HAVM_E_CONFIG);
}

/* A table write that fails half-way (after the primary copy): commit says
 * so, the handle refuses further changes, and a reopen finds the new table
 * and repairs the backup. */
static void test_store_gpt_failed_table_write_poisons_the_handle(void **state)
{
	struct sfx *f = *state;
	struct store *s = sfx_open(f, STORE_O_RDWR);
	struct havm_err e;
	assert_int_equal(store_write_file(s, "a.vmc", STORE_KIND_VMC, "old", 3, &e), 0);
	/* The 2nd table write of the replace: the 1st takes the extent (its
	 * pending entry), the 2nd points the object at it. */
	havm_fault_arm("gpt.backup_array", 2, HAVM_FAULT_FAIL);
	assert_int_equal(store_write_file(s, "a.vmc", STORE_KIND_VMC, "new!", 4, &e), -EIO);
	havm_fault_disarm();
	assert_int_equal(e.kind, HAVM_E_IO);
	assert_non_null(strstr(e.msg, "table not updated (reopen the store)"));
	assert_int_equal(store_create_region(s, "b.vhd", STORE_KIND_VHD, 4096, &e), -EIO);
	assert_non_null(strstr(e.msg, "reopen the store"));
	assert_int_equal(store_close(s), 0);
	struct blk_backend *be;
	struct gpt_table t;
	assert_int_equal(blk_backend_file_open(f->img, 0, &be, NULL), 0);
	/* The backup array landed, its header did not: only the primary is good. */
	assert_int_equal(gpt_read(be, &t, NULL), GPT_PRIMARY_OK);
	assert_int_equal(blk_backend_close(be), 0);
	s = sfx_open(f, STORE_O_RDWR);
	void *buf;
	size_t len;
	assert_int_equal(store_read_file(s, "a.vmc", 100, &buf, &len, &e), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "new!", 4);
	free(buf);
	assert_int_equal(store_close(s), 0);
	assert_int_equal(blk_backend_file_open(f->img, 0, &be, NULL), 0);
	assert_int_equal(gpt_read(be, &t, NULL), GPT_PRIMARY_OK | GPT_BACKUP_OK);
	assert_int_equal(blk_backend_close(be), 0);
}

/* A differencing child in one region over its parent in another: the
 * child's header names the parent object; reads fall through to it,
 * writes stay in the child. */
static void test_store_gpt_differencing_child_over_a_parent_object(void **state)
{
	struct sfx *f = *state;
	struct store *s = sfx_open(f, STORE_O_RDWR);
	struct havm_err e;
	assert_int_equal(store_create_region(s, "base.vhd", STORE_KIND_VHD, 12u << 20, &e), 0);
	struct blk_backend *be;
	assert_int_equal(store_open_region(s, "base.vhd", BLK_O_RDWR, &be, &e), 0);
	struct vhd_create_opts o = { .type = VHD_TYPE_DYNAMIC, .size = 8u << 20, .size_policy = VHD_SIZE_EXACT };
	assert_int_equal(vhd_create_backend(be, &o, NULL, NULL, &e), 0);
	struct blk_dev *d;
	assert_int_equal(blk_open_backend(be, BLK_O_RDWR, &d, &e), 0);
	uint8_t a[512], b[512], r[512];
	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	assert_int_equal(blk_write(d, 10, a, 1), 0);
	assert_int_equal(blk_write(d, 5000, a, 1), 0);
	assert_int_equal(blk_close(d), 0);
	if (store_create_child(s, "base.vhd", "web1.vhd", 0, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(store_create_child(s, "base.vhd", "web1.vhd", 0, &e), -EEXIST);
	assert_int_equal(store_create_child(s, "nope.vhd", "x.vhd", 0, &e), -ENOENT);
	if (store_open_disk(s, "web1.vhd", BLK_O_RDWR, &d, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(blk_format(d), BLK_FMT_VHD_DIFF);
	assert_non_null(blk_parent(d));
	assert_int_equal(blk_write(d, 5000, b, 1), 0);
	assert_int_equal(blk_close(d), 0);
	assert_int_equal(store_close(s), 0);

	s = sfx_open(f, 0);
	assert_int_equal(store_open_disk(s, "web1.vhd", 0, &d, &e), 0);
	assert_int_equal(blk_read(d, 10, r, 1), 0);
	assert_memory_equal(r, a, 512); /* from the parent */
	assert_int_equal(blk_read(d, 5000, r, 1), 0);
	assert_memory_equal(r, b, 512); /* the child's own */
	assert_int_equal(blk_close(d), 0);
	assert_int_equal(store_open_disk(s, "base.vhd", 0, &d, &e), 0);
	assert_int_equal(blk_read(d, 5000, r, 1), 0);
	assert_memory_equal(r, a, 512); /* the parent is untouched */
	assert_int_equal(blk_close(d), 0);
	assert_int_equal(store_close(s), 0);
}
static void test_store_gpt_rename_replaces_the_target_and_takes_its_kind(void **state)
{
	struct sfx *f = *state;
	struct store *s = sfx_open(f, STORE_O_RDWR);
	struct havm_err e;
	assert_int_equal(store_write_file(s, "web1.vsv", STORE_KIND_VSV, "new", 3, &e), 0);
	assert_int_equal(store_write_file(s, "web1.vsv.consumed", STORE_KIND_OTHER, "older", 5, &e), 0);
	assert_int_equal(store_rename(s, "web1.vsv", "web1.vsv.consumed", &e), 0);
	struct store_obj o;
	assert_int_equal(store_stat(s, "web1.vsv", &o, &e), -ENOENT);
	assert_int_equal(store_stat(s, "web1.vsv.consumed", &o, &e), 0);
	assert_int_equal(o.kind, STORE_KIND_OTHER);
	assert_int_equal(store_close(s), 0);
	s = sfx_open(f, 0); /* from the disk */
	void *buf;
	size_t len;
	assert_int_equal(store_read_file(s, "web1.vsv.consumed", 100, &buf, &len, &e), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "new", 3);
	free(buf);
	struct store_obj *all;
	size_t n;
	assert_int_equal(store_list(s, &all, &n, &e), 0);
	assert_int_equal(n, 1);
	free(all);
	assert_int_equal(store_rename(s, "web1.vsv.consumed", "x.vsv", &e), -EROFS);
	assert_int_equal(store_close(s), 0);
	s = sfx_open(f, STORE_O_RDWR);
	assert_int_equal(store_rename(s, "nope.vsv", "x.vsv", &e), -ENOENT);
	assert_int_equal(e.kind, HAVM_E_NOTFOUND);
	assert_int_equal(store_close(s), 0);
}

static uint64_t gen_of(struct store *s, const char *name)
{
	uint64_t g = 0;
	struct havm_err e;
	assert_int_equal(store_generation(s, name, &g, &e), 0);
	return g;
}

static void test_store_gpt_generation_moves_on_the_first_write_after_open_or_a_read(void **state)
{
	struct sfx *f = *state;
	struct store *h1 = sfx_open(f, STORE_O_RDWR), *h2 = sfx_open(f, STORE_O_RDWR);
	struct havm_err e;
	assert_int_equal(store_create_region(h1, "d.vhd", STORE_KIND_VHD, 1 << 20, &e), 0);
	uint64_t g0 = gen_of(h2, "d.vhd");
	struct blk_backend *be;
	assert_int_equal(store_open_region(h1, "d.vhd", BLK_O_RDWR, &be, &e), 0);
	assert_int_equal(gen_of(h2, "d.vhd"), g0); /* opening writes nothing */
	uint8_t sec[512];
	sfx_fill(sec, sizeof(sec), 3);
	assert_int_equal(blk_backend_pwrite(be, sec, 512, 0), 0);
	uint64_t g1 = gen_of(h2, "d.vhd");
	assert_true(g1 != g0); /* the first write after open */
	assert_int_equal(blk_backend_pwrite(be, sec, 512, 512), 0);
	assert_int_equal(gen_of(h2, "d.vhd"), g1); /* no read on h1 since: no bump */
	assert_int_equal(gen_of(h1, "d.vhd"), g1); /* a read (a save) arms it */
	/* Meanwhile another process adds an object: the bump keeps it. */
	assert_int_equal(store_write_file(h2, "other.vmc", STORE_KIND_VMC, "x", 1, &e), 0);
	assert_int_equal(blk_backend_pwrite(be, sec, 512, 1024), 0);
	uint64_t g2 = gen_of(h2, "d.vhd");
	assert_true(g2 != g1);
	struct store_obj o;
	assert_int_equal(store_stat(h2, "other.vmc", &o, &e), 0);
	/* An explicit bump (vmm before the guest runs) quiets the next write. */
	assert_int_equal(gen_of(h1, "d.vhd"), g2);
	assert_int_equal(store_bump_generation(h1, "d.vhd", &e), 0);
	uint64_t g3 = gen_of(h2, "d.vhd");
	assert_true(g3 != g2);
	assert_int_equal(blk_backend_pwrite(be, sec, 512, 0), 0);
	assert_int_equal(gen_of(h2, "d.vhd"), g3);
	/* A bump that cannot be made fails the write: nothing lands unbumped. */
	assert_int_equal(gen_of(h1, "d.vhd"), g3);
	havm_fault_arm("store.generation_bump", 1, HAVM_FAULT_FAIL);
	uint8_t other[512];
	sfx_fill(other, sizeof(other), 9);
	assert_true(blk_backend_pwrite(be, other, 512, 0) < 0);
	havm_fault_disarm();
	uint8_t back[512];
	assert_int_equal(blk_backend_pread(be, back, 512, 0), 0);
	assert_memory_equal(back, sec, 512);
	assert_int_equal(blk_backend_close(be), 0);
	assert_int_equal(store_close(h1), 0);
	assert_int_equal(store_close(h2), 0);
}
/* Two writers (processes, or nodes) replacing objects at once: each
 * replace takes its extent in the table (a pending entry) before writing,
 * so the other never allocates it; a writer that died leaves its pending
 * entry, which the next replace of the same object drops. */
static void test_store_gpt_concurrent_replaces_get_disjoint_extents(void **state)
{
	struct sfx *f = *state;
	struct store *h1 = sfx_open(f, STORE_O_RDWR), *h2 = sfx_open(f, STORE_O_RDWR);
	struct havm_err e;
	struct store_replace *r1, *r2;
	assert_int_equal(store_replace_begin(h1, "a.vsv", STORE_KIND_VSV, 1 << 20, &r1, &e), 0);
	assert_int_equal(store_replace_begin(h2, "b.vsv", STORE_KIND_VSV, 1 << 20, &r2, &e), 0);
	static uint8_t pa[300000], pb[300000];
	sfx_fill(pa, sizeof(pa), 1);
	sfx_fill(pb, sizeof(pb), 2);
	for (size_t off = 0; off < sizeof(pa); off += 50000) {
		assert_int_equal(store_replace_write(r1, pa + off, 50000), 0);
		assert_int_equal(store_replace_write(r2, pb + off, 50000), 0);
	}
	struct store_obj *o;
	size_t n;
	assert_int_equal(store_list(h1, &o, &n, &e), 0);
	assert_int_equal(n, 0); /* pending entries are not objects */
	free(o);
	assert_int_equal(store_replace_commit(r2, &e), 0);
	assert_int_equal(store_replace_commit(r1, &e), 0);
	void *buf;
	size_t len;
	assert_int_equal(store_read_file(h2, "a.vsv", 1 << 20, &buf, &len, &e), 0);
	assert_int_equal(len, sizeof(pa));
	assert_memory_equal(buf, pa, sizeof(pa));
	free(buf);
	assert_int_equal(store_read_file(h1, "b.vsv", 1 << 20, &buf, &len, &e), 0);
	assert_int_equal(len, sizeof(pb));
	assert_memory_equal(buf, pb, sizeof(pb));
	free(buf);
	struct store_df d0, d1, d2;
	assert_int_equal(store_df(h1, &d0, &e), 0);

	/* A writer dies between begin and commit. */
	pid_t pid = fork();
	if (pid == 0) {
		struct store *c = sfx_open(f, STORE_O_RDWR);
		struct store_replace *rc;
		if (store_replace_begin(c, "a.vsv", STORE_KIND_VSV, 1 << 20, &rc, NULL) < 0 ||
		    store_replace_write(rc, pb, 4096) < 0)
			_exit(1);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(store_df(h1, &d1, &e), 0);
	assert_true(d1.used > d0.used); /* its extent stays taken */
	assert_int_equal(d1.objects, 2);
	assert_int_equal(store_read_file(h1, "a.vsv", 1 << 20, &buf, &len, &e), 0);
	assert_memory_equal(buf, pa, sizeof(pa)); /* the old object is intact */
	free(buf);
	assert_int_equal(store_write_file(h1, "a.vsv", STORE_KIND_VSV, pb, 1000, &e), 0);
	assert_int_equal(store_df(h1, &d2, &e), 0);
	assert_true(d2.used < d1.used); /* the dead writer's extent is free again */
	assert_int_equal(store_close(h1), 0);
	assert_int_equal(store_close(h2), 0);
}
/* Two processes of one node changing the table at full speed: each change
 * re-reads, edits and rewrites the whole table under this node's lock
 * (store_lock.c), so none is lost. */
static void test_store_gpt_two_processes_changing_the_table_lose_nothing(void **state)
{
	struct sfx *f = *state;
	enum { N = 20 };
	pid_t pid = fork();
	if (pid == 0) {
		struct store *c = sfx_open(f, STORE_O_RDWR);
		for (int i = 0; i < N; i++) {
			char name[32];
			snprintf(name, sizeof(name), "c%d.vmc", i);
			if (store_write_file(c, name, STORE_KIND_VMC, "c", 1, NULL) < 0)
				_exit(1);
		}
		_exit(store_close(c) < 0);
	}
	struct store *h = sfx_open(f, STORE_O_RDWR);
	struct havm_err e;
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof(name), "p%d.vmc", i);
		assert_int_equal(store_write_file(h, name, STORE_KIND_VMC, "p", 1, &e), 0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	struct store_obj *o;
	size_t n;
	assert_int_equal(store_list(h, &o, &n, &e), 0);
	assert_int_equal(n, 2 * N);
	free(o);
	assert_int_equal(store_close(h), 0);
}

int main(void)
{
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_store_gpt_empty_after_format),
		T(test_store_gpt_write_read_replace_remove),
		T(test_store_gpt_bad_names_kinds_and_sizes),
		T(test_store_gpt_region_is_bounded_and_outlives_the_handle),
		T(test_store_gpt_vhd_in_region_keeps_footer_at_the_end),
		T(test_store_gpt_vsv_through_the_writer_sink),
		T(test_store_gpt_open_repairs_a_bad_primary),
		T(test_store_gpt_foreign_partitions_are_kept_and_avoided),
		T(test_store_gpt_format_refuses_a_used_table_without_force),
		T(test_store_gpt_not_a_store_is_a_format_error),
		T(test_store_gpt_failed_table_write_poisons_the_handle),
		T(test_store_gpt_differencing_child_over_a_parent_object),
		T(test_store_gpt_rename_replaces_the_target_and_takes_its_kind),
		T(test_store_gpt_generation_moves_on_the_first_write_after_open_or_a_read),
		T(test_store_gpt_concurrent_replaces_get_disjoint_extents),
		T(test_store_gpt_two_processes_changing_the_table_lose_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
