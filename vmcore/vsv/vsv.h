/* vmcore/vsv — the .vsv saved-state container: writer, reader, RAM passes.
 *
 * A .vsv holds one machine's state: a header with a machine description
 * (RAM size, CPU model, every device with its section version, every disk
 * with its identity and write generation), one section per device (opaque,
 * versioned payloads written by the device's own save code; see fields.h
 * and vsv_cpu.h), RAM as page runs with zero pages elided, any number of
 * incremental RAM passes (later passes override earlier ones), and a
 * trailer. Every record carries a CRC32C. Byte layout: docs/vsv.md.
 *
 * Writing is atomic for files: vsv_writer_open() writes "<path>.tmp",
 * vsv_writer_commit() fsyncs it, renames it over <path> and fsyncs the
 * directory, so a crash at any point leaves the previous <path> whole.
 * vsv_writer_open_sink() writes the same bytes to any sequential sink
 * (a migration stream, a LUN store region); durability is then the sink's.
 *
 * Reading validates before use: vsv_reader_open() checks magic, version,
 * every header CRC, the trailer (a truncated file fails at once), every
 * device section's CRC, the RAM pass tables, and the machine description
 * against the caller's; vsv_ram_load() checks the page data's CRC while
 * loading. A file that fails any check yields an error and no state.
 *
 * Errors: negative errno; calls with a struct havm_err fill it with
 *   HAVM_E_FORMAT       malformed, truncated or corrupted file (-EBADMSG)
 *   HAVM_E_UNSUPPORTED  other major, newer minor, newer device version (-ENOTSUP)
 *   HAVM_E_CONFIG       the file is for a different machine (-EINVAL)
 *   HAVM_E_STATE        a disk has been written since the save (-ESTALE)
 *   HAVM_E_NOTFOUND     no such file or section (-ENOENT)
 *   HAVM_E_IO           read/write/fsync failures (-errno)
 *
 * Threading: a writer or reader is used by one thread at a time. */
#ifndef HAVM_VMCORE_VSV_VSV_H
#define HAVM_VMCORE_VSV_VSV_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define VSV_VERSION_MAJOR 1
#define VSV_VERSION_MINOR 1

#define VSV_PAGE_SIZE 4096u
#define VSV_NAME_MAX 16        /* names hold up to 15 characters + NUL */
#define VSV_MODEL_MAX 32
#define VSV_MAX_DEVICES 64
#define VSV_MAX_DISKS 16
#define VSV_STATE_MAX (16u << 20) /* largest device section payload */
#define VSV_RAM_SECTION "ram"     /* the name of RAM pass sections */

/* One section-owning component (CPU, PIC, UART...). @version is the
 * version of its section format: on write, the one being written; in the
 * expected description given to the reader, the newest this build reads. */
struct vsv_device_desc {
	char name[VSV_NAME_MAX];
	uint32_t instance;
	uint32_t version;
};

/* A disk the state belongs to: the saved guest has seen the disk exactly
 * at @generation (the disk's write generation); @uuid is its identity
 * (the VHD footer's unique id). */
struct vsv_disk_desc {
	char slot[VSV_NAME_MAX];  /* "ide0", "vda"... */
	uint8_t uuid[16];
	uint64_t generation;
};

/* vsv_machine_desc.flags: the disks listed are provisional (pre-copy: the
 * guest may write them while RAM is copied); the writer must end the file
 * with vsv_write_final_disks(), whose record supersedes them. Such a file
 * is format 1.1 (older readers refuse it by its version); others stay 1.0. */
#define VSV_DESC_FINAL_DISKS 1u

struct vsv_machine_desc {
	uint64_t ram_size;        /* bytes, a multiple of VSV_PAGE_SIZE */
	char cpu_model[VSV_MODEL_MAX];
	uint32_t device_count;
	uint32_t disk_count;
	struct vsv_device_desc devices[VSV_MAX_DEVICES];
	struct vsv_disk_desc disks[VSV_MAX_DISKS];
	uint32_t flags;           /* VSV_DESC_FINAL_DISKS; not part of the record */
};

/* Appends @name/@instance/@version to @d; -ENOSPC when full, -EINVAL when
 * the name is empty or too long. Helpers for building descriptions. */
int vsv_desc_add_device(struct vsv_machine_desc *d, const char *name, uint32_t instance,
			uint32_t version) HAVM_MUST_CHECK;
int vsv_desc_add_disk(struct vsv_machine_desc *d, const char *slot, const uint8_t uuid[16],
		      uint64_t generation) HAVM_MUST_CHECK;

/* --- writer ----------------------------------------------------------- */

struct vsv_writer;

/* Receives the file's bytes in order; returns 0 or a negative errno. */
typedef int vsv_write_fn(void *opaque, const void *buf, size_t len);

