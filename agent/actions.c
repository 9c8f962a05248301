/* VirtualServer — the actions and the OCF rules around them; see agent.h.
 *
 * MSCS entry points map onto OCF actions as in the reference: validate-all =
 * Open, start = Online, monitor depth 0 = LooksAlive, depth 10 = IsAlive,
 * stop = Offline by the stop policy (save: the state to the VM's .vsv, which
 * the next start resumes), then Offline by poweroff if that policy cannot be
 * carried out (a failed save; shutdown, which this build lacks), then
 * Terminate when the graceful phase fails or its share of the budget runs
 * out. migrate_to = offer the running VM (havm/migrate_stream.h: the guest
 * runs on), migrate_from = take the offer: the source pre-copies straight
 * into a target vmm and pauses the guest only for the last pass; without
 * an offer, Online from the state file only (never a cold boot).
 *
 * On a broken environment (ocf-rarun's rules): stop returns 0, a probe 7, a
 * recurring monitor 1, other actions the validation code. But a VM is never
 * reported stopped merely because its configuration is unreadable: the VM's
 * name and runtime directory come from the parameters alone, so the process
 * is always checked, and stop kills a VM it finds even then. */
#define LOG_TAG HAVM_TAG_AGENT
#include "agent/agent.h"

#include "havm/migrate_stream.h"

#include "common/log.h"

#include <errno.h>
#include <limits.h>

/* The VM handle, or NULL (with @e set) when the parameters cannot name a VM. */
static struct havm_vm *vm_for(const struct agent_env *env, struct havm_err *e)
{
	struct havm_vm_params p = agent_env_vm_params(env);
	struct havm_vm *vm = NULL;
	havm_err_clear(e);
	if (havm_vm_new(&vm, &p, e) < 0)
		return NULL;
	return vm;
}

enum ocf_rc agent_validate_all(const struct agent_env *env)
{
	if (env->param_err.kind != HAVM_OK)
		return agent_fail(&env->param_err);
	struct havm_err e;
	struct havm_vm *vm = vm_for(env, &e);
	if (!vm)
		return agent_fail(&e);
	/* Level 0 looks at the parameters only; 10 (our default) also at this
	 * node: the configuration must load and the vmm program must exist. */
	int level = env->check_level < 0 ? 10 : env->check_level;
	enum ocf_rc rc = OCF_SUCCESS;
	char vmm[PATH_MAX];
	if (level >= 10 && (havm_open(vm, &e) < 0 || havm_vmm_path(vmm, sizeof(vmm), &e) < 0))
		rc = agent_fail(&e);
	havm_close(vm);
	return rc;
}

enum ocf_rc agent_start(const struct agent_env *env)
{
	if (env->param_err.kind != HAVM_OK)
		return agent_fail(&env->param_err);
	struct havm_err e;
	struct havm_vm *vm = vm_for(env, &e);
	if (!vm)
		return agent_fail(&e);
	struct havm_deadline dl = agent_budget_total(env);
	enum ocf_rc rc = OCF_SUCCESS;
	enum havm_online_how how;
	if (havm_online_ex(vm, 0, &dl, &how, &e) < 0)
		rc = agent_fail(&e);
	else
		hlog(LOG_NOTICE, "vm %s: online (%s)", havm_vm_name(vm), havm_online_how_name(how));
	havm_close(vm);
	return rc;
}

