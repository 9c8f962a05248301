/* vmcore/vsv — serialising a device's plain state struct in a few lines.
 *
 * A device describes its saved state as a table of fields (fixed-width
 * integers and arrays of them); the table encodes and decodes the struct
 * field by field in little-endian, never as a memcpy of the struct, so
 * padding, host byte order and field reordering do not leak into the file:
 *
 *     struct pic_state { uint8_t irr, isr, imr; uint16_t elcr; uint8_t icw[4]; };
 *     static const struct vsv_field pic_fields[] = {
 *         VSV_FIELD(struct pic_state, irr),
 *         VSV_FIELD(struct pic_state, isr),
 *         VSV_FIELD(struct pic_state, imr),
 *         VSV_FIELD_ARRAY(struct pic_state, icw),
 *         VSV_FIELD_SINCE(struct pic_state, elcr, 2),  // added in version 2
 *     };
 *     save: vsv_state_save(w, "pic", 0, 2, pic_fields, 5, &st, err);
 *     load: vsv_state_load(r, "pic", 0, pic_fields, 5, &st, err);
 *
 * Versioning: a field added later carries the section version that added
 * it; decoding an older section leaves such fields as the caller set them
 * (defaults), so a build reads every older version of its sections. Fields
 * are only ever appended, never removed or resized, within a section.
 *
 * The low-level encoder and decoder are public too, for state that is not a
 * flat struct (see vsv_cpu.c). */
#ifndef HAVM_VMCORE_VSV_FIELDS_H
#define HAVM_VMCORE_VSV_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "vmcore/vsv/vsv.h"

/* A growable little-endian encoder. Errors are sticky: check vsv_enc.err
 * (or the return of vsv_enc_take) once at the end. */
struct vsv_enc {
	uint8_t *buf;
	size_t len, cap;
	int err;            /* 0 or -ENOMEM */
};

void vsv_enc_init(struct vsv_enc *e);
void vsv_enc_fini(struct vsv_enc *e);
void vsv_put_u8(struct vsv_enc *e, uint8_t v);
void vsv_put_u16(struct vsv_enc *e, uint16_t v);
void vsv_put_u32(struct vsv_enc *e, uint32_t v);
void vsv_put_u64(struct vsv_enc *e, uint64_t v);
void vsv_put_bytes(struct vsv_enc *e, const void *p, size_t n);

/* A bounds-checked decoder over a borrowed buffer. Reading past the end
 * yields zeros and sets err = -EBADMSG; check once at the end. */
struct vsv_dec {
	const uint8_t *p;
	size_t len, pos;
	int err;
};

void vsv_dec_init(struct vsv_dec *d, const void *p, size_t len);
uint8_t vsv_get_u8(struct vsv_dec *d);
uint16_t vsv_get_u16(struct vsv_dec *d);
uint32_t vsv_get_u32(struct vsv_dec *d);
uint64_t vsv_get_u64(struct vsv_dec *d);
void vsv_get_bytes(struct vsv_dec *d, void *out, size_t n);
/* 0 when every byte was consumed exactly; -EBADMSG when short or long. */
int vsv_dec_finish(const struct vsv_dec *d) HAVM_MUST_CHECK;

struct vsv_field {
	const char *name;
	uint32_t offset;    /* in the struct */
	uint16_t size;      /* element size: 1, 2, 4 or 8 */
	uint16_t count;     /* elements (1 for a scalar) */
	uint32_t since;     /* first section version holding the field */
};

#define VSV_MEMBER_SIZE(type, m) sizeof(((type *)0)->m)
#define VSV_FIELD_SINCE(type, m, v) \
	{ #m, (uint32_t)offsetof(type, m), (uint16_t)VSV_MEMBER_SIZE(type, m), 1, (v) }
#define VSV_FIELD(type, m) VSV_FIELD_SINCE(type, m, 1)
/* An array of integers: every element encoded in little-endian. */
#define VSV_FIELD_ARRAY_SINCE(type, m, v) \
	{ #m, (uint32_t)offsetof(type, m), (uint16_t)VSV_MEMBER_SIZE(type, m[0]), \
	  (uint16_t)(VSV_MEMBER_SIZE(type, m) / VSV_MEMBER_SIZE(type, m[0])), (v) }
#define VSV_FIELD_ARRAY(type, m) VSV_FIELD_ARRAY_SINCE(type, m, 1)
/* Any member stored as raw bytes (a byte array, a FIFO buffer). */
#define VSV_FIELD_BYTES(type, m) \
	{ #m, (uint32_t)offsetof(type, m), 1, (uint16_t)VSV_MEMBER_SIZE(type, m), 1 }

/* Encodes the fields of @st present in @version. -EINVAL for a bad table
 * (element size not 1/2/4/8), else the encoder's error. */
int vsv_fields_encode(struct vsv_enc *e, const struct vsv_field *f, size_t n, uint32_t version,
		      const void *st) HAVM_MUST_CHECK;

/* Decodes a payload of section version @version into @st; fields newer
 * than @version keep their value. -EBADMSG if the payload is short or long
 * for that version. */
int vsv_fields_decode(const void *buf, size_t len, const struct vsv_field *f, size_t n, uint32_t version,
		      void *st) HAVM_MUST_CHECK;

/* One device section from a field table, written at @version. */
int vsv_state_save(struct vsv_writer *w, const char *name, uint32_t instance, uint32_t version,
		   const struct vsv_field *f, size_t n, const void *st, struct havm_err *err) HAVM_MUST_CHECK;

/* Finds section (@name, @instance) and decodes it into @st at whatever
 * version it was saved (already checked <= this build's by the reader).
 * Errors name the section: HAVM_E_NOTFOUND if absent, HAVM_E_FORMAT if
 * its length does not match its version. */
int vsv_state_load(const struct vsv_reader *r, const char *name, uint32_t instance,
		   const struct vsv_field *f, size_t n, void *st, struct havm_err *err) HAVM_MUST_CHECK;

#endif
