/* havm — `havm vhd check`: the full check list of docs/vhd.md (after
 * blktap's vhd-util check), and --repair of a bad tail footer. */
#define LOG_TAG HAVM_TAG_VHD
#include "vmcore/disk/blk_int.h"

#include "common/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

HAVM_PRINTF(3, 4)
static void add(struct vhd_check_report *r, enum vhd_check_level lvl, const char *fmt, ...)
{
	if (r->count == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct vhd_check_item *n = realloc(r->items, cap * sizeof(*n));
		if (!n)
			return;
		r->items = n;
		r->cap = cap;
	}
	struct vhd_check_item *it = &r->items[r->count++];
	it->level = lvl;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(it->msg, sizeof(it->msg), fmt, ap);
	va_end(ap);
	if (lvl == VHD_CHECK_ERROR)
		r->errors++;
	else if (lvl == VHD_CHECK_WARN)
		r->warnings++;
}

void vhd_check_report_free(struct vhd_check_report *r)
{
	free(r->items);
	memset(r, 0, sizeof(*r));
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void check_footer(const struct vhd_image *img, struct vhd_check_report *r)
{
	const struct vhd_footer *f = &img->footer;
	if ((f->features & ~(VHD_FEATURES_RESERVED | VHD_FEATURES_TEMPORARY)) || !(f->features & VHD_FEATURES_RESERVED))
		add(r, VHD_CHECK_ERROR, "footer: features 0x%08x, expected 0x00000002 (optionally | 0x1)", f->features);
	if (f->version != VHD_VERSION)
		add(r, VHD_CHECK_ERROR, "footer: format version 0x%08x, expected 0x00010000", f->version);
	if (f->type == VHD_TYPE_FIXED && f->data_offset != UINT64_MAX)
		add(r, VHD_CHECK_ERROR, "footer: fixed disk data offset 0x%016" PRIx64 ", expected all ones", f->data_offset);
	if (f->timestamp > vhd_now() + 86400)
		add(r, VHD_CHECK_WARN, "footer: timestamp %u is in the future", f->timestamp);
	struct vhd_chs floor = vhd_chs_from_sectors(f->current_size / 512);
	uint64_t stored = (uint64_t)f->cylinders * f->heads * f->sectors;
	if (stored > vhd_chs_sectors(floor))
		add(r, VHD_CHECK_WARN, "footer: geometry %u/%u/%u is larger than the spec's %u/%u/%u for the current size",
		    f->cylinders, f->heads, f->sectors, floor.cylinders, floor.heads, floor.sectors);
	if (f->saved_state > 1)
		add(r, VHD_CHECK_ERROR, "footer: saved state %u, expected 0 or 1", f->saved_state);
	else if (f->saved_state == 1)
		add(r, VHD_CHECK_WARN, "footer: saved state is set: compaction and expansion are forbidden");
	if (f->reserved[0] > 1)
		add(r, VHD_CHECK_WARN, "footer: byte 85 (blktap hidden flag) is %u", f->reserved[0]);
	if (!all_zero(f->reserved + 1, sizeof(f->reserved) - 1))
		add(r, VHD_CHECK_WARN, "footer: reserved bytes 86-511 are not zero");
	if (all_zero(f->uuid, 16))
		add(r, VHD_CHECK_ERROR, "footer: unique id is all zero");
	if (f->original_size != f->current_size)
		add(r, VHD_CHECK_INFO, "footer: original size %" PRIu64 " differs from current size %" PRIu64
		    " (libvhdi reads the original size)", f->original_size, f->current_size);
	if (img->size != f->current_size)
		add(r, VHD_CHECK_INFO, "footer: creator \"%.4s\" sizes by CHS: %" PRIu64 " bytes, current size %" PRIu64,
		    f->creator_app, img->size, f->current_size);
}

static void check_header(const struct vhd_image *img, struct vhd_check_report *r)
{
	const struct vhd_header *h = &img->hdr;
	if (h->data_offset != UINT64_MAX)
		add(r, VHD_CHECK_WARN, "header: data offset 0x%016" PRIx64 ", expected all ones", h->data_offset);
	uint64_t need = (img->footer.current_size + h->block_size - 1) / h->block_size;
	if (h->max_table_entries != need)
		add(r, VHD_CHECK_WARN, "header: max table entries %u, expected %" PRIu64 " for the disk size",
		    h->max_table_entries, need);
	if (img->footer.type != VHD_TYPE_DIFF) {
		int bad = !all_zero(h->parent_uuid, 16) || !all_zero(h->parent_name, sizeof(h->parent_name));
		for (int i = 0; i < VHD_LOCATOR_COUNT; i++)
			bad |= h->loc[i].code != 0 || h->loc[i].data_offset != 0;
		if (bad)
			add(r, VHD_CHECK_ERROR, "header: parent fields set on a disk that is not differencing");
		return;
	}
	for (int i = 0; i < VHD_LOCATOR_COUNT; i++) {
		const struct vhd_locator *l = &h->loc[i];
		if (l->code == VHD_PLAT_NONE)
			continue;
		uint64_t space = l->data_space < 512 ? (uint64_t)l->data_space * 512 : l->data_space;
		if (l->data_offset + l->data_len > img->footer_off)
			add(r, VHD_CHECK_ERROR, "header: locator %d data at %" PRIu64 " (+%u) is past the footer", i,
			    l->data_offset, l->data_len);
		if (l->data_len > space)
			add(r, VHD_CHECK_WARN, "header: locator %d data length %u exceeds its space %" PRIu64, i,
			    l->data_len, space);
	}
	if (h->parent_timestamp == 0)
		add(r, VHD_CHECK_INFO, "header: parent timestamp is 0 (as Hyper-V writes)");
}

static int u32cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Space no block uses (uncommitted allocations from crashes, discards). */
static void check_space(const struct vhd_image *img, struct vhd_check_report *r)
{
	uint32_t *s = malloc((size_t)img->bat_entries * sizeof(*s) + 1);
	uint32_t n = 0;
	if (!s)
		return;
	for (uint32_t b = 0; b < img->bat_entries; b++)
		if (img->bat[b] != VHD_BAT_UNUSED)
			s[n++] = img->bat[b];
	qsort(s, n, sizeof(*s), u32cmp);
	uint64_t total = img->bitmap_bytes + (uint64_t)img->hdr.block_size, cur = img->meta_end, leak = 0;
	for (uint32_t i = 0; i <= n; i++) {
		uint64_t start = i < n ? (uint64_t)s[i] * 512 : img->footer_off;
		/* Alignment padding is not a leak, nor the free space before
		 * the footer of a fixed-size store (block device, LUN). */
		int tail_free = i == n && !(img->be->caps & BLK_BE_CAP_RESIZE);
		if (start > cur && start - cur >= 4096 && !tail_free)
			leak += start - cur;
		if (i < n)
			cur = start + total;
	}
	free(s);
	r->allocated_blocks = n;
	r->leaked_bytes = leak;
	if (leak)
		add(r, VHD_CHECK_INFO, "%" PRIu64 " bytes of the file are not used by any block (leaked; compaction reclaims them)",
		    leak);
}

/* Tail footer and copy, raw: the open path already fell back if needed. */
static void check_copies(struct vhd_image *img, int repair, struct vhd_check_report *r)
{
	uint8_t tail[VHD_FOOTER_SIZE], copy[VHD_FOOTER_SIZE];
	struct vhd_footer f;
	struct havm_err e;
	havm_err_clear(&e);
	if (img->footer_src == VHD_FOOTER_SHORT)
		add(r, VHD_CHECK_WARN, "footer: 511 bytes long (pre-2004 Virtual PC)");
	if (img->footer.type == VHD_TYPE_FIXED)
		return;
	if (vhd_read_footer_at(img->be, 0, 0, copy) == 0) {
		vhd_footer_decode(copy, &f);
		if (vhd_footer_validate(&f, copy, img->name, 0, &e) < 0)
			add(r, VHD_CHECK_ERROR, "footer copy at 0: %s", e.msg);
		else if (img->footer_src == VHD_FOOTER_TAIL && memcmp(copy, img->footer_raw, VHD_FOOTER_SIZE) != 0)
			add(r, VHD_CHECK_ERROR, "footer copy at 0 differs from the footer at %" PRIu64, img->footer_off);
	}
	if (img->footer_src != VHD_FOOTER_COPY)
		return;
	int rc = vhd_read_footer_at(img->be, img->file_size >= 512 ? img->file_size - 512 : 0, 0, tail);
	(void)rc;
	if (!repair) {
		add(r, VHD_CHECK_ERROR, "footer at the end of the file is bad; the copy at 0 is good (--repair rewrites it)");
		return;
	}
	/* Repair: the copy goes where the footer belongs, after the last block. */
	rc = img->be->ops->pwrite(img->be, copy, VHD_FOOTER_SIZE, img->footer_off);
	if (rc == 0 && img->file_size > img->footer_off + VHD_FOOTER_SIZE && img->be->ops->resize)
		rc = img->be->ops->resize(img->be, img->footer_off + VHD_FOOTER_SIZE);
	if (rc == 0)
		rc = img->be->ops->flush(img->be);
	if (rc < 0) {
		add(r, VHD_CHECK_ERROR, "repair: writing the footer at %" PRIu64 " failed: %s", img->footer_off,
		    strerror(-rc));
		return;
	}
	r->repaired = 1;
	add(r, VHD_CHECK_INFO, "repaired: footer rewritten at %" PRIu64 " from the copy at 0", img->footer_off);
}

static void check_parent(const char *path, struct vhd_check_report *r)
{
	struct blk_dev *d;
	struct havm_err e;
	havm_err_clear(&e);
	if (blk_open(path, 0, &d, &e) < 0) {
		add(r, VHD_CHECK_ERROR, "parent chain: %s", e.msg);
		return;
	}
	add(r, VHD_CHECK_INFO, "parent: %s", vhd_image_parent_path(blk_vhd(d)));
	(void)blk_close(d);
}

int vhd_check(const char *path, int repair, struct vhd_check_report *r, struct havm_err *err)
{
	memset(r, 0, sizeof(*r));
	struct blk_backend *be;
	int rc = blk_backend_file_open(path, repair ? BLK_O_RDWR : 0, &be, err);
	if (rc < 0)
		return rc;
	if (vhd_probe(be) != 1) {
		(void)blk_backend_close(be);
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "%s: no VHD footer (cookie \"conectix\") at the end or at 0",
				    path);
	}
	struct vhd_image img;
	struct havm_err e;
	havm_err_clear(&e);
	rc = vhd_image_load(&img, be, 0, &e);
	if (rc < 0) {
		add(r, VHD_CHECK_ERROR, "%s", e.msg);
		(void)blk_backend_close(be);
		return 0;
	}
	check_copies(&img, repair, r);
	check_footer(&img, r);
	if (img.footer.type != VHD_TYPE_FIXED) {
		check_header(&img, r);
		check_space(&img, r);
	}
	int diff = img.footer.type == VHD_TYPE_DIFF;
	vhd_image_unload(&img);
	rc = blk_backend_close(be);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_IO, rc, "%s: close: %s", path, strerror(-rc));
	if (diff)
		check_parent(path, r);
	return 0;
}