enum ocf_rc agent_stop(const struct agent_env *env)
{
	struct havm_err e;
	struct havm_vm *vm = vm_for(env, &e);
	if (!vm) {
		/* Without a usable config parameter no VM of ours can be named,
		 * so none can run: "stopped", and no fencing over a typo. */
		hlog(LOG_WARNING, "stop with invalid parameters treated as stopped: %s", e.msg);
		return OCF_SUCCESS;
	}
	if (env->param_err.kind != HAVM_OK)
		hlog(LOG_WARNING, "vm %s: stopping despite invalid parameters: %s", havm_vm_name(vm),
		     env->param_err.msg);
	struct havm_deadline total = agent_budget_total(env);
	struct havm_deadline graceful = agent_budget_graceful(env);
	enum ocf_rc rc = OCF_SUCCESS;
	/* Offline needs no configuration: it talks to the running vmm (and
	 * only cleans up after a crash when nothing runs). */
	bool stopped = havm_offline(vm, &graceful, &e) == 0;
	if (!stopped && env->stop_policy != HAVM_STOP_POWEROFF) {
		hlog(LOG_WARNING, "vm %s: offline (%s) failed, powering off: %s", havm_vm_name(vm),
		     havm_stop_policy_name(env->stop_policy), e.msg);
		havm_vm_set_stop_policy(vm, HAVM_STOP_POWEROFF);
		stopped = havm_offline(vm, &graceful, &e) == 0;
	}
	if (!stopped) {
		hlog(LOG_WARNING, "vm %s: offline failed, terminating: %s", havm_vm_name(vm), e.msg);
		if (havm_terminate(vm, &total, &e) < 0) {
			/* A VM we could not stop: Pacemaker fences this node. */
			rc = agent_fail(&e);
			if (rc == OCF_SUCCESS || rc == OCF_NOT_RUNNING)
				rc = OCF_ERR_GENERIC;
		} else {
			hlog(LOG_NOTICE, "vm %s: terminated", havm_vm_name(vm));
		}
	}
	havm_close(vm);
	return rc;
}

enum ocf_rc agent_monitor(const struct agent_env *env)
{
	struct havm_err e;
	struct havm_vm *vm = vm_for(env, &e);
	if (!vm) {
		if (env->is_probe)
			return OCF_NOT_RUNNING;
		agent_exit_reason("%s", e.msg);
		return OCF_ERR_GENERIC;
	}
	enum havm_vm_status st;
	enum ocf_rc rc;
	int depth = env->check_level < 0 ? 0 : env->check_level;
	bool looked = havm_looksalive(vm, &st, &e) == 0;
	bool asked = looked && st != HAVM_VM_STOPPED && depth >= 10;
	if (asked && havm_isalive(vm, &st, &e) < 0 && e.kind == HAVM_E_UNSUPPORTED) {
		/* OCF: an unimplemented depth falls back to the next lower one. */
		hlog(LOG_INFO, "vm %s: depth %d monitor falls back to depth 0: %s", havm_vm_name(vm),
		     depth, e.msg);
		havm_err_clear(&e);
	}
	if (e.kind != HAVM_OK) {
		rc = agent_fail(&e);
		/* Undetermined is never "stopped"; a fenced VM is a failed
		 * resource here (Pacemaker recovers it; its start on this node is
		 * then refused as fenced, a hard error). */
		if (rc == OCF_SUCCESS || rc == OCF_NOT_RUNNING || e.kind == HAVM_E_FENCED)
			rc = OCF_ERR_GENERIC;
	} else if (st == HAVM_VM_STOPPED) {
		rc = OCF_NOT_RUNNING;
	} else {
		rc = OCF_SUCCESS;
	}
	if (rc == OCF_SUCCESS && env->param_err.kind != HAVM_OK)
		hlog(LOG_WARNING, "vm %s: runs, but the parameters are invalid: %s", havm_vm_name(vm),
		     env->param_err.msg);
	havm_close(vm);
	return rc;
}

