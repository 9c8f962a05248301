/* havm — the store API over its layouts: URL dispatch, names and kinds,
 * and the operations both layouts share (stat, whole-file read/write). */
#define LOG_TAG HAVM_TAG_STORE
#include "iscsi/store.h"
#include "iscsi/store_int.h"

#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const kind_names[] = { "vmc", "vhd", "vsv", "other" };

const char *store_kind_name(enum store_kind k)
{
	return (unsigned)k <= STORE_KIND_OTHER ? kind_names[k] : "?";
}

int store_kind_parse(const char *text, enum store_kind *out)
{
	for (int k = 0; k <= STORE_KIND_OTHER; k++)
		if (strcmp(text, kind_names[k]) == 0) {
			*out = (enum store_kind)k;
			return 0;
		}
	return -EINVAL;
}

enum store_kind store_kind_of_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (dot)
		for (int k = 0; k < STORE_KIND_OTHER; k++)
			if (strcmp(dot + 1, kind_names[k]) == 0)
				return (enum store_kind)k;
	return STORE_KIND_OTHER;
}

int store_name_check(const char *name, enum store_kind kind, struct havm_err *err)
{
	size_t n = strlen(name);
	if (n == 0 || n > STORE_NAME_MAX)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "object name '%s': %zu characters, expected 1..%d",
				    name, n, STORE_NAME_MAX);
	if (name[0] == '.')
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "object name '%s' starts with '.'", name);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-'))
			return havm_err_set(err, HAVM_E_CONFIG, -EINVAL,
					    "object name '%s': character %zu is not one of A-Z a-z 0-9 . _ -", name,
					    i + 1);
	}
	if ((unsigned)kind > STORE_KIND_OTHER)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "object '%s': bad kind %d", name, (int)kind);
	if (kind != STORE_KIND_OTHER && store_kind_of_name(name) != kind)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "object name '%s' must end in .%s for kind %s",
				    name, store_kind_name(kind), store_kind_name(kind));
	return 0;
}

int store_obj_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_obj *)a)->name, ((const struct store_obj *)b)->name);
}

