/* VirtualServer — the actions and the OCF rules around them; see agent.h.
 *
 * MSCS entry points map onto OCF actions as in the reference: validate-all =
 * Open, start = Online, monitor depth 0 = LooksAlive, depth 10 = IsAlive,
 * stop = Offline by the stop policy, then Offline by poweroff if that policy
 * cannot be carried out (save and shutdown are not in vmm yet), then
 * Terminate when the graceful phase fails or its share of the budget runs
 * out.
 *
 * On a broken environment (ocf-rarun's rules): stop returns 0, a probe 7, a
 * recurring monitor 1, other actions the validation code. But a VM is never
 * reported stopped merely because its configuration is unreadable: the VM's
 * name and runtime directory come from the parameters alone, so the process
 * is always checked, and stop kills a VM it finds even then. */
#define LOG_TAG HAVM_TAG_AGENT
#include "agent/agent.h"

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
	if (havm_online(vm, &dl, &e) < 0)
		rc = agent_fail(&e);
	else
		hlog(LOG_NOTICE, "vm %s: online", havm_vm_name(vm));
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
		if (rc == OCF_SUCCESS || rc == OCF_NOT_RUNNING)
			rc = OCF_ERR_GENERIC; /* undetermined is never "stopped" */
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

static enum ocf_rc migrate(const struct agent_env *env, const char *peer_what, const char *peer)
{
	if (env->param_err.kind != HAVM_OK)
		return agent_fail(&env->param_err);
	struct havm_err e;
	struct havm_vm *vm = vm_for(env, &e);
	if (!vm)
		return agent_fail(&e);
	havm_err_set(&e, HAVM_E_UNSUPPORTED, -ENOTSUP,
		     "vm %s: %s (%s %s) needs the vmm's live hand-off, which this build lacks",
		     havm_vm_name(vm), env->action, peer_what, *peer ? peer : "unset");
	havm_close(vm);
	return agent_fail(&e);
}

enum ocf_rc agent_migrate_to(const struct agent_env *env)
{
	return migrate(env, "target", env->migrate_target);
}

enum ocf_rc agent_migrate_from(const struct agent_env *env)
{
	return migrate(env, "source", env->migrate_source);
}
