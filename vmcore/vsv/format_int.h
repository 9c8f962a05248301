/* vmcore/vsv — the on-disk layout of a .vsv file (docs/vsv.md has the byte
 * tables). Everything is little-endian; offsets below are byte offsets
 * inside each record. Shared by the writer and the reader only. */
#ifndef HAVM_VMCORE_VSV_FORMAT_INT_H
#define HAVM_VMCORE_VSV_FORMAT_INT_H

#include <stdint.h>
#include <string.h>

#include "vmcore/vsv/crc32c_int.h"
#include "vmcore/vsv/vsv.h"

#define VSV_MAGIC "HAVM-VSV"          /* 8 bytes, file offset 0 */

/* File header: 64 bytes, then the machine description record. */
#define VSV_HDR_SIZE 64
#define VSV_HDR_MAGIC 0      /* 8  "HAVM-VSV" */
#define VSV_HDR_MAJOR 8      /* 2 */
#define VSV_HDR_MINOR 10     /* 2 */
#define VSV_HDR_FLAGS 12     /* 4  VSV_FLAG_*; 0 in 1.0 */
#define VSV_HDR_FIRST 16     /* 4  offset of the first section */
#define VSV_HDR_DESC_LEN 20  /* 4  machine description length */
#define VSV_HDR_DESC_CRC 24  /* 4  CRC32C of the description = machine digest */
#define VSV_HDR_RSVD0 28     /* 4 */
#define VSV_HDR_CREATED 32   /* 8  CLOCK_REALTIME ns at writer open */
#define VSV_HDR_CRC 60       /* 4  CRC32C of bytes 0..59 */

/* Machine description record (after the header). */
#define VSV_DESC_FIXED 56        /* ram_size 8, page_size 4, cpu_model 32, devices 4, disks 4, rsvd 4 */
#define VSV_DESC_DEVICE 24       /* name 16, instance 4, version 4 */
#define VSV_DESC_DISK 40         /* slot 16, uuid 16, generation 8 */
#define VSV_DESC_MAX (VSV_DESC_FIXED + VSV_MAX_DEVICES * VSV_DESC_DEVICE + VSV_MAX_DISKS * VSV_DESC_DISK)

/* Header flags (1.1): the description's disks are provisional; the file's
 * last section is the final disks record (kind VSV_KIND_DISKS, name
 * "disks", instance 0, version 1, payload: one VSV_DESC_DISK entry per
 * description disk, same slots in the same order). */
#define VSV_FLAG_FINAL_DISKS 1u
#define VSV_DISKS_SECTION "disks"
#define VSV_DISKS_VERSION 1

/* Section header: 48 bytes; payload; zero pad to 8; tail. */
#define VSV_SEC_HDR_SIZE 48
#define VSV_SEC_MAGIC "SECT"
#define VSV_SEC_KIND 4       /* 2 */
#define VSV_SEC_FLAGS 6      /* 2  reserved, 0 */
#define VSV_SEC_NAME 8       /* 16 NUL-padded */
#define VSV_SEC_INSTANCE 24  /* 4 */
#define VSV_SEC_VERSION 28   /* 4 */
#define VSV_SEC_LENGTH 32    /* 8  payload bytes */
#define VSV_SEC_RSVD 40      /* 4 */
#define VSV_SEC_CRC 44       /* 4  CRC32C of bytes 0..43 */
#define VSV_SEC_TAIL_SIZE 8  /* payload CRC32C 4, "SEND" 4 */
#define VSV_SEC_TAIL_MAGIC "SEND"

/* RAM pass payload: pass header, run table, zero pad, page data. */
#define VSV_PASS_HDR_SIZE 64
#define VSV_PASS_MAGIC "PASS"
#define VSV_PASS_NUMBER 4    /* 4  0, 1, 2... in file order */
#define VSV_PASS_FLAGS 8     /* 4  VSV_PASS_FULL */
#define VSV_PASS_PAGE 12     /* 4  4096 */
#define VSV_PASS_RAM 16      /* 8  RAM size */
#define VSV_PASS_RUNS 24     /* 4  run count */
#define VSV_PASS_RSVD 28     /* 4 */
#define VSV_PASS_DATA_OFF 32 /* 8  data area offset from payload start */
#define VSV_PASS_DATA_LEN 40 /* 8  data area bytes */
#define VSV_PASS_PAGES 48    /* 8  pages the runs cover */
#define VSV_PASS_CRC 60      /* 4  CRC32C of bytes 0..59 and the run table */
#define VSV_PASS_FULL 1u     /* the runs cover every page of RAM */
#define VSV_RUN_SIZE 16      /* first page 8, pages 4, flags 4 */
#define VSV_RUN_ZERO 1u      /* the pages are zero; no data stored */

/* Trailer: the last 32 bytes of the file. */
#define VSV_TRL_SIZE 32
#define VSV_TRL_MAGIC "VEND"
#define VSV_TRL_COUNT 4      /* 4  sections */
#define VSV_TRL_OFFSET 8     /* 8  file offset of the trailer itself */
#define VSV_TRL_DIGEST 16    /* 4  chained CRC32C, see vsv_digest_* */
#define VSV_TRL_CRC 28       /* 4  CRC32C of bytes 0..27 */

#define VSV_RAM_ALIGN 4096u  /* page data starts at a file offset multiple of this */

static inline void vsv_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void vsv_le32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static inline void vsv_le64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
/* Writes a 4-byte record magic (no NUL). */
static inline void vsv_magic4(uint8_t *p, const char *m) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)m[i]; }
static inline uint16_t vsv_rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t vsv_rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint64_t vsv_rd64(const uint8_t *p) { return vsv_rd32(p) | (uint64_t)vsv_rd32(p + 4) << 32; }

/* Machine description record <-> struct (desc.c). encode returns the length;
 * decode returns 0 or -EBADMSG with a message naming the field. */
size_t vsv_desc_encode(const struct vsv_machine_desc *d, uint8_t *out);
int vsv_desc_decode(const uint8_t *p, size_t len, struct vsv_machine_desc *d, char *why, size_t whylen);
/* Checks a description for writing: sizes, names, counts. */
int vsv_desc_check(const struct vsv_machine_desc *d, struct havm_err *err);
/* Index of (name, instance) in the device list, or -1. */
int vsv_desc_find(const struct vsv_machine_desc *d, const char *name, uint32_t instance);
/* Compares the description in file @label with the one the caller expects;
 * the message names the first difference. */
int vsv_desc_compare(const struct vsv_machine_desc *file, const struct vsv_machine_desc *exp,
		     const char *label, struct havm_err *err);

/* Checksum comparisons go through this, so the fuzzer (built with
 * -DHAVM_FUZZING) explores the structure behind the checksums instead of
 * stopping at the first one. */
#ifdef HAVM_FUZZING
#define VSV_CRC_DIFFERS(found, want) ((void)(found), (void)(want), 0)
#else
#define VSV_CRC_DIFFERS(found, want) ((found) != (want))
#endif

/* havm_err_set() whose value the static analyser can see: @code. */
#define VSV_ERR(err, kind, code, ...) (havm_err_set((err), (kind), (code), __VA_ARGS__), (code))

/* The trailer digest: CRC32C chained over the file header, then each
 * section header and its payload CRC, in file order. */
static inline uint32_t vsv_digest_section(uint32_t digest, const uint8_t *sec_hdr, uint32_t payload_crc)
{
	uint8_t c[4];
	vsv_le32(c, payload_crc);
	digest = vsv_crc32c(digest, sec_hdr, VSV_SEC_HDR_SIZE);
	return vsv_crc32c(digest, c, 4);
}

#endif
