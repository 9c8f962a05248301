/* havm — the store as a directory: one file per object (docs/store.md).
 *
 * Atomic replace is the classic sequence: write ".<name>.tmp", fsync it,
 * rename it over <name>, fsync the directory. rename(2) is atomic, so a
 * crash leaves the old file or the new one; a stale ".tmp" is ignored by
 * list and overwritten by the next replace. */
#define LOG_TAG HAVM_TAG_STORE
#include "iscsi/store_int.h"

#include "common/fault.h"
#include "common/log.h"
#include "common/sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct dir_store {
	char *path;
};

struct dir_replace {
	int fd;
	char tmp[4096], dst[4096];
};

static const char *dir_of(struct store *s)
{
	return ((struct dir_store *)s->impl)->path;
}

int store_dir_obj_path(struct store *s, const char *name, char *buf, size_t len, struct havm_err *err)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir_of(s), name) >= len)
		return havm_err_set(err, HAVM_E_CONFIG, -ENAMETOOLONG, "%s: path too long", dir_of(s));
	return 0;
}

static int d_list(struct store *s, struct store_obj **objs, size_t *n, struct havm_err *err)
{
	DIR *d = opendir(dir_of(s));
	if (!d)
		return havm_err_set(err, HAVM_E_IO, -errno, "%s: %s", dir_of(s), strerror(errno));
	size_t cap = 16, k = 0;
	struct store_obj *o = malloc(cap * sizeof(*o));
	int rc = o ? 0 : -ENOMEM;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (store_name_check(de->d_name, STORE_KIND_OTHER, NULL) < 0)
			continue; /* dot files, our .tmp files, foreign names */
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (k == cap) {
			struct store_obj *no = realloc(o, 2 * cap * sizeof(*o));
			if (!no) {
				rc = -ENOMEM;
				break;
			}
			o = no;
			cap *= 2;
		}
		memset(&o[k], 0, sizeof(o[k]));
		snprintf(o[k].name, sizeof(o[k].name), "%s", de->d_name);
		o[k].kind = store_kind_of_name(de->d_name);
		o[k].size = o[k].capacity = (uint64_t)st.st_size;
		k++;
	}
	closedir(d);
	if (rc < 0) {
		free(o);
		return havm_err_set(err, HAVM_E_IO, rc, "out of memory");
	}
	*objs = o;
	*n = k;
	return 0;
}

static int d_create(struct store *s, const char *name, enum store_kind kind, uint64_t size, struct havm_err *err)
{
	(void)kind;
	char p[4096];
	int rc = store_dir_obj_path(s, name, p, sizeof(p), err);
	if (rc < 0)
		return rc;
	int fd = havm_sys.open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = -errno;
		return havm_err_set(err, rc == -EEXIST ? HAVM_E_STATE : HAVM_E_IO, rc, "%s: %s", p,
				    rc == -EEXIST ? "object exists" : strerror(-rc));
	}
	if (havm_sys.ftruncate(fd, (off_t)size) < 0 || havm_sys.fsync(fd) < 0)
		rc = -errno;
	havm_sys.close(fd);
	if (rc == 0)
		rc = havm_fsync_dir_of(p);
	if (rc < 0) {
		havm_sys.unlink(p);
		return havm_err_set(err, HAVM_E_IO, rc, "%s: %s", p, strerror(-rc));
	}
	return 0;
}

static int d_remove(struct store *s, const char *name, struct havm_err *err)
{
	char p[4096];
	int rc = store_dir_obj_path(s, name, p, sizeof(p), err);
	if (rc < 0)
		return rc;
	if (havm_sys.unlink(p) < 0) {
		rc = -errno;
		return havm_err_set(err, rc == -ENOENT ? HAVM_E_NOTFOUND : HAVM_E_IO, rc, "%s: %s", p,
				    rc == -ENOENT ? "no such object" : strerror(-rc));
	}
	rc = havm_fsync_dir_of(p);
	return rc < 0 ? havm_err_set(err, HAVM_E_IO, rc, "%s: fsync of the directory: %s", p, strerror(-rc)) : 0;
}

