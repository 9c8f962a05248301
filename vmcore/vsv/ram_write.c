/* vmcore/vsv — writing a RAM pass: scan the pages (all, or the dirty
 * ones) into runs of zero and data pages (pages the caller knows to be
 * zero are not read), then emit the pass header, the run table, padding
 * so page data starts on a 4 KiB file boundary (the reader can pread or
 * mmap it in big aligned chunks), and the data. */
#include "vmcore/vsv/writer_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/fault.h"

struct run {
	uint64_t first;
	uint32_t pages;
	uint32_t flags;
};

struct run_list {
	struct run *v;
	size_t n, cap;
};

/* Word-wise with an early exit: a data page usually differs in its first
 * bytes, a zero page is read once at memory speed. */
static int page_is_zero(const uint8_t *p)
{
	for (size_t i = 0; i < VSV_PAGE_SIZE; i += 64) {
		uint64_t q[8];
		memcpy(q, p + i, sizeof(q));  /* any alignment; compiles to plain loads */
		if (q[0] | q[1] | q[2] | q[3] | q[4] | q[5] | q[6] | q[7])
			return 0;
	}
	return 1;
}

static int bit(const uint64_t *bm, uint64_t i)
{
	return bm && (bm[i / 64] >> (i % 64) & 1);
}

static int runs_add(struct run_list *l, uint64_t page, uint32_t flags)
{
	struct run *last = l->n ? &l->v[l->n - 1] : NULL;
	if (last && last->flags == flags && last->first + last->pages == page && last->pages < UINT32_MAX) {
		last->pages++;
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct run *nv = realloc(l->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = (struct run){ .first = page, .pages = 1, .flags = flags };
	return 0;
}

static int scan(const uint8_t *ram, uint64_t npages, const uint64_t *dirty, const uint64_t *zero_hint,
		struct run_list *l, uint64_t *covered, uint64_t *data_pages)
{
	for (uint64_t i = 0; i < npages; i++) {
		if (dirty && !bit(dirty, i))
			continue;
		/* a hinted page is not even read: reading is what costs (ram_untouched.c) */
		int zero = bit(zero_hint, i) || page_is_zero(ram + i * VSV_PAGE_SIZE);
		if (runs_add(l, i, zero ? VSV_RUN_ZERO : 0) < 0)
			return -ENOMEM;
		(*covered)++;
		*data_pages += !zero;
	}
	return 0;
}

static uint8_t *build_meta(const struct run_list *l, uint32_t pass, int full, uint64_t ram_size,
			   uint64_t data_off, uint64_t data_len, uint64_t covered, size_t *len)
{
	*len = VSV_PASS_HDR_SIZE + l->n * VSV_RUN_SIZE;
	uint8_t *m = calloc(1, *len);
	if (!m)
		return NULL;
	vsv_magic4(m, VSV_PASS_MAGIC);
	vsv_le32(m + VSV_PASS_NUMBER, pass);
	vsv_le32(m + VSV_PASS_FLAGS, full ? VSV_PASS_FULL : 0);
	vsv_le32(m + VSV_PASS_PAGE, VSV_PAGE_SIZE);
	vsv_le64(m + VSV_PASS_RAM, ram_size);
	vsv_le32(m + VSV_PASS_RUNS, (uint32_t)l->n);
	vsv_le64(m + VSV_PASS_DATA_OFF, data_off);
	vsv_le64(m + VSV_PASS_DATA_LEN, data_len);
	vsv_le64(m + VSV_PASS_PAGES, covered);
	uint8_t *r = m + VSV_PASS_HDR_SIZE;
	for (size_t i = 0; i < l->n; i++, r += VSV_RUN_SIZE) {
		vsv_le64(r, l->v[i].first);
		vsv_le32(r + 8, l->v[i].pages);
		vsv_le32(r + 12, l->v[i].flags);
	}
	uint32_t crc = vsv_crc32c(0, m, VSV_PASS_CRC);
	crc = vsv_crc32c(crc, m + VSV_PASS_HDR_SIZE, *len - VSV_PASS_HDR_SIZE);
	vsv_le32(m + VSV_PASS_CRC, crc);
	return m;
}

static int emit(struct vsv_writer *w, const uint8_t *ram, const struct run_list *l, const uint8_t *meta,
		size_t meta_len, uint64_t data_off, uint64_t length, struct havm_err *err)
{
	uint8_t hdr[VSV_SEC_HDR_SIZE];
	vsv_sec_header(hdr, VSV_KIND_RAM, VSV_RAM_SECTION, 0, VSV_RAM_VERSION, length);
	if (vsv_out_put(w, hdr, sizeof(hdr), NULL) < 0 || vsv_out_put(w, meta, meta_len, NULL) < 0 ||
	    vsv_out_zero(w, (size_t)(data_off - meta_len)) < 0)
		return vsv_writer_check(w, err);
	uint32_t crc = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].flags & VSV_RUN_ZERO)
			continue;
		if (vsv_out_put(w, ram + l->v[i].first * VSV_PAGE_SIZE, (size_t)l->v[i].pages * VSV_PAGE_SIZE,
				&crc) < 0)
			return vsv_writer_check(w, err);
	}
	return vsv_sec_finish(w, hdr, length, crc, err);
}

int64_t vsv_ram_pass(struct vsv_writer *w, const uint8_t *ram, uint64_t size, const uint64_t *dirty,
		     struct havm_err *err)
{
	return vsv_ram_pass_sparse(w, ram, size, dirty, NULL, err);
}

int64_t vsv_ram_pass_sparse(struct vsv_writer *w, const uint8_t *ram, uint64_t size, const uint64_t *dirty,
			    const uint64_t *zero_hint, struct havm_err *err)
{
	if (vsv_writer_check(w, err) < 0)
		return w->failed;
	if (size != w->desc.ram_size || w->sec_dev >= 0 || (!w->passes && dirty) || !size)
		return vsv_writer_fail(w, err, HAVM_E_INTERNAL, -EINVAL, "RAM pass %" PRIu32 ": %s", w->passes,
				       size != w->desc.ram_size || !size ? "size differs from the description" :
				       w->sec_dev >= 0 ? "a device section is open" :
				       "the first pass must be full");
	uint64_t npages = size / VSV_PAGE_SIZE, covered = 0, data_pages = 0;
	struct run_list l = {0};
	uint8_t *meta = NULL;
	size_t meta_len = 0;
	int rc = scan(ram, npages, dirty, zero_hint, &l, &covered, &data_pages);
	if (rc == 0) {
		uint64_t payload = vsv_writer_offset(w) + VSV_SEC_HDR_SIZE;
		uint64_t table_end = payload + VSV_PASS_HDR_SIZE + l.n * VSV_RUN_SIZE;
		uint64_t data_off = ((table_end + VSV_RAM_ALIGN - 1) & ~(uint64_t)(VSV_RAM_ALIGN - 1)) - payload;
		uint64_t data_len = data_pages * VSV_PAGE_SIZE;
		meta = build_meta(&l, w->passes, !dirty, size, data_off, data_len, covered, &meta_len);
		if (!meta)
			rc = -ENOMEM;
		else
			rc = emit(w, ram, &l, meta, meta_len, data_off, data_off + data_len, err);
	}
	if (rc == -ENOMEM)
		rc = vsv_writer_fail(w, err, HAVM_E_IO, -ENOMEM, "RAM pass %" PRIu32 ": out of memory", w->passes);
	free(meta);
	free(l.v);
	if (rc < 0)
		return rc;
	w->passes++;
	return (int64_t)covered;
}
