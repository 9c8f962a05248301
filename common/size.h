/* havm — byte sizes as admins type them: "4096", "512M", "20G", "1TiB". */
#ifndef HAVM_COMMON_SIZE_H
#define HAVM_COMMON_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Parses a size with an optional binary suffix (K, M, G, T, optionally
 * followed by "iB" or "B"; case-insensitive). Returns 0 and stores the byte
 * count, or -EINVAL for malformed text, -ERANGE on overflow. */
int havm_size_parse(const char *text, uint64_t *bytes);

/* Formats @bytes as "1.5 GiB" into @buf; returns @buf. */
char *havm_size_format(uint64_t bytes, char *buf, size_t len);

#endif
