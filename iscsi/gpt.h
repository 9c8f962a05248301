/* havm — GUID Partition Tables (UEFI 2.x, chapter 5) on a block backend:
 * the layout of the VM store on a LUN (docs/store.md).
 *
 * A disk of N 512-byte sectors holds
 *   LBA 0          protective MBR (one partition of type 0xEE)
 *   LBA 1          primary header        LBA 2..33    primary entry array
 *   LBA N-33..N-2  backup entry array    LBA N-1      backup header
 * with 128 entries of 128 bytes. Each header carries a CRC32 of itself and
 * of its entry array, so a half-written copy is detected and the other one
 * is used: gpt_write() writes the primary copy, flushes, then the backup copy
 * and flushes again, so at every instant at least one copy is valid and it
 * is either the old or the new table, never a mix.
 *
 * Reading is lenient (the backup header when the primary is bad) and
 * validating is strict: every rule broken gets an error naming the copy,
 * the field or entry, what was expected and what was found.
 * Only 512-byte sectors and 128-byte entries are supported. */
#ifndef HAVM_ISCSI_GPT_H
#define HAVM_ISCSI_GPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "vmcore/disk/blk.h"

#define GPT_SECTOR 512u
#define GPT_ENTRIES 128u          /* entries we write (and the most we read) */
#define GPT_ENTRY_SIZE 128u
#define GPT_ARRAY_SECTORS 32u     /* GPT_ENTRIES * GPT_ENTRY_SIZE / GPT_SECTOR */
#define GPT_NAME_UNITS 36u        /* UTF-16 code units in an entry's name */
#define GPT_NAME_MAX (GPT_NAME_UNITS * 3) /* UTF-8 bytes, without the NUL */
#define GPT_MIN_SECTORS 68u       /* MBR + 2 * (header + array) + 1 usable */

/* One partition entry. An entry whose type is all zero is unused. */
struct gpt_part {
	uint8_t type[16];   /* type GUID, in the usual textual byte order */
	uint8_t uuid[16];   /* unique partition GUID, textual byte order */
	uint64_t first_lba; /* inclusive */
	uint64_t last_lba;  /* inclusive */
	uint64_t attrs;
	char name[GPT_NAME_MAX + 1]; /* UTF-8 */
};

struct gpt_table {
	uint8_t disk_guid[16];
	uint64_t dev_sectors;       /* the device's size in sectors when read */
	uint64_t first_usable, last_usable;
	uint32_t num_entries;       /* as read (<= GPT_ENTRIES); written as 128 */
	struct gpt_part part[GPT_ENTRIES];
};

/* Which copies gpt_read() found valid, and whether they agree. */
enum gpt_read_state {
	GPT_PRIMARY_OK = 1u << 0,
	GPT_BACKUP_OK = 1u << 1,
	GPT_COPIES_DIFFER = 1u << 2, /* both valid but not the same table */
};

bool gpt_part_used(const struct gpt_part *p);

/* Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into 16 bytes (textual order);
 * -EINVAL if malformed. gpt_guid_format writes 37 bytes. */
int gpt_guid_parse(const char *text, uint8_t out[16]);
void gpt_guid_format(const uint8_t g[16], char out[37]);

/* A fresh empty table for a device of @dev_sectors sectors with a random
 * disk GUID. -ENOSPC (HAVM_E_CONFIG) when the device is too small. */
int gpt_init(struct gpt_table *t, uint64_t dev_sectors, struct havm_err *err) HAVM_MUST_CHECK;

/* Strict checks of a table before it is written or after it was decoded:
 * the usable range lies inside the device and outside both entry arrays,
 * every used entry has first <= last inside the usable range, no two used
 * entries overlap, and names are valid UTF-8 that fits in 36 UTF-16 units.
 * -EINVAL (HAVM_E_FORMAT) naming the entry (index from 0) otherwise. */
int gpt_validate(const struct gpt_table *t, struct havm_err *err) HAVM_MUST_CHECK;

/* Decodes one copy from memory: @hdr is the header sector read at @hdr_lba,
 * @array the entry array it points to (@array_len bytes, at least
 * num_entries * 128). Checks signature, revision, sizes, both CRCs, the
 * header's own LBA, then gpt_validate(). Used by gpt_read() and the fuzzer.
 * The helper gpt_array_location() tells where a header's array is. */
int gpt_decode(const uint8_t *hdr, uint64_t hdr_lba, uint64_t dev_sectors, const uint8_t *array,
	       size_t array_len, struct gpt_table *out, struct havm_err *err) HAVM_MUST_CHECK;
int gpt_array_location(const uint8_t *hdr, uint64_t dev_sectors, uint64_t *lba, uint32_t *sectors,
		       struct havm_err *err) HAVM_MUST_CHECK;

/* Encodes the header sector for the copy at @hdr_lba (1 = primary,
 * dev_sectors-1 = backup) and the 32-sector entry array (@array, 16 KiB). */
void gpt_encode(const struct gpt_table *t, bool primary, uint8_t hdr[GPT_SECTOR],
		uint8_t array[GPT_ARRAY_SECTORS * GPT_SECTOR]);

/* Reads the table of @be: the primary copy, and the backup at the device's
 * last sector. Returns a mask of enum gpt_read_state (>= 1) and the primary
 * table when it is valid, else the backup. Neither valid: -EINVAL
 * (HAVM_E_FORMAT) with both reasons in the message. -EIO etc. on I/O. */
int gpt_read(struct blk_backend *be, struct gpt_table *out, struct havm_err *err) HAVM_MUST_CHECK;

/* Writes @t (validated first) as primary array, primary header, flush,
 * backup array, backup header, flush — each step a fault point
 * ("gpt.primary_array", "gpt.primary_header", "gpt.primary_flushed",
 * "gpt.backup_array", "gpt.backup_header"). With @pmbr the protective MBR
 * is written first (formatting). The table's layout is normalised to ours
 * (128 entries at LBA 2 and N-33) and t->dev_sectors must match @be. */
int gpt_write(struct blk_backend *be, const struct gpt_table *t, bool pmbr,
	      struct havm_err *err) HAVM_MUST_CHECK;

/* Byte-wise comparison of the parts that are written (for COPIES_DIFFER). */
bool gpt_equal(const struct gpt_table *a, const struct gpt_table *b);

#endif
