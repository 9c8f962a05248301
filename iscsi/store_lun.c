/* havm — the device under a GPT store: an iSCSI LUN (through the LUN's
 * blk backend, iscsi/blk_iscsi.h) or an image file standing in for one. */
#define LOG_TAG HAVM_TAG_STORE
#include "iscsi/store_int.h"

#include "common/log.h"
#include "iscsi/blk_iscsi.h"
#include "iscsi/lun.h"
#include "iscsi/pr.h"

#include <errno.h>
#include <string.h>

/* As vm_disk_open_url: a present key gets this session registered; an
 * absent one means fenced (or never unfenced) and is never registered here. */
static int guard(struct lun *l, const struct store_open_opts *o, struct havm_err *err)
{
	char kb[24];
	pr_key_format(o->pr_key, kb, sizeof(kb));
	int rc = pr_check_registration(l, o->pr_key, err);
	if (rc < 0) {
		havm_err_prefix(err, "store %s: key %s", lun_name(l), kb);
		return rc;
	}
	lun_set_key(l, o->pr_key);
	if (o->on_fenced)
		lun_set_fenced_fn(l, o->on_fenced, o->fenced_opaque);
	hlog(LOG_INFO, "store %s: registration guard on, key %s", lun_name(l), kb);
	return 0;
}

int store_dev_open(const char *url, unsigned flags, const struct store_open_opts *opts,
		   struct blk_backend **out, struct havm_err *err)
{
	if (strncmp(url, "iscsi://", 8) == 0) {
		struct lun *l;
		struct lun_opts lo;
		lun_opts_default(&lo);
		if (opts && opts->io_deadline_s > 0)
			lo.io_deadline_s = opts->io_deadline_s;
		int rc = lun_open(url, &lo, &l, err);
		if (rc < 0)
			return rc;
		if (opts && opts->on_lost)
			lun_set_lost_fn(l, opts->on_lost, opts->fenced_opaque);
		if (lun_block_size(l) != 512) {
			rc = havm_err_set(err, HAVM_E_UNSUPPORTED, -ENOTSUP,
					  "%s: block size %u, the store needs 512-byte blocks", lun_name(l),
					  lun_block_size(l));
			lun_close(l);
			return rc;
		}
		if (opts && opts->pr_key && (rc = guard(l, opts, err)) < 0) {
			lun_close(l);
			return rc;
		}
		rc = blk_backend_iscsi_open(l, 0, 0, flags & BLK_O_RDWR, 1, out, err);
		if (rc < 0)
			lun_close(l);
		return rc;
	}
	const char *path = strncmp(url, "file:", 5) == 0 ? url + 5 : url;
	if (strstr(path, "://"))
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL,
				    "store URL '%s': expected dir:PATH, iscsi://HOST/IQN/LUN, file:PATH or a path",
				    url);
	return blk_backend_file_open(path, flags & BLK_O_RDWR, out, err);
}
