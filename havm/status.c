/* havm — LooksAlive and IsAlive; see lifecycle.h. */
#define LOG_TAG HAVM_TAG_HAVM
#include "havm/vm_int.h"

#include "common/log.h"

#include <errno.h>
#include <string.h>

int havm_vm_probe(struct havm_vm *vm, struct havm_runtime *rt, enum havm_vm_status *st,
		  struct havm_proc_id *id, struct havm_err *e)
{
	id->pid = 0;
	int held = havm_runtime_lock_held(rt);
	if (held < 0)
		return havm_err_set(e, HAVM_E_IO, held, "vm %s: cannot probe the lock in %s: %s",
				    vm->name, havm_runtime_dir(rt), strerror(-held));
	struct havm_proc_id rec = { 0 };
	bool live = havm_runtime_read_pid(rt, &rec, NULL) == 0 &&
		    havm_proc_id_alive(&rec, HAVM_VMM_COMM);
	if (live)
		*id = rec;
	if (live) {
		if (!held) /* a vmm that dropped its lock: still running, say so */
			hlog(LOG_WARNING, "vm %s: vmm pid %d runs without holding %s/%s", vm->name,
			     (int)rec.pid, havm_runtime_dir(rt), HAVM_RUNTIME_LOCK);
		*st = HAVM_VM_RUNNING;
	} else {
		*st = held ? HAVM_VM_TRANSITION : HAVM_VM_STOPPED;
	}
	return 0;
}

int havm_looksalive(struct havm_vm *vm, enum havm_vm_status *st, struct havm_err *e)
{
	struct havm_runtime *rt = NULL;
	int rc = havm_vm_runtime(vm, &rt, 0, e);
	if (rc == -ENOENT) { /* no runtime directory: it never ran here since boot */
		*st = HAVM_VM_STOPPED;
		return 0;
	}
	if (rc < 0)
		return rc;
	struct havm_proc_id id;
	rc = havm_vm_probe(vm, rt, st, &id, e);
	havm_runtime_close(rt);
	return rc;
}

/* How long IsAlive waits for the vmm's answer. */
#define ISALIVE_TIMEOUT_MS 5000

int havm_isalive(struct havm_vm *vm, enum havm_vm_status *st, struct havm_err *e)
{
	int rc = havm_looksalive(vm, st, e);
	if (rc < 0 || *st != HAVM_VM_RUNNING)
		return rc;
	char state[32];
	json_object *rep = NULL, *j = NULL;
	rc = havm_vm_ctl(vm, "status", ISALIVE_TIMEOUT_MS, &rep, e);
	if (rc < 0)
		return rc; /* the vmm does not answer: not alive */
	snprintf(state, sizeof(state), "%s",
		 json_object_object_get_ex(rep, "state", &j) ? json_object_get_string(j) : "?");
	bool fenced = json_object_object_get_ex(rep, "stop_reason", &j) &&
		      strcmp(json_object_get_string(j), "fenced") == 0;
	json_object_put(rep);
	if (fenced)
		return havm_err_set(e, HAVM_E_FENCED, -EACCES,
				    "vm %s: its vmm stopped the guest: this node was fenced on a disk",
				    vm->name);
	if (strcmp(state, "running") == 0 || strcmp(state, "paused") == 0) {
		/* Thorough: this node's key still on every iSCSI disk? The .vmc
		 * may be unreadable now: then there is nothing to check by. */
		struct havm_err oerr;
		if (!vm->opened && havm_open(vm, &oerr) < 0)
			hlog(LOG_DEBUG, "vm %s: no fencing check: %s", vm->name, oerr.msg);
		return vm->opened ? havm_vm_check_fenced(vm, e) : 0;
	}
	/* "off" (powered off, vmm waiting for quit) or "stopped" (the guest
	 * stopped itself): the process lives, the VM does not. */
	return havm_err_set(e, HAVM_E_STATE, -ESRCH,
			    "vm %s: its vmm runs but reports state \"%s\": the guest is not running",
			    vm->name, state);
}
