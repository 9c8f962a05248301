/* havm — the file backend: a regular file (or block device) as a byte store.
 * Writes and syncs go through havm_sys so crash tests can fail them. */
#define LOG_TAG HAVM_TAG_BLK
#include "vmcore/disk/blk.h"

#include "common/log.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct file_backend {
	struct blk_backend be; /* first: the ops get it back by cast */
	int fd;
	int direct; /* opened O_DIRECT */
};

/* O_DIRECT wants buffer, length and offset aligned to the device's logical
 * block; 4 KiB covers every device we meet. */
#define DIRECT_ALIGN 4096u

static int direct_ok(const void *buf, size_t len, uint64_t off)
{
	return ((uintptr_t)buf | len | off) % DIRECT_ALIGN == 0;
}

/* An O_DIRECT fd does an unaligned transfer (the tail of a disk, a footer,
 * a caller's stack buffer) through the page cache: O_DIRECT is dropped for
 * that call and set again. */
static int set_direct(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	fl = on ? fl | O_DIRECT : fl & ~O_DIRECT;
	return fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

static struct file_backend *to_file(struct blk_backend *be)
{
	return (struct file_backend *)be;
}

static int file_pread(struct blk_backend *be, void *buf, size_t len, uint64_t off)
{
	if (off > INT64_MAX || len > INT64_MAX - off)
		return -EINVAL;
	struct file_backend *f = to_file(be);
	if (!f->direct || direct_ok(buf, len, off))
		return havm_pread_full(f->fd, buf, len, (off_t)off);
	int rc = set_direct(f->fd, 0);
	if (rc == 0)
		rc = havm_pread_full(f->fd, buf, len, (off_t)off);
	int drc = set_direct(f->fd, 1);
	return rc < 0 ? rc : drc;
}

static int file_pwrite(struct blk_backend *be, const void *buf, size_t len, uint64_t off)
{
	if (be->read_only)
		return -EROFS;
	if (off > INT64_MAX || len > INT64_MAX - off)
		return -EINVAL;
	struct file_backend *f = to_file(be);
	if (!f->direct || direct_ok(buf, len, off))
		return havm_pwrite_full(f->fd, buf, len, (off_t)off);
	int rc = set_direct(f->fd, 0);
	if (rc == 0)
		rc = havm_pwrite_full(f->fd, buf, len, (off_t)off);
	int drc = set_direct(f->fd, 1);
	return rc < 0 ? rc : drc;
}

static int file_flush(struct blk_backend *be)
{
	if (be->read_only)
		return 0;
	return havm_sys.fdatasync(to_file(be)->fd) < 0 ? -errno : 0;
}

static int64_t file_size(struct blk_backend *be)
{
	struct stat st;
	if (fstat(to_file(be)->fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(to_file(be)->fd, 0, SEEK_END);
		return end < 0 ? -errno : (int64_t)end;
	}
	return st.st_size;
}

static int file_resize(struct blk_backend *be, uint64_t size)
{
	if (be->read_only)
		return -EROFS;
	if (size > INT64_MAX)
		return -EFBIG;
	return havm_sys.ftruncate(to_file(be)->fd, (off_t)size) < 0 ? -errno : 0;
}

static int file_discard(struct blk_backend *be, uint64_t off, uint64_t len)
{
	if (be->read_only)
		return -EROFS;
	if (fallocate(to_file(be)->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) < 0)
		return errno == ENOTSUP ? -EOPNOTSUPP : -errno;
	return 0;
}

static int file_close(struct blk_backend *be)
{
	struct file_backend *f = to_file(be);
	int rc = 0;
	if (!be->read_only && havm_sys.fdatasync(f->fd) < 0)
		rc = -errno;
	if (havm_sys.close(f->fd) < 0 && rc == 0)
		rc = -errno;
	free(be->name);
	free(f);
	return rc;
}

static const struct blk_backend_ops file_ops = {
	.kind = "file",
	.pread = file_pread,
	.pwrite = file_pwrite,
	.flush = file_flush,
	.size = file_size,
	.resize = file_resize,
	.discard = file_discard,
	.close = file_close,
};

int blk_backend_file_open(const char *path, unsigned flags, struct blk_backend **out,
			  struct havm_err *err)
{
	int oflags = O_CLOEXEC | ((flags & BLK_O_RDWR) ? O_RDWR : O_RDONLY);
	if (flags & BLK_O_CREATE)
		oflags |= O_CREAT | O_EXCL;
	if (flags & BLK_O_DIRECT)
		oflags |= O_DIRECT;
	int fd = havm_sys.open(path, oflags, 0644);
	if (fd < 0 && errno == EINVAL && (flags & BLK_O_DIRECT)) {
		/* tmpfs and others refuse O_DIRECT: "where it works" */
		oflags &= ~O_DIRECT;
		fd = havm_sys.open(path, oflags, 0644);
	}
	if (fd < 0) {
		int e = errno;
		enum havm_err_kind k = e == ENOENT ? HAVM_E_NOTFOUND
				     : e == EEXIST ? HAVM_E_STATE : HAVM_E_IO;
		return havm_err_set(err, k, -e, "%s: cannot open: %s", path, strerror(e));
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		havm_sys.close(fd);
		return havm_err_set(err, HAVM_E_CONFIG, -EISDIR, "%s: is a directory", path);
	}
	struct file_backend *f = calloc(1, sizeof(*f));
	char *name = strdup(path);
	if (!f || !name) {
		free(f);
		free(name);
		havm_sys.close(fd);
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "%s: out of memory", path);
	}
	f->fd = fd;
	f->direct = !!(oflags & O_DIRECT);
	f->be.ops = &file_ops;
	f->be.name = name;
	f->be.read_only = !(flags & BLK_O_RDWR);
	f->be.caps = S_ISREG(st.st_mode) ? BLK_BE_CAP_RESIZE | BLK_BE_CAP_ZERO_GROW | BLK_BE_CAP_DISCARD
					 : BLK_BE_CAP_DISCARD;
	*out = &f->be;
	return 0;
}
