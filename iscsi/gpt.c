/* havm — GPT encoding, decoding and validation in memory; see gpt.h.
 * Disk I/O is in gpt_io.c, UTF-16 names in gpt_name.c. */
#include "iscsi/gpt.h"
#include "iscsi/gpt_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <zlib.h>

#define HDR_SIZE 92u
#define REVISION 0x00010000u

static const char SIGNATURE[8] = { 'E', 'F', 'I', ' ', 'P', 'A', 'R', 'T' };

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

uint32_t gpt_crc32(const void *buf, size_t len)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)len);
}

/* GUIDs are stored mixed-endian: the first three fields little-endian. The
 * swap is its own inverse. */
static void guid_swap(uint8_t out[16], const uint8_t in[16])
{
	static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	for (int i = 0; i < 16; i++)
		out[i] = in[order[i]];
}

bool gpt_part_used(const struct gpt_part *p)
{
	static const uint8_t zero[16];
	return memcmp(p->type, zero, 16) != 0;
}

int gpt_guid_parse(const char *text, uint8_t out[16])
{
	if (strlen(text) != 36)
		return -EINVAL;
	int n = 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (text[i] != '-')
				return -EINVAL;
			continue;
		}
		unsigned v;
		char c = text[i];
		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
		if (n % 2 == 0)
			out[n / 2] = (uint8_t)(v << 4);
		else
			out[n / 2] |= (uint8_t)v;
		n++;
	}
	return 0;
}

void gpt_guid_format(const uint8_t g[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[0], g[1], g[2],
		 g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

int gpt_guid_random(uint8_t g[16])
{
	if (getrandom(g, 16, 0) != 16)
		return -EIO;
	g[6] = (uint8_t)((g[6] & 0x0f) | 0x40); /* version 4 */
	g[8] = (uint8_t)((g[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	return 0;
}

int gpt_init(struct gpt_table *t, uint64_t dev_sectors, struct havm_err *err)
{
	memset(t, 0, sizeof(*t));
	if (dev_sectors < GPT_MIN_SECTORS)
		return havm_err_set(err, HAVM_E_CONFIG, -ENOSPC,
				    "device of %" PRIu64 " sectors is too small for a GPT (at least %u)",
				    dev_sectors, GPT_MIN_SECTORS);
	if (gpt_guid_random(t->disk_guid) < 0)
		return havm_err_set(err, HAVM_E_IO, -EIO, "getrandom failed for the disk GUID");
	t->dev_sectors = dev_sectors;
	t->first_usable = 2 + GPT_ARRAY_SECTORS;
	t->last_usable = dev_sectors - 2 - GPT_ARRAY_SECTORS;
	t->num_entries = GPT_ENTRIES;
	return 0;
}

int gpt_validate(const struct gpt_table *t, struct havm_err *err)
{
	if (t->dev_sectors < GPT_MIN_SECTORS || t->first_usable > t->last_usable ||
	    t->last_usable >= t->dev_sectors - 1 || t->first_usable < 2)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "usable range %" PRIu64 "..%" PRIu64 " does not fit a device of %" PRIu64
				    " sectors",
				    t->first_usable, t->last_usable, t->dev_sectors);
	if (t->num_entries == 0 || t->num_entries > GPT_ENTRIES)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "%" PRIu32 " entries, expected 1..%u",
				    t->num_entries, GPT_ENTRIES);
	for (uint32_t i = 0; i < t->num_entries; i++) {
		const struct gpt_part *p = &t->part[i];
		if (!gpt_part_used(p))
			continue;
		if (p->first_lba > p->last_lba)
			return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
					    "entry %" PRIu32 ": first LBA %" PRIu64 " after last LBA %" PRIu64, i,
					    p->first_lba, p->last_lba);
		if (p->first_lba < t->first_usable || p->last_lba > t->last_usable)
			return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
					    "entry %" PRIu32 ": LBAs %" PRIu64 "..%" PRIu64
					    " outside the usable range %" PRIu64 "..%" PRIu64,
					    i, p->first_lba, p->last_lba, t->first_usable, t->last_usable);
		if (gpt_name_check(p->name) < 0)
			return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
					    "entry %" PRIu32 ": name is not UTF-8 of at most %u UTF-16 units", i,
					    GPT_NAME_UNITS);
		for (uint32_t j = 0; j < i; j++) {
			const struct gpt_part *q = &t->part[j];
			if (gpt_part_used(q) && p->first_lba <= q->last_lba && q->first_lba <= p->last_lba)
				return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
						    "entry %" PRIu32 " (LBAs %" PRIu64 "..%" PRIu64
						    ") overlaps entry %" PRIu32 " (LBAs %" PRIu64 "..%" PRIu64 ")",
						    i, p->first_lba, p->last_lba, j, q->first_lba, q->last_lba);
		}
	}
	return 0;
}

