/* lun_probe — a diagnostic tool over iscsi/lun.h and iscsi/pr.h, used by the
 * integration tests (tests/integration/test_iscsi_*.sh) and by admins to poke
 * at a LUN. Blocking calls, except `writeloop`, which runs the real
 * asynchronous path inside a qb_loop (NOP keep-alive, reconnect, guard).
 *
 *   lun_probe [-i IQN] [-k KEY|cmap] [-t TIMEOUT] [-n NOP_INTERVAL] URL COMMAND [ARGS] [+ COMMAND [ARGS]]...
 * Commands joined by "+" run in order on one session (one I_T nexus), which
 * is what PR registrations are tied to; the first failure stops the run.
 *     info | read LBA N | write LBA N BYTE [fua] | flush
 *     keys | reservation | register KEY | unregister | reserve KEY [TYPE]
 *     release KEY [TYPE] | clear KEY | preempt OWN VICTIM [abort] | check KEY
 *     writeloop FIRST_LBA COUNT INTERVAL_MS   (with -k: guard on, registers first)
 *     closebusy N   (submit N writes and close at once: prints how many
 *                    callbacks ran and how many were cancelled; must be last)
 *     vhd OFFSET LENGTH   (a dynamic VHD in that byte region via blk_iscsi:
 *                          create, write sectors 0..7 = 0xa1 and 5000..5007 =
 *                          0xb2, close, reopen read-only, verify)
 * Exit status: 0, or the havm_err kind's exit code (docs/conventions.md). */
#define LOG_TAG HAVM_TAG_ISCSI
#include "common/log.h"
#include "iscsi/blk_iscsi.h"
#include "iscsi/lun.h"
#include "iscsi/lun_sync.h"
#include "iscsi/pr.h"
#include "vmcore/disk/vhd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const struct havm_err *e)
{
	fprintf(stderr, "lun_probe: %s: %s\n", havm_err_kind_name(e->kind), e->msg);
	return havm_err_exit_code(e->kind);
}

static int usage(void)
{
	fprintf(stderr, "usage: lun_probe [-i IQN] [-k KEY] [-t TIMEOUT] URL COMMAND [ARGS] [+ COMMAND [ARGS]]...\n");
	return 2;
}

static uint64_t num(const char *s)
{
	return strtoull(s, NULL, 0);
}

static int key_arg(const char *s, uint64_t *k, struct havm_err *e)
{
	return pr_key_parse(s, k, e);
}

/* ---- writeloop: sequential FUA writes through the async path ------------- */

struct wl {
	struct lun *l;
	qb_loop_t *loop;
	uint64_t first, count, next;
	unsigned interval_ms;
	uint8_t *buf;
	int rc;
	struct havm_err err;
	qb_loop_timer_handle timer;
};

static void wl_submit(void *data);

static void wl_fill(struct wl *w, uint64_t seq)
{
	uint32_t bs = lun_block_size(w->l);
	for (uint32_t off = 0; off + 32 <= bs; off += 32)
		snprintf((char *)w->buf + off, 32, "havm seq %020llu\n", (unsigned long long)seq);
}

static void wl_done(void *priv, int rc, const struct havm_err *err)
{
	struct wl *w = priv;
	if (rc < 0) {
		w->rc = rc;
		w->err = *err;
		printf("fail %llu %s\n", (unsigned long long)w->next, havm_err_kind_name(err->kind));
		fflush(stdout);
		qb_loop_stop(w->loop);
		return;
	}
	printf("ack %llu\n", (unsigned long long)w->next);
	fflush(stdout);
	if (++w->next == w->count) {
		qb_loop_stop(w->loop);
		return;
	}
	qb_loop_timer_add(w->loop, QB_LOOP_MED, (uint64_t)w->interval_ms * 1000000ULL, w, wl_submit, &w->timer);
}

