/* havm — driving a LUN: the fd/events/service calls, the 1 s tick (command
 * timeouts, NOP-Out keep-alive, reconnect after a timeout or missed NOPs)
 * and their libqb qb_loop registration. */
#define LOG_TAG HAVM_TAG_ISCSI
#include "common/log.h"
#include "iscsi/lun_int.h"

#include <errno.h>

int lun_fd(const struct lun *l) { return iscsi_get_fd(l->ctx); }
int lun_events(const struct lun *l) { return iscsi_which_events(l->ctx); }

int lun_service(struct lun *l, int revents)
{
	int rc = iscsi_service(l->ctx, revents);
	if (rc < 0)
		hlog(LOG_WARNING, "lun %s: %s", l->name, iscsi_get_error(l->ctx));
	lun_update_events(l);
	return rc < 0 ? -EIO : 0;
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
