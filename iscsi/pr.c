/* havm — SCSI-3 persistent-reservation commands (blocking) over the LUN's
 * request engine, and the blocking registration check. */
#define LOG_TAG HAVM_TAG_PR
#include "common/log.h"
#include "iscsi/lun_int.h"
#include "iscsi/lun_sync.h"
#include "iscsi/pr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *pr_type_name(int type)
{
	static char buf[16];
	switch (type) {
	case PR_TYPE_WE: return "WE";
	case PR_TYPE_EA: return "EA";
	case PR_TYPE_WERO: return "WERO";
	case PR_TYPE_EARO: return "EARO";
	case PR_TYPE_WEAR: return "WEAR";
	case PR_TYPE_EAAR: return "EAAR";
	}
	snprintf(buf, sizeof(buf), "type %d", type);
	return buf;
}

static int run(struct lun *l, enum lun_op op, int sa, int type, uint64_t key, uint64_t sa_key,
	       struct lun_prin_result *res, struct havm_err *err)
{
	struct lun_req *r = lun_req_new(l, op, NULL, NULL);
	if (!r)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "lun %s: out of memory", lun_name(l));
	r->sa = sa;
	r->type = type;
	r->key = key;
	r->sa_key = sa_key;
	r->prin = res;
	/* Our own PR traffic must not trigger the guard (it would recurse). */
	r->internal = true;
	return lun_run_sync(l, r, err);
}

int pr_read_keys(struct lun *l, struct pr_keys *out, struct havm_err *err)
{
	struct lun_prin_result res = { 0 };
	int rc = run(l, LUN_OP_PRIN, SCSI_PERSISTENT_RESERVE_READ_KEYS, 0, 0, 0, &res, err);
	if (rc < 0)
		return rc;
	out->generation = res.generation;
	out->count = res.num_keys;
	memcpy(out->keys, res.keys, sizeof(uint64_t) * (size_t)res.num_keys);
	return 0;
}

int pr_read_reservation(struct lun *l, struct pr_reservation *out, struct havm_err *err)
{
	struct lun_prin_result res = { 0 };
	int rc = run(l, LUN_OP_PRIN, SCSI_PERSISTENT_RESERVE_READ_RESERVATION, 0, 0, 0, &res, err);
	if (rc < 0)
		return rc;
	out->generation = res.generation;
	out->reserved = res.reserved;
	out->key = res.holder_key;
	out->type = res.type;
	return 0;
}

bool pr_keys_has(const struct pr_keys *k, uint64_t key)
{
	for (int i = 0; i < k->count; i++)
		if (k->keys[i] == key)
			return true;
	return false;
}

int pr_register_ignore(struct lun *l, uint64_t key, struct havm_err *err)
{
	return run(l, LUN_OP_PROUT, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, key,
		   NULL, err);
}

int pr_reserve(struct lun *l, uint64_t key, enum pr_type type, struct havm_err *err)
{
	return run(l, LUN_OP_PROUT, SCSI_PERSISTENT_RESERVE_RESERVE, (int)type, key, 0, NULL, err);
}

int pr_release(struct lun *l, uint64_t key, enum pr_type type, struct havm_err *err)
{
	return run(l, LUN_OP_PROUT, SCSI_PERSISTENT_RESERVE_RELEASE, (int)type, key, 0, NULL, err);
}

int pr_clear(struct lun *l, uint64_t key, struct havm_err *err)
{
	return run(l, LUN_OP_PROUT, SCSI_PERSISTENT_RESERVE_CLEAR, 0, key, 0, NULL, err);
}

int pr_preempt(struct lun *l, uint64_t own, uint64_t victim, enum pr_type type, bool abort,
	       bool *aborted, struct havm_err *err)
{
	if (aborted)
		*aborted = false;
	if (abort) {
		struct havm_err e;
		int rc = run(l, LUN_OP_PROUT, SCSI_PERSISTENT_RESERVE_PREEMPT_AND_ABORT, (int)type, own,
			     victim, NULL, &e);
		if (rc == 0) {
			if (aborted)
				*aborted = true;
			return 0;
		}
		if (rc != -EOPNOTSUPP) {
			if (err)
				*err = e;
			return rc;
		}
		/* tgt: "PREEMPT AND ABORT" is not in its service-action table. */
		hlog(LOG_INFO, "lun %s: target lacks PREEMPT AND ABORT (%s); using PREEMPT", lun_name(l), e.msg);
	}
	return run(l, LUN_OP_PROUT, SCSI_PERSISTENT_RESERVE_PREEMPT, (int)type, own, victim, NULL, err);
}

int pr_check_registration(struct lun *l, uint64_t key, struct havm_err *err)
{
	struct pr_keys keys;
	int rc = pr_read_keys(l, &keys, err);
	if (rc < 0)
		return rc;
	if (!pr_keys_has(&keys, key))
		return havm_err_set(err, HAVM_E_FENCED, -EACCES,
				    "lun %s: key 0x%llx is not registered: this node was fenced (not re-registering)",
				    lun_name(l), (unsigned long long)key);
	struct pr_reservation res;
	rc = pr_read_reservation(l, &res, err);
	if (rc < 0)
		return rc;
	rc = pr_register_ignore(l, key, err);
	if (rc < 0)
		return rc;
	struct havm_err e;
	rc = pr_preempt(l, key, key, res.reserved ? (enum pr_type)res.type : PR_TYPE_WERO, false, NULL, &e);
	if (rc < 0)
		hlog(LOG_WARNING, "%s (this nexus is registered; stale twins stay)", e.msg);
	return 0;
}
