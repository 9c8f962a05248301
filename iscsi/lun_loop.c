/* havm — driving a LUN: the fd/events/service calls, the 1 s tick (command
 * timeouts, NOP-Out keep-alive, reconnect after a timeout or missed NOPs)
 * and their libqb qb_loop registration. */
#define LOG_TAG HAVM_TAG_ISCSI
#include "common/log.h"
#include "iscsi/lun_int.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

uint64_t lun_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The age in ms of the oldest pending request of the owner's (the guard's
 * own PR commands do not count), 0 when none. */
static uint64_t oldest_pending_ms(const struct lun *l, uint64_t now)
{
	uint64_t oldest = 0;
	for (const struct lun_req *r = l->all; r; r = r->all_next)
		if (!r->internal && r->t_submit_ms && now - r->t_submit_ms > oldest)
			oldest = now - r->t_submit_ms;
	return oldest;
}

/* The I/O deadline passed: fail what waits, send nothing more, tell the
 * owner. Requests libiscsi still queues are never re-sent: no reconnect
 * follows, and the owner (vmm) ends the process, which drops them. */
static void path_lost(struct lun *l, uint64_t age_ms)
{
	l->lost = true;
	l->want_reconnect = false;
	hlog(LOG_ERR, "lun %s: a request has been pending for %.1f s (io_deadline %d s): storage path lost; "
	     "failing every request without sending it",
	     l->name, (double)age_ms / 1000, l->opts.io_deadline_s);
	if (l->lost_fn)
		l->lost_fn(l->lost_priv, l);
	/* Out of libiscsi's queues (the callbacks run with CANCELLED and fail
	 * the requests), so a later reconnect has nothing to re-send. */
	iscsi_scsi_cancel_all_tasks(l->ctx);
	/* Any left (a context mid-reconnect keeps some elsewhere): one by one,
	 * collected first because each callback frees its request. */
	struct scsi_task *left[64];
	unsigned n = 0;
	for (struct lun_req *r = l->all; r && n < 64; r = r->all_next)
		if (r->in_flight && r->task)
			left[n++] = r->task;
	for (unsigned i = 0; i < n; i++)
		iscsi_scsi_cancel_task(l->ctx, left[i]);
	struct havm_err e;
	havm_err_set(&e, HAVM_E_IO, -EIO, "lun %s: storage path lost (no completion within %d s)", l->name,
		     l->opts.io_deadline_s);
	if (l->held)
		lun_release_held(l, -EIO, &e);
	lun_update_events(l);
}

bool lun_is_lost(const struct lun *l) { return l->lost; }
void lun_get_opts(const struct lun *l, struct lun_opts *out) { *out = l->opts; }

void lun_set_lost_fn(struct lun *l, lun_lost_fn fn, void *priv)
{
	l->lost_fn = fn;
	l->lost_priv = priv;
}

int lun_fd(const struct lun *l) { return iscsi_get_fd(l->ctx); }
int lun_events(const struct lun *l) { return iscsi_which_events(l->ctx); }

int lun_service(struct lun *l, int revents)
{
	if (l->lost) /* libiscsi must not get to reconnect and re-send */
		return -EIO;
	l->in_service = true;
	int rc = iscsi_service(l->ctx, revents);
	l->in_service = false;
	if (rc < 0)
		hlog(LOG_WARNING, "lun %s: %s", l->name, iscsi_get_error(l->ctx));
	else /* requests the callbacks just issued */
		lun_flush_out(l);
	lun_update_events(l);
	return rc < 0 ? -EIO : 0;
}

/* A request's PDU waits in libiscsi's queue until the socket is polled
 * writable: one more loop round (epoll_ctl for POLLOUT, epoll_wait,
 * dispatch, epoll_ctl back) per request, which is what kept a queue depth
 * of 1 at less than half of iscsi-perf's rate. The socket nearly always has
 * room, so write at once; what does not fit waits for POLLOUT as before.
 * Never from inside iscsi_service() (its callbacks issue requests). */
void lun_flush_out(struct lun *l)
{
	if (l->in_service || l->lost || !(iscsi_which_events(l->ctx) & POLLOUT) ||
	    !iscsi_is_logged_in(l->ctx))
		return;
	l->in_service = true;
	if (iscsi_service(l->ctx, POLLOUT) < 0)
		hlog(LOG_WARNING, "lun %s: %s", l->name, iscsi_get_error(l->ctx));
	l->in_service = false;
}

