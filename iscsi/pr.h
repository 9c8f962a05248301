/* havm — SCSI-3 persistent reservations on an iSCSI LUN, and the per-node
 * reservation key.
 *
 * Commands (blocking, for the fence agent and tools; the vmm's asynchronous
 * guard lives in lun.c, lun_set_key). Each returns 0 or -errno and fills @err
 * (may be NULL) with the LUN, the service action and the SCSI status in words.
 * All act on this process's own I_T nexus: libiscsi picks a random ISID per
 * login, so every process (and every reconnect) is a new nexus.
 *
 * Keys (fence_scsi compatible, docs/fencing.md): the first 4 hex digits of
 * md5(cluster name) followed by the node's position in corosync's nodelist
 * printed as %.4u ("id" method), or by the first 4 hex digits of md5(node
 * name) ("hash" method); the 8 characters read as a hexadecimal number. */
#ifndef HAVM_ISCSI_PR_H
#define HAVM_ISCSI_PR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "iscsi/lun.h"

/* Reservation types (SPC-4 table "persistent reservation type codes"). */
enum pr_type {
	PR_TYPE_WE = 1,   /* write exclusive */
	PR_TYPE_EA = 3,   /* exclusive access */
	PR_TYPE_WERO = 5, /* write exclusive, registrants only: what fencing uses */
	PR_TYPE_EARO = 6,
	PR_TYPE_WEAR = 7,
	PR_TYPE_EAAR = 8,
};

#define PR_MAX_KEYS 64

struct pr_keys {
	uint32_t generation;
	int count;
	uint64_t keys[PR_MAX_KEYS];
};

struct pr_reservation {
	uint32_t generation;
	bool reserved;
	uint64_t key;     /* the holder's key (any registrant for *AR types) */
	int type;         /* enum pr_type */
};

int pr_read_keys(struct lun *l, struct pr_keys *out, struct havm_err *err) HAVM_MUST_CHECK;
int pr_read_reservation(struct lun *l, struct pr_reservation *out, struct havm_err *err) HAVM_MUST_CHECK;
bool pr_keys_has(const struct pr_keys *k, uint64_t key);

/* REGISTER AND IGNORE EXISTING KEY: registers @key on this nexus (0 removes
 * this nexus's registration). */
int pr_register_ignore(struct lun *l, uint64_t key, struct havm_err *err) HAVM_MUST_CHECK;
/* RESERVE with @key (registered on this nexus) and @type. */
int pr_reserve(struct lun *l, uint64_t key, enum pr_type type, struct havm_err *err) HAVM_MUST_CHECK;
int pr_release(struct lun *l, uint64_t key, enum pr_type type, struct havm_err *err) HAVM_MUST_CHECK;
/* CLEAR: removes every registration and the reservation (@key registered). */
int pr_clear(struct lun *l, uint64_t key, struct havm_err *err) HAVM_MUST_CHECK;

/* Removes every registration of @victim (and moves its reservation to
 * @own with @type). With @abort, PREEMPT AND ABORT first so the victim's
 * queued commands never run; a target without it (tgt: ILLEGAL REQUEST
 * 24/00) gets a plain PREEMPT. *@aborted (may be NULL) says which ran. */
int pr_preempt(struct lun *l, uint64_t own, uint64_t victim, enum pr_type type, bool abort,
	       bool *aborted, struct havm_err *err) HAVM_MUST_CHECK;

/* The "check my registration" routine (reference §0.4), blocking form:
 * own @key absent => -EACCES with HAVM_E_FENCED, and nothing is written;
 * present => REGISTER AND IGNORE on this nexus, then PREEMPT(own, own) to
 * drop stale twins of former nexuses. 0 when this nexus is registered. */
int pr_check_registration(struct lun *l, uint64_t key, struct havm_err *err) HAVM_MUST_CHECK;

const char *pr_type_name(int type); /* "WERO", ... or "type N" */

/* ---- keys ---------------------------------------------------------------- */

/* Parses a key as fence_scsi/sg_persist write it: hexadecimal, optional 0x,
 * 1..16 digits, not zero. -EINVAL (HAVM_E_CONFIG) otherwise. */
int pr_key_parse(const char *s, uint64_t *out, struct havm_err *err) HAVM_MUST_CHECK;
/* Lower-case hex without 0x or leading zeros, as fence_scsi prints it. */
void pr_key_format(uint64_t key, char *buf, size_t len);

enum pr_key_method { PR_KEY_ID = 0, PR_KEY_HASH };

/* fence_scsi's generate_key(): "%.4s%.4u" % (md5hex(cluster), id) or
 * "%.4s%.4s" % (md5hex(cluster), md5hex(node)), read as hex. */
uint64_t pr_key_from_id(const char *cluster, unsigned id);
uint64_t pr_key_from_hash(const char *cluster, const char *node);

#define PR_MAX_NODES 64

/* What the keys are derived from: the cluster name and the nodelist. */
struct pr_cluster {
	char name[256];
	int count;
	char nodes[PR_MAX_NODES][256]; /* nodelist.node.<i>.name (or ring0_addr) */
	int local;                     /* index of this node, -1 if unknown */
};

/* Reads totem.cluster_name, the nodelist and this node's id from corosync's
 * cmap. -ENOTCONN (HAVM_E_CONFIG) when corosync is not running. */
int pr_cluster_from_cmap(struct pr_cluster *c, struct havm_err *err) HAVM_MUST_CHECK;
/* The same from configuration: @nodes is a comma-separated list in nodelist
 * order; @local (may be NULL) names this node. */
int pr_cluster_from_list(struct pr_cluster *c, const char *cluster_name, const char *nodes,
			 const char *local, struct havm_err *err) HAVM_MUST_CHECK;
/* Index of @node in the nodelist or -1. */
int pr_cluster_index(const struct pr_cluster *c, const char *node);
/* The key of @node. -ENOENT (HAVM_E_NOTFOUND) when the "id" method cannot
 * find the node in the nodelist. */
int pr_cluster_key(const struct pr_cluster *c, const char *node, enum pr_key_method m,
		   uint64_t *key, struct havm_err *err) HAVM_MUST_CHECK;

/* This node's key, for the vmm and tools: the cluster from corosync's cmap,
 * this node from runtime.votequorum.this_node_id (else the host name).
 * -ENOTCONN (HAVM_E_CONFIG) without corosync, -ENOENT when this node is not
 * in the nodelist. */
int pr_local_key(enum pr_key_method m, uint64_t *key, struct havm_err *err) HAVM_MUST_CHECK;

#endif
