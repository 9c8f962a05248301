/* havm — `havm vhd compact`: rewrite a dynamic or differencing image
 * without all-zero blocks (dynamic) or sectors equal to the parent
 * (differencing).
 *
 * Copy-to-temp, not in place (docs/vhd.md "compact"): the new image is
 * built in PATH.compact.tmp beside the old one with the same UUID and
 * parent, flushed and closed (fdatasync), then renamed over PATH and the
 * directory fsynced. The old file is never written, so a crash at any step
 * leaves the old image or the new one, both whole; a stale temp file is
 * removed by the next run. In-place compaction (VirtualBox's) needs an
 * ordered barrier per moved block and leaves the file in a mixed state a
 * reader must understand; the cost of ours is free space for the
 * compacted copy. */
#define LOG_TAG HAVM_TAG_VHD
#include "vmcore/disk/blk_int.h"

#include "common/fault.h"
#include "common/log.h"
#include "common/sys.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_source(const char *path, struct blk_dev **in, struct havm_err *err)
{
	int rc = blk_open(path, 0, in, err);
	if (rc < 0)
		return rc;
	struct blk_dev *d = *in;
	if (d->fmt != BLK_FMT_VHD_DYNAMIC && d->fmt != BLK_FMT_VHD_DIFF)
		rc = havm_err_set(err, HAVM_E_UNSUPPORTED, -EINVAL,
				  "%s: a %s disk has no blocks to drop (compact takes dynamic or differencing disks;"
				  " convert a fixed disk with --type dynamic)", path, blk_format_name(d->fmt));
	else if (d->vhd.footer.saved_state)
		rc = havm_err_set(err, HAVM_E_STATE, -EBUSY,
				  "%s: footer saved state is 1 (a VM saved with this disk); the spec forbids compaction"
				  " until it is resumed", path);
	if (rc < 0) {
		(void)blk_close(d);
		*in = NULL;
	}
	return rc;
}

static int create_like(const struct blk_dev *in, const char *tmp, struct havm_err *err)
{
	const struct vhd_image *img = &in->vhd;
	struct vhd_create_opts c = {
		.type = img->footer.type,
		.size = in->size,
		.block_size = img->hdr.block_size,
		.parent = img->parent_path,
		.size_policy = VHD_SIZE_EXACT,
		.uuid = img->footer.uuid,         /* children keep finding it */
		.timestamp = img->footer.timestamp,
	};
	return vhd_create(tmp, &c, NULL, err);
}

static int read_parent(struct blk_dev *parent, uint64_t sector, uint8_t *buf, uint32_t n)
{
	uint64_t psz = blk_size(parent) / 512;
	uint32_t k = sector >= psz ? 0 : (uint32_t)(psz - sector < n ? psz - sector : n);
	memset(buf + (size_t)k * 512, 0, (size_t)(n - k) * 512);
	return k ? blk_read(parent, sector, buf, k) : 0;
}

/* Copies block @b: dynamic, its non-zero 4 KiB runs; differencing, the
 * runs whose bitmap bit is set and whose data differs from the parent. */
static int copy_block(struct blk_dev *in, struct blk_dev *out, uint32_t b, uint8_t *buf, uint8_t *pbuf,
		      uint64_t *copied)
{
	struct vhd_image *img = &in->vhd;
	uint64_t s0 = (uint64_t)b * img->spb, total = in->size / 512;
	uint32_t n = (uint32_t)(total - s0 < img->spb ? total - s0 : img->spb);
	int rc = blk_read(in, s0, buf, n);
	if (rc < 0)
		return rc;
	uint8_t *bm = NULL;
	if (img->footer.type == VHD_TYPE_DIFF) {
		rc = vhd_bitmap_get(img, b, &bm);
		if (rc == 0)
			rc = read_parent(img->parent, s0, pbuf, n);
		if (rc < 0)
			return rc;
	}
	uint32_t pend = 0, plen = 0; /* kept sectors not yet written: one write per extent */
	for (uint32_t i = 0; i <= n;) {
		int keep = 0;
		uint32_t run = 0;
		if (i < n) {
			run = n - i < 8 ? n - i : 8; /* 4 KiB steps */
			if (bm)
				run = vhd_bitmap_run(bm, i, run);
			const uint8_t *p = buf + (size_t)i * 512;
			keep = bm ? vhd_bitmap_test(bm, i) && memcmp(p, pbuf + (size_t)i * 512, (size_t)run * 512) != 0
				  : !vhd_is_zero(p, (size_t)run * 512);
		}
		if (keep) {
			if (!plen)
				pend = i;
			plen += run;
		} else if (plen) {
			rc = blk_write(out, s0 + pend, buf + (size_t)pend * 512, plen);
			if (rc < 0)
				return rc;
			*copied += (uint64_t)plen * 512;
			plen = 0;
		}
		if (i == n)
			break;
		i += run;
	}
	return 0;
}

