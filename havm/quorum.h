/* havm — the quorum gate and this node's cluster identity, read from
 * corosync directly: libquorum for "is this partition quorate", cmap for the
 * cluster name and the node id. Pacemaker orchestrates; we only ask.
 *
 * When corosync is not running (its IPC refuses the connection), the node is
 * in stand-alone mode: an explicit result, not an error. Stand-alone counts as
 * quorate, so a lone host can run VMs; callers that know they are part of a
 * cluster (the OCF agent under Pacemaker) pass require_cluster to the gate so
 * that a dead corosync can never let a VM start without quorum. */
#ifndef HAVM_HAVM_QUORUM_H
#define HAVM_HAVM_QUORUM_H

#include "common/err.h"

#include <stdbool.h>
#include <stdint.h>

#define HAVM_CLUSTER_NAME_MAX 255

enum havm_cluster_mode {
	HAVM_CLUSTER_STANDALONE = 0, /* corosync not running on this node */
	HAVM_CLUSTER_MEMBER = 1,     /* connected to a running corosync */
};

struct havm_cluster_info {
	enum havm_cluster_mode mode;
	bool quorate;         /* stand-alone: true */
	bool quorum_provider; /* false when corosync runs without one (every
				 partition is then quorate) */
	uint32_t nodeid;      /* 0 when stand-alone */
	char cluster_name[HAVM_CLUSTER_NAME_MAX + 1]; /* "" when stand-alone or unset */
};

/* Asks corosync. 0 with @out filled (mode says which case); <0 with @e set
 * when corosync runs but cannot be asked: HAVM_E_IO for an IPC failure or
 * "try again" that did not clear within about a second, HAVM_E_CONFIG when
 * cmap holds no node id (the message names the keys tried). */
int havm_cluster_query(struct havm_cluster_info *out, struct havm_err *e) HAVM_MUST_CHECK;

/* The gate before anything that starts a VM. 0 when @ci is a quorate member,
 * or stand-alone and !@require_cluster; otherwise HAVM_E_NOQUORUM (-EPERM)
 * with a message naming @what ("vm web1: online") and the reason. */
int havm_quorum_gate(const struct havm_cluster_info *ci, bool require_cluster,
		     const char *what, struct havm_err *e) HAVM_MUST_CHECK;

/* "standalone" or "member". */
const char *havm_cluster_mode_name(enum havm_cluster_mode mode);

#endif
