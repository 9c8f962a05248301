/* havm — VHD and block-layer internals shared by the files of vmcore/disk/.
 * Never included from another module. */
#ifndef HAVM_VMCORE_DISK_VHD_INT_H
#define HAVM_VMCORE_DISK_VHD_INT_H

#include <stdint.h>
#include <string.h>

#include "vmcore/disk/blk.h"
#include "vmcore/disk/vhd.h"

/* --- big-endian helpers --- */
static inline uint32_t vhd_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t vhd_be64(const uint8_t *p)
{
	return (uint64_t)vhd_be32(p) << 32 | vhd_be32(p + 4);
}
static inline uint16_t vhd_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline void vhd_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}
static inline void vhd_put64(uint8_t *p, uint64_t v)
{
	vhd_put32(p, (uint32_t)(v >> 32));
	vhd_put32(p + 4, (uint32_t)v);
}
static inline void vhd_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

/* --- sector bitmaps: MSB first (sector i is bit 7 - i%8 of byte i/8) --- */
static inline int vhd_bitmap_test(const uint8_t *bm, uint32_t i)
{
	return (bm[i >> 3] >> (7 - (i & 7))) & 1;
}
static inline void vhd_bitmap_set(uint8_t *bm, uint32_t i)
{
	bm[i >> 3] |= (uint8_t)(0x80u >> (i & 7));
}
/* Sets bits [first, first+n); returns 1 if any changed. */
int vhd_bitmap_set_range(uint8_t *bm, uint32_t first, uint32_t n);
/* Length of the run of equal bits starting at @first, at most @max. */
uint32_t vhd_bitmap_run(const uint8_t *bm, uint32_t first, uint32_t max);

/* 1 when @len bytes at @p are all zero (memcmp against itself shifted:
 * one pass at memcmp speed, which matters for convert and first touch). */
static inline int vhd_is_zero(const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t head = len < 16 ? len : 16;
	for (size_t i = 0; i < head; i++)
		if (b[i])
			return 0;
	return len <= 16 || memcmp(b, b + 16, len - 16) == 0;
}

/* --- the open image --- */

/* Where the footer in use came from (vhd_image_footer_source). */
enum vhd_footer_src { VHD_FOOTER_TAIL = 0, VHD_FOOTER_COPY = 1, VHD_FOOTER_SHORT = 2 };

struct vhd_image {
	struct blk_backend *be;     /* borrowed from the blk_dev */
	const char *name;           /* be->name */
	int rdwr;
	int poisoned;               /* an I/O error left memory != disk */
	struct vhd_footer footer;
	uint8_t footer_raw[VHD_FOOTER_SIZE];
	enum vhd_footer_src footer_src;
	uint64_t file_size;         /* backend size at open */
	uint64_t footer_off;        /* where the tail footer is (or belongs) */
	uint64_t size;              /* guest-visible bytes */
	/* dynamic / differencing */
	struct vhd_header hdr;
	uint32_t *bat;              /* host order, hdr.max_table_entries */
	uint32_t bat_entries;       /* entries that cover the disk */
	uint8_t *bat_dirty;         /* one flag per 512-byte BAT sector */
	uint32_t spb;               /* sectors per block */
	uint32_t bitmap_bytes;      /* bitmap size padded to 512 */
	uint64_t meta_end;          /* end of header, BAT and locators */
	uint64_t next_free;         /* byte offset where the next block goes */
	uint8_t **bm;               /* cached bitmaps (differencing), per block */
	uint8_t *bm_dirty;          /* per block: cached bitmap not on disk */
	uint32_t bm_cached;
	int meta_dirty;             /* some bitmap or BAT sector is dirty */
	struct blk_dev *parent;     /* differencing: owned */
	char *parent_path;
};

/* vhd_open.c: reads and validates footer, header, BAT of @be.
 * @img is zeroed and filled; on failure nothing is allocated. */
int vhd_image_load(struct vhd_image *img, struct blk_backend *be, int rdwr,
		   struct havm_err *err) HAVM_MUST_CHECK;
void vhd_image_unload(struct vhd_image *img);
/* Probes: 1 if @be holds a VHD (a footer cookie at the end, 511 from the
 * end, or at 0), 0 if not, <0 on I/O error. */
int vhd_probe(struct blk_backend *be);
/* Reads the footer at @off (512 bytes, or 511 when @short_footer). */
int vhd_read_footer_at(struct blk_backend *be, uint64_t off, int short_footer,
		       uint8_t raw[VHD_FOOTER_SIZE]) HAVM_MUST_CHECK;

