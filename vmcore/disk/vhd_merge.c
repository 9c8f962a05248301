/* havm — `havm vhd merge CHILD`: a differencing child into its parent.
 *
 * Order (docs/vhd.md "merge"):
 *  1. checks: CHILD is differencing, its chain opens, the parent's saved
 *     state is 0; VHDs beside the child or the parent are scanned: those
 *     naming the parent's UUID are siblings (the merge would change what
 *     they read: refused unless --force), those naming the child's UUID are
 *     grandchildren (re-pointed in step 3; their locators must fit);
 *  2. copy every run the child's bitmaps mark into the parent (blk_write,
 *     so the parent's own allocation stays crash-safe), blk_flush. The child
 *     is never written and keeps masking those sectors, so its view is the
 *     same before, during and after: a rerun after a crash copies the same
 *     bytes again (idempotent) and ends in the same parent;
 *  3. the marker <parent>.merge (child UUID, grandchildren; fsynced), then
 *     each grandchild: locator payloads (flush), then its header with the
 *     parent's UUID and name (flush). Between the two its parent lookup still
 *     finds the child by name (vhd_parent_open takes the first candidate
 *     whose UUID matches);
 *  4. delete the child, fsync the directory, remove the marker. A rerun
 *     takes a "sibling" the marker lists for this child as a grandchild
 *     it re-pointed before a kill (re-pointing it again changes nothing). */
#define LOG_TAG HAVM_TAG_VHD
#include "vmcore/disk/blk_int.h"

#include "common/fault.h"
#include "common/log.h"
#include "common/sys.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_RELATED 64

struct related {
	char *sib[MAX_RELATED];
	int nsib;
	char *grand[MAX_RELATED];
	int ngrand;
};

static void related_free(struct related *r)
{
	for (int i = 0; i < r->nsib; i++)
		free(r->sib[i]);
	for (int i = 0; i < r->ngrand; i++)
		free(r->grand[i]);
}

static int is_vhd_name(const char *n)
{
	size_t l = strlen(n);
	return l > 4 && (strcasecmp(n + l - 4, ".vhd") == 0 || strcasecmp(n + l - 4, ".vud") == 0);
}

static void dir_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(out, cap, ".");
	else if (slash == path)
		snprintf(out, cap, "/");
	else
		snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

static int already(const struct related *r, const char *abs)
{
	for (int i = 0; i < r->nsib; i++)
		if (strcmp(r->sib[i], abs) == 0)
			return 1;
	for (int i = 0; i < r->ngrand; i++)
		if (strcmp(r->grand[i], abs) == 0)
			return 1;
	return 0;
}

/* Differencing VHDs in @dir whose header names @puuid (siblings of the
 * child) or @cuuid (its children). The child and parent themselves skip.
 * A "sibling" that the parent's merge marker lists for this child is a
 * grandchild that a killed run of this merge already re-pointed. */
static void scan_dir(const char *dir, const struct stat *child, const struct stat *parent, const char *ppath,
		     const uint8_t *puuid, const uint8_t *cuuid, struct related *r)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!is_vhd_name(e->d_name))
			continue;
		char path[PATH_MAX], abs[PATH_MAX];
		struct stat sb;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode) || !realpath(path, abs))
			continue;
		if ((sb.st_dev == child->st_dev && sb.st_ino == child->st_ino) ||
		    (sb.st_dev == parent->st_dev && sb.st_ino == parent->st_ino) || already(r, abs))
			continue;
		struct blk_dev *v = NULL;
		if (blk_open(path, BLK_O_NO_PARENT, &v, NULL) < 0)
			continue;
		if (v->fmt == BLK_FMT_VHD_DIFF) {
			int to_parent = memcmp(v->vhd.hdr.parent_uuid, puuid, 16) == 0;
			int ours = to_parent && vhd_merge_marker_lists(ppath, cuuid, abs);
			if (to_parent && !ours && r->nsib < MAX_RELATED)
				r->sib[r->nsib++] = strdup(abs);
			else if ((ours || memcmp(v->vhd.hdr.parent_uuid, cuuid, 16) == 0) && r->ngrand < MAX_RELATED)
				r->grand[r->ngrand++] = strdup(abs);
		}
		(void)blk_close(v);
	}
	closedir(d);
}

static uint64_t loc_space(const struct vhd_locator *l)
{
	return l->data_space < 512 ? (uint64_t)l->data_space * 512 : l->data_space;
}

/* Builds @g's new header pointing at @parent; -ENOSPC when a new locator
 * payload does not fit the old one's space. */
