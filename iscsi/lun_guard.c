/* havm — the registration guard (reference §0.4): on UNIT ATTENTION 29/xx or
 * RESERVATION CONFLICT the LUN holds its requests and runs READ KEYS ->
 * READ RESERVATION -> REGISTER AND IGNORE -> PREEMPT(own, own), then
 * re-issues them; if its own key is gone the node is fenced and nothing is
 * sent again. Asynchronous: each step is a request on the same LUN. */
#define LOG_TAG HAVM_TAG_PR
#include "common/log.h"
#include "iscsi/lun_int.h"

#include <errno.h>
#include <stdlib.h>

struct guard {
	struct lun *l;
	struct lun_prin_result res;
};

static void guard_keys_done(void *priv, int rc, const struct havm_err *err);
static void guard_resv_done(void *priv, int rc, const struct havm_err *err);
static void guard_reg_done(void *priv, int rc, const struct havm_err *err);
static void guard_preempt_done(void *priv, int rc, const struct havm_err *err);

static int guard_step(struct guard *g, enum lun_op op, int sa, int type, uint64_t sa_key, lun_done_fn fn)
{
	struct lun_req *r = lun_req_new(g->l, op, fn, g);
	if (!r)
		return -ENOMEM;
	r->internal = true;
	r->sa = sa;
	r->type = type;
	r->key = g->l->key;
	r->sa_key = sa_key;
	r->prin = &g->res;
	return lun_submit(g->l, r);
}

static void guard_fail(struct guard *g, int rc, const struct havm_err *err)
{
	struct lun *l = g->l;
	free(g);
	hlog(LOG_ERR, "%s", err ? err->msg : "registration check failed");
	lun_release_held(l, rc, err);
}

void lun_guard_start(struct lun *l)
{
	struct guard *g = calloc(1, sizeof(*g));
	struct havm_err e;
	if (g)
		g->l = l;
	l->checking = true;
	l->stats.checks++;
	if (!g || guard_step(g, LUN_OP_PRIN, SCSI_PERSISTENT_RESERVE_READ_KEYS, 0, 0, guard_keys_done) < 0) {
		havm_err_set(&e, HAVM_E_IO, -ENOMEM, "lun %s: cannot start the registration check", l->name);
		if (g)
			guard_fail(g, -ENOMEM, &e);
		else
			lun_release_held(l, -ENOMEM, &e);
	}
}

static void guard_keys_done(void *priv, int rc, const struct havm_err *err)
{
	struct guard *g = priv;
	struct lun *l = g->l;
	if (rc < 0)
		return guard_fail(g, rc, err);
	bool present = false;
	for (int i = 0; i < g->res.num_keys; i++)
		present |= g->res.keys[i] == l->key;
	if (!present) {
		/* Fenced: no write may follow, and the key is not re-registered. */
		l->fenced = true;
		hlog(LOG_NOTICE, "lun %s: key 0x%llx is no longer registered: this node was fenced",
		     l->name, (unsigned long long)l->key);
		if (l->fenced_fn)
			l->fenced_fn(l->fenced_priv, l);
		struct havm_err e;
		havm_err_set(&e, HAVM_E_FENCED, -EACCES,
			     "lun %s: this node was fenced (key 0x%llx is no longer registered)", l->name,
			     (unsigned long long)l->key);
		free(g);
		lun_release_held(l, -EACCES, &e);
		return;
	}
	if (guard_step(g, LUN_OP_PRIN, SCSI_PERSISTENT_RESERVE_READ_RESERVATION, 0, 0, guard_resv_done) < 0) {
		struct havm_err e;
		havm_err_set(&e, HAVM_E_IO, -ENOMEM, "lun %s: registration check: out of memory", l->name);
		guard_fail(g, -ENOMEM, &e);
	}
}

static void guard_resv_done(void *priv, int rc, const struct havm_err *err)
{
	struct guard *g = priv;
	if (rc < 0)
		return guard_fail(g, rc, err);
	g->l->check_type = g->res.reserved ? g->res.type : SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY;
	if (guard_step(g, LUN_OP_PROUT, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0,
		       g->l->key, guard_reg_done) < 0) {
		struct havm_err e;
		havm_err_set(&e, HAVM_E_IO, -ENOMEM, "lun %s: registration check: out of memory", g->l->name);
		guard_fail(g, -ENOMEM, &e);
	}
}

static void guard_reg_done(void *priv, int rc, const struct havm_err *err)
{
	struct guard *g = priv;
	if (rc < 0)
		return guard_fail(g, rc, err);
	g->l->stats.reregistered++;
	/* PREEMPT with the own key as both keys removes the registrations of
	 * our former (dead) I_T nexuses and, if one of them held the
	 * reservation, moves it here. SA keys: reservation key = service
	 * action key = own key (reference §0.3, fence_scsi register_dev). */
	struct lun_req *r = lun_req_new(g->l, LUN_OP_PROUT, guard_preempt_done, g);
	if (!r) {
		struct havm_err e;
		havm_err_set(&e, HAVM_E_IO, -ENOMEM, "lun %s: registration check: out of memory", g->l->name);
		return guard_fail(g, -ENOMEM, &e);
	}
	r->internal = true;
	r->sa = SCSI_PERSISTENT_RESERVE_PREEMPT;
	r->type = g->l->check_type;
	r->key = r->sa_key = g->l->key;
	if (lun_submit(g->l, r) < 0) {
		struct havm_err e;
		havm_err_set(&e, HAVM_E_IO, -ENOMEM, "lun %s: registration check: out of memory", g->l->name);
		guard_fail(g, -ENOMEM, &e);
	}
}

static void guard_preempt_done(void *priv, int rc, const struct havm_err *err)
{
	struct guard *g = priv;
	struct lun *l = g->l;
	if (rc < 0) /* registered anyway: writes will work; stale twins stay */
		hlog(LOG_WARNING, "%s (continuing: this nexus is registered)", err->msg);
	hlog(LOG_NOTICE, "lun %s: re-registered this I_T nexus with key 0x%llx", l->name,
	     (unsigned long long)l->key);
	free(g);
	lun_release_held(l, 0, NULL);
}

void lun_set_key(struct lun *l, uint64_t key) { l->key = key; }
uint64_t lun_key(const struct lun *l) { return l->key; }
bool lun_is_fenced(const struct lun *l) { return l->fenced; }

void lun_set_fenced_fn(struct lun *l, lun_fenced_fn fn, void *priv)
{
	l->fenced_fn = fn;
	l->fenced_priv = priv;
}
