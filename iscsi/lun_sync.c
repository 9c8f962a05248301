/* havm — synchronous LUN calls for tools and tests: each is the async call
 * plus a small poll loop on the LUN's fd (libiscsi's lib/sync.c pattern).
 * Never call these from inside a LUN callback, nor on a LUN attached to a
 * qb_loop that another thread runs. */
#include "iscsi/lun_int.h"
#include "iscsi/lun_sync.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int lun_sync_wait(struct lun *l, const bool *done, int timeout_ms)
{
	uint64_t start = now_ms(), last_tick = start;
	while (!*done) {
		if (lun_is_lost(l)) /* every request was failed; nothing runs any more */
			return -EIO;
		uint64_t now = now_ms();
		if (timeout_ms > 0 && now - start >= (uint64_t)timeout_ms)
			return -ETIMEDOUT;
		if (now - last_tick >= 1000) {
			last_tick = now;
			lun_tick(l);
			continue;
		}
		struct pollfd p = { .fd = lun_fd(l), .events = (short)lun_events(l) };
		int wait = 1000 - (int)(now - last_tick);
		if (p.events == 0) { /* reconnect back-off: libiscsi wants a pause */
			poll(NULL, 0, wait < 100 ? wait : 100);
			lun_service(l, 0);
			continue;
		}
		int n = poll(&p, 1, wait);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			lun_service(l, p.revents);
	}
	return 0;
}

struct sync_state {
	bool done;
	int rc;
	struct havm_err *err;
};

static void sync_done(void *priv, int rc, const struct havm_err *err)
{
	struct sync_state *s = priv;
	s->done = true;
	s->rc = rc;
	if (rc < 0 && s->err && err)
		*s->err = *err;
}

static int finish(struct lun *l, int submit_rc, struct sync_state *s, const char *what)
{
	if (submit_rc < 0) {
		if (submit_rc == -EACCES && lun_is_fenced(l))
			return havm_err_set(s->err, HAVM_E_FENCED, -EACCES,
					    "lun %s: %s refused: this node was fenced", lun_name(l), what);
		return havm_err_set(s->err, submit_rc == -ERANGE ? HAVM_E_CONFIG : HAVM_E_IO, submit_rc,
				    "lun %s: %s refused: %s", lun_name(l), what, strerror(-submit_rc));
	}
	int rc = lun_sync_wait(l, &s->done, 0);
	if (rc < 0)
		return havm_err_set(s->err, HAVM_E_IO, rc, "lun %s: %s: event loop failed", lun_name(l), what);
	return s->rc;
}

int lun_read_sync(struct lun *l, uint64_t lba, uint32_t nblocks, void *buf, struct havm_err *err)
{
	struct sync_state s = { .err = err };
	return finish(l, lun_read_async(l, lba, nblocks, buf, sync_done, &s), &s, "read");
}

int lun_write_sync(struct lun *l, uint64_t lba, uint32_t nblocks, const void *buf, unsigned flags,
		   struct havm_err *err)
{
	struct sync_state s = { .err = err };
	return finish(l, lun_write_async(l, lba, nblocks, buf, flags, sync_done, &s), &s, "write");
}

int lun_flush_sync(struct lun *l, struct havm_err *err)
{
	struct sync_state s = { .err = err };
	return finish(l, lun_flush_async(l, sync_done, &s), &s, "flush");
}

int lun_run_sync(struct lun *l, struct lun_req *r, struct havm_err *err)
{
	struct sync_state s = { .err = err };
	r->cb = sync_done;
	/* s outlives the request: finish() returns once the callback ran. */
	// cppcheck-suppress autoVariables
	r->priv = &s;
	return finish(l, lun_submit(l, r), &s, "command");
}