static int reparent_header(struct blk_dev *g, const char *g_abs, const char *parent_path, struct blk_dev *parent,
			   struct vhd_header *h, struct vhd_locator_payload *lp, int *nlp, struct havm_err *err)
{
	*h = g->vhd.hdr;
	memset(h->parent_name, 0, sizeof(h->parent_name)); /* a shorter name leaves no tail */
	int rc = vhd_parent_fields(g_abs, parent_path, parent, h, lp, nlp, err);
	if (rc < 0)
		return rc;
	for (int i = 0; i < VHD_LOCATOR_COUNT; i++) {
		struct vhd_locator *l = &h->loc[i];
		if (l->code == VHD_PLAT_NONE)
			continue;
		int j = 0;
		while (j < *nlp && lp[j].code != l->code)
			j++;
		if (j == *nlp) {
			l->code = VHD_PLAT_NONE; /* a stale Wi2r/Wi2k/MacX path */
			continue;
		}
		if ((uint64_t)lp[j].len > loc_space(l))
			return havm_err_set(err, HAVM_E_UNSUPPORTED, -ENOSPC,
					    "%s: locator %d has %" PRIu64 " bytes of space, the path of the new parent %s"
					    " needs %d", g_abs, i, loc_space(l), parent_path, lp[j].len);
		l->data_len = (uint32_t)lp[j].len;
	}
	return 0;
}

static int reparent(const char *g_abs, const char *parent_path, struct blk_dev *parent, int dry_run,
		    struct havm_err *err)
{
	struct blk_dev *g = NULL;
	int rc = blk_open(g_abs, BLK_O_NO_PARENT | (dry_run ? 0 : BLK_O_RDWR), &g, err);
	if (rc < 0)
		return rc;
	static struct vhd_locator_payload lp[2];
	struct vhd_header h;
	int nlp = 0;
	rc = reparent_header(g, g_abs, parent_path, parent, &h, lp, &nlp, err);
	struct blk_backend *be = g->be;
	for (int i = 0; i < VHD_LOCATOR_COUNT && rc == 0 && !dry_run; i++) {
		const struct vhd_locator *l = &h.loc[i];
		for (int j = 0; j < nlp && l->code != VHD_PLAT_NONE; j++) {
			if (lp[j].code != l->code)
				continue;
			uint64_t space = loc_space(l);
			uint8_t *buf = calloc(1, space);
			if (!buf)
				rc = -ENOMEM;
			else if (HAVM_FAULT("vhd.merge_locator"))
				rc = -EIO;
			else {
				memcpy(buf, lp[j].data, (size_t)lp[j].len);
				rc = be->ops->pwrite(be, buf, space, l->data_offset);
			}
			free(buf);
		}
	}
	if (rc == 0 && !dry_run)
		rc = HAVM_FAULT("vhd.merge_flush_locator") ? -EIO : be->ops->flush(be);
	if (rc == 0 && !dry_run) {
		uint8_t raw[VHD_HEADER_SIZE];
		vhd_header_encode(&h, raw);
		rc = HAVM_FAULT("vhd.merge_header") ? -EIO : be->ops->pwrite(be, raw, sizeof(raw), g->vhd.footer.data_offset);
		if (rc == 0)
			rc = be->ops->flush(be);
	}
	if (rc < 0 && !err->code)
		havm_err_set(err, HAVM_E_IO, rc, "%s: re-pointing to %s: %s", g_abs, parent_path, strerror(-rc));
	(void)blk_close(g);
	return rc;
}

/* Step 2: every bitmap-set run of the child into the parent. */
static int copy_runs(struct blk_dev *child, struct blk_dev *parent, const struct vhd_tool_opts *o,
		     struct vhd_tool_stats *st)
{
	struct vhd_image *img = &child->vhd;
	uint64_t total = child->size / 512;
	uint64_t nblocks = (total + img->spb - 1) / img->spb;
	uint8_t *buf = malloc(img->hdr.block_size);
	int rc = buf ? 0 : -ENOMEM;
	for (uint32_t b = 0; b < nblocks && rc == 0; b++) {
		if (img->bat[b] == VHD_BAT_UNUSED)
			continue;
		uint8_t *bm;
		rc = vhd_bitmap_get(img, b, &bm);
		uint64_t s0 = (uint64_t)b * img->spb;
		uint32_t n = (uint32_t)(total - s0 < img->spb ? total - s0 : img->spb);
		for (uint32_t i = 0; i < n && rc == 0;) {
			uint32_t run = vhd_bitmap_run(bm, i, n - i);
			if (vhd_bitmap_test(bm, i)) {
				rc = HAVM_FAULT("vhd.merge_run") ? -EIO
								 : child->be->ops->pread(child->be, buf, (size_t)run * 512,
											 vhd_block_data_off(img, b) + (uint64_t)i * 512);
				if (rc == 0 && s0 + i < blk_size(parent) / 512) {
					uint64_t room = blk_size(parent) / 512 - (s0 + i);
					rc = blk_write(parent, s0 + i, buf, run < room ? run : (uint32_t)room);
				}
				st->bytes_copied += (uint64_t)run * 512;
			}
			i += run;
		}
		if (o->progress)
			o->progress(o->progress_arg, (uint64_t)(b + 1) * img->hdr.block_size,
				    nblocks * img->hdr.block_size);
	}
	free(buf);
	return rc;
}