/* "dir:PATH" -> the directory; a plain PATH naming a directory too. */
static const char *dir_path(const char *url)
{
	if (strncmp(url, "dir:", 4) == 0)
		return url + 4;
	struct stat st;
	if (strstr(url, "://") == NULL && strncmp(url, "file:", 5) != 0 && stat(url, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		return url;
	return NULL;
}

int store_format(const char *url, int force, struct havm_err *err)
{
	const char *dir = dir_path(url);
	if (dir)
		return store_dir_format(dir, err);
	struct blk_backend *dev;
	int rc = store_dev_open(url, BLK_O_RDWR, NULL, &dev, err);
	if (rc < 0)
		return rc;
	return store_gpt_format(dev, force, err);
}

int store_open(const char *url, unsigned flags, struct store **out, struct havm_err *err)
{
	return store_open_ex(url, flags, NULL, out, err);
}

int store_open_ex(const char *url, unsigned flags, const struct store_open_opts *opts, struct store **out,
		  struct havm_err *err)
{
	struct store *s = calloc(1, sizeof(*s));
	if (!s || !(s->url = strdup(url))) {
		free(s);
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	}
	s->flags = flags;
	const char *dir = dir_path(url);
	int rc;
	if (dir) {
		s->type = STORE_TYPE_DIR;
		rc = store_dir_open(s, dir, err);
	} else {
		struct blk_backend *dev;
		s->type = STORE_TYPE_GPT;
		rc = store_dev_open(url, flags & STORE_O_RDWR ? BLK_O_RDWR : 0, opts, &dev, err);
		if (rc == 0)
			rc = store_gpt_open(s, dev, err);
	}
	if (rc < 0) {
		free(s->url);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int store_close(struct store *s)
{
	if (!s)
		return 0;
	if (s->pending)
		store_replace_abort(s->pending);
	int rc = s->ops->close(s);
	free(s->url);
	free(s);
	return rc;
}

enum store_type store_type(const struct store *s)
{
	return s->type;
}

const char *store_url(const struct store *s)
{
	return s->url;
}

int store_list(struct store *s, struct store_obj **objs, size_t *n, struct havm_err *err)
{
	int rc = s->ops->list(s, objs, n, err);
	if (rc == 0 && *n > 1)
		qsort(*objs, *n, sizeof(**objs), store_obj_cmp);
	return rc;
}

int store_stat(struct store *s, const char *name, struct store_obj *out, struct havm_err *err)
{
	struct store_obj *objs;
	size_t n;
	int rc = s->ops->list(s, &objs, &n, err);
	if (rc < 0)
		return rc;
	rc = havm_err_set(err, HAVM_E_NOTFOUND, -ENOENT, "%s: no object '%s'", s->url, name);
	for (size_t i = 0; i < n; i++)
		if (strcmp(objs[i].name, name) == 0) {
			*out = objs[i];
			havm_err_clear(err);
			rc = 0;
			break;
		}
	free(objs);
	return rc;
}

static int need_rdwr(struct store *s, struct havm_err *err)
{
	if (!(s->flags & STORE_O_RDWR))
		return havm_err_set(err, HAVM_E_STATE, -EROFS, "%s: store opened read-only", s->url);
	return 0;
}

int store_create_region(struct store *s, const char *name, enum store_kind kind, uint64_t size,
			struct havm_err *err)
{
	int rc = store_name_check(name, kind, err);
	if (rc == 0)
		rc = need_rdwr(s, err);
	if (rc == 0 && size == 0)
		rc = havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "object '%s': size 0", name);
	return rc < 0 ? rc : s->ops->create(s, name, kind, size, err);
}

int store_remove(struct store *s, const char *name, struct havm_err *err)
{
	int rc = store_name_check(name, STORE_KIND_OTHER, err);
	if (rc == 0)
		rc = need_rdwr(s, err);
	return rc < 0 ? rc : s->ops->remove(s, name, err);
}

int store_rename(struct store *s, const char *from, const char *to, struct havm_err *err)
{
	int rc = store_name_check(from, STORE_KIND_OTHER, err);
	if (rc == 0)
		rc = store_name_check(to, STORE_KIND_OTHER, err);
	if (rc == 0)
		rc = need_rdwr(s, err);
	if (rc == 0 && strcmp(from, to) == 0)
		return 0;
	return rc < 0 ? rc : s->ops->rename(s, from, to, err);
}

int store_file_path(struct store *s, const char *name, char *buf, size_t len, struct havm_err *err)
{
	int rc = store_name_check(name, STORE_KIND_OTHER, err);
	if (rc == 0 && s->type != STORE_TYPE_DIR)
		rc = havm_err_set(err, HAVM_E_UNSUPPORTED, -ENOTSUP, "%s: objects on a LUN are not files", s->url);
	return rc < 0 ? rc : store_dir_obj_path(s, name, buf, len, err);
}

int store_generation(struct store *s, const char *name, uint64_t *gen, struct havm_err *err)
{
	int rc = store_name_check(name, STORE_KIND_OTHER, err);
	return rc < 0 ? rc : s->ops->generation(s, name, gen, err);
}

int store_bump_generation(struct store *s, const char *name, struct havm_err *err)
{
	int rc = store_name_check(name, STORE_KIND_OTHER, err);
	if (rc == 0)
		rc = need_rdwr(s, err);
	return rc < 0 ? rc : s->ops->bump(s, name, err);
}

int store_open_region(struct store *s, const char *name, unsigned flags, struct blk_backend **out,
		      struct havm_err *err)
{
	int rc = store_name_check(name, STORE_KIND_OTHER, err);
	if (rc == 0 && (flags & BLK_O_RDWR))
		rc = need_rdwr(s, err);
	return rc < 0 ? rc : s->ops->open_region(s, name, flags, out, err);
}

int store_read_file(struct store *s, const char *name, size_t max, void **buf, size_t *len,
		    struct havm_err *err)
{
	struct store_obj o = { .size = 0 };
	int rc = store_stat(s, name, &o, err);
	if (rc < 0)
		return rc;
	if (o.size > max)
		return havm_err_set(err, HAVM_E_STATE, -EFBIG, "%s: object '%s' has %llu bytes, more than %zu",
				    s->url, name, (unsigned long long)o.size, max);
	struct blk_backend *be;
	rc = s->ops->open_region(s, name, 0, &be, err);
	if (rc < 0)
		return rc;
	void *p = malloc(o.size ? o.size : 1);
	if (!p) {
		blk_backend_close(be);
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	}
	rc = blk_backend_pread(be, p, o.size, 0);
	blk_backend_close(be);
	if (rc < 0) {
		free(p);
		return havm_err_set(err, HAVM_E_IO, rc, "%s: reading '%s': %s", s->url, name, strerror(-rc));
	}
	*buf = p;
	*len = o.size;
	return 0;
}

int store_write_file(struct store *s, const char *name, enum store_kind kind, const void *buf, size_t len,
		     struct havm_err *err)
{
	struct store_replace *r = NULL;
	int rc = store_replace_begin(s, name, kind, len ? len : 1, &r, err);
	if (rc < 0 || !r)
		return rc < 0 ? rc : havm_err_set(err, HAVM_E_INTERNAL, -EIO, "replace did not start");
	rc = store_replace_write(r, buf, len);
	if (rc < 0) {
		store_replace_abort(r);
		return havm_err_set(err, HAVM_E_IO, rc, "%s: writing '%s': %s", s->url, name, strerror(-rc));
	}
	return store_replace_commit(r, err);
}

int store_replace_begin(struct store *s, const char *name, enum store_kind kind, uint64_t max_size,
			struct store_replace **out, struct havm_err *err)
{
	int rc = store_name_check(name, kind, err);
	if (rc == 0)
		rc = need_rdwr(s, err);
	if (rc == 0 && s->pending)
		rc = havm_err_set(err, HAVM_E_BUSY, -EBUSY, "%s: replace of '%s' still pending", s->url,
				  s->pending->name);
	if (rc == 0)
		rc = s->ops->replace_begin(s, name, kind, max_size, out, err);
	if (rc == 0)
		s->pending = *out;
	return rc;
}

int store_replace_write(struct store_replace *r, const void *buf, size_t len)
{
	if (r->failed)
		return r->failed;
	int rc = r->ops->write(r, buf, len);
	if (rc < 0)
		r->failed = rc;
	else
		r->written += len;
	return rc;
}

int store_replace_sink(void *r, const void *buf, size_t len)
{
	return store_replace_write(r, buf, len);
}

static void replace_free(struct store_replace *r)
{
	r->s->pending = NULL;
	free(r);
}

int store_replace_commit(struct store_replace *r, struct havm_err *err)
{
	int rc;
	if (r->failed) {
		rc = havm_err_set(err, HAVM_E_IO, r->failed, "%s: '%s' not replaced: a write failed (%s)", r->s->url,
				  r->name, strerror(-r->failed));
		r->ops->abort(r);
	} else {
		rc = r->ops->commit(r, err); /* frees the layout's part either way */
		if (rc == 0)
			hlog(LOG_INFO, "%s: replaced '%s' (%llu bytes)", r->s->url, r->name,
			     (unsigned long long)r->written);
	}
	replace_free(r);
	return rc;
}

void store_replace_abort(struct store_replace *r)
{
	if (!r)
		return;
	r->ops->abort(r);
	replace_free(r);
}

int store_df(struct store *s, struct store_df *out, struct havm_err *err)
{
	memset(out, 0, sizeof(*out));
	return s->ops->df(s, out, err);
}
