/* bench_vhd — the block layer's I/O pattern of `qemu-img bench`, so both
 * tools do the same requests on the same files (tests/bench/vhd.sh):
 *
 *   bench_vhd [-w] -c COUNT -s SIZE -S STEP [-o OFFSET] [-F FLUSH] IMG
 *
 * COUNT requests of SIZE bytes at OFFSET, OFFSET+STEP, ... wrapping at the
 * disk size (qemu-img bench's rule), queue depth 1; -w writes a pattern,
 * otherwise reads. -F N: blk_flush after every N requests (qemu-img bench
 * --flush-interval), and always once at the end for writes. Prints the
 * elapsed seconds of the requests and flushes (open and close excluded). */
#include "vmcore/disk/blk.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_vhd [-w] -c COUNT -s SIZE -S STEP [-o OFFSET] [-F FLUSH] IMG\n");
	return 2;
}

int main(int argc, char **argv)
{
	int write = 0, c;
	unsigned long count = 0, flush = 0;
	uint64_t size = 4096, step = 0, off = 0;
	while ((c = getopt(argc, argv, "wc:s:S:o:F:")) != -1) {
		switch (c) {
		case 'w': write = 1; break;
		case 'c': count = strtoul(optarg, NULL, 0); break;
		case 's': size = strtoull(optarg, NULL, 0); break;
		case 'S': step = strtoull(optarg, NULL, 0); break;
		case 'o': off = strtoull(optarg, NULL, 0); break;
		case 'F': flush = strtoul(optarg, NULL, 0); break;
		default: return usage();
		}
	}
	if (optind != argc - 1 || !count || size % 512 || !size)
		return usage();
	struct blk_dev *d;
	struct havm_err e;
	havm_err_clear(&e);
	if (blk_open(argv[optind], write ? BLK_O_RDWR : 0, &d, &e) < 0) {
		fprintf(stderr, "bench_vhd: %s\n", e.msg);
		return 3;
	}
	uint8_t *buf = aligned_alloc(4096, (size + 4095) & ~4095ull);
	if (!buf)
		return 3;
	memset(buf, 0xA5, size); /* qemu-img bench --pattern default: non-zero */
	uint64_t disk = blk_size(d);
	int rc = 0;
	double t0 = now_s();
	for (unsigned long i = 0; i < count && rc == 0; i++) {
		rc = write ? blk_write(d, off / 512, buf, (uint32_t)(size / 512)) : blk_read(d, off / 512, buf, (uint32_t)(size / 512));
		if (rc == 0 && flush && (i + 1) % flush == 0)
			rc = blk_flush(d);
		off = disk > size ? (off + step) % (disk - size) : 0; /* qemu-img bench wraps so */
	}
	if (rc == 0 && write)
		rc = blk_flush(d);
	double t = now_s() - t0;
	int crc = blk_close(d);
	free(buf);
	if (rc < 0 || crc < 0) {
		fprintf(stderr, "bench_vhd: I/O error %d\n", rc ? rc : crc);
		return 3;
	}
	printf("%.3f\n", t);
	return 0;
}
