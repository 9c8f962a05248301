/* fence_havm — on (unfence), off (fence), status, monitor, list.
 *
 * Every LUN is opened on its own session, so this process is a new I_T nexus
 * each time (libiscsi picks a random ISID). "off" therefore registers this
 * node's key on its own nexus before it may PREEMPT, and refuses to when the
 * key is absent: a node that has been fenced itself must not come back by
 * fencing the survivor. */
#define LOG_TAG HAVM_TAG_FENCE
#include "common/log.h"
#include "fencing/actions.h"
#include "iscsi/lun.h"
#include "iscsi/pr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEVICES 32

struct fctx {
	const struct fence_args *a;
	FILE *out, *err;
	const char *action;
	char devices[MAX_DEVICES][LUN_URL_MAX + 512];
	int ndev;
	struct lun_opts lo;
	struct pr_cluster cl;
	bool have_cluster;
	enum pr_key_method method;
	const char *target;        /* plug / nodename */
	uint64_t target_key;
	char local[256];
	uint64_t own_key;
	bool have_own;
};

static int failed(struct fctx *c, const char *fmt, ...) HAVM_PRINTF(2, 3);
static int failed(struct fctx *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(c->err, "fence_havm: Failed: %s\n", msg);
	hlog(LOG_ERR, "%s", msg);
	return EC_GENERIC_ERROR;
}

static void ctx_free(struct fctx *c)
{
	/* wipe the URLs: they may carry CHAP passwords */
	memset(c->devices, 0, sizeof(c->devices));
}

/* iscsi://host/... + login/passwd => iscsi://login%passwd@host/... when the
 * URL has no credentials of its own. -1 if it does not fit in @out. */
