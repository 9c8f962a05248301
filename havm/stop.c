/* havm — Offline and Terminate; see lifecycle.h. */
#define LOG_TAG HAVM_TAG_HAVM
#include "havm/vm_int.h"

#include "common/log.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>

/* Poll interval of the bounded waits below. */
#define POLL_MS 50
/* Budget of Terminate when the caller gives none. */
#define DEFAULT_TERMINATE_MS 10000

int havm_vm_cleanup_stale(struct havm_vm *vm, struct havm_err *e)
{
	struct havm_runtime *rt = NULL;
	int rc = havm_vm_runtime(vm, &rt, 0, e);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	struct havm_err lerr;
	rc = havm_runtime_lock(rt, &lerr);
	if (rc == 0) {
		rc = havm_runtime_recover(rt, HAVM_VMM_COMM, e);
		rc = rc < 0 ? rc : 0;
	} else if (lerr.kind == HAVM_E_BUSY) {
		rc = 0; /* someone is starting or stopping it: theirs to clean */
	} else {
		*e = lerr;
	}
	havm_runtime_close(rt);
	return rc;
}

/* How long one control request of a stop may take. */
#define CTL_TIMEOUT_MS 5000
/* Budget of Offline when the caller gives none. */
#define DEFAULT_OFFLINE_MS 30000

/* poweroff, then quit: the vmm stops the guest at once and exits. */
static int poweroff(struct havm_vm *vm, struct havm_runtime *rt, const struct havm_proc_id *id,
		    const struct havm_deadline *dl, struct havm_err *e)
{
	json_object *rep = NULL;
	int rc = havm_vm_ctl(vm, "poweroff", CTL_TIMEOUT_MS, &rep, e);
	json_object_put(rep);
	if (rc < 0 && e->kind != HAVM_E_STATE) /* state: already off */
		return rc;
	rc = havm_vm_ctl(vm, "quit", CTL_TIMEOUT_MS, &rep, e);
	json_object_put(rep);
	if (rc < 0 && e->kind != HAVM_E_IO) /* io: it quit before replying */
		return rc;
	return havm_vm_wait_gone(vm, rt, id, dl, "quit", e);
}

/* save, then quit: vmm writes the state file atomically and leaves the
 * guest off ("saved"); a failed save leaves the guest running and the
 * previous file intact. */
static int save(struct havm_vm *vm, struct havm_runtime *rt, const struct havm_proc_id *id,
		const struct havm_deadline *dl, struct havm_err *e)
{
	char path[PATH_MAX];
	int rc = havm_vm_state_path(vm, path, sizeof(path));
	if (rc < 0)
		return havm_err_set(e, rc == -ENOTSUP ? HAVM_E_UNSUPPORTED : HAVM_E_CONFIG, rc,
				    "vm %s: Offline (save): %s", vm->name,
				    rc == -ENOTSUP ? "no state file in a LUN store until vmm runs "
						     "from one"
						   : "state path too long");
	json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("save"));
	json_object_object_add(req, "path", json_object_new_string(path));
	json_object *rep = NULL;
	rc = havm_vm_ctl_req(vm, req, havm_deadline_ctl_ms(dl), &rep, e);
	json_object_put(req);
	if (rc < 0)
		return rc;
	json_object *b = NULL, *t = NULL;
	json_object_object_get_ex(rep, "bytes", &b);
	json_object_object_get_ex(rep, "total_ms", &t);
	hlog(LOG_NOTICE, "vm %s: state saved to %s (%lld bytes in %.1f ms)", vm->name, path,
	     (long long)json_object_get_int64(b), json_object_get_double(t));
	json_object_put(rep);
	rc = havm_vm_ctl(vm, "quit", CTL_TIMEOUT_MS, &rep, e);
	json_object_put(rep);
	if (rc < 0 && e->kind != HAVM_E_IO) /* io: it quit before replying */
		return rc;
	return havm_vm_wait_gone(vm, rt, id, dl, "save and quit", e);
}

