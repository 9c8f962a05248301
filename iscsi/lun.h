/* havm — an iSCSI LUN over libiscsi: URL parsing, connect with CHAP, READ
 * CAPACITY(16), asynchronous READ/WRITE/SYNCHRONIZE CACHE driven by a libqb
 * loop, NOP-Out keep-alive and reconnect, and the SCSI-3 PR "check my
 * registration" guard (iscsi/pr.h has the PR commands themselves).
 *
 * URL syntax (docs/iscsi.md):
 *   iscsi://[user[%password]@]host[:port]/target-iqn/lun[?option&...]
 * host is a name, an IPv4 address or [an IPv6 address]; port defaults to
 * 3260; lun is decimal. Options: target_user=U, target_password=P (mutual
 * CHAP), header_digest=none|crc32c|none-crc32c|crc32c-none, io_deadline=S
 * (seconds, 0..86400: lun_opts.io_deadline_s).
 *
 * Return convention (docs/conventions.md): 0 on success or -errno; calls that
 * face users fill a caller-provided struct havm_err (may be NULL).
 *
 * Async submit (STYLE.md §9): lun_*_async return <0 when rejected (no
 * callback), or 1 when the callback will fire exactly once later. Requests
 * survive a reconnect (libiscsi re-issues them). lun_close completes pending
 * requests with -ECANCELED.
 *
 * Threads: a lun is used by one thread at a time (a libiscsi 1.19 context is
 * not thread-safe). */
#ifndef HAVM_ISCSI_LUN_H
#define HAVM_ISCSI_LUN_H

#include <stdbool.h>
#include <stdint.h>
#include <qb/qbloop.h>

#include "common/err.h"

/* ------------------------------------------------------------------------ */
/* URLs                                                                      */

#define LUN_URL_MAX 1024

enum lun_digest { LUN_DIGEST_NONE_CRC32C = 0, LUN_DIGEST_NONE, LUN_DIGEST_CRC32C, LUN_DIGEST_CRC32C_NONE };

struct lun_url {
	char host[256];          /* without brackets for IPv6 */
	int port;                /* 1..65535, default 3260 */
	char portal[300];        /* "host:port" / "[v6]:port" for libiscsi */
	char target[224];        /* iqn./eui./naa. name (RFC 3720: <= 223 bytes) */
	int lun;                 /* 0..16383 */
	char user[256], password[256];               /* CHAP, empty when none */
	char target_user[256], target_password[256]; /* mutual CHAP */
	enum lun_digest digest;
	int io_deadline_s;       /* io_deadline=S option, -1 when absent */
};

/* Parses @url into @out. Errors: -EINVAL (HAVM_E_CONFIG) with a message that
 * names the part that is wrong ("scheme", "port", "target name", "lun", ...),
 * what was expected and what was found. The password never appears in it. */
int lun_url_parse(const char *url, struct lun_url *out, struct havm_err *err) HAVM_MUST_CHECK;

/* Writes the URL without the password ("iscsi://user@host:port/iqn/lun") to
 * @buf (always terminated). For messages and logs. */
void lun_url_format(const struct lun_url *u, char *buf, size_t len);

/* ------------------------------------------------------------------------ */
/* Opening                                                                   */

struct lun_opts {
	const char *initiator;  /* initiator IQN; NULL = "iqn.2024-01.org.havm:<hostname>" */
	int timeout_s;          /* per-command timeout (libiscsi), default 10; 0 = none */
	int nop_interval_s;     /* NOP-Out keep-alive period when attached, default 5 */
	int nop_max_missed;     /* unanswered NOPs before a reconnect, default 3 */
	int reconnect_max;      /* reconnect attempts, -1 = forever (default) */
	int retries;            /* UA / BUSY / TIMEOUT retries per command, default 5 */
	/* I/O deadline: when a request (not the guard's own) has been pending
	 * this long, the storage path counts as lost: every request fails
	 * (-EIO) without being sent, nothing more is sent (no reconnect, no
	 * NOP) and the lost callback runs. 0 = none (default); the URL option
	 * io_deadline=S overrides it. */
	int io_deadline_s;
};

void lun_opts_default(struct lun_opts *o);

struct lun;

/* Connects (synchronously: TCP, login, CHAP, TEST UNIT READY) and reads the
 * capacity with READ CAPACITY(16). @o may be NULL for defaults.
 * Errors, with @err naming the LUN and the cause in words:
 *   -EINVAL  (HAVM_E_CONFIG)    bad URL
 *   -EACCES  (HAVM_E_CONFIG)    CHAP refused ("authentication failure")
 *   -ENOENT  (HAVM_E_NOTFOUND)  no such target, or the LUN does not exist
 *   -ENOTBLK (HAVM_E_CONFIG)    the LUN is not a disk (e.g. LUN 0 controller)
 *   -ECONNREFUSED / -EIO (HAVM_E_IO) portal unreachable, transport error */
int lun_open(const char *url, const struct lun_opts *o, struct lun **out,
	     struct havm_err *err) HAVM_MUST_CHECK;