/* Starts a .vsv for @desc (copied) in "<path>.tmp" (created 0640 or
 * truncated). Nothing at @path changes until vsv_writer_commit(). */
int vsv_writer_open(const char *path, const struct vsv_machine_desc *desc,
		    struct vsv_writer **out, struct havm_err *err) HAVM_MUST_CHECK;

/* The same, writing to @fn(@opaque, ...) instead of a file. @label names
 * the destination in messages. The sink must outlive the writer. */
int vsv_writer_open_sink(vsv_write_fn *fn, void *opaque, const char *label,
			 const struct vsv_machine_desc *desc, struct vsv_writer **out,
			 struct havm_err *err) HAVM_MUST_CHECK;

/* A device section: begin, any number of writes, end. (@name, @instance)
 * must be in the description with this @version, and appear once. The
 * payload is buffered until end (at most VSV_STATE_MAX bytes). After any
 * failure the writer stays failed: every later call returns the same
 * error and commit refuses; only abort remains. */
int vsv_section_begin(struct vsv_writer *w, const char *name, uint32_t instance,
		      uint32_t version, struct havm_err *err) HAVM_MUST_CHECK;
int vsv_section_write(struct vsv_writer *w, const void *buf, size_t len) HAVM_MUST_CHECK;
int vsv_section_end(struct vsv_writer *w, struct havm_err *err) HAVM_MUST_CHECK;

/* Ends a VSV_DESC_FINAL_DISKS file: records the disks as they are now
 * (@now: the same slots as the description, in the same order; uuid and
 * generation taken from it), after the last RAM pass and device section.
 * Nothing but commit may follow. A reader checks these instead of the
 * description's. */
int vsv_write_final_disks(struct vsv_writer *w, const struct vsv_machine_desc *now,
			  struct havm_err *err) HAVM_MUST_CHECK;

/* Writes one RAM pass of @size bytes (the description's RAM size) at
 * @ram. @dirty NULL: a full pass (every page). Otherwise only the pages
 * whose bit is set (bit i of dirty[i / 64] = page i, as cpu_ops.dirty_log).
 * The first pass of a file must be full; later passes override earlier
 * ones page by page. Zero pages are stored as runs without data. Page data
 * is copied through a buffer before it is checksummed, so a guest still
 * running (pre-copy) cannot make the checksum disagree with the bytes;
 * pages it changes meanwhile must be in the next pass's bitmap.
 * Returns the number of pages the pass covered (>= 0) or a negative errno. */
int64_t vsv_ram_pass(struct vsv_writer *w, const uint8_t *ram, uint64_t size,
		     const uint64_t *dirty, struct havm_err *err) HAVM_MUST_CHECK;
/* The same, with @zero_hint (may be NULL; same layout as @dirty): pages
 * whose bit is set are recorded as zero without being read. The caller
 * guarantees they read as zero now (machine_ram_untouched()); a page
 * written after the hint was taken must be in a later pass's @dirty. */
int64_t vsv_ram_pass_sparse(struct vsv_writer *w, const uint8_t *ram, uint64_t size,
			    const uint64_t *dirty, const uint64_t *zero_hint,
			    struct havm_err *err) HAVM_MUST_CHECK;

/* Hands the buffered bytes to the sink and, for a file, fdatasyncs what
 * is written so far, so that commit's fsync has only the rest to flush.
 * Pre-copy calls it after each live pass, while the guest still runs:
 * the flush leaves the downtime. Commit still fsyncs; durability needs no
 * call to this. */
int vsv_writer_sync(struct vsv_writer *w, struct havm_err *err) HAVM_MUST_CHECK;

/* Every description device has had its section? Then writes the trailer;
 * for a file, fsyncs it, renames it over the path and fsyncs the
 * directory. Frees @w in every case. On failure the previous file at the
 * path is untouched (unless the failure is the final directory fsync:
 * the new file is in place but may not survive a power cut). */
int vsv_writer_commit(struct vsv_writer *w, struct havm_err *err) HAVM_MUST_CHECK;

/* Drops the writer and removes "<path>.tmp". @w may be NULL. */
void vsv_writer_abort(struct vsv_writer *w);

/* Bytes emitted so far (the next byte's offset in the file). */
uint64_t vsv_writer_offset(const struct vsv_writer *w);

/* --- reader ----------------------------------------------------------- */

struct vsv_reader;

/* Reads @len bytes at @off into @buf: 0, -EIO past the end, or -errno. */
typedef int vsv_read_fn(void *opaque, void *buf, size_t len, uint64_t off);

/* Opens and validates @path (see the top of this file). @expected may be
 * NULL to skip the machine comparison (inspection tools); otherwise the
 * file must describe the same RAM size, CPU model, device set (each file
 * section version <= the expected one) and disks (same uuid and
 * generation). */
