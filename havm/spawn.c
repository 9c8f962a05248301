/* havm — starting a VM's vmm detached, with the runtime lock handed over,
 * and waiting until its control socket says "running". */
#define LOG_TAG HAVM_TAG_HAVM
#include "havm/vm_int.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define POLL_MS 50
/* The fd number the vmm inherits the lock on (documented in runtime.h). */
#define LOCK_FD_IN_VMM 3
#define LOG_LEAF "vmm.log"

/* In the child: detach, wire fds 0-3, exec. Never returns. */
static void exec_vmm(const char *vmm, const char *store, const char *config, const char *sock,
		     const char *from_opt, const char *restore, const char *pr_key, const char *log,
		     int lock_fd)
{
	setsid();
	/* Move the lock out of the way of 0..3 first. */
	int lk = fcntl(lock_fd, F_DUPFD_CLOEXEC, 10);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (lk < 0 || null < 0 || out < 0)
		_exit(127);
	/* dup2 clears close-on-exec on the copies, so exactly 0-3 survive. */
	if (dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 || dup2(lk, LOCK_FD_IN_VMM) < 0)
		_exit(127);
	/* Nothing else of the caller's may leak into a long-lived vmm (a
	 * resource manager's pipes would never see EOF). */
	close_range(LOCK_FD_IN_VMM + 1, ~0u, 0);
	if (chdir("/") < 0)
		_exit(127);
	if (pr_key && *pr_key && setenv("HAVM_PR_KEY", pr_key, 1) < 0)
		_exit(127);
	/* With a LUN store, config and restore are object names in it. */
	char *argv[10];
	int n = 0;
	argv[n++] = (char *)"vmm";
	argv[n++] = (char *)"run";
	if (store) {
		argv[n++] = (char *)"--store";
		argv[n++] = (char *)store;
	}
	argv[n++] = (char *)config;
	argv[n++] = (char *)"--control";
	argv[n++] = (char *)sock;
	if (restore) {
		argv[n++] = (char *)from_opt;
		argv[n++] = (char *)restore;
	}
	argv[n] = NULL;
	execv(vmm, argv);
	dprintf(2, "havm: cannot execute %s: %s\n", vmm, strerror(errno));
	_exit(127);
}

/* The kind whose CLI exit code vmm used (docs/conventions.md), if any. */
static enum havm_err_kind kind_of_exit(int code)
{
	for (int k = HAVM_E_CONFIG; k < HAVM_E_KIND_COUNT; k++)
		if (havm_err_exit_code((enum havm_err_kind)k) == code && k != HAVM_E_INTERNAL)
			return (enum havm_err_kind)k;
	return HAVM_E_INTERNAL;
}

