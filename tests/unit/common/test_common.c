/* Unit tests for common/: error type, sizes, fault points, full I/O. */
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
#include <sys/wait.h>

#include "common/err.h"
#include "common/fault.h"
#include "common/size.h"
#include "common/sys.h"

static void test_err_set_returns_code_and_formats_message(void **state)
{
	(void)state;
	struct havm_err e;
	havm_err_clear(&e);
	int rc = havm_err_set(&e, HAVM_E_FORMAT, -EINVAL, "disk.vhd: footer checksum 0x%08x, expected 0x%08x", 1u, 2u);
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(e.kind, HAVM_E_FORMAT);
	assert_string_equal(e.msg, "disk.vhd: footer checksum 0x00000001, expected 0x00000002");
}

static void test_err_prefix_adds_context_once(void **state)
{
	(void)state;
	struct havm_err e;
	havm_err_clear(&e);
	havm_err_prefix(&e, "vm web1");
	assert_string_equal(e.msg, "");
	havm_err_set(&e, HAVM_E_IO, -EIO, "read failed");
	havm_err_prefix(&e, "vm %s", "web1");
	assert_string_equal(e.msg, "vm web1: read failed");
}

static void test_err_nonnegative_code_becomes_eio_and_null_is_allowed(void **state)
{
	(void)state;
	assert_int_equal(havm_err_set(NULL, HAVM_E_IO, 0, "x"), -EIO);
	struct havm_err e;
	havm_err_set(&e, HAVM_E_IO, 5, "x");
	assert_int_equal(e.code, -EIO);
}

static void test_err_kind_names_round_trip_and_exit_codes_distinct(void **state)
{
	(void)state;
	for (int k = 0; k < HAVM_E_KIND_COUNT; k++) {
		assert_int_equal(havm_err_kind_from_name(havm_err_kind_name(k)), k);
		for (int j = k + 1; j < HAVM_E_KIND_COUNT; j++)
			if (k != HAVM_E_INTERNAL && j != HAVM_E_INTERNAL)
				assert_int_not_equal(havm_err_exit_code(k), havm_err_exit_code(j));
	}
	assert_string_equal(havm_err_kind_name(HAVM_E_KIND_COUNT), "unknown");
	assert_int_equal(havm_err_exit_code(HAVM_OK), 0);
}

static void test_size_parse_suffixes(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(havm_size_parse("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(havm_size_parse("512M", &v), 0);
	assert_int_equal(v, 512ull << 20);
	assert_int_equal(havm_size_parse("20g", &v), 0);
	assert_int_equal(v, 20ull << 30);
	assert_int_equal(havm_size_parse("1TiB", &v), 0);
	assert_int_equal(v, 1ull << 40);
	assert_int_equal(havm_size_parse("7B", &v), 0);
	assert_int_equal(v, 7);
}

static void test_size_parse_rejects_garbage_and_overflow(void **state)
{
	(void)state;
	uint64_t v = 123;
	assert_int_equal(havm_size_parse("", &v), -EINVAL);
	assert_int_equal(havm_size_parse("-1", &v), -EINVAL);
	assert_int_equal(havm_size_parse("12X", &v), -EINVAL);
	assert_int_equal(havm_size_parse("12Mx", &v), -EINVAL);
	assert_int_equal(havm_size_parse("99999999999999999999", &v), -ERANGE);
	assert_int_equal(havm_size_parse("99999999T", &v), -ERANGE);
	assert_int_equal(v, 123);
}

static void test_size_format(void **state)
{
	(void)state;
	char buf[32];
	assert_string_equal(havm_size_format(512, buf, sizeof(buf)), "512 B");
	assert_string_equal(havm_size_format(3ull << 29, buf, sizeof(buf)), "1.5 GiB");
}

static void test_fault_fires_at_nth_hit_only(void **state)
{
	(void)state;
	havm_fault_arm("step", 3, HAVM_FAULT_FAIL);
	assert_int_equal(havm_fault_hit("other"), 0);
	assert_int_equal(havm_fault_hit("step"), 0);
	assert_int_equal(havm_fault_hit("step"), 0);
	assert_int_equal(havm_fault_hit("step"), 1);
	assert_int_equal(havm_fault_hit("step"), 0);
	assert_int_equal(havm_fault_hits(), 4);
	havm_fault_arm("*", 2, HAVM_FAULT_FAIL);
	assert_int_equal(havm_fault_hit("a"), 0);
	assert_int_equal(havm_fault_hit("b"), 1);
	havm_fault_disarm();
	assert_int_equal(havm_fault_hit("b"), 0);
}

static void test_fault_crash_exits_the_process(void **state)
{
	(void)state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		havm_fault_arm("x", 1, HAVM_FAULT_CRASH);
		havm_fault_hit("x");
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), HAVM_FAULT_EXIT);
}

static int short_calls;
static ssize_t short_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	short_calls++;
	return pwrite(fd, buf, len > 3 ? 3 : len, off);
}

static ssize_t eio_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	(void)fd, (void)buf, (void)len, (void)off;
	errno = EIO;
	return -1;
}

static void test_pwrite_full_loops_over_short_writes_and_reports_errors(void **state)
{
	(void)state;
	char path[] = "/tmp/havm-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	havm_sys.pwrite = short_pwrite;
	assert_int_equal(havm_pwrite_full(fd, "hello world", 11, 0), 0);
	assert_true(short_calls >= 4);
	char buf[12] = { 0 };
	assert_int_equal(havm_pread_full(fd, buf, 11, 0), 0);
	assert_string_equal(buf, "hello world");
	assert_int_equal(havm_pread_full(fd, buf, 11, 5), -EIO);
	havm_sys.pwrite = eio_pwrite;
	assert_int_equal(havm_pwrite_full(fd, "x", 1, 0), -EIO);
	havm_sys_reset();
	assert_int_equal(havm_fsync_dir_of(path), 0);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_set_returns_code_and_formats_message),
		cmocka_unit_test(test_err_prefix_adds_context_once),
		cmocka_unit_test(test_err_nonnegative_code_becomes_eio_and_null_is_allowed),
		cmocka_unit_test(test_err_kind_names_round_trip_and_exit_codes_distinct),
		cmocka_unit_test(test_size_parse_suffixes),
		cmocka_unit_test(test_size_parse_rejects_garbage_and_overflow),
		cmocka_unit_test(test_size_format),
		cmocka_unit_test(test_fault_fires_at_nth_hit_only),
		cmocka_unit_test(test_fault_crash_exits_the_process),
		cmocka_unit_test(test_pwrite_full_loops_over_short_writes_and_reports_errors),
	};
	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
