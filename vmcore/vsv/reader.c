/* vmcore/vsv — opening a .vsv: header, machine description, trailer, then
 * a walk over every section header (device payloads are read and checked,
 * RAM passes keep only their run tables). Nothing is trusted before its
 * checksum and its bounds are checked; see vsv.h for the error kinds. */
#define LOG_TAG HAVM_TAG_VSV
#include "vmcore/vsv/reader_int.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sys.h"

#define BAD(...) VSV_ERR(err, HAVM_E_FORMAT, -EBADMSG, __VA_ARGS__)

int vsv_rd(struct vsv_reader *r, void *buf, size_t len, uint64_t off, const char *what, struct havm_err *err)
{
	if (off > r->size || len > r->size - off)
		return BAD("%s: %s at offset %" PRIu64 " (%zu bytes) runs past the end of the file (%" PRIu64
			   " bytes)", r->label, what, off, len, r->size);
	int rc = r->fn(r->opaque, buf, len, off);
	if (rc < 0)
		return VSV_ERR(err, HAVM_E_IO, rc, "%s: reading %s at offset %" PRIu64 ": %s", r->label, what,
				    off, strerror(-rc));
	return 0;
}

static int crc_check(struct vsv_reader *r, const char *what, uint64_t off, uint32_t found, uint32_t want,
		     struct havm_err *err)
{
	if (!VSV_CRC_DIFFERS(found, want))
		return 0;
	return BAD("%s: %s checksum 0x%08" PRIx32 " at offset %" PRIu64 ", computed 0x%08" PRIx32, r->label, what,
		   found, off, want);
}

