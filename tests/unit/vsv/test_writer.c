/* Unit tests for vmcore/vsv/writer.c and ram_write.c: round trips through
 * real files, incremental passes, the atomic commit under injected
 * failures at every step, and writer misuse. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/sys.h"
#include "tests/unit/vsv/vsv_test_util.h"

static char dir[64], path[128], tmp[140];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vsv-test.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/vm.vsv", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	havm_sys_reset();
	havm_fault_disarm();
	unlink(tmp);
	unlink(path);
	rmdir(dir);
	return 0;
}

static int save(unsigned seed, int passes, struct havm_err *e)
{
	struct vsv_machine_desc d;
	tu_desc(&d);
	uint8_t *ram = malloc(TU_RAM_SIZE);
	tu_ram(ram, TU_RAM_SIZE, seed);
	struct vsv_writer *w;
	int rc = vsv_writer_open(path, &d, &w, e);
	if (rc == 0 && (rc = tu_write_all(w, seed, ram, passes, e)) < 0)
		vsv_writer_abort(w);
	else if (rc == 0)
		rc = vsv_writer_commit(w, e);
	free(ram);
	return rc;
}

/* NULL when @path holds exactly the state of @seed. */
static const char *check(unsigned seed)
{
	struct vsv_machine_desc d;
	tu_desc(&d);
	struct vsv_reader *r;
	struct havm_err e;
	if (vsv_reader_open(path, &d, &r, &e) < 0) {
		print_error("%s\n", e.msg);
		return "does not open";
	}
	const char *why = tu_check(r, seed);
	vsv_reader_close(r);
	return why;
}

static void test_file_round_trip_leaves_no_temporary(void **state)
{
	(void)state;
	struct havm_err e;
	assert_int_equal(save(2, 2, &e), 0);
	assert_null(check(2));
	assert_int_equal(access(tmp, F_OK), -1);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	/* zero pages are elided: well under the 256 KiB of RAM plus a pass */
	assert_true(st.st_size < (off_t)TU_RAM_SIZE * 3 / 4 + 140 * 1024);
	assert_int_equal(save(3, 1, &e), 0);  /* replaces */
	assert_null(check(3));
}

static void set_bit(uint64_t *bm, unsigned page)
{
	bm[page / 64] |= 1ull << (page % 64);
}

static void test_incremental_passes_override_earlier_pages(void **state)
{
	(void)state;
	struct vsv_machine_desc d;
	tu_desc(&d);
	d.device_count = 0;
	uint8_t *ram = malloc(TU_RAM_SIZE), *got = calloc(1, TU_RAM_SIZE);
	tu_ram(ram, TU_RAM_SIZE, 5);
	struct tu_buf out = {0};
	struct vsv_writer *w;
	struct havm_err e;
	assert_int_equal(vsv_writer_open_sink(tu_sink, &out, "mem", &d, &w, &e), 0);
	assert_int_equal(vsv_ram_pass(w, ram, TU_RAM_SIZE, NULL, &e), TU_RAM_PAGES);
	/* the guest runs on: data page -> zero, zero page -> data, data changes */
	uint64_t dirty[1] = {0};
	memset(ram + 1 * 4096, 0, 4096);
	set_bit(dirty, 1);
	memset(ram + 7 * 4096, 0xab, 4096);
	set_bit(dirty, 7);
	ram[63 * 4096 + 100] ^= 0xff;
	set_bit(dirty, 63);
	assert_int_equal(vsv_ram_pass(w, ram, TU_RAM_SIZE, dirty, &e), 3);
	/* a page dirtied twice: the last pass wins */
	dirty[0] = 0;
	memset(ram + 7 * 4096, 0xcd, 4096);
	set_bit(dirty, 7);
	assert_int_equal(vsv_ram_pass(w, ram, TU_RAM_SIZE, dirty, &e), 1);
	dirty[0] = 0;
	assert_int_equal(vsv_ram_pass(w, ram, TU_RAM_SIZE, dirty, &e), 0);  /* nothing dirty: empty pass */
	assert_int_equal(vsv_writer_commit(w, &e), 0);
	struct vsv_reader *r;
	assert_int_equal(vsv_reader_open_mem(out.p, out.len, "mem", &d, &r, &e), 0);
	struct vsv_file_info info;
	vsv_reader_info(r, &info);
	assert_int_equal(info.ram_passes, 4);
	assert_int_equal(vsv_ram_load(r, got, TU_RAM_SIZE, VSV_RAM_ZEROED, &e), 0);
	assert_memory_equal(got, ram, TU_RAM_SIZE);
	/* without ZEROED the loader clears zero runs itself */
	memset(got, 0x77, TU_RAM_SIZE);
	assert_int_equal(vsv_ram_load(r, got, TU_RAM_SIZE, 0, &e), 0);
	assert_memory_equal(got, ram, TU_RAM_SIZE);
	vsv_reader_close(r);
	free(out.p);
	free(ram);
	free(got);
}

