/* VirtualServer — the OCF resource agent ocf:havm:VirtualServer: one binary
 * dispatching on argv[1]; parameters come only from the environment. The
 * actions live in actions.c, the OCF plumbing in env.c and ocf.c. */
#define LOG_TAG HAVM_TAG_AGENT
#include "agent/agent.h"

#include "common/log.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	agent_action_fn fn;
} actions[] = {
	{ "start", agent_start },
	{ "stop", agent_stop },
	{ "monitor", agent_monitor },
	{ "status", agent_monitor }, /* deprecated synonym */
	{ "validate-all", agent_validate_all },
	{ "migrate_to", agent_migrate_to },
	{ "migrate_from", agent_migrate_from },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: VirtualServer {start|stop|monitor|migrate_to|migrate_from|validate-all|meta-data|usage}\n"
		     "Parameters come from the environment (OCF_RESKEY_config=...); see meta-data.\n");
}

int main(int argc, char **argv)
{
	const char *action = argc > 1 ? argv[1] : "";
	/* meta-data and usage need no environment and must work as any user. */
	if (strcmp(action, "meta-data") == 0) {
		fputs(agent_metadata(), stdout);
		return OCF_SUCCESS;
	}
	if (strcmp(action, "usage") == 0 || strcmp(action, "help") == 0) {
		usage(stdout);
		return OCF_SUCCESS;
	}
	if (!*action) {
		usage(stderr);
		return OCF_ERR_ARGS;
	}
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(action, actions[i].name) != 0)
			continue;
		havm_log_init("VirtualServer", HAVM_LOG_STDERR, LOG_INFO);
		struct agent_env env;
		agent_env_load(&env, action);
		enum ocf_rc rc = actions[i].fn(&env);
		hlog(LOG_DEBUG, "%s %s: rc %d", env.instance, action, (int)rc);
		havm_log_fini();
		return (int)rc;
	}
	agent_exit_reason("action '%s' is not implemented by VirtualServer", action);
	usage(stderr);
	return OCF_ERR_UNIMPLEMENTED;
}
