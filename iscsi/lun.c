/* havm — the iSCSI LUN: connect, and the asynchronous request engine (issue,
 * complete, retry, hold). The registration guard is in lun_guard.c, the
 * libqb loop glue in lun_loop.c. See lun.h for the contract and
 * docs/iscsi.md for the behaviour around reconnects and reservations.
 *
 * Order of this file: open/close, request engine, public async I/O,
 * accessors. */
#define LOG_TAG HAVM_TAG_ISCSI
#include "common/fault.h"
#include "common/log.h"
#include "iscsi/lun_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define PRIN_XFERLEN (8 + 8 * LUN_PR_MAX_KEYS)

/* ------------------------------------------------------------------------ */
/* Open and close                                                            */

void lun_opts_default(struct lun_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_s = 10;
	o->nop_interval_s = 5;
	o->nop_max_missed = 3;
	o->reconnect_max = -1;
	o->retries = 5;
}

static void default_initiator(char *buf, size_t len)
{
	char host[128] = "localhost";
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, len, "iqn.2024-01.org.havm:%s", host);
}

/* libiscsi's text for a failed TCP connect is vague ("Can not reconnect
 * right now"); one plain connect() gives the errno in words. 0 = reachable. */
static int tcp_probe(const struct lun_url *u)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char port[8];
	snprintf(port, sizeof(port), "%d", u->port);
	int g = getaddrinfo(u->host, port, &hints, &ai);
	if (g)
		return g == EAI_NONAME ? EHOSTUNREACH : EIO;
	int e = EIO;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		struct timeval tv = { .tv_sec = 3 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		e = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
		close(fd);
	}
	freeaddrinfo(ai);
	return e;
}

/* libiscsi reports login failures as text; turn the common ones into kinds. */
static int connect_err(struct lun *l, struct havm_err *err)
{
	const char *m = iscsi_get_error(l->ctx);
	if (strstr(m, "Authentication failure") || strstr(m, "CHAP"))
		return havm_err_set(err, HAVM_E_CONFIG, -EACCES,
				    "lun %s: login refused: authentication failure (check the CHAP user%%password in the URL): %s",
				    l->name, m);
	if (strstr(m, "Target not found") || strstr(m, "Not found"))
		return havm_err_set(err, HAVM_E_NOTFOUND, -ENOENT,
				    "lun %s: target %s not found on %s (or this initiator %s is not allowed): %s",
				    l->name, l->url.target, l->url.portal, l->initiator, m);
	if (strstr(m, "LOGICAL_UNIT_NOT_SUPPORTED") || strstr(m, "LOGICAL UNIT NOT SUPPORTED"))
		return havm_err_set(err, HAVM_E_NOTFOUND, -ENOENT,
				    "lun %s: target %s has no LUN %d: %s", l->name, l->url.target, l->url.lun, m);
	int e = tcp_probe(&l->url);
	if (e)
		return havm_err_set(err, HAVM_E_IO, -e, "lun %s: cannot connect to portal %s: %s", l->name,
				    l->url.portal, strerror(e));
	return havm_err_set(err, HAVM_E_IO, -EIO, "lun %s: connect to %s failed: %s", l->name,
			    l->url.portal, m);
}