/* A hinted page is recorded as zero without being read (here it is
 * unreadable: PROT_NONE); a page written and then zeroed again is not
 * hinted, is read, and is recorded as zero too. The load gives the RAM. */
static void test_zero_hint_pages_are_not_read(void **state)
{
	(void)state;
	struct vsv_machine_desc d;
	tu_desc(&d);
	d.device_count = 0;
	uint8_t *ram = mmap(NULL, TU_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ram != MAP_FAILED);
	tu_ram(ram, TU_RAM_SIZE, 9);
	memset(ram + 5 * 4096, 0, 2 * 4096);
	memset(ram + 20 * 4096, 0x5a, 4096);
	memset(ram + 20 * 4096, 0, 4096);
	assert_int_equal(mprotect(ram + 5 * 4096, 2 * 4096, PROT_NONE), 0);
	uint64_t hint[1] = {0};
	set_bit(hint, 5);
	set_bit(hint, 6);
	struct tu_buf out = {0};
	struct vsv_writer *w;
	struct havm_err e;
	assert_int_equal(vsv_writer_open_sink(tu_sink, &out, "mem", &d, &w, &e), 0);
	assert_int_equal(vsv_ram_pass_sparse(w, ram, TU_RAM_SIZE, NULL, hint, &e), TU_RAM_PAGES);
	assert_int_equal(vsv_writer_commit(w, &e), 0);
	assert_int_equal(mprotect(ram + 5 * 4096, 2 * 4096, PROT_READ), 0);
	struct vsv_reader *r;
	assert_int_equal(vsv_reader_open_mem(out.p, out.len, "mem", &d, &r, &e), 0);
	uint8_t *got = malloc(TU_RAM_SIZE);
	memset(got, 0x77, TU_RAM_SIZE);
	assert_int_equal(vsv_ram_load(r, got, TU_RAM_SIZE, 0, &e), 0);
	assert_memory_equal(got, ram, TU_RAM_SIZE);
	vsv_reader_close(r);
	free(got);
	free(out.p);
	munmap(ram, TU_RAM_SIZE);
}

static void test_zero_pages_of_fresh_ram_are_not_touched(void **state)
{
	(void)state;
	struct havm_err e;
	assert_int_equal(save(4, 1, &e), 0);
	struct vsv_machine_desc d;
	tu_desc(&d);
	struct vsv_reader *r;
	assert_int_equal(vsv_reader_open(path, &d, &r, &e), 0);
	uint8_t *ram = mmap(NULL, TU_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ram != MAP_FAILED);
	assert_int_equal(vsv_ram_load(r, ram, TU_RAM_SIZE, VSV_RAM_ZEROED, &e), 0);
	unsigned char vec[TU_RAM_PAGES];
	assert_int_equal(mincore(ram, TU_RAM_SIZE, vec), 0);
	uint8_t *want = malloc(TU_RAM_SIZE);
	tu_ram(want, TU_RAM_SIZE, 4);
	unsigned zero = 0;
	for (unsigned i = 0; i < TU_RAM_PAGES; i++) {
		int is_zero = want[i * 4096] == 0 && memcmp(want + i * 4096, want + i * 4096 + 1, 4095) == 0;
		if (is_zero) {
			zero++;
			assert_int_equal(vec[i] & 1, 0);  /* never faulted in */
		} else {
			assert_int_equal(vec[i] & 1, 1);
		}
	}
	assert_true(zero > 5);
	assert_memory_equal(ram, want, TU_RAM_SIZE);
	free(want);
	munmap(ram, TU_RAM_SIZE);
	vsv_reader_close(r);
}

