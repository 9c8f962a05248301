/* vhd_io.c: zero-block optimisation (no I/O, no allocation), the flush
 * order data -> bitmap -> BAT, fixed-size stores (LUN regions) with the
 * footer at the end, differencing partial writes, discard, poisoning. */
#include "vhd_testimg.h"

#define MiB (1u << 20)

/* A recording backend over a memory buffer: logs each op as a letter
 * (r read, w write, f flush) with the offset, optionally growable. */
struct rec {
	struct blk_backend be;
	uint8_t *buf;
	size_t len, cap;
	char log[4096];
	size_t n;
	unsigned reads, writes;
	int fail_flush;
};

static int rec_pread(struct blk_backend *be, void *b, size_t len, uint64_t off)
{
	struct rec *r = (struct rec *)be;
	if (off + len > r->len)
		return -EIO;
	r->reads++;
	memcpy(b, r->buf + off, len);
	return 0;
}

static int rec_pwrite(struct blk_backend *be, const void *b, size_t len, uint64_t off)
{
	struct rec *r = (struct rec *)be;
	if (off + len > r->cap)
		return -ENOSPC;
	if (off + len > r->len) {
		if (!(be->caps & BLK_BE_CAP_RESIZE))
			return -ENOSPC;
		r->len = off + len;
	}
	r->writes++;
	memcpy(r->buf + off, b, len);
	if (r->n < sizeof(r->log) - 24)
		r->n += (size_t)snprintf(r->log + r->n, sizeof(r->log) - r->n, "w%llu ", (unsigned long long)off);
	return 0;
}

static int rec_flush(struct blk_backend *be)
{
	struct rec *r = (struct rec *)be;
	if (r->fail_flush)
		return -EIO;
	if (r->n < sizeof(r->log) - 4)
		r->n += (size_t)snprintf(r->log + r->n, sizeof(r->log) - r->n, "F ");
	return 0;
}

static int64_t rec_size(struct blk_backend *be)
{
	return (int64_t)((struct rec *)be)->len;
}

static int rec_resize(struct blk_backend *be, uint64_t size)
{
	struct rec *r = (struct rec *)be;
	if (size > r->cap)
		return -ENOSPC;
	if (size > r->len)
		memset(r->buf + r->len, 0, size - r->len);
	r->len = size;
	return 0;
}

static int rec_close(struct blk_backend *be)
{
	(void)be; /* the test owns the struct */
	return 0;
}

static const struct blk_backend_ops rec_ops = {
	.kind = "rec", .pread = rec_pread, .pwrite = rec_pwrite, .flush = rec_flush,
	.size = rec_size, .resize = rec_resize, .close = rec_close,
};

static void rec_init(struct rec *r, size_t cap, int growable, uint8_t fill)
{
	memset(r, 0, sizeof(*r));
	r->buf = timg_alloc(cap);
	memset(r->buf, fill, cap);
	r->cap = cap;
	r->len = growable ? 0 : cap;
	r->be.ops = &rec_ops;
	r->be.name = "rec";
	r->be.caps = growable ? BLK_BE_CAP_RESIZE | BLK_BE_CAP_ZERO_GROW : 0;
}

static void rec_reset_log(struct rec *r)
{
	r->n = 0, r->log[0] = '\0', r->reads = r->writes = 0;
}

static struct blk_dev *make_dynamic(struct rec *r, uint64_t size, uint32_t bs)
{
	struct vhd_create_opts o = { .type = VHD_TYPE_DYNAMIC, .size = size, .block_size = bs,
				     .size_policy = VHD_SIZE_EXACT };
	struct havm_err e;
	assert_int_equal(vhd_create_backend(&r->be, &o, NULL, NULL, &e), 0);
	struct blk_dev *d;
	assert_int_equal(blk_open_backend(&r->be, BLK_O_RDWR, &d, &e), 0);
	rec_reset_log(r);
	return d;
}