static int with_chap(const char *url, const char *login, const char *passwd, char *out, size_t cap)
{
	const char *rest = url + strlen("iscsi://");
	const char *slash = strchr(rest, '/');
	const char *at = strchr(rest, '@');
	int n;
	if (!login || !*login || (at && (!slash || at < slash)))
		n = snprintf(out, cap, "%s", url);
	else
		n = snprintf(out, cap, "iscsi://%s%s%s@%s", login, passwd && *passwd ? "%" : "",
			     passwd ? passwd : "", rest);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int parse_devices(struct fctx *c)
{
	const char *devs = fence_arg(c->a, FP_DEVICES);
	if (!devs || !*devs)
		return failed(c, "no devices: give devices=iscsi://host[:port]/target-iqn/lun[,...]");
	const char *p = devs;
	while (*p) {
		size_t n = strcspn(p, ",");
		char url[LUN_URL_MAX];
		if (n == 0 || n >= sizeof(url))
			return failed(c, "devices: empty or overlong entry %d in '%s'", c->ndev + 1, devs);
		memcpy(url, p, n);
		url[n] = '\0';
		if (c->ndev == MAX_DEVICES)
			return failed(c, "devices: more than %d LUNs", MAX_DEVICES);
		struct lun_url u;
		struct havm_err e;
		if (strncmp(url, "iscsi://", 8) != 0 || lun_url_parse(url, &u, &e) < 0) {
			if (strncmp(url, "iscsi://", 8) != 0)
				return failed(c, "devices: entry %d '%s' is not an iscsi:// URL (this agent talks to the target itself; /dev paths are for fence_scsi)",
					      c->ndev + 1, url);
			return failed(c, "devices: entry %d: %s", c->ndev + 1, e.msg);
		}
		if (with_chap(url, fence_arg(c->a, FP_LOGIN), fence_arg(c->a, FP_PASSWD), c->devices[c->ndev],
			      sizeof(c->devices[0])) < 0)
			return failed(c, "devices: entry %d: too long with the CHAP login added", c->ndev + 1);
		c->ndev++;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Cluster identity: configuration first (cluster_name, nodes), else cmap. */
static int load_cluster(struct fctx *c, struct havm_err *e)
{
	const char *name = fence_arg(c->a, FP_CLUSTER_NAME);
	int rc = name ? pr_cluster_from_list(&c->cl, name, fence_arg(c->a, FP_NODES),
					     fence_arg(c->a, FP_LOCAL_NODE), e)
		      : pr_cluster_from_cmap(&c->cl, e);
	c->have_cluster = rc == 0;
	return rc;
}

static int derive_keys(struct fctx *c, bool need_target, bool need_own)
{
	struct havm_err e;
	havm_err_clear(&e);
	c->method = strcmp(fence_arg(c->a, FP_KEY_VALUE), "hash") == 0 ? PR_KEY_HASH : PR_KEY_ID;
	const char *key = fence_arg(c->a, FP_KEY);
	c->target = fence_arg(c->a, FP_PLUG);
	if (!c->target || !*c->target)
		c->target = fence_arg(c->a, FP_NODENAME);
	bool cluster_tried = false;
	if (need_target) {
		if (key && *key) {
			if (pr_key_parse(key, &c->target_key, &e) < 0)
				return failed(c, "%s", e.msg);
		} else {
			if (!c->target || !*c->target)
				return failed(c, "nodename or key is required (plug=<node> or key=<hex>)");
			cluster_tried = true;
			if (load_cluster(c, &e) < 0)
				return failed(c, "cannot derive the key of '%s': %s (or give key=, or cluster_name= and nodes=)",
					      c->target, e.msg);
			if (pr_cluster_key(&c->cl, c->target, c->method, &c->target_key, &e) < 0)
				return failed(c, "%s", e.msg);
		}
	}
	if (!need_own)
		return 0;
	if (!cluster_tried && load_cluster(c, &e) < 0)
		return failed(c, "cannot derive this node's key: %s (give cluster_name=, nodes= and local_node=)", e.msg);
	const char *local = fence_arg(c->a, FP_LOCAL_NODE);
	if (local && *local)
		snprintf(c->local, sizeof(c->local), "%s", local);
	else if (c->cl.local >= 0)
		snprintf(c->local, sizeof(c->local), "%s", c->cl.nodes[c->cl.local]);
	else if (gethostname(c->local, sizeof(c->local) - 1) != 0)
		return failed(c, "cannot tell which node this is: give local_node=");
	if (pr_cluster_key(&c->cl, c->local, c->method, &c->own_key, &e) < 0)
		return failed(c, "cannot derive this node's key: %s", e.msg);
	c->have_own = true;
	return 0;
}

static int setup(struct fctx *c, const struct fence_args *a, FILE *out, FILE *err)
{
	memset(c, 0, sizeof(*c));
	c->a = a;
	c->out = out;
	c->err = err;
	c->action = fence_arg(a, FP_ACTION);
	lun_opts_default(&c->lo);
	c->lo.initiator = fence_arg(a, FP_INITIATOR);
	c->lo.timeout_s = (int)fence_arg_long(a, FP_LOGIN_TIMEOUT);
	c->lo.reconnect_max = 2; /* an agent must finish; Pacemaker retries it */
	c->lo.retries = 3;
	return parse_devices(c);
}

static int open_dev(struct fctx *c, int i, struct lun **l)
{
	struct havm_err e;
	if (lun_open(c->devices[i], &c->lo, l, &e) < 0) {
		failed(c, "%s", e.msg);
		return e.kind == HAVM_E_CONFIG ? -EACCES : -EIO;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */

static int act_on(struct fctx *c)
{
	char kb[32];
	pr_key_format(c->target_key, kb, sizeof(kb));
	int bad = 0;
	for (int i = 0; i < c->ndev; i++) {
		struct lun *l;
		if (open_dev(c, i, &l) < 0) {
			bad++;
			continue;
		}
		struct havm_err e;
		struct pr_keys keys;
		struct pr_reservation res;
		int rc = pr_read_keys(l, &keys, &e);
		bool had = rc == 0 && pr_keys_has(&keys, c->target_key);
		if (rc == 0)
			rc = pr_register_ignore(l, c->target_key, &e);
		/* The key was there already (e.g. a stale nexus from before a
		 * reconnect or a reboot): PREEMPT with it to drop the stale
		 * registrations, then this nexus holds it (fence_scsi does the
		 * same). */
		if (rc == 0 && had)
			rc = pr_preempt(l, c->target_key, c->target_key, PR_TYPE_WERO, false, NULL, &e);
		if (rc == 0)
			rc = pr_read_reservation(l, &res, &e);
		if (rc == 0 && !res.reserved) {
			rc = pr_reserve(l, c->target_key, PR_TYPE_WERO, &e);
			/* another node may have reserved in between: fine if any is there */
			if (rc < 0 && pr_read_reservation(l, &res, &e) == 0 && res.reserved)
				rc = 0;
		}
		if (rc == 0)
			rc = pr_read_keys(l, &keys, &e);
		if (rc == 0 && !pr_keys_has(&keys, c->target_key)) {
			rc = -EIO;
			havm_err_set(&e, HAVM_E_IO, rc, "lun %s: key %s not registered after REGISTER", lun_name(l), kb);
		}
		if (rc < 0) {
			failed(c, "%s", e.msg);
			bad++;
		} else
			hlog(LOG_NOTICE, "lun %s: key %s registered (unfenced %s)", lun_name(l), kb,
			     c->target ? c->target : "node");
		lun_close(l);
	}
	if (bad)
		return failed(c, "unfencing failed on %d of %d device(s)", bad, c->ndev);
	fprintf(c->out, "Success: Powered ON\n");
	return EC_OK;
}

/* Reads the keys of every device; *present counts devices holding @key.
 * Returns the number of devices that could not be read. */
static int count_key(struct fctx *c, uint64_t key, int *present, bool quiet)
{
	int bad = 0;
	*present = 0;
	for (int i = 0; i < c->ndev; i++) {
		struct lun *l;
		if (open_dev(c, i, &l) < 0) {
			bad++;
			continue;
		}
		struct pr_keys keys;
		struct havm_err e;
		if (pr_read_keys(l, &keys, &e) < 0) {
			if (!quiet)
				failed(c, "%s", e.msg);
			bad++;
		} else if (pr_keys_has(&keys, key))
			(*present)++;
		lun_close(l);
	}
	return bad;
}

static int preempt_dev(struct fctx *c, int i, const char *vk, const char *ok)
{
	struct lun *l;
	if (open_dev(c, i, &l) < 0)
		return -1;
	struct havm_err e;
	struct pr_keys keys;
	int rc = pr_read_keys(l, &keys, &e);
	if (rc == 0 && !pr_keys_has(&keys, c->target_key)) {
		hlog(LOG_INFO, "lun %s: key %s not registered: already off here", lun_name(l), vk);
		lun_close(l);
		return 0;
	}
	if (rc == 0 && !pr_keys_has(&keys, c->own_key)) {
		failed(c, "lun %s: this node's key %s (%s) is not registered, so it cannot fence others "
			  "(was it fenced itself? unfence it first)", lun_name(l), ok, c->local);
		lun_close(l);
		return -1;
	}
	/* Present on some nexus of ours: this one joins it, then may preempt. */
	if (rc == 0)
		rc = pr_register_ignore(l, c->own_key, &e);
	bool aborted = false;
	if (rc == 0)
		rc = pr_preempt(l, c->own_key, c->target_key, PR_TYPE_WERO, true, &aborted, &e);
	if (rc == 0)
		hlog(LOG_NOTICE, "lun %s: removed key %s of %s with %s", lun_name(l), vk,
		     c->target ? c->target : "the victim", aborted ? "PREEMPT AND ABORT" : "PREEMPT");
	else
		failed(c, "%s", e.msg);
	/* WERO must stay in place, or anyone could write: take it if gone. */
	struct pr_reservation res;
	if (rc == 0 && pr_read_reservation(l, &res, &e) == 0 && !res.reserved)
		rc = pr_reserve(l, c->own_key, PR_TYPE_WERO, &e);
	lun_close(l);
	return rc < 0 ? -1 : 0;
}

static int act_off(struct fctx *c)
{
	char vk[32], ok[32];
	pr_key_format(c->target_key, vk, sizeof(vk));
	pr_key_format(c->own_key, ok, sizeof(ok));
	if (c->own_key == c->target_key || (c->target && strcmp(c->target, c->local) == 0))
		return failed(c, "keys cannot be same. You can not fence yourself (node %s, key %s).", c->local, vk);
	long delay = fence_arg_long(c->a, FP_DELAY);
	if (delay > 0) {
		hlog(LOG_INFO, "delay %ld s before fencing", delay);
		sleep((unsigned)delay);
	}
	int present, bad = count_key(c, c->target_key, &present, false);
	if (bad)
		return failed(c, "cannot read the keys of %d device(s)", bad);
	if (present == 0) {
		fprintf(c->out, "Success: Already OFF\n");
		return EC_OK;
	}
	for (int i = 0; i < c->ndev; i++)
		if (preempt_dev(c, i, vk, ok) < 0)
			bad++;
	if (bad)
		return failed(c, "fencing failed on %d of %d device(s)", bad, c->ndev);
	long wait = fence_arg_long(c->a, FP_POWER_WAIT);
	if (wait > 0)
		sleep((unsigned)wait);
	/* Verify, as fence-agents require: the key must be gone everywhere. */
	time_t deadline = time(NULL) + fence_arg_long(c->a, FP_POWER_TIMEOUT);
	for (;;) {
		bad = count_key(c, c->target_key, &present, true);
		if (!bad && present == 0)
			break;
		if (time(NULL) >= deadline)
			return failed(c, "Timed out waiting to power OFF: key %s still on %d device(s), %d unreadable",
				      vk, present, bad);
		sleep(1);
	}
	fprintf(c->out, "Success: Powered OFF\n");
	return EC_OK;
}

static int act_status(struct fctx *c)
{
	int present, bad = count_key(c, c->target_key, &present, false);
	if (bad)
		return failed(c, "Unable to obtain correct plug status: %d device(s) unreachable", bad);
	fprintf(c->out, "Status: %s\n", present ? "ON" : "OFF");
	return present ? EC_OK : EC_STATUS_OFF;
}

static int act_monitor(struct fctx *c)
{
	for (int i = 0; i < c->ndev; i++) {
		struct lun *l;
		if (open_dev(c, i, &l) < 0)
			return EC_GENERIC_ERROR;
		struct pr_keys keys;
		struct havm_err e;
		int rc = pr_read_keys(l, &keys, &e);
		lun_close(l);
		if (rc < 0)
			return failed(c, "%s", e.msg);
	}
	return EC_OK;
}

static int act_list(struct fctx *c, bool with_status)
{
	struct havm_err e;
	if (load_cluster(c, &e) < 0)
		return failed(c, "cannot list nodes: %s (or give cluster_name= and nodes=)", e.msg);
	struct pr_keys all[MAX_DEVICES];
	if (with_status)
		for (int i = 0; i < c->ndev; i++) {
			struct lun *l;
			if (open_dev(c, i, &l) < 0)
				return EC_GENERIC_ERROR;
			int rc = pr_read_keys(l, &all[i], &e);
			lun_close(l);
			if (rc < 0)
				return failed(c, "%s", e.msg);
		}
	enum pr_key_method m = strcmp(fence_arg(c->a, FP_KEY_VALUE), "hash") == 0 ? PR_KEY_HASH : PR_KEY_ID;
	for (int n = 0; n < c->cl.count; n++) {
		uint64_t k;
		char kb[32];
		if (pr_cluster_key(&c->cl, c->cl.nodes[n], m, &k, &e) < 0)
			return failed(c, "%s", e.msg);
		pr_key_format(k, kb, sizeof(kb));
		if (!with_status) {
			fprintf(c->out, "%s,%s\n", c->cl.nodes[n], kb);
			continue;
		}
		bool on = false;
		for (int i = 0; i < c->ndev; i++)
			on |= pr_keys_has(&all[i], k);
		fprintf(c->out, "%s,%s,%s\n", c->cl.nodes[n], kb, on ? "ON" : "OFF");
	}
	return EC_OK;
}

/* ------------------------------------------------------------------------ */

int fence_validate(const struct fence_args *a, FILE *out, FILE *err)
{
	(void)out;
	struct fctx c;
	int rc = setup(&c, a, out, err);
	if (rc == 0) {
		const char *key = fence_arg(a, FP_KEY);
		const char *plug = fence_arg(a, FP_PLUG) ? fence_arg(a, FP_PLUG) : fence_arg(a, FP_NODENAME);
		uint64_t k;
		struct havm_err e;
		if (key && *key && pr_key_parse(key, &k, &e) < 0)
			rc = failed(&c, "%s", e.msg);
		else if ((!key || !*key) && (!plug || !*plug))
			rc = failed(&c, "nodename or key is required (plug=<node> or key=<hex>)");
	}
	ctx_free(&c);
	return rc ? EC_GENERIC_ERROR : EC_OK;
}

int fence_run(const struct fence_args *a, FILE *out, FILE *err)
{
	struct fctx c;
	int rc = setup(&c, a, out, err);
	const char *act = c.action;
	if (rc == 0) {
		bool off = strcmp(act, "off") == 0;
		if (strcmp(act, "on") == 0 || off || strcmp(act, "status") == 0) {
			rc = derive_keys(&c, true, off);
			if (rc == 0)
				rc = off ? act_off(&c) : act[0] == 'o' ? act_on(&c) : act_status(&c);
		} else if (strcmp(act, "monitor") == 0)
			rc = act_monitor(&c);
		else if (strcmp(act, "list") == 0 || strcmp(act, "list-status") == 0)
			rc = act_list(&c, strcmp(act, "list-status") == 0);
		else
			rc = failed(&c, "Unrecognised action '%s'", act);
	}
	ctx_free(&c);
	return rc;
}
