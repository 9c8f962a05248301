/* havm — the VHD hard disk footer (512 bytes at the end, copy at 0):
 * checksum, decode, encode and the checks a reader needs. */
#include "vmcore/disk/vhd_int.h"

#include <errno.h>
#include <inttypes.h>

uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t csum_off)
{
	uint32_t sum = 0;
	for (size_t i = 0; i < len; i++)
		if (i < csum_off || i >= csum_off + 4)
			sum += buf[i];
	return ~sum;
}

void vhd_footer_decode(const uint8_t buf[VHD_FOOTER_SIZE], struct vhd_footer *f)
{
	memcpy(f->cookie, buf, 8);
	f->features = vhd_be32(buf + 8);
	f->version = vhd_be32(buf + 12);
	f->data_offset = vhd_be64(buf + 16);
	f->timestamp = vhd_be32(buf + 24);
	memcpy(f->creator_app, buf + 28, 4);
	f->creator_version = vhd_be32(buf + 32);
	f->creator_os = vhd_be32(buf + 36);
	f->original_size = vhd_be64(buf + 40);
	f->current_size = vhd_be64(buf + 48);
	f->cylinders = vhd_be16(buf + 56);
	f->heads = buf[58];
	f->sectors = buf[59];
	f->type = vhd_be32(buf + 60);
	f->checksum = vhd_be32(buf + 64);
	memcpy(f->uuid, buf + 68, 16);
	f->saved_state = buf[84];
	memcpy(f->reserved, buf + 85, sizeof(f->reserved));
}

void vhd_footer_encode(struct vhd_footer *f, uint8_t buf[VHD_FOOTER_SIZE])
{
	memset(buf, 0, VHD_FOOTER_SIZE);
	memcpy(buf, f->cookie, 8);
	vhd_put32(buf + 8, f->features);
	vhd_put32(buf + 12, f->version);
	vhd_put64(buf + 16, f->data_offset);
	vhd_put32(buf + 24, f->timestamp);
	memcpy(buf + 28, f->creator_app, 4);
	vhd_put32(buf + 32, f->creator_version);
	vhd_put32(buf + 36, f->creator_os);
	vhd_put64(buf + 40, f->original_size);
	vhd_put64(buf + 48, f->current_size);
	vhd_put16(buf + 56, f->cylinders);
	buf[58] = f->heads;
	buf[59] = f->sectors;
	vhd_put32(buf + 60, f->type);
	memcpy(buf + 68, f->uuid, 16);
	buf[84] = f->saved_state;
	memcpy(buf + 85, f->reserved, sizeof(f->reserved));
	f->checksum = vhd_checksum(buf, VHD_FOOTER_SIZE, 64);
	vhd_put32(buf + 64, f->checksum);
}

int vhd_footer_validate(const struct vhd_footer *f, const uint8_t raw[VHD_FOOTER_SIZE],
			const char *name, uint64_t off, struct havm_err *err)
{
	if (memcmp(f->cookie, VHD_COOKIE, 8) != 0)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: footer at offset %" PRIu64 ": cookie is not \"conectix\"", name, off);
	uint32_t want = vhd_checksum(raw, VHD_FOOTER_SIZE, 64);
	if (want != f->checksum)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: footer at offset %" PRIu64 ": checksum 0x%08x, expected 0x%08x",
				    name, off, f->checksum, want);
	if (f->version >> 16 != 1)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: footer at offset %" PRIu64 ": format version 0x%08x, expected 0x00010000",
				    name, off, f->version);
	if (f->type != VHD_TYPE_FIXED && f->type != VHD_TYPE_DYNAMIC && f->type != VHD_TYPE_DIFF)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: footer at offset %" PRIu64 ": disk type %u, expected 2 (fixed), 3 (dynamic) or 4 (differencing)",
				    name, off, f->type);
	if (f->type != VHD_TYPE_FIXED && (f->data_offset < 512 || f->data_offset % 512 != 0))
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: footer at offset %" PRIu64 ": data offset %" PRIu64 ", expected a sector-aligned offset >= 512",
				    name, off, f->data_offset);
	if (f->current_size % 512 != 0)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: footer at offset %" PRIu64 ": current size %" PRIu64 " is not a multiple of 512",
				    name, off, f->current_size);
	return 0;
}
