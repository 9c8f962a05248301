/* bench_store_vhd — a VHD's throughput through the block layer vmm uses
 * (blk_read/blk_write, one request at a time, as virtio-blk serves them on
 * the vCPU thread), for a VHD file or a VHD object in a store:
 *
 *   bench_store_vhd [--store URL] DISK SECONDS
 *
 * Phases, each SECONDS long (or one pass over the disk for sequential
 * writes, whichever ends first): sequential write of 64 KiB requests
 * (allocates a fresh dynamic VHD's blocks) + flush, sequential read 64 KiB,
 * random write 4 KiB + flush, random read 4 KiB. One line per phase:
 *   "<phase> <MB/s> <IOPS>". Run by tests/bench/store_vhd.sh. */
#include "common/err.h"
#include "iscsi/store.h"
#include "vmcore/disk/blk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* One phase; returns 0 or a negative errno. */
static int phase(struct blk_dev *d, const char *name, int write, int random, uint32_t sectors, double secs,
		 uint8_t *buf)
{
	uint64_t total = blk_size(d) / BLK_SECTOR_SIZE, pos = 0, seed = 0x9e3779b97f4a7c15ull, n = 0;
	uint64_t slots = total / sectors;
	double t0 = now_s(), t;
	do {
		uint64_t s = random ? (rnd(&seed) % slots) * sectors : pos;
		int rc = write ? blk_write(d, s, buf, sectors) : blk_read(d, s, buf, sectors);
		if (rc < 0) {
			fprintf(stderr, "%s: %s at sector %llu: %s\n", name, write ? "write" : "read",
				(unsigned long long)s, strerror(-rc));
			return rc;
		}
		n++;
		pos += sectors;
		if (pos + sectors > total) {
			if (write && !random)
				break; /* one pass: every block allocated */
			pos = 0;
		}
		t = now_s();
	} while (t - t0 < secs);
	if (write) {
		int rc = blk_flush(d);
		if (rc < 0)
			return rc;
	}
	t = now_s() - t0;
	printf("%s %.1f %.0f\n", name, (double)n * sectors * BLK_SECTOR_SIZE / t / 1e6, (double)n / t);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const char *url = NULL;
	int a = 1;
	if (argc > 2 && strcmp(argv[1], "--store") == 0) {
		url = argv[2];
		a = 3;
	}
	if (argc - a != 2) {
		fprintf(stderr, "usage: bench_store_vhd [--store URL] DISK SECONDS\n");
		return 2;
	}
	double secs = atof(argv[a + 1]);
	struct havm_err err;
	struct store *s = NULL;
	struct blk_dev *d = NULL;
	int rc = url ? store_open(url, STORE_O_RDWR, &s, &err) : 0;
	if (rc == 0)
		rc = url ? store_open_disk(s, argv[a], BLK_O_RDWR, &d, &err) : blk_open(argv[a], BLK_O_RDWR, &d, &err);
	if (rc < 0) {
		fprintf(stderr, "bench_store_vhd: %s\n", err.msg);
		return havm_err_exit_code(err.kind);
	}
	uint8_t *buf = malloc(64 << 10);
	if (!buf)
		return 1;
	memset(buf, 0xa5, 64 << 10);
	rc = phase(d, "seq-write-64k", 1, 0, 128, secs, buf);
	if (rc == 0)
		rc = phase(d, "seq-read-64k", 0, 0, 128, secs, buf);
	if (rc == 0)
		rc = phase(d, "rand-write-4k", 1, 1, 8, secs, buf);
	if (rc == 0)
		rc = phase(d, "rand-read-4k", 0, 1, 8, secs, buf);
	free(buf);
	int crc = blk_close(d);
	int src = store_close(s);
	return rc < 0 || crc < 0 || src < 0 ? 4 : 0;
}