static void wl_submit(void *data)
{
	struct wl *w = data;
	wl_fill(w, w->next);
	int rc = lun_write_async(w->l, w->first + w->next, 1, w->buf, LUN_W_FUA, wl_done, w);
	if (rc < 0) {
		w->rc = rc;
		havm_err_set(&w->err, lun_is_fenced(w->l) ? HAVM_E_FENCED : HAVM_E_IO, rc,
			     "lun %s: write refused: %s", lun_name(w->l), strerror(-rc));
		qb_loop_stop(w->loop);
	}
}

static void wl_fenced(void *priv, struct lun *l)
{
	(void)priv;
	printf("fenced %s\n", lun_name(l));
	fflush(stdout);
}

static int writeloop(struct lun *l, uint64_t key, int argc, char **argv, struct havm_err *e)
{
	if (argc < 3)
		return usage();
	struct wl w = { .l = l, .first = num(argv[0]), .count = num(argv[1]),
			.interval_ms = (unsigned)num(argv[2]) };
	if (key) {
		/* Initial registration is explicit (unfencing did it for the node);
		 * the guard only ever re-registers a key that is still present. */
		if (pr_register_ignore(l, key, e) < 0)
			return fail(e);
		lun_set_key(l, key);
		lun_set_fenced_fn(l, wl_fenced, &w);
	}
	w.buf = calloc(1, lun_block_size(l));
	w.loop = qb_loop_create();
	if (!w.buf || !w.loop || lun_attach(l, w.loop) < 0) {
		fprintf(stderr, "lun_probe: cannot set up the loop\n");
		free(w.buf);
		if (w.loop)
			qb_loop_destroy(w.loop);
		return 1;
	}
	wl_submit(&w);
	if (w.rc == 0)
		qb_loop_run(w.loop);
	lun_detach(l);
	struct lun_stats st;
	lun_get_stats(l, &st);
	printf("stats writes=%llu retries=%llu checks=%llu reregistered=%llu reconnects=%llu nops=%llu\n",
	       (unsigned long long)st.writes, (unsigned long long)st.retries, (unsigned long long)st.checks,
	       (unsigned long long)st.reregistered, (unsigned long long)st.reconnects,
	       (unsigned long long)st.nops_sent);
	qb_loop_destroy(w.loop);
	free(w.buf);
	if (w.rc < 0)
		return fail(&w.err);
	return 0;
}

/* ---- a VHD inside a LUN region (blk_iscsi) ------------------------------- */

static int vhd_region(struct lun *l, int argc, char **argv)
{
	if (argc < 2)
		return usage();
	uint64_t off = num(argv[0]), len = num(argv[1]);
	struct havm_err e;
	struct blk_backend *be;
	if (blk_backend_iscsi_open(l, off, len, BLK_O_RDWR, 0, &be, &e) < 0)
		return fail(&e);
	struct vhd_create_opts o = { .type = VHD_TYPE_DYNAMIC, .size = 8u << 20 };
	uint64_t final;
	if (vhd_create_backend(be, &o, NULL, &final, &e) < 0) {
		blk_backend_close(be);
		return fail(&e);
	}
	struct blk_dev *d;
	if (blk_open_backend(be, BLK_O_RDWR, &d, &e) < 0) {
		blk_backend_close(be);
		return fail(&e);
	}
	uint8_t a[8 * 512], b[8 * 512], r[8 * 512];
	memset(a, 0xa1, sizeof(a));
	memset(b, 0xb2, sizeof(b));
	int rc = blk_write(d, 0, a, 8);
	if (rc == 0)
		rc = blk_write(d, 5000, b, 8);
	if (rc == 0)
		rc = blk_flush(d);
	int crc = blk_close(d);
	if (rc < 0 || crc < 0) {
		fprintf(stderr, "lun_probe: vhd write/flush/close failed: %s\n", strerror(-(rc < 0 ? rc : crc)));
		return 4;
	}
	if (blk_backend_iscsi_open(l, off, len, 0, 0, &be, &e) < 0 || blk_open_backend(be, 0, &d, &e) < 0)
		return fail(&e);
	int ok = blk_read(d, 0, r, 8) == 0 && memcmp(r, a, sizeof(r)) == 0;
	ok = ok && blk_read(d, 5000, r, 8) == 0 && memcmp(r, b, sizeof(r)) == 0;
	ok = ok && blk_read(d, 100, r, 8) == 0 && r[0] == 0 && memcmp(r, r + 1, sizeof(r) - 1) == 0;
	printf("vhd %s format=%s size=%llu\n", ok ? "ok" : "MISMATCH", blk_format_name(blk_format(d)),
	       (unsigned long long)blk_size(d));
	blk_close(d);
	return ok ? 0 : 1;
}