int havm_offline(struct havm_vm *vm, const struct havm_deadline *budget, struct havm_err *e)
{
	struct havm_err local;
	if (!e)
		e = &local;
	struct havm_deadline dl = havm_deadline_or(budget, DEFAULT_OFFLINE_MS);
	struct havm_runtime *rt = NULL;
	int rc = havm_vm_runtime(vm, &rt, 0, e);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	enum havm_vm_status st;
	struct havm_proc_id id;
	rc = havm_vm_probe(vm, rt, &st, &id, e);
	if (rc == 0 && st == HAVM_VM_TRANSITION)
		rc = havm_err_set(e, HAVM_E_STATE, -EBUSY,
				  "vm %s: a start or stop is under way (lock held, no vmm recorded)",
				  vm->name);
	else if (rc == 0 && st == HAVM_VM_RUNNING) {
		switch (vm->stop_policy) {
		case HAVM_STOP_POWEROFF:
			rc = poweroff(vm, rt, &id, &dl, e);
			break;
		case HAVM_STOP_SAVE:
			rc = save(vm, rt, &id, &dl, e);
			break;
		case HAVM_STOP_SHUTDOWN:
			rc = havm_err_set(e, HAVM_E_UNSUPPORTED, -ENOTSUP,
					  "vm %s: Offline (shutdown) needs a guest shutdown request "
					  "(VM Additions), which this build lacks",
					  vm->name);
			break;
		}
	}
	havm_runtime_close(rt);
	if (rc < 0)
		return rc;
	if (st == HAVM_VM_RUNNING)
		hlog(LOG_NOTICE, "vm %s: offline (%s)", vm->name, havm_stop_policy_name(vm->stop_policy));
	return havm_vm_cleanup_stale(vm, e);
}

int havm_vm_wait_gone(struct havm_vm *vm, struct havm_runtime *rt, const struct havm_proc_id *id,
		      const struct havm_deadline *dl, const char *after, struct havm_err *e)
{
	for (;;) {
		bool alive = havm_proc_id_alive(id, NULL);
		int held = havm_runtime_lock_held(rt);
		if (!alive && held == 0)
			return 0;
		if (!havm_deadline_sleep(dl, POLL_MS))
			return havm_err_set(e, HAVM_E_TIMEOUT, -ETIMEDOUT,
					    "vm %s: vmm pid %d %s after %s within the deadline",
					    vm->name, (int)id->pid,
					    alive ? "still runs" : "is gone but its lock is still held",
					    after);
	}
}

int havm_terminate(struct havm_vm *vm, const struct havm_deadline *budget, struct havm_err *e)
{
	struct havm_deadline until = havm_deadline_or(budget, DEFAULT_TERMINATE_MS);
	const struct havm_deadline *dl = &until;
	struct havm_runtime *rt = NULL;
	int rc = havm_vm_runtime(vm, &rt, 0, e);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	enum havm_vm_status st;
	struct havm_proc_id id;
	/* A start in progress holds the lock before its vmm is recorded: wait
	 * (bounded) for it to settle one way or the other. */
	while ((rc = havm_vm_probe(vm, rt, &st, &id, e)) == 0 && st == HAVM_VM_TRANSITION) {
		if (!havm_deadline_sleep(dl, POLL_MS)) {
			rc = havm_err_set(e, HAVM_E_STATE, -EBUSY,
					  "vm %s: %s/%s is held but no live vmm is recorded in %s; "
					  "a start or stop is under way",
					  vm->name, havm_runtime_dir(rt), HAVM_RUNTIME_LOCK,
					  HAVM_RUNTIME_PIDFILE);
			break;
		}
	}
	if (rc == 0 && st == HAVM_VM_RUNNING) {
		hlog(LOG_NOTICE, "vm %s: terminating vmm pid %d", vm->name, (int)id.pid);
		if (kill(id.pid, SIGKILL) < 0 && errno != ESRCH)
			rc = havm_err_set(e, HAVM_E_IO, -errno, "vm %s: kill pid %d: %s", vm->name,
					  (int)id.pid, strerror(errno));
		else
			rc = havm_vm_wait_gone(vm, rt, &id, dl, "SIGKILL", e);
	}
	havm_runtime_close(rt);
	if (rc < 0)
		return rc;
	return havm_vm_cleanup_stale(vm, e);
}