/* vhd_bat.c: BAT load, validation, layout math. */
int vhd_bat_load(struct vhd_image *img, struct havm_err *err) HAVM_MUST_CHECK;
/* Offset of the first data byte of block @blk (BAT entry allocated). */
static inline uint64_t vhd_block_data_off(const struct vhd_image *img, uint32_t blk)
{
	return (uint64_t)img->bat[blk] * 512u + img->bitmap_bytes;
}
/* Writes the dirty BAT sectors (no flush). */
int vhd_bat_write_dirty(struct vhd_image *img) HAVM_MUST_CHECK;
/* Aligns a block start so its data is 4 KiB aligned (bitmap just before). */
uint64_t vhd_block_place(uint64_t from, uint32_t bitmap_bytes);

/* vhd_io.c: the blk_dev ops of VHD formats. */
int vhd_io_read(struct vhd_image *img, uint64_t sector, void *buf, uint32_t count) HAVM_MUST_CHECK;
int vhd_io_write(struct vhd_image *img, uint64_t sector, const void *buf, uint32_t count) HAVM_MUST_CHECK;
int vhd_io_flush(struct vhd_image *img) HAVM_MUST_CHECK;
int vhd_io_discard(struct vhd_image *img, uint64_t sector, uint64_t count) HAVM_MUST_CHECK;
/* Loads (and caches) the bitmap of allocated block @blk. */
int vhd_bitmap_get(struct vhd_image *img, uint32_t blk, uint8_t **out) HAVM_MUST_CHECK;

/* vhd_locator.c: finds and opens the parent of a differencing image. */
struct vhd_chain {
	uint8_t uuids[VHD_MAX_CHAIN_DEPTH + 1][16];
	int depth;
};
int vhd_parent_open(struct vhd_image *img, struct vhd_chain *chain, struct havm_err *err) HAVM_MUST_CHECK;
/* Candidate parent paths in lookup order (W2ru, W2ku, MacX, name beside
 * the child); returns the count, each a malloc'd string. */
int vhd_parent_candidates(struct vhd_image *img, char **out, int max);
/* Reads locator @i's payload decoded to a path (UTF-8, '/' separators). */
int vhd_locator_read(struct vhd_image *img, int i, char *out, size_t cap) HAVM_MUST_CHECK;

/* blk.c: the chain-aware open used by the parent lookup. */
int blk_open_chain(const char *path, unsigned flags, struct vhd_chain *chain,
		   struct blk_dev **out, struct havm_err *err) HAVM_MUST_CHECK;
/* The image's UUID for chain checks (NULL for raw). */
const uint8_t *blk_uuid(const struct blk_dev *d);

/* Current time as VHD seconds. */
uint32_t vhd_now(void);

/* vhd_convert.c: copies the guest view of @src into @dst (up to the smaller
 * size), skipping zero runs; *copied counts the bytes written. */
int vhd_copy_dev(struct blk_dev *src, struct blk_dev *dst, const struct vhd_tool_opts *o,
		 uint64_t *copied) HAVM_MUST_CHECK;

/* vhd_merge_marker.c: `<parent>.merge`, the merge's durable intent. Write
 * records @child_uuid and the grandchildren about to be re-pointed (atomic:
 * temp, fsync, rename, directory fsync); lists says whether the marker names
 * @child_uuid and lists @abs (a re-pointed grandchild of a killed run);
 * remove deletes it (absent: 0). */
int vhd_merge_marker_write(const char *parent, const uint8_t *child_uuid, char *const *grand, int n,
			   struct havm_err *err) HAVM_MUST_CHECK;
int vhd_merge_marker_lists(const char *parent, const uint8_t *child_uuid, const char *abs);
int vhd_merge_marker_remove(const char *parent) HAVM_MUST_CHECK;

/* vhd_create.c: parent fields of a differencing header (UUID, timestamp,
 * UTF-16BE name) and its W2ru/W2ku locator payloads for a child at
 * @child_abs (absolute) whose parent is @parent_path, opened as @parent. */
struct vhd_locator_payload {
	uint32_t code;
	uint8_t data[8192];
	int len;
};
int vhd_parent_fields(const char *child_abs, const char *parent_path, struct blk_dev *parent,
		      struct vhd_header *h, struct vhd_locator_payload *lp, int *nlp,
		      struct havm_err *err) HAVM_MUST_CHECK;

#endif
