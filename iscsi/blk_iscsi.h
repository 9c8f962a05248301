/* havm — a region of an iSCSI LUN as a block-layer backend (vmcore/disk/blk.h),
 * so a VHD (or raw disk) can live inside a LUN, e.g. a store region.
 *
 * Byte-addressed over the LUN's blocks: unaligned heads and tails are done
 * read-modify-write. The size is fixed (no BLK_BE_CAP_RESIZE): a dynamic VHD
 * keeps its footer at the region's end. flush = SYNCHRONIZE CACHE(16).
 * The ops are the blocking lun_sync calls (blk.h's first way); the LUN must
 * not be attached to a loop run by another thread. With a PR key set on the
 * LUN (lun_set_key), a fenced node's writes fail with -EACCES. */
#ifndef HAVM_ISCSI_BLK_ISCSI_H
#define HAVM_ISCSI_BLK_ISCSI_H

#include <stdint.h>

#include "common/err.h"
#include "iscsi/lun.h"
#include "vmcore/disk/blk.h"

/* Opens [@offset, @offset + @len) of @l (both multiples of the block size;
 * @len 0 = to the end). BLK_O_RDWR for writes. With @own_lun the backend
 * closes @l when it is closed; otherwise @l must outlive it.
 * Errors: -EINVAL (HAVM_E_CONFIG) misaligned or past the end. */
int blk_backend_iscsi_open(struct lun *l, uint64_t offset, uint64_t len, unsigned flags, int own_lun,
			   struct blk_backend **out, struct havm_err *err) HAVM_MUST_CHECK;

#endif
