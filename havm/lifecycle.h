/* havm — the VM lifecycle on one node, after the MSCS Generic Script entry
 * points that Virtual Server 2005 R2 host clustering used (havm.vbs):
 *
 *   Open       load and check the VM's configuration; change nothing
 *   Online     start the VM (resume from its saved state when it has one);
 *              refused without quorum, never twice on one node
 *   LooksAlive quick check: does its vmm process run here?
 *   IsAlive    thorough check: does the vmm answer, does the guest beat?
 *   Offline    graceful stop per the stop policy: save state, shut down the
 *              guest, or power off
 *   Terminate  immediate forced stop (kill the vmm)
 *   Close      free the handle (it never stops a VM)
 *
 * The OCF agent (agent/) and the `havm` CLI are thin layers over these calls.
 * A handle is made from parameters alone (havm_vm_new), without reading the
 * configuration, so that a VM whose .vmc has become unreadable can still be
 * checked and stopped: its name is the configuration's file name without
 * ".vmc", and its runtime directory follows from the name (havm/runtime.h).
 *
 * Every call returns 0 or a negative errno and fills @e (may be NULL).
 * The running vmm is reached through its control socket
 * (docs/control-protocol.md). Offline by shutdown returns
 * HAVM_E_UNSUPPORTED until vmm can ask a guest to shut down: see
 * havm_offline.
 *
 * Saved state: every VM has one state file, its .vsv (havm_vm_state_path),
 * next to its configuration on shared storage. Offline by save writes it,
 * Online resumes from it and then sets it aside as <vm>.vsv.consumed, so a
 * state is restored at most once; a state vmm refuses is set aside as
 * <vm>.vsv.refused and the VM boots afresh. */
#ifndef HAVM_HAVM_LIFECYCLE_H
#define HAVM_HAVM_LIFECYCLE_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The command name of vmm processes (/proc/<pid>/comm). */
#define HAVM_VMM_COMM "vmm"

enum havm_stop_policy {
	HAVM_STOP_SAVE = 0, /* save the VM's state to its .vsv, then stop */
	HAVM_STOP_SHUTDOWN, /* ask the guest to shut down cleanly */
	HAVM_STOP_POWEROFF, /* pull the virtual plug */
};

/* Parses "save", "shutdown", "poweroff"; -EINVAL for anything else. */
int havm_stop_policy_parse(const char *s, enum havm_stop_policy *out) HAVM_MUST_CHECK;
const char *havm_stop_policy_name(enum havm_stop_policy p);

struct havm_vm_params {
	const char *config; /* the .vmc: an absolute path, or a name in @store */
	const char *store;  /* NULL or "" = none; "dir:/path" = a directory */
	const char *rundir; /* NULL or "" = $HAVM_RUNDIR, else /run/havm */
	enum havm_stop_policy stop_policy;
	/* Refuse to start when corosync is not running (havm/quorum.h): set by
	 * callers that know they are cluster members, e.g. the agent under
	 * Pacemaker. */
	bool require_cluster;
	/* This node's SCSI-3 PR key for disks on iSCSI LUNs (iscsi:// disk
	 * URLs): hex, or "cmap" (from corosync, as fence_havm derives it);
	 * NULL or "" = $HAVM_PR_KEY, else none. Passed to the vmm (self-fencing
	 * guard) and checked by IsAlive. */
	const char *pr_key;
};

/* A point in time on the monotonic clock, for work with a time budget. */
struct havm_deadline {
	uint64_t end_ms; /* 0 = no deadline */
};
struct havm_deadline havm_deadline_in(uint64_t ms);
/* Milliseconds left (0 when passed); UINT64_MAX without a deadline. */
uint64_t havm_deadline_left_ms(const struct havm_deadline *dl);

enum havm_vm_status {
	HAVM_VM_STOPPED = 0, /* no vmm for this VM on this node */
	HAVM_VM_RUNNING,     /* its vmm runs (and, for IsAlive, answers) */
	HAVM_VM_TRANSITION,  /* the lock is held but no live vmm is recorded
				yet: a start or stop is under way */
};
const char *havm_vm_status_name(enum havm_vm_status st);

struct havm_vm;

/* Makes a handle from parameters only (no file is read, nothing created).
 * HAVM_E_CONFIG when a parameter is unusable: config empty, the name derived
 * from it not a valid VM name, a store that is not "dir:/path", "iscsi://"
 * or "file:", a relative rundir. An iscsi:// or file: store
 * (iscsi/store.h) gives a handle that can check and stop the VM, but Open
 * (and so Online and validate-all) returns HAVM_E_UNSUPPORTED for it until
 * vmm can run from a LUN store (STUB). */
int havm_vm_new(struct havm_vm **out, const struct havm_vm_params *p,
		struct havm_err *e) HAVM_MUST_CHECK;