static int d_open_region(struct store *s, const char *name, unsigned flags, struct blk_backend **out,
			 struct havm_err *err)
{
	char p[4096];
	int rc = store_dir_obj_path(s, name, p, sizeof(p), err);
	if (rc == 0 && store_name_check(name, STORE_KIND_OTHER, err) < 0)
		rc = -EINVAL;
	if (rc == 0)
		rc = blk_backend_file_open(p, flags & BLK_O_RDWR, out, err);
	return rc;
}

static int dr_write(struct store_replace *r, const void *buf, size_t len)
{
	struct dir_replace *d = r->impl;
	int rc = havm_pwrite_full(d->fd, buf, len, (off_t)r->written);
	if (rc == 0 && HAVM_FAULT("store.replace_write"))
		rc = -EIO;
	return rc;
}

static void dr_abort(struct store_replace *r)
{
	struct dir_replace *d = r->impl;
	if (d->fd >= 0) {
		havm_sys.close(d->fd);
		havm_sys.unlink(d->tmp);
	}
	free(d);
}

static int dr_commit(struct store_replace *r, struct havm_err *err)
{
	struct dir_replace *d = r->impl;
	int rc = 0;
	const char *what = "fsync";
	errno = 0;
	if (havm_sys.fsync(d->fd) < 0 || HAVM_FAULT("store.dir_synced"))
		rc = errno ? -errno : -EIO;
	if (rc == 0) {
		what = "rename";
		errno = 0;
		if (havm_sys.rename(d->tmp, d->dst) < 0 || HAVM_FAULT("store.dir_renamed"))
			rc = errno ? -errno : -EIO;
	}
	if (rc < 0) {
		havm_err_set(err, HAVM_E_IO, rc, "%s: %s: %s", d->dst, what, strerror(-rc));
		dr_abort(r);
		return rc;
	}
	havm_sys.close(d->fd);
	d->fd = -1;
	rc = havm_fsync_dir_of(d->dst);
	if (rc < 0)
		rc = havm_err_set(err, HAVM_E_IO, rc, "%s: fsync of the directory: %s", d->dst, strerror(-rc));
	free(d);
	return rc;
}

static const struct store_replace_ops dir_replace_ops = {
	.write = dr_write,
	.commit = dr_commit,
	.abort = dr_abort,
};

