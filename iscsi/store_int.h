/* havm — the store's internals: one table of operations per layout
 * (store_dir.c, store_gpt.c); store.c holds what both share. */
#ifndef HAVM_ISCSI_STORE_INT_H
#define HAVM_ISCSI_STORE_INT_H

#include "iscsi/store.h"

struct store_ops {
	int (*list)(struct store *s, struct store_obj **objs, size_t *n, struct havm_err *err);
	int (*create)(struct store *s, const char *name, enum store_kind kind, uint64_t size,
		      struct havm_err *err);
	int (*remove)(struct store *s, const char *name, struct havm_err *err);
	int (*open_region)(struct store *s, const char *name, unsigned flags, struct blk_backend **out,
			   struct havm_err *err);
	int (*replace_begin)(struct store *s, const char *name, enum store_kind kind, uint64_t max_size,
			     struct store_replace **out, struct havm_err *err);
	int (*df)(struct store *s, struct store_df *out, struct havm_err *err);
	int (*rename)(struct store *s, const char *from, const char *to, struct havm_err *err);
	int (*generation)(struct store *s, const char *name, uint64_t *gen, struct havm_err *err);
	int (*bump)(struct store *s, const char *name, struct havm_err *err);
	int (*close)(struct store *s); /* frees the layout's part, not @s */
};

struct store {
	const struct store_ops *ops;
	enum store_type type;
	unsigned flags;
	char *url;
	struct store_replace *pending;
	void *impl;
};

struct store_replace_ops {
	int (*write)(struct store_replace *r, const void *buf, size_t len);
	int (*commit)(struct store_replace *r, struct havm_err *err);
	void (*abort)(struct store_replace *r); /* frees the layout's part */
};

struct store_replace {
	const struct store_replace_ops *ops;
	struct store *s;
	char name[STORE_NAME_MAX + 1];
	enum store_kind kind;
	uint64_t written;
	int failed; /* first write error; commit refuses */
	void *impl;
};

/* Layout constructors: fill s->ops and s->impl. */
int store_dir_open(struct store *s, const char *path, struct havm_err *err);
int store_dir_format(const char *path, struct havm_err *err);
/* The GPT layout over @dev (owned on success and on failure). */
int store_gpt_open(struct store *s, struct blk_backend *dev, struct havm_err *err);
int store_gpt_format(struct blk_backend *dev, int force, struct havm_err *err);

/* Opens the device of a LUN or image URL (store_lun.c); @opts may be NULL. */
int store_dev_open(const char *url, unsigned flags, const struct store_open_opts *opts,
		   struct blk_backend **out, struct havm_err *err);

/* A fixed-size window [@off, @off + @len) of @dev as a backend
 * (store_region.c). @ref is called with +1 on open and -1 on close so the
 * device outlives its regions. @before_write (may be NULL) runs before
 * every write with the object's name @obj; its error fails the write. */
typedef void store_ref_fn(void *opaque, int delta);
typedef int store_write_hook_fn(void *opaque, const char *obj);
int store_region_backend(struct blk_backend *dev, uint64_t off, uint64_t len, int writable,
			 const char *name, const char *obj, store_ref_fn *ref, store_write_hook_fn *before_write,
			 void *opaque, struct blk_backend **out);

/* dir: the object's file path (store_dir.c). */
int store_dir_obj_path(struct store *s, const char *name, char *buf, size_t len, struct havm_err *err);

int store_obj_cmp(const void *a, const void *b);

/* This node's lock for table changes of the store at @url (store_lock.c):
 * an fd, or -1 when none could be made (then no locking). */
int store_lock_open(const char *url);
void store_lock(int fd);
void store_unlock(int fd);

#endif