static int preflight(const char *child_path, struct blk_dev **child, char **parent_path, struct havm_err *err)
{
	struct blk_dev *c = NULL;
	int rc = blk_open(child_path, 0, &c, err);
	if (rc < 0)
		return rc;
	if (c->fmt != BLK_FMT_VHD_DIFF)
		rc = havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "%s: a %s disk has no parent to merge into",
				  child_path, blk_format_name(c->fmt));
	else if (c->vhd.parent->fmt != BLK_FMT_RAW && blk_vhd(c->vhd.parent)->footer.saved_state)
		rc = havm_err_set(err, HAVM_E_STATE, -EBUSY,
				  "%s: parent %s has saved state 1 (a VM saved with it); resume it first", child_path,
				  c->vhd.parent_path);
	else if (!c->vhd.parent_path || !(*parent_path = strdup(c->vhd.parent_path)))
		rc = havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "%s: out of memory", child_path);
	if (rc < 0) {
		(void)blk_close(c);
		return rc;
	}
	*child = c;
	return 0;
}

static int find_related(const char *child_path, const char *parent_path, struct blk_dev *c,
			const struct vhd_tool_opts *o, struct related *r, struct havm_err *err)
{
	struct stat cs, ps;
	if (!parent_path || stat(child_path, &cs) < 0 || stat(parent_path, &ps) < 0)
		return havm_err_set(err, HAVM_E_IO, -errno, "%s: stat: %s", child_path, strerror(errno));
	char d1[PATH_MAX], d2[PATH_MAX];
	dir_of(child_path, d1, sizeof(d1));
	dir_of(parent_path, d2, sizeof(d2));
	const uint8_t *puuid = c->vhd.hdr.parent_uuid, *cuuid = c->vhd.footer.uuid;
	scan_dir(d1, &cs, &ps, parent_path, puuid, cuuid, r);
	scan_dir(d2, &cs, &ps, parent_path, puuid, cuuid, r);
	if (r->nsib && !o->force) {
		char list[1024] = "";
		for (int i = 0; i < r->nsib; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", r->sib[i]);
		return havm_err_set(err, HAVM_E_STATE, -EBUSY,
				    "%s: the parent %s has %d other child(ren) that merging would invalidate: %s"
				    " (merge or delete them first, or --force)", child_path, parent_path, r->nsib, list);
	}
	return 0;
}

int vhd_merge(const char *child_path, const struct vhd_tool_opts *o, struct vhd_tool_stats *st,
	      struct havm_err *err)
{
	static const struct vhd_tool_opts none;
	struct vhd_tool_stats local = { .bytes_in = 0 };
	struct havm_err scratch = { .code = 0 };
	o = o ? o : &none;
	st = st ? st : &local;
	err = err ? err : &scratch;
	havm_err_clear(err);
	memset(st, 0, sizeof(*st));
	struct blk_dev *c = NULL, *p = NULL;
	char *ppath = NULL;
	struct related r = { .nsib = 0 };
	int rc = preflight(child_path, &c, &ppath, err);
	if (rc < 0)
		return rc;
	st->bytes_in = c->vhd.file_size;
	st->final_size = c->size;
	rc = find_related(child_path, ppath, c, o, &r, err);
	if (rc == 0 && ppath)
		rc = blk_open(ppath, BLK_O_RDWR, &p, err);
	for (int i = 0; i < r.ngrand && rc == 0; i++)
		rc = reparent(r.grand[i], ppath, p, 1, err); /* every locator fits? */
	if (rc < 0)
		goto out;
	rc = copy_runs(c, p, o, st);
	if (rc == 0)
		rc = blk_flush(p);
	if (rc < 0) {
		havm_err_set(err, HAVM_E_IO, rc, "%s: copying into the parent %s: %s (rerun the merge: it restarts"
			     " safely)", child_path, ppath, strerror(-rc));
		goto out;
	}
	/* Intent first: a rerun after a kill below must know that the
	 * grandchildren now naming the parent were re-pointed by us. */
	if (r.ngrand)
		rc = vhd_merge_marker_write(ppath, c->vhd.footer.uuid, r.grand, r.ngrand, err);
	for (int i = 0; i < r.ngrand && rc == 0; i++)
		rc = reparent(r.grand[i], ppath, p, 0, err); /* idempotent for adopted ones */
	st->reparented = r.ngrand;
	if (rc == 0 && !o->keep_child) {
		if (HAVM_FAULT("vhd.merge_unlink"))
			rc = havm_err_set(err, HAVM_E_IO, -EIO, "%s: fault before delete", child_path);
		else if (unlink(child_path) < 0)
			rc = havm_err_set(err, HAVM_E_IO, -errno, "%s: merged, but deleting it failed: %s", child_path,
					  strerror(errno));
		else if (havm_fsync_dir_of(child_path) < 0)
			hlog(LOG_WARNING, "%s: deleted, but syncing its directory failed", child_path);
	}
	/* Last: until the child is gone a rerun may need the marker. */
	if (rc == 0 && r.ngrand && vhd_merge_marker_remove(ppath) < 0)
		hlog(LOG_WARNING, "%s.merge: merged, but removing the merge marker failed", ppath);
out:
	if (p) {
		int crc = blk_close(p);
		if (rc == 0 && crc < 0)
			rc = havm_err_set(err, HAVM_E_IO, crc, "%s: closing the parent: %s", ppath, strerror(-crc));
	}
	(void)blk_close(c);
	related_free(&r);
	free(ppath);
	return rc;
}
