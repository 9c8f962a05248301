/* havm — guest I/O on VHD images: reads through the BAT, bitmaps and the
 * parent chain; writes with crash-safe block allocation; flush in the
 * commit order data -> bitmaps -> BAT (docs/vhd.md "Allocation").
 *
 * Between flushes new blocks and bitmap bits live in memory only; the disk's
 * BAT never names a block whose data and bitmap are not durable. A crash
 * therefore loses at most writes since the last flush and leaks space. */
#define LOG_TAG HAVM_TAG_VHD
#include "vmcore/disk/vhd_int.h"

#include "common/fault.h"
#include "common/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

/* Clean bitmaps kept in memory before the cache is trimmed. */
#define BM_CACHE_MAX 4096u

static int fail(struct vhd_image *img, int rc)
{
	/* Memory may now disagree with the disk: refuse further I/O. */
	img->poisoned = 1;
	hlog(LOG_ERR, "%s: I/O error %d (%s); the disk is now refusing I/O", img->name, rc, strerror(-rc));
	return rc;
}

static int cache_init(struct vhd_image *img)
{
	if (img->bm)
		return 0;
	img->bm = calloc(img->bat_entries, sizeof(*img->bm));
	img->bm_dirty = calloc(img->bat_entries, 1);
	if (!img->bm || !img->bm_dirty)
		return -ENOMEM;
	return 0;
}

static void cache_trim(struct vhd_image *img)
{
	for (uint32_t b = 0; b < img->bat_entries; b++)
		if (img->bm[b] && !img->bm_dirty[b]) {
			free(img->bm[b]);
			img->bm[b] = NULL;
			img->bm_cached--;
		}
}

int vhd_bitmap_get(struct vhd_image *img, uint32_t blk, uint8_t **out)
{
	int rc = cache_init(img);
	if (rc < 0)
		return rc;
	if (img->bm[blk]) {
		*out = img->bm[blk];
		return 0;
	}
	if (img->bm_cached >= BM_CACHE_MAX)
		cache_trim(img);
	uint8_t *bm = malloc(img->bitmap_bytes);
	if (!bm)
		return -ENOMEM;
	rc = img->be->ops->pread(img->be, bm, img->bitmap_bytes, (uint64_t)img->bat[blk] * 512);
	if (rc < 0) {
		free(bm);
		return rc;
	}
	img->bm[blk] = bm;
	img->bm_cached++;
	*out = bm;
	return 0;
}

static int parent_read(struct vhd_image *img, uint64_t sector, uint8_t *buf, uint32_t count)
{
	if (!img->parent)
		return -ENXIO;
	uint64_t psz = blk_size(img->parent) / 512;
	uint32_t n = sector >= psz ? 0 : (uint32_t)(psz - sector < count ? psz - sector : count);
	if (n < count)
		memset(buf + (size_t)n * 512, 0, (size_t)(count - n) * 512);
	return n ? blk_read(img->parent, sector, buf, n) : 0;
}

static int read_in_block(struct vhd_image *img, uint32_t blk, uint32_t sib, uint8_t *buf, uint32_t n,
			 uint64_t sector)
{
	if (img->bat[blk] == VHD_BAT_UNUSED) {
		if (img->footer.type == VHD_TYPE_DIFF)
			return parent_read(img, sector, buf, n);
		memset(buf, 0, (size_t)n * 512); /* zero block: no I/O */
		return 0;
	}
	uint64_t data = vhd_block_data_off(img, blk);
	if (img->footer.type == VHD_TYPE_DYNAMIC)
		/* Spec: clear bits cover zeros on disk, so the bitmap is moot. */
		return img->be->ops->pread(img->be, buf, (size_t)n * 512, data + (uint64_t)sib * 512);
	uint8_t *bm;
	int rc = vhd_bitmap_get(img, blk, &bm);
	while (rc == 0 && n > 0) {
		uint32_t run = vhd_bitmap_run(bm, sib, n);
		if (vhd_bitmap_test(bm, sib))
			rc = img->be->ops->pread(img->be, buf, (size_t)run * 512, data + (uint64_t)sib * 512);
		else
			rc = parent_read(img, sector, buf, run);
		buf += (size_t)run * 512;
		sib += run, sector += run, n -= run;
	}
	return rc;
}

int vhd_io_read(struct vhd_image *img, uint64_t sector, void *vbuf, uint32_t count)
{
	uint8_t *buf = vbuf;
	if (img->poisoned)
		return -EIO;
	if (img->footer.type == VHD_TYPE_FIXED)
		return img->be->ops->pread(img->be, buf, (size_t)count * 512, sector * 512);
	while (count > 0) {
		uint32_t blk = (uint32_t)(sector / img->spb), sib = (uint32_t)(sector % img->spb);
		uint32_t n = img->spb - sib < count ? img->spb - sib : count;
		int rc = read_in_block(img, blk, sib, buf, n, sector);
		if (rc < 0)
			return rc;
		buf += (size_t)n * 512;
		sector += n, count -= n;
	}
	return 0;
}

