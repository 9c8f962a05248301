/* havm — a caller-owned memory buffer as a byte store (tests, fuzzers),
 * and the backend helpers every backend shares. */
#include "vmcore/disk/blk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct mem_backend {
	struct blk_backend be; /* first */
	uint8_t *buf;
	size_t len;
};

static struct mem_backend *to_mem(struct blk_backend *be)
{
	return (struct mem_backend *)be;
}

static int mem_pread(struct blk_backend *be, void *buf, size_t len, uint64_t off)
{
	struct mem_backend *m = to_mem(be);
	if (off > m->len || len > m->len - off)
		return -EIO;
	memcpy(buf, m->buf + off, len);
	return 0;
}

static int mem_pwrite(struct blk_backend *be, const void *buf, size_t len, uint64_t off)
{
	struct mem_backend *m = to_mem(be);
	if (be->read_only)
		return -EROFS;
	if (off > m->len || len > m->len - off)
		return -ENOSPC;
	memcpy(m->buf + off, buf, len);
	return 0;
}

static int mem_flush(struct blk_backend *be)
{
	(void)be;
	return 0;
}

static int64_t mem_size(struct blk_backend *be)
{
	return (int64_t)to_mem(be)->len;
}

static int mem_close(struct blk_backend *be)
{
	free(be->name);
	free(be);
	return 0;
}

static const struct blk_backend_ops mem_ops = {
	.kind = "mem",
	.pread = mem_pread,
	.pwrite = mem_pwrite,
	.flush = mem_flush,
	.size = mem_size,
	.close = mem_close,
};

int blk_backend_mem_open(void *buf, size_t len, int writable, struct blk_backend **out)
{
	struct mem_backend *m = calloc(1, sizeof(*m));
	char *name = strdup("mem");
	if (!m || !name) {
		free(m);
		free(name);
		return -ENOMEM;
	}
	m->buf = buf;
	m->len = len;
	m->be.ops = &mem_ops;
	m->be.name = name;
	m->be.read_only = !writable;
	*out = &m->be;
	return 0;
}

int blk_backend_close(struct blk_backend *be)
{
	return be ? be->ops->close(be) : 0;
}

int blk_backend_pread(struct blk_backend *be, void *buf, size_t len, uint64_t off)
{
	return be->ops->pread(be, buf, len, off);
}

int blk_backend_pwrite(struct blk_backend *be, const void *buf, size_t len, uint64_t off)
{
	return be->ops->pwrite(be, buf, len, off);
}
