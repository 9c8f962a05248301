/* havm — the blk_dev object, shared by blk.c and raw.c. Private. */
#ifndef HAVM_VMCORE_DISK_BLK_INT_H
#define HAVM_VMCORE_DISK_BLK_INT_H

#include "vmcore/disk/vhd_int.h"

struct blk_dev {
	struct blk_backend *be;  /* owned */
	enum blk_format fmt;
	int rdwr;
	uint64_t size;           /* bytes */
	struct vhd_image vhd;    /* VHD formats only */
};

int raw_read(struct blk_dev *d, uint64_t sector, void *buf, uint32_t count) HAVM_MUST_CHECK;
int raw_write(struct blk_dev *d, uint64_t sector, const void *buf, uint32_t count) HAVM_MUST_CHECK;
int raw_flush(struct blk_dev *d) HAVM_MUST_CHECK;
int raw_discard(struct blk_dev *d, uint64_t sector, uint64_t count) HAVM_MUST_CHECK;

#endif