/* Detaches from any loop, completes every pending request with -ECANCELED
 * (each callback runs once, inside this call) and logs out. NULL-safe. The
 * cancel is local: a cancelled write may still reach the target. Unflushed
 * writes are the caller's concern: flush first. */
void lun_close(struct lun *l);

uint64_t lun_blocks(const struct lun *l);      /* capacity in logical blocks */
uint32_t lun_block_size(const struct lun *l);  /* logical block size in bytes */
const char *lun_name(const struct lun *l);     /* URL without the password */
const char *lun_initiator(const struct lun *l);

/* ------------------------------------------------------------------------ */
/* Asynchronous I/O                                                          */

/* Completion: @rc is 0 or -errno; @err describes a failure (NULL on success)
 * and is valid only during the call. */
typedef void (*lun_done_fn)(void *priv, int rc, const struct havm_err *err);

enum lun_write_flag {
	LUN_W_FUA = 1u << 0, /* forced unit access: durable when acknowledged */
};

/* Reads @nblocks blocks at @lba into @buf (nblocks * block size bytes). */
int lun_read_async(struct lun *l, uint64_t lba, uint32_t nblocks, void *buf,
		   lun_done_fn cb, void *priv) HAVM_MUST_CHECK;
/* Writes; @buf must stay valid until the callback. */
int lun_write_async(struct lun *l, uint64_t lba, uint32_t nblocks, const void *buf,
		    unsigned flags, lun_done_fn cb, void *priv) HAVM_MUST_CHECK;
/* SYNCHRONIZE CACHE(16) of the whole LUN: a guest FLUSH. */
int lun_flush_async(struct lun *l, lun_done_fn cb, void *priv) HAVM_MUST_CHECK;

/* Requests submitted and not yet completed. */
unsigned lun_pending(const struct lun *l);

/* ------------------------------------------------------------------------ */
/* Event loop                                                                */

/* Drives the LUN from @loop: polls its fd, a 1 s service timer (command
 * timeouts, reconnect back-off) and a NOP-Out every nop_interval_s; after
 * nop_max_missed unanswered NOPs the session is reconnected. 0 or -errno. */
int lun_attach(struct lun *l, qb_loop_t *loop) HAVM_MUST_CHECK;
void lun_detach(struct lun *l);

/* For callers with their own loop (and lun_sync.c): the fd, the poll events
 * it wants now (0 = none for a while: call lun_tick within 100 ms), the
 * service call, and the periodic tick (call about once a second). */
int lun_fd(const struct lun *l);
int lun_events(const struct lun *l);
int lun_service(struct lun *l, int revents);
void lun_tick(struct lun *l);

/* Makes the session reconnect now (fault handling, tests). */
int lun_reconnect(struct lun *l);

/* ------------------------------------------------------------------------ */
/* Registration guard (SCSI-3 PR)                                            */

/* Sets this node's PR key (0 = no guard). With a key, a command that ends in
 * UNIT ATTENTION 29/xx (reset, I_T nexus loss: e.g. after a reconnect),
 * 2A/xx (reservations or registrations changed) or RESERVATION CONFLICT
 * makes the LUN hold every request and check the registration: READ KEYS;
 * own key absent => this node was fenced: every held and future request fails
 * with -EACCES (HAVM_E_FENCED) and no further command is sent; own key present
 * => REGISTER AND IGNORE EXISTING KEY on this I_T nexus, PREEMPT with the
 * own key (drops stale twins of a former nexus), then the held requests are
 * re-issued. The key is never registered when it is absent. */
void lun_set_key(struct lun *l, uint64_t key);
uint64_t lun_key(const struct lun *l);

/* Called once when the guard finds this node fenced (before the failed
 * requests complete), so the owner can stop the VM at once. */
typedef void (*lun_fenced_fn)(void *priv, struct lun *l);
void lun_set_fenced_fn(struct lun *l, lun_fenced_fn fn, void *priv);
bool lun_is_fenced(const struct lun *l);

/* Called once when the I/O deadline (lun_opts.io_deadline_s) passes, after
 * every held request failed and before anything else happens: the owner
 * stops the VM at once. */
typedef void (*lun_lost_fn)(void *priv, struct lun *l);
void lun_set_lost_fn(struct lun *l, lun_lost_fn fn, void *priv);
/* The options in force (the URL's io_deadline applied). */
void lun_get_opts(const struct lun *l, struct lun_opts *out);
bool lun_is_lost(const struct lun *l);

/* Counters (for status replies and tests). */
struct lun_stats {
	uint64_t reads, writes, flushes;
	uint64_t retries;        /* commands re-issued after UA/BUSY/TIMEOUT */
	uint64_t checks;         /* registration checks run */
	uint64_t reregistered;   /* checks that re-registered this nexus */
	uint64_t reconnects;     /* reconnects we requested (missed NOPs, timeouts) */
	uint64_t nops_sent;
};
void lun_get_stats(const struct lun *l, struct lun_stats *out);

#endif