/* File-backed mappings inside [p, p + len) (lines of /proc/self/maps with
 * an inode). */
static int file_mappings(const uint8_t *p, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, inode;
		if (sscanf(line, "%lx-%lx %*s %*x %*x:%*x %lu", &lo, &hi, &inode) == 3 && inode &&
		    lo >= (uintptr_t)p && hi <= (uintptr_t)p + len)
			n++;
	}
	if (f)
		fclose(f);
	return n;
}

/* With few data runs every one is mapped, even a single page; with more
 * runs than RAM / 256 KiB, the shortest are read so the mappings stay
 * within that budget (256 pages: 4 mappings). Either way RAM is equal. */
static void test_mapped_load_maps_short_runs_within_the_budget(void **state)
{
	(void)state;
	static const struct { unsigned first, pages; } sets[2][5] = {
		{ {10, 1}, {20, 2}, {30, 5} },                       /* 3 runs: all mapped */
		{ {10, 1}, {12, 1}, {14, 1}, {20, 2}, {30, 8} },     /* 5 runs: the 2 of >= 2 pages */
	};
	static const int mapped[2] = {3, 2};
	const size_t size = 256 * 4096;
	for (int k = 0; k < 2; k++) {
		uint8_t *src = calloc(1, size);
		for (int j = 0; j < 5 && sets[k][j].pages; j++)
			for (unsigned pg = sets[k][j].first; pg < sets[k][j].first + sets[k][j].pages; pg++)
				memset(src + pg * 4096, 0x30 + (int)pg, 4096);
		struct vsv_machine_desc d;
		tu_desc(&d);
		d.device_count = 0;
		d.ram_size = size;
		struct vsv_writer *w;
		struct havm_err e;
		assert_int_equal(vsv_writer_open(path, &d, &w, &e), 0);
		assert_int_equal(vsv_ram_pass(w, src, size, NULL, &e), 256);
		assert_int_equal(vsv_writer_commit(w, &e), 0);
		struct vsv_reader *r;
		assert_int_equal(vsv_reader_open(path, &d, &r, &e), 0);
		uint8_t *ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(ram != MAP_FAILED);
		assert_int_equal(vsv_ram_load(r, ram, size, VSV_RAM_MAP, &e), 0);
		vsv_reader_close(r);
		assert_int_equal(file_mappings(ram, size), mapped[k]);
		assert_memory_equal(ram, src, size);
		munmap(ram, size);
		free(src);
	}
}

