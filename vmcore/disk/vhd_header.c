/* havm — the dynamic disk header (1024 bytes at footer.data_offset) and its
 * eight parent locator entries. */
#include "vmcore/disk/vhd_int.h"

#include <errno.h>
#include <inttypes.h>

void vhd_header_decode(const uint8_t buf[VHD_HEADER_SIZE], struct vhd_header *h)
{
	memcpy(h->cookie, buf, 8);
	h->data_offset = vhd_be64(buf + 8);
	h->table_offset = vhd_be64(buf + 16);
	h->version = vhd_be32(buf + 24);
	h->max_table_entries = vhd_be32(buf + 28);
	h->block_size = vhd_be32(buf + 32);
	h->checksum = vhd_be32(buf + 36);
	memcpy(h->parent_uuid, buf + 40, 16);
	h->parent_timestamp = vhd_be32(buf + 56);
	h->reserved1 = vhd_be32(buf + 60);
	memcpy(h->parent_name, buf + 64, 512);
	for (int i = 0; i < VHD_LOCATOR_COUNT; i++) {
		const uint8_t *p = buf + 576 + 24 * i;
		h->loc[i].code = vhd_be32(p);
		h->loc[i].data_space = vhd_be32(p + 4);
		h->loc[i].data_len = vhd_be32(p + 8);
		h->loc[i].reserved = vhd_be32(p + 12);
		h->loc[i].data_offset = vhd_be64(p + 16);
	}
	memcpy(h->reserved2, buf + 768, 256);
}

void vhd_header_encode(struct vhd_header *h, uint8_t buf[VHD_HEADER_SIZE])
{
	memset(buf, 0, VHD_HEADER_SIZE);
	memcpy(buf, h->cookie, 8);
	vhd_put64(buf + 8, h->data_offset);
	vhd_put64(buf + 16, h->table_offset);
	vhd_put32(buf + 24, h->version);
	vhd_put32(buf + 28, h->max_table_entries);
	vhd_put32(buf + 32, h->block_size);
	memcpy(buf + 40, h->parent_uuid, 16);
	vhd_put32(buf + 56, h->parent_timestamp);
	vhd_put32(buf + 60, h->reserved1);
	memcpy(buf + 64, h->parent_name, 512);
	for (int i = 0; i < VHD_LOCATOR_COUNT; i++) {
		uint8_t *p = buf + 576 + 24 * i;
		vhd_put32(p, h->loc[i].code);
		vhd_put32(p + 4, h->loc[i].data_space);
		vhd_put32(p + 8, h->loc[i].data_len);
		vhd_put32(p + 12, h->loc[i].reserved);
		vhd_put64(p + 16, h->loc[i].data_offset);
	}
	memcpy(buf + 768, h->reserved2, 256);
	h->checksum = vhd_checksum(buf, VHD_HEADER_SIZE, 36);
	vhd_put32(buf + 36, h->checksum);
}

int vhd_header_validate(const struct vhd_header *h, const uint8_t raw[VHD_HEADER_SIZE],
			const char *name, uint64_t off, struct havm_err *err)
{
	if (memcmp(h->cookie, VHD_HEADER_COOKIE, 8) != 0)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: dynamic header at offset %" PRIu64 ": cookie is not \"cxsparse\"", name, off);
	uint32_t want = vhd_checksum(raw, VHD_HEADER_SIZE, 36);
	if (want != h->checksum)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: dynamic header at offset %" PRIu64 ": checksum 0x%08x, expected 0x%08x",
				    name, off, h->checksum, want);
	if (h->version >> 16 != 1)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: dynamic header at offset %" PRIu64 ": header version 0x%08x, expected 0x00010000",
				    name, off, h->version);
	uint32_t bs = h->block_size;
	if (bs < 512 || bs > VHD_MAX_BLOCK_SIZE || (bs & (bs - 1)) != 0)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: dynamic header at offset %" PRIu64 ": block size %u, expected a power of two from 512 to %u",
				    name, off, bs, VHD_MAX_BLOCK_SIZE);
	if (h->table_offset % 512 != 0 || h->table_offset < 512)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: dynamic header at offset %" PRIu64 ": table offset %" PRIu64 " is not sector-aligned",
				    name, off, h->table_offset);
	return 0;
}
