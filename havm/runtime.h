/* havm — the per-VM runtime directory on one node: the lock that keeps a VM
 * from running twice here, the pidfile of its vmm, and stale-file recovery.
 *
 * Layout, base = the rundir parameter, else $HAVM_RUNDIR, else /run/havm:
 *
 *   <base>/<vm>/lock     flock(2) LOCK_EX held for as long as the VM runs
 *   <base>/<vm>/vmm.pid  "<pid> <starttime>\n" of the vmm process
 *   <base>/<vm>/ctl.sock the vmm's control socket (created by vmm)
 *
 * The lock is the authority on "this VM runs on this node": whoever starts a
 * vmm takes it first (havm_runtime_lock) and hands the locked descriptor to
 * the child (dup2 to a fixed fd in the child: an flock belongs to the open
 * file description, so it lives exactly as long as the vmm or its last fd
 * copy). A crashed vmm therefore releases the lock by itself; its pidfile and
 * socket stay behind and havm_runtime_recover() removes them.
 *
 * The pidfile carries the process start time (field 22 of /proc/<pid>/stat),
 * so a recycled pid is never mistaken for our vmm. */
#ifndef HAVM_HAVM_RUNTIME_H
#define HAVM_HAVM_RUNTIME_H

#include "common/err.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define HAVM_RUNDIR_DEFAULT "/run/havm"
#define HAVM_RUNTIME_LOCK "lock"
#define HAVM_RUNTIME_PIDFILE "vmm.pid"
#define HAVM_RUNTIME_SOCKET "ctl.sock"
/* Longest VM name: it becomes a directory name and part of a socket path
 * (sun_path holds 108 bytes). */
#define HAVM_VM_NAME_MAX 64

/* The identity of a process: pid plus start time in clock ticks since boot. */
struct havm_proc_id {
	pid_t pid;
	uint64_t starttime;
};

struct havm_runtime;

/* The base directory: @param when non-NULL and non-empty, else $HAVM_RUNDIR,
 * else HAVM_RUNDIR_DEFAULT. The result is borrowed from @param, the
 * environment or a constant. */
const char *havm_rundir_base(const char *param);

/* True when @name is a usable VM name: 1..HAVM_VM_NAME_MAX characters of
 * [A-Za-z0-9._+-], not starting with '.' or '-'. */
bool havm_vm_name_valid(const char *name);

enum havm_runtime_flags {
	HAVM_RUNTIME_CREATE = 1 << 0, /* make the directories when missing */
};

/* Opens the runtime directory of VM @vm under @base; with HAVM_RUNTIME_CREATE
 * it is made (mode 0750, the base 0755) when missing, without it a missing
 * directory returns -ENOENT (no message: "nothing runs here"), so read-only
 * callers such as a monitor change nothing. Takes no lock. Errors:
 * HAVM_E_CONFIG for a bad name or a relative base, HAVM_E_IO when the
 * directory cannot be made (the message names the path). */
int havm_runtime_open(struct havm_runtime **out, const char *base, const char *vm,
		      unsigned flags, struct havm_err *e) HAVM_MUST_CHECK;

/* Releases the lock if held here and frees @rt (NULL is allowed). */
void havm_runtime_close(struct havm_runtime *rt);

/* The VM's directory, and the path of one file in it. */
const char *havm_runtime_dir(const struct havm_runtime *rt);
const char *havm_runtime_vm(const struct havm_runtime *rt);
int havm_runtime_path(const struct havm_runtime *rt, const char *leaf, char *buf,
		      size_t len) HAVM_MUST_CHECK;

/* Takes the VM's lock without waiting. 0 when this caller now holds it;
 * HAVM_E_BUSY (-EWOULDBLOCK) when another process does, with the holder's pid
 * from the pidfile in the message when there is one. */
int havm_runtime_lock(struct havm_runtime *rt, struct havm_err *e) HAVM_MUST_CHECK;

/* The locked descriptor (for handing to the vmm), or -1 when not held. */
int havm_runtime_lock_fd(const struct havm_runtime *rt);

/* Drops this process's copy of the lock descriptor. A child that inherited
 * it keeps the lock. */
void havm_runtime_unlock(struct havm_runtime *rt);

/* Whether any process holds the VM's lock. Probes with a shared lock that is
 * released at once, so it never blocks; 1 = held elsewhere, 0 = free (or held
 * by this very handle), <0 = -errno. */
int havm_runtime_lock_held(const struct havm_runtime *rt) HAVM_MUST_CHECK;

/* Writes the pidfile for @id atomically (temporary file, fsync, rename). */
int havm_runtime_write_pid(struct havm_runtime *rt, const struct havm_proc_id *id,
			   struct havm_err *e) HAVM_MUST_CHECK;

/* Reads the pidfile: 0 and @id filled; -ENOENT when there is none;
 * HAVM_E_FORMAT (-EINVAL) when it does not hold "<pid> <starttime>". */
int havm_runtime_read_pid(const struct havm_runtime *rt, struct havm_proc_id *id,
			  struct havm_err *e) HAVM_MUST_CHECK;

/* Fills @id for a live @pid (reads /proc/<pid>/stat): 0, or -ESRCH when the
 * process is gone, or -errno. */
int havm_proc_id_of(pid_t pid, struct havm_proc_id *id) HAVM_MUST_CHECK;

/* 1 when @id names a live process with the same start time and, if @comm is
 * non-NULL, that command name (/proc/<pid>/comm, e.g. "vmm"); 0 otherwise. */
int havm_proc_id_alive(const struct havm_proc_id *id, const char *comm);

/* After a crash: call with the lock held. If the pidfile names a live
 * process that matches (@comm as above), a vmm runs without holding the lock
 * and nothing is touched: HAVM_E_BUSY. Otherwise removes the pidfile and the
 * control socket and returns how many files it removed (0 when clean). */
int havm_runtime_recover(struct havm_runtime *rt, const char *comm,
			 struct havm_err *e) HAVM_MUST_CHECK;

#endif