int vsv_reader_open(const char *path, const struct vsv_machine_desc *expected,
		    struct vsv_reader **out, struct havm_err *err) HAVM_MUST_CHECK;

/* The same over @len bytes at @buf (borrowed until close) — for fuzzing
 * and for state received into memory. */
int vsv_reader_open_mem(const void *buf, size_t len, const char *label,
			const struct vsv_machine_desc *expected, struct vsv_reader **out,
			struct havm_err *err) HAVM_MUST_CHECK;

/* The same over any random-access source of @size bytes. */
int vsv_reader_open_source(vsv_read_fn *fn, void *opaque, uint64_t size, const char *label,
			   const struct vsv_machine_desc *expected, struct vsv_reader **out,
			   struct havm_err *err) HAVM_MUST_CHECK;

/* Closes the file (if any) and frees @r; @r may be NULL. */
void vsv_reader_close(struct vsv_reader *r);

struct vsv_file_info {
	uint16_t major, minor;
	uint32_t machine_digest;  /* CRC32C of the machine description record */
	uint64_t created_ns;      /* CLOCK_REALTIME when the writer opened */
	uint64_t file_size;
	uint32_t section_count;   /* device sections + RAM passes */
	uint32_t ram_passes;
	uint64_t ram_data_pages;  /* pages stored with data, all passes */
};

/* The description stored in the file (its disks replaced by the final
 * disks record when the file has one), and facts about the file. */
const struct vsv_machine_desc *vsv_reader_desc(const struct vsv_reader *r);
void vsv_reader_info(const struct vsv_reader *r, struct vsv_file_info *info);

/* VSV_KIND_DISKS: the final disks record (format 1.1, docs/vsv.md). */
enum vsv_section_kind { VSV_KIND_STATE = 1, VSV_KIND_RAM = 2, VSV_KIND_DISKS = 3 };

struct vsv_section_info {
	enum vsv_section_kind kind;
	char name[VSV_NAME_MAX];
	uint32_t instance;
	uint32_t version;
	uint64_t offset;          /* of the section header in the file */
	uint64_t length;          /* payload bytes */
	uint32_t pass;            /* RAM: pass number */
	uint32_t runs;            /* RAM: runs in the pass */
	uint64_t data_pages;      /* RAM: pages stored with data */
	uint64_t zero_pages;      /* RAM: pages recorded as zero */
};

/* Sections in file order; NULL past the end. */
size_t vsv_reader_section_count(const struct vsv_reader *r);
const struct vsv_section_info *vsv_reader_section_at(const struct vsv_reader *r, size_t i);

/* The payload of device section (@name, @instance), already CRC-checked:
 * *data is borrowed until vsv_reader_close(). -ENOENT if absent. */
int vsv_reader_section(const struct vsv_reader *r, const char *name, uint32_t instance,
		       const void **data, size_t *len, uint32_t *version,
		       struct havm_err *err) HAVM_MUST_CHECK;

#define VSV_RAM_ZEROED 1u  /* @ram is known to be all zero (fresh mmap) */
#define VSV_RAM_MAP 2u     /* map pass 0's page data from the file (see below) */

/* Loads every RAM pass in order into @ram (@size = the description's RAM
 * size), with large sequential reads straight into @ram, checking each
 * pass's data CRC32C. With VSV_RAM_ZEROED, zero runs of the first pass are
 * not touched (a fresh anonymous mmap stays unpopulated there). On error
 * @ram holds a partial image and must not be run.
 *
 * VSV_RAM_MAP (file readers, @ram page aligned and owned by an mmap of the
 * caller; implies VSV_RAM_ZEROED): pass 0's data runs of 64 pages or more
 * are mapped copy-on-write from the file (MAP_PRIVATE | MAP_FIXED) instead
 * of read (shorter runs are read, which bounds the number of mappings),
 * so restore time no longer grows with RAM: pages load on first touch, as
 * in Firecracker. The price: pass 0's page data is not checksummed before
 * the guest runs (everything else is); run vsv_reader_verify() beforehand
 * or alongside when that matters. The mapping keeps the file's inode
 * alive; since writers replace a .vsv by rename, never in place, the mapped
 * bytes cannot change underneath. Falls back to reading when the reader is
 * not a file or @ram is not page aligned. */
int vsv_ram_load(struct vsv_reader *r, uint8_t *ram, uint64_t size, unsigned flags,
		 struct havm_err *err) HAVM_MUST_CHECK;

/* Reads every RAM pass's data and checks its CRC without loading it. */
int vsv_reader_verify(struct vsv_reader *r, struct havm_err *err) HAVM_MUST_CHECK;

#endif
