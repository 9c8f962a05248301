/* havm — quorum gate and cluster identity from corosync; see quorum.h. */
#define LOG_TAG HAVM_TAG_QUORUM
#include "havm/quorum.h"
#include "havm/quorum_int.h"

#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct havm_corosync_ops havm_corosync;

void havm_corosync_reset(void)
{
	havm_corosync = (struct havm_corosync_ops){
		.quorum_initialize = quorum_initialize,
		.quorum_getquorate = quorum_getquorate,
		.quorum_finalize = quorum_finalize,
		.cmap_initialize = cmap_initialize,
		.cmap_get_string = cmap_get_string,
		.cmap_get_uint32 = cmap_get_uint32,
		.cmap_finalize = cmap_finalize,
	};
}

static void ensure_ops(void)
{
	if (!havm_corosync.quorum_initialize)
		havm_corosync_reset();
}

/* corosync answers CS_ERR_TRY_AGAIN while it starts or reconfigures: retry
 * for about a second (bounded), then give up. */
#define TRY_AGAIN_ROUNDS 10
#define TRY_AGAIN_USEC 100000

static const char *cs_name(cs_error_t rc)
{
	switch (rc) {
	case CS_OK: return "CS_OK";
	case CS_ERR_LIBRARY: return "CS_ERR_LIBRARY (cannot connect)";
	case CS_ERR_TRY_AGAIN: return "CS_ERR_TRY_AGAIN";
	case CS_ERR_NOT_EXIST: return "CS_ERR_NOT_EXIST";
	case CS_ERR_ACCESS: return "CS_ERR_ACCESS";
	case CS_ERR_SECURITY: return "CS_ERR_SECURITY";
	case CS_ERR_NO_MEMORY: return "CS_ERR_NO_MEMORY";
	case CS_ERR_BAD_HANDLE: return "CS_ERR_BAD_HANDLE";
	default: return "corosync error";
	}
}

static int cs_to_errno(cs_error_t rc)
{
	switch (rc) {
	case CS_ERR_ACCESS:
	case CS_ERR_SECURITY: return -EACCES;
	case CS_ERR_NO_MEMORY: return -ENOMEM;
	case CS_ERR_TRY_AGAIN: return -EAGAIN;
	case CS_ERR_NOT_EXIST: return -ENOENT;
	case CS_ERR_LIBRARY: return -ECONNREFUSED;
	default: return -EIO;
	}
}

/* Reads the node id: votequorum's own idea first, else the nodelist entry
 * corosync matched to a local address. */
static int read_nodeid(cmap_handle_t cmap, uint32_t *nodeid, struct havm_err *e)
{
	if (havm_corosync.cmap_get_uint32(cmap, "runtime.votequorum.this_node_id", nodeid) == CS_OK &&
	    *nodeid != 0)
		return 0;
	uint32_t pos;
	cs_error_t rc = havm_corosync.cmap_get_uint32(cmap, "nodelist.local_node_pos", &pos);
	if (rc == CS_OK) {
		char key[64];
		snprintf(key, sizeof(key), "nodelist.node.%u.nodeid", pos);
		rc = havm_corosync.cmap_get_uint32(cmap, key, nodeid);
		if (rc == CS_OK && *nodeid != 0)
			return 0;
		return havm_err_set(e, HAVM_E_CONFIG, -ENOENT,
				    "corosync cmap: %s: %s, expected the node id of this node", key,
				    rc == CS_OK ? "0" : cs_name(rc));
	}
	return havm_err_set(e, HAVM_E_CONFIG, -ENOENT,
			    "corosync cmap has no node id for this node: "
			    "runtime.votequorum.this_node_id and nodelist.local_node_pos are unset (%s)",
			    cs_name(rc));
}

static int read_identity(struct havm_cluster_info *out, struct havm_err *e)
{
	cmap_handle_t cmap;
	cs_error_t rc = havm_corosync.cmap_initialize(&cmap);
	if (rc != CS_OK)
		return havm_err_set(e, HAVM_E_IO, cs_to_errno(rc), "corosync cmap: connect: %s",
				    cs_name(rc));
	char *name = NULL;
	rc = havm_corosync.cmap_get_string(cmap, "totem.cluster_name", &name);
	if (rc == CS_OK && name) {
		snprintf(out->cluster_name, sizeof(out->cluster_name), "%s", name);
		free(name);
	} else {
		hlog(LOG_WARNING, "corosync cmap: totem.cluster_name is unset (%s)", cs_name(rc));
	}
	int ret = read_nodeid(cmap, &out->nodeid, e);
	havm_corosync.cmap_finalize(cmap);
	return ret;
}

int havm_cluster_query(struct havm_cluster_info *out, struct havm_err *e)
{
	ensure_ops();
	memset(out, 0, sizeof(*out));
	quorum_handle_t q;
	quorum_callbacks_t cb = { 0 };
	uint32_t type = 0;
	cs_error_t rc = CS_ERR_TRY_AGAIN;
	for (int i = 0; i < TRY_AGAIN_ROUNDS; i++) {
		rc = havm_corosync.quorum_initialize(&q, &cb, &type);
		if (rc != CS_ERR_TRY_AGAIN)
			break;
		usleep(TRY_AGAIN_USEC);
	}
	if (rc == CS_ERR_LIBRARY) {
		/* No corosync IPC server to connect to: stand-alone. */
		out->mode = HAVM_CLUSTER_STANDALONE;
		out->quorate = true;
		hlog(LOG_DEBUG, "corosync is not running: stand-alone mode");
		return 0;
	}
	if (rc != CS_OK)
		return havm_err_set(e, HAVM_E_IO, cs_to_errno(rc), "corosync quorum: connect: %s",
				    cs_name(rc));
	out->mode = HAVM_CLUSTER_MEMBER;
	out->quorum_provider = type == QUORUM_SET;
	int quorate = 0;
	rc = havm_corosync.quorum_getquorate(q, &quorate);
	havm_corosync.quorum_finalize(q);
	if (rc != CS_OK)
		return havm_err_set(e, HAVM_E_IO, cs_to_errno(rc), "corosync quorum: getquorate: %s",
				    cs_name(rc));
	out->quorate = quorate != 0;
	int ret = read_identity(out, e);
	if (ret < 0)
		return ret;
	hlog(LOG_DEBUG, "cluster %s node %u: %s", out->cluster_name, out->nodeid,
	     out->quorate ? "quorate" : "not quorate");
	return 0;
}

int havm_quorum_gate(const struct havm_cluster_info *ci, bool require_cluster, const char *what,
		     struct havm_err *e)
{
	if (ci->mode == HAVM_CLUSTER_STANDALONE) {
		if (!require_cluster)
			return 0;
		return havm_err_set(e, HAVM_E_NOQUORUM, -EPERM,
				    "%s: refused: corosync is not running, and this caller requires "
				    "cluster membership with quorum",
				    what);
	}
	if (ci->quorate)
		return 0;
	return havm_err_set(e, HAVM_E_NOQUORUM, -EPERM,
			    "%s: refused: node %u of cluster '%s' is in a partition without quorum",
			    what, ci->nodeid, ci->cluster_name);
}

const char *havm_cluster_mode_name(enum havm_cluster_mode mode)
{
	return mode == HAVM_CLUSTER_MEMBER ? "member" : "standalone";
}
