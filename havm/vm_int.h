/* havm — private: the VM handle shared by the lifecycle files (vm.c,
 * status.c, online.c, stop.c). */
#ifndef HAVM_HAVM_VM_INT_H
#define HAVM_HAVM_VM_INT_H

#include "havm/lifecycle.h"
#include "havm/runtime.h"

#include <limits.h>

/* Longest .vmc accepted by Open: a VM description, not a disk image. */
#define HAVM_VMC_MAX_BYTES (1u << 20)

struct havm_vm {
	char name[HAVM_VM_NAME_MAX + 1];
	char config[PATH_MAX];      /* the parameter as given */
	char store_dir[PATH_MAX];   /* "dir:" store directory, "" without a store */
	char rundir[PATH_MAX];      /* runtime base directory */
	char config_path[PATH_MAX]; /* resolved by Open, "" before */
	enum havm_stop_policy stop_policy;
	bool require_cluster;
	bool opened;
};

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

/* Sleeps @ms milliseconds, or less when @dl is sooner; false when @dl has
 * passed. Keeps every wait loop bounded. */
bool havm_deadline_sleep(const struct havm_deadline *dl, unsigned ms);

#endif
