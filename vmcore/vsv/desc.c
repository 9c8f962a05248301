/* vmcore/vsv — the machine description record: encoding, checks, and the
 * comparison that refuses a .vsv made for another machine or disk state. */
#include "vmcore/vsv/format_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int name_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	return n > 0 && n < cap;
}

static void put_name(uint8_t *p, const char *s, size_t cap)
{
	memset(p, 0, cap);
	memcpy(p, s, strnlen(s, cap - 1));
}

/* A stored name must be NUL-terminated, NUL-padded, printable. */
static int get_name(char *dst, const uint8_t *p, size_t cap, int allow_empty)
{
	size_t n = strnlen((const char *)p, cap);
	if (n == cap || (!allow_empty && n == 0))
		return -1;
	for (size_t i = 0; i < cap; i++)
		if (i < n ? (p[i] < 0x20 || p[i] > 0x7e) : p[i] != 0)
			return -1;
	memcpy(dst, p, cap);
	return 0;
}

size_t vsv_desc_encode(const struct vsv_machine_desc *d, uint8_t *out)
{
	memset(out, 0, VSV_DESC_FIXED);
	vsv_le64(out, d->ram_size);
	vsv_le32(out + 8, VSV_PAGE_SIZE);
	put_name(out + 12, d->cpu_model, VSV_MODEL_MAX);
	vsv_le32(out + 44, d->device_count);
	vsv_le32(out + 48, d->disk_count);
	uint8_t *p = out + VSV_DESC_FIXED;
	for (uint32_t i = 0; i < d->device_count; i++, p += VSV_DESC_DEVICE) {
		put_name(p, d->devices[i].name, VSV_NAME_MAX);
		vsv_le32(p + 16, d->devices[i].instance);
		vsv_le32(p + 20, d->devices[i].version);
	}
	for (uint32_t i = 0; i < d->disk_count; i++, p += VSV_DESC_DISK) {
		put_name(p, d->disks[i].slot, VSV_NAME_MAX);
		memcpy(p + 16, d->disks[i].uuid, 16);
		vsv_le64(p + 32, d->disks[i].generation);
	}
	return (size_t)(p - out);
}

int vsv_desc_decode(const uint8_t *p, size_t len, struct vsv_machine_desc *d, char *why, size_t whylen)
{
	memset(d, 0, sizeof(*d));
	if (len < VSV_DESC_FIXED) {
		snprintf(why, whylen, "machine description is %zu bytes, at least %d expected", len, VSV_DESC_FIXED);
		return -EBADMSG;
	}
	d->ram_size = vsv_rd64(p);
	uint32_t page = vsv_rd32(p + 8);
	d->device_count = vsv_rd32(p + 44);
	d->disk_count = vsv_rd32(p + 48);
	if (page != VSV_PAGE_SIZE || d->ram_size % VSV_PAGE_SIZE) {
		snprintf(why, whylen, "machine description: page size %" PRIu32 ", RAM size %" PRIu64
			 " (expected page size 4096 dividing the RAM size)", page, d->ram_size);
		return -EBADMSG;
	}
	if (get_name(d->cpu_model, p + 12, VSV_MODEL_MAX, 1) < 0) {
		snprintf(why, whylen, "machine description: CPU model is not a NUL-terminated printable name");
		return -EBADMSG;
	}
	if (d->device_count > VSV_MAX_DEVICES || d->disk_count > VSV_MAX_DISKS ||
	    len != VSV_DESC_FIXED + (size_t)d->device_count * VSV_DESC_DEVICE + (size_t)d->disk_count * VSV_DESC_DISK) {
		snprintf(why, whylen, "machine description: %" PRIu32 " devices and %" PRIu32
			 " disks do not fit its %zu bytes (limits %d and %d)",
			 d->device_count, d->disk_count, len, VSV_MAX_DEVICES, VSV_MAX_DISKS);
		return -EBADMSG;
	}
	const uint8_t *q = p + VSV_DESC_FIXED;
	for (uint32_t i = 0; i < d->device_count; i++, q += VSV_DESC_DEVICE) {
		struct vsv_device_desc *dev = &d->devices[i];
		if (get_name(dev->name, q, VSV_NAME_MAX, 0) < 0) {
			snprintf(why, whylen, "machine description: device %" PRIu32 " has a malformed name", i);
			return -EBADMSG;
		}
		dev->instance = vsv_rd32(q + 16);
		dev->version = vsv_rd32(q + 20);
		if (vsv_desc_find(d, dev->name, dev->instance) != (int)i || strcmp(dev->name, VSV_RAM_SECTION) == 0) {
			snprintf(why, whylen, "machine description: device %s.%" PRIu32 " is listed twice or reserved",
				 dev->name, dev->instance);
			return -EBADMSG;
		}
	}
	for (uint32_t i = 0; i < d->disk_count; i++, q += VSV_DESC_DISK) {
		if (get_name(d->disks[i].slot, q, VSV_NAME_MAX, 0) < 0) {
			snprintf(why, whylen, "machine description: disk %" PRIu32 " has a malformed slot name", i);
			return -EBADMSG;
		}
		memcpy(d->disks[i].uuid, q + 16, 16);
		d->disks[i].generation = vsv_rd64(q + 32);
	}
	return 0;
}