static uint32_t allocated(const struct vhd_image *img)
{
	uint32_t n = 0;
	for (uint32_t b = 0; b < img->bat_entries; b++)
		n += img->bat[b] != VHD_BAT_UNUSED;
	return n;
}

static int copy_all(struct blk_dev *in, struct blk_dev *out, const struct vhd_tool_opts *o,
		    struct vhd_tool_stats *st)
{
	struct vhd_image *img = &in->vhd;
	uint8_t *buf = malloc(img->hdr.block_size), *pbuf = malloc(img->hdr.block_size);
	int rc = buf && pbuf ? 0 : -ENOMEM;
	uint64_t nblocks = (in->size + img->hdr.block_size - 1) / img->hdr.block_size;
	for (uint32_t b = 0; b < nblocks && rc == 0; b++) {
		if (img->bat[b] == VHD_BAT_UNUSED)
			continue;
		if (HAVM_FAULT("vhd.compact_block"))
			rc = -EIO;
		else
			rc = copy_block(in, out, b, buf, pbuf, &st->bytes_copied);
		if (o->progress)
			o->progress(o->progress_arg, (uint64_t)(b + 1) * img->hdr.block_size,
				    nblocks * img->hdr.block_size);
	}
	free(buf);
	free(pbuf);
	return rc;
}

int vhd_compact(const char *path, const struct vhd_tool_opts *o, struct vhd_tool_stats *st,
		struct havm_err *err)
{
	static const struct vhd_tool_opts none;
	struct vhd_tool_stats local = { .bytes_in = 0 };
	o = o ? o : &none;
	st = st ? st : &local;
	memset(st, 0, sizeof(*st));
	struct blk_dev *in = NULL, *out = NULL;
	int rc = open_source(path, &in, err);
	if (rc < 0)
		return rc;
	st->bytes_in = in->vhd.file_size;
	st->blocks_in = allocated(&in->vhd);
	st->final_size = in->size;
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.compact.tmp", path);
	if (unlink(tmp) == 0)
		hlog(LOG_NOTICE, "%s: removed a stale temporary file of an interrupted compaction", tmp);
	rc = create_like(in, tmp, err);
	if (rc < 0)
		goto out;
	rc = blk_open(tmp, BLK_O_RDWR, &out, err);
	if (rc < 0)
		goto out_rm;
	rc = copy_all(in, out, o, st);
	if (rc == 0)
		rc = blk_flush(out);
	st->blocks_out = allocated(&out->vhd);
	int crc = blk_close(out);
	rc = rc ? rc : crc;
	if (rc == 0 && HAVM_FAULT("vhd.compact_rename"))
		rc = -EIO;
	if (rc < 0) {
		havm_err_set(err, HAVM_E_IO, rc, "%s: writing the compacted copy %s: %s (the image is unchanged)",
			     path, tmp, strerror(-rc));
		goto out_rm;
	}
	struct stat sb;
	if (stat(tmp, &sb) == 0)
		st->bytes_out = (uint64_t)sb.st_size;
	if (rename(tmp, path) < 0) {
		rc = havm_err_set(err, HAVM_E_IO, -errno, "%s: renaming %s over it: %s (the image is unchanged)",
				  path, tmp, strerror(errno));
		goto out_rm;
	}
	if (havm_fsync_dir_of(path) < 0)
		hlog(LOG_WARNING, "%s: compacted, but syncing its directory failed", path);
	goto out;
out_rm:
	unlink(tmp);
out:
	(void)blk_close(in);
	return rc;
}