enum ocf_rc agent_migrate_to(const struct agent_env *env)
{
	if (env->param_err.kind != HAVM_OK)
		return agent_fail(&env->param_err);
	struct havm_err e;
	struct havm_vm *vm = vm_for(env, &e);
	if (!vm)
		return agent_fail(&e);
	/* vmm stops pre-copy once the dirty pages can be written within the
	 * budget at the bandwidth it measures (vmcore/vsv/precopy.h). */
	struct havm_migrate_opts o = {
		.max_passes = env->migrate_passes,
		.downtime_ms = env->migrate_downtime_ms,
	};
	enum ocf_rc rc = OCF_SUCCESS;
	hlog(LOG_INFO, "vm %s: migrate_to %s", havm_vm_name(vm),
	     *env->migrate_target ? env->migrate_target : "(target unset)");
	/* The guest keeps running: the copy and the pause happen when the
	 * target's migrate_from takes the offer. */
	int orc = havm_migrate_offer(vm, &o, 0, &e);
	if (orc == 0) {
		hlog(LOG_NOTICE, "vm %s: offered to %s for live migration; the guest runs on until it takes it",
		     havm_vm_name(vm), *env->migrate_target ? env->migrate_target : "?");
		havm_close(vm);
		return OCF_SUCCESS;
	}
	if (e.kind == HAVM_E_UNSUPPORTED) {
		/* No shared directory for an offer (a LUN store): push style,
		 * pre-copy into the state file, the source then stopped. */
		hlog(LOG_INFO, "vm %s: %s; migrating through the state file", havm_vm_name(vm), e.msg);
		struct havm_deadline dl = agent_budget_total(env);
		struct havm_migrate_report r;
		orc = havm_migrate_out(vm, &o, &dl, &r, &e);
		if (orc == 0)
			hlog(r.downtime_ms > env->migrate_downtime_ms ? LOG_WARNING : LOG_NOTICE,
			     "vm %s: migrated to %s: downtime %.1f ms (budget %u ms), %u passes%s, total %.1f ms",
			     havm_vm_name(vm), *env->migrate_target ? env->migrate_target : "?", r.downtime_ms,
			     env->migrate_downtime_ms, r.passes, r.converged ? "" : " (stop-and-copy fallback)",
			     r.total_ms);
	}
	if (orc < 0) {
		rc = agent_fail(&e);
		if (rc == OCF_SUCCESS || rc == OCF_NOT_RUNNING)
			rc = OCF_ERR_GENERIC;
	}
	havm_close(vm);
	return rc;
}

enum ocf_rc agent_migrate_from(const struct agent_env *env)
{
	if (env->param_err.kind != HAVM_OK)
		return agent_fail(&env->param_err);
	struct havm_err e;
	struct havm_vm *vm = vm_for(env, &e);
	if (!vm)
		return agent_fail(&e);
	struct havm_deadline dl = agent_budget_total(env);
	const char *src = *env->migrate_source ? env->migrate_source : "(source unset)";
	enum ocf_rc rc = OCF_SUCCESS;
	struct havm_migrate_report r;
	int mrc = havm_migrate_in(vm, &dl, &r, &e);
	if (mrc == 0) {
		hlog(r.downtime_ms > env->migrate_downtime_ms ? LOG_WARNING : LOG_NOTICE,
		     "vm %s: migrate_from %s: migrated in: downtime %.1f ms (budget %u ms), %u passes%s, "
		     "%llu bytes, total %.1f ms",
		     havm_vm_name(vm), src, r.downtime_ms, env->migrate_downtime_ms, r.passes,
		     r.converged ? "" : " (stop-and-copy)", (unsigned long long)r.bytes, r.total_ms);
		havm_close(vm);
		return OCF_SUCCESS;
	}
	if (e.kind != HAVM_E_NOTFOUND && e.kind != HAVM_E_UNSUPPORTED) {
		rc = agent_fail(&e);
		if (rc == OCF_SUCCESS || rc == OCF_NOT_RUNNING)
			rc = OCF_ERR_GENERIC;
		havm_close(vm);
		return rc;
	}
	/* No offer: resume the state a source wrote (a stop that saved, or
	 * `havm migrate-out`), never a cold boot: that would silently lose
	 * the guest's memory. Failing instead lets Pacemaker recover with
	 * stop and start. Online returns once the vmm reports "running". */
	enum havm_online_how how;
	if (havm_online_ex(vm, HAVM_ONLINE_RESTORE_ONLY, &dl, &how, &e) < 0) {
		rc = agent_fail(&e);
		if (rc == OCF_SUCCESS || rc == OCF_NOT_RUNNING)
			rc = OCF_ERR_GENERIC;
	} else {
		hlog(LOG_NOTICE, "vm %s: migrate_from %s: %s", havm_vm_name(vm), src, havm_online_how_name(how));
	}
	havm_close(vm);
	return rc;
}