static int zero_fill(struct vhd_image *img, uint64_t off, uint64_t len)
{
	static const uint8_t zeros[65536];
	while (len > 0) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		int rc = img->be->ops->pwrite(img->be, zeros, n, off);
		if (rc < 0)
			return rc;
		off += n, len -= n;
	}
	return 0;
}

/* Reserves space for block @blk in memory and on the backend. Nothing that
 * a reader of the on-disk BAT could see changes until flush. */
static int alloc_block(struct vhd_image *img, uint32_t blk)
{
	uint64_t start = vhd_block_place(img->next_free, img->bitmap_bytes);
	uint64_t end = start + img->bitmap_bytes + img->hdr.block_size;
	int rc;
	if (start / 512 >= VHD_BAT_UNUSED)
		return -ENOSPC; /* BAT entries are 32-bit sector numbers */
	if (img->be->caps & BLK_BE_CAP_RESIZE) {
		/* Footer at the new end first: the file always ends in a valid
		 * footer, whatever step a crash interrupts. */
		uint8_t raw[VHD_FOOTER_SIZE];
		struct vhd_footer f = img->footer;
		int64_t old_end = img->be->ops->size(img->be);
		if (old_end < 0)
			return (int)old_end;
		if (HAVM_FAULT("vhd.alloc_footer"))
			return -EIO;
		vhd_footer_encode(&f, raw);
		rc = img->be->ops->pwrite(img->be, raw, sizeof(raw), end);
		if (rc < 0)
			return rc;
		img->footer_off = end;
		if (!(img->be->caps & BLK_BE_CAP_ZERO_GROW)) {
			rc = zero_fill(img, start + img->bitmap_bytes, img->hdr.block_size);
		} else if (old_end > (int64_t)(start + img->bitmap_bytes)) {
			/* Junk past an unusable tail footer (opened via the copy
			 * at 0) may lie where the new data goes: zero it. */
			uint64_t d0 = start + img->bitmap_bytes;
			rc = zero_fill(img, d0, ((uint64_t)old_end < end ? (uint64_t)old_end : end) - d0);
		}
	} else {
		/* Fixed-size store (LUN region): the footer stays at its end and
		 * the free space may hold old data, so zero the new block. */
		if (end > img->footer_off)
			return -ENOSPC;
		if (HAVM_FAULT("vhd.alloc_zero"))
			return -EIO;
		rc = zero_fill(img, start + img->bitmap_bytes, img->hdr.block_size);
	}
	if (rc < 0)
		return rc;
	rc = cache_init(img);
	uint8_t *bm = rc < 0 ? NULL : malloc(img->bitmap_bytes);
	if (!bm)
		return -ENOMEM;
	/* Dynamic: the whole (zeroed) block is data, so the bitmap is written
	 * once. Differencing: only written sectors leave the parent. */
	memset(bm, img->footer.type == VHD_TYPE_DYNAMIC ? 0xFF : 0x00, img->bitmap_bytes);
	if (img->bm[blk]) {
		free(img->bm[blk]);
		img->bm_cached--;
	}
	img->bm[blk] = bm;
	img->bm_cached++;
	img->bm_dirty[blk] = 1;
	img->bat[blk] = (uint32_t)(start / 512);
	img->bat_dirty[blk / 128] = 1;
	img->meta_dirty = 1;
	img->next_free = end;
	return 0;
}

static int parent_is_zero(struct vhd_image *img, uint64_t sector, uint32_t n)
{
	if (img->footer.type != VHD_TYPE_DIFF)
		return 1;
	uint8_t tmp[64 * 512];
	while (n > 0) {
		uint32_t k = n < 64 ? n : 64;
		int rc = parent_read(img, sector, tmp, k);
		if (rc < 0)
			return rc;
		if (!vhd_is_zero(tmp, (size_t)k * 512))
			return 0;
		sector += k, n -= k;
	}
	return 1;
}

