/* vmcore/vsv — when to stop pre-copying a running VM's RAM into a .vsv
 * (live migration to a file or a stream).
 *
 * The rule QEMU and Hyper-V use: each live pass measures the write
 * bandwidth (the pass's bytes over its time, flush included) and the guest's
 * dirty rate (pages dirtied over the same interval). The guest is stopped
 * for the last pass once the pages still dirty can be written within the
 * downtime limit at that bandwidth. When the guest dirties about as fast as
 * the passes write (the dirty set stops shrinking), more passes cannot help:
 * stop at once instead of burning passes. @converge_pages (a dirty set that
 * small always stops), @max_passes and @max_bytes stay as bounds.
 *
 * Pure arithmetic on the caller's measurements: no I/O, no clock. */
#ifndef HAVM_VMCORE_VSV_PRECOPY_H
#define HAVM_VMCORE_VSV_PRECOPY_H

#include <stdbool.h>
#include <stdint.h>

#define VSV_PRECOPY_DEF_DOWNTIME_MS 300   /* QEMU's default downtime-limit */
#define VSV_PRECOPY_DEF_MAX_PASSES 8
#define VSV_PRECOPY_DEF_CONVERGE_PAGES 256  /* 1 MiB */

/* Why pre-copy stopped. SMALL and DOWNTIME count as converged. */
enum vsv_precopy_stop {
	VSV_PRECOPY_GO_ON = 0,    /* not yet: another live pass */
	VSV_PRECOPY_SMALL,        /* the dirty set is at most converge_pages */
	VSV_PRECOPY_DOWNTIME,     /* it can be written within the downtime limit */
	VSV_PRECOPY_NO_PROGRESS,  /* dirty rate at the bandwidth: it does not shrink */
	VSV_PRECOPY_MAX_PASSES,
	VSV_PRECOPY_MAX_BYTES,
	VSV_PRECOPY_PAUSED,       /* the guest was not running: one pass is all */
};

struct vsv_precopy {
	/* Limits (0 in vsv_precopy_init() = the default above; max_bytes 0 =
	 * 3 x RAM). */
	uint64_t downtime_ns, converge_pages, max_bytes;
	unsigned max_passes;
	/* Measurements, for the report. */
	unsigned passes;          /* live passes recorded */
	uint64_t data_bytes;      /* page data sent in live passes (4 KiB a page) */
	uint64_t last_pages;      /* pages in the last live pass */
	uint64_t last_ns;         /* its time */
	double bandwidth;         /* bytes/s of the last live pass that wrote data */
	double dirty_rate;        /* bytes/s dirtied during the last live pass */
	uint64_t expected_ns;     /* the last pass's write time at @bandwidth */
};

void vsv_precopy_init(struct vsv_precopy *p, uint64_t ram_size, uint64_t downtime_ms, uint64_t converge_pages,
		      unsigned max_passes, uint64_t max_bytes);

/* Records a live pass: @pages of RAM in it (zero runs included), @bytes
 * appended to the file, written and flushed in @ns. */
void vsv_precopy_pass(struct vsv_precopy *p, uint64_t pages, uint64_t bytes, uint64_t ns);

/* With @dirty pages dirtied during the last @run_ns of guest time (since
 * the dirty log was last read): stop now, and why? @running false: the
 * guest is paused, nothing to converge. */
enum vsv_precopy_stop vsv_precopy_decide(struct vsv_precopy *p, uint64_t dirty, uint64_t run_ns, bool running);

static inline bool vsv_precopy_converged(enum vsv_precopy_stop s)
{
	return s == VSV_PRECOPY_SMALL || s == VSV_PRECOPY_DOWNTIME || s == VSV_PRECOPY_PAUSED;
}

/* "small", "downtime", "no_progress", "max_passes", "max_bytes", "paused". */
const char *vsv_precopy_stop_name(enum vsv_precopy_stop s);

#endif
