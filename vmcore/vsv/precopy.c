/* vmcore/vsv — the pre-copy stop rule (precopy.h). */
#include "vmcore/vsv/precopy.h"

#include <string.h>

#include "vmcore/vsv/vsv.h"

/* The dirty set "does not shrink" when the guest dirtied pages at 90 % or
 * more of the rate the last pass wrote them: the next pass would carry
 * about as much again. The margin absorbs the park and log read between
 * passes, which the dirty interval has and the pass does not. */
#define NO_PROGRESS_PERCENT 90

void vsv_precopy_init(struct vsv_precopy *p, uint64_t ram_size, uint64_t downtime_ms, uint64_t converge_pages,
		      unsigned max_passes, uint64_t max_bytes)
{
	memset(p, 0, sizeof(*p));
	p->downtime_ns = (downtime_ms ? downtime_ms : VSV_PRECOPY_DEF_DOWNTIME_MS) * 1000000ull;
	p->converge_pages = converge_pages ? converge_pages : VSV_PRECOPY_DEF_CONVERGE_PAGES;
	p->max_passes = max_passes ? max_passes : VSV_PRECOPY_DEF_MAX_PASSES;
	p->max_bytes = max_bytes ? max_bytes : 3 * ram_size;
}

void vsv_precopy_pass(struct vsv_precopy *p, uint64_t pages, uint64_t bytes, uint64_t ns)
{
	p->passes++;
	p->data_bytes += pages * VSV_PAGE_SIZE;
	p->last_pages = pages;
	p->last_ns = ns ? ns : 1;
	/* A pass with (almost) nothing to write measures the flush latency,
	 * not the bandwidth: keep the last real figure. */
	if (bytes >= 64 * VSV_PAGE_SIZE || p->bandwidth == 0)
		p->bandwidth = (double)bytes * 1e9 / (double)p->last_ns;
}

enum vsv_precopy_stop vsv_precopy_decide(struct vsv_precopy *p, uint64_t dirty, uint64_t run_ns, bool running)
{
	double bytes = (double)dirty * VSV_PAGE_SIZE;
	p->dirty_rate = run_ns ? bytes * 1e9 / (double)run_ns : 0;
	p->expected_ns = p->bandwidth > 0 ? (uint64_t)(bytes * 1e9 / p->bandwidth) : 0;
	if (!running)
		return VSV_PRECOPY_PAUSED;
	if (dirty <= p->converge_pages)
		return VSV_PRECOPY_SMALL;
	if (p->bandwidth > 0 && p->expected_ns <= p->downtime_ns)
		return VSV_PRECOPY_DOWNTIME;
	/* Pages dirtied per second vs pages the last pass wrote per second. */
	double dirty_pps = run_ns ? (double)dirty * 1e9 / (double)run_ns : 0;
	double write_pps = (double)p->last_pages * 1e9 / (double)p->last_ns;
	if (p->passes > 0 && dirty_pps * 100 >= write_pps * NO_PROGRESS_PERCENT)
		return VSV_PRECOPY_NO_PROGRESS;
	if (p->passes >= p->max_passes)
		return VSV_PRECOPY_MAX_PASSES;
	if (p->data_bytes + dirty * VSV_PAGE_SIZE > p->max_bytes)
		return VSV_PRECOPY_MAX_BYTES;
	return VSV_PRECOPY_GO_ON;
}

const char *vsv_precopy_stop_name(enum vsv_precopy_stop s)
{
	switch (s) {
	case VSV_PRECOPY_GO_ON:
		return "go_on";
	case VSV_PRECOPY_SMALL:
		return "small";
	case VSV_PRECOPY_DOWNTIME:
		return "downtime";
	case VSV_PRECOPY_NO_PROGRESS:
		return "no_progress";
	case VSV_PRECOPY_MAX_PASSES:
		return "max_passes";
	case VSV_PRECOPY_MAX_BYTES:
		return "max_bytes";
	case VSV_PRECOPY_PAUSED:
		return "paused";
	}
	return "?";
}
