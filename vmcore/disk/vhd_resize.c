/* havm — `havm vhd resize`: grow a fixed or dynamic image, crash-safely.
 *
 * Every step leaves a file that opens (docs/vhd.md "resize"):
 *  fixed:   1. the new footer at the new end (the file grows; a hole),
 *              flush; 2. the old footer, now inside the guest area, zeroed,
 *              flush. A crash between them leaves the old footer's bytes at
 *              the old end of the disk, inside space the guest never wrote.
 *  dynamic: 1. blocks in the way of the larger BAT are moved one at a time
 *              (footer at the new end, copy, flush, BAT entry, flush: a
 *              crash leaks one copy); 2. the footer moves past the new BAT
 *              if needed (old content, flush); 3. new BAT entries 0xFF,
 *              flush; 4. header with the new entry count, flush; 5. footer
 *              with the new size at the end, flush, then the copy at 0.
 * original_size is set with current_size (libvhdi reads the original). */
#define LOG_TAG HAVM_TAG_VHD
#include "vmcore/disk/blk_int.h"

#include "common/fault.h"
#include "common/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int step(struct blk_backend *be, const char *fault)
{
	(void)fault;
	if (HAVM_FAULT(fault))
		return -EIO;
	return be->ops->flush(be);
}

static int put_footer(struct blk_backend *be, const struct vhd_footer *f, uint64_t off)
{
	uint8_t raw[VHD_FOOTER_SIZE];
	struct vhd_footer c = *f;
	vhd_footer_encode(&c, raw);
	return be->ops->pwrite(be, raw, sizeof(raw), off);
}

static int grow_fixed(struct blk_dev *d, const struct vhd_footer *nf)
{
	struct blk_backend *be = d->be;
	uint64_t old = d->vhd.footer_off;
	int rc = put_footer(be, nf, nf->current_size);
	if (rc == 0)
		rc = step(be, "vhd.resize_footer");
	if (rc == 0) {
		static const uint8_t zeros[VHD_FOOTER_SIZE];
		rc = be->ops->pwrite(be, zeros, sizeof(zeros), old);
	}
	if (rc == 0)
		rc = step(be, "vhd.resize_zero_old");
	return rc;
}

/* Moves block @b to the end of the file (see the header comment). */
static int move_block(struct vhd_image *img, uint32_t b, uint8_t *buf)
{
	struct blk_backend *be = img->be;
	uint64_t total = img->bitmap_bytes + (uint64_t)img->hdr.block_size;
	uint64_t dest = vhd_block_place(img->footer_off, img->bitmap_bytes);
	if (dest / 512 >= VHD_BAT_UNUSED)
		return -ENOSPC;
	int rc = put_footer(be, &img->footer, dest + total);
	if (rc == 0)
		rc = be->ops->pread(be, buf, total, (uint64_t)img->bat[b] * 512);
	if (rc == 0)
		rc = be->ops->pwrite(be, buf, total, dest);
	if (rc == 0)
		rc = step(be, "vhd.resize_move_copy");
	if (rc < 0)
		return rc;
	img->footer_off = dest + total;
	img->bat[b] = (uint32_t)(dest / 512);
	img->bat_dirty[b / 128] = 1;
	rc = vhd_bat_write_dirty(img);
	return rc ? rc : step(be, "vhd.resize_move_bat");
}

static int grow_dynamic(struct blk_dev *d, const struct vhd_footer *nf, struct havm_err *err)
{
	struct vhd_image *img = &d->vhd;
	struct blk_backend *be = d->be;
	uint64_t entries = (nf->current_size + img->hdr.block_size - 1) / img->hdr.block_size;
	uint64_t old_end = img->hdr.table_offset + (((uint64_t)img->hdr.max_table_entries * 4 + 511) & ~511ull);
	uint64_t new_end = img->hdr.table_offset + ((entries * 4 + 511) & ~511ull);
	uint64_t hdr0 = img->footer.data_offset;
	if (entries > img->hdr.max_table_entries && hdr0 < new_end && hdr0 + VHD_HEADER_SIZE > old_end)
		return havm_err_set(err, HAVM_E_UNSUPPORTED, -ENOSPC,
				    "%s: the dynamic header at %" PRIu64 " sits where the BAT (at %" PRIu64
				    ") must grow to %" PRIu64 " bytes; convert the disk to a new dynamic one first",
				    img->name, hdr0, img->hdr.table_offset, new_end - img->hdr.table_offset);
	uint64_t total = img->bitmap_bytes + (uint64_t)img->hdr.block_size;
	uint8_t *buf = malloc(total);
	int rc = buf ? 0 : -ENOMEM;
	for (uint32_t b = 0; b < img->bat_entries && rc == 0 && entries > img->hdr.max_table_entries; b++) {
		uint64_t s = (uint64_t)img->bat[b] * 512;
		if (img->bat[b] != VHD_BAT_UNUSED && s < new_end && s + total > old_end)
			rc = move_block(img, b, buf);
	}
	free(buf);
	if (rc == 0 && new_end > img->footer_off) {
		/* The (old) footer moves past the new BAT first. */
		rc = put_footer(be, &img->footer, new_end);
		if (rc == 0)
			rc = step(be, "vhd.resize_footer_move");
		if (rc == 0)
			img->footer_off = new_end;
	}
	if (rc == 0 && new_end > old_end) {
		uint8_t *ff = malloc(new_end - old_end);
		rc = ff ? 0 : -ENOMEM;
		if (ff) {
			memset(ff, 0xFF, new_end - old_end);
			rc = be->ops->pwrite(be, ff, new_end - old_end, old_end);
			free(ff);
		}
		if (rc == 0)
			rc = step(be, "vhd.resize_bat");
	}
	if (rc == 0 && entries > img->hdr.max_table_entries) {
		struct vhd_header h = img->hdr;
		uint8_t raw[VHD_HEADER_SIZE];
		h.max_table_entries = (uint32_t)entries;
		vhd_header_encode(&h, raw);
		rc = be->ops->pwrite(be, raw, sizeof(raw), hdr0);
		if (rc == 0)
			rc = step(be, "vhd.resize_header");
	}
	if (rc == 0)
		rc = put_footer(be, nf, img->footer_off);
	if (rc == 0)
		rc = step(be, "vhd.resize_footer");
	if (rc == 0)
		rc = put_footer(be, nf, 0);
	if (rc == 0)
		rc = step(be, "vhd.resize_copy0");
	return rc;
}

