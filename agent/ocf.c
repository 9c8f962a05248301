/* VirtualServer — OCF exit codes and exit reasons; see agent.h. */
#define LOG_TAG HAVM_TAG_AGENT
#include "agent/agent.h"

#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* The one mapping from havm_err kinds to OCF codes. Pacemaker's recovery
 * per code: 1 soft (retry here, or move), 2/3/4/5 hard (ban this node), 6
 * fatal (stop everywhere), so each kind gets the code whose recovery fits:
 *   config/format  the parameters or the shared .vmc are wrong everywhere
 *   notfound       something (the .vmc, the vmm program) is missing here
 *   fenced         this node lost its storage registration: never here again
 *                  until an admin acts, so ban the node (OCF_ERR_ARGS:
 *                  "invalid on this host")
 *   unsupported    not implemented by this build
 *   io, noquorum, busy, state, timeout, internal  may clear: generic */
static const enum ocf_rc kind_rc[HAVM_E_KIND_COUNT] = {
	[HAVM_OK] = OCF_SUCCESS,
	[HAVM_E_CONFIG] = OCF_ERR_CONFIGURED,
	[HAVM_E_FORMAT] = OCF_ERR_CONFIGURED,
	[HAVM_E_IO] = OCF_ERR_GENERIC,
	[HAVM_E_FENCED] = OCF_ERR_ARGS,
	[HAVM_E_NOQUORUM] = OCF_ERR_GENERIC,
	[HAVM_E_BUSY] = OCF_ERR_GENERIC,
	[HAVM_E_NOTFOUND] = OCF_ERR_INSTALLED,
	[HAVM_E_STATE] = OCF_ERR_GENERIC,
	[HAVM_E_TIMEOUT] = OCF_ERR_GENERIC,
	[HAVM_E_UNSUPPORTED] = OCF_ERR_UNIMPLEMENTED,
	[HAVM_E_INTERNAL] = OCF_ERR_GENERIC,
};

enum ocf_rc agent_ocf_rc(const struct havm_err *e)
{
	if (!e || e->kind == HAVM_OK)
		return OCF_SUCCESS;
	if ((unsigned)e->kind >= HAVM_E_KIND_COUNT)
		return OCF_ERR_GENERIC;
	/* A permission problem is OCF's "insufficient privilege", whatever
	 * layer hit it. */
	if (e->kind == HAVM_E_IO && (e->code == -EACCES || e->code == -EPERM))
		return OCF_ERR_PERM;
	return kind_rc[e->kind];
}

void agent_exit_reason(const char *fmt, ...)
{
	const char *prefix = getenv("OCF_EXIT_REASON_PREFIX");
	if (!prefix || !*prefix)
		prefix = "ocf-exit-reason:";
	char msg[HAVM_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s%s\n", prefix, msg);
	fflush(stderr);
}

enum ocf_rc agent_fail(const struct havm_err *e)
{
	enum ocf_rc rc = agent_ocf_rc(e);
	if (rc != OCF_SUCCESS)
		agent_exit_reason("%s", e->msg);
	return rc;
}
