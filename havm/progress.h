/* havm — a one-line progress bar for long tool runs (convert, compact,
 * merge, create --type fixed), drawn only when stdout is a terminal so
 * scripts and logs get clean output. */
#ifndef HAVM_HAVM_PROGRESS_H
#define HAVM_HAVM_PROGRESS_H

#include <stdint.h>

struct havm_progress {
	const char *label;
	unsigned last;  /* last percentage drawn; 101 = none yet */
	int enabled;
};

/* Enables the bar iff stdout is a terminal. */
void havm_progress_init(struct havm_progress *p, const char *label);
/* A vhd_progress_fn: @arg is a struct havm_progress. Redraws on a new
 * percentage; ends the line at 100%. */
void havm_progress_cb(void *arg, uint64_t done, uint64_t total);

#endif