static void test_mapped_load_is_copy_on_write_and_equal(void **state)
{
	(void)state;
	struct havm_err e;
	assert_int_equal(save(6, 2, &e), 0);
	struct vsv_machine_desc d;
	tu_desc(&d);
	struct vsv_reader *r;
	assert_int_equal(vsv_reader_open(path, &d, &r, &e), 0);
	uint8_t *ram = mmap(NULL, TU_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ram != MAP_FAILED);
	assert_int_equal(vsv_ram_load(r, ram, TU_RAM_SIZE, VSV_RAM_MAP, &e), 0);
	vsv_reader_close(r);  /* the mapping outlives the reader */
	uint8_t *want = malloc(TU_RAM_SIZE);
	tu_ram(want, TU_RAM_SIZE, 6);
	assert_memory_equal(ram, want, TU_RAM_SIZE);
	/* the guest writes every page: the file must not change */
	memset(ram, 0xee, TU_RAM_SIZE);
	assert_null(check(6));
	munmap(ram, TU_RAM_SIZE);
	/* memory readers fall back to reading */
	FILE *f = fopen(path, "rb");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	uint8_t *bytes = malloc((size_t)st.st_size);
	assert_int_equal(fread(bytes, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	assert_int_equal(vsv_reader_open_mem(bytes, (size_t)st.st_size, "mem", &d, &r, &e), 0);
	uint8_t *got = calloc(1, TU_RAM_SIZE);
	assert_int_equal(vsv_ram_load(r, got, TU_RAM_SIZE, VSV_RAM_MAP, &e), 0);
	assert_memory_equal(got, want, TU_RAM_SIZE);
	vsv_reader_close(r);
	free(got);
	free(bytes);
	free(want);
	/* long runs (>= 64 pages) are the ones actually mapped */
	struct vsv_machine_desc big;
	memset(&big, 0, sizeof(big));
	big.ram_size = 1u << 20;
	uint8_t *src = malloc(big.ram_size);
	for (size_t i = 0; i < big.ram_size; i++)
		src[i] = (uint8_t)(i * 13 + i / 4096 + 1);
	memset(src + 100 * 4096, 0, 4096);  /* splits it: runs of 100 and 155 pages */
	struct vsv_writer *w;
	assert_int_equal(vsv_writer_open(path, &big, &w, &e), 0);
	assert_int_equal(vsv_ram_pass(w, src, big.ram_size, NULL, &e), 256);
	assert_int_equal(vsv_writer_commit(w, &e), 0);
	assert_int_equal(vsv_reader_open(path, &big, &r, &e), 0);
	ram = mmap(NULL, big.ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_int_equal(vsv_ram_load(r, ram, big.ram_size, VSV_RAM_MAP, &e), 0);
	vsv_reader_close(r);
	unlink(path);  /* the mapping keeps the inode */
	assert_memory_equal(ram, src, big.ram_size);
	memset(ram, 0, big.ram_size);
	munmap(ram, big.ram_size);
	free(src);
}

/* An injected failure at every step of a save: the save reports it and
 * the previous file stays whole — or, after the rename, the new one is. */
static void test_failure_at_every_step_keeps_previous_file(void **state)
{
	(void)state;
	struct havm_err e;
	assert_int_equal(save(1, 2, &e), 0);
	unsigned steps = 0;
	for (unsigned n = 1; n < 1000; n++) {
		havm_fault_arm("*", n, HAVM_FAULT_FAIL);
		havm_err_clear(&e);
		int rc = save(2, 2, &e);
		unsigned hits = havm_fault_hits();
		havm_fault_disarm();
		if (hits < n) {  /* the save got through every point */
			assert_int_equal(rc, 0);
			assert_null(check(2));
			break;
		}
		steps++;
		assert_int_equal(rc, -EIO);
		assert_int_equal(e.kind, HAVM_E_IO);
		assert_non_null(strstr(e.msg, "vm.vsv"));
		assert_int_equal(access(tmp, F_OK), -1);
		const char *old = check(1), *new = check(2);
		if (!(old == NULL || (new == NULL && strstr(e.msg, "directory"))))
			print_error("step %u: %s; old: %s, new: %s\n", n, e.msg, old ? old : "ok", new ? new : "ok");
		/* only the last point (directory fsync) comes after the rename */
		assert_true(old == NULL || (new == NULL && strstr(e.msg, "directory")));
		if (new == NULL) {
			assert_int_equal(save(1, 2, &e), 0);  /* back to the old state */
		}
	}
	assert_true(steps >= 10);
}

static int fail_fsync(int fd)
{
	(void)fd;
	errno = EIO;
	return -1;
}

static int fail_rename(const char *a, const char *b)
{
	(void)a;
	(void)b;
	errno = ENOSPC;
	return -1;
}

static void test_fsync_or_rename_failure_reports_and_keeps_old(void **state)
{
	(void)state;
	struct havm_err e;
	assert_int_equal(save(1, 1, &e), 0);
	havm_sys.fsync = fail_fsync;
	assert_int_equal(save(2, 1, &e), -EIO);
	assert_int_equal(e.kind, HAVM_E_IO);
	assert_non_null(strstr(e.msg, "fsync of"));
	assert_null(check(1));
	assert_int_equal(access(tmp, F_OK), -1);
	havm_sys_reset();
	havm_sys.rename = fail_rename;
	assert_int_equal(save(2, 1, &e), -ENOSPC);
	assert_non_null(strstr(e.msg, "rename of"));
	assert_null(check(1));
	assert_int_equal(access(tmp, F_OK), -1);
}

/* vsv_writer_sync() between passes: the committed file is the same
 * state; a failing fdatasync fails the writer (commit refuses, the old
 * file stays); a sink has nothing to sync. */
static void test_sync_between_passes_keeps_the_file_valid(void **state)
{
	(void)state;
	struct havm_err e;
	assert_int_equal(save(1, 1, &e), 0);
	struct vsv_machine_desc d;
	tu_desc(&d);
	uint8_t *ram = malloc(TU_RAM_SIZE);
	tu_ram(ram, TU_RAM_SIZE, 3);
	struct vsv_writer *w;
	assert_int_equal(vsv_writer_open(path, &d, &w, &e), 0);
	assert_int_equal(vsv_ram_pass(w, ram, TU_RAM_SIZE, NULL, &e), TU_RAM_PAGES);
	assert_int_equal(vsv_writer_sync(w, &e), 0);
	struct stat st;
	assert_int_equal(stat(tmp, &st), 0);
	assert_int_equal((uint64_t)st.st_size, vsv_writer_offset(w));  /* all handed to the file */
	assert_int_equal(tu_write_all(w, 3, ram, 1, &e), 0);
	assert_int_equal(vsv_writer_commit(w, &e), 0);
	assert_null(check(3));

	havm_sys.fdatasync = fail_fsync;
	assert_int_equal(vsv_writer_open(path, &d, &w, &e), 0);
	assert_int_equal(vsv_ram_pass(w, ram, TU_RAM_SIZE, NULL, &e), TU_RAM_PAGES);
	assert_int_equal(vsv_writer_sync(w, &e), -EIO);
	assert_non_null(strstr(e.msg, "fdatasync of"));
	assert_int_equal(vsv_writer_commit(w, &e), -EIO);
	havm_sys_reset();
	assert_null(check(3));
	assert_int_equal(access(tmp, F_OK), -1);

	struct tu_buf out = {0};
	d.device_count = 0;
	assert_int_equal(vsv_writer_open_sink(tu_sink, &out, "mem", &d, &w, &e), 0);
	assert_int_equal(vsv_ram_pass(w, ram, TU_RAM_SIZE, NULL, &e), TU_RAM_PAGES);
	assert_int_equal(vsv_writer_sync(w, &e), 0);
	assert_int_equal(out.len, vsv_writer_offset(w));
	vsv_writer_abort(w);
	free(out.p);
	free(ram);
}

static void test_misuse_is_refused_and_sticky(void **state)
{
	(void)state;
	struct vsv_machine_desc d;
	tu_desc(&d);
	uint8_t *ram = calloc(1, TU_RAM_SIZE);
	struct vsv_writer *w;
	struct havm_err e;
	assert_int_equal(save(1, 1, &e), 0);
	/* a section missing at commit: nothing replaces the old file */
	assert_int_equal(vsv_writer_open(path, &d, &w, &e), 0);
	assert_int_equal(vsv_ram_pass(w, ram, TU_RAM_SIZE, NULL, &e), TU_RAM_PAGES);
	assert_int_equal(vsv_writer_commit(w, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "device cpu.0 has no section"));
	assert_null(check(1));
	assert_int_equal(access(tmp, F_OK), -1);
	/* unknown section, wrong version, twice; then the writer stays failed */
	assert_int_equal(vsv_writer_open(path, &d, &w, &e), 0);
	assert_int_equal(vsv_section_begin(w, "rtc", 0, 1, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not in the machine description"));
	assert_int_equal(vsv_section_begin(w, "uart", 0, 1, &e), -EINVAL);  /* sticky */
	assert_non_null(strstr(e.msg, "rtc"));
	vsv_writer_abort(w);
	assert_int_equal(vsv_writer_open(path, &d, &w, &e), 0);
	assert_int_equal(vsv_section_begin(w, "pic", 0, 1, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "version differs"));
	vsv_writer_abort(w);
	assert_int_equal(vsv_writer_open(path, &d, &w, &e), 0);
	assert_int_equal(vsv_section_begin(w, "uart", 0, 1, &e), 0);
	assert_int_equal(vsv_section_end(w, &e), 0);
	assert_int_equal(vsv_section_begin(w, "uart", 0, 1, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "written twice"));
	vsv_writer_abort(w);
	/* the first pass must be full; the size must match */
	uint64_t dirty[1] = {1};
	assert_int_equal(vsv_writer_open(path, &d, &w, &e), 0);
	assert_int_equal(vsv_ram_pass(w, ram, TU_RAM_SIZE, dirty, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "first pass must be full"));
	vsv_writer_abort(w);
	assert_int_equal(vsv_writer_open(path, &d, &w, &e), 0);
	assert_int_equal(vsv_ram_pass(w, ram, TU_RAM_SIZE / 2, NULL, &e), -EINVAL);
	vsv_writer_abort(w);
	/* a bad description never creates anything */
	d.ram_size = 4097;
	assert_int_equal(vsv_writer_open(path, &d, &w, &e), -EINVAL);
	assert_null(w);
	assert_int_equal(e.kind, HAVM_E_INTERNAL);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_null(check(1));
	free(ram);
}

static int full_sink(void *opaque, const void *buf, size_t len)
{
	size_t *room = opaque;
	(void)buf;
	if (len > *room)
		return -ENOSPC;
	*room -= len;
	return 0;
}

static ssize_t fail_pread(int fd, void *buf, size_t len, off_t off)
{
	(void)fd, (void)buf, (void)len, (void)off;
	errno = EIO;
	return -1;
}

static void test_sink_and_read_errors_are_reported_as_io(void **state)
{
	(void)state;
	struct vsv_machine_desc d;
	tu_desc(&d);
	uint8_t *ram = malloc(TU_RAM_SIZE);
	tu_ram(ram, TU_RAM_SIZE, 8);
	size_t room = 100 * 1024;  /* the "stream" takes 100 KiB, then is full */
	struct vsv_writer *w;
	struct havm_err e;
	assert_int_equal(vsv_writer_open_sink(full_sink, &room, "stream", &d, &w, &e), 0);
	int rc = tu_write_all(w, 8, ram, 2, &e);
	if (rc == 0)
		rc = vsv_writer_commit(w, &e);
	else
		vsv_writer_abort(w);
	assert_int_equal(rc, -ENOSPC);
	assert_int_equal(e.kind, HAVM_E_IO);
	assert_non_null(strstr(e.msg, "stream: write at offset"));
	free(ram);
	/* a read error while opening a good file is I/O, not format */
	assert_int_equal(save(8, 1, &e), 0);
	havm_sys.pread = fail_pread;
	struct vsv_reader *r;
	assert_int_equal(vsv_reader_open(path, &d, &r, &e), -EIO);
	assert_int_equal(e.kind, HAVM_E_IO);
	assert_non_null(strstr(e.msg, "reading header at offset 0"));
}

static void test_description_helpers_validate_names(void **state)
{
	(void)state;
	struct vsv_machine_desc d;
	memset(&d, 0, sizeof(d));
	static const uint8_t u[16];
	assert_int_equal(vsv_desc_add_device(&d, "", 0, 1), -EINVAL);
	assert_int_equal(vsv_desc_add_device(&d, "a-name-too-long!", 0, 1), -EINVAL);
	assert_int_equal(vsv_desc_add_disk(&d, "", u, 1), -EINVAL);
	for (int i = 0; i < VSV_MAX_DEVICES; i++)
		assert_int_equal(vsv_desc_add_device(&d, "dev", (uint32_t)i, 1), 0);
	assert_int_equal(vsv_desc_add_device(&d, "dev", 99, 1), -ENOSPC);
	struct vsv_writer *w;
	struct havm_err e;
	d.devices[3].instance = 2;  /* now listed twice */
	assert_int_equal(vsv_writer_open(path, &d, &w, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "listed twice"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_round_trip_leaves_no_temporary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incremental_passes_override_earlier_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_hint_pages_are_not_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_pages_of_fresh_ram_are_not_touched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mapped_load_is_copy_on_write_and_equal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mapped_load_maps_short_runs_within_the_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_at_every_step_keeps_previous_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fsync_or_rename_failure_reports_and_keeps_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_between_passes_keeps_the_file_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misuse_is_refused_and_sticky, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_and_read_errors_are_reported_as_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_description_helpers_validate_names, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