/* Open: resolves and reads the configuration and validates it with vmcore's
 * .vmc parser (docs/vmc.md); its <vm name> must equal the VM name from the
 * file name. Errors: HAVM_E_NOTFOUND (file missing on this node), HAVM_E_IO
 * (unreadable; code -EACCES for permissions), HAVM_E_FORMAT (XML that does
 * not parse, not a regular file, over 1 MiB), HAVM_E_CONFIG (the .vmc's
 * content; the message names file, line and element). */
int havm_open(struct havm_vm *vm, struct havm_err *e) HAVM_MUST_CHECK;

/* Online: succeeds at once when the VM already runs here (even if its
 * configuration has become unreadable); otherwise Open (if not done), gate on
 * quorum, take the VM's runtime lock, recover stale files of a crashed vmm,
 * then start `vmm run CONFIG --control <rundir>/<vm>/ctl.sock` detached,
 * handing it the lock, and wait within @dl (default 30 s) until its control
 * socket reports "running". Errors: HAVM_E_NOQUORUM; HAVM_E_BUSY (locked by
 * something that is not a live vmm within the deadline); Open's errors;
 * HAVM_E_NOTFOUND (no vmm program); the vmm's own exit status as a kind when
 * it dies at once (e.g. HAVM_E_CONFIG), with the last line of its log
 * (<rundir>/<vm>/vmm.log); HAVM_E_TIMEOUT. A failed start leaves nothing
 * running and no runtime files.
 *
 * Saved state: when the VM's .vsv (havm_vm_state_path) exists, the vmm is
 * started with --restore and the guest continues where it was saved; once
 * it runs the file is renamed <vm>.vsv.consumed (fsync'ed), so a stale state
 * is never restored over a disk that has moved on. When vmm refuses the
 * file before the guest runs (exit status 2 another machine or disk, 3
 * damaged, 9 a disk that moved on since the save, 11 a newer version), a
 * WARNING is logged, the file is renamed <vm>.vsv.refused for the admin and
 * the VM boots afresh: a refused state never fails the start. */
int havm_online(struct havm_vm *vm, const struct havm_deadline *dl,
		struct havm_err *e) HAVM_MUST_CHECK;

/* How an Online ended. */
enum havm_online_how {
	HAVM_ONLINE_ALREADY = 0, /* it already ran here: nothing done */
	HAVM_ONLINE_BOOTED,      /* booted afresh (no state, or it was refused) */
	HAVM_ONLINE_RESTORED,    /* resumed from the saved state */
};
const char *havm_online_how_name(enum havm_online_how how);

enum havm_online_flags {
	/* Resume from the saved state or fail: no cold boot (migrate_from).
	 * No state file is HAVM_E_STATE; a refused one is the vmm's error
	 * (the file is still set aside). */
	HAVM_ONLINE_RESTORE_ONLY = 1u << 0,
};

/* Online with @flags; *@how (may be NULL) says what was done. */
int havm_online_ex(struct havm_vm *vm, unsigned flags, const struct havm_deadline *dl,
		   enum havm_online_how *how, struct havm_err *e) HAVM_MUST_CHECK;

/* LooksAlive: from the runtime lock and the pidfile alone (no socket, no
 * config): RUNNING when a live vmm holds this VM, TRANSITION when the lock
 * is held without one, STOPPED otherwise (including after a crash, whose
 * stale files are left for Online/Offline to clean). Changes nothing. */
int havm_looksalive(struct havm_vm *vm, enum havm_vm_status *st,
		    struct havm_err *e) HAVM_MUST_CHECK;

/* IsAlive: LooksAlive, then a status request over the control socket.
 * RUNNING when the vmm answers "running" or "paused"; HAVM_E_STATE (with
 * *st = RUNNING) when it answers but the guest is off or stopped;
 * HAVM_E_IO / HAVM_E_TIMEOUT when it does not answer (within 5 s).
 * With a PR key and disks on iSCSI LUNs (the .vmc is opened for this when
 * readable), each LUN's registered keys are read over a fresh session:
 * HAVM_E_FENCED when this node's key is gone (another node fenced it; the
 * vmm's guard stops the VM at its next disk request), also when the vmm
 * already reports stop reason "fenced". */
int havm_isalive(struct havm_vm *vm, enum havm_vm_status *st,
		 struct havm_err *e) HAVM_MUST_CHECK;

/* Status: everything this node knows of the VM, for `havm status`. Never
 * changes anything. The vmm is asked for its state only when it runs (2 s
 * at most; ctl_error says why it did not answer). saved_state: 1 when the
 * VM's .vsv is present (an Online would resume it), 0 absent, -1 unknown
 * (the store could not be read). */
struct havm_vm_info {
	enum havm_vm_status status; /* LooksAlive's view */
	int pid;                    /* the vmm, 0 when none runs */
	bool answered;              /* the vmm answered a status request */
	char run_state[16];         /* its state: running, paused, off, stopped */
	char stop_reason[32];       /* once off or stopped */
	uint64_t instructions;
	uint64_t guest_time_ns;
	bool restored;              /* it was started from a saved state */
	char ctl_error[256];
	char state_path[4096];      /* the .vsv: a path, or an object name in a LUN store */
	int saved_state;
};
int havm_vm_info(struct havm_vm *vm, struct havm_vm_info *info,
		 struct havm_err *e) HAVM_MUST_CHECK;

