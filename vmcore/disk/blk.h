/* havm — the block layer: byte stores (backends) and virtual disks on them.
 *
 * Two levels, both used by the VMM, the `havm vhd` tools and the iSCSI store:
 *
 *  (a) struct blk_backend — a byte-addressed store: a file today
 *      (blk_backend_file_open, vmcore/disk/file.c), a region of an iSCSI LUN
 *      later (iscsi/). A backend knows nothing about disk formats.
 *  (b) struct blk_dev — a virtual disk addressed by 512-byte sectors, in one of
 *      the formats raw, VHD fixed, VHD dynamic or VHD differencing, probed on
 *      open. Differencing disks open their parent chain themselves.
 *
 * Return convention (docs/conventions.md): 0 on success, a negative errno on
 * failure; calls that face users also fill a caller-provided struct havm_err
 * (may be NULL) whose message names the file and the field.
 *
 * Synchronous by design, for now. Every op below completes before it returns.
 * The block layer is called from the VMM's device thread (virtio-blk/IDE) and
 * from tools; the guest's I/O is already queued by the device model, and a
 * file backend's pread/pwrite cost the same either way. An asynchronous
 * backend (the iSCSI LUN, driven by qb_loop) fits behind this table in one of
 * two ways, without changing blk_dev callers:
 *   1. it implements these ops as sync wrappers over its *_async calls (the
 *      libiscsi lib/sync.c pattern: an on-stack state, a private callback,
 *      poll until done) — what iscsi/ does first;
 *   2. later, blk_backend_ops grows *_async twins with STYLE.md section 9's
 *      three-way submit (<0 rejected and no callback, 0 done now, >0 the
 *      callback fires exactly once later; close completes pending work with
 *      -ECANCELED). The sync ops stay, written over the async ones in a
 *      blk_sync.c, so nothing here changes meaning.
 *
 * Threads: a backend and a blk_dev are used by one thread at a time (the
 * caller serialises); nothing here starts threads or keeps global state. */
#ifndef HAVM_VMCORE_DISK_BLK_H
#define HAVM_VMCORE_DISK_BLK_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define BLK_SECTOR_SIZE 512u
#define BLK_SECTOR_SHIFT 9

/* ------------------------------------------------------------------------ */
/* (a) Backends: byte-addressed stores                                        */

struct blk_backend;

/* Backend capabilities (blk_backend.caps). */
enum blk_backend_cap {
	/* resize() works: the store grows (a file). Without it the size is fixed
	 * (a LUN region): a dynamic VHD then keeps its footer at the region's
	 * end and allocates blocks in the free space before it, and a
	 * new block's unwritten sectors are zeroed explicitly because the store
	 * may hold old data. */
	BLK_BE_CAP_RESIZE = 1u << 0,
	/* Bytes past the old end read as zero after resize() grows the store
	 * (holes in a file), so a new block needs no zero-fill. */
	BLK_BE_CAP_ZERO_GROW = 1u << 1,
	/* discard() is implemented (punch hole / UNMAP). */
	BLK_BE_CAP_DISCARD = 1u << 2,
};

struct blk_backend_ops {
	const char *kind; /* "file", "iscsi" ... for messages */
	/* Reads @len bytes at @off. The whole range must lie below size():
	 * a read past the end returns -EIO (short read), never partial data.
	 * Other failures: -errno of the transport (-EIO, -ENOMEM, ...). */
	int (*pread)(struct blk_backend *be, void *buf, size_t len, uint64_t off);
	/* Writes @len bytes at @off. The data may sit in a cache until flush().
	 * A write past size() grows the store when it has BLK_BE_CAP_RESIZE
	 * (a file), otherwise returns -ENOSPC. -EROFS when opened read-only. */
	int (*pwrite)(struct blk_backend *be, const void *buf, size_t len, uint64_t off);
	/* Makes every completed pwrite/resize durable (fdatasync, SYNCHRONIZE
	 * CACHE). The crash-safety of VHD metadata rests on this barrier: when
	 * flush returns 0, writes issued before it survive power loss. */
	int (*flush)(struct blk_backend *be);
	/* Current size in bytes (>= 0) or -errno. */
	int64_t (*size)(struct blk_backend *be);
	/* Sets the size (truncate or extend; new bytes read as zero when the
	 * backend has BLK_BE_CAP_ZERO_GROW). NULL, or -EOPNOTSUPP, when the size
	 * is fixed (a LUN region). */
	int (*resize)(struct blk_backend *be, uint64_t size);
	/* Optional (NULL = unsupported): releases a byte range; afterwards the
	 * range reads as zero. -EOPNOTSUPP when the store cannot. */
	int (*discard)(struct blk_backend *be, uint64_t off, uint64_t len);
	/* Releases the backend and frees @be. Returns the first error of a
	 * final flush/close (-EIO ...): a nonzero return means writes may be
	 * lost. @be is freed in every case. */
	int (*close)(struct blk_backend *be);
};