/* ---- close with requests in flight --------------------------------------- */

struct busy {
	int done, cancelled, ok;
};

static void busy_done(void *priv, int rc, const struct havm_err *err)
{
	(void)err;
	struct busy *b = priv;
	b->done++;
	b->cancelled += rc == -ECANCELED;
	b->ok += rc == 0;
}

static int closebusy(struct lun **lp, int argc, char **argv)
{
	if (argc < 1)
		return usage();
	int n = (int)num(argv[0]);
	struct busy b = { 0 };
	uint8_t *buf = calloc(1, lun_block_size(*lp));
	if (!buf)
		return 1;
	int submitted = 0;
	for (int i = 0; i < n; i++)
		if (lun_write_async(*lp, 8000 + (uint64_t)i, 1, buf, 0, busy_done, &b) > 0)
			submitted++;
	lun_close(*lp); /* nothing was serviced: all are still pending */
	*lp = NULL;
	free(buf);
	printf("submitted=%d callbacks=%d cancelled=%d ok=%d\n", submitted, b.done, b.cancelled, b.ok);
	return b.done == submitted ? 0 : 1;
}

/* ---- blocking commands ----------------------------------------------------- */

static int run_cmd(struct lun *l, const char *cmd, uint64_t key, int argc, char **argv)
{
	struct havm_err e;
	havm_err_clear(&e);
	uint64_t k1, k2;
	char kb[32];
	if (strcmp(cmd, "info") == 0) {
		printf("blocks=%llu block_size=%u initiator=%s\n", (unsigned long long)lun_blocks(l),
		       lun_block_size(l), lun_initiator(l));
		if (key) {
			pr_key_format(key, kb, sizeof(kb));
			printf("key=%s\n", kb);
		}
		return 0;
	}
	if (strcmp(cmd, "read") == 0 || strcmp(cmd, "write") == 0) {
		if (argc < (cmd[0] == 'w' ? 3 : 2))
			return usage();
		uint64_t lba = num(argv[0]);
		uint32_t n = (uint32_t)num(argv[1]);
		size_t len = (size_t)n * lun_block_size(l);
		uint8_t *buf = malloc(len ? len : 1);
		if (!buf)
			return 1;
		int rc;
		if (cmd[0] == 'w') {
			memset(buf, (int)num(argv[2]), len);
			if (key)
				lun_set_key(l, key);
			bool fua = argc > 3 && strcmp(argv[3], "fua") == 0;
			rc = lun_write_sync(l, lba, n, buf, fua ? LUN_W_FUA : 0, &e);
		} else {
			rc = lun_read_sync(l, lba, n, buf, &e);
			if (rc == 0) {
				size_t same = 1;
				while (same < len && buf[same] == buf[0])
					same++;
				if (same == len)
					printf("uniform 0x%02x\n", buf[0]);
				else
					printf("mixed first=0x%02x\n", buf[0]);
			}
		}
		free(buf);
		return rc < 0 ? fail(&e) : 0;
	}
	if (strcmp(cmd, "flush") == 0)
		return lun_flush_sync(l, &e) < 0 ? fail(&e) : 0;
	if (strcmp(cmd, "vhd") == 0)
		return vhd_region(l, argc, argv);
	if (strcmp(cmd, "keys") == 0) {
		struct pr_keys ks;
		if (pr_read_keys(l, &ks, &e) < 0)
			return fail(&e);
		for (int i = 0; i < ks.count; i++) {
			pr_key_format(ks.keys[i], kb, sizeof(kb));
			printf("%s\n", kb);
		}
		return 0;
	}
	if (strcmp(cmd, "reservation") == 0) {
		struct pr_reservation r;
		if (pr_read_reservation(l, &r, &e) < 0)
			return fail(&e);
		pr_key_format(r.key, kb, sizeof(kb));
		if (r.reserved)
			printf("%s %s\n", kb, pr_type_name(r.type));
		else
			printf("none\n");
		return 0;
	}
	if (strcmp(cmd, "unregister") == 0)
		return pr_register_ignore(l, 0, &e) < 0 ? fail(&e) : 0;
	if (argc < 1)
		return usage();
	if (key_arg(argv[0], &k1, &e) < 0)
		return fail(&e);
	enum pr_type type = argc > 1 && strcmp(cmd, "preempt") != 0 ? (enum pr_type)num(argv[1]) : PR_TYPE_WERO;
	int rc;
	if (strcmp(cmd, "register") == 0)
		rc = pr_register_ignore(l, k1, &e);
	else if (strcmp(cmd, "reserve") == 0)
		rc = pr_reserve(l, k1, type, &e);
	else if (strcmp(cmd, "release") == 0)
		rc = pr_release(l, k1, type, &e);
	else if (strcmp(cmd, "clear") == 0)
		rc = pr_clear(l, k1, &e);
	else if (strcmp(cmd, "check") == 0) {
		rc = pr_check_registration(l, k1, &e);
		if (rc == 0)
			printf("registered\n");
	} else if (strcmp(cmd, "preempt") == 0) {
		if (argc < 2)
			return usage();
		if (key_arg(argv[1], &k2, &e) < 0)
			return fail(&e);
		bool aborted;
		rc = pr_preempt(l, k1, k2, PR_TYPE_WERO, argc > 2 && strcmp(argv[2], "abort") == 0, &aborted, &e);
		if (rc == 0)
			printf("%s\n", aborted ? "preempt-and-abort" : "preempt");
	} else
		return usage();
	return rc < 0 ? fail(&e) : 0;
}