/* List: the VMs this node knows, sorted by name: the .vmc objects of
 * @store (NULL = none) and the VMs with a runtime directory under @rundir
 * (NULL = the default base), with the config and store Online recorded for
 * them ("" when unknown). *@out is malloc'ed (free it). */
struct havm_vm_entry {
	char name[65];
	char config[4096];
	char store[4096];
};
int havm_vm_list(const char *store, const char *rundir, struct havm_vm_entry **out, size_t *n,
		 struct havm_err *e) HAVM_MUST_CHECK;

/* Offline: stop per the stop policy within @dl (default 30 s). Succeeds at
 * once (after removing a crashed vmm's stale files) when the VM is not
 * running. poweroff: the vmm's "poweroff" then "quit" requests, then waits
 * until the process is gone and its lock released (HAVM_E_TIMEOUT if not).
 * save: the vmm's "save" request with the VM's state path
 * (havm_vm_state_path; vmm writes it atomically: tmp, fsync, rename), then
 * "quit" and the same wait. A save that fails leaves the previous file
 * intact and the guest running: the error is returned (callers fall back to
 * poweroff). shutdown: HAVM_E_UNSUPPORTED, no guest shutdown request exists
 * (VM Additions). Callers fall back to poweroff, then havm_terminate. The
 * configuration need not be readable: the state path follows from the
 * parameters. */
int havm_offline(struct havm_vm *vm, const struct havm_deadline *dl,
		 struct havm_err *e) HAVM_MUST_CHECK;

/* Terminate: kill the VM's vmm (SIGKILL to the pid recorded with its start
 * time, never a recycled pid), wait within @dl until it is gone and its lock
 * is released, then remove its stale runtime files. Succeeds when the VM is
 * not running. HAVM_E_TIMEOUT when the process or lock outlives @dl;
 * HAVM_E_STATE when the lock is held but no vmm is recorded (a start in
 * progress) until @dl. */
int havm_terminate(struct havm_vm *vm, const struct havm_deadline *dl,
		   struct havm_err *e) HAVM_MUST_CHECK;

/* Live migration, push style through the shared state file: the running
 * vmm's "migrate" request to the VM's state path (pre-copy: RAM copied while
 * the guest runs, paused only for the last pass), then "quit"; the VM is
 * then stopped here (stop reason "migrated") and another node resumes it
 * with havm_online_ex(HAVM_ONLINE_RESTORE_ONLY). */
struct havm_migrate_opts {
	unsigned max_passes;     /* 0 = vmm's default (8) */
	uint64_t converge_pages; /* 0 = vmm's default (256) */
	unsigned downtime_ms;    /* 0 = vmm's default (300): the pre-copy stop rule's limit */
};
struct havm_migrate_report {
	uint64_t bytes;          /* the state file's size */
	unsigned passes;
	bool converged;          /* false: the stop-and-copy fallback was taken */
	double total_ms, downtime_ms;
};
/* Errors: HAVM_E_STATE when the VM does not run here; the vmm's error (the
 * guest then runs on, the previous state file is intact); HAVM_E_TIMEOUT.
 * @opts and @rep may be NULL. */
int havm_migrate_out(struct havm_vm *vm, const struct havm_migrate_opts *opts,
		     const struct havm_deadline *dl, struct havm_migrate_report *rep,
		     struct havm_err *e) HAVM_MUST_CHECK;

/* The VM's saved-state file: <dir of the .vmc>/<vm>.vsv for a path, or
 * <store dir>/<vm>.vsv for a dir: store. Needs no Open. -ENOTSUP for LUN
 * stores (the state would go through store_replace; vmm cannot run from
 * them yet), -ENAMETOOLONG. */
int havm_vm_state_path(const struct havm_vm *vm, char *buf, size_t len) HAVM_MUST_CHECK;

/* Finds the vmm program: $HAVM_VMM if set (it must be executable), else
 * "vmm" in $PATH. HAVM_E_NOTFOUND when there is none (the message says where
 * it looked). */
int havm_vmm_path(char *buf, size_t len, struct havm_err *e) HAVM_MUST_CHECK;

/* Close: frees the handle (NULL is allowed). Never stops the VM. */
void havm_close(struct havm_vm *vm);

/* Changes the stop policy of the handle (callers falling back to poweroff). */
void havm_vm_set_stop_policy(struct havm_vm *vm, enum havm_stop_policy p);

/* Accessors: the VM name, the resolved configuration path (NULL before a
 * successful Open), the runtime base directory, the stop policy. */
const char *havm_vm_name(const struct havm_vm *vm);
const char *havm_vm_config_path(const struct havm_vm *vm);
const char *havm_vm_rundir(const struct havm_vm *vm);
enum havm_stop_policy havm_vm_stop_policy(const struct havm_vm *vm);

#endif
