/* havm — opening a VHD image leniently: footer at the end (512 or 511
 * bytes) or the copy at 0, the dynamic header, the BAT; and the accessors
 * tools use. Nothing here writes. */
#define LOG_TAG HAVM_TAG_VHD
#include "vmcore/disk/vhd_int.h"

#include "common/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

int vhd_read_footer_at(struct blk_backend *be, uint64_t off, int short_footer,
		       uint8_t raw[VHD_FOOTER_SIZE])
{
	memset(raw, 0, VHD_FOOTER_SIZE);
	return be->ops->pread(be, raw, short_footer ? VHD_FOOTER_SIZE - 1 : VHD_FOOTER_SIZE, off);
}

int vhd_probe(struct blk_backend *be)
{
	int64_t size = be->ops->size(be);
	uint8_t c[8];
	if (size < 0)
		return (int)size;
	if (size < 511)
		return 0;
	uint64_t offs[3] = { (uint64_t)size - 512, (uint64_t)size - 511, 0 };
	for (int i = 0; i < 3; i++) {
		if (i == 0 && size < 512)
			continue;
		int rc = be->ops->pread(be, c, 8, offs[i]);
		if (rc < 0)
			return rc;
		if (memcmp(c, VHD_COOKIE, 8) == 0)
			return 1;
	}
	return 0;
}

/* Tries the tail footer, then a 511-byte one, then the copy at 0. */
static int footer_load(struct vhd_image *img, struct havm_err *err)
{
	uint8_t raw[VHD_FOOTER_SIZE];
	struct vhd_footer f;
	struct havm_err tail_err;
	havm_err_clear(&tail_err);
	int rc = -EINVAL;
	uint64_t fs = img->file_size;
	if (fs >= 512) {
		rc = vhd_read_footer_at(img->be, fs - 512, 0, raw);
		if (rc < 0)
			return havm_err_set(err, HAVM_E_IO, rc, "%s: reading the footer at %" PRIu64 ": %s",
					    img->name, fs - 512, strerror(-rc));
		vhd_footer_decode(raw, &f);
		rc = vhd_footer_validate(&f, raw, img->name, fs - 512, &tail_err);
		if (rc == 0) {
			img->footer_src = VHD_FOOTER_TAIL;
			img->footer_off = fs - 512;
		}
	}
	if (rc < 0 && fs % 512 == 511) {
		/* Pre-2004 Virtual PC wrote 511-byte footers. */
		if (vhd_read_footer_at(img->be, fs - 511, 1, raw) == 0) {
			vhd_footer_decode(raw, &f);
			if (vhd_footer_validate(&f, raw, img->name, fs - 511, NULL) == 0) {
				rc = 0;
				img->footer_src = VHD_FOOTER_SHORT;
				img->footer_off = fs - 511;
			}
		}
	}
	if (rc < 0 && fs >= 1024) {
		/* Spec: on a bad footer use the copy at 0 (dynamic disks only). */
		if (vhd_read_footer_at(img->be, 0, 0, raw) == 0) {
			vhd_footer_decode(raw, &f);
			if (vhd_footer_validate(&f, raw, img->name, 0, NULL) == 0 && f.type != VHD_TYPE_FIXED) {
				rc = 0;
				img->footer_src = VHD_FOOTER_COPY;
				img->footer_off = fs & ~(uint64_t)511;
				if (img->footer_off == fs)
					img->footer_off -= 512;
				hlog(LOG_WARNING, "%s: tail footer unusable (%s); using the copy at offset 0",
				     img->name, tail_err.msg);
			}
		}
	}
	if (rc < 0) {
		if (fs < 512)
			return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
					    "%s: file is %" PRIu64 " bytes, too short for a VHD footer", img->name, fs);
		if (err)
			*err = tail_err;
		return tail_err.code ? tail_err.code : -EINVAL;
	}
	img->footer = f;
	memcpy(img->footer_raw, raw, VHD_FOOTER_SIZE);
	return 0;
}

static int header_load(struct vhd_image *img, struct havm_err *err)
{
	uint8_t raw[VHD_HEADER_SIZE];
	uint64_t off = img->footer.data_offset;
	if (off + VHD_HEADER_SIZE > img->footer_off)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: footer data offset %" PRIu64 ": the dynamic header would end past the footer at %" PRIu64,
				    img->name, off, img->footer_off);
	int rc = img->be->ops->pread(img->be, raw, sizeof(raw), off);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_IO, rc, "%s: reading the dynamic header at %" PRIu64 ": %s",
				    img->name, off, strerror(-rc));
	vhd_header_decode(raw, &img->hdr);
	return vhd_header_validate(&img->hdr, raw, img->name, off, err);
}

int vhd_image_load(struct vhd_image *img, struct blk_backend *be, int rdwr, struct havm_err *err)
{
	memset(img, 0, sizeof(*img));
	img->be = be;
	img->name = be->name;
	img->rdwr = rdwr;
	int64_t fs = be->ops->size(be);
	if (fs < 0)
		return havm_err_set(err, HAVM_E_IO, (int)fs, "%s: size: %s", img->name, strerror((int)-fs));
	img->file_size = (uint64_t)fs;
	int rc = footer_load(img, err);
	if (rc < 0)
		return rc;
	img->size = vhd_footer_virtual_size(&img->footer);
	if (img->footer.type == VHD_TYPE_FIXED) {
		if (img->size > img->footer_off)
			return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
					    "%s: fixed disk: footer current size %" PRIu64 ", but the file holds only %" PRIu64
					    " bytes before the footer", img->name, img->size, img->footer_off);
		return 0;
	}
	if (img->size > VHD_MAX_DYNAMIC_SIZE)
		return havm_err_set(err, HAVM_E_UNSUPPORTED, -EFBIG,
				    "%s: footer current size %" PRIu64 " is past the 2040 GiB limit of dynamic disks",
				    img->name, img->size);
	rc = header_load(img, err);
	if (rc == 0)
		rc = vhd_bat_load(img, err);
	if (rc < 0) {
		vhd_image_unload(img);
		return rc;
	}
	return 0;
}

void vhd_image_unload(struct vhd_image *img)
{
	if (img->bm) {
		for (uint32_t i = 0; i < img->bat_entries; i++)
			free(img->bm[i]);
	}
	free(img->bm);
	free(img->bm_dirty);
	free(img->bat);
	free(img->bat_dirty);
	free(img->parent_path);
	img->bm = NULL;
	img->bm_dirty = NULL;
	img->bat = NULL;
	img->bat_dirty = NULL;
	img->parent_path = NULL;
}

const struct vhd_footer *vhd_image_footer(const struct vhd_image *img)
{
	return &img->footer;
}

const struct vhd_header *vhd_image_header(const struct vhd_image *img)
{
	return img->footer.type == VHD_TYPE_FIXED ? NULL : &img->hdr;
}

const uint32_t *vhd_image_bat(const struct vhd_image *img, uint32_t *n)
{
	*n = img->bat ? img->bat_entries : 0;
	return img->bat;
}

const char *vhd_image_parent_path(const struct vhd_image *img)
{
	return img->parent_path;
}

int vhd_image_footer_source(const struct vhd_image *img)
{
	return (int)img->footer_src;
}

int vhd_image_parent_name(const struct vhd_image *img, char *buf, size_t cap)
{
	return vhd_utf16_decode(img->hdr.parent_name, sizeof(img->hdr.parent_name), 1, buf, cap);
}
