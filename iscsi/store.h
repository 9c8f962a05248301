/* havm — the VM store: named objects (a VM's .vmc, .vhd disks, .vsv saved
 * state) on shared storage, with one API over two layouts (docs/store.md):
 *
 *   "dir:/path"          a directory (local or a shared filesystem): one
 *                        file per object. The embedded default.
 *   "iscsi://host/iqn/N" a LUN holding a GPT: one partition per object, our
 *                        own type GUIDs, the object name as partition name.
 *   "file:/path" or a plain path to a regular file: an image file used as
 *                        a LUN (tests, or a LUN attached as a block device).
 *                        A plain path to a directory is a dir: store.
 *
 * Names: 1..36 characters of [A-Za-z0-9._-], not starting with '.'. A kind
 * other than STORE_KIND_OTHER requires the matching extension (".vmc",
 * ".vhd", ".vsv"), so a dir: store can tell kinds from names.
 *
 * Objects have a size (bytes of content) and, on a LUN, a capacity (the
 * partition). Regions (store_open_region) are fixed-size byte stores for a
 * VHD (its footer at the region's end) or raw data. Whole objects are
 * written by an atomic replace: store_write_file for small ones (.vmc), and
 * store_replace_begin/write/commit for streams (.vsv, via
 * vsv_writer_open_sink with store_replace_sink). A crash at any point leaves
 * either the old object or the new one, never a mix, and the store valid.
 *
 * Concurrency: every table change re-reads the table first; processes of
 * one node are serialised by an flock per store (store_lock.c); a replace
 * takes its extent in the table (a pending entry) before writing. There is
 * no lock between nodes: the cluster (Pacemaker + SCSI-3 PR) guarantees one
 * writer per VM's objects, and table changes of two nodes must not overlap
 * in time (admins run `havm store` with the resources stopped). Within a
 * process, a store handle and its regions are used by one thread; one
 * replace may be pending per handle.
 *
 * Return convention (docs/conventions.md): 0 or -errno, @err filled. */
#ifndef HAVM_ISCSI_STORE_H
#define HAVM_ISCSI_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "iscsi/lun.h"
#include "vmcore/disk/blk.h"

#define STORE_NAME_MAX 36

enum store_kind { STORE_KIND_VMC = 0, STORE_KIND_VHD, STORE_KIND_VSV, STORE_KIND_OTHER };

enum store_flag {
	STORE_O_RDWR = 1u << 0,   /* open for changes; default read-only */
	STORE_O_CREATE = 1u << 1, /* dir: create the directory if missing */
};

enum store_type { STORE_TYPE_DIR = 0, STORE_TYPE_GPT };

struct store;

struct store_obj {
	char name[STORE_NAME_MAX + 1];
	enum store_kind kind;
	uint64_t size;     /* bytes of content */
	uint64_t capacity; /* bytes reserved (partition length; dir: = size) */
	uint64_t offset;   /* byte offset on the LUN (dir: 0) */
};

struct store_df {
	uint64_t total;         /* bytes objects can use */
	uint64_t used;          /* bytes reserved by objects (and foreign partitions) */
	uint64_t free;          /* total - used (dir: the filesystem's available bytes) */
	uint64_t largest_free;  /* the largest object that can be created now */
	uint32_t objects;
	uint32_t max_objects;   /* GPT: 128 entries; dir: 0 = no limit */
};

const char *store_kind_name(enum store_kind k); /* "vmc", "vhd", "vsv", "other" */
/* Kind from a name's extension (OTHER when none matches). */
enum store_kind store_kind_of_name(const char *name);
/* Parses "vmc"/"vhd"/"vsv"/"other"; -EINVAL otherwise. */
int store_kind_parse(const char *text, enum store_kind *out);
/* 0 when @name is a valid object name, else -EINVAL with @err saying why. */
int store_name_check(const char *name, enum store_kind kind, struct havm_err *err) HAVM_MUST_CHECK;

/* Writes an empty store: on a LUN or image a protective MBR and an empty
 * GPT (refused with -EEXIST, HAVM_E_STATE, when a valid GPT with partitions
 * is there, unless @force); for dir: creates the directory. */
