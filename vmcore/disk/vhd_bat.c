/* havm — the block allocation table: loading and validating it (entries past
 * the end, overlapping blocks or metadata), writing dirty BAT sectors, block
 * placement, and the MSB-first sector bitmap helpers. */
#define LOG_TAG HAVM_TAG_VHD
#include "vmcore/disk/vhd_int.h"

#include "common/fault.h"
#include "common/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int vhd_bitmap_set_range(uint8_t *bm, uint32_t first, uint32_t n)
{
	int changed = 0;
	for (uint32_t i = first; i < first + n; i++) {
		if ((i & 7) == 0 && i + 8 <= first + n) {
			changed |= bm[i >> 3] != 0xFF;
			bm[i >> 3] = 0xFF;
			i += 7;
			continue;
		}
		if (!vhd_bitmap_test(bm, i)) {
			vhd_bitmap_set(bm, i);
			changed = 1;
		}
	}
	return changed;
}

uint32_t vhd_bitmap_run(const uint8_t *bm, uint32_t first, uint32_t max)
{
	int bit = vhd_bitmap_test(bm, first);
	uint32_t n = 1;
	while (n < max && vhd_bitmap_test(bm, first + n) == bit)
		n++;
	return n;
}

uint64_t vhd_block_place(uint64_t from, uint32_t bitmap_bytes)
{
	/* Data 4 KiB aligned, bitmap in the sectors just before (Hyper-V). */
	uint64_t data = (from + bitmap_bytes + 4095) & ~(uint64_t)4095;
	return data - bitmap_bytes;
}

struct region {
	uint64_t start, end;
	uint32_t blk; /* UINT32_MAX for metadata */
};

static int region_cmp(const void *a, const void *b)
{
	const struct region *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static const char *region_name(const struct region *r, char *buf, size_t cap)
{
	if (r->blk == UINT32_MAX)
		snprintf(buf, cap, "metadata at %" PRIu64, r->start);
	else
		snprintf(buf, cap, "BAT entry %u (block at %" PRIu64 ")", r->blk, r->start);
	return buf;
}

/* Blocks must not overlap each other nor the footer copy, header, BAT or
 * locators, and must end before the footer. */
static int bat_validate(struct vhd_image *img, uint64_t limit, struct havm_err *err)
{
	const struct vhd_header *h = &img->hdr;
	uint64_t block_total = img->bitmap_bytes + (uint64_t)h->block_size;
	size_t n = 0, cap = (size_t)img->bat_entries + 3 + VHD_LOCATOR_COUNT;
	struct region *r = calloc(cap, sizeof(*r));
	if (!r)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "%s: out of memory for BAT check", img->name);
	r[n++] = (struct region){ 0, 512, UINT32_MAX };
	r[n++] = (struct region){ img->footer.data_offset, img->footer.data_offset + VHD_HEADER_SIZE, UINT32_MAX };
	r[n++] = (struct region){ h->table_offset, h->table_offset + (uint64_t)h->max_table_entries * 4, UINT32_MAX };
	if (img->footer.type == VHD_TYPE_DIFF)
		for (int i = 0; i < VHD_LOCATOR_COUNT; i++)
			if (h->loc[i].code != VHD_PLAT_NONE && h->loc[i].data_len > 0)
				r[n++] = (struct region){ h->loc[i].data_offset,
							  h->loc[i].data_offset + h->loc[i].data_len, UINT32_MAX };
	int rc = 0;
	for (uint32_t b = 0; b < img->bat_entries; b++) {
		if (img->bat[b] == VHD_BAT_UNUSED)
			continue;
		uint64_t start = (uint64_t)img->bat[b] * 512;
		if (start + block_total > limit) {
			rc = havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
					  "%s: BAT entry %u: block at %" PRIu64 " ends at %" PRIu64
					  ", past the end of the data area (%" PRIu64 ")",
					  img->name, b, start, start + block_total, limit);
			goto out;
		}
		r[n++] = (struct region){ start, start + block_total, b };
	}
	qsort(r, n, sizeof(*r), region_cmp);
	for (size_t i = 1; i < n; i++) {
		if (r[i].start < r[i - 1].end && (r[i].blk != UINT32_MAX || r[i - 1].blk != UINT32_MAX)) {
			char a[96], b[96];
			rc = havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "%s: %s overlaps %s", img->name,
					  region_name(&r[i], a, sizeof(a)), region_name(&r[i - 1], b, sizeof(b)));
			goto out;
		}
	}
out:
	free(r);
	return rc;
}

