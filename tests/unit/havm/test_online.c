/* Unit tests for havm/online.c: the quorum gate (corosync stood in for by
 * the ops table), idempotence when the VM runs, crash recovery, and that a
 * failed vmm start leaves nothing behind. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "havm/quorum_int.h"
#include "havm/runtime.h"
#include "tests/unit/havm/fake_vmm.h"
#include "tests/unit/havm/lifecycle_fixture.h"

static cs_error_t init_rc;
static int quorate;

static cs_error_t f_qinit(quorum_handle_t *h, quorum_callbacks_t *cb, uint32_t *type)
{
	(void)cb;
	*h = 1;
	*type = QUORUM_SET;
	return init_rc;
}
static cs_error_t f_getq(quorum_handle_t h, int *q)
{
	(void)h;
	*q = quorate;
	return CS_OK;
}
static cs_error_t f_fin(uint64_t h)
{
	(void)h;
	return CS_OK;
}
static cs_error_t f_cinit(cmap_handle_t *h)
{
	*h = 2;
	return CS_OK;
}
static cs_error_t f_cstr(cmap_handle_t h, const char *k, char **s)
{
	(void)h, (void)k;
	*s = strdup("prod");
	return CS_OK;
}
static cs_error_t f_cu32(cmap_handle_t h, const char *k, uint32_t *v)
{
	(void)h, (void)k;
	*v = 4;
	return CS_OK;
}

static int setup(void **state)
{
	init_rc = CS_OK;
	quorate = 1;
	havm_corosync = (struct havm_corosync_ops){ f_qinit, f_getq, f_fin, f_cinit, f_cstr, f_cu32, f_fin };
	/* A "vmm" that exits at once with status 1: the start path runs for
	 * real up to the process; the real vmm is tested in
	 * tests/integration/test_lifecycle_vmm.sh. */
	setenv("HAVM_VMM", "/bin/false", 1);
	return lc_setup(state);
}

static void test_online_without_quorum_is_refused_before_any_lock(void **state)
{
	struct lc_fixture *f = *state;
	quorate = 0;
	struct havm_err e;
	havm_err_clear(&e);
	assert_int_equal(havm_online(f->vm, NULL, &e), -EPERM);
	assert_int_equal(e.kind, HAVM_E_NOQUORUM);
	assert_non_null(strstr(e.msg, "vm web1: online: refused: node 4 of cluster 'prod'"));
	assert_int_equal(access(f->rundir, F_OK), -1);
}

static void test_standalone_allowed_unless_cluster_required(void **state)
{
	struct lc_fixture *f = *state;
	init_rc = CS_ERR_LIBRARY; /* corosync not running */
	struct havm_err e;
	havm_err_clear(&e);
	/* Allowed: it gets as far as starting the (failing) vmm. */
	assert_true(havm_online(f->vm, NULL, &e) < 0);
	assert_non_null(strstr(e.msg, "vmm exited with status 1 before it ran"));

	struct havm_vm_params p = { .config = f->config, .rundir = f->rundir, .require_cluster = true };
	struct havm_vm *vm;
	assert_int_equal(havm_vm_new(&vm, &p, &e), 0);
	assert_int_equal(havm_online(vm, NULL, &e), -EPERM);
	assert_int_equal(e.kind, HAVM_E_NOQUORUM);
	assert_non_null(strstr(e.msg, "corosync is not running"));
	havm_close(vm);
}

static void test_online_of_running_vm_succeeds_without_touching_it(void **state)
{
	struct lc_fixture *f = *state;
	pid_t pid = fake_vmm_start(f->rundir, "web1", 0);
	struct havm_deadline dl = havm_deadline_in(2000);
	struct havm_err e;
	havm_err_clear(&e);
	assert_int_equal(havm_online(f->vm, &dl, &e), 0);
	assert_int_equal(e.kind, HAVM_OK);
	assert_int_equal(fake_vmm_reap(pid), 0);
	assert_true(lc_exists(f, HAVM_RUNTIME_PIDFILE));
	fake_vmm_crash(pid);
}