int store_format(const char *url, int force, struct havm_err *err) HAVM_MUST_CHECK;

/* Opens the store at @url. A LUN or image must hold a valid GPT (the backup
 * copy is used when the primary is bad; a read-write open repairs the bad or
 * stale copy). Errors: -EINVAL (HAVM_E_CONFIG) bad URL, -ENOENT
 * (HAVM_E_NOTFOUND), -EINVAL (HAVM_E_FORMAT) no valid GPT or a duplicate
 * object name, -ENOTSUP (HAVM_E_UNSUPPORTED) sector size other than 512,
 * transport errors (HAVM_E_IO). */
int store_open(const char *url, unsigned flags, struct store **out, struct havm_err *err) HAVM_MUST_CHECK;

/* The SCSI-3 PR registration guard on an iscsi:// store's LUN, as for
 * iscsi:// disks (docs/iscsi.md): with @pr_key the LUN must hold the key
 * (else HAVM_E_FENCED), this session is registered under it, and when the
 * key disappears every request fails without being sent and @on_fenced
 * runs (on the thread that issued the request). Ignored for dir: and file:
 * stores. */
struct store_open_opts {
	uint64_t pr_key; /* 0 = no guard */
	lun_fenced_fn on_fenced;
	void *fenced_opaque;
	/* The LUN's I/O deadline (lun_opts.io_deadline_s; the URL's
	 * io_deadline=S wins; 0 = none) and what runs when it passes
	 * (lun_set_lost_fn, with @fenced_opaque). */
	int io_deadline_s;
	lun_lost_fn on_lost;
};
int store_open_ex(const char *url, unsigned flags, const struct store_open_opts *opts, struct store **out,
		  struct havm_err *err) HAVM_MUST_CHECK;

/* Closes the store. Regions opened from it stay usable until they are
 * closed (they hold a reference to the device). Returns the first error of
 * the final flush; NULL-safe. */
int store_close(struct store *s);

enum store_type store_type(const struct store *s);
const char *store_url(const struct store *s);

/* All objects, sorted by name, in a malloc'd array (*objs, free() it). */
int store_list(struct store *s, struct store_obj **objs, size_t *n, struct havm_err *err) HAVM_MUST_CHECK;

/* One object; -ENOENT (HAVM_E_NOTFOUND). */
int store_stat(struct store *s, const char *name, struct store_obj *out, struct havm_err *err) HAVM_MUST_CHECK;

/* Creates an object of @size bytes (LUN: a partition aligned to 1 MiB; its
 * content is whatever the LUN held there). -EEXIST (HAVM_E_STATE) when the
 * name exists, -ENOSPC (HAVM_E_STATE) when no free extent or entry fits. */
int store_create_region(struct store *s, const char *name, enum store_kind kind, uint64_t size,
			struct havm_err *err) HAVM_MUST_CHECK;

/* Removes an object (LUN: its entry; the data is not wiped). */
int store_remove(struct store *s, const char *name, struct havm_err *err) HAVM_MUST_CHECK;

/* Renames object @from to @to (its kind follows @to's extension: a
 * ".vsv" renamed to "x.vsv.consumed" becomes kind other), atomically
 * replacing an existing @to: one table write on a LUN, rename(2) + a
 * directory fsync on dir:. -ENOENT when @from is missing. */
int store_rename(struct store *s, const char *from, const char *to, struct havm_err *err) HAVM_MUST_CHECK;

/* The write generation of object @name (docs/save-restore.md): it differs
 * after any write through the store API since it was read. dir: a hash of
 * the file's inode metadata (size, mtime, ctime, inode). LUN: the first 8
 * bytes of the partition's unique GUID, which a region opened read-write
 * replaces (one table write, durable before the write proceeds) on its
 * first write after open and after each store_generation() read. */
int store_generation(struct store *s, const char *name, uint64_t *gen, struct havm_err *err) HAVM_MUST_CHECK;
/* Moves the generation on now (LUN: a new unique GUID) and lets writes
 * through without another bump until the next store_generation(); a
 * no-op on dir: (the kernel moves ctime). */