int vhd_bat_load(struct vhd_image *img, struct havm_err *err)
{
	const struct vhd_header *h = &img->hdr;
	uint64_t needed = (img->size + h->block_size - 1) / h->block_size;
	if ((uint64_t)h->max_table_entries < needed)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: dynamic header: max table entries %u cover %" PRIu64
				    " bytes, the disk is %" PRIu64 " bytes",
				    img->name, h->max_table_entries,
				    (uint64_t)h->max_table_entries * h->block_size, img->size);
	uint64_t bat_bytes = (uint64_t)h->max_table_entries * 4;
	if (h->table_offset + bat_bytes > img->footer_off)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: dynamic header: BAT at %" PRIu64 " with %u entries ends past the footer at %" PRIu64,
				    img->name, h->table_offset, h->max_table_entries, img->footer_off);
	img->bat_entries = h->max_table_entries;
	img->spb = h->block_size / 512;
	img->bitmap_bytes = ((img->spb + 7) / 8 + 511) & ~511u;
	uint64_t padded = (bat_bytes + 511) & ~(uint64_t)511;
	uint8_t *raw = malloc(padded);
	img->bat = calloc(1, padded);
	img->bat_dirty = calloc(padded / 512, 1);
	if (!raw || !img->bat || !img->bat_dirty) {
		free(raw);
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "%s: out of memory for the BAT", img->name);
	}
	memset(raw, 0xFF, padded);
	uint64_t avail = img->file_size - h->table_offset;
	int rc = img->be->ops->pread(img->be, raw, padded <= avail ? padded : bat_bytes, h->table_offset);
	if (rc < 0) {
		free(raw);
		return havm_err_set(err, HAVM_E_IO, rc, "%s: reading the BAT at %" PRIu64 ": %s",
				    img->name, h->table_offset, strerror(-rc));
	}
	for (uint64_t i = 0; i < padded / 4; i++)
		img->bat[i] = vhd_be32(raw + 4 * i);
	free(raw);

	img->meta_end = img->footer.data_offset + VHD_HEADER_SIZE;
	if (h->table_offset + padded > img->meta_end)
		img->meta_end = h->table_offset + padded;
	if (img->footer.type == VHD_TYPE_DIFF)
		for (int i = 0; i < VHD_LOCATOR_COUNT; i++) {
			const struct vhd_locator *l = &h->loc[i];
			if (l->code == VHD_PLAT_NONE)
				continue;
			uint64_t space = l->data_space < 512 ? (uint64_t)l->data_space * 512 : l->data_space;
			if (space < l->data_len)
				space = l->data_len;
			if (l->data_offset + space > img->meta_end && l->data_offset + space <= img->footer_off)
				img->meta_end = (l->data_offset + space + 511) & ~(uint64_t)511;
		}
	/* A bad tail footer (copy in use) may sit inside the last block. */
	uint64_t limit = img->footer_src == VHD_FOOTER_COPY ? img->file_size : img->footer_off;
	rc = bat_validate(img, limit, err);
	if (rc < 0)
		return rc;
	uint64_t end = img->meta_end;
	uint64_t block_total = img->bitmap_bytes + (uint64_t)h->block_size;
	for (uint32_t b = 0; b < img->bat_entries; b++)
		if (img->bat[b] != VHD_BAT_UNUSED && (uint64_t)img->bat[b] * 512 + block_total > end)
			end = (uint64_t)img->bat[b] * 512 + block_total;
	if (img->footer_src == VHD_FOOTER_COPY && end > img->footer_off)
		img->footer_off = (end + 511) & ~(uint64_t)511;
	/* A growable file gets new blocks where the footer is: everything
	 * before it may hold leaked, uncommitted data. */
	img->next_free = (img->be->caps & BLK_BE_CAP_RESIZE) && img->footer_off > end ? img->footer_off : end;
	return 0;
}

int vhd_bat_write_dirty(struct vhd_image *img)
{
	uint64_t sectors = ((uint64_t)img->bat_entries * 4 + 511) / 512;
	uint8_t buf[512];
	for (uint64_t s = 0; s < sectors; s++) {
		if (!img->bat_dirty[s])
			continue;
		for (int i = 0; i < 128; i++)
			vhd_put32(buf + 4 * i, img->bat[s * 128 + i]);
		if (HAVM_FAULT("vhd.bat_write"))
			return -EIO;
		int rc = img->be->ops->pwrite(img->be, buf, 512, img->hdr.table_offset + s * 512);
		if (rc < 0)
			return rc;
		img->bat_dirty[s] = 0;
	}
	return 0;
}
