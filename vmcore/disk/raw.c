/* havm — raw disks: sectors map 1:1 to backend bytes. */
#include "vmcore/disk/blk_int.h"

#include <errno.h>

int raw_read(struct blk_dev *d, uint64_t sector, void *buf, uint32_t count)
{
	return d->be->ops->pread(d->be, buf, (size_t)count * 512, sector * 512);
}

int raw_write(struct blk_dev *d, uint64_t sector, const void *buf, uint32_t count)
{
	if (!d->rdwr)
		return -EROFS;
	return d->be->ops->pwrite(d->be, buf, (size_t)count * 512, sector * 512);
}

int raw_flush(struct blk_dev *d)
{
	return d->rdwr ? d->be->ops->flush(d->be) : 0;
}

int raw_discard(struct blk_dev *d, uint64_t sector, uint64_t count)
{
	if (!d->rdwr)
		return -EROFS;
	if (!d->be->ops->discard)
		return 0;
	int rc = d->be->ops->discard(d->be, sector * 512, count * 512);
	return rc == -EOPNOTSUPP ? 0 : rc;
}
