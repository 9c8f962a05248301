/* VirtualServer — the OCF resource agent ocf:havm:VirtualServer, a thin layer
 * over the lifecycle library (havm/lifecycle.h). Shared by its files:
 *   main.c     dispatch table by action
 *   env.c      the OCF environment: parameters, meta attributes, budget
 *   ocf.c      exit codes: the one table from havm_err kinds, exit reasons
 *   metadata.c the meta-data XML
 *   actions.c  start, stop, monitor, validate-all, migrate_*, and the OCF
 *              rules for a broken environment */
#ifndef HAVM_AGENT_AGENT_H
#define HAVM_AGENT_AGENT_H

#include "common/err.h"
#include "havm/lifecycle.h"

#include <stdbool.h>
#include <stdint.h>

/* OCF exit codes (OCF 1.1, resource-agents' ocf-returncodes). */
enum ocf_rc {
	OCF_SUCCESS = 0,
	OCF_ERR_GENERIC = 1,
	OCF_ERR_ARGS = 2,
	OCF_ERR_UNIMPLEMENTED = 3,
	OCF_ERR_PERM = 4,
	OCF_ERR_INSTALLED = 5,
	OCF_ERR_CONFIGURED = 6,
	OCF_NOT_RUNNING = 7,
};

/* Pacemaker's default operation timeout when none is passed. */
#define AGENT_DEFAULT_TIMEOUT_MS 20000u

/* Parameter defaults (also in the meta-data). */
#define AGENT_DEFAULT_STOP_POLICY "save"
#define AGENT_DEFAULT_MIGRATE_DOWNTIME_MS_N 500
#define AGENT_DEFAULT_MIGRATE_PASSES_N 8
#define AGENT_DEFAULT_MIGRATE_DOWNTIME_MS ((unsigned)AGENT_DEFAULT_MIGRATE_DOWNTIME_MS_N)
#define AGENT_DEFAULT_MIGRATE_PASSES ((unsigned)AGENT_DEFAULT_MIGRATE_PASSES_N)

struct agent_env {
	const char *action;
	const char *instance; /* OCF_RESOURCE_INSTANCE, "" when unset */
	/* instance parameters (OCF_RESKEY_<name>) */
	const char *config, *store, *rundir, *pr_key;
	enum havm_stop_policy stop_policy;
	unsigned migrate_downtime_ms, migrate_passes;
	/* operation meta attributes */
	uint64_t timeout_ms;  /* OCF_RESKEY_CRM_meta_timeout */
	uint64_t interval_ms; /* OCF_RESKEY_CRM_meta_interval */
	int check_level;      /* OCF_CHECK_LEVEL, -1 when unset */
	bool is_probe;        /* monitor with interval 0 */
	bool under_pacemaker; /* OCF_RESKEY_crm_feature_set is set */
	const char *migrate_target, *migrate_source;
	/* the first parameter error found, kind HAVM_OK when none */
	struct havm_err param_err;
};

/* Reads the environment for @action. Never fails: a bad parameter is kept in
 * env->param_err (kind HAVM_E_CONFIG, naming the parameter and the value)
 * and its field falls back to the default, so the OCF rules can still look
 * for the process. */
void agent_env_load(struct agent_env *env, const char *action);

/* The lifecycle parameters from @env. */
struct havm_vm_params agent_env_vm_params(const struct agent_env *env);

/* Deadlines inside the operation's budget: the whole operation (a safety
 * margin before Pacemaker's own timeout), and the end of the graceful phase
 * of a stop (leaving time for Terminate). */
struct havm_deadline agent_budget_total(const struct agent_env *env);
struct havm_deadline agent_budget_graceful(const struct agent_env *env);

/* The OCF exit code for an error (kind, refined by errno where OCF has a
 * closer code, e.g. EACCES -> OCF_ERR_PERM). */
enum ocf_rc agent_ocf_rc(const struct havm_err *e);

/* Writes "ocf-exit-reason:<message>" on stderr ($OCF_EXIT_REASON_PREFIX
 * replaces the prefix when set); Pacemaker shows the last one. */
void agent_exit_reason(const char *fmt, ...) HAVM_PRINTF(1, 2);

/* Reports @e as the exit reason and returns its OCF code. */
enum ocf_rc agent_fail(const struct havm_err *e);

/* The meta-data document. */
const char *agent_metadata(void);

typedef enum ocf_rc (*agent_action_fn)(const struct agent_env *env);

enum ocf_rc agent_start(const struct agent_env *env);
enum ocf_rc agent_stop(const struct agent_env *env);
enum ocf_rc agent_monitor(const struct agent_env *env);
enum ocf_rc agent_validate_all(const struct agent_env *env);
enum ocf_rc agent_migrate_to(const struct agent_env *env);
enum ocf_rc agent_migrate_from(const struct agent_env *env);

#endif