/* The common head of every backend; implementations embed it first. */
struct blk_backend {
	const struct blk_backend_ops *ops;
	unsigned caps;   /* enum blk_backend_cap mask */
	int read_only;   /* opened without write access */
	char *name;      /* for messages: the path or "iscsi://.../lun0@off"; owned */
};

/* Open flags for backends and devices. */
enum blk_open_flag {
	BLK_O_RDWR = 1u << 0,   /* read-write; default read-only */
	BLK_O_CREATE = 1u << 1, /* file backend: create if missing (O_EXCL) */
	BLK_O_DIRECT = 1u << 2, /* file backend: O_DIRECT where it works */
	BLK_O_NO_PARENT = 1u << 3, /* differencing disk: don't open the parent
	                            * (info/check); reads of parent sectors
	                            * then fail with -ENXIO */
	BLK_O_FORMAT_RAW = 1u << 4, /* skip probing: treat as raw */
};

/* Opens the file @path as a backend (O_CLOEXEC; O_RDWR with BLK_O_RDWR).
 * Caps: RESIZE | ZERO_GROW | DISCARD. On success *out owns the fd.
 * Errors: -ENOENT/-EACCES/-EISDIR... (HAVM_E_NOTFOUND, HAVM_E_IO). */
int blk_backend_file_open(const char *path, unsigned flags, struct blk_backend **out,
			  struct havm_err *err) HAVM_MUST_CHECK;

/* Wraps a caller-owned memory buffer as a backend (tests, fuzzers).
 * @buf is borrowed, not copied; writes change it, and a write past @len or a
 * resize returns -ENOSPC (caps: none). */
int blk_backend_mem_open(void *buf, size_t len, int writable, struct blk_backend **out);

/* Convenience: be->ops->close(be); NULL-safe (returns 0). */
int blk_backend_close(struct blk_backend *be);

/* Loops pread/pwrite over the ops (kept for symmetry with havm_*_full). */
int blk_backend_pread(struct blk_backend *be, void *buf, size_t len, uint64_t off) HAVM_MUST_CHECK;
int blk_backend_pwrite(struct blk_backend *be, const void *buf, size_t len, uint64_t off) HAVM_MUST_CHECK;

/* ------------------------------------------------------------------------ */
/* (b) Virtual disks by sector                                               */

enum blk_format {
	BLK_FMT_RAW = 0,
	BLK_FMT_VHD_FIXED,
	BLK_FMT_VHD_DYNAMIC,
	BLK_FMT_VHD_DIFF,
};

struct blk_dev;

/* Opens the disk at @path: VHD (footer cookie "conectix" at the end, at 0, or
 * a 511-byte footer) or raw otherwise; BLK_O_FORMAT_RAW skips probing. A
 * differencing disk opens its parents read-only (locators W2ru, W2ku, then
 * the header's parent name beside the child), checks each parent's UUID and
 * refuses loops and chains deeper than 32.
 * On success *out owns everything it opened.
 * Errors (with @err naming the file and field):
 *   -ENOENT (HAVM_E_NOTFOUND)   file or parent missing
 *   -EINVAL (HAVM_E_FORMAT)     bad footer/header/BAT/locator, bad checksum
 *                               in both footer copies, BAT entry past the end
 *                               or overlapping, parent UUID mismatch
 *   -ELOOP  (HAVM_E_FORMAT)     parent chain loops or is too deep
 *   -EFBIG  (HAVM_E_UNSUPPORTED) beyond the 2040 GiB dynamic limit
 *   -EIO and other -errno (HAVM_E_IO)
 * Nothing is written to an image before it validated; a read-write open
 * writes nothing until the first blk_write/blk_discard. */
