/* vmcore/vsv — CRC32C (Castagnoli), the checksum of every .vsv section.
 * Chosen over zlib's CRC-32 because x86 computes it in hardware (SSE4.2
 * crc32 instruction), so checking a 256 MiB RAM image costs milliseconds;
 * a slicing-by-8 table is the fallback on CPUs without it. */
#ifndef HAVM_VMCORE_VSV_CRC32C_INT_H
#define HAVM_VMCORE_VSV_CRC32C_INT_H

#include <stddef.h>
#include <stdint.h>

/* Continues @crc (0 to start) over @len bytes; returns the new value, so
 * crc32c(crc32c(0, a, n), b, m) == crc32c(0, a||b, n+m). */
uint32_t vsv_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
