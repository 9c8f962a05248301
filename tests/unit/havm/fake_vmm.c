/* Test helper: a fake vmm process; see fake_vmm.h. */
#include "tests/unit/havm/fake_vmm.h"

#include "havm/runtime.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t fake_vmm_start(const char *base, const char *vm, unsigned flags)
{
	int p[2];
	if (pipe(p) < 0)
		abort();
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		close(p[0]);
		prctl(PR_SET_NAME, flags & FAKE_VMM_OTHER_COMM ? "notvmm" : "vmm");
		struct havm_runtime *rt = NULL;
		struct havm_err e;
		struct havm_proc_id id;
		if (havm_runtime_open(&rt, base, vm, HAVM_RUNTIME_CREATE, &e) < 0)
			_exit(1);
		if (!(flags & FAKE_VMM_NO_LOCK) && havm_runtime_lock(rt, &e) < 0)
			_exit(1);
		if (!(flags & FAKE_VMM_NO_PIDFILE) &&
		    (havm_proc_id_of(getpid(), &id) < 0 || havm_runtime_write_pid(rt, &id, &e) < 0))
			_exit(1);
		char sock[4096];
		if (havm_runtime_path(rt, HAVM_RUNTIME_SOCKET, sock, sizeof(sock)) == 0) {
			FILE *fp = fopen(sock, "w");
			if (fp)
				fclose(fp);
		}
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		for (int i = 0; i < 600; i++)
			usleep(100000);
		_exit(0);
	}
	close(p[1]);
	char c;
	if (read(p[0], &c, 1) != 1)
		abort();
	close(p[0]);
	return pid;
}

void fake_vmm_crash(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int fake_vmm_reap(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == pid;
}
