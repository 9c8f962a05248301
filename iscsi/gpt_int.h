/* havm — helpers shared by the GPT files (iscsi/gpt*.c) and the store. */
#ifndef HAVM_ISCSI_GPT_INT_H
#define HAVM_ISCSI_GPT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "iscsi/gpt.h"

uint32_t gpt_crc32(const void *buf, size_t len);

/* A random (version 4) GUID; -EIO when getrandom fails. */
int gpt_guid_random(uint8_t g[16]);

/* The protective MBR for a device of @dev_sectors sectors. */
void gpt_encode_pmbr(uint64_t dev_sectors, uint8_t mbr[GPT_SECTOR]);

/* Names: 36 UTF-16LE units on disk (NUL-padded), UTF-8 in memory.
 * gpt_name_check: 0 when @name is valid UTF-8 (no NUL, no surrogates) that
 * encodes in at most 36 units, else -EINVAL. gpt_name_decode: -EINVAL on an
 * unpaired surrogate; stops at the first NUL unit. gpt_name_encode expects a
 * checked name. */
int gpt_name_check(const char *name);
int gpt_name_decode(const uint8_t in[GPT_NAME_UNITS * 2], char out[GPT_NAME_MAX + 1]);
void gpt_name_encode(const char *name, uint8_t out[GPT_NAME_UNITS * 2]);

#endif