static void test_failed_start_after_crash_leaves_nothing_behind(void **state)
{
	struct lc_fixture *f = *state;
	pid_t pid = fake_vmm_start(f->rundir, "web1", 0);
	fake_vmm_crash(pid);
	struct havm_err e;
	havm_err_clear(&e);
	assert_true(havm_online(f->vm, NULL, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_INTERNAL);
	assert_non_null(strstr(e.msg, "vm web1: vmm exited with status 1"));
	assert_false(lc_exists(f, HAVM_RUNTIME_PIDFILE));
	assert_false(lc_exists(f, HAVM_RUNTIME_SOCKET));
	struct havm_runtime *rt;
	assert_int_equal(havm_runtime_open(&rt, f->rundir, "web1", 0, &e), 0);
	assert_int_equal(havm_runtime_lock_held(rt), 0);
	havm_runtime_close(rt);
	enum havm_vm_status st;
	assert_int_equal(havm_looksalive(f->vm, &st, &e), 0);
	assert_int_equal(st, HAVM_VM_STOPPED);
}

static void test_missing_vmm_program_is_notfound(void **state)
{
	struct lc_fixture *f = *state;
	setenv("HAVM_VMM", "/nonexistent/vmm", 1);
	struct havm_err e;
	havm_err_clear(&e);
	assert_true(havm_online(f->vm, NULL, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "/nonexistent/vmm"));
	setenv("HAVM_VMM", "/bin/false", 1);
}

static void test_online_busy_when_lock_held_without_vmm(void **state)
{
	struct lc_fixture *f = *state;
	pid_t pid = fake_vmm_start(f->rundir, "web1", FAKE_VMM_NO_PIDFILE);
	struct havm_deadline dl = havm_deadline_in(200);
	struct havm_err e;
	havm_err_clear(&e);
	assert_int_equal(havm_online(f->vm, &dl, &e), -EWOULDBLOCK);
	assert_int_equal(e.kind, HAVM_E_BUSY);
	assert_non_null(strstr(e.msg, "vm web1 is locked"));
	fake_vmm_crash(pid);
}

static void test_online_with_missing_config_fails_open(void **state)
{
	struct lc_fixture *f = *state;
	assert_int_equal(unlink(f->config), 0);
	struct havm_err e;
	havm_err_clear(&e);
	assert_int_equal(havm_online(f->vm, NULL, &e), -ENOENT);
	assert_int_equal(e.kind, HAVM_E_NOTFOUND);
}

/* A "vmm" that exits $FAKE_RESTORE_RC when asked to restore and 2 (config)
 * when asked to boot: both before running, so no control socket is needed. */
static void fake_restoring_vmm(struct lc_fixture *f, const char *restore_rc, char *vsv, size_t len)
{
	char prog[PATH_MAX + 16];
	snprintf(prog, sizeof(prog), "%s/vmm", f->dir);
	FILE *fp = fopen(prog, "w");
	assert_non_null(fp);
	fputs("#!/bin/sh\nfor a; do [ \"$a\" = --restore ] && exit $FAKE_RESTORE_RC; done\nexit 2\n", fp);
	fclose(fp);
	assert_int_equal(chmod(prog, 0755), 0);
	setenv("HAVM_VMM", prog, 1);
	setenv("FAKE_RESTORE_RC", restore_rc, 1);
	snprintf(vsv, len, "%s/web1.vsv", f->dir);
	fp = fopen(vsv, "w");
	assert_non_null(fp);
	fputs("state", fp);
	fclose(fp);
}

static bool exists_with(const char *path, const char *suffix)
{
	char p[PATH_MAX + 16];
	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return access(p, F_OK) == 0;
}

static void test_refused_state_is_set_aside_and_the_vm_boots(void **state)
{
	struct lc_fixture *f = *state;
	char vsv[PATH_MAX];
	fake_restoring_vmm(f, "9", vsv, sizeof(vsv)); /* 9: a disk moved on */
	struct havm_err e;
	havm_err_clear(&e);
	enum havm_online_how how = HAVM_ONLINE_RESTORED;
	/* The cold boot is attempted (and fails here: this fake exits 2). */
	assert_true(havm_online_ex(f->vm, 0, NULL, &how, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_CONFIG);
	assert_non_null(strstr(e.msg, "status 2"));
	assert_false(exists_with(vsv, ""));
	assert_true(exists_with(vsv, ".refused"));
	assert_false(lc_exists(f, HAVM_RUNTIME_PIDFILE));
}

static void test_state_failing_for_another_reason_is_kept_and_reported(void **state)
{
	struct lc_fixture *f = *state;
	char vsv[PATH_MAX];
	fake_restoring_vmm(f, "4", vsv, sizeof(vsv)); /* 4: an I/O error, may clear */
	struct havm_err e;
	havm_err_clear(&e);
	assert_true(havm_online(f->vm, NULL, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_IO);
	assert_true(exists_with(vsv, ""));
	assert_false(exists_with(vsv, ".refused"));
}

static void test_restore_only_never_boots(void **state)
{
	struct lc_fixture *f = *state;
	struct havm_err e;
	havm_err_clear(&e);
	setenv("HAVM_VMM", "/bin/true", 1);
	assert_true(havm_online_ex(f->vm, HAVM_ONLINE_RESTORE_ONLY, NULL, NULL, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_STATE);
	assert_non_null(strstr(e.msg, "no saved state"));
	char vsv[PATH_MAX];
	fake_restoring_vmm(f, "3", vsv, sizeof(vsv)); /* 3: damaged */
	assert_true(havm_online_ex(f->vm, HAVM_ONLINE_RESTORE_ONLY, NULL, NULL, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_FORMAT); /* the restore's error, no boot */
	assert_true(exists_with(vsv, ".refused"));
	assert_false(exists_with(vsv, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_online_without_quorum_is_refused_before_any_lock, setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_standalone_allowed_unless_cluster_required, setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_online_of_running_vm_succeeds_without_touching_it, setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_failed_start_after_crash_leaves_nothing_behind, setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_missing_vmm_program_is_notfound, setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_online_busy_when_lock_held_without_vmm, setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_online_with_missing_config_fails_open, setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_refused_state_is_set_aside_and_the_vm_boots, setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_state_failing_for_another_reason_is_kept_and_reported, setup, lc_teardown),
		cmocka_unit_test_setup_teardown(test_restore_only_never_boots, setup, lc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