static int new_size(uint64_t size, enum vhd_size_policy pol, uint64_t *out, struct havm_err *err)
{
	if (pol == VHD_SIZE_EXACT) {
		if (size % 512)
			return havm_err_set(err, HAVM_E_CONFIG, -EINVAL,
					    "size %" PRIu64 " is not a multiple of 512 (exact size policy)", size);
		*out = size;
	} else if (vhd_chs_round_up(size, out) < 0) {
		*out = (size + 511) & ~(uint64_t)511;
	}
	return 0;
}

int vhd_resize(const char *path, uint64_t size, const struct vhd_tool_opts *o, struct vhd_tool_stats *st,
	       struct havm_err *err)
{
	static const struct vhd_tool_opts none;
	struct vhd_tool_stats local = { .bytes_in = 0 };
	struct havm_err scratch = { .code = 0 };
	o = o ? o : &none;
	st = st ? st : &local;
	err = err ? err : &scratch;
	havm_err_clear(err);
	memset(st, 0, sizeof(*st));
	uint64_t final = 0;
	int rc = new_size(size, o->size_policy, &final, err);
	if (rc < 0)
		return rc;
	struct blk_dev *d = NULL;
	rc = blk_open(path, BLK_O_RDWR | BLK_O_NO_PARENT, &d, err);
	if (rc < 0)
		return rc;
	struct vhd_image *img = &d->vhd;
	if (d->fmt == BLK_FMT_RAW)
		rc = havm_err_set(err, HAVM_E_UNSUPPORTED, -EINVAL, "%s: not a VHD (resize a raw file with truncate)", path);
	else if (d->fmt == BLK_FMT_VHD_DIFF)
		rc = havm_err_set(err, HAVM_E_UNSUPPORTED, -EINVAL,
				  "%s: a differencing disk takes its size from its parent; resize the base disk and"
				  " create a new child", path);
	else if (img->footer.saved_state)
		rc = havm_err_set(err, HAVM_E_STATE, -EBUSY,
				  "%s: footer saved state is 1 (a VM saved with this disk); the spec forbids expansion", path);
	else if (img->footer_src != VHD_FOOTER_TAIL)
		rc = havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "%s: the tail footer is damaged; run havm vhd check"
				  " --repair first", path);
	else if (final <= d->size)
		rc = havm_err_set(err, HAVM_E_UNSUPPORTED, -EINVAL,
				  "%s: new size %" PRIu64 " is not larger than the current %" PRIu64
				  " (resize only grows a disk)", path, final, d->size);
	else if (d->fmt == BLK_FMT_VHD_DYNAMIC && final > VHD_MAX_DYNAMIC_SIZE)
		rc = havm_err_set(err, HAVM_E_UNSUPPORTED, -EFBIG, "%s: size %" PRIu64
				  " is past the 2040 GiB limit of dynamic disks", path, final);
	if (rc < 0)
		goto out;
	struct vhd_footer nf = img->footer;
	nf.original_size = nf.current_size = final;
	struct vhd_chs g = vhd_chs_from_sectors(final / 512);
	nf.cylinders = g.cylinders, nf.heads = g.heads, nf.sectors = g.sectors;
	/* Our read rule sizes "vpc "/"qemu" images by CHS; the new size is in
	 * current_size, so the footer now names us as its writer. */
	memcpy(nf.creator_app, VHD_CREATOR_HAVM, 4);
	nf.creator_version = VHD_CREATOR_VERSION;
	if (d->fmt == BLK_FMT_VHD_FIXED)
		rc = grow_fixed(d, &nf);
	else
		rc = grow_dynamic(d, &nf, err);
	if (rc < 0 && !err->code)
		havm_err_set(err, HAVM_E_IO, rc, "%s: resizing: %s (the image still opens; rerun)", path, strerror(-rc));
	st->final_size = final;
out:
	(void)blk_close(d);
	return rc;
}