int blk_open(const char *path, unsigned flags, struct blk_dev **out,
	     struct havm_err *err) HAVM_MUST_CHECK;

/* As blk_open on a backend the caller opened (an iSCSI LUN region, memory).
 * On success the device takes ownership of @be (blk_close closes it); on
 * failure @be stays the caller's. Parents of a differencing disk are resolved
 * relative to @be->name when it is a path; otherwise use
 * blk_open_backend_parent. */
int blk_open_backend(struct blk_backend *be, unsigned flags, struct blk_dev **out,
		     struct havm_err *err) HAVM_MUST_CHECK;

/* As blk_open_backend for a differencing disk whose parent the caller opened
 * (e.g. both live on a LUN store). The parent's UUID is checked against the
 * child's header (-EINVAL, HAVM_E_FORMAT on mismatch). On success the child
 * owns @parent too; on failure both stay the caller's. */
int blk_open_backend_parent(struct blk_backend *be, struct blk_dev *parent, unsigned flags,
			    struct blk_dev **out, struct havm_err *err) HAVM_MUST_CHECK;

/* Reads @count sectors from @sector into @buf. A range past blk_size() gives
 * -ERANGE (nothing read). Unallocated blocks of a dynamic disk read as zeros
 * without I/O; those of a differencing disk come from the parent.
 * -EIO (or the backend's -errno) on I/O failure. */
int blk_read(struct blk_dev *d, uint64_t sector, void *buf, uint32_t count) HAVM_MUST_CHECK;

/* Writes @count sectors. Returns when the data is in the backend's cache:
 * durable only after a successful blk_flush (the guest's FLUSH). An all-zero
 * write to an unallocated block of a dynamic disk allocates nothing.
 * Errors: -ERANGE past the end, -EROFS read-only, -ENOSPC no room for a new
 * block (fixed-size backend) or past the 2040 GiB limit, -EIO. After an
 * -EIO the device is poisoned: every later call fails with -EIO (metadata
 * in memory may disagree with the disk; reopen to recover). */
int blk_write(struct blk_dev *d, uint64_t sector, const void *buf, uint32_t count) HAVM_MUST_CHECK;

/* Makes every write acknowledged so far durable, in the crash-safe order
 * (data, then sector bitmaps, then BAT entries; see docs/vhd.md).
 * -EIO (or -errno) when the backend's flush failed: the device is poisoned. */
int blk_flush(struct blk_dev *d) HAVM_MUST_CHECK;

/* Advisory: the guest no longer needs these sectors. Raw files punch a hole;
 * dynamic VHDs unmap whole blocks the range covers (they read as zero
 * afterwards; the space is reclaimed by compaction); partial blocks and
 * differencing disks keep their data. Returns 0 or as blk_write. */
int blk_discard(struct blk_dev *d, uint64_t sector, uint64_t count) HAVM_MUST_CHECK;

/* The guest-visible size in bytes (a multiple of 512). */
uint64_t blk_size(const struct blk_dev *d);

/* The format probed at open. */
enum blk_format blk_format(const struct blk_dev *d);

/* Name ("raw", "vhd-fixed", "vhd-dynamic", "vhd-differencing"). */
const char *blk_format_name(enum blk_format f);

/* The backend's name (usually the path); borrowed. */
const char *blk_name(const struct blk_dev *d);

/* The parent device of a differencing disk (borrowed; NULL otherwise). */
struct blk_dev *blk_parent(const struct blk_dev *d);

/* The VHD image behind a VHD device (borrowed; NULL for raw), for the tools
 * in vmcore/disk/vhd.h (info, check, later compact/merge). */
struct vhd_image *blk_vhd(const struct blk_dev *d);

/* Flushes pending metadata, closes parents and the backend, frees @d.
 * Returns the first error: nonzero means writes since the last successful
 * blk_flush may be lost. @d is freed in every case; NULL-safe. */
int blk_close(struct blk_dev *d);

#endif
