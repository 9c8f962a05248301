/* havm — iscsi/ internals shared by lun.c, lun_sync.c, sense.c and pr.c.
 * Never included from another module. */
#ifndef HAVM_ISCSI_LUN_INT_H
#define HAVM_ISCSI_LUN_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "iscsi/lun.h"

/* ---- status classification (sense.c) ---------------------------------- */

/* What the request engine does with a completed command. */
enum lun_event {
	LUN_EV_GOOD = 0,
	LUN_EV_FAIL,        /* final failure: report it */
	LUN_EV_RETRY,       /* BUSY, TASK SET FULL, NOT READY/becoming ready, other UA */
	LUN_EV_TIMEOUT,     /* local timeout: reconnect, then retry */
	LUN_EV_NEXUS_UA,    /* UA 29/xx: reset or I_T nexus loss (a reconnect) */
	LUN_EV_PR_UA,       /* UA 2A/xx: reservations/registrations changed */
	LUN_EV_CONFLICT,    /* RESERVATION CONFLICT */
};

enum lun_event lun_classify(int status, int sense_key, int ascq);

/* Fills @err for a failed command: "<what>: <status in words>" with the sense
 * decoded ("CHECK CONDITION ILLEGAL_REQUEST/LBA_OUT_OF_RANGE (key 0x5, asc/ascq
 * 0x2100)"), and returns the matching -errno. @transport_msg is libiscsi's
 * error text for SCSI_STATUS_ERROR (may be NULL). */
int lun_status_err(int status, int sense_key, int ascq, const char *what,
		   const char *transport_msg, struct havm_err *err);

/* ---- request engine (lun.c) -------------------------------------------- */

enum lun_op { LUN_OP_READ, LUN_OP_WRITE, LUN_OP_FLUSH, LUN_OP_TUR, LUN_OP_PRIN, LUN_OP_PROUT };

#define LUN_PR_MAX_KEYS 64

struct lun_prin_result {
	int num_keys;                    /* READ KEYS */
	uint64_t keys[LUN_PR_MAX_KEYS];
	uint32_t generation;
	bool reserved;                   /* READ RESERVATION */
	uint64_t holder_key;
	int type;
};

struct lun_req {
	struct lun *lun;
	enum lun_op op;
	uint64_t lba;
	uint32_t nblocks;
	void *buf;
	unsigned flags;
	int sa, type;                    /* PR service action, reservation type */
	uint64_t key, sa_key;
	struct lun_prin_result *prin;    /* PR IN output (caller-owned) */
	lun_done_fn cb;
	void *priv;
	int attempts;
	uint64_t t_submit_ms;            /* first submission (monotonic): the I/O deadline */
	bool internal;                   /* the guard's own PR commands: no guard */
	bool in_flight;
	bool copy_in;                    /* READ data comes in task->datain */
	struct scsi_task *task;
	struct lun_req *next;            /* in the held or all-requests list */
	struct lun_req *all_next;
};

/* The LUN itself (lun.c); the guard and the loop glue share it. */
struct lun {
	struct iscsi_context *ctx;
	struct lun_url url;
	char name[LUN_URL_MAX];
	char initiator[256];
	struct lun_opts opts;
	uint64_t blocks;
	uint32_t block_size;

	struct lun_req *all;       /* every request not yet completed */
	unsigned pending;
	struct lun_req *held, **held_tail; /* waiting for the guard */

	uint64_t key;              /* 0 = no guard */
	bool checking, fenced, closing;
	lun_fenced_fn fenced_fn;
	void *fenced_priv;
	bool lost;                 /* the I/O deadline passed (lun_loop.c) */
	lun_lost_fn lost_fn;
	void *lost_priv;
	int check_type;            /* reservation type seen by the running check */

	qb_loop_t *loop;
	qb_loop_timer_handle timer;
	int polled_events, polled_fd;
	unsigned ticks;
	bool want_reconnect;
	bool in_service;           /* inside iscsi_service(): no re-entry */
	struct lun_stats stats;
};

/* Re-issues (@rc == 0) or fails with @rc every held request and ends a
 * registration check (lun.c). */
void lun_release_held(struct lun *l, int rc, const struct havm_err *err);
/* Monotonic milliseconds (lun_loop.c). */
uint64_t lun_now_ms(void);
/* Starts the registration check (lun_guard.c); requests are held meanwhile. */
void lun_guard_start(struct lun *l);
/* Re-arms the loop's poll registration after libiscsi's wishes changed
 * (lun_loop.c; no-op when not attached). */
void lun_update_events(struct lun *l);
/* Writes queued PDUs now if the socket takes them (lun_loop.c). */
void lun_flush_out(struct lun *l);

/* Submits a request built by the caller (PR commands from pr.c). Takes
 * ownership of @r (freed after its callback). Returns 1 or -errno. */
int lun_submit(struct lun *l, struct lun_req *r) HAVM_MUST_CHECK;

/* Builds a zeroed request for @op (NULL on ENOMEM). */
struct lun_req *lun_req_new(struct lun *l, enum lun_op op, lun_done_fn cb, void *priv);

/* ---- sync driving (lun_sync.c) ------------------------------------------ */

/* Runs the loop on the LUN until *@done is set or @timeout_ms passes
 * (0 = no limit). Returns 0 or -ETIMEDOUT. */
int lun_sync_wait(struct lun *l, const bool *done, int timeout_ms);

#endif