static int setup_context(struct lun *l, struct havm_err *err)
{
	static const enum iscsi_header_digest digests[] = {
		[LUN_DIGEST_NONE_CRC32C] = ISCSI_HEADER_DIGEST_NONE_CRC32C,
		[LUN_DIGEST_NONE] = ISCSI_HEADER_DIGEST_NONE,
		[LUN_DIGEST_CRC32C] = ISCSI_HEADER_DIGEST_CRC32C,
		[LUN_DIGEST_CRC32C_NONE] = ISCSI_HEADER_DIGEST_CRC32C_NONE,
	};
	l->ctx = iscsi_create_context(l->initiator);
	if (!l->ctx)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "lun %s: cannot create an iSCSI context", l->name);
	if (iscsi_set_targetname(l->ctx, l->url.target) ||
	    iscsi_set_session_type(l->ctx, ISCSI_SESSION_NORMAL) ||
	    iscsi_set_header_digest(l->ctx, digests[l->url.digest]))
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "lun %s: %s", l->name, iscsi_get_error(l->ctx));
	if (l->url.user[0] &&
	    iscsi_set_initiator_username_pwd(l->ctx, l->url.user, l->url.password))
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "lun %s: CHAP: %s", l->name, iscsi_get_error(l->ctx));
	if (l->url.target_user[0] &&
	    iscsi_set_target_username_pwd(l->ctx, l->url.target_user, l->url.target_password))
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "lun %s: mutual CHAP: %s", l->name,
				    iscsi_get_error(l->ctx));
	const char *dbg = getenv("HAVM_ISCSI_DEBUG"); /* libiscsi's own trace, 1..10 */
	long dbg_level = dbg ? strtol(dbg, NULL, 10) : 0;
	if (dbg_level > 0) {
		iscsi_set_log_level(l->ctx, (int)dbg_level);
		iscsi_set_log_fn(l->ctx, iscsi_log_to_stderr);
	}
	iscsi_set_timeout(l->ctx, l->opts.timeout_s);
	iscsi_set_reconnect_max_retries(l->ctx, l->opts.reconnect_max);
	/* Deliberately not iscsi_set_no_ua_on_reconnect(): the UA 29/xx after a
	 * reconnect is what tells the guard the I_T nexus changed. */
	return 0;
}

static int probe_disk(struct lun *l, struct havm_err *err)
{
	struct scsi_task *t = iscsi_inquiry_sync(l->ctx, l->url.lun, 0, 0, 64);
	if (!t || t->status != SCSI_STATUS_GOOD) {
		int rc = lun_status_err(t ? t->status : SCSI_STATUS_ERROR, t ? (int)t->sense.key : 0,
					t ? t->sense.ascq : 0, "INQUIRY", iscsi_get_error(l->ctx), err);
		if (t)
			scsi_free_scsi_task(t);
		havm_err_prefix(err, "lun %s", l->name);
		return rc;
	}
	struct scsi_inquiry_standard *inq = scsi_datain_unmarshall(t);
	int type = inq ? (int)inq->device_type : -1;
	scsi_free_scsi_task(t);
	if (type != SCSI_INQUIRY_PERIPHERAL_DEVICE_TYPE_DIRECT_ACCESS)
		return havm_err_set(err, HAVM_E_CONFIG, -ENOTBLK,
				    "lun %s: LUN %d is a %s, not a disk (tgt's LUN 0 is its controller; disks start at 1)",
				    l->name, l->url.lun, type < 0 ? "device of unknown type" : scsi_devtype_to_str(type));

	for (int tries = 0;; tries++) {
		t = iscsi_readcapacity16_sync(l->ctx, l->url.lun);
		if (t && t->status == SCSI_STATUS_CHECK_CONDITION &&
		    t->sense.key == SCSI_SENSE_UNIT_ATTENTION && tries < 5) {
			scsi_free_scsi_task(t);
			continue;
		}
		break;
	}
	if (!t || t->status != SCSI_STATUS_GOOD) {
		int rc = lun_status_err(t ? t->status : SCSI_STATUS_ERROR, t ? (int)t->sense.key : 0,
					t ? t->sense.ascq : 0, "READ CAPACITY(16)", iscsi_get_error(l->ctx), err);
		if (t)
			scsi_free_scsi_task(t);
		havm_err_prefix(err, "lun %s", l->name);
		return rc;
	}
	struct scsi_readcapacity16 *rc16 = scsi_datain_unmarshall(t);
	if (!rc16 || rc16->block_length == 0 || rc16->block_length % 512) {
		scsi_free_scsi_task(t);
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "lun %s: READ CAPACITY(16) gave block length %u",
				    l->name, rc16 ? rc16->block_length : 0);
	}
	l->blocks = rc16->returned_lba + 1;
	l->block_size = rc16->block_length;
	scsi_free_scsi_task(t);
	return 0;
}

