/* havm — Online; see lifecycle.h. */
#define LOG_TAG HAVM_TAG_HAVM
#include "havm/vm_int.h"

#include "common/log.h"
#include "havm/quorum.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* vmm exit statuses that mean "this state file cannot be restored here"
 * (docs/save-restore.md "What is checked on restore"): another machine or
 * disk (config), damaged (format), a disk that moved on (state), a newer
 * version (unsupported). */
static bool state_refused(int status)
{
	return status == havm_err_exit_code(HAVM_E_CONFIG) ||
	       status == havm_err_exit_code(HAVM_E_FORMAT) ||
	       status == havm_err_exit_code(HAVM_E_STATE) ||
	       status == havm_err_exit_code(HAVM_E_UNSUPPORTED);
}

/* Starts the vmm with the lock held: from the saved state when there is
 * one, else (and when vmm refuses it, unless @flags forbid) afresh. */
static int start_vmm(struct havm_vm *vm, struct havm_runtime *rt, unsigned flags,
		     const struct havm_deadline *dl, enum havm_online_how *how, struct havm_err *e)
{
	if (vm->incoming[0]) { /* a live migration in (migrate_stream.c) */
		int rc = havm_vm_spawn(vm, rt, NULL, dl, NULL, e);
		if (rc == 0)
			*how = HAVM_ONLINE_RESTORED;
		return rc;
	}
	char state[PATH_MAX];
	bool have_state = false;
	if (havm_vm_state_path(vm, state, sizeof(state)) == 0) {
		struct havm_err se;
		if (havm_state_exists(vm, state, &have_state, &se) < 0) {
			/* A LUN that cannot be read now: booting afresh would lose
			 * a saved state that may well be there. */
			if (vm->lun_store[0]) {
				*e = se;
				return se.code;
			}
			hlog(LOG_WARNING, "%s; booting afresh", se.msg);
		}
	}
	if (!have_state && (flags & HAVM_ONLINE_RESTORE_ONLY))
		return havm_err_set(e, HAVM_E_STATE, -ENOENT,
				    "vm %s: no saved state %s to resume from", vm->name, state);
	if (have_state) {
		int status;
		int rc = havm_vm_spawn(vm, rt, state, dl, &status, e);
		if (rc == 0) {
			*how = HAVM_ONLINE_RESTORED;
			struct havm_err ce;
			/* Used once: the disks move on from here. */
			if (havm_state_set_aside(vm, state, ".consumed", &ce) < 0)
				hlog(LOG_WARNING, "%s (the guest runs; a later start without a "
				     "new save will be refused by the disk check and boot afresh)",
				     ce.msg);
			hlog(LOG_NOTICE, "vm %s: resumed from %s (now %s.consumed)", vm->name, state,
			     state);
			return 0;
		}
		if (!state_refused(status))
			return rc;
		hlog(LOG_WARNING, "vm %s: saved state %s refused, setting it aside as %s.refused%s: %s",
		     vm->name, state, state,
		     flags & HAVM_ONLINE_RESTORE_ONLY ? "" : " and booting afresh", e->msg);
		struct havm_err ae;
		if (havm_state_set_aside(vm, state, ".refused", &ae) < 0) {
			/* Booting with the file still there would retry it forever. */
			havm_err_prefix(&ae, "the refused state cannot be set aside");
			*e = ae;
			return ae.code;
		}
		if (flags & HAVM_ONLINE_RESTORE_ONLY)
			return rc;
		havm_err_clear(e);
	}
	int rc = havm_vm_spawn(vm, rt, NULL, dl, NULL, e);
	if (rc == 0)
		*how = HAVM_ONLINE_BOOTED;
	return rc;
}

int havm_online(struct havm_vm *vm, const struct havm_deadline *dl, struct havm_err *e)
{
	return havm_online_ex(vm, 0, dl, NULL, e);
}

int havm_online_ex(struct havm_vm *vm, unsigned flags, const struct havm_deadline *dl,
		   enum havm_online_how *how, struct havm_err *e)
{
	struct havm_err local;
	enum havm_online_how how_local;
	if (!e)
		e = &local;
	if (!how)
		how = &how_local;
	*how = HAVM_ONLINE_ALREADY;
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
		rc = start_vmm(vm, rt, flags, &start_by, how, e);
	}
	havm_runtime_close(rt); /* the vmm keeps its own copy of the lock */
	return rc;
}
