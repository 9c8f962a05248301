/* havm — the store on a LUN (or an image file): a GPT whose partitions
 * are the objects (docs/store.md).
 *
 * An object is a used entry with one of our type GUIDs; its name is the
 * partition name; its size is the partition's length minus the slack in its
 * last sector (entry attribute bits 48..57, 0..512). Partitions start on
 * 1 MiB boundaries. Entries of other types are left alone and their space
 * is never allocated.
 *
 * Atomic replace: the new content is written into free space that no entry
 * references, flushed, and then one table write (gpt_write: primary copy,
 * flush, backup copy, flush) points the object's entry at it. Until the
 * primary header lands the primary copy fails its CRC and readers use the
 * backup, i.e. the old table; afterwards the primary is the new table. So a
 * crash leaves the old object or the new one, and the store valid. */
#define LOG_TAG HAVM_TAG_STORE
#include "iscsi/gpt.h"
#include "iscsi/gpt_int.h"
#include "iscsi/store_int.h"

#include "common/fault.h"
#include "common/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALIGN_SECTORS 2048u /* 1 MiB */
#define SLACK_SHIFT 48
#define SLACK_MASK 0x3ffull

/* Our partition type GUIDs, generated once at random (docs/store.md). */
static const char *const type_guid_text[] = {
	[STORE_KIND_VMC] = "3b52f459-be42-4d94-9724-479aa8479040",
	[STORE_KIND_VHD] = "b07a15d2-1d51-42d1-8f21-5a11637e50c8",
	[STORE_KIND_VSV] = "967056c6-be30-4039-8469-1f0a16e98616",
	[STORE_KIND_OTHER] = "be81c709-9f73-4f88-9439-3a8726e6e889",
};

/* A replace in progress: its extent, named after the object, so other
 * processes and nodes (which re-read the table) never allocate it. Not an
 * object: not listed, its space avoided like a foreign partition's. */
static const char pending_guid_text[] = "57fd2e2b-20ba-4f12-843a-e0dee652f91d";

struct gpt_store {
	struct blk_backend *dev;
	char *url;
	int refs;    /* the store handle + open regions */
	int broken;  /* a table write failed: refuse changes until reopened */
	int lock_fd; /* this node's lock for table changes (store_lock.c), -1 = none */
	struct gpt_table t;
	uint64_t resv_first, resv_last; /* a pending replace's extent; 0,0 = none */
	/* Objects whose generation moved on since it was last read: their
	 * writes go through without another bump (docs/save-restore.md). */
	char quiet[GPT_ENTRIES][STORE_NAME_MAX + 1];
	unsigned nquiet;
};

struct gpt_replace {
	uint64_t first, nsec; /* reserved extent */
	bool reserved;        /* its pending entry is in the table */
};

static struct gpt_store *gs_of(struct store *s)
{
	return s->impl;
}

static void type_guid(enum store_kind k, uint8_t out[16])
{
	int rc = gpt_guid_parse(type_guid_text[k], out);
	(void)rc; /* constants above */
}

/* The kind of an entry, or -1 when it is not one of ours. */
static int part_kind(const struct gpt_part *p)
{
	if (!gpt_part_used(p))
		return -1;
	for (int k = 0; k <= STORE_KIND_OTHER; k++) {
		uint8_t g[16];
		type_guid((enum store_kind)k, g);
		if (memcmp(g, p->type, 16) == 0)
			return k;
	}
	return -1;
}

static bool is_pending(const struct gpt_part *p, const char *name)
{
	uint8_t g[16];
	int rc = gpt_guid_parse(pending_guid_text, g);
	(void)rc; /* a constant */
	return gpt_part_used(p) && memcmp(g, p->type, 16) == 0 && strcmp(p->name, name) == 0;
}

static int find_pending(const struct gpt_table *t, const char *name)
{
	for (uint32_t i = 0; i < t->num_entries; i++)
		if (is_pending(&t->part[i], name))
			return (int)i;
	return -1;
}