static int write_in_block(struct vhd_image *img, uint32_t blk, uint32_t sib, const uint8_t *buf, uint32_t n,
			  uint64_t sector)
{
	int rc;
	if (img->bat[blk] == VHD_BAT_UNUSED) {
		if (vhd_is_zero(buf, (size_t)n * 512)) {
			/* Zero-block optimisation: nothing to store if the
			 * sectors already read as zero. */
			rc = parent_is_zero(img, sector, n);
			if (rc < 0)
				return rc;
			if (rc == 1)
				return 0;
		}
		rc = alloc_block(img, blk);
		if (rc < 0)
			return rc == -ENOSPC ? rc : fail(img, rc);
	}
	if (HAVM_FAULT("vhd.data_write"))
		return fail(img, -EIO);
	rc = img->be->ops->pwrite(img->be, buf, (size_t)n * 512, vhd_block_data_off(img, blk) + (uint64_t)sib * 512);
	if (rc < 0)
		return fail(img, rc);
	if (img->footer.type == VHD_TYPE_DIFF) {
		uint8_t *bm;
		rc = vhd_bitmap_get(img, blk, &bm);
		if (rc < 0)
			return fail(img, rc);
		if (vhd_bitmap_set_range(bm, sib, n)) {
			img->bm_dirty[blk] = 1;
			img->meta_dirty = 1;
		}
	}
	return 0;
}

int vhd_io_write(struct vhd_image *img, uint64_t sector, const void *vbuf, uint32_t count)
{
	const uint8_t *buf = vbuf;
	if (img->poisoned)
		return -EIO;
	if (!img->rdwr)
		return -EROFS;
	if (img->footer.type == VHD_TYPE_FIXED)
		return img->be->ops->pwrite(img->be, buf, (size_t)count * 512, sector * 512);
	while (count > 0) {
		uint32_t blk = (uint32_t)(sector / img->spb), sib = (uint32_t)(sector % img->spb);
		uint32_t n = img->spb - sib < count ? img->spb - sib : count;
		int rc = write_in_block(img, blk, sib, buf, n, sector);
		if (rc < 0)
			return rc;
		buf += (size_t)n * 512;
		sector += n, count -= n;
	}
	return 0;
}

static int be_flush(struct vhd_image *img, const char *fault)
{
	(void)fault; /* unused when fault points are compiled out */
	if (HAVM_FAULT(fault))
		return -EIO;
	return img->be->ops->flush(img->be);
}

/* Writes every dirty bitmap; dynamic disks never read theirs, so they are
 * dropped from memory once on disk. */
static int bitmaps_write(struct vhd_image *img)
{
	if (!img->bm)
		return 0;
	for (uint32_t b = 0; b < img->bat_entries; b++) {
		if (!img->bm_dirty[b])
			continue;
		if (img->bat[b] != VHD_BAT_UNUSED) {
			if (HAVM_FAULT("vhd.bitmap_write"))
				return -EIO;
			int rc = img->be->ops->pwrite(img->be, img->bm[b], img->bitmap_bytes, (uint64_t)img->bat[b] * 512);
			if (rc < 0)
				return rc;
		}
		img->bm_dirty[b] = 0;
		if (img->footer.type == VHD_TYPE_DYNAMIC || img->bat[b] == VHD_BAT_UNUSED) {
			free(img->bm[b]);
			img->bm[b] = NULL;
			img->bm_cached--;
		}
	}
	return 0;
}

int vhd_io_flush(struct vhd_image *img)
{
	if (img->poisoned)
		return -EIO;
	if (!img->rdwr)
		return 0;
	int rc;
	if (!img->meta_dirty) {
		rc = be_flush(img, "vhd.flush");
		return rc < 0 ? fail(img, rc) : 0;
	}
	/* 1. data and new footers durable; 2. bitmaps durable; 3. BAT: the
	 * commit point. Three barriers per flush, however many blocks. */
	rc = be_flush(img, "vhd.flush_data");
	if (rc == 0)
		rc = bitmaps_write(img);
	if (rc == 0)
		rc = be_flush(img, "vhd.flush_bitmap");
	if (rc == 0)
		rc = vhd_bat_write_dirty(img);
	if (rc == 0)
		rc = be_flush(img, "vhd.flush_bat");
	if (rc < 0)
		return fail(img, rc);
	img->meta_dirty = 0;
	return 0;
}

int vhd_io_discard(struct vhd_image *img, uint64_t sector, uint64_t count)
{
	if (img->poisoned)
		return -EIO;
	if (!img->rdwr)
		return -EROFS;
	if (img->footer.type == VHD_TYPE_FIXED) {
		if (!img->be->ops->discard)
			return 0;
		int rc = img->be->ops->discard(img->be, sector * 512, count * 512);
		return rc == -EOPNOTSUPP ? 0 : rc;
	}
	if (img->footer.type != VHD_TYPE_DYNAMIC)
		return 0; /* the parent would show through */
	uint64_t first = (sector + img->spb - 1) / img->spb, last = (sector + count) / img->spb;
	for (uint64_t b = first; b < last; b++) {
		if (img->bat[b] == VHD_BAT_UNUSED)
			continue;
		/* Unmapped at the next flush; the space leaks until compaction. */
		img->bat[b] = VHD_BAT_UNUSED;
		img->bat_dirty[b / 128] = 1;
		img->meta_dirty = 1;
	}
	return 0;
}
