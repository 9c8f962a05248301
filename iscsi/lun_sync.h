/* havm — blocking LUN calls for command-line tools and tests (thin loops
 * over the async calls in lun.h; see lun_sync.c). Not for the vmm's event
 * loop thread. Each returns 0 or -errno and fills @err (may be NULL). */
#ifndef HAVM_ISCSI_LUN_SYNC_H
#define HAVM_ISCSI_LUN_SYNC_H

#include "iscsi/lun.h"

int lun_read_sync(struct lun *l, uint64_t lba, uint32_t nblocks, void *buf,
		  struct havm_err *err) HAVM_MUST_CHECK;
int lun_write_sync(struct lun *l, uint64_t lba, uint32_t nblocks, const void *buf,
		   unsigned flags, struct havm_err *err) HAVM_MUST_CHECK;
int lun_flush_sync(struct lun *l, struct havm_err *err) HAVM_MUST_CHECK;

struct lun_req;
/* Runs a request built with lun_req_new (iscsi/ internal, used by pr.c). */
int lun_run_sync(struct lun *l, struct lun_req *r, struct havm_err *err) HAVM_MUST_CHECK;

#endif
