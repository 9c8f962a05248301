/* havm — Online; see lifecycle.h. */
#define LOG_TAG HAVM_TAG_HAVM
#include "havm/vm_int.h"

#include "common/log.h"
#include "havm/quorum.h"

#include <errno.h>
#include <stdio.h>

#define POLL_MS 50
/* How long a busy lock may take to settle when the caller gives no budget. */
#define DEFAULT_LOCK_WAIT_MS 2000
/* How long a vmm may take to answer after its start, without a budget. */
#define DEFAULT_START_MS 30000

/* Takes the VM's lock. A busy lock is fine when a live vmm holds it (the VM
 * runs: *running = true); otherwise a monitor's probe or another start holds
 * it for a moment, so retry within @dl. */
static int lock_or_running(struct havm_vm *vm, struct havm_runtime *rt, bool *running,
			   const struct havm_deadline *dl, struct havm_err *e)
{
	*running = false;
	for (;;) {
		int rc = havm_runtime_lock(rt, e);
		if (rc == 0 || e->kind != HAVM_E_BUSY)
			return rc;
		enum havm_vm_status st;
		struct havm_proc_id id;
		struct havm_err perr;
		if (havm_vm_probe(vm, rt, &st, &id, &perr) == 0 && st == HAVM_VM_RUNNING) {
			*running = true;
			havm_err_clear(e);
			return 0;
		}
		if (!havm_deadline_sleep(dl, POLL_MS))
			return rc; /* e still says who holds it */
	}
}

int havm_online(struct havm_vm *vm, const struct havm_deadline *dl, struct havm_err *e)
{
	struct havm_err local;
	if (!e)
		e = &local;
	havm_err_clear(e);
	/* Already running here: success, whatever the configuration says now
	 * (OCF: start of a started resource succeeds). */
	enum havm_vm_status st;
	int rc = havm_looksalive(vm, &st, e);
	if (rc < 0)
		return rc;
	if (st == HAVM_VM_RUNNING) {
		hlog(LOG_INFO, "vm %s: already online on this node", vm->name);
		return 0;
	}
	if (!vm->opened && (rc = havm_open(vm, e)) < 0)
		return rc;
	struct havm_cluster_info ci;
	char what[HAVM_VM_NAME_MAX + 16];
	snprintf(what, sizeof(what), "vm %s: online", vm->name);
	if ((rc = havm_cluster_query(&ci, e)) < 0 ||
	    (rc = havm_quorum_gate(&ci, vm->require_cluster, what, e)) < 0)
		return rc;

	struct havm_runtime *rt = NULL;
	if ((rc = havm_vm_runtime(vm, &rt, HAVM_RUNTIME_CREATE, e)) < 0)
		return rc;
	bool running;
	struct havm_deadline until = havm_deadline_or(dl, DEFAULT_LOCK_WAIT_MS);
	rc = lock_or_running(vm, rt, &running, &until, e);
	if (rc < 0 || running) {
		if (running)
			hlog(LOG_INFO, "vm %s: already online on this node", vm->name);
		havm_runtime_close(rt);
		return rc;
	}
	rc = havm_runtime_recover(rt, HAVM_VMM_COMM, e);
	if (rc >= 0) {
		struct havm_deadline start_by = havm_deadline_or(dl, DEFAULT_START_MS);
		rc = havm_vm_spawn(vm, rt, &start_by, e);
	}
	havm_runtime_close(rt); /* the vmm keeps its own copy of the lock */
	return rc;
}