int store_bump_generation(struct store *s, const char *name, struct havm_err *err) HAVM_MUST_CHECK;

/* dir: the object's file path (it need not exist); -ENOTSUP on a LUN. */
int store_file_path(struct store *s, const char *name, char *buf, size_t len, struct havm_err *err) HAVM_MUST_CHECK;

/* The object's bytes as a fixed-size backend (no BLK_BE_CAP_RESIZE on a
 * LUN) of store_obj.size bytes: blk_open_backend() / vhd_create_backend()
 * put a VHD on it. BLK_O_RDWR for writes. */
int store_open_region(struct store *s, const char *name, unsigned flags, struct blk_backend **out,
		      struct havm_err *err) HAVM_MUST_CHECK;

/* Reads a whole object of at most @max bytes into a malloc'd buffer
 * (-EFBIG, HAVM_E_STATE, when larger). */
int store_read_file(struct store *s, const char *name, size_t max, void **buf, size_t *len,
		    struct havm_err *err) HAVM_MUST_CHECK;

/* Creates or atomically replaces a whole object with @len bytes. */
int store_write_file(struct store *s, const char *name, enum store_kind kind, const void *buf, size_t len,
		     struct havm_err *err) HAVM_MUST_CHECK;

/* Atomic replace by stream. begin reserves room for at most @max_size bytes
 * (0 = the largest free extent on a LUN; no limit on dir:), writes append,
 * commit makes the new content the object (creating it if needed) and frees
 * the old one's space; abort (or a crash) leaves the old object. -EBUSY
 * (HAVM_E_BUSY) when another replace is pending on this handle; -ENOSPC when
 * a write passes the reserved room. */
struct store_replace;
int store_replace_begin(struct store *s, const char *name, enum store_kind kind, uint64_t max_size,
			struct store_replace **out, struct havm_err *err) HAVM_MUST_CHECK;
int store_replace_write(struct store_replace *r, const void *buf, size_t len) HAVM_MUST_CHECK;
/* A vsv_write_fn for vsv_writer_open_sink(store_replace_sink, r, ...). */
int store_replace_sink(void *r, const void *buf, size_t len);
int store_replace_commit(struct store_replace *r, struct havm_err *err) HAVM_MUST_CHECK;
void store_replace_abort(struct store_replace *r);

int store_df(struct store *s, struct store_df *out, struct havm_err *err) HAVM_MUST_CHECK;

/* Opens the VHD (or raw) disk held by object @name. A differencing child's
 * parent is the object its header names (opened read-only, recursively,
 * UUIDs checked); on a dir: store parents resolve as for files. */
int store_open_disk(struct store *s, const char *name, unsigned flags, struct blk_dev **out,
		    struct havm_err *err) HAVM_MUST_CHECK;

/* Creates @child as a differencing VHD over the VHD object @parent (in a
 * region of @capacity bytes; 0 = room for every block). */
int store_create_child(struct store *s, const char *parent, const char *child, uint64_t capacity,
		       struct havm_err *err) HAVM_MUST_CHECK;

/* Whole-file copies for `havm store import|export` (store_copy.c).
 * import: a .vhd (any kind blk_open reads, differencing flattened) becomes a
 * dynamic VHD filling a new region of @capacity bytes (0 = enough for every
 * block), written sector-wise with zero runs skipped; other kinds are copied
 * byte for byte by an atomic replace. export: a VHD region becomes a dynamic
 * VHD file (zero blocks unallocated); others are copied byte for byte.
 * With STORE_EXPORT_RAW a VHD region is written as the raw disk it
 * holds (what a guest sees; zero runs left as holes).
 * @path must not exist for export (-EEXIST). */
enum store_export_flag { STORE_EXPORT_RAW = 1u << 0 };
int store_import(struct store *s, const char *path, const char *name, enum store_kind kind,
		 uint64_t capacity, struct havm_err *err) HAVM_MUST_CHECK;
int store_export(struct store *s, const char *name, const char *path, unsigned flags,
		 struct havm_err *err) HAVM_MUST_CHECK;

#endif
