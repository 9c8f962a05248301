/* VirtualServer — the OCF environment; see agent.h. Parameters arrive only
 * as OCF_RESKEY_<name>, operation attributes as OCF_RESKEY_CRM_meta_<name>. */
#define LOG_TAG HAVM_TAG_AGENT
#include "agent/agent.h"

#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *get(const char *name)
{
	const char *v = getenv(name);
	return v ? v : "";
}

/* A decimal integer in [min, max] filling all of @s. */
static bool parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!*s || *s == '-' || *s == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Records the first parameter error only: one clear message beats a list. */
static void param_error(struct agent_env *env, const char *fmt, const char *name, const char *value)
{
	if (env->param_err.kind != HAVM_OK)
		return;
	havm_err_set(&env->param_err, HAVM_E_CONFIG, -EINVAL, fmt, name, value);
}

static unsigned uint_param(struct agent_env *env, const char *name, uint64_t min, uint64_t max,
			   unsigned def)
{
	char key[64];
	snprintf(key, sizeof(key), "OCF_RESKEY_%s", name);
	const char *s = get(key);
	uint64_t v;
	if (!*s)
		return def;
	if (parse_uint(s, min, max, &v))
		return (unsigned)v;
	char fmt[128];
	snprintf(fmt, sizeof(fmt), "parameter '%%s' is '%%s', expected an integer from %llu to %llu",
		 (unsigned long long)min, (unsigned long long)max);
	param_error(env, fmt, name, s);
	return def;
}

void agent_env_load(struct agent_env *env, const char *action)
{
	memset(env, 0, sizeof(*env));
	havm_err_clear(&env->param_err);
	env->action = action;
	env->instance = get("OCF_RESOURCE_INSTANCE");

	env->config = get("OCF_RESKEY_config");
	if (!*env->config)
		param_error(env, "parameter '%s' is required: the VM's .vmc path or its name in "
			    "the store%s", "config", "");
	env->store = get("OCF_RESKEY_store");
	env->pr_key = get("OCF_RESKEY_pr_key");
	env->rundir = get("OCF_RESKEY_rundir");
	if (*env->rundir && env->rundir[0] != '/')
		param_error(env, "parameter '%s' is '%s', expected an absolute path", "rundir",
			    env->rundir);
	const char *sp = get("OCF_RESKEY_stop_policy");
	if (!*sp)
		sp = AGENT_DEFAULT_STOP_POLICY;
	if (havm_stop_policy_parse(sp, &env->stop_policy) < 0) {
		param_error(env, "parameter '%s' is '%s', expected save, shutdown or poweroff",
			    "stop_policy", sp);
		env->stop_policy = HAVM_STOP_SAVE;
	} else if (env->stop_policy == HAVM_STOP_SHUTDOWN) {
		/* Refused up front (validate-all, start: 6) rather than found out
		 * at the first stop. stop itself still works: it falls back to
		 * poweroff. */
		param_error(env, "parameter '%s' is '%s': a graceful guest shutdown needs VM "
			    "Additions, which this build lacks; use save or poweroff",
			    "stop_policy", sp);
	}
	env->migrate_downtime_ms =
		uint_param(env, "migrate_downtime", 1, 600000, AGENT_DEFAULT_MIGRATE_DOWNTIME_MS);
	env->migrate_passes = uint_param(env, "migrate_passes", 1, 100, AGENT_DEFAULT_MIGRATE_PASSES);

	uint64_t v;
	const char *t = get("OCF_RESKEY_CRM_meta_timeout");
	env->timeout_ms = AGENT_DEFAULT_TIMEOUT_MS;
	if (*t && parse_uint(t, 1, UINT32_MAX, &v))
		env->timeout_ms = v;
	else if (*t)
		hlog(LOG_WARNING, "OCF_RESKEY_CRM_meta_timeout '%s' is not a number of ms; using %u",
		     t, AGENT_DEFAULT_TIMEOUT_MS);
	t = get("OCF_RESKEY_CRM_meta_interval");
	env->interval_ms = *t && parse_uint(t, 0, UINT32_MAX, &v) ? v : 0;
	t = get("OCF_CHECK_LEVEL");
	env->check_level = *t && parse_uint(t, 0, 1000, &v) ? (int)v : -1;
	env->is_probe = strcmp(action, "monitor") == 0 && env->interval_ms == 0;
	env->under_pacemaker = *get("OCF_RESKEY_crm_feature_set") != '\0';
	env->migrate_target = get("OCF_RESKEY_CRM_meta_migrate_target");
	env->migrate_source = get("OCF_RESKEY_CRM_meta_migrate_source");
}

struct havm_vm_params agent_env_vm_params(const struct agent_env *env)
{
	return (struct havm_vm_params){
		.config = env->config,
		.store = env->store,
		.rundir = env->rundir,
		.stop_policy = env->stop_policy,
		.pr_key = env->pr_key,
		/* Under Pacemaker this node is a cluster member by definition: a
		 * corosync that cannot be reached must not look like stand-alone. */
		.require_cluster = env->under_pacemaker,
	};
}

/* Stop work this long before Pacemaker's timeout so our answer arrives. */
#define SAFETY_MARGIN_MS 1000u
/* Time kept for Terminate at the end of a stop: at most 5 s, at most a
 * quarter of the budget. */
#define TERMINATE_RESERVE_MS 5000u

struct havm_deadline agent_budget_total(const struct agent_env *env)
{
	uint64_t t = env->timeout_ms;
	uint64_t margin = t / 10 < SAFETY_MARGIN_MS ? t / 10 : SAFETY_MARGIN_MS;
	return havm_deadline_in(t - margin);
}

struct havm_deadline agent_budget_graceful(const struct agent_env *env)
{
	struct havm_deadline total = agent_budget_total(env);
	uint64_t left = havm_deadline_left_ms(&total);
	uint64_t reserve = left / 4 < TERMINATE_RESERVE_MS ? left / 4 : TERMINATE_RESERVE_MS;
	return havm_deadline_in(left - reserve);
}
