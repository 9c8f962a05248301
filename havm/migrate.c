/* havm — live migration out of this node: the vmm's "migrate" request and
 * the end of the source vmm (havm_vm_migrate_req, shared with the stream
 * migration in migrate_stream.c), and the push style through the shared
 * state file; see lifecycle.h (havm_migrate_out).
 *
 * The source does all the copying: the vmm's pre-copy "migrate" writes the
 * VM's state path (RAM while the guest runs, the guest paused only for the
 * last pass), then the vmm quits. The target then only restores the file
 * (havm_online_ex with HAVM_ONLINE_RESTORE_ONLY), so the guest never runs
 * in two places: it is off here before the file that resumes it is
 * complete. */
#define LOG_TAG HAVM_TAG_HAVM
#include "havm/migrate_int.h"
#include "havm/vm_int.h"

#include "common/log.h"

#include <errno.h>
#include <limits.h>

/* How long the quit after a migration may take when the deadline allows. */
#define QUIT_TIMEOUT_MS 5000

static void fill_report(json_object *rep, struct havm_migrate_report *r)
{
	json_object *v = NULL;
	if (json_object_object_get_ex(rep, "bytes", &v))
		r->bytes = (uint64_t)json_object_get_int64(v);
	if (json_object_object_get_ex(rep, "passes", &v))
		r->passes = (unsigned)json_object_get_int(v);
	if (json_object_object_get_ex(rep, "converged", &v))
		r->converged = json_object_get_boolean(v);
	if (json_object_object_get_ex(rep, "total_ms", &v))
		r->total_ms = json_object_get_double(v);
	if (json_object_object_get_ex(rep, "downtime_ms", &v))
		r->downtime_ms = json_object_get_double(v);
}

static void add_opts(json_object *req, const struct havm_migrate_opts *opts)
{
	if (opts && opts->max_passes)
		json_object_object_add(req, "max_passes", json_object_new_int((int)opts->max_passes));
	if (opts && opts->converge_pages)
		json_object_object_add(req, "converge_pages",
				       json_object_new_int64((int64_t)opts->converge_pages));
	if (opts && opts->downtime_ms)
		json_object_object_add(req, "downtime_ms", json_object_new_int((int)opts->downtime_ms));
}

int havm_vm_migrate_req(struct havm_vm *vm, json_object *req, const struct havm_deadline *dl,
			struct havm_migrate_report *out, struct havm_err *e)
{
	*out = (struct havm_migrate_report){ 0 };
	struct havm_runtime *rt = NULL;
	int rc = havm_vm_runtime(vm, &rt, 0, e);
	if (rc == -ENOENT)
		return havm_err_set(e, HAVM_E_STATE, -ESRCH, "vm %s: migrate: not running on this node",
				    vm->name);
	if (rc < 0)
		return rc;
	enum havm_vm_status st;
	struct havm_proc_id id;
	bool migrated = false;
	rc = havm_vm_probe(vm, rt, &st, &id, e);
	if (rc == 0 && st != HAVM_VM_RUNNING)
		rc = havm_err_set(e, HAVM_E_STATE, -ESRCH, "vm %s: migrate: not running on this node (%s)",
				  vm->name, havm_vm_status_name(st));
	if (rc < 0)
		goto out;
	json_object *rep = NULL;
	rc = havm_vm_ctl_req(vm, req, havm_deadline_ctl_ms(dl), &rep, e);
	if (rc < 0)
		goto out; /* vmm: the guest runs on */
	fill_report(rep, out);
	json_object_put(rep);
	migrated = true;
	rc = havm_vm_ctl(vm, "quit", QUIT_TIMEOUT_MS, &rep, e);
	json_object_put(rep);
	if (rc < 0 && e->kind != HAVM_E_IO) /* io: it quit before replying */
		goto out;
	havm_err_clear(e);
	rc = havm_vm_wait_gone(vm, rt, &id, dl, "migrate and quit", e);
out:
	havm_runtime_close(rt);
	if (rc < 0 && migrated) {
		/* The guest is off and its state handed over: killing the vmm
		 * loses nothing, and a half-quit vmm must not linger here. */
		hlog(LOG_WARNING, "vm %s: migrated, but the vmm did not quit (%s): terminating",
		     vm->name, e->msg);
		rc = havm_terminate(vm, dl, e);
	}
	if (rc < 0)
		return rc;
	return havm_vm_cleanup_stale(vm, e);
}

int havm_migrate_out(struct havm_vm *vm, const struct havm_migrate_opts *opts,
		     const struct havm_deadline *budget, struct havm_migrate_report *out,
		     struct havm_err *e)
{
	struct havm_err local;
	struct havm_migrate_report rep_local;
	if (!e)
		e = &local;
	if (!out)
		out = &rep_local;
	*out = (struct havm_migrate_report){ 0 };
	havm_err_clear(e);
	struct havm_deadline dl = havm_deadline_or(budget, 120000);
	char path[PATH_MAX];
	int rc = havm_vm_state_path(vm, path, sizeof(path));
	if (rc < 0)
		return havm_err_set(e, rc == -ENOTSUP ? HAVM_E_UNSUPPORTED : HAVM_E_CONFIG, rc,
				    "vm %s: migrate: %s", vm->name,
				    rc == -ENOTSUP ? "no state file in a LUN store until vmm runs from one"
						   : "state path too long");
	json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("migrate"));
	json_object_object_add(req, "path", json_object_new_string(path));
	add_opts(req, opts);
	hlog(LOG_INFO, "vm %s: migrating out through %s", vm->name, path);
	rc = havm_vm_migrate_req(vm, req, &dl, out, e);
	json_object_put(req);
	if (rc == 0 || out->passes)
		hlog(LOG_NOTICE,
		     "vm %s: migrated out to %s: %u passes%s, %llu bytes, total %.1f ms, downtime %.1f ms",
		     vm->name, path, out->passes, out->converged ? "" : " (stop-and-copy fallback)",
		     (unsigned long long)out->bytes, out->total_ms, out->downtime_ms);
	return rc;
}

void havm_migrate_add_opts(json_object *req, const struct havm_migrate_opts *opts)
{
	add_opts(req, opts);
}
