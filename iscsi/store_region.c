/* havm — a store object's bytes as a fixed-size backend: a window of the
 * store's device (a LUN or an image file). Writes stay inside the window
 * (-ENOSPC past its end), so a VHD in a region never touches its
 * neighbours or the GPT. */
#include "iscsi/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct region {
	struct blk_backend be; /* first */
	struct blk_backend *dev;
	uint64_t off, len;
	store_ref_fn *ref;
	store_write_hook_fn *before_write;
	void *opaque;
	char obj[STORE_NAME_MAX + 1];
};

static struct region *to_region(struct blk_backend *be)
{
	return (struct region *)be;
}

static int rg_pread(struct blk_backend *be, void *buf, size_t len, uint64_t off)
{
	struct region *r = to_region(be);
	if (off > r->len || len > r->len - off)
		return -EIO;
	return r->dev->ops->pread(r->dev, buf, len, r->off + off);
}

static int rg_pwrite(struct blk_backend *be, const void *buf, size_t len, uint64_t off)
{
	struct region *r = to_region(be);
	if (be->read_only)
		return -EROFS;
	if (off > r->len || len > r->len - off)
		return -ENOSPC;
	if (r->before_write) {
		int rc = r->before_write(r->opaque, r->obj);
		if (rc < 0)
			return rc;
	}
	return r->dev->ops->pwrite(r->dev, buf, len, r->off + off);
}

static int rg_flush(struct blk_backend *be)
{
	struct region *r = to_region(be);
	return r->dev->ops->flush(r->dev);
}

static int64_t rg_size(struct blk_backend *be)
{
	return (int64_t)to_region(be)->len;
}

static int rg_close(struct blk_backend *be)
{
	struct region *r = to_region(be);
	int rc = be->read_only ? 0 : r->dev->ops->flush(r->dev);
	r->ref(r->opaque, -1);
	free(be->name);
	free(r);
	return rc;
}

static const struct blk_backend_ops region_ops = {
	.kind = "store-region",
	.pread = rg_pread,
	.pwrite = rg_pwrite,
	.flush = rg_flush,
	.size = rg_size,
	.close = rg_close,
};

int store_region_backend(struct blk_backend *dev, uint64_t off, uint64_t len, int writable,
			 const char *name, const char *obj, store_ref_fn *ref, store_write_hook_fn *before_write,
			 void *opaque, struct blk_backend **out)
{
	struct region *r = calloc(1, sizeof(*r));
	if (!r || !(r->be.name = strdup(name))) {
		free(r);
		return -ENOMEM;
	}
	r->be.ops = &region_ops;
	r->be.caps = 0; /* fixed size: a VHD keeps its footer at the end */
	r->be.read_only = !writable;
	r->dev = dev;
	r->off = off;
	r->len = len;
	r->ref = ref;
	r->before_write = before_write;
	r->opaque = opaque;
	snprintf(r->obj, sizeof(r->obj), "%s", obj);
	ref(opaque, +1);
	*out = &r->be;
	return 0;
}