static void part_obj(const struct gpt_part *p, struct store_obj *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", p->name);
	o->kind = (enum store_kind)part_kind(p);
	o->capacity = (p->last_lba - p->first_lba + 1) * GPT_SECTOR;
	uint64_t slack = (p->attrs >> SLACK_SHIFT) & SLACK_MASK;
	o->size = o->capacity - (slack > GPT_SECTOR ? GPT_SECTOR : slack);
	o->offset = p->first_lba * GPT_SECTOR;
}

static int find(const struct gpt_table *t, const char *name)
{
	for (uint32_t i = 0; i < t->num_entries; i++)
		if (part_kind(&t->part[i]) >= 0 && strcmp(t->part[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int free_slot(const struct gpt_table *t)
{
	for (uint32_t i = 0; i < GPT_ENTRIES; i++)
		if (i >= t->num_entries || !gpt_part_used(&t->part[i]))
			return (int)i;
	return -1;
}

static uint64_t align_up(uint64_t v)
{
	return (v + ALIGN_SECTORS - 1) / ALIGN_SECTORS * ALIGN_SECTORS;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Walks the aligned free extents in LBA order. With @want > 0 returns the
 * first one holding @want sectors (*first); with @want == 0 the largest
 * (*first, and its length as the return). 0 when none. */
static uint64_t free_extent(const struct gpt_store *gs, uint64_t want, uint64_t *first)
{
	uint64_t used[2 * (GPT_ENTRIES + 1)];
	size_t n = 0;
	for (uint32_t i = 0; i < gs->t.num_entries; i++)
		if (gpt_part_used(&gs->t.part[i])) {
			used[n++] = gs->t.part[i].first_lba;
			used[n++] = gs->t.part[i].last_lba;
		}
	if (gs->resv_last) {
		used[n++] = gs->resv_first;
		used[n++] = gs->resv_last;
	}
	/* Pairs sorted by start (entries never overlap: validated). */
	qsort(used, n / 2, 2 * sizeof(uint64_t), cmp_u64);
	uint64_t cursor = gs->t.first_usable, best = 0, best_first = 0;
	for (size_t i = 0; i <= n / 2; i++) {
		uint64_t end = i < n / 2 ? used[2 * i] : gs->t.last_usable + 1; /* exclusive */
		uint64_t start = align_up(cursor);
		if (start < end) {
			uint64_t len = end - start;
			if (want && len >= want) {
				*first = start;
				return want;
			}
			if (!want && len > best)
				best = len, best_first = start;
		}
		if (i < n / 2 && used[2 * i + 1] + 1 > cursor)
			cursor = used[2 * i + 1] + 1;
	}
	if (want)
		return 0;
	*first = best_first;
	return best;
}

/* Writes @nt; on success it becomes the table. On failure the handle
 * refuses further changes: the disk holds the old or the new table. */
static int gs_commit(struct gpt_store *gs, struct gpt_table *nt, struct havm_err *err)
{
	int rc = gpt_write(gs->dev, nt, false, err);
	if (rc < 0) {
		gs->broken = 1;
		havm_err_prefix(err, "%s: table not updated (reopen the store)", gs->url);
		return rc;
	}
	gs->t = *nt;
	return 0;
}

static int commit_table(struct store *s, struct gpt_table *nt, struct havm_err *err)
{
	return gs_commit(gs_of(s), nt, err);
}

/* Re-reads the table: other processes (the lifecycle beside a running
 * vmm, `havm store`) change it while a handle is open, and every change
 * here rewrites the whole table, so it starts from what is on disk. */
static int refresh(struct gpt_store *gs, struct havm_err *err)
{
	struct gpt_table *t = malloc(sizeof(*t));
	if (!t)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	int rc = gpt_read(gs->dev, t, err);
	if (rc >= 0) {
		gs->t = *t;
		rc = 0;
	} else {
		havm_err_prefix(err, "%s: re-reading the table", gs->url);
	}
	free(t);
	return rc;
}

/* The first 8 bytes of the unique GUID, little-endian. */
static uint64_t part_generation(const struct gpt_part *p)
{
	uint64_t g = 0;
	for (int i = 7; i >= 0; i--)
		g = (g << 8) | p->uuid[i];
	return g;
}

static int quiet_find(const struct gpt_store *gs, const char *name)
{
	for (unsigned i = 0; i < gs->nquiet; i++)
		if (strcmp(gs->quiet[i], name) == 0)
			return (int)i;
	return -1;
}

static void quiet_set(struct gpt_store *gs, const char *name, int on)
{
	int i = quiet_find(gs, name);
	if (on && i < 0 && gs->nquiet < GPT_ENTRIES)
		snprintf(gs->quiet[gs->nquiet++], sizeof(gs->quiet[0]), "%s", name);
	else if (!on && i >= 0)
		memcpy(gs->quiet[i], gs->quiet[--gs->nquiet], sizeof(gs->quiet[0]));
}

/* A new unique GUID for object @name: its generation moves on (durably:
 * the table write flushes) before the write that asked for it. */
static int gs_bump_locked(struct gpt_store *gs, const char *name, struct havm_err *err)
{
	if (gs->broken)
		return havm_err_set(err, HAVM_E_IO, -EIO, "%s: an earlier table write failed; reopen the store",
				    gs->url);
	int rc = refresh(gs, err);
	if (rc < 0)
		return rc;
	int i = find(&gs->t, name);
	if (i < 0)
		return havm_err_set(err, HAVM_E_NOTFOUND, -ENOENT, "%s: no object '%s'", gs->url, name);
	struct gpt_table *nt = malloc(sizeof(*nt));
	if (!nt)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	*nt = gs->t;
	rc = gpt_guid_random(nt->part[i].uuid);
	if (rc < 0)
		rc = havm_err_set(err, HAVM_E_IO, rc, "%s: no random bytes for a new GUID", gs->url);
	if (rc == 0 && HAVM_FAULT("store.generation_bump"))
		rc = havm_err_set(err, HAVM_E_IO, -EIO, "%s: fault store.generation_bump", gs->url);
	if (rc == 0)
		rc = gs_commit(gs, nt, err);
	if (rc == 0) {
		quiet_set(gs, name, 1);
		hlog(LOG_DEBUG, "%s: '%s' generation now %016" PRIx64, gs->url, name,
		     part_generation(&nt->part[i]));
	}
	free(nt);
	return rc;
}

static int gs_bump(struct gpt_store *gs, const char *name, struct havm_err *err)
{
	store_lock(gs->lock_fd);
	int rc = gs_bump_locked(gs, name, err);
	store_unlock(gs->lock_fd);
	return rc;
}

/* Regions' write hook: the first write after open or after a generation
 * read bumps it first. */
static int before_write(void *opaque, const char *obj)
{
	struct gpt_store *gs = opaque;
	if (quiet_find(gs, obj) >= 0)
		return 0;
	struct havm_err err;
	int rc = gs_bump(gs, obj, &err);
	if (rc < 0) {
		hlog(LOG_ERR, "%s (the write that needed it fails)", err.msg);
		return rc == -EACCES ? rc : -EIO;
	}
	return 0;
}

static int check_writable(struct store *s, struct havm_err *err)
{
	if (gs_of(s)->broken)
		return havm_err_set(err, HAVM_E_IO, -EIO, "%s: an earlier table write failed; reopen the store",
				    s->url);
	return 0;
}

static void fill_part(struct gpt_part *p, const char *name, enum store_kind kind, uint64_t first,
		      uint64_t bytes)
{
	uint64_t nsec = bytes ? (bytes + GPT_SECTOR - 1) / GPT_SECTOR : 1;
	memset(p, 0, sizeof(*p));
	type_guid(kind, p->type);
	if (gpt_guid_random(p->uuid) < 0)
		memset(p->uuid, 0x5a, 16); /* unique enough for a table; never expected */
	p->first_lba = first;
	p->last_lba = first + nsec - 1;
	p->attrs = (nsec * GPT_SECTOR - bytes) << SLACK_SHIFT;
	snprintf(p->name, sizeof(p->name), "%s", name);
}

/* --- operations ------------------------------------------------------- */

static int g_list(struct store *s, struct store_obj **objs, size_t *n, struct havm_err *err)
{
	struct gpt_store *gs = gs_of(s);
	if (refresh(gs, err) < 0)
		return -EIO;
	struct store_obj *o = calloc(GPT_ENTRIES, sizeof(*o));
	if (!o)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	size_t k = 0;
	for (uint32_t i = 0; i < gs->t.num_entries; i++)
		if (part_kind(&gs->t.part[i]) >= 0)
			part_obj(&gs->t.part[i], &o[k++]);
	*objs = o;
	*n = k;
	return 0;
}

static int create_locked(struct store *s, const char *name, enum store_kind kind, uint64_t size,
			 struct havm_err *err)
{
	struct gpt_store *gs = gs_of(s);
	int rc = check_writable(s, err);
	if (rc == 0)
		rc = refresh(gs, err);
	if (rc < 0)
		return rc;
	if (find(&gs->t, name) >= 0)
		return havm_err_set(err, HAVM_E_STATE, -EEXIST, "%s: object '%s' exists", s->url, name);
	int slot = free_slot(&gs->t);
	if (slot < 0)
		return havm_err_set(err, HAVM_E_STATE, -ENOSPC, "%s: all %u GPT entries are in use", s->url,
				    GPT_ENTRIES);
	if (kind == STORE_KIND_VHD)
		size = (size + GPT_SECTOR - 1) / GPT_SECTOR * GPT_SECTOR;
	uint64_t first, nsec = (size + GPT_SECTOR - 1) / GPT_SECTOR;
	if (!free_extent(gs, nsec, &first))
		return havm_err_set(err, HAVM_E_STATE, -ENOSPC, "%s: no free extent of %" PRIu64 " bytes", s->url,
				    nsec * GPT_SECTOR);
	struct gpt_table *nt = malloc(sizeof(*nt));
	if (!nt)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	*nt = gs->t;
	if ((uint32_t)slot >= nt->num_entries) {
		memset(&nt->part[slot], 0, sizeof(nt->part[slot]));
		nt->num_entries = GPT_ENTRIES;
	}
	fill_part(&nt->part[slot], name, kind, first, size);
	rc = commit_table(s, nt, err);
	free(nt);
	if (rc == 0)
		hlog(LOG_INFO, "%s: created '%s' at LBA %" PRIu64 " (%" PRIu64 " bytes)", s->url, name, first, size);
	return rc;
}

static int remove_locked(struct store *s, const char *name, struct havm_err *err)
{
	struct gpt_store *gs = gs_of(s);
	int rc = check_writable(s, err);
	if (rc == 0)
		rc = refresh(gs, err);
	if (rc < 0)
		return rc;
	int i = find(&gs->t, name);
	if (i < 0)
		return havm_err_set(err, HAVM_E_NOTFOUND, -ENOENT, "%s: no object '%s'", s->url, name);
	struct gpt_table *nt = malloc(sizeof(*nt));
	if (!nt)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	*nt = gs->t;
	memset(&nt->part[i], 0, sizeof(nt->part[i]));
	rc = commit_table(s, nt, err);
	free(nt);
	return rc;
}

static int g_create(struct store *s, const char *name, enum store_kind kind, uint64_t size, struct havm_err *err)
{
	store_lock(gs_of(s)->lock_fd);
	int rc = create_locked(s, name, kind, size, err);
	store_unlock(gs_of(s)->lock_fd);
	return rc;
}

static int g_remove(struct store *s, const char *name, struct havm_err *err)
{
	store_lock(gs_of(s)->lock_fd);
	int rc = remove_locked(s, name, err);
	store_unlock(gs_of(s)->lock_fd);
	return rc;
}

static void gs_free(struct gpt_store *gs)
{
	if (gs->lock_fd >= 0)
		close(gs->lock_fd);
	free(gs->url);
	free(gs);
}

static void dev_ref(void *opaque, int delta)
{
	struct gpt_store *gs = opaque;
	gs->refs += delta;
	if (gs->refs == 0) {
		blk_backend_close(gs->dev);
		gs_free(gs);
	}
}

static int g_open_region(struct store *s, const char *name, unsigned flags, struct blk_backend **out,
			 struct havm_err *err)
{
	struct gpt_store *gs = gs_of(s);
	if (refresh(gs, err) < 0)
		return -EIO;
	int i = find(&gs->t, name);
	if (i < 0)
		return havm_err_set(err, HAVM_E_NOTFOUND, -ENOENT, "%s: no object '%s'", s->url, name);
	struct store_obj o;
	part_obj(&gs->t.part[i], &o);
	char label[1200];
	/* "<url>/<name>": a VHD child's header then names the parent object. */
	snprintf(label, sizeof(label), "%s/%s", s->url, name);
	if (store_region_backend(gs->dev, o.offset, o.size, !!(flags & BLK_O_RDWR), label, name, dev_ref,
				 before_write, gs, out) < 0)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	return 0;
}

static int gr_write(struct store_replace *r, const void *buf, size_t len)
{
	struct gpt_store *gs = gs_of(r->s);
	struct gpt_replace *g = r->impl;
	if (len > g->nsec * GPT_SECTOR - r->written)
		return -ENOSPC;
	int rc = blk_backend_pwrite(gs->dev, buf, len, g->first * GPT_SECTOR + r->written);
	if (rc == 0 && HAVM_FAULT("store.replace_write"))
		rc = -EIO;
	return rc;
}

/* Drops the pending entry (best effort: a stale one is dropped by the
 * next replace of the same object). */
static void abort_locked(struct store_replace *r)
{
	struct gpt_store *gs = gs_of(r->s);
	struct gpt_replace *g = r->impl;
	gs->resv_first = gs->resv_last = 0;
	struct havm_err err;
	struct gpt_table *nt = g->reserved && !gs->broken ? malloc(sizeof(*nt)) : NULL;
	if (nt && refresh(gs, &err) == 0) {
		int i = find_pending(&gs->t, r->name);
		if (i >= 0 && gs->t.part[i].first_lba == g->first) {
			*nt = gs->t;
			memset(&nt->part[i], 0, sizeof(nt->part[i]));
			if (gs_commit(gs, nt, &err) < 0)
				hlog(LOG_WARNING, "%s (its space is reclaimed by the next replace of '%s')", err.msg,
				     r->name);
		}
	}
	free(nt);
	free(r->impl);
}

static int commit_locked(struct store_replace *r, struct havm_err *err)
{
	struct store *s = r->s;
	struct gpt_store *gs = gs_of(s);
	struct gpt_replace *g = r->impl;
	/* The data must be durable before any entry points at it. */
	int rc = gs->dev->ops->flush(gs->dev);
	if (rc == 0 && HAVM_FAULT("store.replace_flushed"))
		rc = -EIO;
	if (rc < 0) {
		abort_locked(r);
		return havm_err_set(err, HAVM_E_IO, rc, "%s: flushing the new '%s': %s", s->url, r->name,
				    strerror(-rc));
	}
	struct gpt_table *nt = malloc(sizeof(*nt));
	if (!nt) {
		abort_locked(r);
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	}
	rc = refresh(gs, err);
	int pend = rc < 0 ? -1 : find_pending(&gs->t, r->name);
	int slot = rc < 0 ? -1 : find(&gs->t, r->name);
	if (rc == 0 && (pend < 0 || gs->t.part[pend].first_lba != g->first))
		rc = havm_err_set(err, HAVM_E_BUSY, -EBUSY,
				  "%s: '%s' not replaced: its reserved extent was taken from the table meanwhile",
				  s->url, r->name);
	if (rc < 0) {
		free(nt);
		abort_locked(r);
		return rc;
	}
	/* One table write: the object points at the new data, the pending
	 * entry (and the old data) go. */
	*nt = gs->t;
	if (slot >= 0)
		memset(&nt->part[pend], 0, sizeof(nt->part[pend]));
	else
		slot = pend;
	fill_part(&nt->part[slot], r->name, r->kind, g->first, r->written);
	g->reserved = false;
	abort_locked(r); /* the reservation ends; the table decides now */
	rc = commit_table(s, nt, err);
	free(nt);
	return rc;
}

static void gr_abort(struct store_replace *r)
{
	int fd = gs_of(r->s)->lock_fd;
	store_lock(fd);
	abort_locked(r);
	store_unlock(fd);
}

static int gr_commit(struct store_replace *r, struct havm_err *err)
{
	int fd = gs_of(r->s)->lock_fd;
	store_lock(fd);
	int rc = commit_locked(r, err);
	store_unlock(fd);
	return rc;
}

static const struct store_replace_ops gpt_replace_ops = {
	.write = gr_write,
	.commit = gr_commit,
	.abort = gr_abort,
};

static int begin_locked(struct store *s, const char *name, enum store_kind kind, uint64_t max_size,
			struct store_replace **out, struct havm_err *err)
{
	struct gpt_store *gs = gs_of(s);
	int rc = check_writable(s, err);
	if (rc == 0)
		rc = refresh(gs, err);
	if (rc < 0)
		return rc;
	/* A pending entry of this object is a dead writer's (one writer per
	 * object): its space is ours again. */
	int slot = find_pending(&gs->t, name);
	if (slot >= 0) {
		hlog(LOG_NOTICE, "%s: dropping the unfinished replace of '%s' a dead writer left", s->url, name);
		memset(&gs->t.part[slot], 0, sizeof(gs->t.part[slot]));
	} else if ((slot = free_slot(&gs->t)) < 0) {
		return havm_err_set(err, HAVM_E_STATE, -ENOSPC, "%s: all %u GPT entries are in use", s->url,
				    GPT_ENTRIES);
	}
	uint64_t first, nsec = max_size ? (max_size + GPT_SECTOR - 1) / GPT_SECTOR : 0;
	uint64_t got = free_extent(gs, nsec, &first);
	if (!got)
		return havm_err_set(err, HAVM_E_STATE, -ENOSPC, "%s: no free extent of %" PRIu64 " bytes for '%s'",
				    s->url, nsec * GPT_SECTOR, name);
	struct store_replace *r = calloc(1, sizeof(*r));
	struct gpt_replace *g = calloc(1, sizeof(*g));
	struct gpt_table *nt = malloc(sizeof(*nt));
	if (!r || !g || !nt) {
		free(r);
		free(g);
		free(nt);
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	}
	/* The pending entry: the extent is taken in the table itself. */
	*nt = gs->t;
	if ((uint32_t)slot >= nt->num_entries) {
		memset(&nt->part[slot], 0, sizeof(nt->part[slot]));
		nt->num_entries = GPT_ENTRIES;
	}
	fill_part(&nt->part[slot], name, STORE_KIND_OTHER, first, got * GPT_SECTOR);
	rc = gpt_guid_parse(pending_guid_text, nt->part[slot].type);
	if (rc == 0)
		rc = commit_table(s, nt, err);
	free(nt);
	if (rc < 0) {
		free(r);
		free(g);
		return rc;
	}
	g->first = first;
	g->nsec = got;
	g->reserved = true;
	gs->resv_first = first;
	gs->resv_last = first + got - 1;
	r->ops = &gpt_replace_ops;
	r->s = s;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->kind = kind;
	r->impl = g;
	*out = r;
	return 0;
}

static int g_replace_begin(struct store *s, const char *name, enum store_kind kind, uint64_t max_size,
			   struct store_replace **out, struct havm_err *err)
{
	store_lock(gs_of(s)->lock_fd);
	int rc = begin_locked(s, name, kind, max_size, out, err);
	store_unlock(gs_of(s)->lock_fd);
	return rc;
}

static int rename_locked(struct store *s, const char *from, const char *to, struct havm_err *err)
{
	struct gpt_store *gs = gs_of(s);
	int rc = check_writable(s, err);
	if (rc == 0)
		rc = refresh(gs, err);
	if (rc < 0)
		return rc;
	int i = find(&gs->t, from), j = find(&gs->t, to);
	if (i < 0)
		return havm_err_set(err, HAVM_E_NOTFOUND, -ENOENT, "%s: no object '%s'", s->url, from);
	struct gpt_table *nt = malloc(sizeof(*nt));
	if (!nt)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	*nt = gs->t;
	if (j >= 0) /* replaced in the same table write */
		memset(&nt->part[j], 0, sizeof(nt->part[j]));
	type_guid(store_kind_of_name(to), nt->part[i].type);
	snprintf(nt->part[i].name, sizeof(nt->part[i].name), "%s", to);
	rc = commit_table(s, nt, err);
	free(nt);
	if (rc == 0)
		hlog(LOG_INFO, "%s: renamed '%s' to '%s'", s->url, from, to);
	return rc;
}

static int g_rename(struct store *s, const char *from, const char *to, struct havm_err *err)
{
	store_lock(gs_of(s)->lock_fd);
	int rc = rename_locked(s, from, to, err);
	store_unlock(gs_of(s)->lock_fd);
	return rc;
}

static int g_generation(struct store *s, const char *name, uint64_t *gen, struct havm_err *err)
{
	struct gpt_store *gs = gs_of(s);
	int rc = refresh(gs, err);
	if (rc < 0)
		return rc;
	int i = find(&gs->t, name);
	if (i < 0)
		return havm_err_set(err, HAVM_E_NOTFOUND, -ENOENT, "%s: no object '%s'", s->url, name);
	*gen = part_generation(&gs->t.part[i]);
	quiet_set(gs, name, 0); /* the next write moves it on */
	return 0;
}

static int g_bump(struct store *s, const char *name, struct havm_err *err)
{
	return gs_bump(gs_of(s), name, err);
}

static int g_df(struct store *s, struct store_df *out, struct havm_err *err)
{
	struct gpt_store *gs = gs_of(s);
	if (refresh(gs, err) < 0)
		return -EIO;
	out->total = (gs->t.last_usable - gs->t.first_usable + 1) * GPT_SECTOR;
	for (uint32_t i = 0; i < gs->t.num_entries; i++) {
		const struct gpt_part *p = &gs->t.part[i];
		if (!gpt_part_used(p))
			continue;
		out->used += (p->last_lba - p->first_lba + 1) * GPT_SECTOR;
		if (part_kind(p) >= 0)
			out->objects++;
	}
	out->free = out->total - out->used;
	uint64_t first;
	out->largest_free = free_extent(gs, 0, &first) * GPT_SECTOR;
	out->max_objects = GPT_ENTRIES;
	return 0;
}

static int g_close(struct store *s)
{
	struct gpt_store *gs = gs_of(s);
	int rc = (s->flags & STORE_O_RDWR) ? gs->dev->ops->flush(gs->dev) : 0;
	if (gs->refs == 1) {
		int crc = blk_backend_close(gs->dev);
		if (rc == 0)
			rc = crc;
		gs_free(gs);
	} else {
		gs->refs--; /* regions still open keep the device */
	}
	return rc;
}

static const struct store_ops gpt_store_ops = {
	.list = g_list,
	.create = g_create,
	.remove = g_remove,
	.open_region = g_open_region,
	.replace_begin = g_replace_begin,
	.df = g_df,
	.rename = g_rename,
	.generation = g_generation,
	.bump = g_bump,
	.close = g_close,
};

int store_gpt_open(struct store *s, struct blk_backend *dev, struct havm_err *err)
{
	struct gpt_store *gs = calloc(1, sizeof(*gs));
	if (!gs) {
		blk_backend_close(dev);
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	}
	gs->dev = dev;
	gs->refs = 1;
	gs->lock_fd = (s->flags & STORE_O_RDWR) ? store_lock_open(s->url) : -1;
	if (!(gs->url = strdup(s->url))) {
		blk_backend_close(dev);
		gs_free(gs);
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	}
	int rc = gpt_read(dev, &gs->t, err);
	if (rc < 0)
		goto fail;
	for (uint32_t i = 0; i < gs->t.num_entries; i++) {
		if (part_kind(&gs->t.part[i]) < 0)
			continue;
		if (find(&gs->t, gs->t.part[i].name) != (int)i) {
			rc = havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "%s: entries %d and %" PRIu32 " both name '%s'",
					  dev->name, find(&gs->t, gs->t.part[i].name), i, gs->t.part[i].name);
			goto fail;
		}
	}
	if ((s->flags & STORE_O_RDWR) && rc != (GPT_PRIMARY_OK | GPT_BACKUP_OK)) {
		/* One copy is bad or stale: a crash between the two, or another
		 * process of this node writing the table right now. Under the
		 * lock, read again; if a copy is still bad, write both from the
		 * valid one before anything allocates free space. */
		store_lock(gs->lock_fd);
		rc = gpt_read(dev, &gs->t, err);
		if (rc > 0 && rc != (GPT_PRIMARY_OK | GPT_BACKUP_OK)) {
			hlog(LOG_WARNING, "%s: repairing the %s GPT copy", dev->name,
			     !(rc & GPT_PRIMARY_OK) ? "primary" : "backup");
			rc = gpt_write(dev, &gs->t, false, err);
		}
		store_unlock(gs->lock_fd);
		if (rc < 0)
			goto fail;
	}
	s->ops = &gpt_store_ops;
	s->impl = gs;
	return 0;
fail:
	havm_err_prefix(err, "store %s", s->url);
	blk_backend_close(dev);
	gs_free(gs);
	return rc;
}

int store_gpt_format(struct blk_backend *dev, int force, struct havm_err *err)
{
	struct gpt_table *t = malloc(sizeof(*t));
	if (!t) {
		blk_backend_close(dev);
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	}
	int rc = 0;
	if (!force && gpt_read(dev, t, NULL) > 0) {
		unsigned used = 0;
		for (uint32_t i = 0; i < t->num_entries; i++)
			used += gpt_part_used(&t->part[i]);
		if (used)
			rc = havm_err_set(err, HAVM_E_STATE, -EEXIST,
					  "%s: holds a GPT with %u partitions; --force to overwrite", dev->name, used);
	}
	int64_t sz = dev->ops->size(dev);
	if (rc == 0 && sz < 0)
		rc = havm_err_set(err, HAVM_E_IO, (int)sz, "%s: cannot get the size", dev->name);
	if (rc == 0)
		rc = gpt_init(t, (uint64_t)sz / GPT_SECTOR, err);
	if (rc == 0)
		rc = gpt_write(dev, t, true, err);
	int crc = blk_backend_close(dev);
	if (rc == 0 && crc < 0)
		rc = havm_err_set(err, HAVM_E_IO, crc, "closing the device: %s", strerror(-crc));
	free(t);
	if (rc == 0)
		hlog(LOG_NOTICE, "formatted a store");
	return rc;
}
