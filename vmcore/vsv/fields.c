/* vmcore/vsv — field tables and the little-endian encoder/decoder; see
 * fields.h. */
#include "vmcore/vsv/fields.h"

#include "vmcore/vsv/reader_int.h"
#include "vmcore/vsv/writer_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void vsv_enc_init(struct vsv_enc *e)
{
	memset(e, 0, sizeof(*e));
}

void vsv_enc_fini(struct vsv_enc *e)
{
	free(e->buf);
	memset(e, 0, sizeof(*e));
}

static uint8_t *enc_room(struct vsv_enc *e, size_t n)
{
	if (e->err)
		return NULL;
	if (n > e->cap - e->len) {
		size_t cap = e->cap ? e->cap : 256;
		while (cap - e->len < n)
			cap *= 2;
		uint8_t *nb = realloc(e->buf, cap);
		if (!nb) {
			e->err = -ENOMEM;
			return NULL;
		}
		e->buf = nb;
		e->cap = cap;
	}
	uint8_t *p = e->buf + e->len;
	e->len += n;
	return p;
}

static void put_le(struct vsv_enc *e, uint64_t v, unsigned size)
{
	uint8_t *p = enc_room(e, size);
	for (unsigned i = 0; p && i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void vsv_put_u8(struct vsv_enc *e, uint8_t v) { put_le(e, v, 1); }
void vsv_put_u16(struct vsv_enc *e, uint16_t v) { put_le(e, v, 2); }
void vsv_put_u32(struct vsv_enc *e, uint32_t v) { put_le(e, v, 4); }
void vsv_put_u64(struct vsv_enc *e, uint64_t v) { put_le(e, v, 8); }

void vsv_put_bytes(struct vsv_enc *e, const void *src, size_t n)
{
	uint8_t *p = enc_room(e, n);
	if (p && n)
		memcpy(p, src, n);
}

void vsv_dec_init(struct vsv_dec *d, const void *p, size_t len)
{
	d->p = p;
	d->len = len;
	d->pos = 0;
	d->err = 0;
}

static const uint8_t *dec_take(struct vsv_dec *d, size_t n)
{
	if (d->err || n > d->len - d->pos) {
		d->err = -EBADMSG;
		return NULL;
	}
	const uint8_t *p = d->p + d->pos;
	d->pos += n;
	return p;
}

static uint64_t get_le(struct vsv_dec *d, unsigned size)
{
	const uint8_t *p = dec_take(d, size);
	uint64_t v = 0;
	for (unsigned i = 0; p && i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint8_t vsv_get_u8(struct vsv_dec *d) { return (uint8_t)get_le(d, 1); }
uint16_t vsv_get_u16(struct vsv_dec *d) { return (uint16_t)get_le(d, 2); }
uint32_t vsv_get_u32(struct vsv_dec *d) { return (uint32_t)get_le(d, 4); }
uint64_t vsv_get_u64(struct vsv_dec *d) { return get_le(d, 8); }

void vsv_get_bytes(struct vsv_dec *d, void *out, size_t n)
{
	const uint8_t *p = dec_take(d, n);
	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

int vsv_dec_finish(const struct vsv_dec *d)
{
	return d->err || d->pos != d->len ? -EBADMSG : 0;
}

static int size_ok(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* Host integers of @size bytes are read and written through memcpy, so the
 * struct needs no particular alignment. */
static uint64_t load_host(const uint8_t *p, unsigned size)
{
	uint8_t v8; uint16_t v16; uint32_t v32; uint64_t v64;
	switch (size) {
	case 1: memcpy(&v8, p, 1); return v8;
	case 2: memcpy(&v16, p, 2); return v16;
	case 4: memcpy(&v32, p, 4); return v32;
	default: memcpy(&v64, p, 8); return v64;
	}
}

static void store_host(uint8_t *p, unsigned size, uint64_t v)
{
	uint8_t v8 = (uint8_t)v; uint16_t v16 = (uint16_t)v; uint32_t v32 = (uint32_t)v;
	switch (size) {
	case 1: memcpy(p, &v8, 1); break;
	case 2: memcpy(p, &v16, 2); break;
	case 4: memcpy(p, &v32, 4); break;
	default: memcpy(p, &v, 8); break;
	}
}

int vsv_fields_encode(struct vsv_enc *e, const struct vsv_field *f, size_t n, uint32_t version, const void *st)
{
	const uint8_t *base = st;
	for (size_t i = 0; i < n; i++) {
		if (!size_ok(f[i].size))
			return -EINVAL;
		if (f[i].since > version)
			continue;
		for (unsigned k = 0; k < f[i].count; k++)
			put_le(e, load_host(base + f[i].offset + (size_t)k * f[i].size, f[i].size), f[i].size);
	}
	return e->err;
}

int vsv_fields_decode(const void *buf, size_t len, const struct vsv_field *f, size_t n, uint32_t version,
		      void *st)
{
	uint8_t *base = st;
	struct vsv_dec d;
	vsv_dec_init(&d, buf, len);
	/* decode into the struct only after the length matched: a bad payload
	 * leaves the caller's state untouched */
	size_t need = 0;
	for (size_t i = 0; i < n; i++) {
		if (!size_ok(f[i].size))
			return -EINVAL;
		if (f[i].since <= version)
			need += (size_t)f[i].size * f[i].count;
	}
	if (need != len)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		if (f[i].since > version)
			continue;
		for (unsigned k = 0; k < f[i].count; k++)
			store_host(base + f[i].offset + (size_t)k * f[i].size, f[i].size, get_le(&d, f[i].size));
	}
	return vsv_dec_finish(&d);
}

int vsv_state_save(struct vsv_writer *w, const char *name, uint32_t instance, uint32_t version,
		   const struct vsv_field *f, size_t n, const void *st, struct havm_err *err)
{
	struct vsv_enc e;
	vsv_enc_init(&e);
	int rc = vsv_fields_encode(&e, f, n, version, st);
	if (rc < 0) {
		vsv_enc_fini(&e);
		return VSV_ERR(err, rc == -ENOMEM ? HAVM_E_IO : HAVM_E_INTERNAL, rc,
				    "section %s.%" PRIu32 ": %s", name, instance,
				    rc == -ENOMEM ? "out of memory" : "field table has a bad element size");
	}
	rc = vsv_section_begin(w, name, instance, version, err);
	if (rc == 0 && (rc = vsv_section_write(w, e.buf, e.len)) < 0)
		vsv_writer_check(w, err);
	if (rc == 0)
		rc = vsv_section_end(w, err);
	vsv_enc_fini(&e);
	return rc;
}

int vsv_state_load(const struct vsv_reader *r, const char *name, uint32_t instance, const struct vsv_field *f,
		   size_t n, void *st, struct havm_err *err)
{
	const void *data;
	size_t len;
	uint32_t version;
	int rc = vsv_reader_section(r, name, instance, &data, &len, &version, err);
	if (rc < 0)
		return rc;
	rc = vsv_fields_decode(data, len, f, n, version, st);
	if (rc < 0)
		return VSV_ERR(err, rc == -EINVAL ? HAVM_E_INTERNAL : HAVM_E_FORMAT, rc,
				    "%s: section %s.%" PRIu32 " version %" PRIu32 ": %zu bytes do not match its fields",
				    r->label, name, instance, version, len);
	return 0;
}
