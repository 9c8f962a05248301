/* Unit tests for havm/runtime.c: the per-VM lock, pidfile and crash recovery,
 * with real forked processes as competitors and as crashed "vmm"s. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "havm/runtime.h"

struct fixture {
	char base[PATH_MAX];
};

static int setup(void **state)
{
	umask(022);
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->base, sizeof(f->base), "/tmp/havm-rt.XXXXXX");
	if (!mkdtemp(f->base))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->base);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static struct havm_runtime *open_vm(struct fixture *f, const char *vm)
{
	struct havm_runtime *rt = NULL;
	struct havm_err e;
	assert_int_equal(havm_runtime_open(&rt, f->base, vm, HAVM_RUNTIME_CREATE, &e), 0);
	return rt;
}

static bool exists(const struct havm_runtime *rt, const char *leaf)
{
	char p[PATH_MAX];
	assert_int_equal(havm_runtime_path(rt, leaf, p, sizeof(p)), 0);
	return access(p, F_OK) == 0;
}

static void touch(const struct havm_runtime *rt, const char *leaf, const char *text)
{
	char p[PATH_MAX];
	assert_int_equal(havm_runtime_path(rt, leaf, p, sizeof(p)), 0);
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_rundir_base_prefers_param_then_env_then_default(void **state)
{
	(void)state;
	unsetenv("HAVM_RUNDIR");
	assert_string_equal(havm_rundir_base(NULL), "/run/havm");
	assert_string_equal(havm_rundir_base(""), "/run/havm");
	setenv("HAVM_RUNDIR", "/tmp/x", 1);
	assert_string_equal(havm_rundir_base(NULL), "/tmp/x");
	assert_string_equal(havm_rundir_base("/srv/run"), "/srv/run");
	unsetenv("HAVM_RUNDIR");
}

static void test_vm_names_accept_safe_and_reject_paths(void **state)
{
	(void)state;
	assert_true(havm_vm_name_valid("web1"));
	assert_true(havm_vm_name_valid("db-2.prod_a+b"));
	assert_false(havm_vm_name_valid(""));
	assert_false(havm_vm_name_valid(NULL));
	assert_false(havm_vm_name_valid("."));
	assert_false(havm_vm_name_valid(".."));
	assert_false(havm_vm_name_valid("a/b"));
	assert_false(havm_vm_name_valid("-x"));
	assert_false(havm_vm_name_valid("a b"));
	char long_name[HAVM_VM_NAME_MAX + 2];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_false(havm_vm_name_valid(long_name));
	long_name[HAVM_VM_NAME_MAX] = '\0';
	assert_true(havm_vm_name_valid(long_name));
}

static void test_open_creates_directory_and_rejects_bad_input(void **state)
{
	struct fixture *f = *state;
	char base[PATH_MAX];
	snprintf(base, sizeof(base), "%s/nested/run", f->base);
	struct havm_runtime *rt = NULL;
	struct havm_err e;
	assert_int_equal(havm_runtime_open(&rt, base, "web1", HAVM_RUNTIME_CREATE, &e), 0);
	struct stat st;
	assert_int_equal(stat(havm_runtime_dir(rt), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0750);
	assert_string_equal(havm_runtime_vm(rt), "web1");
	havm_runtime_close(rt);

	/* Without CREATE a missing directory is -ENOENT and nothing is made. */
	assert_int_equal(havm_runtime_open(&rt, base, "web9", 0, &e), -ENOENT);
	assert_null(rt);
	char web9[PATH_MAX];
	snprintf(web9, sizeof(web9), "%s/web9", base);
	assert_int_equal(access(web9, F_OK), -1);
	assert_int_equal(havm_runtime_open(&rt, base, "web1", 0, &e), 0);
	havm_runtime_close(rt);

	assert_true(havm_runtime_open(&rt, "relative/dir", "web1", HAVM_RUNTIME_CREATE, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_CONFIG);
	assert_non_null(strstr(e.msg, "relative/dir"));
	assert_null(rt);
	assert_true(havm_runtime_open(&rt, f->base, "../etc", HAVM_RUNTIME_CREATE, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_CONFIG);
	assert_non_null(strstr(e.msg, "../etc"));

	/* A file where the directory should be is an I/O error naming the path. */
	char file[PATH_MAX];
	snprintf(file, sizeof(file), "%s/plainfile", f->base);
	FILE *fp = fopen(file, "w");
	fclose(fp);
	assert_true(havm_runtime_open(&rt, file, "vm", HAVM_RUNTIME_CREATE, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_IO);
	assert_non_null(strstr(e.msg, "plainfile"));
}

static void test_second_lock_in_same_process_is_busy(void **state)
{
	struct fixture *f = *state;
	struct havm_runtime *a = open_vm(f, "web1"), *b = open_vm(f, "web1"), *other = open_vm(f, "web2");
	struct havm_err e;
	assert_int_equal(havm_runtime_lock(a, &e), 0);
	assert_int_equal(havm_runtime_lock(a, &e), 0); /* idempotent on the holder */
	assert_int_equal(havm_runtime_lock(b, &e), -EWOULDBLOCK);
	assert_int_equal(e.kind, HAVM_E_BUSY);
	assert_non_null(strstr(e.msg, "vm web1 is locked"));
	assert_int_equal(havm_runtime_lock(other, &e), 0); /* other VMs are independent */
	assert_int_equal(havm_runtime_lock_held(b), 1);
	havm_runtime_unlock(a);
	assert_int_equal(havm_runtime_lock_held(b), 0);
	assert_int_equal(havm_runtime_lock(b, &e), 0);
	havm_runtime_close(a);
	havm_runtime_close(b);
	havm_runtime_close(other);
}

/* A forked competitor tries to take the lock the parent holds, and the
 * parent tries to take a lock a live child holds. */
static void test_forked_competitor_cannot_take_held_lock(void **state)
{
	struct fixture *f = *state;
	struct havm_runtime *rt = open_vm(f, "web1");
	struct havm_err e;
	assert_int_equal(havm_runtime_lock(rt, &e), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The child's inherited descriptor is closed first, as exec would
		 * (O_CLOEXEC); it competes through its own open. */
		close(havm_runtime_lock_fd(rt));
		struct havm_runtime *mine = NULL;
		struct havm_err ce;
		if (havm_runtime_open(&mine, f->base, "web1", HAVM_RUNTIME_CREATE, &ce) < 0)
			_exit(2);
		int rc = havm_runtime_lock(mine, &ce);
		_exit(rc == -EWOULDBLOCK && ce.kind == HAVM_E_BUSY ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	havm_runtime_close(rt);
}

/* Forks a "vmm" that takes the lock, writes its pidfile and a socket file,
 * tells the parent through a pipe, then sleeps until killed. */
static pid_t spawn_locked_vmm(struct fixture *f, const char *vm)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		prctl(PR_SET_NAME, "vmm");
		struct havm_runtime *rt = NULL;
		struct havm_err e;
		struct havm_proc_id id;
		if (havm_runtime_open(&rt, f->base, vm, HAVM_RUNTIME_CREATE, &e) < 0 || havm_runtime_lock(rt, &e) < 0 ||
		    havm_proc_id_of(getpid(), &id) < 0 || havm_runtime_write_pid(rt, &id, &e) < 0)
			_exit(1);
		touch(rt, HAVM_RUNTIME_SOCKET, "");
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		for (int i = 0; i < 600; i++) /* bounded: 60 s at most */
			usleep(100000);
		_exit(0);
	}
	close(p[1]);
	char c;
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

static void test_crashed_vmm_releases_lock_and_recover_removes_stale_files(void **state)
{
	struct fixture *f = *state;
	pid_t child = spawn_locked_vmm(f, "web1");
	struct havm_runtime *rt = open_vm(f, "web1");
	struct havm_err e;
	assert_int_equal(havm_runtime_lock_held(rt), 1);
	assert_int_equal(havm_runtime_lock(rt, &e), -EWOULDBLOCK);
	char want[32];
	snprintf(want, sizeof(want), "vmm pid %d", (int)child);
	assert_non_null(strstr(e.msg, want));

	struct havm_proc_id id;
	assert_int_equal(havm_runtime_read_pid(rt, &id, &e), 0);
	assert_int_equal(id.pid, child);
	assert_int_equal(havm_proc_id_alive(&id, "vmm"), 1);

	kill(child, SIGKILL);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(havm_proc_id_alive(&id, "vmm"), 0);
	assert_int_equal(havm_runtime_lock_held(rt), 0);
	assert_int_equal(havm_runtime_lock(rt, &e), 0);
	assert_true(exists(rt, HAVM_RUNTIME_PIDFILE));
	assert_true(exists(rt, HAVM_RUNTIME_SOCKET));
	assert_int_equal(havm_runtime_recover(rt, "vmm", &e), 2);
	assert_false(exists(rt, HAVM_RUNTIME_PIDFILE));
	assert_false(exists(rt, HAVM_RUNTIME_SOCKET));
	assert_int_equal(havm_runtime_recover(rt, "vmm", &e), 0); /* clean now */
	havm_runtime_close(rt);
}

/* The lock handed to a child (fork keeps the open file description) stays
 * held after the parent drops its copy, and ends with the child. */
static void test_lock_inherited_by_child_outlives_parent_copy(void **state)
{
	struct fixture *f = *state;
	struct havm_runtime *rt = open_vm(f, "web1"), *probe = open_vm(f, "web1");
	struct havm_err e;
	assert_int_equal(havm_runtime_lock(rt, &e), 0);
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[1]);
		char c;
		(void)!read(p[0], &c, 1); /* wait until the parent says go */
		_exit(0);
	}
	close(p[0]);
	havm_runtime_unlock(rt);
	assert_int_equal(havm_runtime_lock_fd(rt), -1);
	assert_int_equal(havm_runtime_lock_held(probe), 1);
	assert_int_equal(havm_runtime_lock(probe, &e), -EWOULDBLOCK);
	close(p[1]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(havm_runtime_lock_held(probe), 0);
	assert_int_equal(havm_runtime_lock(probe, &e), 0);
	havm_runtime_close(rt);
	havm_runtime_close(probe);
}

static void test_recover_refuses_while_pidfile_names_live_vmm(void **state)
{
	struct fixture *f = *state;
	struct havm_runtime *rt = open_vm(f, "web1");
	struct havm_err e;
	struct havm_proc_id self;
	assert_int_equal(havm_proc_id_of(getpid(), &self), 0);
	assert_int_equal(havm_runtime_recover(rt, NULL, &e), -EPERM); /* needs the lock */
	assert_int_equal(e.kind, HAVM_E_INTERNAL);
	assert_int_equal(havm_runtime_lock(rt, &e), 0);
	assert_int_equal(havm_runtime_write_pid(rt, &self, &e), 0);
	touch(rt, HAVM_RUNTIME_SOCKET, "");
	/* A live process with the recorded start time: a vmm without its lock. */
	assert_int_equal(havm_runtime_recover(rt, NULL, &e), -EBUSY);
	assert_int_equal(e.kind, HAVM_E_BUSY);
	assert_true(exists(rt, HAVM_RUNTIME_PIDFILE));
	assert_true(exists(rt, HAVM_RUNTIME_SOCKET));
	/* The same pid with another command name is not our vmm: stale. */
	assert_int_equal(havm_runtime_recover(rt, "vmm-not-this", &e), 2);
	/* A recycled pid (same pid, other start time) is stale too. */
	struct havm_proc_id recycled = self;
	recycled.starttime += 1;
	assert_int_equal(havm_runtime_write_pid(rt, &recycled, &e), 0);
	assert_int_equal(havm_runtime_recover(rt, NULL, &e), 1);
	havm_runtime_close(rt);
}

static void test_pidfile_round_trip_and_malformed_content(void **state)
{
	struct fixture *f = *state;
	struct havm_runtime *rt = open_vm(f, "web1");
	struct havm_err e;
	struct havm_proc_id id = { .pid = 4242, .starttime = 123456789012ULL }, got;
	assert_int_equal(havm_runtime_read_pid(rt, &got, &e), -ENOENT);
	assert_int_equal(havm_runtime_write_pid(rt, &id, &e), 0);
	assert_int_equal(havm_runtime_read_pid(rt, &got, &e), 0);
	assert_int_equal(got.pid, 4242);
	assert_true(got.starttime == 123456789012ULL);
	assert_false(exists(rt, HAVM_RUNTIME_PIDFILE ".tmp"));

	static const char *const bad[] = { "", "4242\n", "4242 12", "x 1\n", "0 5\n",
					   "4242 12\nextra", "-1 5\n", "99999999999 5\n",
					   "4242  12\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		touch(rt, HAVM_RUNTIME_PIDFILE, bad[i]);
		havm_err_clear(&e);
		assert_int_equal(havm_runtime_read_pid(rt, &got, &e), -EINVAL);
		assert_int_equal(e.kind, HAVM_E_FORMAT);
		assert_non_null(strstr(e.msg, "vmm.pid"));
	}
	/* Recovery treats a malformed pidfile as stale. */
	assert_int_equal(havm_runtime_lock(rt, &e), 0);
	assert_int_equal(havm_runtime_recover(rt, "vmm", &e), 1);
	havm_runtime_close(rt);
}

static void test_proc_id_detects_exit_zombie_and_command_name(void **state)
{
	(void)state;
	struct havm_proc_id self, other;
	assert_int_equal(havm_proc_id_of(getpid(), &self), 0);
	assert_true(self.starttime > 0);
	assert_int_equal(havm_proc_id_alive(&self, NULL), 1);
	char comm[32] = "";
	prctl(PR_GET_NAME, comm);
	assert_int_equal(havm_proc_id_alive(&self, comm), 1);
	assert_int_equal(havm_proc_id_alive(&self, "vmm-other"), 0);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	/* Wait (bounded) until the child has exited but is not reaped. */
	int i;
	for (i = 0; i < 200 && havm_proc_id_of(pid, &other) == 0; i++)
		usleep(10000);
	assert_true(i < 200);
	assert_int_equal(havm_proc_id_of(pid, &other), -ESRCH);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(havm_proc_id_of(pid, &other), -ESRCH);
	struct havm_proc_id none = { .pid = 0, .starttime = 0 };
	assert_int_equal(havm_proc_id_alive(&none, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rundir_base_prefers_param_then_env_then_default),
		cmocka_unit_test(test_vm_names_accept_safe_and_reject_paths),
		cmocka_unit_test_setup_teardown(test_open_creates_directory_and_rejects_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_lock_in_same_process_is_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forked_competitor_cannot_take_held_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crashed_vmm_releases_lock_and_recover_removes_stale_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_inherited_by_child_outlives_parent_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_refuses_while_pidfile_names_live_vmm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pidfile_round_trip_and_malformed_content, setup, teardown),
		cmocka_unit_test(test_proc_id_detects_exit_zombie_and_command_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