static int read_header(struct vsv_reader *r, uint64_t *first, struct havm_err *err)
{
	uint8_t h[VSV_HDR_SIZE];
	if (r->size < VSV_HDR_SIZE + VSV_TRL_SIZE)
		return BAD("%s: %" PRIu64 " bytes is too short for a .vsv file (at least %d)", r->label, r->size,
			   VSV_HDR_SIZE + VSV_TRL_SIZE);
	int rc = vsv_rd(r, h, sizeof(h), 0, "header", err);
	if (rc < 0)
		return rc;
	if (memcmp(h, VSV_MAGIC, 8) != 0)
		return BAD("%s: not a .vsv file: magic %02x%02x%02x%02x%02x%02x%02x%02x at offset 0, expected "
			   "\"" VSV_MAGIC "\"", r->label, h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
	r->info.major = vsv_rd16(h + VSV_HDR_MAJOR);
	r->info.minor = vsv_rd16(h + VSV_HDR_MINOR);
	if (r->info.major != VSV_VERSION_MAJOR || r->info.minor > VSV_VERSION_MINOR)
		return VSV_ERR(err, HAVM_E_UNSUPPORTED, -ENOTSUP, "%s: format version %u.%u, this build "
				    "reads %d.0 to %d.%d", r->label, r->info.major, r->info.minor,
				    VSV_VERSION_MAJOR, VSV_VERSION_MAJOR, VSV_VERSION_MINOR);
	if ((rc = crc_check(r, "header", VSV_HDR_CRC, vsv_rd32(h + VSV_HDR_CRC), vsv_crc32c(0, h, VSV_HDR_CRC), err)) < 0)
		return rc;
	uint32_t flags = vsv_rd32(h + VSV_HDR_FLAGS), dlen = vsv_rd32(h + VSV_HDR_DESC_LEN);
	*first = vsv_rd32(h + VSV_HDR_FIRST);
	/* 1.0 files have no flags; 1.1 may announce a final disks record. */
	uint32_t known = r->info.minor >= 1 ? VSV_FLAG_FINAL_DISKS : 0;
	if ((flags & ~known) || dlen > VSV_DESC_MAX || *first != ((VSV_HDR_SIZE + dlen + 7) & ~7u) ||
	    *first > r->size - VSV_TRL_SIZE)
		return BAD("%s: header: flags 0x%" PRIx32 ", description length %" PRIu32 ", first section at %"
			   PRIu64 " are inconsistent", r->label, flags, dlen, *first);
	uint8_t d[VSV_DESC_MAX];
	if ((rc = vsv_rd(r, d, dlen, VSV_HDR_SIZE, "machine description", err)) < 0)
		return rc;
	r->info.machine_digest = vsv_crc32c(0, d, dlen);
	if ((rc = crc_check(r, "machine description", VSV_HDR_DESC_CRC, vsv_rd32(h + VSV_HDR_DESC_CRC),
			    r->info.machine_digest, err)) < 0)
		return rc;
	char why[200];
	if (vsv_desc_decode(d, dlen, &r->desc, why, sizeof(why)) < 0)
		return BAD("%s: %s", r->label, why);
	r->desc.flags = flags & VSV_FLAG_FINAL_DISKS ? VSV_DESC_FINAL_DISKS : 0;
	r->info.created_ns = vsv_rd64(h + VSV_HDR_CREATED);
	return 0;
}

static int read_trailer(struct vsv_reader *r, uint32_t *count, uint32_t *digest, struct havm_err *err)
{
	uint8_t t[VSV_TRL_SIZE];
	uint64_t off = r->size - VSV_TRL_SIZE;
	int rc = vsv_rd(r, t, sizeof(t), off, "trailer", err);
	if (rc < 0)
		return rc;
	if (memcmp(t, VSV_TRL_MAGIC, 4) != 0 || VSV_CRC_DIFFERS(vsv_rd32(t + VSV_TRL_CRC), vsv_crc32c(0, t, VSV_TRL_CRC)) ||
	    vsv_rd64(t + VSV_TRL_OFFSET) != off)
		return BAD("%s: truncated or incomplete: no valid trailer in the last %d bytes of %" PRIu64,
			   r->label, VSV_TRL_SIZE, r->size);
	*count = vsv_rd32(t + VSV_TRL_COUNT);
	*digest = vsv_rd32(t + VSV_TRL_DIGEST);
	return 0;
}

static struct vsv_rsec *sec_add(struct vsv_reader *r)
{
	if (r->nsecs == r->secs_cap) {
		size_t cap = r->secs_cap ? r->secs_cap * 2 : 8;
		struct vsv_rsec *ns = realloc(r->secs, cap * sizeof(*ns));
		if (!ns)
			return NULL;
		r->secs = ns;
		r->secs_cap = cap;
	}
	struct vsv_rsec *s = &r->secs[r->nsecs++];
	memset(s, 0, sizeof(*s));
	return s;
}

static int load_state(struct vsv_reader *r, struct vsv_rsec *s, uint32_t crc, struct havm_err *err)
{
	struct vsv_section_info *in = &s->info;
	int i = vsv_desc_find(&r->desc, in->name, in->instance);
	if (i < 0)
		return BAD("%s: section %s.%" PRIu32 " at offset %" PRIu64 " is not in the machine description",
			   r->label, in->name, in->instance, in->offset);
	if (in->version != r->desc.devices[i].version)
		return BAD("%s: section %s.%" PRIu32 " at offset %" PRIu64 " has version %" PRIu32
			   ", the description says %" PRIu32, r->label, in->name, in->instance, in->offset,
			   in->version, r->desc.devices[i].version);
	for (size_t k = 0; k + 1 < r->nsecs; k++)
		if (r->secs[k].info.kind == VSV_KIND_STATE && r->secs[k].info.instance == in->instance &&
		    strcmp(r->secs[k].info.name, in->name) == 0)
			return BAD("%s: section %s.%" PRIu32 " appears twice (offsets %" PRIu64 " and %" PRIu64 ")",
				   r->label, in->name, in->instance, r->secs[k].info.offset, in->offset);
	if (in->length > VSV_STATE_MAX)
		return BAD("%s: section %s.%" PRIu32 " is %" PRIu64 " bytes, more than %u", r->label, in->name,
			   in->instance, in->length, VSV_STATE_MAX);
	if (!(s->data = malloc(in->length ? in->length : 1)))
		return VSV_ERR(err, HAVM_E_IO, -ENOMEM, "%s: out of memory", r->label);
	int rc = vsv_rd(r, s->data, in->length, in->offset + VSV_SEC_HDR_SIZE, "section payload", err);
	if (rc < 0)
		return rc;
	char what[64];
	snprintf(what, sizeof(what), "section %s.%" PRIu32 " payload", in->name, in->instance);
	return crc_check(r, what, in->offset + VSV_SEC_HDR_SIZE + ((in->length + 7) & ~7ull), crc,
			 vsv_crc32c(0, s->data, in->length), err);
}

/* Runs: ascending, disjoint, inside RAM; a full pass covers every page. */
static int check_runs(struct vsv_reader *r, const struct vsv_pass *p, int full, uint64_t covered,
		      uint64_t off, uint64_t *data_pages, uint64_t *zero_pages, struct havm_err *err)
{
	uint64_t npages = r->desc.ram_size / VSV_PAGE_SIZE, next = 0, sum = 0;
	*data_pages = *zero_pages = 0;
	for (size_t i = 0; i < p->nruns; i++) {
		const struct vsv_run *run = &p->runs[i];
		if (run->pages == 0 || run->first < next || run->first > npages || run->pages > npages - run->first ||
		    (run->flags & ~VSV_RUN_ZERO) || (full && run->first != next))
			return BAD("%s: RAM pass at offset %" PRIu64 ": run %zu (page %" PRIu64 ", %" PRIu32
				   " pages, flags 0x%" PRIx32 ") is out of order, out of range or leaves a gap",
				   r->label, off, i, run->first, run->pages, run->flags);
		next = run->first + run->pages;
		sum += run->pages;
		if (run->flags & VSV_RUN_ZERO)
			*zero_pages += run->pages;
		else
			*data_pages += run->pages;
	}
	if ((full && sum != npages) || sum != covered || *data_pages * VSV_PAGE_SIZE != p->data_len)
		return BAD("%s: RAM pass at offset %" PRIu64 ": runs cover %" PRIu64 " pages with %" PRIu64
			   " data pages; header says %" PRIu64 " pages, %" PRIu64 " data bytes%s", r->label, off,
			   sum, *data_pages, covered, p->data_len, full ? ", full pass" : "");
	return 0;
}

static int load_pass(struct vsv_reader *r, struct vsv_rsec *s, uint32_t crc, struct havm_err *err)
{
	struct vsv_section_info *in = &s->info;
	uint64_t payload = in->offset + VSV_SEC_HDR_SIZE;
	uint8_t h[VSV_PASS_HDR_SIZE];
	if (in->instance != 0 || in->version == 0 || in->version > 1 || in->length < VSV_PASS_HDR_SIZE)
		return BAD("%s: RAM section at offset %" PRIu64 ": instance %" PRIu32 ", version %" PRIu32
			   ", length %" PRIu64 " (expected instance 0, version 1)", r->label, in->offset,
			   in->instance, in->version, in->length);
	int rc = vsv_rd(r, h, sizeof(h), payload, "RAM pass header", err);
	if (rc < 0)
		return rc;
	uint32_t nruns = vsv_rd32(h + VSV_PASS_RUNS), flags = vsv_rd32(h + VSV_PASS_FLAGS);
	struct vsv_pass p = {
		.data_abs = payload + vsv_rd64(h + VSV_PASS_DATA_OFF),
		.data_len = vsv_rd64(h + VSV_PASS_DATA_LEN),
		.data_crc = crc,
		.nruns = nruns,
	};
	uint64_t table = VSV_PASS_HDR_SIZE + (uint64_t)nruns * VSV_RUN_SIZE, data_off = p.data_abs - payload;
	if (table > in->length)
		return BAD("%s: RAM pass header at offset %" PRIu64 ": %" PRIu32 " runs do not fit in the section's %"
			   PRIu64 " bytes", r->label, payload, nruns, in->length);
	/* checksum first, so corruption is reported as such, then structure */
	size_t tlen = (size_t)nruns * VSV_RUN_SIZE;
	uint8_t *t = malloc(tlen ? tlen : 1);
	struct vsv_pass *np = realloc(r->passes, (r->npasses + 1) * sizeof(*np));
	if (np)
		r->passes = np;
	p.runs = calloc(nruns ? nruns : 1, sizeof(*p.runs));
	if (!t || !np || !p.runs) {
		free(t);
		free(p.runs);
		return VSV_ERR(err, HAVM_E_IO, -ENOMEM, "%s: out of memory", r->label);
	}
	rc = vsv_rd(r, t, tlen, payload + VSV_PASS_HDR_SIZE, "RAM run table", err);
	uint32_t want = vsv_crc32c(vsv_crc32c(0, h, VSV_PASS_CRC), t, tlen);
	if (rc == 0)
		rc = crc_check(r, "RAM pass header", payload + VSV_PASS_CRC, vsv_rd32(h + VSV_PASS_CRC), want, err);
	for (size_t i = 0; rc == 0 && i < nruns; i++) {
		p.runs[i].first = vsv_rd64(t + i * VSV_RUN_SIZE);
		p.runs[i].pages = vsv_rd32(t + i * VSV_RUN_SIZE + 8);
		p.runs[i].flags = vsv_rd32(t + i * VSV_RUN_SIZE + 12);
	}
	free(t);
	if (rc == 0 && (memcmp(h, VSV_PASS_MAGIC, 4) != 0 || vsv_rd32(h + VSV_PASS_NUMBER) != r->npasses ||
	    vsv_rd32(h + VSV_PASS_PAGE) != VSV_PAGE_SIZE || vsv_rd64(h + VSV_PASS_RAM) != r->desc.ram_size ||
	    (flags & ~VSV_PASS_FULL) || (r->npasses == 0 && !(flags & VSV_PASS_FULL)) ||
	    data_off < table || data_off > in->length || p.data_len != in->length - data_off ||
	    p.data_abs % VSV_RAM_ALIGN))
		rc = BAD("%s: RAM pass header at offset %" PRIu64 " is inconsistent (pass %" PRIu32 " of %zu, "
			 "page size %" PRIu32 ", RAM %" PRIu64 ", flags 0x%" PRIx32 ", %" PRIu32 " runs, data at +%"
			 PRIu64 " for %" PRIu64 " bytes, section %" PRIu64 " bytes)", r->label, payload,
			 vsv_rd32(h + VSV_PASS_NUMBER), r->npasses, vsv_rd32(h + VSV_PASS_PAGE),
			 vsv_rd64(h + VSV_PASS_RAM), flags, nruns, data_off, p.data_len, in->length);
	if (rc == 0)
		rc = check_runs(r, &p, flags & VSV_PASS_FULL, vsv_rd64(h + VSV_PASS_PAGES), payload,
				&in->data_pages, &in->zero_pages, err);
	if (rc < 0) {
		free(p.runs);
		return rc;
	}
	in->pass = (uint32_t)r->npasses;
	in->runs = nruns;
	r->info.ram_data_pages += in->data_pages;
	r->passes[r->npasses++] = p;
	return 0;
}

static int walk_sections(struct vsv_reader *r, uint64_t pos, uint32_t count, uint32_t digest, struct havm_err *err)
{
	uint64_t end = r->size - VSV_TRL_SIZE;
	uint8_t hb[VSV_HDR_SIZE];
	int rc = vsv_rd(r, hb, sizeof(hb), 0, "header", err);
	uint32_t dg = vsv_crc32c(0, hb, sizeof(hb));
	while (rc == 0 && pos < end) {
		uint8_t h[VSV_SEC_HDR_SIZE], tail[VSV_SEC_TAIL_SIZE];
		if (end - pos < VSV_SEC_HDR_SIZE + VSV_SEC_TAIL_SIZE)
			return BAD("%s: %" PRIu64 " stray bytes at offset %" PRIu64 " before the trailer", r->label,
				   end - pos, pos);
		if ((rc = vsv_rd(r, h, sizeof(h), pos, "section header", err)) < 0)
			return rc;
		if (memcmp(h, VSV_SEC_MAGIC, 4) != 0)
			return BAD("%s: no section header at offset %" PRIu64 " (magic %02x%02x%02x%02x)", r->label,
				   pos, h[0], h[1], h[2], h[3]);
		if ((rc = crc_check(r, "section header", pos + VSV_SEC_CRC, vsv_rd32(h + VSV_SEC_CRC),
				    vsv_crc32c(0, h, VSV_SEC_CRC), err)) < 0)
			return rc;
		struct vsv_rsec *s = sec_add(r);
		if (!s)
			return VSV_ERR(err, HAVM_E_IO, -ENOMEM, "%s: out of memory", r->label);
		struct vsv_section_info *in = &s->info;
		in->kind = vsv_rd16(h + VSV_SEC_KIND);
		in->instance = vsv_rd32(h + VSV_SEC_INSTANCE);
		in->version = vsv_rd32(h + VSV_SEC_VERSION);
		in->length = vsv_rd64(h + VSV_SEC_LENGTH);
		in->offset = pos;
		uint8_t nm[VSV_NAME_MAX];
		memcpy(nm, h + VSV_SEC_NAME, VSV_NAME_MAX);
		size_t nlen = strnlen((const char *)nm, VSV_NAME_MAX);
		uint64_t room = end - pos - VSV_SEC_HDR_SIZE - VSV_SEC_TAIL_SIZE;
		if (nlen == 0 || nlen == VSV_NAME_MAX || vsv_rd16(h + VSV_SEC_FLAGS) || vsv_rd32(h + VSV_SEC_RSVD) ||
		    in->length > room || ((in->length + 7) & ~7ull) > room)
			return BAD("%s: section header at offset %" PRIu64 ": bad name, reserved bits or length %"
				   PRIu64 " (%" PRIu64 " bytes left before the trailer)", r->label, pos, in->length, room);
		memcpy(in->name, nm, VSV_NAME_MAX);
		uint64_t tail_off = pos + VSV_SEC_HDR_SIZE + ((in->length + 7) & ~7ull);
		if ((rc = vsv_rd(r, tail, sizeof(tail), tail_off, "section tail", err)) < 0)
			return rc;
		if (memcmp(tail + 4, VSV_SEC_TAIL_MAGIC, 4) != 0)
			return BAD("%s: section %s at offset %" PRIu64 " has no tail at offset %" PRIu64, r->label,
				   in->name, pos, tail_off);
		uint32_t crc = vsv_rd32(tail);
		dg = vsv_digest_section(dg, h, crc);
		if (r->final_disks)
			rc = BAD("%s: section %s at offset %" PRIu64 " follows the final disks record", r->label,
				 in->name, pos);
		else if (in->kind == VSV_KIND_DISKS)
			rc = vsv_read_final_disks(r, in, crc, err);
		else if (in->kind == VSV_KIND_STATE && strcmp(in->name, VSV_RAM_SECTION) != 0)
			rc = load_state(r, s, crc, err);
		else if (in->kind == VSV_KIND_RAM && strcmp(in->name, VSV_RAM_SECTION) == 0)
			rc = load_pass(r, s, crc, err);
		else
			rc = BAD("%s: section %s at offset %" PRIu64 " has unknown kind %u", r->label, in->name, pos,
				 in->kind);
		pos = tail_off + VSV_SEC_TAIL_SIZE;
	}
	if (rc < 0)
		return rc;
	if (r->nsecs != count || VSV_CRC_DIFFERS(dg, digest))
		return BAD("%s: trailer says %" PRIu32 " sections with digest 0x%08" PRIx32 ", found %zu with 0x%08"
			   PRIx32, r->label, count, digest, r->nsecs, dg);
	return 0;
}

static int check_complete(struct vsv_reader *r, struct havm_err *err)
{
	for (uint32_t i = 0; i < r->desc.device_count; i++) {
		const struct vsv_device_desc *d = &r->desc.devices[i];
		const void *data;
		size_t len;
		uint32_t ver;
		if (vsv_reader_section(r, d->name, d->instance, &data, &len, &ver, NULL) < 0)
			return BAD("%s: device %s.%" PRIu32 " is in the machine description but has no section",
				   r->label, d->name, d->instance);
	}
	if ((r->desc.flags & VSV_DESC_FINAL_DISKS) && !r->final_disks)
		return BAD("%s: the header announces a final disks record, the file has none", r->label);
	if (r->desc.ram_size && !r->npasses)
		return BAD("%s: no RAM pass for %" PRIu64 " bytes of RAM", r->label, r->desc.ram_size);
	return 0;
}

static int validate(struct vsv_reader *r, const struct vsv_machine_desc *expected, struct havm_err *err)
{
	uint64_t first = 0;
	uint32_t count = 0, digest = 0;
	int rc = read_header(r, &first, err);
	if (rc == 0)
		rc = read_trailer(r, &count, &digest, err);
	/* The disks to compare may be in the final record: compare after it. */
	bool late = r->desc.flags & VSV_DESC_FINAL_DISKS;
	if (rc == 0 && expected && !late)
		rc = vsv_desc_compare(&r->desc, expected, r->label, err);
	if (rc == 0)
		rc = walk_sections(r, first, count, digest, err);
	if (rc == 0)
		rc = check_complete(r, err);
	if (rc == 0 && expected && late)
		rc = vsv_desc_compare(&r->desc, expected, r->label, err);
	r->info.file_size = r->size;
	r->info.section_count = (uint32_t)r->nsecs;
	r->info.ram_passes = (uint32_t)r->npasses;
	return rc;
}

int vsv_reader_open_source(vsv_read_fn *fn, void *opaque, uint64_t size, const char *label,
			   const struct vsv_machine_desc *expected, struct vsv_reader **out, struct havm_err *err)
{
	*out = NULL;
	struct vsv_reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->label = strdup(label))) {
		free(r);
		return VSV_ERR(err, HAVM_E_IO, -ENOMEM, "%s: out of memory", label);
	}
	r->fd = -1;
	r->fn = fn;
	r->opaque = opaque;
	r->size = size;
	int rc = validate(r, expected, err);
	if (rc < 0) {
		vsv_reader_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

static int mem_source(void *opaque, void *buf, size_t len, uint64_t off)
{
	struct vsv_reader *r = opaque;
	if (len)
		memcpy(buf, r->mem + off, len);  /* vsv_rd checked the bounds */
	return 0;
}

static int file_source(void *opaque, void *buf, size_t len, uint64_t off)
{
	struct vsv_reader *r = opaque;
	return havm_pread_full(r->fd, buf, len, (off_t)off);
}

static int open_with(struct vsv_reader *tmpl, const struct vsv_machine_desc *expected,
		     struct vsv_reader **out, struct havm_err *err)
{
	struct vsv_reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->label = strdup(tmpl->label))) {
		free(r);
		if (tmpl->fd >= 0)
			havm_sys.close(tmpl->fd);
		return VSV_ERR(err, HAVM_E_IO, -ENOMEM, "%s: out of memory", tmpl->label);
	}
	r->fd = tmpl->fd;
	r->mem = tmpl->mem;
	r->size = tmpl->size;
	r->fn = r->fd >= 0 ? file_source : mem_source;
	r->opaque = r;
	int rc = validate(r, expected, err);
	if (rc < 0) {
		vsv_reader_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

int vsv_reader_open_mem(const void *buf, size_t len, const char *label, const struct vsv_machine_desc *expected,
			struct vsv_reader **out, struct havm_err *err)
{
	*out = NULL;
	struct vsv_reader tmpl = { .fd = -1, .mem = buf, .size = len, .label = (char *)label };
	return open_with(&tmpl, expected, out, err);
}

int vsv_reader_open(const char *path, const struct vsv_machine_desc *expected, struct vsv_reader **out,
		    struct havm_err *err)
{
	*out = NULL;
	int fd = havm_sys.open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		int rc = -errno;
		return VSV_ERR(err, rc == -ENOENT ? HAVM_E_NOTFOUND : HAVM_E_IO, rc, "%s: cannot open: %s",
				    path, strerror(-rc));
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int rc = errno ? -errno : -EINVAL;
		havm_sys.close(fd);
		return VSV_ERR(err, HAVM_E_IO, rc, "%s: not a readable regular file", path);
	}
	/* the reader walks forward and loads RAM in big sequential reads */
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	struct vsv_reader tmpl = { .fd = fd, .size = (uint64_t)st.st_size, .label = (char *)path };
	int rc = open_with(&tmpl, expected, out, err);
	if (rc == 0)
		hlog(LOG_DEBUG, "%s: %zu sections, %zu RAM passes", path, (*out)->nsecs, (*out)->npasses);
	return rc;
}