int lun_open(const char *url, const struct lun_opts *o, struct lun **out, struct havm_err *err)
{
	*out = NULL;
	struct lun *l = calloc(1, sizeof(*l));
	if (!l)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "lun: out of memory");
	l->held_tail = &l->held;
	if (o)
		l->opts = *o;
	else
		lun_opts_default(&l->opts);
	int rc = lun_url_parse(url, &l->url, err);
	if (rc < 0)
		goto fail;
	if (l->url.io_deadline_s >= 0)
		l->opts.io_deadline_s = l->url.io_deadline_s;
	lun_url_format(&l->url, l->name, sizeof(l->name));
	if (l->opts.initiator && *l->opts.initiator)
		snprintf(l->initiator, sizeof(l->initiator), "%s", l->opts.initiator);
	else
		default_initiator(l->initiator, sizeof(l->initiator));
	rc = setup_context(l, err);
	if (rc < 0)
		goto fail;
	if (iscsi_full_connect_sync(l->ctx, l->url.portal, l->url.lun) != 0) {
		rc = connect_err(l, err);
		goto fail;
	}
	rc = probe_disk(l, err);
	if (rc < 0)
		goto fail;
	hlog(LOG_INFO, "lun %s: connected as %s, %llu blocks of %u bytes", l->name, l->initiator,
	     (unsigned long long)l->blocks, l->block_size);
	*out = l;
	return 0;
fail:
	if (l->ctx)
		iscsi_destroy_context(l->ctx);
	free(l);
	return rc;
}

static void req_finish(struct lun_req *r, int rc, const struct havm_err *err);

void lun_close(struct lun *l)
{
	if (!l)
		return;
	lun_detach(l);
	l->closing = true;
	/* In-flight requests: libiscsi does not call their callbacks when the
	 * context is destroyed, so cancel them first (local only: a cancelled
	 * write may still reach the target). Held requests were never sent. */
	iscsi_scsi_cancel_all_tasks(l->ctx);
	struct havm_err e;
	while (l->held) {
		struct lun_req *r = l->held;
		l->held = r->next;
		havm_err_set(&e, HAVM_E_IO, -ECANCELED, "lun %s: cancelled (LUN closed)", l->name);
		req_finish(r, -ECANCELED, &e);
	}
	/* A lost path would only make the logout wait for its timeout. */
	if (iscsi_is_logged_in(l->ctx) && !l->fenced && !l->lost)
		iscsi_logout_sync(l->ctx);
	iscsi_destroy_context(l->ctx);
	free(l);
}

/* ------------------------------------------------------------------------ */
/* Request engine                                                            */

static const char *const op_names[] = {
	[LUN_OP_READ] = "READ(16)", [LUN_OP_WRITE] = "WRITE(16)",
	[LUN_OP_FLUSH] = "SYNCHRONIZE CACHE(16)", [LUN_OP_TUR] = "TEST UNIT READY",
	[LUN_OP_PRIN] = "PERSISTENT RESERVE IN", [LUN_OP_PROUT] = "PERSISTENT RESERVE OUT",
};


struct lun_req *lun_req_new(struct lun *l, enum lun_op op, lun_done_fn cb, void *priv)
{
	struct lun_req *r = calloc(1, sizeof(*r));
	if (r) {
		r->lun = l;
		r->op = op;
		r->cb = cb;
		r->priv = priv;
	}
	return r;
}

static void list_remove(struct lun *l, struct lun_req *r)
{
	for (struct lun_req **p = &l->all; *p; p = &(*p)->all_next)
		if (*p == r) {
			*p = r->all_next;
			l->pending--;
			return;
		}
}

static void req_finish(struct lun_req *r, int rc, const struct havm_err *err)
{
	struct lun *l = r->lun;
	list_remove(l, r);
	if (r->cb)
		r->cb(r->priv, rc, rc < 0 ? err : NULL);
	free(r);
}

static void req_what(const struct lun_req *r, char *buf, size_t len)
{
	if (r->op == LUN_OP_READ || r->op == LUN_OP_WRITE)
		snprintf(buf, len, "lun %s: %s lba %llu+%u", r->lun->name, op_names[r->op],
			 (unsigned long long)r->lba, r->nblocks);
	else if (r->op == LUN_OP_PRIN || r->op == LUN_OP_PROUT)
		snprintf(buf, len, "lun %s: %s service action %d", r->lun->name, op_names[r->op], r->sa);
	else
		snprintf(buf, len, "lun %s: %s", r->lun->name, op_names[r->op]);
}