int vsv_desc_find(const struct vsv_machine_desc *d, const char *name, uint32_t instance)
{
	for (uint32_t i = 0; i < d->device_count && i < VSV_MAX_DEVICES; i++)
		if (d->devices[i].instance == instance && strncmp(d->devices[i].name, name, VSV_NAME_MAX) == 0)
			return (int)i;
	return -1;
}

static int disk_find(const struct vsv_machine_desc *d, const char *slot)
{
	for (uint32_t i = 0; i < d->disk_count && i < VSV_MAX_DISKS; i++)
		if (strncmp(d->disks[i].slot, slot, VSV_NAME_MAX) == 0)
			return (int)i;
	return -1;
}

int vsv_desc_check(const struct vsv_machine_desc *d, struct havm_err *err)
{
	if (d->ram_size % VSV_PAGE_SIZE)
		return VSV_ERR(err, HAVM_E_INTERNAL, -EINVAL, "machine description: RAM size %" PRIu64
				    " is not a multiple of %u", d->ram_size, VSV_PAGE_SIZE);
	if (strnlen(d->cpu_model, VSV_MODEL_MAX) == VSV_MODEL_MAX)
		return VSV_ERR(err, HAVM_E_INTERNAL, -EINVAL, "machine description: CPU model too long");
	if (d->device_count > VSV_MAX_DEVICES || d->disk_count > VSV_MAX_DISKS)
		return VSV_ERR(err, HAVM_E_INTERNAL, -EINVAL, "machine description: %" PRIu32
				    " devices, %" PRIu32 " disks (limits %d, %d)", d->device_count,
				    d->disk_count, VSV_MAX_DEVICES, VSV_MAX_DISKS);
	for (uint32_t i = 0; i < d->device_count; i++) {
		const struct vsv_device_desc *dev = &d->devices[i];
		if (!name_ok(dev->name, VSV_NAME_MAX) || strcmp(dev->name, VSV_RAM_SECTION) == 0 ||
		    vsv_desc_find(d, dev->name, dev->instance) != (int)i)
			return VSV_ERR(err, HAVM_E_INTERNAL, -EINVAL, "machine description: device %" PRIu32
					    " name invalid, reserved or listed twice", i);
	}
	for (uint32_t i = 0; i < d->disk_count; i++)
		if (!name_ok(d->disks[i].slot, VSV_NAME_MAX) || disk_find(d, d->disks[i].slot) != (int)i)
			return VSV_ERR(err, HAVM_E_INTERNAL, -EINVAL, "machine description: disk %" PRIu32
					    " slot invalid or listed twice", i);
	return 0;
}

int vsv_desc_add_device(struct vsv_machine_desc *d, const char *name, uint32_t instance, uint32_t version)
{
	if (!name_ok(name, VSV_NAME_MAX))
		return -EINVAL;
	if (d->device_count >= VSV_MAX_DEVICES)
		return -ENOSPC;
	struct vsv_device_desc *dev = &d->devices[d->device_count++];
	memset(dev, 0, sizeof(*dev));
	memcpy(dev->name, name, strlen(name));
	dev->instance = instance;
	dev->version = version;
	return 0;
}

