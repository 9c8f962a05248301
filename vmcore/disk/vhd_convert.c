/* havm — `havm vhd convert`: the guest view of any disk (raw, fixed,
 * dynamic, or a differencing chain, which is flattened) copied into a new
 * raw, fixed or dynamic file, skipping zero runs. */
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

#define CHUNK (2u << 20) /* bytes read per step: one default block */
#define GRAIN (64u << 10) /* zero runs shorter than this are written */

static int create_dst(const char *dst, enum vhd_out_type type, uint64_t size, const struct vhd_tool_opts *o,
		      int src_is_vhd, uint64_t *final, struct havm_err *err)
{
	if (type == VHD_OUT_RAW) {
		struct blk_backend *be;
		int rc = blk_backend_file_open(dst, BLK_O_RDWR | BLK_O_CREATE, &be, err);
		if (rc == -EEXIST)
			return havm_err_set(err, HAVM_E_STATE, rc, "%s: already exists", dst);
		if (rc < 0)
			return rc;
		rc = be->ops->resize(be, size);
		int crc = blk_backend_close(be);
		if (rc == 0)
			rc = crc;
		*final = size;
		return rc < 0 ? havm_err_set(err, HAVM_E_IO, rc, "%s: sizing the raw file: %s", dst, strerror(-rc)) : 0;
	}
	struct vhd_create_opts c = {
		.type = type == VHD_OUT_FIXED ? VHD_TYPE_FIXED : VHD_TYPE_DYNAMIC,
		.size = size,
		.block_size = o->block_size,
		/* A VHD source keeps its exact size; a raw one is rounded up to
		 * a CHS-exact size like qemu-img does, unless asked not to. */
		.size_policy = src_is_vhd ? VHD_SIZE_EXACT : o->size_policy,
		.sparse = 1,
	};
	if (c.size_policy == VHD_SIZE_EXACT && size % 512)
		c.size = (size + 511) & ~(uint64_t)511;
	return vhd_create(dst, &c, final, err);
}

/* Writes the non-zero GRAIN-sized runs of @buf (@len bytes at @off). */
static int write_nonzero(struct blk_dev *d, const uint8_t *buf, size_t len, uint64_t off, uint64_t *copied)
{
	size_t i = 0;
	while (i < len) {
		size_t g = len - i < GRAIN ? len - i : GRAIN;
		if (vhd_is_zero(buf + i, g)) {
			i += g;
			continue;
		}
		size_t j = i + g;
		while (j < len) {
			size_t h = len - j < GRAIN ? len - j : GRAIN;
			if (vhd_is_zero(buf + j, h))
				break;
			j += h;
		}
		if (HAVM_FAULT("vhd.convert_write"))
			return -EIO;
		int rc = blk_write(d, (off + i) / 512, buf + i, (uint32_t)((j - i) / 512));
		if (rc < 0)
			return rc;
		*copied += j - i;
		i = j;
	}
	return 0;
}

/* Whether @len bytes at @off of @d read as zeros because no image of the
 * chain has a block there: then they need neither a read nor a zero scan. */
static int is_hole(const struct blk_dev *d, uint64_t off, uint64_t len)
{
	if (d->fmt != BLK_FMT_VHD_DYNAMIC && d->fmt != BLK_FMT_VHD_DIFF)
		return 0;
	uint64_t bs = (uint64_t)d->vhd.spb * 512;
	for (uint64_t b = off / bs; b <= (off + len - 1) / bs; b++)
		if (b < d->vhd.bat_entries && d->vhd.bat[b] != VHD_BAT_UNUSED)
			return 0;
	if (d->fmt == BLK_FMT_VHD_DIFF)
		return d->vhd.parent && is_hole(d->vhd.parent, off, len);
	return 1;
}

