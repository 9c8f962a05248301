/* havm — blk_dev: probing the format, opening chains, and dispatching
 * sector I/O to raw or VHD (blk.h). */
#define LOG_TAG HAVM_TAG_BLK
#include "vmcore/disk/blk_int.h"

#include "common/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

static int range_ok(const struct blk_dev *d, uint64_t sector, uint64_t count)
{
	uint64_t total = d->size / 512;
	return sector <= total && count <= total - sector;
}

static int is_vhd(const struct blk_dev *d)
{
	return d->fmt != BLK_FMT_RAW;
}

static enum blk_format fmt_of(uint32_t type)
{
	return type == VHD_TYPE_FIXED ? BLK_FMT_VHD_FIXED
	     : type == VHD_TYPE_DYNAMIC ? BLK_FMT_VHD_DYNAMIC : BLK_FMT_VHD_DIFF;
}

/* Loads the format on @be into a new device; parents are the caller's job. */
static int dev_load(struct blk_backend *be, unsigned flags, struct blk_dev **out, struct havm_err *err)
{
	struct blk_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "%s: out of memory", be->name);
	d->be = be;
	d->rdwr = !!(flags & BLK_O_RDWR);
	int rc = (flags & BLK_O_FORMAT_RAW) ? 0 : vhd_probe(be);
	if (rc < 0) {
		free(d);
		return havm_err_set(err, HAVM_E_IO, rc, "%s: probing the format: %s", be->name, strerror(-rc));
	}
	if (rc == 0) {
		int64_t sz = be->ops->size(be);
		if (sz < 0) {
			free(d);
			return havm_err_set(err, HAVM_E_IO, (int)sz, "%s: size: %s", be->name, strerror((int)-sz));
		}
		d->fmt = BLK_FMT_RAW;
		d->size = (uint64_t)sz & ~(uint64_t)511;
		*out = d;
		return 0;
	}
	rc = vhd_image_load(&d->vhd, be, d->rdwr, err);
	if (rc < 0) {
		free(d);
		return rc;
	}
	d->fmt = fmt_of(d->vhd.footer.type);
	d->size = d->vhd.size;
	*out = d;
	return 0;
}

static void dev_free(struct blk_dev *d)
{
	if (is_vhd(d))
		vhd_image_unload(&d->vhd);
	free(d);
}

const uint8_t *blk_uuid(const struct blk_dev *d)
{
	return is_vhd(d) ? d->vhd.footer.uuid : NULL;
}

static int chain_push(struct vhd_chain *chain, struct blk_dev *d, struct havm_err *err)
{
	const uint8_t *u = blk_uuid(d);
	if (!u)
		return 0;
	for (int i = 0; i < chain->depth; i++)
		if (memcmp(chain->uuids[i], u, 16) == 0)
			return havm_err_set(err, HAVM_E_FORMAT, -ELOOP,
					    "%s: parent chain loops (unique id seen %d levels up)",
					    d->be->name, chain->depth - i);
	if (chain->depth > VHD_MAX_CHAIN_DEPTH)
		return havm_err_set(err, HAVM_E_FORMAT, -ELOOP, "%s: parent chain deeper than %d images",
				    d->be->name, VHD_MAX_CHAIN_DEPTH);
	memcpy(chain->uuids[chain->depth++], u, 16);
	return 0;
}