static void req_done(struct iscsi_context *ctx, int status, void *data, void *priv);

static int req_issue(struct lun_req *r)
{
	struct lun *l = r->lun;
	struct iscsi_context *c = l->ctx;
	int lun = l->url.lun;
	struct scsi_task *t = NULL;
	struct scsi_persistent_reserve_out_basic basic = {
		.reservation_key = r->key, .service_action_reservation_key = r->sa_key,
	};
	r->attempts++;
	switch (r->op) {
	case LUN_OP_READ:
		t = iscsi_read16_task(c, lun, r->lba, r->nblocks * l->block_size, (int)l->block_size,
				      0, 0, 0, 0, 0, req_done, r);
		/* Zero copy: DATA-IN lands in the caller's buffer. Safe here:
		 * nothing is received before the next iscsi_service(). If the
		 * buffer cannot be added (ENOMEM), the reply is copied instead. */
		r->copy_in = t && r->buf &&
			     scsi_task_add_data_in_buffer(t, (int)(r->nblocks * l->block_size), r->buf) != 0;
		break;
	case LUN_OP_WRITE:
		t = iscsi_write16_task(c, lun, r->lba, r->buf, r->nblocks * l->block_size,
				       (int)l->block_size, 0, 0, !!(r->flags & LUN_W_FUA), 0, 0, req_done, r);
		break;
	case LUN_OP_FLUSH:
		t = iscsi_synchronizecache16_task(c, lun, 0, 0, 0, 0, req_done, r);
		break;
	case LUN_OP_TUR:
		t = iscsi_testunitready_task(c, lun, req_done, r);
		break;
	case LUN_OP_PRIN:
		t = iscsi_persistent_reserve_in_task(c, lun, r->sa, PRIN_XFERLEN, req_done, r);
		break;
	case LUN_OP_PROUT:
		t = iscsi_persistent_reserve_out_task(c, lun, r->sa, 0, r->type, &basic, req_done, r);
		break;
	}
	if (!t)
		return -ENOMEM;
	r->task = t;
	r->in_flight = true;
	return 1;
}

static void hold(struct lun *l, struct lun_req *r)
{
	r->next = NULL;
	*l->held_tail = r;
	l->held_tail = &r->next;
}

int lun_submit(struct lun *l, struct lun_req *r)
{
	if (l->fenced && !r->internal) {
		free(r);
		return -EACCES;
	}
	if (l->lost) { /* the I/O deadline passed: nothing more is sent */
		free(r);
		return -EIO;
	}
	r->t_submit_ms = lun_now_ms();
	r->all_next = l->all;
	l->all = r;
	l->pending++;
	if ((l->checking || l->want_reconnect) && !r->internal) {
		hold(l, r);
		return 1;
	}
	int rc = req_issue(r);
	if (rc < 0) {
		list_remove(l, r);
		free(r);
		return rc;
	}
	if (!l->in_service) { /* else lun_service() flushes and updates after */
		lun_flush_out(l);
		lun_update_events(l);
	}
	return 1;
}

static void prin_parse(struct lun_req *r, struct scsi_task *t)
{
	struct lun_prin_result *o = r->prin;
	if (!o)
		return;
	if (r->sa == SCSI_PERSISTENT_RESERVE_READ_KEYS) {
		struct scsi_persistent_reserve_in_read_keys *k = scsi_datain_unmarshall(t);
		o->num_keys = 0;
		if (k) {
			o->generation = k->prgeneration;
			for (int i = 0; i < k->num_keys && i < LUN_PR_MAX_KEYS; i++)
				o->keys[o->num_keys++] = k->keys[i];
		}
	} else if (r->sa == SCSI_PERSISTENT_RESERVE_READ_RESERVATION) {
		struct scsi_persistent_reserve_in_read_reservation *rr = scsi_datain_unmarshall(t);
		o->reserved = rr && rr->reserved;
		o->holder_key = rr ? rr->reservation_key : 0;
		o->type = rr ? rr->pr_type : 0;
		o->generation = rr ? rr->prgeneration : 0;
	}
}

