/* havm — VHD disks in a store, differencing chains included: a child's
 * parent is another object of the same store, named by the child's header
 * (its parent name is the parent's object name). */
#define LOG_TAG HAVM_TAG_STORE
#include "iscsi/store.h"
#include "iscsi/store_int.h"

#include "common/log.h"
#include "vmcore/disk/vhd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 32 /* as blk_open */

static int open_chain(struct store *s, const char *name, unsigned flags, int depth, struct blk_dev **out,
		      struct havm_err *err)
{
	if (store_type(s) == STORE_TYPE_DIR) { /* files: blk_open finds parents beside the child */
		char p[4096];
		int rc = store_dir_obj_path(s, name, p, sizeof(p), err);
		return rc < 0 ? rc : blk_open(p, flags, out, err);
	}
	if (depth > MAX_DEPTH)
		return havm_err_set(err, HAVM_E_FORMAT, -ELOOP, "%s: chain at '%s' deeper than %d or a loop",
				    store_url(s), name, MAX_DEPTH);
	struct blk_backend *be;
	struct blk_dev *d;
	int rc = store_open_region(s, name, 0, &be, err);
	if (rc < 0)
		return rc;
	/* Probe without the parent: a differencing child names it. */
	rc = blk_open_backend(be, (flags & ~BLK_O_RDWR) | BLK_O_NO_PARENT, &d, err);
	if (rc < 0) {
		blk_backend_close(be);
		return rc;
	}
	char pname[1024] = "";
	int diff = blk_format(d) == BLK_FMT_VHD_DIFF;
	if (diff && vhd_image_parent_name(blk_vhd(d), pname, sizeof(pname)) < 0)
		pname[0] = '\0';
	(void)blk_close(d);
	struct blk_dev *parent = NULL;
	if (diff) {
		if (store_name_check(pname, STORE_KIND_OTHER, NULL) < 0)
			return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
					    "%s: '%s' is differencing but its parent name '%s' is not an object name",
					    store_url(s), name, pname);
		rc = open_chain(s, pname, 0, depth + 1, &parent, err);
		if (rc < 0) {
			havm_err_prefix(err, "parent of '%s'", name);
			return rc;
		}
	}
	rc = store_open_region(s, name, flags & BLK_O_RDWR, &be, err);
	if (rc == 0) {
		rc = parent ? blk_open_backend_parent(be, parent, flags, out, err)
			    : blk_open_backend(be, flags, out, err);
		if (rc < 0)
			blk_backend_close(be);
	}
	if (rc < 0)
		(void)blk_close(parent);
	return rc;
}

int store_open_disk(struct store *s, const char *name, unsigned flags, struct blk_dev **out,
		    struct havm_err *err)
{
	return open_chain(s, name, flags, 0, out, err);
}

int store_create_child(struct store *s, const char *parent, const char *child, uint64_t capacity,
		       struct havm_err *err)
{
	int rc = store_name_check(child, STORE_KIND_VHD, err);
	if (rc < 0)
		return rc;
	struct store_obj o;
	if (store_stat(s, child, &o, NULL) == 0)
		return havm_err_set(err, HAVM_E_STATE, -EEXIST, "%s: object '%s' exists", store_url(s), child);
	struct vhd_create_opts co = { .type = VHD_TYPE_DIFF };
	if (store_type(s) == STORE_TYPE_DIR) {
		char pp[4096], cp[4096];
		rc = store_dir_obj_path(s, parent, pp, sizeof(pp), err);
		if (rc == 0)
			rc = store_dir_obj_path(s, child, cp, sizeof(cp), err);
		if (rc == 0 && store_stat(s, parent, &o, err) < 0)
			rc = -ENOENT;
		co.parent = pp;
		return rc < 0 ? rc : vhd_create(cp, &co, NULL, err);
	}
	struct blk_dev *pd = NULL;
	rc = store_open_disk(s, parent, 0, &pd, err);
	if (rc < 0 || !pd)
		return rc < 0 ? rc : -EIO;
	if (blk_format(pd) == BLK_FMT_RAW) {
		(void)blk_close(pd);
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "%s: parent '%s' is not a VHD", store_url(s), parent);
	}
	if (!capacity) /* every block of the child allocated: bitmap + data per 2 MiB */
		capacity = blk_size(pd) / (2u << 20) * ((2u << 20) + 512) + (4u << 20);
	rc = store_create_region(s, child, STORE_KIND_VHD, capacity, err);
	struct blk_backend *be = NULL;
	if (rc == 0)
		rc = store_open_region(s, child, BLK_O_RDWR, &be, err);
	if (rc == 0) /* no parent path: the header names the parent object */
		rc = vhd_create_backend(be, &co, pd, NULL, err);
	if (be) {
		int crc = blk_backend_close(be);
		if (rc == 0 && crc < 0)
			rc = havm_err_set(err, HAVM_E_IO, crc, "%s: closing '%s': %s", store_url(s), child, strerror(-crc));
	}
	if (rc < 0 && rc != -EEXIST && store_remove(s, child, NULL) < 0)
		hlog(LOG_WARNING, "%s: could not remove the half-made '%s'", store_url(s), child);
	(void)blk_close(pd);
	return rc;
}
