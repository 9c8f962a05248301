/* Helpers shared by the vsv unit, crash and fuzz tests: a test machine,
 * guest RAM with zero pages, in-memory .vsv files, and tools to tamper
 * with a file while keeping its other checksums right. */
#ifndef HAVM_TESTS_UNIT_VSV_VSV_TEST_UTIL_H
#define HAVM_TESTS_UNIT_VSV_VSV_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "vmcore/vsv/fields.h"
#include "vmcore/vsv/vsv.h"

#define TU_RAM_PAGES 64
#define TU_RAM_SIZE (TU_RAM_PAGES * 4096u)

struct tu_pic { uint8_t irr, isr, imr; uint16_t base; uint8_t icw[4]; uint32_t elcr; };
extern const struct vsv_field tu_pic_fields[];
extern const size_t tu_pic_nfields;

struct tu_buf {
	uint8_t *p;
	size_t len, cap;
};

/* cpu.0 v1, pic.0 v2, pic.1 v2, uart.0 v1; disk ide0 at generation 5;
 * TU_RAM_SIZE bytes of RAM. */
void tu_desc(struct vsv_machine_desc *d);
/* Random pages, about a third of them zero, seeded. */
void tu_ram(uint8_t *ram, size_t size, unsigned seed);
/* Device state derived from @seed. */
void tu_pic(struct tu_pic *p, unsigned seed);
void tu_uart(uint8_t out[64], unsigned seed);
void tu_cpu(void *cpu_state, unsigned seed);
/* The sink for vsv_writer_open_sink(): appends to a struct tu_buf. */
int tu_sink(void *opaque, const void *buf, size_t len);
/* Writes every section for @seed and one full RAM pass from @ram (plus an
 * incremental pass of the even pages when @passes > 1); returns 0 or the
 * writer's error. The _size variant takes the RAM size of the description. */
int tu_write_all(struct vsv_writer *w, unsigned seed, const uint8_t *ram, int passes, struct havm_err *err);
int tu_write_all_size(struct vsv_writer *w, unsigned seed, const uint8_t *ram, uint64_t size, int passes,
		      struct havm_err *err);
/* A whole .vsv for @seed in memory (caller frees out->p). */
void tu_make(struct tu_buf *out, unsigned seed, int passes);
/* Offsets of every section header; returns the count. */
size_t tu_sections(const uint8_t *p, size_t len, uint64_t *offs, size_t max);
/* Recomputes a section header's CRC / the trailer (count, digest, CRC). */
void tu_fix_section(uint8_t *p, uint64_t off);
void tu_fix_trailer(uint8_t *p, size_t len);
/* Checks that @r holds exactly the state tu_write_all wrote for @seed
 * (devices and RAM); returns 0 or a description of the first difference. */
const char *tu_check(struct vsv_reader *r, unsigned seed);
const char *tu_check_size(struct vsv_reader *r, unsigned seed, uint64_t size);

#endif
