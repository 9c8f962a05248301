/* Test helper: a forked process that poses as a VM's vmm the way a real one
 * will — command name "vmm", the runtime lock held, its pidfile written, a
 * control-socket file present — and sleeps (bounded, 60 s) until killed. */
#ifndef HAVM_TESTS_FAKE_VMM_H
#define HAVM_TESTS_FAKE_VMM_H

#include <sys/types.h>

enum fake_vmm_flags {
	FAKE_VMM_NO_LOCK = 1 << 0,    /* run without holding the lock */
	FAKE_VMM_NO_PIDFILE = 1 << 1, /* hold the lock but record no pid */
	FAKE_VMM_OTHER_COMM = 1 << 2, /* command name "notvmm" */
};

/* Starts one; returns once it is set up. */
pid_t fake_vmm_start(const char *base, const char *vm, unsigned flags);

/* SIGKILLs and reaps it (a crash). */
void fake_vmm_crash(pid_t pid);

/* Reaps it if it has exited; 1 when reaped, 0 when still running. */
int fake_vmm_reap(pid_t pid);

#endif