int vsv_desc_add_disk(struct vsv_machine_desc *d, const char *slot, const uint8_t uuid[16], uint64_t generation)
{
	if (!name_ok(slot, VSV_NAME_MAX))
		return -EINVAL;
	if (d->disk_count >= VSV_MAX_DISKS)
		return -ENOSPC;
	struct vsv_disk_desc *disk = &d->disks[d->disk_count++];
	memset(disk, 0, sizeof(*disk));
	memcpy(disk->slot, slot, strlen(slot));
	memcpy(disk->uuid, uuid, 16);
	disk->generation = generation;
	return 0;
}

static void uuid_str(const uint8_t u[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	char *o = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[u[i] >> 4];
		*o++ = hex[u[i] & 15];
	}
	*o = '\0';
}

int vsv_desc_compare(const struct vsv_machine_desc *f, const struct vsv_machine_desc *e,
		     const char *label, struct havm_err *err)
{
	if (f->ram_size != e->ram_size)
		return VSV_ERR(err, HAVM_E_CONFIG, -EINVAL, "%s: saved with %" PRIu64 " bytes of RAM, "
				    "this machine has %" PRIu64, label, f->ram_size, e->ram_size);
	if (strncmp(f->cpu_model, e->cpu_model, VSV_MODEL_MAX) != 0)
		return VSV_ERR(err, HAVM_E_CONFIG, -EINVAL, "%s: saved with CPU model \"%s\", this machine "
				    "has \"%s\"", label, f->cpu_model, e->cpu_model);
	for (uint32_t i = 0; i < f->device_count; i++) {
		const struct vsv_device_desc *fd = &f->devices[i];
		int j = vsv_desc_find(e, fd->name, fd->instance);
		if (j < 0)
			return VSV_ERR(err, HAVM_E_CONFIG, -EINVAL, "%s: device %s.%" PRIu32
					    " is in the saved state but not in this machine", label, fd->name, fd->instance);
		if (fd->version > e->devices[j].version)
			return VSV_ERR(err, HAVM_E_UNSUPPORTED, -ENOTSUP, "%s: device %s.%" PRIu32
					    " state version %" PRIu32 " is newer than this build reads (%" PRIu32 ")",
					    label, fd->name, fd->instance, fd->version, e->devices[j].version);
	}
	for (uint32_t i = 0; i < e->device_count; i++)
		if (vsv_desc_find(f, e->devices[i].name, e->devices[i].instance) < 0)
			return VSV_ERR(err, HAVM_E_CONFIG, -EINVAL, "%s: device %s.%" PRIu32
					    " of this machine is missing from the saved state", label,
					    e->devices[i].name, e->devices[i].instance);
	for (uint32_t i = 0; i < e->disk_count; i++) {
		const struct vsv_disk_desc *ed = &e->disks[i];
		int j = disk_find(f, ed->slot);
		if (j < 0)
			return VSV_ERR(err, HAVM_E_CONFIG, -EINVAL, "%s: disk %s of this machine is not in "
					    "the saved state", label, ed->slot);
		const struct vsv_disk_desc *fd = &f->disks[j];
		if (memcmp(fd->uuid, ed->uuid, 16) != 0) {
			char a[37], b[37];
			uuid_str(fd->uuid, a);
			uuid_str(ed->uuid, b);
			return VSV_ERR(err, HAVM_E_CONFIG, -EINVAL, "%s: disk %s is a different disk: saved "
					    "with %s, now %s", label, ed->slot, a, b);
		}
		if (fd->generation != ed->generation)
			return VSV_ERR(err, HAVM_E_STATE, -ESTALE, "%s: disk %s has moved on since the save: "
					    "state belongs to write generation %" PRIu64 ", disk is at %" PRIu64,
					    label, ed->slot, fd->generation, ed->generation);
	}
	for (uint32_t i = 0; i < f->disk_count; i++)
		if (disk_find(e, f->disks[i].slot) < 0)
			return VSV_ERR(err, HAVM_E_CONFIG, -EINVAL, "%s: disk %s is in the saved state but "
					    "not in this machine", label, f->disks[i].slot);
	return 0;
}