int lun_reconnect(struct lun *l)
{
	l->stats.reconnects++;
	hlog(LOG_WARNING, "lun %s: reconnecting", l->name);
	int rc = iscsi_reconnect(l->ctx);
	lun_update_events(l);
	return rc < 0 ? -EIO : 0;
}

void lun_tick(struct lun *l)
{
	l->ticks++;
	if (l->lost)
		return;
	if (l->opts.io_deadline_s > 0) {
		uint64_t age = oldest_pending_ms(l, lun_now_ms());
		if (age > (uint64_t)l->opts.io_deadline_s * 1000) {
			path_lost(l, age);
			return;
		}
	}
	iscsi_service(l->ctx, 0); /* scans command timeouts */
	if (l->want_reconnect) {
		l->want_reconnect = false;
		lun_reconnect(l);
		/* libiscsi queues commands while it reconnects; a running
		 * registration check releases the held requests itself. */
		if (!l->checking && l->held)
			lun_release_held(l, 0, NULL);
		return;
	}
	if (l->loop && l->opts.nop_interval_s > 0 && l->ticks % (unsigned)l->opts.nop_interval_s == 0 &&
	    iscsi_is_logged_in(l->ctx)) {
		if (iscsi_get_nops_in_flight(l->ctx) >= l->opts.nop_max_missed) {
			hlog(LOG_WARNING, "lun %s: %d NOP-Outs unanswered", l->name,
			     iscsi_get_nops_in_flight(l->ctx));
			lun_reconnect(l);
			return;
		}
		if (iscsi_nop_out_async(l->ctx, NULL, NULL, 0, NULL) == 0)
			l->stats.nops_sent++;
	}
	lun_update_events(l);
}

static int32_t loop_dispatch(int32_t fd, int32_t revents, void *data)
{
	(void)fd;
	struct lun *l = data;
	lun_service(l, revents);
	return 0;
}

static void loop_timer(void *data)
{
	struct lun *l = data;
	lun_tick(l);
	if (l->loop)
		qb_loop_timer_add(l->loop, QB_LOOP_MED, 1000ULL * 1000 * 1000, l, loop_timer, &l->timer);
}

void lun_update_events(struct lun *l)
{
	if (!l->loop)
		return;
	if (l->lost) { /* no more traffic: out of the loop */
		if (l->polled_fd >= 0)
			qb_loop_poll_del(l->loop, l->polled_fd);
		l->polled_fd = -1;
		return;
	}
	int ev = iscsi_which_events(l->ctx);
	int fd = iscsi_get_fd(l->ctx);
	/* During a reconnect libiscsi 1.19 works on a new socket (another fd)
	 * and dup2()s it over the old number only once logged in; the old fd
	 * may be closed meanwhile (epoll then forgot it). Follow the fd. */
	if (fd != l->polled_fd) {
		if (l->polled_fd >= 0)
			qb_loop_poll_del(l->loop, l->polled_fd);
		l->polled_fd = -1;
		if (fd >= 0 && qb_loop_poll_add(l->loop, QB_LOOP_MED, fd, ev, l, loop_dispatch) == 0)
			l->polled_fd = fd;
		l->polled_events = ev;
		return;
	}
	if (ev != l->polled_events) {
		if (qb_loop_poll_mod(l->loop, QB_LOOP_MED, fd, ev, l, loop_dispatch) != 0) {
			qb_loop_poll_del(l->loop, fd);
			if (qb_loop_poll_add(l->loop, QB_LOOP_MED, fd, ev, l, loop_dispatch) != 0)
				l->polled_fd = -1;
		}
		l->polled_events = ev;
	}
}

int lun_attach(struct lun *l, qb_loop_t *loop)
{
	if (l->loop)
		return -EBUSY;
	l->polled_events = iscsi_which_events(l->ctx);
	l->polled_fd = iscsi_get_fd(l->ctx);
	int rc = qb_loop_poll_add(loop, QB_LOOP_MED, l->polled_fd, l->polled_events, l, loop_dispatch);
	if (rc < 0)
		return rc;
	rc = qb_loop_timer_add(loop, QB_LOOP_MED, 1000ULL * 1000 * 1000, l, loop_timer, &l->timer);
	if (rc < 0) {
		qb_loop_poll_del(loop, l->polled_fd);
		return rc;
	}
	l->loop = loop;
	return 0;
}

void lun_detach(struct lun *l)
{
	if (!l->loop)
		return;
	qb_loop_timer_del(l->loop, l->timer);
	if (l->polled_fd >= 0)
		qb_loop_poll_del(l->loop, l->polled_fd);
	l->loop = NULL;
}
