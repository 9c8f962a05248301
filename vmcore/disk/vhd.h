/* havm — Microsoft VHD v1 images: structures, create, inspect, check.
 *
 * Reading and writing guest data goes through blk.h (blk_open, blk_read ...);
 * this header is for tools: `havm vhd create|info|check` and, later,
 * compact/merge/convert/resize. Layout facts and producer quirks:
 * /work/shared/reference/vhd-format.md; our policies: docs/vhd.md.
 * All on-disk integers are big-endian; the parsed structs hold host order. */
#ifndef HAVM_VMCORE_DISK_VHD_H
#define HAVM_VMCORE_DISK_VHD_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "vmcore/disk/blk.h"

#define VHD_FOOTER_SIZE 512u
#define VHD_HEADER_SIZE 1024u
#define VHD_COOKIE "conectix"
#define VHD_HEADER_COOKIE "cxsparse"
#define VHD_VERSION 0x00010000u
#define VHD_FEATURES_RESERVED 0x2u
#define VHD_FEATURES_TEMPORARY 0x1u
#define VHD_BAT_UNUSED 0xFFFFFFFFu
#define VHD_DEFAULT_BLOCK_SIZE (2u * 1024 * 1024)
#define VHD_MAX_BLOCK_SIZE (256u * 1024 * 1024) /* our read limit */
#define VHD_EPOCH_UNIX 946684800 /* 2000-01-01 00:00:00 UTC */
#define VHD_CREATOR_HAVM "havm"
#define VHD_CREATOR_VERSION 0x00010000u
#define VHD_MAX_CHAIN_DEPTH 32
#define VHD_LOCATOR_COUNT 8
/* Spec: "The maximum size of a dynamic hard disk is 2040 GB". */
#define VHD_MAX_DYNAMIC_SIZE (2040ull << 30)
/* 65535 x 16 x 255 sectors: the CHS ceiling (127 GiB, "ATA 127-GB limit"). */
#define VHD_CHS_MAX_SECTORS (65535ull * 16 * 255)

enum vhd_type {
	VHD_TYPE_NONE = 0,
	VHD_TYPE_FIXED = 2,
	VHD_TYPE_DYNAMIC = 3,
	VHD_TYPE_DIFF = 4,
};

/* Parent locator platform codes. */
#define VHD_PLAT_NONE 0u
#define VHD_PLAT_WI2R 0x57693272u /* deprecated, ASCII relative */
#define VHD_PLAT_WI2K 0x5769326Bu /* deprecated, ASCII absolute */
#define VHD_PLAT_W2RU 0x57327275u /* UTF-16LE relative ".\dir\p.vhd" */
#define VHD_PLAT_W2KU 0x57326B75u /* UTF-16LE absolute */
#define VHD_PLAT_MAC 0x4D616320u
#define VHD_PLAT_MACX 0x4D616358u /* UTF-8 file:// URL */

struct vhd_footer {
	char cookie[8];
	uint32_t features;
	uint32_t version;
	uint64_t data_offset;
	uint32_t timestamp;       /* seconds since 2000-01-01 UTC */
	char creator_app[4];
	uint32_t creator_version;
	uint32_t creator_os;
	uint64_t original_size;
	uint64_t current_size;
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;          /* per track */
	uint32_t type;            /* enum vhd_type */
	uint32_t checksum;        /* as stored */
	uint8_t uuid[16];
	uint8_t saved_state;
	uint8_t reserved[427];    /* byte 85.. as stored (blktap: 85 = hidden) */
};

struct vhd_locator {
	uint32_t code;
	uint32_t data_space;      /* as stored: bytes, or sectors when < 512 */
	uint32_t data_len;        /* bytes */
	uint32_t reserved;
	uint64_t data_offset;
};

struct vhd_header {
	char cookie[8];
	uint64_t data_offset;
	uint64_t table_offset;
	uint32_t version;
	uint32_t max_table_entries;
	uint32_t block_size;
	uint32_t checksum;
	uint8_t parent_uuid[16];
	uint32_t parent_timestamp;
	uint32_t reserved1;
	uint8_t parent_name[512]; /* UTF-16BE as stored */
	struct vhd_locator loc[VHD_LOCATOR_COUNT];
	uint8_t reserved2[256];
};

/* --- footer and header codecs (vhd_footer.c, vhd_header.c) --- */

/* One's complement of the byte sum of @len bytes, skipping the 4-byte
 * checksum field at @csum_off. */
uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t csum_off);

/* Decodes 512 bytes (no validation). */
void vhd_footer_decode(const uint8_t buf[VHD_FOOTER_SIZE], struct vhd_footer *f);
/* Encodes @f into 512 bytes and stores the computed checksum in both. */
void vhd_footer_encode(struct vhd_footer *f, uint8_t buf[VHD_FOOTER_SIZE]);
/* Checks what a reader needs: cookie, checksum (over @raw), version, type,
 * data offset. -EINVAL with @err naming @name, @off and the field. */
