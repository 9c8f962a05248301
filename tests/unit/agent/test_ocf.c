/* Unit tests for agent/ocf.c: the one table from havm_err kinds to OCF exit
 * codes, and the exit-reason line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"

static enum ocf_rc rc_for(enum havm_err_kind kind, int code)
{
	struct havm_err e;
	havm_err_set(&e, kind, code, "x");
	if (kind == HAVM_OK)
		havm_err_clear(&e);
	return agent_ocf_rc(&e);
}

static void test_every_kind_maps_to_the_documented_ocf_code(void **state)
{
	(void)state;
	assert_int_equal(rc_for(HAVM_OK, 0), OCF_SUCCESS);
	assert_int_equal(agent_ocf_rc(NULL), OCF_SUCCESS);
	assert_int_equal(rc_for(HAVM_E_CONFIG, -EINVAL), OCF_ERR_CONFIGURED);
	assert_int_equal(rc_for(HAVM_E_FORMAT, -EINVAL), OCF_ERR_CONFIGURED);
	assert_int_equal(rc_for(HAVM_E_IO, -EIO), OCF_ERR_GENERIC);
	assert_int_equal(rc_for(HAVM_E_FENCED, -EACCES), OCF_ERR_ARGS);
	assert_int_equal(rc_for(HAVM_E_NOQUORUM, -EPERM), OCF_ERR_GENERIC);
	assert_int_equal(rc_for(HAVM_E_BUSY, -EBUSY), OCF_ERR_GENERIC);
	assert_int_equal(rc_for(HAVM_E_NOTFOUND, -ENOENT), OCF_ERR_INSTALLED);
	assert_int_equal(rc_for(HAVM_E_STATE, -EBUSY), OCF_ERR_GENERIC);
	assert_int_equal(rc_for(HAVM_E_TIMEOUT, -ETIMEDOUT), OCF_ERR_GENERIC);
	assert_int_equal(rc_for(HAVM_E_UNSUPPORTED, -ENOTSUP), OCF_ERR_UNIMPLEMENTED);
	assert_int_equal(rc_for(HAVM_E_INTERNAL, -EIO), OCF_ERR_GENERIC);
	/* No kind ever maps to "not running": that is only the monitor's word. */
	for (int k = 0; k < HAVM_E_KIND_COUNT; k++)
		assert_int_not_equal(rc_for((enum havm_err_kind)k, -EIO), OCF_NOT_RUNNING);
	struct havm_err bogus = { .kind = (enum havm_err_kind)99, .code = -EIO };
	assert_int_equal(agent_ocf_rc(&bogus), OCF_ERR_GENERIC);
}

static void test_permission_errors_are_ocf_err_perm(void **state)
{
	(void)state;
	assert_int_equal(rc_for(HAVM_E_IO, -EACCES), OCF_ERR_PERM);
	assert_int_equal(rc_for(HAVM_E_IO, -EPERM), OCF_ERR_PERM);
}

/* Runs agent_fail with stderr sent to a file and returns what was written. */
static char *capture_fail(const struct havm_err *e, enum ocf_rc *rc)
{
	char path[] = "/tmp/havm-ocf.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	int saved = dup(2);
	fflush(stderr);
	dup2(fd, 2);
	*rc = agent_fail(e);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	static char buf[1024];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_fail_prints_exit_reason_line_with_prefix(void **state)
{
	(void)state;
	struct havm_err e;
	havm_err_set(&e, HAVM_E_NOTFOUND, -ENOENT, "vm web1: /srv/web1.vmc: no such file on this node");
	enum ocf_rc rc;
	unsetenv("OCF_EXIT_REASON_PREFIX");
	assert_string_equal(capture_fail(&e, &rc),
			    "ocf-exit-reason:vm web1: /srv/web1.vmc: no such file on this node\n");
	assert_int_equal(rc, OCF_ERR_INSTALLED);
	setenv("OCF_EXIT_REASON_PREFIX", "REASON:", 1);
	assert_string_equal(capture_fail(&e, &rc),
			    "REASON:vm web1: /srv/web1.vmc: no such file on this node\n");
	unsetenv("OCF_EXIT_REASON_PREFIX");
	havm_err_clear(&e);
	assert_string_equal(capture_fail(&e, &rc), ""); /* success: no reason */
	assert_int_equal(rc, OCF_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_maps_to_the_documented_ocf_code),
		cmocka_unit_test(test_permission_errors_are_ocf_err_perm),
		cmocka_unit_test(test_fail_prints_exit_reason_line_with_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
