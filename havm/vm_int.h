/* havm — private: the VM handle shared by the lifecycle files (vm.c,
 * status.c, online.c, stop.c). */
#ifndef HAVM_HAVM_VM_INT_H
#define HAVM_HAVM_VM_INT_H

#include "havm/lifecycle.h"
#include "havm/runtime.h"

#include <json-c/json.h>
#include <limits.h>

/* Longest .vmc accepted by Open: a VM description, not a disk image. */
#define HAVM_VMC_MAX_BYTES (1u << 20)

struct havm_vm {
	char name[HAVM_VM_NAME_MAX + 1];
	char config[PATH_MAX];      /* the parameter as given */
	char store_dir[PATH_MAX];   /* "dir:" store directory, "" without a store */
	char lun_store[PATH_MAX];   /* an iscsi:// or file: store (GPT objects) */
	char config_obj[64];        /* with lun_store: the .vmc object's name */
	char rundir[PATH_MAX];      /* runtime base directory */
	char config_path[PATH_MAX]; /* resolved by Open, "" before */
	enum havm_stop_policy stop_policy;
	bool require_cluster;
	bool opened;
	char pr_key[32];            /* the pr_key parameter, "" = $HAVM_PR_KEY */
	/* iscsi:// disk URLs of the .vmc (filled by Open) */
	char iscsi_disks[4][1024];
	unsigned n_iscsi_disks;
	/* Set by havm_migrate_in (migrate_stream.c): Online starts the vmm
	 * with `--incoming` this address instead of resuming or booting. */
	char incoming[256];
};

/* Records the VM's parameters (config, store) in its runtime directory for
 * `havm list` (info.c). Best effort: a failure is logged and returned. */
int havm_vm_record_params(struct havm_vm *vm, struct havm_runtime *rt);

/* Opens the VM's runtime directory (flags as havm_runtime_open). */
int havm_vm_runtime(struct havm_vm *vm, struct havm_runtime **rt, unsigned flags,
		    struct havm_err *e) HAVM_MUST_CHECK;

/* The status from an open runtime directory, and the vmm's identity when one
 * is recorded and alive (id->pid = 0 otherwise). */
int havm_vm_probe(struct havm_vm *vm, struct havm_runtime *rt, enum havm_vm_status *st,
		  struct havm_proc_id *id, struct havm_err *e) HAVM_MUST_CHECK;

/* Takes the lock of a VM that is not running and removes a crashed vmm's
 * leftovers, then drops the lock. 0 also when the lock is busy (someone else
 * is starting it: not ours to clean). */
int havm_vm_cleanup_stale(struct havm_vm *vm, struct havm_err *e) HAVM_MUST_CHECK;

/* @dl, or a deadline @ms from now when @dl is NULL or unset: every wait in
 * the lifecycle is bounded even when the caller gives no budget. */
struct havm_deadline havm_deadline_or(const struct havm_deadline *dl, uint64_t ms);

/* control.c: the VM's control socket path, a request {"cmd": @cmd} with its
 * reply (0: "ok":true, *reply for the caller to put; an error reply becomes
 * its kind and message; a socket that does not answer is HAVM_E_IO, or
 * HAVM_E_TIMEOUT), and the "state" of a status reply. */
int havm_vm_socket_path(const struct havm_vm *vm, char *buf, size_t len) HAVM_MUST_CHECK;
int havm_vm_ctl(struct havm_vm *vm, const char *cmd, int timeout_ms, json_object **reply,
		struct havm_err *e) HAVM_MUST_CHECK;
/* The same with a whole request object (e.g. {"cmd":"save","path":P}),
 * borrowed for the call. */
int havm_vm_ctl_req(struct havm_vm *vm, json_object *req, int timeout_ms, json_object **reply,
		    struct havm_err *e) HAVM_MUST_CHECK;
int havm_vm_ctl_state(struct havm_vm *vm, int timeout_ms, char *state, size_t len,
		      struct havm_err *e) HAVM_MUST_CHECK;

/* spawn.c: with the runtime lock held in @rt and the config opened, starts
 * `vmm run CONFIG --control <dir>/ctl.sock [--restore @restore]` detached
 * (own session, stdin /dev/null, output appended to <dir>/vmm.log, the lock
 * as fd 3), records it in the pidfile and waits within @dl until its status
 * says "running". On failure the vmm is killed and reaped and the runtime
 * files removed; the error names how it ended and the last line of its log,
 * and *@exit_status (may be NULL) is the vmm's exit status when it exited
 * by itself before it ran, else -1. */
int havm_vm_spawn(struct havm_vm *vm, struct havm_runtime *rt, const char *restore,
		  const struct havm_deadline *dl, int *exit_status,
		  struct havm_err *e) HAVM_MUST_CHECK;

/* state.c: renames the state file @path to @path + @suffix (replacing an
 * older one) and makes the rename durable (fsync of the directory). */
int havm_state_set_aside(struct havm_vm *vm, const char *path, const char *suffix,
			 struct havm_err *e) HAVM_MUST_CHECK;

/* The time left in @dl as a control request timeout (at least 1 ms, at most
 * INT_MAX). */
int havm_deadline_ctl_ms(const struct havm_deadline *dl);

/* stop.c: waits within @dl until @id is gone and nobody holds the lock. */
int havm_vm_wait_gone(struct havm_vm *vm, struct havm_runtime *rt, const struct havm_proc_id *id,
		      const struct havm_deadline *dl, const char *after,
		      struct havm_err *e) HAVM_MUST_CHECK;

/* fence_check.c: HAVM_E_FENCED when this node's PR key (pr_key parameter,
 * else $HAVM_PR_KEY; none = nothing to check) is missing from one of the
 * VM's iSCSI disks (needs Open). Read-only: reads the keys, registers
 * nothing. LUNs that cannot be reached are HAVM_E_IO. */
int havm_vm_check_fenced(struct havm_vm *vm, struct havm_err *e) HAVM_MUST_CHECK;

/* This node's PR key: the pr_key parameter, else $HAVM_PR_KEY; 0 = none. */
int havm_vm_node_key(const struct havm_vm *vm, uint64_t *key, struct havm_err *e) HAVM_MUST_CHECK;

/* state.c: does the VM's saved state (havm_vm_state_path) exist? A file,
 * or an object of a LUN store. */
int havm_state_exists(struct havm_vm *vm, const char *path, bool *exists, struct havm_err *e) HAVM_MUST_CHECK;

/* Opens the VM's LUN store (read-write: with this node's PR key guard, as
 * the vmm does, so a change is allowed under a WERO reservation). */
struct store;
int havm_vm_store_open(struct havm_vm *vm, bool rdwr, struct store **out, struct havm_err *e) HAVM_MUST_CHECK;

/* Sleeps @ms milliseconds, or less when @dl is sooner; false when @dl has
 * passed. Keeps every wait loop bounded. */
bool havm_deadline_sleep(const struct havm_deadline *dl, unsigned ms);

#endif
