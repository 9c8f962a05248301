/* vmcore/vsv — the final disks record (format 1.1): a pre-copy writes RAM
 * while the guest still writes its disks, so the disk generations it can
 * vouch for are those at the last pass, not at open. The record carries
 * them at the end of the file and supersedes the description's. */
#define LOG_TAG HAVM_TAG_VSV
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmcore/vsv/reader_int.h"
#include "vmcore/vsv/writer_int.h"

int vsv_write_final_disks(struct vsv_writer *w, const struct vsv_machine_desc *now, struct havm_err *err)
{
	if (vsv_writer_check(w, err) < 0)
		return w->failed;
	const struct vsv_machine_desc *d = &w->desc;
	if (!(d->flags & VSV_DESC_FINAL_DISKS) || w->final_disks || w->sec_dev >= 0)
		return vsv_writer_fail(w, err, HAVM_E_INTERNAL, -EINVAL, "final disks record: %s",
				       !(d->flags & VSV_DESC_FINAL_DISKS) ? "the file was not opened for one" :
				       w->final_disks ? "written twice" : "a section is open");
	if (now->disk_count != d->disk_count)
		return vsv_writer_fail(w, err, HAVM_E_INTERNAL, -EINVAL, "final disks record: %" PRIu32
				       " disks, the description has %" PRIu32, now->disk_count, d->disk_count);
	uint8_t p[VSV_MAX_DISKS * VSV_DESC_DISK];
	memset(p, 0, sizeof(p));
	for (uint32_t i = 0; i < d->disk_count; i++) {
		if (strncmp(now->disks[i].slot, d->disks[i].slot, VSV_NAME_MAX) != 0)
			return vsv_writer_fail(w, err, HAVM_E_INTERNAL, -EINVAL, "final disks record: disk %" PRIu32
					       " is %.15s, the description has %.15s", i, now->disks[i].slot,
					       d->disks[i].slot);
		uint8_t *e = p + i * VSV_DESC_DISK;
		memcpy(e, d->disks[i].slot, strnlen(d->disks[i].slot, VSV_NAME_MAX - 1));
		memcpy(e + 16, now->disks[i].uuid, 16);
		vsv_le64(e + 32, now->disks[i].generation);
	}
	size_t len = (size_t)d->disk_count * VSV_DESC_DISK;
	uint8_t hdr[VSV_SEC_HDR_SIZE];
	vsv_sec_header(hdr, VSV_KIND_DISKS, VSV_DISKS_SECTION, 0, VSV_DISKS_VERSION, len);
	uint32_t crc = 0;
	if (vsv_out_put(w, hdr, sizeof(hdr), NULL) < 0 || vsv_out_put(w, p, len, &crc) < 0)
		return vsv_writer_check(w, err);
	w->final_disks = 1;
	return vsv_sec_finish(w, hdr, len, crc, err);
}

int vsv_read_final_disks(struct vsv_reader *r, const struct vsv_section_info *in, uint32_t crc,
			 struct havm_err *err)
{
	struct vsv_machine_desc *d = &r->desc;
	size_t len = (size_t)d->disk_count * VSV_DESC_DISK;
	if (!(d->flags & VSV_DESC_FINAL_DISKS) || r->final_disks || strcmp(in->name, VSV_DISKS_SECTION) != 0 ||
	    in->instance != 0 || in->version != VSV_DISKS_VERSION || in->length != len)
		return VSV_ERR(err, HAVM_E_FORMAT, -EBADMSG, "%s: final disks record at offset %" PRIu64
			       ": %s (name %s, instance %" PRIu32 ", version %" PRIu32 ", %" PRIu64
			       " bytes; expected disks, 0, %d, %zu)", r->label, in->offset,
			       !(d->flags & VSV_DESC_FINAL_DISKS) ? "the header does not announce one" :
			       r->final_disks ? "a second one" : "malformed",
			       in->name, in->instance, in->version, in->length, VSV_DISKS_VERSION, len);
	uint8_t p[VSV_MAX_DISKS * VSV_DESC_DISK];
	int rc = vsv_rd(r, p, len, in->offset + VSV_SEC_HDR_SIZE, "final disks record", err);
	if (rc < 0)
		return rc;
	uint32_t got = vsv_crc32c(0, p, len);
	if (VSV_CRC_DIFFERS(got, crc))
		return VSV_ERR(err, HAVM_E_FORMAT, -EBADMSG, "%s: final disks record at offset %" PRIu64
			       ": checksum 0x%08" PRIx32 ", computed 0x%08" PRIx32, r->label, in->offset, crc, got);
	for (uint32_t i = 0; i < d->disk_count; i++) {
		const uint8_t *e = p + i * VSV_DESC_DISK;
		if (strncmp((const char *)e, d->disks[i].slot, VSV_NAME_MAX) != 0)
			return VSV_ERR(err, HAVM_E_FORMAT, -EBADMSG, "%s: final disks record at offset %" PRIu64
				       ": entry %" PRIu32 " is not disk %s of the description", r->label,
				       in->offset, i, d->disks[i].slot);
	}
	for (uint32_t i = 0; i < d->disk_count; i++) {
		memcpy(d->disks[i].uuid, p + i * VSV_DESC_DISK + 16, 16);
		d->disks[i].generation = vsv_rd64(p + i * VSV_DESC_DISK + 32);
	}
	r->final_disks = 1;
	return 0;
}
