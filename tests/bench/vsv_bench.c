/* Benchmark of .vsv save and restore for a 256 MiB guest: an "idle" RAM
 * profile (about 12% of pages non-zero, like the QEMU busybox measurement
 * in the x86 reference note) and a "full" one (every page non-zero). For
 * each: save (open .. commit with fsync and rename), open + validate, RAM
 * load into a fresh anonymous mmap (page cache warm), and the restore
 * total, and the restore total with VSV_RAM_MAP (pass 0 mapped lazily).
 * Prints one markdown table row per profile; median of 5 runs.
 *   bench_vsv DIR */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmcore/vsv/vsv.h"

#define RAM (256ull << 20)
#define RUNS 5

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp);
	return v[RUNS / 2];
}

/* @percent of the pages non-zero, chosen in clusters of @cluster pages. */
static void fill(uint8_t *ram, unsigned percent, unsigned cluster)
{
	uint32_t s = 12345;
	int on = 0;
	for (uint64_t pg = 0; pg < RAM / 4096; pg++) {
		if (pg % cluster == 0) {
			s = s * 1103515245u + 12345u;
			on = (s >> 8) % 100 < percent;
		}
		if (!on)
			continue;
		for (size_t i = 0; i < 4096; i += 4) {
			s = s * 1103515245u + 12345u;
			memcpy(ram + pg * 4096 + i, &s, 4);
		}
	}
}

static int run(const char *dir, const char *name, unsigned percent, unsigned cluster)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/bench.vsv", dir);
	struct vsv_machine_desc d;
	memset(&d, 0, sizeof(d));
	d.ram_size = RAM;
	strcpy(d.cpu_model, "bench");
	uint8_t *ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return 1;
	fill(ram, percent, cluster);
	double save[RUNS], open_ms[RUNS], load[RUNS], total[RUNS], mapped[RUNS];
	struct havm_err e;
	for (int i = 0; i < RUNS; i++) {
		double t0 = now_ms();
		struct vsv_writer *w;
		if (vsv_writer_open(path, &d, &w, &e) < 0 || vsv_ram_pass(w, ram, RAM, NULL, &e) < 0 ||
		    vsv_writer_commit(w, &e) < 0) {
			fprintf(stderr, "bench_vsv: %s\n", e.msg);
			return 1;
		}
		save[i] = now_ms() - t0;
		uint8_t *fresh = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		t0 = now_ms();
		struct vsv_reader *r;
		if (vsv_reader_open(path, &d, &r, &e) < 0) {
			fprintf(stderr, "bench_vsv: %s\n", e.msg);
			return 1;
		}
		double t1 = now_ms();
		if (vsv_ram_load(r, fresh, RAM, VSV_RAM_ZEROED, &e) < 0) {
			fprintf(stderr, "bench_vsv: %s\n", e.msg);
			return 1;
		}
		double t2 = now_ms();
		vsv_reader_close(r);
		open_ms[i] = t1 - t0;
		load[i] = t2 - t1;
		total[i] = t2 - t0;
		if (i == 0 && memcmp(fresh, ram, RAM) != 0) {
			fprintf(stderr, "bench_vsv: restored RAM differs\n");
			return 1;
		}
		munmap(fresh, RAM);
		/* lazy: pass 0 mapped from the file */
		fresh = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		t0 = now_ms();
		if (vsv_reader_open(path, &d, &r, &e) < 0 || vsv_ram_load(r, fresh, RAM, VSV_RAM_MAP, &e) < 0) {
			fprintf(stderr, "bench_vsv: %s\n", e.msg);
			return 1;
		}
		vsv_reader_close(r);
		mapped[i] = now_ms() - t0;
		if (i == 0 && memcmp(fresh, ram, RAM) != 0) {
			fprintf(stderr, "bench_vsv: mapped RAM differs\n");
			return 1;
		}
		munmap(fresh, RAM);
	}
	struct stat st;
	stat(path, &st);
	printf("| %s | %u%% | %.1f MiB | %.1f | %.2f | %.1f | **%.1f** | **%.2f** |\n", name, percent,
	       st.st_size / 1048576.0, median(save), median(open_ms), median(load), median(total), median(mapped));
	unlink(path);
	munmap(ram, RAM);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bench_vsv DIR\n");
		return 2;
	}
	printf("| RAM profile (256 MiB) | non-zero pages | .vsv size | save ms | open+validate ms | RAM load ms | restore, read + CRC ms | restore, VSV_RAM_MAP ms |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	return run(argv[1], "idle, scattered pages", 12, 1) || run(argv[1], "idle, 256 KiB clusters", 12, 64) ||
	       run(argv[1], "full", 100, 1);
}
