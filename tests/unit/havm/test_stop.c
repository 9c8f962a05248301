/* Unit tests for havm/stop.c: Terminate kills a (fake) vmm by its recorded
 * identity within a deadline and cleans up; Offline of a stopped VM cleans a
 * crash's leftovers and of a running one is not yet supported. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "havm/runtime.h"
#include "tests/unit/havm/fake_vmm.h"
#include "tests/unit/havm/lifecycle_fixture.h"

/* SIGCHLD is left default, so a killed fake vmm stays a zombie until reaped;
 * the lifecycle treats a zombie as gone, as it must for a real vmm whose
 * parent is elsewhere. */

static void test_terminate_kills_running_vmm_and_cleans_up(void **state)
{
	struct lc_fixture *f = *state;
	pid_t pid = fake_vmm_start(f->rundir, "web1", 0);
	struct havm_deadline dl = havm_deadline_in(5000);
	struct havm_err e;
	havm_err_clear(&e);
	assert_int_equal(havm_terminate(f->vm, &dl, &e), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_false(lc_exists(f, HAVM_RUNTIME_PIDFILE));
	assert_false(lc_exists(f, HAVM_RUNTIME_SOCKET));
	enum havm_vm_status st;
	assert_int_equal(havm_looksalive(f->vm, &st, &e), 0);
	assert_int_equal(st, HAVM_VM_STOPPED);
}

static void test_terminate_of_stopped_vm_succeeds_and_cleans_crash(void **state)
{
	struct lc_fixture *f = *state;
	struct havm_err e;
	assert_int_equal(havm_terminate(f->vm, NULL, &e), 0); /* never ran */
	pid_t pid = fake_vmm_start(f->rundir, "web1", 0);
	fake_vmm_crash(pid);
	assert_true(lc_exists(f, HAVM_RUNTIME_PIDFILE));
	assert_int_equal(havm_terminate(f->vm, NULL, &e), 0);
	assert_false(lc_exists(f, HAVM_RUNTIME_PIDFILE));
}

static void test_terminate_never_kills_a_process_that_is_not_our_vmm(void **state)
{
	struct lc_fixture *f = *state;
	pid_t pid = fake_vmm_start(f->rundir, "web1", FAKE_VMM_NO_LOCK | FAKE_VMM_OTHER_COMM);
	struct havm_err e;
	assert_int_equal(havm_terminate(f->vm, NULL, &e), 0);
	assert_int_equal(fake_vmm_reap(pid), 0); /* still alive */
	assert_int_equal(kill(pid, 0), 0);
	fake_vmm_crash(pid);
}

static void test_terminate_with_lock_but_no_vmm_is_state_error_at_deadline(void **state)
{
	struct lc_fixture *f = *state;
	pid_t pid = fake_vmm_start(f->rundir, "web1", FAKE_VMM_NO_PIDFILE);
	struct havm_deadline dl = havm_deadline_in(200);
	struct havm_err e;
	havm_err_clear(&e);
	assert_int_equal(havm_terminate(f->vm, &dl, &e), -EBUSY);
	assert_int_equal(e.kind, HAVM_E_STATE);
	assert_non_null(strstr(e.msg, "no live vmm is recorded"));
	assert_int_equal(fake_vmm_reap(pid), 0);
	fake_vmm_crash(pid);
}

static void test_offline_stopped_cleans_save_and_poweroff_need_answer_shutdown_unsupported(void **state)
{
	struct lc_fixture *f = *state;
	struct havm_err e;
	havm_err_clear(&e);
	assert_int_equal(havm_offline(f->vm, NULL, &e), 0);
	pid_t pid = fake_vmm_start(f->rundir, "web1", 0);
	/* save is a control request too: a vmm that does not answer fails it
	 * (within the budget) and the VM is left alone. */
	struct havm_deadline dl = havm_deadline_in(1000);
	assert_true(havm_offline(f->vm, &dl, &e) < 0);
	assert_true(e.kind == HAVM_E_IO || e.kind == HAVM_E_TIMEOUT);
	assert_non_null(strstr(e.msg, "save"));
	assert_int_equal(fake_vmm_reap(pid), 0);
	havm_vm_set_stop_policy(f->vm, HAVM_STOP_SHUTDOWN);
	assert_int_equal(havm_offline(f->vm, NULL, &e), -ENOTSUP);
	assert_non_null(strstr(e.msg, "Offline (shutdown)"));
	/* poweroff is a control request: a vmm that does not answer fails it. */
	havm_vm_set_stop_policy(f->vm, HAVM_STOP_POWEROFF);
	assert_true(havm_offline(f->vm, NULL, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_IO);
	assert_non_null(strstr(e.msg, "poweroff"));
	assert_int_equal(fake_vmm_reap(pid), 0); /* untouched */
	fake_vmm_crash(pid);
	assert_true(lc_exists(f, HAVM_RUNTIME_SOCKET));
	assert_int_equal(havm_offline(f->vm, NULL, &e), 0);
	assert_false(lc_exists(f, HAVM_RUNTIME_SOCKET));
	assert_false(lc_exists(f, HAVM_RUNTIME_PIDFILE));
	assert_int_equal(havm_vm_stop_policy(f->vm), HAVM_STOP_POWEROFF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_terminate_kills_running_vmm_and_cleans_up, lc_setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_terminate_of_stopped_vm_succeeds_and_cleans_crash, lc_setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_terminate_never_kills_a_process_that_is_not_our_vmm, lc_setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_terminate_with_lock_but_no_vmm_is_state_error_at_deadline, lc_setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_offline_stopped_cleans_save_and_poweroff_need_answer_shutdown_unsupported, lc_setup, lc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
