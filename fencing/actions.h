/* fence_havm — the fencing actions over iscsi/pr.h. Each returns the
 * process exit code (fencing.py conventions: 0 done / on, 1 failure,
 * 2 status "off") and prints fence-agents style lines ("Success: Powered
 * OFF", "Status: ON", "Failed: ...") to @out / @err. */
#ifndef HAVM_FENCING_ACTIONS_H
#define HAVM_FENCING_ACTIONS_H

#include <stdio.h>

#include "fencing/args.h"

/* validate-all: checks parameters and derives keys without touching the
 * storage; 0 valid, 1 invalid. */
int fence_validate(const struct fence_args *a, FILE *out, FILE *err);

/* Runs on, off, status, monitor, list or list-status. */
int fence_run(const struct fence_args *a, FILE *out, FILE *err);

#endif