void vsv_reader_close(struct vsv_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		havm_sys.close(r->fd);
	for (size_t i = 0; i < r->nsecs; i++)
		free(r->secs[i].data);
	for (size_t i = 0; i < r->npasses; i++)
		free(r->passes[i].runs);
	free(r->secs);
	free(r->passes);
	free(r->label);
	free(r);
}

const struct vsv_machine_desc *vsv_reader_desc(const struct vsv_reader *r)
{
	return &r->desc;
}

void vsv_reader_info(const struct vsv_reader *r, struct vsv_file_info *info)
{
	*info = r->info;
}

size_t vsv_reader_section_count(const struct vsv_reader *r)
{
	return r->nsecs;
}

const struct vsv_section_info *vsv_reader_section_at(const struct vsv_reader *r, size_t i)
{
	return i < r->nsecs ? &r->secs[i].info : NULL;
}

int vsv_reader_section(const struct vsv_reader *r, const char *name, uint32_t instance, const void **data,
		       size_t *len, uint32_t *version, struct havm_err *err)
{
	for (size_t i = 0; i < r->nsecs; i++) {
		const struct vsv_rsec *s = &r->secs[i];
		if (s->info.kind == VSV_KIND_STATE && s->info.instance == instance &&
		    strncmp(s->info.name, name, VSV_NAME_MAX) == 0) {
			*data = s->data;
			*len = (size_t)s->info.length;
			*version = s->info.version;
			return 0;
		}
	}
	return VSV_ERR(err, HAVM_E_NOTFOUND, -ENOENT, "%s: no section %s.%" PRIu32, r->label, name, instance);
}
