/* vhd_testtool — drives the block layer for the VHD integration and crash
 * tests (tests/integration/test_vhd_*.sh, tests/crash/vhd_crash.sh).
 *
 *   import RAW IMG            copy RAW's bytes into IMG (sector writes; zero
 *                             runs go through the zero-block path), flush
 *   export IMG RAW            read IMG (whole chain) into RAW
 *   write IMG SEED OPS EVERY LOG
 *                             OPS seeded random writes, blk_flush every EVERY
 *                             ops; after each completed flush appends the op
 *                             count to LOG (the "acknowledged" mark)
 *   verify IMG SEED OPS LOG BASE
 *                             every sector holds its value as of the last
 *                             mark in LOG, or a value a later op wrote;
 *                             BASE = zero (dynamic) or parent (pattern fill)
 *   fill IMG                  writes the parent pattern over the whole disk
 * Exit 0 = done/verified, 1 = mismatch, 2 = usage, 3 = open/I/O error. */
#include "vmcore/disk/blk.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PARENT_TAG 0xFFFFFFFFu
#define CHUNK 2048u /* sectors per import/export step */

static uint64_t rng_state;
static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

/* A sector written by op @tag at @sector: tag and sector, then filler. */
static void pattern(uint8_t *p, uint32_t tag, uint64_t sector)
{
	if (tag == 0) {
		memset(p, 0, 512);
		return;
	}
	uint32_t x = tag * 2654435761u ^ (uint32_t)sector * 40503u;
	memcpy(p, &tag, 4);
	memcpy(p + 4, &sector, 8);
	for (int i = 12; i < 512; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

static struct blk_dev *open_or_die(const char *path, unsigned flags)
{
	struct blk_dev *d;
	struct havm_err e;
	havm_err_clear(&e);
	if (blk_open(path, flags, &d, &e) < 0) {
		fprintf(stderr, "open: %s\n", e.msg);
		exit(3);
	}
	return d;
}

static int io_fail(const char *what, int rc)
{
	fprintf(stderr, "%s: %s\n", what, strerror(-rc));
	return 3;
}

static int cmd_import(const char *raw, const char *img)
{
	int fd = open(raw, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return io_fail(raw, -errno);
	struct blk_dev *d = open_or_die(img, BLK_O_RDWR);
	static uint8_t buf[CHUNK * 512];
	uint64_t total = blk_size(d) / 512;
	int rc = 0;
	for (uint64_t s = 0; s < total && rc == 0; s += CHUNK) {
		uint32_t n = total - s < CHUNK ? (uint32_t)(total - s) : CHUNK;
		ssize_t got = pread(fd, buf, (size_t)n * 512, (off_t)(s * 512));
		if (got <= 0)
			break;
		if ((size_t)got < (size_t)n * 512)
			memset(buf + got, 0, (size_t)n * 512 - (size_t)got);
		rc = blk_write(d, s, buf, n);
	}
	close(fd);
	if (rc == 0)
		rc = blk_flush(d);
	int crc = blk_close(d);
	return rc ? io_fail("import", rc) : crc ? io_fail("close", crc) : 0;
}

static int cmd_export(const char *img, const char *raw)
{
	struct blk_dev *d = open_or_die(img, 0);
	int fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return io_fail(raw, -errno);
	static uint8_t buf[CHUNK * 512];
	uint64_t total = blk_size(d) / 512;
	int rc = 0;
	for (uint64_t s = 0; s < total && rc == 0; s += CHUNK) {
		uint32_t n = total - s < CHUNK ? (uint32_t)(total - s) : CHUNK;
		rc = blk_read(d, s, buf, n);
		if (rc == 0 && pwrite(fd, buf, (size_t)n * 512, (off_t)(s * 512)) != (ssize_t)n * 512)
			rc = -EIO;
	}
	close(fd);
	(void)blk_close(d);
	return rc ? io_fail("export", rc) : 0;
}

struct op {
	uint64_t sector;
	uint32_t count;
	uint32_t tag; /* 0 = an all-zero write */
};

static uint32_t align = 1;

static struct op next_op(uint32_t i, uint64_t total)
{
	struct op o;
	uint32_t r = rnd();
	/* Cluster writes over few blocks so allocation and rewrite both occur. */
	o.count = 1 + rnd() % 24;
	o.sector = (uint64_t)rnd() % (total - o.count);
	o.tag = (r % 7 == 0) ? 0 : i + 1;
	if (align > 1) {
		/* libvhdi tests bitmap bits unmasked: oracle runs write whole
		 * 4 KiB clusters (VHD_TESTTOOL_ALIGN=8). */
		o.sector -= o.sector % align;
		o.count = (o.count + align - 1) / align * align;
	}
	return o;
}

static int cmd_write(const char *img, uint64_t seed, uint32_t ops, uint32_t every, const char *log)
{
	struct blk_dev *d = open_or_die(img, BLK_O_RDWR);
	int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (lfd < 0)
		return io_fail(log, -errno);
	uint64_t total = blk_size(d) / 512;
	static uint8_t buf[32 * 512];
	rng_state = seed;
	for (uint32_t i = 0; i < ops; i++) {
		struct op o = next_op(i, total);
		for (uint32_t k = 0; k < o.count; k++)
			pattern(buf + k * 512, o.tag, o.sector + k);
		int rc = blk_write(d, o.sector, buf, o.count);
		if (rc < 0) {
			(void)blk_close(d);
			return io_fail("write", rc);
		}
		if ((i + 1) % every == 0 || i + 1 == ops) {
			rc = blk_flush(d);
			if (rc < 0) {
				(void)blk_close(d);
				return io_fail("flush", rc);
			}
			char line[32];
			int n = snprintf(line, sizeof(line), "%u\n", i + 1);
			if (write(lfd, line, (size_t)n) != n)
				return io_fail("log", -errno);
		}
	}
	close(lfd);
	int rc = blk_close(d);
	return rc ? io_fail("close", rc) : 0;
}

static uint32_t last_mark(const char *log)
{
	FILE *f = fopen(log, "r");
	uint32_t v = 0, x;
	if (!f)
		return 0;
	char line[64];
	while (fgets(line, sizeof(line), f)) {
		x = (uint32_t)strtoul(line, NULL, 10);
		if (x)
			v = x;
	}
	fclose(f);
	return v;
}

static int cmd_verify(const char *img, uint64_t seed, uint32_t ops, const char *log, int parent_base)
{
	struct blk_dev *d = open_or_die(img, 0);
	uint64_t total = blk_size(d) / 512;
	uint32_t mark = last_mark(log);
	/* committed[s]: tag as of the mark; later: a bit per sector touched after. */
	uint32_t *committed = malloc(total * sizeof(uint32_t));
	struct op *all = calloc(ops ? ops : 1, sizeof(*all));
	if (!committed || !all) {
		free(committed);
		free(all);
		return 3;
	}
	for (uint64_t s = 0; s < total; s++)
		committed[s] = parent_base ? PARENT_TAG : 0;
	rng_state = seed;
	for (uint32_t i = 0; i < ops; i++) {
		all[i] = next_op(i, total);
		if (i < mark)
			for (uint32_t k = 0; k < all[i].count; k++)
				committed[all[i].sector + k] = all[i].tag;
	}
	uint8_t got[512], want[512];
	int bad = 0;
	for (uint64_t s = 0; s < total && bad < 5; s++) {
		int rc = blk_read(d, s, got, 1);
		if (rc < 0) {
			free(committed);
			free(all);
			(void)blk_close(d);
			return io_fail("read", rc);
		}
		pattern(want, committed[s], s);
		if (memcmp(got, want, 512) == 0)
			continue;
		int ok = 0;
		for (uint32_t i = mark; i < ops && !ok; i++)
			if (s >= all[i].sector && s < all[i].sector + all[i].count) {
				pattern(want, all[i].tag, s);
				ok = memcmp(got, want, 512) == 0;
			}
		if (!ok) {
			uint32_t tag;
			memcpy(&tag, got, 4);
			fprintf(stderr, "sector %" PRIu64 ": holds tag %u, expected %u (mark %u) or a later write\n", s,
				tag, committed[s], mark);
			bad++;
		}
	}
	free(committed);
	free(all);
	(void)blk_close(d);
	if (!bad)
		printf("verified %" PRIu64 " sectors against mark %u\n", total, mark);
	return bad ? 1 : 0;
}

static int cmd_fill(const char *img)
{
	struct blk_dev *d = open_or_die(img, BLK_O_RDWR);
	uint64_t total = blk_size(d) / 512;
	static uint8_t buf[64 * 512];
	int rc = 0;
	for (uint64_t s = 0; s < total && rc == 0; s += 64) {
		uint32_t n = total - s < 64 ? (uint32_t)(total - s) : 64;
		for (uint32_t k = 0; k < n; k++)
			pattern(buf + k * 512, PARENT_TAG, s + k);
		rc = blk_write(d, s, buf, n);
	}
	int crc = blk_close(d);
	return rc ? io_fail("fill", rc) : crc ? io_fail("close", crc) : 0;
}

static uint32_t num(const char *s)
{
	return (uint32_t)strtoul(s, NULL, 10);
}

int main(int argc, char **argv)
{
	const char *al = getenv("VHD_TESTTOOL_ALIGN");
	if (al)
		align = (uint32_t)strtoul(al, NULL, 10);
	if (align < 1 || align > 8)
		align = 1;
	if (argc == 4 && strcmp(argv[1], "import") == 0)
		return cmd_import(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "export") == 0)
		return cmd_export(argv[2], argv[3]);
	if (argc == 7 && strcmp(argv[1], "write") == 0)
		return cmd_write(argv[2], strtoull(argv[3], NULL, 0), num(argv[4]),
				 num(argv[5]), argv[6]);
	if (argc == 7 && strcmp(argv[1], "verify") == 0)
		return cmd_verify(argv[2], strtoull(argv[3], NULL, 0), num(argv[4]), argv[5],
				  strcmp(argv[6], "parent") == 0);
	if (argc == 3 && strcmp(argv[1], "fill") == 0)
		return cmd_fill(argv[2]);
	fprintf(stderr, "usage: see the comment at the top of tests/crash/vhd_testtool.c\n");
	return 2;
}
