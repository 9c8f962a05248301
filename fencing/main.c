/* fence_havm — SCSI-3 persistent-reservation fencing of iSCSI LUNs over
 * libiscsi, speaking the fence-agents protocol (doc/FenceAgentAPI.md):
 * parameters as key=value lines on stdin or as options, exit codes as
 * fencing.py. See docs/fencing.md. */
#define LOG_TAG HAVM_TAG_FENCE
#include "common/log.h"
#include "fencing/actions.h"
#include "fencing/args.h"
#include "fencing/metadata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct fence_args a;
	if (fence_args_parse(&a, argc, argv, stdin, stderr) < 0) {
		fence_args_free(&a);
		return EC_GENERIC_ERROR;
	}
	/* stderr gets our "Failed:" lines; the log goes to syslog, and to
	 * stderr too with --verbose. */
	unsigned targets = HAVM_LOG_SYSLOG;
	if (a.verbose && !fence_arg_bool(&a, FP_QUIET))
		targets |= HAVM_LOG_STDERR;
	havm_log_init("fence_havm", targets, a.verbose ? LOG_DEBUG : LOG_INFO);

	int rc = EC_OK;
	const char *action = fence_arg(&a, FP_ACTION);
	if (strcmp(action, "meta-data") == 0) /* OCF spelling, as fencing.py accepts */
		action = "metadata";
	if (strcmp(action, "enable") == 0 || strcmp(action, "disable") == 0) {
		/* fabric fencing's compatibility names */
		free(a.owned[FP_ACTION]);
		a.owned[FP_ACTION] = strdup(action[0] == 'e' ? "on" : "off");
		a.val[FP_ACTION] = a.owned[FP_ACTION];
		action = a.val[FP_ACTION];
	}
	char msg[512];
	if (fence_arg_bool(&a, FP_HELP))
		fence_usage(stdout);
	else if (fence_arg_bool(&a, FP_VERSION))
		printf("fence_havm %s\n", HAVM_VERSION);
	else if (strcmp(action, "metadata") == 0)
		fence_metadata(stdout);
	else if (fence_args_check(&a, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "fence_havm: %s\nfence_havm: Please use '-h' for usage\n", msg);
		rc = EC_GENERIC_ERROR;
	} else if (strcmp(action, "validate-all") == 0)
		rc = fence_validate(&a, stdout, stderr);
	else
		rc = fence_run(&a, stdout, stderr);
	fence_args_free(&a);
	havm_log_fini();
	return rc;
}
