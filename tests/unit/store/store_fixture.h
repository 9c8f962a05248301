/* Shared by the store unit tests: a scratch directory, an image file
 * formatted as a store, small helpers. Header-only (one binary per test). */
#ifndef HAVM_TESTS_UNIT_STORE_FIXTURE_H
#define HAVM_TESTS_UNIT_STORE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iscsi/store.h"

struct sfx {
	char dir[256];
	char img[300];   /* an image file acting as a LUN */
	char url[310];   /* "file:<img>" or "dir:<dir>/store" */
};

static inline void sfx_init(struct sfx *f, int gpt, uint64_t img_bytes)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/havm-store-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	if (gpt) {
		snprintf(f->img, sizeof(f->img), "%s/lun.img", f->dir);
		int fd = open(f->img, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, (off_t)img_bytes), 0);
		close(fd);
		snprintf(f->url, sizeof(f->url), "file:%s", f->img);
	} else {
		snprintf(f->url, sizeof(f->url), "dir:%s/store", f->dir);
	}
	struct havm_err e;
	if (store_format(f->url, 0, &e) != 0)
		fail_msg("format %s: %s", f->url, e.msg);
}

static inline void sfx_fini(struct sfx *f)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
}

static inline struct store *sfx_open(struct sfx *f, unsigned flags)
{
	struct store *s;
	struct havm_err e;
	if (store_open(f->url, flags, &s, &e) != 0)
		fail_msg("open %s: %s", f->url, e.msg);
	return s;
}

/* A deterministic pattern: byte i of object @seed. */
static inline void sfx_fill(uint8_t *buf, size_t len, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
}

#endif