static int d_replace_begin(struct store *s, const char *name, enum store_kind kind, uint64_t max_size,
			   struct store_replace **out, struct havm_err *err)
{
	(void)max_size;
	struct store_replace *r = calloc(1, sizeof(*r));
	struct dir_replace *d = calloc(1, sizeof(*d));
	if (!r || !d) {
		free(r);
		free(d);
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	}
	int rc = store_dir_obj_path(s, name, d->dst, sizeof(d->dst), err);
	if (rc == 0 && (size_t)snprintf(d->tmp, sizeof(d->tmp), "%s/.%s.tmp", dir_of(s), name) >= sizeof(d->tmp))
		rc = havm_err_set(err, HAVM_E_CONFIG, -ENAMETOOLONG, "%s: path too long", dir_of(s));
	if (rc == 0) {
		d->fd = havm_sys.open(d->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
		if (d->fd < 0)
			rc = havm_err_set(err, HAVM_E_IO, -errno, "%s: %s", d->tmp, strerror(errno));
	}
	if (rc < 0) {
		free(r);
		free(d);
		return rc;
	}
	r->ops = &dir_replace_ops;
	r->s = s;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->kind = kind;
	r->impl = d;
	*out = r;
	return 0;
}

static int d_df(struct store *s, struct store_df *out, struct havm_err *err)
{
	struct statvfs v;
	if (statvfs(dir_of(s), &v) < 0)
		return havm_err_set(err, HAVM_E_IO, -errno, "%s: statvfs: %s", dir_of(s), strerror(errno));
	struct store_obj *o = NULL;
	size_t n = 0;
	int rc = d_list(s, &o, &n, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		out->used += o[i].size;
	free(o);
	out->objects = (uint32_t)n;
	out->free = (uint64_t)v.f_bavail * v.f_frsize;
	out->largest_free = out->free;
	out->total = out->used + out->free;
	return 0;
}

static int d_rename(struct store *s, const char *from, const char *to, struct havm_err *err)
{
	char a[4096], b[4096];
	int rc = store_dir_obj_path(s, from, a, sizeof(a), err);
	if (rc == 0)
		rc = store_dir_obj_path(s, to, b, sizeof(b), err);
	if (rc < 0)
		return rc;
	if (havm_sys.rename(a, b) < 0) {
		rc = -errno;
		return havm_err_set(err, rc == -ENOENT ? HAVM_E_NOTFOUND : HAVM_E_IO, rc, "%s: rename to %s: %s", a,
				    to, rc == -ENOENT ? "no such object" : strerror(-rc));
	}
	rc = havm_fsync_dir_of(b);
	return rc < 0 ? havm_err_set(err, HAVM_E_IO, rc, "%s: fsync of the directory: %s", b, strerror(-rc)) : 0;
}

static uint64_t fnv(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The kernel moves ctime on every write and no user call sets it back;
 * the same hash as vmm's for disk files (docs/save-restore.md). */
static int d_generation(struct store *s, const char *name, uint64_t *gen, struct havm_err *err)
{
	char p[4096];
	int rc = store_dir_obj_path(s, name, p, sizeof(p), err);
	if (rc < 0)
		return rc;
	struct stat st;
	if (stat(p, &st) < 0)
		return havm_err_set(err, errno == ENOENT ? HAVM_E_NOTFOUND : HAVM_E_IO, -errno, "%s: %s", p,
				    strerror(errno));
	uint64_t h = 0xcbf29ce484222325ull;
	h = fnv(h, (uint64_t)st.st_size);
	h = fnv(h, (uint64_t)st.st_mtim.tv_sec);
	h = fnv(h, (uint64_t)st.st_mtim.tv_nsec);
	h = fnv(h, (uint64_t)st.st_ctim.tv_sec);
	h = fnv(h, (uint64_t)st.st_ctim.tv_nsec);
	h = fnv(h, (uint64_t)st.st_ino);
	*gen = h;
	return 0;
}

static int d_bump(struct store *s, const char *name, struct havm_err *err)
{
	uint64_t g;
	return d_generation(s, name, &g, err); /* only checks that it exists */
}

static int d_close(struct store *s)
{
	struct dir_store *d = s->impl;
	free(d->path);
	free(d);
	return 0;
}

static const struct store_ops dir_store_ops = {
	.list = d_list,
	.create = d_create,
	.remove = d_remove,
	.open_region = d_open_region,
	.replace_begin = d_replace_begin,
	.df = d_df,
	.rename = d_rename,
	.generation = d_generation,
	.bump = d_bump,
	.close = d_close,
};

int store_dir_format(const char *path, struct havm_err *err)
{
	if (mkdir(path, 0750) < 0 && errno != EEXIST)
		return havm_err_set(err, HAVM_E_IO, -errno, "%s: mkdir: %s", path, strerror(errno));
	int rc = havm_fsync_dir_of(path);
	return rc < 0 ? havm_err_set(err, HAVM_E_IO, rc, "%s: fsync of the parent: %s", path, strerror(-rc)) : 0;
}

int store_dir_open(struct store *s, const char *path, struct havm_err *err)
{
	struct stat st;
	if ((s->flags & STORE_O_CREATE) && stat(path, &st) < 0 && errno == ENOENT) {
		int rc = store_dir_format(path, err);
		if (rc < 0)
			return rc;
	}
	if (stat(path, &st) < 0)
		return havm_err_set(err, errno == ENOENT ? HAVM_E_NOTFOUND : HAVM_E_IO, -errno, "store %s: %s", path,
				    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return havm_err_set(err, HAVM_E_CONFIG, -ENOTDIR, "store %s: not a directory", path);
	struct dir_store *d = calloc(1, sizeof(*d));
	if (!d || !(d->path = strdup(path))) {
		free(d);
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	}
	s->ops = &dir_store_ops;
	s->impl = d;
	return 0;
}