static void req_done(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	(void)ctx;
	struct lun_req *r = priv;
	struct lun *l = r->lun;
	struct scsi_task *t = data;
	int key = 0, ascq = 0;
	r->in_flight = false;
	if (t && status == SCSI_STATUS_CHECK_CONDITION) {
		key = t->sense.key;
		ascq = t->sense.ascq;
	}
	/* Test builds: turn the N-th good completion into a path fault
	 * (HAVM_FAULT_AT=iscsi.conflict:N:fail, iscsi.ua29, iscsi.timeout).
	 * The command did run, so only idempotent re-issues may follow. */
	if (!r->internal && status == SCSI_STATUS_GOOD) {
		if (HAVM_FAULT("iscsi.ua29")) {
			status = SCSI_STATUS_CHECK_CONDITION;
			key = SCSI_SENSE_UNIT_ATTENTION;
			ascq = 0x2900;
		} else if (HAVM_FAULT("iscsi.conflict")) {
			status = SCSI_STATUS_RESERVATION_CONFLICT;
		} else if (HAVM_FAULT("iscsi.timeout")) {
			status = SCSI_STATUS_TIMEOUT;
		}
	}
	enum lun_event ev = lun_classify(status, key, ascq);
	if (ev == LUN_EV_GOOD) {
		size_t want = (size_t)r->nblocks * l->block_size;
		if (r->op == LUN_OP_READ && t && r->copy_in) {
			size_t got = t->datain.size < 0 ? 0 : (size_t)t->datain.size;
			memcpy(r->buf, t->datain.data, got < want ? got : want);
			if (got < want)
				memset((char *)r->buf + got, 0, want - got);
		} else if (r->op == LUN_OP_READ && t && t->residual_status == SCSI_RESIDUAL_UNDERFLOW &&
			   t->residual > 0) { /* short DATA-IN: never hand out stale bytes */
			size_t res = t->residual < want ? t->residual : want;
			memset((char *)r->buf + want - res, 0, res);
		}
		if (r->op == LUN_OP_PRIN && t)
			prin_parse(r, t);
		l->stats.reads += r->op == LUN_OP_READ;
		l->stats.writes += r->op == LUN_OP_WRITE;
		l->stats.flushes += r->op == LUN_OP_FLUSH;
		if (t)
			scsi_free_scsi_task(t);
		req_finish(r, 0, NULL);
		return;
	}
	if (t)
		scsi_free_scsi_task(t);
	r->task = NULL;
	bool can_retry = !l->closing && status != SCSI_STATUS_CANCELLED && r->attempts <= l->opts.retries;
	bool guarded = l->key && !r->internal;

	if (can_retry && guarded && (ev == LUN_EV_CONFLICT || ev == LUN_EV_NEXUS_UA)) {
		if (l->fenced)
			goto fail;
		hlog(LOG_WARNING, "lun %s: %s on %s: checking this node's registration (key 0x%llx)",
		     l->name, ev == LUN_EV_CONFLICT ? "RESERVATION CONFLICT" : "UNIT ATTENTION 29/xx",
		     op_names[r->op], (unsigned long long)l->key);
		hold(l, r);
		if (!l->checking)
			lun_guard_start(l);
		return;
	}
	if (can_retry && ev == LUN_EV_TIMEOUT) {
		/* The path is suspect: hold this and new requests; the next tick
		 * reconnects (not from inside a callback, as QEMU does) and
		 * re-issues them. The timed-out command may still have run:
		 * re-issuing the same write is harmless. */
		l->want_reconnect = true;
		l->stats.retries++;
		hlog(LOG_WARNING, "lun %s: %s timed out; reconnecting", l->name, op_names[r->op]);
		if (!r->internal) {
			hold(l, r);
			return;
		}
		if (req_issue(r) > 0)
			return;
	}
	if (can_retry && (ev == LUN_EV_RETRY || ev == LUN_EV_PR_UA ||
			  (ev == LUN_EV_NEXUS_UA && !guarded))) {
		l->stats.retries++;
		hlog(LOG_DEBUG, "lun %s: retrying %s (attempt %d)", l->name, op_names[r->op], r->attempts + 1);
		if (l->checking && !r->internal) {
			hold(l, r);
			return;
		}
		if (req_issue(r) > 0)
			return;
	}
fail:;
	struct havm_err e;
	char what[LUN_URL_MAX + 64];
	req_what(r, what, sizeof(what));
	int rc;
	if (guarded && l->fenced && ev == LUN_EV_CONFLICT)
		rc = havm_err_set(&e, HAVM_E_FENCED, -EACCES,
				  "%s: this node was fenced (key 0x%llx is no longer registered)", what,
				  (unsigned long long)l->key);
	else
		rc = lun_status_err(status, key, ascq, what, iscsi_get_error(l->ctx), &e);
	req_finish(r, rc, &e);
}