/* The last non-empty line of the vmm's log, for error messages. */
static void last_log_line(const char *log, char *buf, size_t len)
{
	buf[0] = '\0';
	int fd = open(log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char tail[1024];
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(tail) - 1 ? size - (off_t)sizeof(tail) + 1 : 0;
	ssize_t n = pread(fd, tail, sizeof(tail) - 1, from);
	close(fd);
	if (n <= 0)
		return;
	tail[n] = '\0';
	while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
		tail[--n] = '\0';
	const char *nl = strrchr(tail, '\n');
	snprintf(buf, len, "%s", nl ? nl + 1 : tail);
}

/* Describes how the child ended, in @e. */
static int child_ended(struct havm_vm *vm, int status, const char *log, struct havm_err *e)
{
	char last[256];
	last_log_line(log, last, sizeof(last));
	if (WIFEXITED(status)) {
		int code = WEXITSTATUS(status);
		/* 23: the vmm found this node fenced on a disk's LUN (vm.h). */
		enum havm_err_kind k = code == 127 ? HAVM_E_NOTFOUND
				       : code == 23 ? HAVM_E_FENCED
				       : code >= 20 && code <= 22 ? HAVM_E_STATE
				       : kind_of_exit(code);
		return havm_err_set(e, k, -ECHILD, "vm %s: vmm exited with status %d before it ran%s%s",
				    vm->name, code, last[0] ? ": " : "", last);
	}
	return havm_err_set(e, HAVM_E_INTERNAL, -ECHILD, "vm %s: vmm died of signal %d before it ran%s%s",
			    vm->name, WIFSIGNALED(status) ? WTERMSIG(status) : 0, last[0] ? ": " : "", last);
}

int havm_vm_spawn(struct havm_vm *vm, struct havm_runtime *rt, const char *restore,
		  const struct havm_deadline *dl, int *exit_status, struct havm_err *e)
{
	char vmm[PATH_MAX], sock[PATH_MAX], log[PATH_MAX];
	if (exit_status)
		*exit_status = -1;
	int rc = havm_vmm_path(vmm, sizeof(vmm), e);
	if (rc < 0)
		return rc;
	if (havm_vm_socket_path(vm, sock, sizeof(sock)) < 0 ||
	    havm_runtime_path(rt, LOG_LEAF, log, sizeof(log)) < 0)
		return havm_err_set(e, HAVM_E_CONFIG, -ENAMETOOLONG, "vm %s: path too long", vm->name);
	pid_t pid = fork();
	if (pid < 0)
		return havm_err_set(e, HAVM_E_INTERNAL, -errno, "vm %s: fork: %s", vm->name, strerror(errno));
	if (pid == 0)
		exec_vmm(vmm, vm->lun_store[0] ? vm->lun_store : NULL,
			 vm->lun_store[0] ? vm->config_obj : vm->config_path, sock,
			 vm->incoming[0] ? "--incoming" : "--restore", vm->incoming[0] ? vm->incoming : restore,
			 vm->pr_key, log, havm_runtime_lock_fd(rt));

	struct havm_proc_id id;
	if (havm_proc_id_of(pid, &id) < 0) { /* already gone: waitpid tells */
		id.pid = pid;
		id.starttime = 0;
	}
	if ((rc = havm_runtime_write_pid(rt, &id, e)) < 0)
		goto kill_it;
	(void)havm_vm_record_params(vm, rt);
	hlog(LOG_INFO, "vm %s: started %s (pid %d%s%s), waiting for its control socket", vm->name, vmm,
	     (int)pid, restore ? ", restoring " : "", restore ? restore : "");
	for (;;) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			if (exit_status && WIFEXITED(status))
				*exit_status = WEXITSTATUS(status);
			rc = child_ended(vm, status, log, e);
			goto cleanup;
		}
		char state[32];
		struct havm_err cerr;
		uint64_t left = havm_deadline_left_ms(dl);
		int tmo = left < 1000 ? (int)left : 1000;
		if (tmo > 0 && havm_vm_ctl_state(vm, tmo, state, sizeof(state), &cerr) == 0) {
			if (strcmp(state, "running") == 0) {
				hlog(LOG_NOTICE, "vm %s: online (vmm pid %d)", vm->name, (int)pid);
				return 0;
			}
			rc = havm_err_set(e, HAVM_E_STATE, -EPROTO,
					  "vm %s: vmm reports state \"%s\" right after start, expected "
					  "\"running\"",
					  vm->name, state);
			goto kill_it;
		}
		if (!havm_deadline_sleep(dl, POLL_MS)) {
			rc = havm_err_set(e, HAVM_E_TIMEOUT, -ETIMEDOUT,
					  "vm %s: vmm pid %d did not answer on %s within the deadline",
					  vm->name, (int)pid, sock);
			goto kill_it;
		}
	}
kill_it:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
cleanup:;
	struct havm_err rerr;
	if (havm_runtime_recover(rt, HAVM_VMM_COMM, &rerr) < 0)
		hlog(LOG_WARNING, "%s", rerr.msg);
	return rc;
}