static void test_vhd_io_unallocated_read_does_no_io(void **state)
{
	(void)state;
	struct rec r;
	rec_init(&r, 8 * MiB, 1, 0);
	struct blk_dev *d = make_dynamic(&r, 4 * MiB, 0);
	uint8_t buf[4096];
	memset(buf, 0x77, sizeof(buf));
	assert_int_equal(blk_read(d, 100, buf, 8), 0);
	assert_int_equal(r.reads, 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(blk_close(d), 0);
	free(r.buf);
}

static void test_vhd_io_zero_write_to_unallocated_block_allocates_nothing(void **state)
{
	(void)state;
	struct rec r;
	rec_init(&r, 8 * MiB, 1, 0);
	struct blk_dev *d = make_dynamic(&r, 4 * MiB, 0);
	size_t len_before = r.len;
	uint8_t buf[8192] = { 0 };
	assert_int_equal(blk_write(d, 0, buf, 16), 0);
	assert_int_equal(blk_flush(d), 0);
	assert_int_equal(r.writes, 0);
	assert_int_equal(r.len, len_before);
	uint32_t n;
	const uint32_t *bat = vhd_image_bat(blk_vhd(d), &n);
	assert_int_equal(bat[0], VHD_BAT_UNUSED);
	assert_int_equal(blk_close(d), 0);
	free(r.buf);
}

static void test_vhd_io_allocation_commits_data_then_bitmap_then_bat(void **state)
{
	(void)state;
	struct rec r;
	rec_init(&r, 8 * MiB, 1, 0);
	struct blk_dev *d = make_dynamic(&r, 4 * MiB, 0);
	uint8_t buf[512];
	memset(buf, 0xEE, sizeof(buf));
	assert_int_equal(blk_write(d, 5, buf, 1), 0);
	/* Before the flush: the footer at the new end and the data only. */
	assert_int_equal(r.writes, 2);
	uint32_t n;
	const uint32_t *bat = vhd_image_bat(blk_vhd(d), &n);
	uint64_t blk0 = (uint64_t)bat[0] * 512;
	assert_int_equal((blk0 + 512) % 4096, 0); /* data 4 KiB aligned */
	uint8_t on_disk[4];
	memcpy(on_disk, r.buf + 1536, 4);
	assert_int_equal(vhd_be32(on_disk), VHD_BAT_UNUSED); /* not committed yet */
	assert_int_equal(blk_flush(d), 0);
	char want[256];
	snprintf(want, sizeof(want), "w%llu w%llu F w%llu F w1536 F ",
		 (unsigned long long)(blk0 + 512 + 2 * MiB), (unsigned long long)(blk0 + 512 + 5 * 512),
		 (unsigned long long)blk0);
	assert_string_equal(r.log, want);
	assert_int_equal(vhd_be32(r.buf + 1536), bat[0]);
	/* A second flush with nothing new: one barrier, no metadata. */
	rec_reset_log(&r);
	assert_int_equal(blk_write(d, 6, buf, 1), 0);
	assert_int_equal(blk_flush(d), 0);
	snprintf(want, sizeof(want), "w%llu F ", (unsigned long long)(blk0 + 512 + 6 * 512));
	assert_string_equal(r.log, want);
	assert_int_equal(blk_close(d), 0);
	free(r.buf);
}

static void test_vhd_io_fixed_size_store_keeps_footer_at_end_and_zeroes_blocks(void **state)
{
	(void)state;
	struct rec r;
	const size_t region = 3 * MiB;
	rec_init(&r, region, 0, 0x5A); /* stale data everywhere */
	struct blk_dev *d = make_dynamic(&r, 8 * MiB, 1 * MiB);
	uint8_t buf[512], got[512];
	memset(buf, 0x42, sizeof(buf));
	assert_int_equal(blk_write(d, 0, buf, 1), 0);
	assert_int_equal(blk_write(d, 2048, buf, 1), 0);       /* block 1 */
	assert_int_equal(blk_write(d, 4096, buf, 1), -ENOSPC); /* no room left */
	assert_int_equal(blk_flush(d), 0);
	assert_int_equal(blk_close(d), 0);
	assert_memory_equal(r.buf + region - 512, "conectix", 8);
	assert_int_equal(r.len, region);
	struct havm_err e;
	assert_int_equal(blk_open_backend(&r.be, 0, &d, &e), 0);
	assert_int_equal(blk_read(d, 0, got, 1), 0);
	assert_int_equal(got[0], 0x42);
	assert_int_equal(blk_read(d, 1, got, 1), 0);
	assert_int_equal(got[0], 0); /* zero-filled, not the stale 0x5A */
	assert_int_equal(blk_read(d, 2049, got, 1), 0);
	assert_int_equal(got[0], 0);
	assert_int_equal(blk_close(d), 0);
	free(r.buf);
}

static void test_vhd_io_other_block_sizes_round_trip(void **state)
{
	(void)state;
	for (uint32_t bs = 4096; bs <= 4 * MiB; bs <<= 2) {
		struct rec r;
		rec_init(&r, 16 * MiB, 1, 0);
		struct blk_dev *d = make_dynamic(&r, 4 * MiB, bs);
		uint8_t buf[16 * 512], got[16 * 512];
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(i * 7 + bs);
		assert_int_equal(blk_write(d, 5, buf, 16), 0); /* crosses small blocks */
		assert_int_equal(blk_close(d), 0);
		struct havm_err e;
		assert_int_equal(blk_open_backend(&r.be, 0, &d, &e), 0);
		assert_int_equal(blk_read(d, 5, got, 16), 0);
		assert_memory_equal(buf, got, sizeof(buf));
		assert_int_equal(blk_close(d), 0);
		free(r.buf);
	}
}

static void test_vhd_io_differencing_partial_write_keeps_parent_sectors(void **state)
{
	(void)state;
	struct rec pr, cr;
	rec_init(&pr, 8 * MiB, 1, 0);
	rec_init(&cr, 8 * MiB, 1, 0);
	struct blk_dev *p = make_dynamic(&pr, 2 * MiB, 0);
	uint8_t buf[8 * 512], got[8 * 512];
	memset(buf, 0xAA, sizeof(buf));
	assert_int_equal(blk_write(p, 0, buf, 8), 0);
	assert_int_equal(blk_flush(p), 0);
	struct vhd_create_opts o = { .type = VHD_TYPE_DIFF, .parent = "parent.vhd" };
	struct havm_err e;
	assert_int_equal(vhd_create_backend(&cr.be, &o, p, NULL, &e), 0);
	struct blk_dev *c;
	assert_int_equal(blk_open_backend_parent(&cr.be, p, BLK_O_RDWR, &c, &e), 0);
	memset(buf, 0xCC, 512);
	assert_int_equal(blk_write(c, 3, buf, 1), 0);
	/* An all-zero write over a parent that is not zero must store zeros. */
	memset(buf, 0, 512);
	assert_int_equal(blk_write(c, 5, buf, 1), 0);
	assert_int_equal(blk_read(c, 0, got, 8), 0);
	for (int s = 0; s < 8; s++)
		assert_int_equal(got[s * 512], s == 3 ? 0xCC : s == 5 ? 0 : 0xAA);
	/* Bitmap on disk after flush: bits 3 and 5 only. */
	assert_int_equal(blk_flush(c), 0);
	uint32_t n;
	const uint32_t *bat = vhd_image_bat(blk_vhd(c), &n);
	assert_int_equal(cr.buf[(uint64_t)bat[0] * 512], 0x14);
	assert_int_equal(blk_close(c), 0); /* closes the parent too */
	free(pr.buf);
	free(cr.buf);
}

static void test_vhd_io_discard_unmaps_whole_blocks(void **state)
{
	(void)state;
	struct rec r;
	rec_init(&r, 16 * MiB, 1, 0);
	struct blk_dev *d = make_dynamic(&r, 8 * MiB, 0);
	uint8_t buf[512], got[512];
	memset(buf, 0x99, sizeof(buf));
	assert_int_equal(blk_write(d, 10, buf, 1), 0);
	assert_int_equal(blk_write(d, 4096 + 10, buf, 1), 0);
	assert_int_equal(blk_discard(d, 0, 4096 + 20), 0); /* block 0 whole, block 1 partly */
	assert_int_equal(blk_read(d, 10, got, 1), 0);
	assert_int_equal(got[0], 0);
	assert_int_equal(blk_read(d, 4096 + 10, got, 1), 0);
	assert_int_equal(got[0], 0x99);
	assert_int_equal(blk_close(d), 0);
	free(r.buf);
}

static void test_vhd_io_failed_flush_poisons_the_device(void **state)
{
	(void)state;
	struct rec r;
	rec_init(&r, 8 * MiB, 1, 0);
	struct blk_dev *d = make_dynamic(&r, 4 * MiB, 0);
	uint8_t buf[512];
	memset(buf, 1, sizeof(buf));
	assert_int_equal(blk_write(d, 0, buf, 1), 0);
	r.fail_flush = 1;
	assert_int_equal(blk_flush(d), -EIO);
	r.fail_flush = 0;
	assert_int_equal(blk_read(d, 0, buf, 1), -EIO);
	assert_int_equal(blk_write(d, 0, buf, 1), -EIO);
	assert_int_equal(vhd_be32(r.buf + 1536), VHD_BAT_UNUSED); /* never committed */
	assert_int_equal(blk_close(d), -EIO);
	free(r.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhd_io_unallocated_read_does_no_io),
		cmocka_unit_test(test_vhd_io_zero_write_to_unallocated_block_allocates_nothing),
		cmocka_unit_test(test_vhd_io_allocation_commits_data_then_bitmap_then_bat),
		cmocka_unit_test(test_vhd_io_fixed_size_store_keeps_footer_at_end_and_zeroes_blocks),
		cmocka_unit_test(test_vhd_io_other_block_sizes_round_trip),
		cmocka_unit_test(test_vhd_io_differencing_partial_write_keeps_parent_sectors),
		cmocka_unit_test(test_vhd_io_discard_unmaps_whole_blocks),
		cmocka_unit_test(test_vhd_io_failed_flush_poisons_the_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