static int open_on(struct blk_backend *be, unsigned flags, struct vhd_chain *chain,
		   struct blk_dev **out, struct havm_err *err)
{
	struct blk_dev *d = NULL;
	int rc = dev_load(be, flags, &d, err);
	if (rc < 0 || !d)
		return rc < 0 ? rc : -EINVAL;
	rc = chain_push(chain, d, err);
	if (rc == 0 && d->fmt == BLK_FMT_VHD_DIFF && !(flags & BLK_O_NO_PARENT))
		rc = vhd_parent_open(&d->vhd, chain, err);
	if (rc < 0) {
		dev_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

int blk_open_chain(const char *path, unsigned flags, struct vhd_chain *chain,
		   struct blk_dev **out, struct havm_err *err)
{
	struct blk_backend *be;
	int rc = blk_backend_file_open(path, flags & (BLK_O_RDWR | BLK_O_DIRECT), &be, err);
	if (rc < 0)
		return rc;
	rc = open_on(be, flags, chain, out, err);
	if (rc < 0)
		(void)blk_backend_close(be);
	return rc;
}

int blk_open(const char *path, unsigned flags, struct blk_dev **out, struct havm_err *err)
{
	struct vhd_chain chain = { .depth = 0 };
	return blk_open_chain(path, flags, &chain, out, err);
}

int blk_open_backend(struct blk_backend *be, unsigned flags, struct blk_dev **out, struct havm_err *err)
{
	struct vhd_chain chain = { .depth = 0 };
	return open_on(be, flags, &chain, out, err);
}

int blk_open_backend_parent(struct blk_backend *be, struct blk_dev *parent, unsigned flags,
			    struct blk_dev **out, struct havm_err *err)
{
	struct blk_dev *d = NULL;
	int rc = dev_load(be, flags, &d, err);
	if (rc < 0 || !d)
		return rc < 0 ? rc : -EINVAL;
	if (d->fmt != BLK_FMT_VHD_DIFF) {
		dev_free(d);
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "%s: not a differencing disk, it takes no parent",
				    be->name);
	}
	const uint8_t *pu = blk_uuid(parent);
	if (!pu || memcmp(pu, d->vhd.hdr.parent_uuid, 16) != 0) {
		dev_free(d);
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: header parent unique id does not match the footer unique id of parent %s",
				    be->name, parent->be->name);
	}
	d->vhd.parent = parent;
	*out = d;
	return 0;
}

int blk_read(struct blk_dev *d, uint64_t sector, void *buf, uint32_t count)
{
	if (!range_ok(d, sector, count))
		return -ERANGE;
	if (count == 0)
		return 0;
	return is_vhd(d) ? vhd_io_read(&d->vhd, sector, buf, count) : raw_read(d, sector, buf, count);
}

int blk_write(struct blk_dev *d, uint64_t sector, const void *buf, uint32_t count)
{
	if (!range_ok(d, sector, count))
		return -ERANGE;
	if (!d->rdwr)
		return -EROFS;
	if (count == 0)
		return 0;
	return is_vhd(d) ? vhd_io_write(&d->vhd, sector, buf, count) : raw_write(d, sector, buf, count);
}

int blk_flush(struct blk_dev *d)
{
	return is_vhd(d) ? vhd_io_flush(&d->vhd) : raw_flush(d);
}

int blk_discard(struct blk_dev *d, uint64_t sector, uint64_t count)
{
	if (!range_ok(d, sector, count))
		return -ERANGE;
	if (!d->rdwr)
		return -EROFS;
	return is_vhd(d) ? vhd_io_discard(&d->vhd, sector, count) : raw_discard(d, sector, count);
}

uint64_t blk_size(const struct blk_dev *d)
{
	return d->size;
}

enum blk_format blk_format(const struct blk_dev *d)
{
	return d->fmt;
}

const char *blk_format_name(enum blk_format f)
{
	switch (f) {
	case BLK_FMT_RAW: return "raw";
	case BLK_FMT_VHD_FIXED: return "vhd-fixed";
	case BLK_FMT_VHD_DYNAMIC: return "vhd-dynamic";
	case BLK_FMT_VHD_DIFF: return "vhd-differencing";
	}
	return "unknown";
}

const char *blk_name(const struct blk_dev *d)
{
	return d->be->name;
}

struct blk_dev *blk_parent(const struct blk_dev *d)
{
	return is_vhd(d) ? d->vhd.parent : NULL;
}

struct vhd_image *blk_vhd(const struct blk_dev *d)
{
	return is_vhd(d) ? (struct vhd_image *)&d->vhd : NULL;
}

int blk_close(struct blk_dev *d)
{
	if (!d)
		return 0;
	int rc = d->rdwr ? blk_flush(d) : 0;
	if (is_vhd(d) && d->vhd.parent) {
		int prc = blk_close(d->vhd.parent);
		if (rc == 0)
			rc = prc;
	}
	int brc = blk_backend_close(d->be);
	if (rc == 0)
		rc = brc;
	dev_free(d);
	return rc;
}
