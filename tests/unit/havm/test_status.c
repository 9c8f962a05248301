/* Unit tests for havm/status.c: LooksAlive and IsAlive against real
 * processes posing as vmm (tests/unit/havm/fake_vmm.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "havm/runtime.h"
#include "tests/unit/havm/fake_vmm.h"
#include "tests/unit/havm/lifecycle_fixture.h"

static enum havm_vm_status looks(struct lc_fixture *f)
{
	enum havm_vm_status st = (enum havm_vm_status)99;
	struct havm_err e;
	havm_err_clear(&e);
	if (havm_looksalive(f->vm, &st, &e) < 0)
		fail_msg("looksalive: %s", e.msg);
	return st;
}

static void test_never_started_is_stopped_and_creates_nothing(void **state)
{
	struct lc_fixture *f = *state;
	assert_int_equal(looks(f), HAVM_VM_STOPPED);
	assert_int_equal(access(f->rundir, F_OK), -1); /* a monitor changes nothing */
}

static void test_live_vmm_is_running_and_crash_makes_it_stopped(void **state)
{
	struct lc_fixture *f = *state;
	pid_t pid = fake_vmm_start(f->rundir, "web1", 0);
	assert_int_equal(looks(f), HAVM_VM_RUNNING);
	fake_vmm_crash(pid);
	assert_int_equal(looks(f), HAVM_VM_STOPPED);
	/* LooksAlive leaves the crash's files for Online/Offline to clean. */
	assert_true(lc_exists(f, HAVM_RUNTIME_PIDFILE));
}

static void test_config_unreadable_does_not_hide_a_running_vmm(void **state)
{
	struct lc_fixture *f = *state;
	pid_t pid = fake_vmm_start(f->rundir, "web1", 0);
	assert_int_equal(unlink(f->config), 0);
	struct havm_err e;
	assert_true(havm_open(f->vm, &e) < 0);
	assert_int_equal(looks(f), HAVM_VM_RUNNING);
	fake_vmm_crash(pid);
}

static void test_lock_without_pidfile_is_transition(void **state)
{
	struct lc_fixture *f = *state;
	pid_t pid = fake_vmm_start(f->rundir, "web1", FAKE_VMM_NO_PIDFILE);
	assert_int_equal(looks(f), HAVM_VM_TRANSITION);
	fake_vmm_crash(pid);
	assert_int_equal(looks(f), HAVM_VM_STOPPED);
}

static void test_vmm_without_lock_still_counts_as_running(void **state)
{
	struct lc_fixture *f = *state;
	pid_t pid = fake_vmm_start(f->rundir, "web1", FAKE_VMM_NO_LOCK);
	assert_int_equal(looks(f), HAVM_VM_RUNNING);
	fake_vmm_crash(pid);
}

static void test_pidfile_of_other_program_is_not_a_vmm(void **state)
{
	struct lc_fixture *f = *state;
	pid_t pid = fake_vmm_start(f->rundir, "web1", FAKE_VMM_NO_LOCK | FAKE_VMM_OTHER_COMM);
	assert_int_equal(looks(f), HAVM_VM_STOPPED);
	fake_vmm_crash(pid);
}

static void test_isalive_of_vmm_that_does_not_answer_is_io_error(void **state)
{
	struct lc_fixture *f = *state;
	enum havm_vm_status st;
	struct havm_err e;
	havm_err_clear(&e);
	assert_int_equal(havm_isalive(f->vm, &st, &e), 0);
	assert_int_equal(st, HAVM_VM_STOPPED);
	/* The fake vmm has a socket file but nobody listens on it. */
	pid_t pid = fake_vmm_start(f->rundir, "web1", 0);
	assert_true(havm_isalive(f->vm, &st, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_IO);
	assert_int_equal(st, HAVM_VM_RUNNING);
	assert_non_null(strstr(e.msg, "vm web1: status: control socket"));
	fake_vmm_crash(pid);
	assert_string_equal(havm_vm_status_name(HAVM_VM_TRANSITION), "transition");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_never_started_is_stopped_and_creates_nothing, lc_setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_live_vmm_is_running_and_crash_makes_it_stopped, lc_setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_config_unreadable_does_not_hide_a_running_vmm, lc_setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_lock_without_pidfile_is_transition, lc_setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_vmm_without_lock_still_counts_as_running, lc_setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_pidfile_of_other_program_is_not_a_vmm, lc_setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_isalive_of_vmm_that_does_not_answer_is_io_error, lc_setup, lc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
