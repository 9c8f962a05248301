/* bench_lun — sequential READ(16) throughput of iscsi/lun.c's async path in
 * a qb_loop, for tests/bench/iscsi.sh to set beside libiscsi's iscsi-perf on
 * the same target (same queue depth and request size).
 *   bench_lun [-i IQN] URL QUEUE_DEPTH BLOCKS_PER_REQUEST SECONDS */
#include "iscsi/lun.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct bench {
	struct lun *l;
	qb_loop_t *loop;
	uint32_t nblocks;
	uint64_t next_lba, done, errors;
	double end;
	int in_flight;
	uint8_t *bufs;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void submit(struct bench *b, int slot);

struct slot {
	struct bench *b;
	int idx;
};

static void done(void *priv, int rc, const struct havm_err *err)
{
	struct slot *s = priv;
	struct bench *b = s->b;
	b->in_flight--;
	if (rc < 0) {
		b->errors++;
		fprintf(stderr, "bench_lun: %s\n", err ? err->msg : "error");
	} else
		b->done++;
	if (now() < b->end && !b->errors)
		submit(b, s->idx);
	else if (b->in_flight == 0 && b->loop)
		qb_loop_stop(b->loop);
}

static struct slot slots[256];

static void submit(struct bench *b, int idx)
{
	if (b->next_lba + b->nblocks > lun_blocks(b->l))
		b->next_lba = 0;
	uint8_t *buf = b->bufs + (size_t)idx * b->nblocks * lun_block_size(b->l);
	if (lun_read_async(b->l, b->next_lba, b->nblocks, buf, done, &slots[idx]) > 0) {
		b->in_flight++;
		b->next_lba += b->nblocks;
	} else
		b->errors++;
}

int main(int argc, char **argv)
{
	struct lun_opts o;
	lun_opts_default(&o);
	int c;
	while ((c = getopt(argc, argv, "i:")) != -1)
		if (c == 'i')
			o.initiator = optarg;
	if (argc - optind < 4) {
		fprintf(stderr, "usage: bench_lun [-i IQN] URL QUEUE_DEPTH BLOCKS SECONDS\n");
		return 2;
	}
	long qd = strtol(argv[optind + 1], NULL, 10);
	struct bench b = { .nblocks = (uint32_t)strtoul(argv[optind + 2], NULL, 10) };
	double secs = strtod(argv[optind + 3], NULL);
	if (qd < 1 || qd > 256 || b.nblocks < 1 || secs <= 0)
		return 2;
	struct havm_err e;
	if (lun_open(argv[optind], &o, &b.l, &e) < 0) {
		fprintf(stderr, "bench_lun: %s\n", e.msg);
		return 1;
	}
	b.bufs = malloc((size_t)qd * b.nblocks * lun_block_size(b.l));
	/* -p: drive the LUN from a plain poll() loop instead of qb_loop, to see
	 * what the loop itself costs */
	int plain = getenv("BENCH_PLAIN_POLL") != NULL;
	if (!plain) {
		b.loop = qb_loop_create();
		if (!b.loop || lun_attach(b.l, b.loop) < 0) {
			free(b.bufs);
			lun_close(b.l);
			return 1;
		}
	}
	if (!b.bufs) {
		lun_close(b.l);
		return 1;
	}
	double start = now();
	b.end = start + secs;
	for (int i = 0; i < (int)qd; i++) {
		slots[i] = (struct slot){ &b, i };
		submit(&b, i);
	}
	if (plain) {
		while (b.in_flight > 0) {
			struct pollfd p = { .fd = lun_fd(b.l), .events = (short)lun_events(b.l) };
			if (poll(&p, 1, 1000) > 0)
				lun_service(b.l, p.revents);
		}
	} else {
		qb_loop_run(b.loop);
		lun_detach(b.l);
	}
	double t = now() - start;
	double bytes = (double)b.done * b.nblocks * lun_block_size(b.l);
	printf("iops %.0f mbps %.1f requests %llu errors %llu seconds %.2f\n", (double)b.done / t,
	       bytes / t / 1e6, (unsigned long long)b.done, (unsigned long long)b.errors, t);
	if (b.loop)
		qb_loop_destroy(b.loop);
	free(b.bufs);
	lun_close(b.l);
	return b.errors ? 1 : 0;
}