int vhd_footer_validate(const struct vhd_footer *f, const uint8_t raw[VHD_FOOTER_SIZE],
			const char *name, uint64_t off, struct havm_err *err) HAVM_MUST_CHECK;

void vhd_header_decode(const uint8_t buf[VHD_HEADER_SIZE], struct vhd_header *h);
void vhd_header_encode(struct vhd_header *h, uint8_t buf[VHD_HEADER_SIZE]);
/* Cookie, checksum, version, block size (power of two, 512..256 MiB), table
 * offset aligned. -EINVAL with a message naming the field. */
int vhd_header_validate(const struct vhd_header *h, const uint8_t raw[VHD_HEADER_SIZE],
			const char *name, uint64_t off, struct havm_err *err) HAVM_MUST_CHECK;

/* --- CHS and size policy (vhd_chs.c) --- */

struct vhd_chs {
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
};

/* The spec appendix algorithm (floor); clamps at VHD_CHS_MAX_SECTORS. */
struct vhd_chs vhd_chs_from_sectors(uint64_t total_sectors);
/* cylinders x heads x sectors, in sectors. */
uint64_t vhd_chs_sectors(struct vhd_chs g);
/* The smallest size >= @bytes whose floor CHS product equals it (QEMU's
 * round-up); -ERANGE when @bytes is past the CHS ceiling (127 GiB), where
 * no geometry can carry the size and only current_size can. */
int vhd_chs_round_up(uint64_t bytes, uint64_t *out) HAVM_MUST_CHECK;
/* The guest-visible size of an image per our read rule (docs/vhd.md):
 * CHS product for creators "vpc " and "qemu" unless the geometry is the
 * maximum, current_size otherwise (QEMU 10's allowlist). */
uint64_t vhd_footer_virtual_size(const struct vhd_footer *f);

/* --- UTF-16 helpers for parent names and locators (vhd_locator.c) --- */

/* UTF-8 -> UTF-16 (@big_endian or little), no NUL. Returns bytes written
 * (>= 0), -ENAMETOOLONG when @cap is too small, -EILSEQ on bad UTF-8. */
int vhd_utf16_encode(const char *utf8, uint8_t *out, size_t cap, int big_endian);
/* UTF-16 -> UTF-8 with NUL; stops at a NUL unit. Unpaired surrogates become
 * U+FFFD. Returns the length (>= 0) or -ENAMETOOLONG. */
int vhd_utf16_decode(const uint8_t *in, size_t len, int big_endian, char *out, size_t cap);

/* --- creating images (vhd_create.c) --- */

enum vhd_size_policy {
	/* Default: round the size up to a CHS-exact value (below 127 GiB) so
	 * every reader agrees: qemu < 10 (CHS for unknown creators), libvhdi
	 * (original_size), Hyper-V and the spec (current_size). */
	VHD_SIZE_CHS_ROUND_UP = 0,
	/* current_size = the size asked (a multiple of 512), floor CHS: exact
	 * for Hyper-V, Azure, libvhdi, QEMU >= 10; Debian 12's qemu-img 7.2
	 * reads it short by up to one track group. */
	VHD_SIZE_EXACT,
};

typedef void (*vhd_progress_fn)(void *arg, uint64_t done, uint64_t total);

struct vhd_create_opts {
	enum vhd_type type;          /* FIXED, DYNAMIC or DIFF */
	uint64_t size;               /* bytes; ignored for DIFF (the parent's) */
	uint32_t block_size;         /* 0 = 2 MiB (DIFF: the parent's, if dynamic) */
	const char *parent;          /* DIFF: parent path */
	enum vhd_size_policy size_policy;
	int sparse;                  /* FIXED on a file: leave a hole, don't write zeros */
	const uint8_t *uuid;         /* 16 bytes, NULL = random */
	uint32_t timestamp;          /* VHD seconds, 0 = now */
	vhd_progress_fn progress;    /* optional, called during FIXED zero-fill */
	void *progress_arg;
};

/* Creates @path (must not exist: -EEXIST, HAVM_E_STATE). On failure the
 * partial file is removed. Errors: -EINVAL (HAVM_E_CONFIG) bad size or
 * block size; -EFBIG past the 2040 GiB dynamic limit; parent errors as
 * blk_open; -errno (HAVM_E_IO). *final_size (may be NULL) gets the size
 * written after the size policy. */
int vhd_create(const char *path, const struct vhd_create_opts *o, uint64_t *final_size,
	       struct havm_err *err) HAVM_MUST_CHECK;

/* As vhd_create on an opened, writable backend (a LUN region: the image
 * then spans the whole region, its footer at the end). For DIFF, @parent_dev
 * is the opened parent and o->parent only names it in the locators. */
int vhd_create_backend(struct blk_backend *be, const struct vhd_create_opts *o,
		       struct blk_dev *parent_dev, uint64_t *final_size,
		       struct havm_err *err) HAVM_MUST_CHECK;