int gpt_array_location(const uint8_t *hdr, uint64_t dev_sectors, uint64_t *lba, uint32_t *sectors,
		       struct havm_err *err)
{
	uint32_t n = get32(hdr + 80), esz = get32(hdr + 84);
	if (esz != GPT_ENTRY_SIZE)
		return havm_err_set(err, esz && esz % 128 == 0 ? HAVM_E_UNSUPPORTED : HAVM_E_FORMAT, -EINVAL,
				    "entry size %" PRIu32 ", expected %u", esz, GPT_ENTRY_SIZE);
	if (n == 0 || n > GPT_ENTRIES)
		return havm_err_set(err, n ? HAVM_E_UNSUPPORTED : HAVM_E_FORMAT, -EINVAL,
				    "%" PRIu32 " entries, expected 1..%u", n, GPT_ENTRIES);
	uint64_t at = get64(hdr + 72);
	uint32_t secs = (n * GPT_ENTRY_SIZE + GPT_SECTOR - 1) / GPT_SECTOR;
	if (at < 1 || at >= dev_sectors || secs > dev_sectors - at)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "entry array at LBA %" PRIu64 " (%" PRIu32 " sectors) past the end (%" PRIu64
				    " sectors)",
				    at, secs, dev_sectors);
	*lba = at;
	*sectors = secs;
	return 0;
}

int gpt_decode(const uint8_t *hdr, uint64_t hdr_lba, uint64_t dev_sectors, const uint8_t *array,
	       size_t array_len, struct gpt_table *out, struct havm_err *err)
{
	memset(out, 0, sizeof(*out));
	if (memcmp(hdr, SIGNATURE, 8) != 0)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "no \"EFI PART\" signature at LBA %" PRIu64,
				    hdr_lba);
	uint32_t rev = get32(hdr + 8), hsz = get32(hdr + 12);
	if (rev >> 16 != 1)
		return havm_err_set(err, HAVM_E_UNSUPPORTED, -EINVAL, "revision 0x%08" PRIx32 ", expected 0x%08x",
				    rev, REVISION);
	if (hsz < HDR_SIZE || hsz > GPT_SECTOR)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "header size %" PRIu32 ", expected %u..%u", hsz,
				    HDR_SIZE, GPT_SECTOR);
	uint8_t tmp[GPT_SECTOR];
	memcpy(tmp, hdr, hsz);
	memset(tmp + 16, 0, 4);
	uint32_t want = get32(hdr + 16), got = gpt_crc32(tmp, hsz);
	if (want != got)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "header CRC32 0x%08" PRIx32 " at LBA %" PRIu64 ", computed 0x%08" PRIx32, want,
				    hdr_lba, got);
	if (get64(hdr + 24) != hdr_lba)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "header says it is at LBA %" PRIu64 ", read at %" PRIu64,
				    get64(hdr + 24), hdr_lba);
	uint64_t alba = 0;
	uint32_t asecs = 0;
	int rc = gpt_array_location(hdr, dev_sectors, &alba, &asecs, err);
	if (rc < 0)
		return rc;
	uint32_t n = get32(hdr + 80);
	if (array_len < (size_t)n * GPT_ENTRY_SIZE)
		return havm_err_set(err, HAVM_E_INTERNAL, -EINVAL, "entry array buffer too short");
	want = get32(hdr + 88);
	got = gpt_crc32(array, (size_t)n * GPT_ENTRY_SIZE);
	if (want != got)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "entry array CRC32 0x%08" PRIx32 " at LBA %" PRIu64 ", computed 0x%08" PRIx32, want,
				    alba, got);
	out->dev_sectors = dev_sectors;
	out->first_usable = get64(hdr + 40);
	out->last_usable = get64(hdr + 48);
	guid_swap(out->disk_guid, hdr + 56);
	out->num_entries = n;
	/* The usable range must not cover this copy's header or array. */
	if ((hdr_lba >= out->first_usable && hdr_lba <= out->last_usable) ||
	    (alba <= out->last_usable && out->first_usable < alba + asecs))
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "usable range %" PRIu64 "..%" PRIu64 " covers the header or entry array",
				    out->first_usable, out->last_usable);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = array + (size_t)i * GPT_ENTRY_SIZE;
		struct gpt_part *p = &out->part[i];
		guid_swap(p->type, e);
		if (!gpt_part_used(p))
			continue; /* unused entries may hold anything else */
		guid_swap(p->uuid, e + 16);
		p->first_lba = get64(e + 32);
		p->last_lba = get64(e + 40);
		p->attrs = get64(e + 48);
		if (gpt_name_decode(e + 56, p->name) < 0)
			return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
					    "entry %" PRIu32 ": name is not valid UTF-16 (unpaired surrogate)", i);
	}
	return gpt_validate(out, err);
}