void lun_release_held(struct lun *l, int rc, const struct havm_err *err)
{
	struct lun_req *list = l->held;
	l->held = NULL;
	l->held_tail = &l->held;
	l->checking = false;
	while (list) {
		struct lun_req *r = list;
		list = r->next;
		if (rc < 0) {
			req_finish(r, rc, err);
			continue;
		}
		if (req_issue(r) < 0) {
			struct havm_err e;
			havm_err_set(&e, HAVM_E_IO, -ENOMEM, "lun %s: cannot re-issue a command", l->name);
			req_finish(r, -ENOMEM, &e);
		}
	}
	lun_update_events(l);
}

/* ------------------------------------------------------------------------ */
/* Public async I/O                                                          */

static int io_check(struct lun *l, uint64_t lba, uint32_t nblocks)
{
	if (l->fenced)
		return -EACCES;
	if (nblocks == 0 || lba > l->blocks || nblocks > l->blocks - lba)
		return -ERANGE;
	if ((uint64_t)nblocks * l->block_size > 16u << 20)
		return -E2BIG;
	return 0;
}

int lun_read_async(struct lun *l, uint64_t lba, uint32_t nblocks, void *buf, lun_done_fn cb, void *priv)
{
	int rc = io_check(l, lba, nblocks);
	if (rc < 0)
		return rc;
	struct lun_req *r = lun_req_new(l, LUN_OP_READ, cb, priv);
	if (!r)
		return -ENOMEM;
	r->lba = lba;
	r->nblocks = nblocks;
	r->buf = buf;
	return lun_submit(l, r);
}

int lun_write_async(struct lun *l, uint64_t lba, uint32_t nblocks, const void *buf, unsigned flags,
		    lun_done_fn cb, void *priv)
{
	int rc = io_check(l, lba, nblocks);
	if (rc < 0)
		return rc;
	struct lun_req *r = lun_req_new(l, LUN_OP_WRITE, cb, priv);
	if (!r)
		return -ENOMEM;
	r->lba = lba;
	r->nblocks = nblocks;
	r->buf = (void *)buf; /* libiscsi takes unsigned char *; it does not write it */
	r->flags = flags;
	return lun_submit(l, r);
}

int lun_flush_async(struct lun *l, lun_done_fn cb, void *priv)
{
	if (l->fenced)
		return -EACCES;
	struct lun_req *r = lun_req_new(l, LUN_OP_FLUSH, cb, priv);
	if (!r)
		return -ENOMEM;
	return lun_submit(l, r);
}

unsigned lun_pending(const struct lun *l) { return l->pending; }

/* ------------------------------------------------------------------------ */
/* Accessors                                                                 */

uint64_t lun_blocks(const struct lun *l) { return l->blocks; }
uint32_t lun_block_size(const struct lun *l) { return l->block_size; }
const char *lun_name(const struct lun *l) { return l->name; }
const char *lun_initiator(const struct lun *l) { return l->initiator; }
void lun_get_stats(const struct lun *l, struct lun_stats *out) { *out = l->stats; }
