/* havm — whole-object copies between files and a store (havm store
 * import|export): VHDs sector-wise through the block layer, zero runs
 * skipped; other objects byte for byte. */
#define LOG_TAG HAVM_TAG_STORE
#include "iscsi/store.h"
#include "iscsi/store_int.h"

#include "common/log.h"
#include "common/sys.h"
#include "vmcore/disk/vhd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (64u * 1024u)          /* zero-detection granule */
#define CHUNK_SECTORS (CHUNK / BLK_SECTOR_SIZE)
#define VHD_BLOCK (2u * 1024u * 1024u)

static bool all_zero(const uint8_t *p, size_t n)
{
	if (!p)
		return true;
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Copies every nonzero 64 KiB piece of @src to @dst (same size). */
static int copy_dev(struct blk_dev *src, struct blk_dev *dst, struct havm_err *err)
{
	uint64_t total = blk_size(src) / BLK_SECTOR_SIZE;
	uint8_t *buf = malloc(CHUNK);
	if (!buf)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	int rc = 0;
	for (uint64_t s = 0; s < total && rc == 0; s += CHUNK_SECTORS) {
		uint32_t n = total - s < CHUNK_SECTORS ? (uint32_t)(total - s) : CHUNK_SECTORS;
		rc = blk_read(src, s, buf, n);
		if (rc < 0) {
			rc = havm_err_set(err, HAVM_E_IO, rc, "%s: reading sector %llu: %s", blk_name(src),
					  (unsigned long long)s, strerror(-rc));
			break;
		}
		if (all_zero(buf, (size_t)n * BLK_SECTOR_SIZE))
			continue;
		rc = blk_write(dst, s, buf, n);
		if (rc < 0)
			rc = havm_err_set(err, rc == -ENOSPC ? HAVM_E_STATE : HAVM_E_IO, rc,
					  "%s: writing sector %llu: %s", blk_name(dst), (unsigned long long)s,
					  strerror(-rc));
	}
	if (rc == 0 && (rc = blk_flush(dst)) < 0)
		rc = havm_err_set(err, HAVM_E_IO, rc, "%s: flush: %s", blk_name(dst), strerror(-rc));
	free(buf);
	return rc;
}

/* Room a dynamic VHD of @vsize bytes needs with every block allocated:
 * footer copy, header, BAT, per block a bitmap sector and the data, the
 * footer, plus 1 MiB for alignment. */
static uint64_t vhd_worst_case(uint64_t vsize)
{
	uint64_t blocks = (vsize + VHD_BLOCK - 1) / VHD_BLOCK;
	uint64_t bat = (blocks * 4 + 511) / 512 * 512;
	return 512 + 1024 + bat + blocks * (512 + VHD_BLOCK) + 512 + (1u << 20);
}

static int import_vhd(struct store *s, const char *path, const char *name, uint64_t capacity,
		      struct havm_err *err)
{
	struct blk_dev *src, *dst = NULL;
	int rc = blk_open(path, 0, &src, err);
	if (rc < 0)
		return rc;
	struct vhd_create_opts o = { .type = VHD_TYPE_DYNAMIC, .size = blk_size(src),
				     .size_policy = VHD_SIZE_EXACT };
	struct blk_backend *be = NULL;
	char tmp[4096] = "", dstp[4096] = "";
	if (store_type(s) == STORE_TYPE_DIR) {
		/* A file grows: a plain dynamic VHD beside, renamed in place. */
		rc = store_dir_obj_path(s, name, dstp, sizeof(dstp), err);
		if (rc == 0 && access(dstp, F_OK) == 0)
			rc = havm_err_set(err, HAVM_E_STATE, -EEXIST, "%s: object exists", dstp);
		if (rc == 0) {
			snprintf(tmp, sizeof(tmp), "%s.import-tmp", dstp);
			unlink(tmp);
			char *slash = strrchr(tmp, '/');
			memmove(slash + 2, slash + 1, strlen(slash + 1) + 1);
			slash[1] = '.';
			rc = vhd_create(tmp, &o, NULL, err);
		}
		if (rc == 0)
			rc = blk_open(tmp, BLK_O_RDWR, &dst, err);
	} else {
		if (!capacity)
			capacity = vhd_worst_case(o.size);
		rc = store_create_region(s, name, STORE_KIND_VHD, capacity, err);
		if (rc < 0)
			goto out;
		rc = store_open_region(s, name, BLK_O_RDWR, &be, err);
		if (rc == 0)
			rc = vhd_create_backend(be, &o, NULL, NULL, err);
		if (rc == 0) {
			rc = blk_open_backend(be, BLK_O_RDWR, &dst, err);
			if (rc == 0)
				be = NULL; /* the device owns it */
		}
	}
	if (rc == 0)
		rc = copy_dev(src, dst, err);
	if (dst) {
		int crc = blk_close(dst);
		if (rc == 0 && crc < 0)
			rc = havm_err_set(err, HAVM_E_IO, crc, "%s: close: %s", name, strerror(-crc));
	}
	(void)blk_backend_close(be);
	if (tmp[0]) {
		if (rc == 0 && (rename(tmp, dstp) < 0 || havm_fsync_dir_of(dstp) < 0))
			rc = havm_err_set(err, HAVM_E_IO, -errno, "%s: rename: %s", dstp, strerror(errno));
		if (rc < 0)
			unlink(tmp);
	} else if (rc < 0 && rc != -EEXIST) {
		if (store_remove(s, name, NULL) < 0) /* nothing half-imported stays */
			hlog(LOG_WARNING, "%s: could not remove the half-imported '%s'", store_url(s), name);
	}
out:
	(void)blk_close(src);
	return rc;
}

static int import_bytes(struct store *s, const char *path, const char *name, enum store_kind kind,
			struct havm_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return havm_err_set(err, errno == ENOENT ? HAVM_E_NOTFOUND : HAVM_E_IO, -errno, "%s: %s", path,
				    strerror(errno));
	off_t size = lseek(fd, 0, SEEK_END);
	struct store_replace *r = NULL;
	int rc = size < 0 ? havm_err_set(err, HAVM_E_IO, -errno, "%s: %s", path, strerror(errno))
			  : store_replace_begin(s, name, kind, size ? (uint64_t)size : 1, &r, err);
	uint8_t *buf = rc == 0 ? malloc(1u << 20) : NULL;
	if (rc == 0 && !buf)
		rc = havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	for (off_t off = 0; rc == 0 && off < size;) {
		size_t n = size - off < (1 << 20) ? (size_t)(size - off) : (1u << 20);
		rc = havm_pread_full(fd, buf, n, off);
		if (rc < 0) {
			rc = havm_err_set(err, HAVM_E_IO, rc, "%s: read: %s", path, strerror(-rc));
			break;
		}
		rc = store_replace_write(r, buf, n);
		if (rc < 0)
			rc = havm_err_set(err, HAVM_E_IO, rc, "%s: writing '%s': %s", store_url(s), name,
					  strerror(-rc));
		off += (off_t)n;
	}
	free(buf);
	close(fd);
	if (r)
		rc = rc == 0 ? store_replace_commit(r, err) : (store_replace_abort(r), rc);
	return rc;
}

int store_import(struct store *s, const char *path, const char *name, enum store_kind kind, uint64_t capacity,
		 struct havm_err *err)
{
	int rc = store_name_check(name, kind, err);
	if (rc < 0)
		return rc;
	if (kind == STORE_KIND_VHD) {
		struct store_obj o;
		if (store_stat(s, name, &o, NULL) == 0)
			return havm_err_set(err, HAVM_E_STATE, -EEXIST, "%s: object '%s' exists", store_url(s), name);
		return import_vhd(s, path, name, capacity, err);
	}
	return import_bytes(s, path, name, kind, err);
}

static int export_bytes(struct blk_backend *be, uint64_t size, int fd, const char *path, struct havm_err *err)
{
	uint8_t *buf = malloc(1u << 20);
	if (!buf)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	int rc = 0;
	for (uint64_t off = 0; rc == 0 && off < size;) {
		size_t n = size - off < (1u << 20) ? (size_t)(size - off) : (1u << 20);
		rc = blk_backend_pread(be, buf, n, off);
		if (rc == 0)
			rc = havm_pwrite_full(fd, buf, n, (off_t)off);
		if (rc < 0)
			rc = havm_err_set(err, HAVM_E_IO, rc, "%s: copy at %llu: %s", path, (unsigned long long)off,
					  strerror(-rc));
		off += n;
	}
	free(buf);
	if (rc == 0 && fsync(fd) < 0)
		rc = havm_err_set(err, HAVM_E_IO, -errno, "%s: fsync: %s", path, strerror(errno));
	return rc;
}

/* The disk @src as a raw file: nonzero 64 KiB pieces written, the rest
 * left as holes by the final size. */
static int export_raw(struct blk_dev *src, const char *path, struct havm_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return havm_err_set(err, errno == EEXIST ? HAVM_E_STATE : HAVM_E_IO, -errno, "%s: %s", path,
				    strerror(errno));
	uint8_t *buf = malloc(CHUNK);
	uint64_t total = blk_size(src) / BLK_SECTOR_SIZE;
	int rc = buf ? 0 : havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	for (uint64_t s = 0; rc == 0 && s < total; s += CHUNK_SECTORS) {
		uint32_t n = total - s < CHUNK_SECTORS ? (uint32_t)(total - s) : CHUNK_SECTORS;
		rc = blk_read(src, s, buf, n);
		if (rc == 0 && !all_zero(buf, (size_t)n * BLK_SECTOR_SIZE))
			rc = havm_pwrite_full(fd, buf, (size_t)n * BLK_SECTOR_SIZE, (off_t)(s * BLK_SECTOR_SIZE));
		if (rc < 0)
			rc = havm_err_set(err, HAVM_E_IO, rc, "%s: sector %llu: %s", path, (unsigned long long)s,
					  strerror(-rc));
	}
	if (rc == 0 && (ftruncate(fd, (off_t)blk_size(src)) < 0 || fsync(fd) < 0))
		rc = havm_err_set(err, HAVM_E_IO, -errno, "%s: %s", path, strerror(errno));
	free(buf);
	close(fd);
	if (rc < 0)
		unlink(path);
	return rc;
}

int store_export(struct store *s, const char *name, const char *path, unsigned flags, struct havm_err *err)
{
	struct store_obj o;
	int rc = store_stat(s, name, &o, err);
	if (rc < 0)
		return rc;
	struct blk_backend *be;
	struct blk_dev *src = NULL;
	if (o.kind == STORE_KIND_VHD) { /* a chain is flattened */
		rc = store_open_disk(s, name, 0, &src, err);
		if (rc < 0 && rc != -EINVAL)
			return rc;
		if (rc < 0) /* not a VHD at all: copy bytes */
			src = NULL;
	}
	if (src && blk_format(src) != BLK_FMT_RAW) {
		if (flags & STORE_EXPORT_RAW) {
			rc = export_raw(src, path, err);
			(void)blk_close(src);
			return rc;
		}
		struct vhd_create_opts co = { .type = VHD_TYPE_DYNAMIC, .size = blk_size(src),
					      .size_policy = VHD_SIZE_EXACT };
		struct blk_dev *dst = NULL;
		rc = vhd_create(path, &co, NULL, err);
		if (rc == 0)
			rc = blk_open(path, BLK_O_RDWR, &dst, err);
		if (rc == 0)
			rc = copy_dev(src, dst, err);
		if (dst) {
			int crc = blk_close(dst);
			if (rc == 0 && crc < 0)
				rc = havm_err_set(err, HAVM_E_IO, crc, "%s: close: %s", path, strerror(-crc));
		}
		if (rc < 0 && rc != -EEXIST)
			unlink(path);
		(void)blk_close(src); /* closes be */
		return rc;
	}
	(void)blk_close(src); /* raw content in a vhd object: copy its bytes */
	rc = store_open_region(s, name, 0, &be, err);
	if (rc < 0)
		return rc;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = havm_err_set(err, errno == EEXIST ? HAVM_E_STATE : HAVM_E_IO, -errno, "%s: %s", path,
				  strerror(errno));
		blk_backend_close(be);
		return rc;
	}
	rc = export_bytes(be, o.size, fd, path, err);
	close(fd);
	blk_backend_close(be);
	if (rc < 0)
		unlink(path);
	return rc;
}