/* --- inspecting an open image (vhd_open.c) --- */

struct vhd_image;

const struct vhd_footer *vhd_image_footer(const struct vhd_image *img);
/* NULL for fixed disks. */
const struct vhd_header *vhd_image_header(const struct vhd_image *img);
/* BAT entries in memory (host order), count in *n; NULL for fixed. */
const uint32_t *vhd_image_bat(const struct vhd_image *img, uint32_t *n);
/* The parent path the chain resolved to (NULL if none/not opened). */
const char *vhd_image_parent_path(const struct vhd_image *img);
/* 1 when the tail footer was bad and the copy at 0 was used; 2 when the
 * footer was 511 bytes long. 0 normally. */
int vhd_image_footer_source(const struct vhd_image *img);
/* The parent name from the header, decoded to UTF-8 (into @buf). */
int vhd_image_parent_name(const struct vhd_image *img, char *buf, size_t cap);

/* --- check (vhd_check.c) --- */

enum vhd_check_level { VHD_CHECK_INFO, VHD_CHECK_WARN, VHD_CHECK_ERROR };

struct vhd_check_item {
	enum vhd_check_level level;
	char msg[256];
};

struct vhd_check_report {
	struct vhd_check_item *items;
	size_t count, cap;
	unsigned errors, warnings;
	uint64_t leaked_bytes;       /* file space no BAT entry uses */
	uint32_t allocated_blocks;
	int repaired;                /* --repair rewrote the tail footer */
};

/* Runs the full check list (docs/vhd.md) on @path. Opens read-only unless
 * @repair, which rewrites a bad tail footer from the copy at 0 (dynamic and
 * differencing only) and nothing else. Returns 0 when the check ran (look
 * at report->errors), or -errno when the file could not be read at all. */
int vhd_check(const char *path, int repair, struct vhd_check_report *report,
	      struct havm_err *err) HAVM_MUST_CHECK;
void vhd_check_report_free(struct vhd_check_report *r);

/* --- tools: convert, compact, merge, resize (vhd_convert.c, vhd_compact.c,
 *     vhd_merge.c, vhd_resize.c; policies in docs/vhd.md) --- */

enum vhd_out_type { VHD_OUT_RAW, VHD_OUT_FIXED, VHD_OUT_DYNAMIC };

struct vhd_tool_opts {
	vhd_progress_fn progress;    /* optional: bytes done of total */
	void *progress_arg;
	enum vhd_size_policy size_policy; /* convert from raw, resize */
	uint32_t block_size;         /* convert to dynamic: 0 = 2 MiB */
	int force;                   /* merge: even when the parent has other children */
	int keep_child;              /* merge: don't delete the child afterwards */
};

struct vhd_tool_stats {
	uint64_t bytes_in, bytes_out;    /* file sizes before and after */
	uint32_t blocks_in, blocks_out;  /* allocated blocks before and after */
	uint64_t bytes_copied;           /* guest bytes written */
	uint64_t final_size;             /* guest size of the result */
	int reparented;                  /* merge: grandchildren re-pointed */
};

/* Copies the guest view of @src (a whole chain is flattened) into the new
 * file @dst (must not exist) as raw, fixed or dynamic, skipping zero runs
 * (holes in raw/fixed, unallocated blocks in dynamic). On failure @dst is
 * removed. */
int vhd_convert(const char *src, const char *dst, enum vhd_out_type type, const struct vhd_tool_opts *o,
		struct vhd_tool_stats *st, struct havm_err *err) HAVM_MUST_CHECK;

/* Rewrites dynamic or differencing @path without all-zero blocks (dynamic)
 * or sectors equal to the parent (differencing), keeping its UUID: written
 * to PATH.compact.tmp, fsynced, then renamed over @path, so a crash leaves
 * either the old or the new image. Refused (HAVM_E_STATE) while the saved
 * state flag is 1; fixed and raw disks: HAVM_E_UNSUPPORTED. */
int vhd_compact(const char *path, const struct vhd_tool_opts *o, struct vhd_tool_stats *st,
		struct havm_err *err) HAVM_MUST_CHECK;

/* Merges differencing @child into its parent, run by run via the bitmap
 * (idempotent: a rerun after a crash gives the same result), re-points the
 * child's own children (found beside it) to the parent, then deletes the
 * child unless o->keep_child. Refused (HAVM_E_STATE) when VHDs in the
 * directories of the child or the parent name the parent as theirs (they
 * would be invalidated), unless o->force. */
int vhd_merge(const char *child, const struct vhd_tool_opts *o, struct vhd_tool_stats *st,
	      struct havm_err *err) HAVM_MUST_CHECK;

/* Grows fixed or dynamic @path to @size (after o->size_policy). Shrinking,
 * differencing disks and saved state 1 are refused. */
int vhd_resize(const char *path, uint64_t size, const struct vhd_tool_opts *o, struct vhd_tool_stats *st,
	       struct havm_err *err) HAVM_MUST_CHECK;

#endif