int main(int argc, char **argv)
{
	struct lun_opts o;
	lun_opts_default(&o);
	uint64_t key = 0;
	struct havm_err e;
	static const struct option lo[] = {
		{ "initiator", required_argument, NULL, 'i' }, { "key", required_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' }, { "nop-interval", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "+i:k:t:n:", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o.initiator = optarg; break;
		case 'k': /* a hex key, or "cmap": this node's key from corosync */
			if (strcmp(optarg, "cmap") == 0 ? pr_local_key(PR_KEY_ID, &key, &e) < 0
							 : pr_key_parse(optarg, &key, &e) < 0)
				return fail(&e);
			break;
		case 't': o.timeout_s = (int)strtol(optarg, NULL, 10); break;
		case 'n': o.nop_interval_s = (int)strtol(optarg, NULL, 10); break;
		default: return usage();
		}
	}
	if (argc - optind < 2)
		return usage();
	havm_log_init("lun_probe", HAVM_LOG_STDERR, LOG_WARNING);
	const char *url = argv[optind];
	struct lun *l;
	if (lun_open(url, &o, &l, &e) < 0)
		return fail(&e);
	int rc = 0;
	for (int i = optind + 1; i < argc && rc == 0;) {
		int j = i;
		while (j < argc && strcmp(argv[j], "+") != 0)
			j++;
		const char *cmd = argv[i];
		if (strcmp(cmd, "closebusy") == 0) {
			rc = closebusy(&l, j - i - 1, argv + i + 1);
			break;
		}
		rc = strcmp(cmd, "writeloop") == 0 ? writeloop(l, key, j - i - 1, argv + i + 1, &e)
						   : run_cmd(l, cmd, key, j - i - 1, argv + i + 1);
		i = j + 1;
	}
	lun_close(l);
	havm_log_fini();
	return rc;
}