void gpt_encode(const struct gpt_table *t, bool primary, uint8_t hdr[GPT_SECTOR],
		uint8_t array[GPT_ARRAY_SECTORS * GPT_SECTOR])
{
	memset(array, 0, GPT_ARRAY_SECTORS * GPT_SECTOR);
	for (uint32_t i = 0; i < t->num_entries && i < GPT_ENTRIES; i++) {
		const struct gpt_part *p = &t->part[i];
		if (!gpt_part_used(p))
			continue;
		uint8_t *e = array + (size_t)i * GPT_ENTRY_SIZE;
		guid_swap(e, p->type);
		guid_swap(e + 16, p->uuid);
		put64(e + 32, p->first_lba);
		put64(e + 40, p->last_lba);
		put64(e + 48, p->attrs);
		gpt_name_encode(p->name, e + 56);
	}
	uint64_t last = t->dev_sectors - 1;
	memset(hdr, 0, GPT_SECTOR);
	memcpy(hdr, SIGNATURE, 8);
	put32(hdr + 8, REVISION);
	put32(hdr + 12, HDR_SIZE);
	put64(hdr + 24, primary ? 1 : last);
	put64(hdr + 32, primary ? last : 1);
	put64(hdr + 40, t->first_usable);
	put64(hdr + 48, t->last_usable);
	guid_swap(hdr + 56, t->disk_guid);
	put64(hdr + 72, primary ? 2 : last - GPT_ARRAY_SECTORS);
	put32(hdr + 80, GPT_ENTRIES);
	put32(hdr + 84, GPT_ENTRY_SIZE);
	put32(hdr + 88, gpt_crc32(array, GPT_ENTRIES * GPT_ENTRY_SIZE));
	put32(hdr + 16, gpt_crc32(hdr, HDR_SIZE));
}

void gpt_encode_pmbr(uint64_t dev_sectors, uint8_t mbr[GPT_SECTOR])
{
	memset(mbr, 0, GPT_SECTOR);
	uint8_t *pe = mbr + 446;
	pe[1] = 0x00, pe[2] = 0x02, pe[3] = 0x00; /* CHS of LBA 1 */
	pe[4] = 0xee;
	pe[5] = 0xff, pe[6] = 0xff, pe[7] = 0xff;
	put32(pe + 8, 1);
	uint64_t n = dev_sectors - 1;
	put32(pe + 12, n > 0xffffffffu ? 0xffffffffu : (uint32_t)n);
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
}

bool gpt_equal(const struct gpt_table *a, const struct gpt_table *b)
{
	if (memcmp(a->disk_guid, b->disk_guid, 16) != 0 || a->first_usable != b->first_usable ||
	    a->last_usable != b->last_usable)
		return false;
	for (uint32_t i = 0; i < GPT_ENTRIES; i++) {
		const struct gpt_part *p = i < a->num_entries ? &a->part[i] : NULL;
		const struct gpt_part *q = i < b->num_entries ? &b->part[i] : NULL;
		bool pu = p && gpt_part_used(p), qu = q && gpt_part_used(q);
		if (pu != qu)
			return false;
		if (pu && (memcmp(p->type, q->type, 16) != 0 || memcmp(p->uuid, q->uuid, 16) != 0 ||
			   p->first_lba != q->first_lba || p->last_lba != q->last_lba || p->attrs != q->attrs ||
			   strcmp(p->name, q->name) != 0))
			return false;
	}
	return true;
}
