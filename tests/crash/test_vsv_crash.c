/* Crash tests for the .vsv writer: a real writer process (this binary
 * re-executed as "writer") is killed at every fault point in turn
 * (HAVM_FAULT_AT=*:N, exit 86 without flushing anything), and with
 * SIGKILL at several points while it streams a 32 MiB RAM image. After
 * every kill the .vsv at the path must open, validate and hold exactly the
 * previous state — or, once the rename happened, exactly the new one:
 * never a mix, never an unreadable file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/sys.h"
#include "tests/unit/vsv/vsv_test_util.h"

#define BIG_RAM (32ull << 20)

static char dir[64], path[128], tmp[140];

/* --- the writer process ------------------------------------------------ */

static unsigned slow_us;

static ssize_t slow_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	usleep(slow_us);  /* widens the window the parent aims its SIGKILL at */
	return pwrite(fd, buf, len, off);
}

/* writer PATH SEED RAM_BYTES SLOW_US: saves the state of SEED. */
static int writer_main(char **argv)
{
	const char *p = argv[2];
	unsigned seed = (unsigned)strtoul(argv[3], NULL, 10);
	uint64_t size = strtoull(argv[4], NULL, 10);
	slow_us = (unsigned)strtoul(argv[5], NULL, 10);
	if (slow_us)
		havm_sys.pwrite = slow_pwrite;
	struct vsv_machine_desc d;
	tu_desc(&d);
	d.ram_size = size;
	uint8_t *ram = malloc(size);
	tu_ram(ram, size, seed);
	struct vsv_writer *w;
	struct havm_err e;
	int rc = vsv_writer_open(p, &d, &w, &e);
	if (rc == 0 && (rc = tu_write_all_size(w, seed, ram, size, 2, &e)) < 0)
		vsv_writer_abort(w);
	else if (rc == 0)
		rc = vsv_writer_commit(w, &e);
	free(ram);
	if (rc < 0) {
		fprintf(stderr, "writer: %s\n", e.msg);
		return 1;
	}
	return 0;
}

/* --- the test side ------------------------------------------------------ */

static pid_t spawn(unsigned seed, uint64_t size, unsigned slow, const char *fault)
{
	char s_seed[16], s_size[32], s_slow[16];
	snprintf(s_seed, sizeof(s_seed), "%u", seed);
	snprintf(s_size, sizeof(s_size), "%llu", (unsigned long long)size);
	snprintf(s_slow, sizeof(s_slow), "%u", slow);
	pid_t pid = fork();
	if (pid == 0) {
		if (fault)
			setenv("HAVM_FAULT_AT", fault, 1);
		else
			unsetenv("HAVM_FAULT_AT");
		execl("/proc/self/exe", "test_vsv_crash", "writer", path, s_seed, s_size, s_slow, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

static int run_writer(unsigned seed, uint64_t size, const char *fault)
{
	int st = wait_status(spawn(seed, size, 0, fault));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Which seed's state the file holds (0 = neither, or unreadable). */
static unsigned holds(uint64_t size, unsigned a, unsigned b)
{
	struct vsv_machine_desc d;
	tu_desc(&d);
	d.ram_size = size;
	struct vsv_reader *r;
	struct havm_err e;
	if (vsv_reader_open(path, &d, &r, &e) < 0) {
		print_error("%s\n", e.msg);
		return 0;
	}
	unsigned which = 0;
	if (!tu_check_size(r, a, size))
		which = a;
	else if (!tu_check_size(r, b, size))
		which = b;
	vsv_reader_close(r);
	return which;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vsv-crash.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/vm.vsv", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(tmp);
	unlink(path);
	rmdir(dir);
	return 0;
}

static void test_crash_at_every_fault_point_leaves_old_or_new_state(void **state)
{
	(void)state;
	assert_int_equal(run_writer(1, TU_RAM_SIZE, NULL), 0);
	assert_int_equal(holds(TU_RAM_SIZE, 1, 2), 1);
	unsigned crashes = 0, saw_new = 0;
	for (unsigned n = 1; n <= 500; n++) {
		char spec[32];
		snprintf(spec, sizeof(spec), "*:%u", n);
		int rc = run_writer(2, TU_RAM_SIZE, spec);
		if (rc == 0) {  /* N is past the last fault point */
			assert_int_equal(holds(TU_RAM_SIZE, 1, 2), 2);
			assert_int_equal(access(tmp, F_OK), -1);
			break;
		}
		assert_int_equal(rc, HAVM_FAULT_EXIT);
		crashes++;
		unsigned h = holds(TU_RAM_SIZE, 1, 2);
		if (h == 0)
			print_error("crash at fault point %u left an unusable file\n", n);
		assert_true(h == 1 || h == 2);
		if (h == 2) {  /* crashed after the rename: restore the old state */
			saw_new++;
			assert_int_equal(run_writer(1, TU_RAM_SIZE, NULL), 0);
		}
	}
	/* open, header, chunks, 6 sections, trailer, fsync, rename, dir fsync */
	print_message("# %u crash points, the new state visible after %u of them\n", crashes, saw_new);
	assert_true(crashes >= 10);
	assert_int_equal(saw_new, 1);  /* only the crash before the dir fsync */
}

static uint64_t file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void test_sigkill_while_streaming_a_large_image_keeps_old_state(void **state)
{
	(void)state;
	assert_int_equal(run_writer(1, BIG_RAM, NULL), 0);
	uint64_t full = file_size(path);
	assert_true(full > BIG_RAM / 2);
	static const unsigned percent[] = { 1, 20, 50, 80, 99 };
	unsigned killed_mid = 0;
	for (size_t i = 0; i < sizeof(percent) / sizeof(percent[0]); i++) {
		uint64_t target = full * percent[i] / 100;
		pid_t pid = spawn(2, BIG_RAM, 3000, NULL);
		int done = 0;
		/* bounded: at most 30 s of polling */
		for (int t = 0; t < 30000 && !done; t++) {
			if (file_size(tmp) >= target) {
				kill(pid, SIGKILL);
				break;
			}
			int st;
			if (waitpid(pid, &st, WNOHANG) == pid)
				done = 1;
			else
				usleep(1000);
		}
		if (!done) {
			int st = wait_status(pid);
			done = !(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		}
		unsigned h = holds(BIG_RAM, 1, 2);
		if (h == 0)
			print_error("SIGKILL at %u%% of the temporary file left an unusable file\n", percent[i]);
		/* the old state, or — if the writer got as far as the rename
		 * before the signal landed — the whole new one */
		assert_true(h == 1 || (h == 2 && access(tmp, F_OK) == -1));
		if (h == 2)
			assert_int_equal(run_writer(1, BIG_RAM, NULL), 0);
		else if (!done)
			killed_mid++;
	}
	assert_true(killed_mid >= 4);
	/* and a save left alone still replaces it */
	assert_int_equal(run_writer(2, BIG_RAM, NULL), 0);
	assert_int_equal(holds(BIG_RAM, 1, 2), 2);
	assert_int_equal(access(tmp, F_OK), -1);
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "writer") == 0)
		return writer_main(argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_crash_at_every_fault_point_leaves_old_or_new_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_while_streaming_a_large_image_keeps_old_state, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
