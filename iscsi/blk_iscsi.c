/* havm — the iSCSI LUN region backend; see blk_iscsi.h. */
#include "iscsi/blk_iscsi.h"
#include "iscsi/lun_sync.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BLOCKS 2048u /* 1 MiB of 512-byte blocks per command */

struct iscsi_backend {
	struct blk_backend be; /* first */
	struct lun *lun;
	uint64_t first;  /* first LBA of the region */
	uint64_t blocks; /* region length in blocks */
	uint32_t bs;
	int own_lun;
};

static struct iscsi_backend *to_ib(struct blk_backend *be)
{
	return (struct iscsi_backend *)be;
}

/* Whole blocks [lba, lba+n) of the region, in chunks. */
static int blocks_io(struct iscsi_backend *ib, uint64_t lba, uint64_t n, uint8_t *buf, int write)
{
	while (n) {
		uint32_t c = n > CHUNK_BLOCKS ? CHUNK_BLOCKS : (uint32_t)n;
		int rc = write ? lun_write_sync(ib->lun, ib->first + lba, c, buf, 0, NULL)
			       : lun_read_sync(ib->lun, ib->first + lba, c, buf, NULL);
		if (rc < 0)
			return rc == -EACCES ? -EACCES : rc == -ERANGE ? -EIO : rc;
		lba += c;
		n -= c;
		buf += (size_t)c * ib->bs;
	}
	return 0;
}

static int ib_pread(struct blk_backend *be, void *dst, size_t len, uint64_t off)
{
	struct iscsi_backend *ib = to_ib(be);
	uint64_t size = ib->blocks * ib->bs;
	if (off > size || len > size - off)
		return -EIO;
	uint8_t *out = dst;
	uint8_t *tmp = NULL;
	int rc = 0;
	while (len) {
		uint64_t lba = off / ib->bs;
		size_t in = (size_t)(off % ib->bs);
		if (in == 0 && len >= ib->bs) { /* aligned middle: straight into dst */
			uint64_t n = len / ib->bs;
			rc = blocks_io(ib, lba, n, out, 0);
			if (rc < 0)
				break;
			out += n * ib->bs;
			off += n * ib->bs;
			len -= n * ib->bs;
			continue;
		}
		if (!tmp && !(tmp = malloc(ib->bs)))
			return -ENOMEM;
		rc = blocks_io(ib, lba, 1, tmp, 0);
		if (rc < 0)
			break;
		size_t n = ib->bs - in < len ? ib->bs - in : len;
		memcpy(out, tmp + in, n);
		out += n;
		off += n;
		len -= n;
	}
	free(tmp);
	return rc;
}

static int ib_pwrite(struct blk_backend *be, const void *src, size_t len, uint64_t off)
{
	struct iscsi_backend *ib = to_ib(be);
	uint64_t size = ib->blocks * ib->bs;
	if (be->read_only)
		return -EROFS;
	if (off > size || len > size - off)
		return -ENOSPC;
	const uint8_t *in_buf = src;
	uint8_t *tmp = NULL;
	int rc = 0;
	while (len) {
		uint64_t lba = off / ib->bs;
		size_t in = (size_t)(off % ib->bs);
		if (in == 0 && len >= ib->bs) {
			uint64_t n = len / ib->bs;
			rc = blocks_io(ib, lba, n, (uint8_t *)in_buf, 1);
			if (rc < 0)
				break;
			in_buf += n * ib->bs;
			off += n * ib->bs;
			len -= n * ib->bs;
			continue;
		}
		/* partial block: read, patch, write back */
		if (!tmp && !(tmp = malloc(ib->bs)))
			return -ENOMEM;
		rc = blocks_io(ib, lba, 1, tmp, 0);
		if (rc < 0)
			break;
		size_t n = ib->bs - in < len ? ib->bs - in : len;
		memcpy(tmp + in, in_buf, n);
		rc = blocks_io(ib, lba, 1, tmp, 1);
		if (rc < 0)
			break;
		in_buf += n;
		off += n;
		len -= n;
	}
	free(tmp);
	return rc;
}

static int ib_flush(struct blk_backend *be)
{
	struct iscsi_backend *ib = to_ib(be);
	if (be->read_only)
		return 0;
	return lun_flush_sync(ib->lun, NULL);
}

static int64_t ib_size(struct blk_backend *be)
{
	struct iscsi_backend *ib = to_ib(be);
	return (int64_t)(ib->blocks * ib->bs);
}

static int ib_close(struct blk_backend *be)
{
	struct iscsi_backend *ib = to_ib(be);
	int rc = ib_flush(be);
	if (ib->own_lun)
		lun_close(ib->lun);
	free(be->name);
	free(ib);
	return rc;
}

static const struct blk_backend_ops iscsi_ops = {
	.kind = "iscsi",
	.pread = ib_pread,
	.pwrite = ib_pwrite,
	.flush = ib_flush,
	.size = ib_size,
	.resize = NULL,
	.discard = NULL,
	.close = ib_close,
};

int blk_backend_iscsi_open(struct lun *l, uint64_t offset, uint64_t len, unsigned flags, int own_lun,
			   struct blk_backend **out, struct havm_err *err)
{
	*out = NULL;
	uint32_t bs = lun_block_size(l);
	uint64_t total = lun_blocks(l) * bs;
	if (len == 0 && offset <= total)
		len = total - offset;
	if (offset % bs || len % bs || len == 0 || offset > total || len > total - offset)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL,
				    "lun %s: region %llu+%llu bytes: must be non-empty, %u-byte aligned and within the %llu-byte LUN",
				    lun_name(l), (unsigned long long)offset, (unsigned long long)len, bs,
				    (unsigned long long)total);
	struct iscsi_backend *ib = calloc(1, sizeof(*ib));
	if (!ib)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "lun %s: out of memory", lun_name(l));
	size_t n = strlen(lun_name(l)) + 32;
	ib->be.name = malloc(n);
	if (!ib->be.name) {
		free(ib);
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "lun %s: out of memory", lun_name(l));
	}
	snprintf(ib->be.name, n, "%s@%llu", lun_name(l), (unsigned long long)offset);
	ib->be.ops = &iscsi_ops;
	ib->be.caps = 0;
	ib->be.read_only = !(flags & BLK_O_RDWR);
	ib->lun = l;
	ib->first = offset / bs;
	ib->blocks = len / bs;
	ib->bs = bs;
	ib->own_lun = own_lun;
	*out = &ib->be;
	return 0;
}