int vhd_copy_dev(struct blk_dev *src, struct blk_dev *dst, const struct vhd_tool_opts *o, uint64_t *copied)
{
	uint64_t size = blk_size(src) < blk_size(dst) ? blk_size(src) : blk_size(dst);
	void *mem = NULL;
	/* page aligned: an O_DIRECT output writes straight from it */
	if (posix_memalign(&mem, 4096, CHUNK) != 0)
		return -ENOMEM;
	uint8_t *buf = mem;
	int rc = 0;
	for (uint64_t off = 0; off < size && rc == 0; off += CHUNK) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		if (is_hole(src, off, n)) {
			if (o && o->progress)
				o->progress(o->progress_arg, off + n, size);
			continue;
		}
		rc = blk_read(src, off / 512, buf, (uint32_t)(n / 512));
		if (rc == 0)
			rc = write_nonzero(dst, buf, n, off, copied);
		if (rc == 0 && o && o->progress)
			o->progress(o->progress_arg, off + n, size);
	}
	free(buf);
	return rc;
}

static uint32_t count_blocks(const struct blk_dev *d)
{
	uint32_t n = 0;
	if (d->fmt == BLK_FMT_VHD_DYNAMIC || d->fmt == BLK_FMT_VHD_DIFF)
		for (uint32_t b = 0; b < d->vhd.bat_entries; b++)
			n += d->vhd.bat[b] != VHD_BAT_UNUSED;
	return n;
}

int vhd_convert(const char *src, const char *dst, enum vhd_out_type type, const struct vhd_tool_opts *o,
		struct vhd_tool_stats *st, struct havm_err *err)
{
	static const struct vhd_tool_opts none;
	struct vhd_tool_stats local = { .bytes_in = 0 };
	if (!o)
		o = &none;
	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	if (type != VHD_OUT_RAW && type != VHD_OUT_FIXED && type != VHD_OUT_DYNAMIC)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "output type %d: expected raw, fixed or dynamic",
				    (int)type);
	if (access(dst, F_OK) == 0)
		return havm_err_set(err, HAVM_E_STATE, -EEXIST, "%s: already exists", dst);
	struct blk_dev *in = NULL, *out = NULL;
	int rc = blk_open(src, 0, &in, err);
	if (rc < 0)
		return rc;
	st->bytes_in = in->be->ops->size(in->be) > 0 ? (uint64_t)in->be->ops->size(in->be) : 0;
	st->blocks_in = count_blocks(in);
	uint64_t final = 0;
	rc = create_dst(dst, type, blk_size(in), o, in->fmt != BLK_FMT_RAW, &final, err);
	if (rc < 0)
		goto out_in;
	st->final_size = final;
	/* A raw output is written O_DIRECT: 2 MiB writes need no page cache,
	 * whose allocation and dirty throttling made buffered runs on a busy
	 * machine vary by 10x; the closing fdatasync still makes it durable. */
	rc = blk_open(dst, BLK_O_RDWR | (type == VHD_OUT_RAW ? BLK_O_FORMAT_RAW | BLK_O_DIRECT : 0), &out, err);
	if (rc < 0)
		goto out_rm;
	rc = vhd_copy_dev(in, out, o, &st->bytes_copied);
	if (rc == 0)
		rc = blk_flush(out);
	st->blocks_out = count_blocks(out);
	int crc = blk_close(out);
	if (rc == 0)
		rc = crc;
	if (rc < 0) {
		havm_err_set(err, HAVM_E_IO, rc, "%s -> %s: copying: %s", src, dst, strerror(-rc));
		goto out_rm;
	}
	struct stat sb;
	if (stat(dst, &sb) == 0)
		st->bytes_out = (uint64_t)sb.st_size;
	if (havm_fsync_dir_of(dst) < 0)
		hlog(LOG_WARNING, "%s: written, but syncing its directory failed", dst);
	(void)blk_close(in);
	return 0;
out_rm:
	unlink(dst);
out_in:
	(void)blk_close(in);
	return rc;
}
