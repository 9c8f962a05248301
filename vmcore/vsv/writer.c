/* vmcore/vsv — the writer: header, device sections, trailer, and the
 * atomic commit (write "<path>.tmp", fsync, rename, fsync the directory).
 * Every byte goes through one buffer to a sink, so a file, a migration
 * stream and a LUN region are written alike. */
#define LOG_TAG HAVM_TAG_VSV
#include "vmcore/vsv/writer_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/log.h"
#include "common/sys.h"

int vsv_writer_fail(struct vsv_writer *w, struct havm_err *err, enum havm_err_kind kind, int code,
		    const char *fmt, ...)
{
	if (!w->failed) {
		char msg[HAVM_ERR_MSG_MAX];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		w->failed = havm_err_set(&w->ferr, kind, code, "%s: %s", w->label, msg);
	}
	return vsv_writer_check(w, err);
}

int vsv_writer_check(struct vsv_writer *w, struct havm_err *err)
{
	if (w->failed && err)
		*err = w->ferr;
	return w->failed;
}

static int out_flush(struct vsv_writer *w)
{
	if (!w->buf_len)
		return 0;
	int rc = w->fn(w->opaque, w->buf, w->buf_len);
	if (rc == 0 && HAVM_FAULT("vsv.chunk_written"))
		rc = -EIO;
	if (rc < 0)
		return vsv_writer_fail(w, NULL, HAVM_E_IO, rc, "write at offset %" PRIu64 " failed: %s",
				       w->file_off, strerror(-rc));
	w->file_off += w->buf_len;
	w->buf_len = 0;
	return 0;
}

int vsv_out_put(struct vsv_writer *w, const void *src, size_t len, uint32_t *crc)
{
	const uint8_t *p = src;
	while (len) {
		size_t n = VSV_OUT_BUF - w->buf_len;
		if (n > len)
			n = len;
		/* checksum the copy, not the source: a running guest may change it */
		memcpy(w->buf + w->buf_len, p, n);
		if (crc)
			*crc = vsv_crc32c(*crc, w->buf + w->buf_len, n);
		w->buf_len += n;
		p += n;
		len -= n;
		if (w->buf_len == VSV_OUT_BUF && out_flush(w) < 0)
			return w->failed;
	}
	return 0;
}

int vsv_out_zero(struct vsv_writer *w, size_t len)
{
	static const uint8_t zeros[256];
	while (len) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);
		if (vsv_out_put(w, zeros, n, NULL) < 0)
			return w->failed;
		len -= n;
	}
	return 0;
}

uint64_t vsv_writer_offset(const struct vsv_writer *w)
{
	return w->file_off + w->buf_len;
}

static int file_sink(void *opaque, const void *buf, size_t len)
{
	struct vsv_writer *w = opaque;
	return havm_pwrite_full(w->fd, buf, len, (off_t)w->file_off);
}

static void writer_free(struct vsv_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		havm_sys.close(w->fd);
	free(w->sec_buf);
	free(w->buf);
	free(w->path);
	free(w->tmp);
	free(w->label);
	free(w);
}

static int write_header(struct vsv_writer *w, struct havm_err *err)
{
	uint8_t rec[VSV_HDR_SIZE + VSV_DESC_MAX + 8];
	memset(rec, 0, sizeof(rec));
	size_t dlen = vsv_desc_encode(&w->desc, rec + VSV_HDR_SIZE);
	size_t first = (VSV_HDR_SIZE + dlen + 7) & ~(size_t)7;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	memcpy(rec, VSV_MAGIC, 8);
	vsv_le16(rec + VSV_HDR_MAJOR, VSV_VERSION_MAJOR);
	/* 1.1 only when the file uses what 1.1 added: other files stay
	 * readable by 1.0 readers. */
	bool final_disks = w->desc.flags & VSV_DESC_FINAL_DISKS;
	vsv_le16(rec + VSV_HDR_MINOR, final_disks ? 1 : 0);
	vsv_le32(rec + VSV_HDR_FLAGS, final_disks ? VSV_FLAG_FINAL_DISKS : 0);
	vsv_le32(rec + VSV_HDR_FIRST, (uint32_t)first);
	vsv_le32(rec + VSV_HDR_DESC_LEN, (uint32_t)dlen);
	vsv_le32(rec + VSV_HDR_DESC_CRC, vsv_crc32c(0, rec + VSV_HDR_SIZE, dlen));
	vsv_le64(rec + VSV_HDR_CREATED, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	vsv_le32(rec + VSV_HDR_CRC, vsv_crc32c(0, rec, VSV_HDR_CRC));
	w->digest = vsv_crc32c(0, rec, VSV_HDR_SIZE);
	if (vsv_out_put(w, rec, first, NULL) < 0 || out_flush(w) < 0)
		return vsv_writer_check(w, err);
	if (HAVM_FAULT("vsv.header_written"))
		return vsv_writer_fail(w, err, HAVM_E_IO, -EIO, "header write failed (injected)");
	return 0;
}

static int writer_new(const struct vsv_machine_desc *desc, const char *label, struct vsv_writer **out,
		      struct havm_err *err)
{
	*out = NULL;
	int rc = vsv_desc_check(desc, err);
	if (rc < 0) {
		havm_err_prefix(err, "%s", label);
		return rc;
	}
	struct vsv_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->buf = malloc(VSV_OUT_BUF)) || !(w->label = strdup(label))) {
		writer_free(w);
		return VSV_ERR(err, HAVM_E_IO, -ENOMEM, "%s: out of memory", label);
	}
	w->fd = -1;
	w->sec_dev = -1;
	w->desc = *desc;
	*out = w;
	return 0;
}

int vsv_writer_open_sink(vsv_write_fn *fn, void *opaque, const char *label,
			 const struct vsv_machine_desc *desc, struct vsv_writer **out, struct havm_err *err)
{
	struct vsv_writer *w;
	*out = NULL;
	int rc = writer_new(desc, label, &w, err);
	if (rc < 0)
		return rc;
	w->fn = fn;
	w->opaque = opaque;
	if ((rc = write_header(w, err)) < 0) {
		writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int vsv_writer_open(const char *path, const struct vsv_machine_desc *desc, struct vsv_writer **out,
		    struct havm_err *err)
{
	struct vsv_writer *w;
	*out = NULL;
	int rc = writer_new(desc, path, &w, err);
	if (rc < 0)
		return rc;
	if (!(w->path = strdup(path)) || asprintf(&w->tmp, "%s.tmp", path) < 0) {
		w->tmp = NULL;
		writer_free(w);
		return VSV_ERR(err, HAVM_E_IO, -ENOMEM, "%s: out of memory", path);
	}
	w->fd = havm_sys.open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		rc = -errno;
		havm_err_set(err, rc == -ENOENT ? HAVM_E_NOTFOUND : HAVM_E_IO, rc, "%s: cannot create: %s",
			     w->tmp, strerror(-rc));
		writer_free(w);
		return rc;
	}
	w->fn = file_sink;
	w->opaque = w;
	if (HAVM_FAULT("vsv.tmp_created") || (rc = write_header(w, err)) < 0) {
		if (rc == 0)
			rc = VSV_ERR(err, HAVM_E_IO, -EIO, "%s: create failed (injected)", w->tmp);
		vsv_writer_abort(w);
		return rc;
	}
	*out = w;
	return 0;
}

void vsv_sec_header(uint8_t *h, enum vsv_section_kind kind, const char *name, uint32_t instance,
		    uint32_t version, uint64_t length)
{
	memset(h, 0, VSV_SEC_HDR_SIZE);
	vsv_magic4(h, VSV_SEC_MAGIC);
	vsv_le16(h + VSV_SEC_KIND, (uint16_t)kind);
	memcpy(h + VSV_SEC_NAME, name, strnlen(name, VSV_NAME_MAX - 1));
	vsv_le32(h + VSV_SEC_INSTANCE, instance);
	vsv_le32(h + VSV_SEC_VERSION, version);
	vsv_le64(h + VSV_SEC_LENGTH, length);
	vsv_le32(h + VSV_SEC_CRC, vsv_crc32c(0, h, VSV_SEC_CRC));
}

int vsv_sec_finish(struct vsv_writer *w, const uint8_t *hdr, uint64_t length, uint32_t crc,
		   struct havm_err *err)
{
	uint8_t tail[VSV_SEC_TAIL_SIZE];
	vsv_le32(tail, crc);
	vsv_magic4(tail + 4, VSV_SEC_TAIL_MAGIC);
	if (vsv_out_zero(w, (size_t)(-length & 7)) < 0 || vsv_out_put(w, tail, sizeof(tail), NULL) < 0)
		return vsv_writer_check(w, err);
	w->digest = vsv_digest_section(w->digest, hdr, crc);
	w->sections++;
	if (HAVM_FAULT("vsv.section_written"))
		return vsv_writer_fail(w, err, HAVM_E_IO, -EIO, "section write failed (injected)");
	return 0;
}

int vsv_section_begin(struct vsv_writer *w, const char *name, uint32_t instance, uint32_t version,
		      struct havm_err *err)
{
	if (vsv_writer_check(w, err) < 0)
		return w->failed;
	int i = vsv_desc_find(&w->desc, name, instance);
	if (w->sec_dev >= 0 || i < 0 || w->desc.devices[i].version != version || w->written[i] ||
	    w->final_disks)
		return vsv_writer_fail(w, err, HAVM_E_INTERNAL, -EINVAL, "section %s.%" PRIu32 " v%" PRIu32
				       ": %s", name, instance, version,
				       w->sec_dev >= 0 ? "another section is open" :
				       w->final_disks ? "after the final disks record" :
				       i < 0 ? "not in the machine description" :
				       w->written[i] ? "written twice" : "version differs from the description");
	w->sec_dev = i;
	w->sec_len = 0;
	return 0;
}

int vsv_section_write(struct vsv_writer *w, const void *buf, size_t len)
{
	if (w->failed)
		return w->failed;
	if (w->sec_dev < 0)
		return vsv_writer_fail(w, NULL, HAVM_E_INTERNAL, -EINVAL, "section write without begin");
	if (len > VSV_STATE_MAX - w->sec_len)
		return vsv_writer_fail(w, NULL, HAVM_E_INTERNAL, -EFBIG, "section %s: more than %u bytes",
				       w->desc.devices[w->sec_dev].name, VSV_STATE_MAX);
	if (w->sec_len + len > w->sec_cap) {
		size_t cap = w->sec_cap ? w->sec_cap : 4096;
		while (cap < w->sec_len + len)
			cap *= 2;
		uint8_t *nb = realloc(w->sec_buf, cap);
		if (!nb)
			return vsv_writer_fail(w, NULL, HAVM_E_IO, -ENOMEM, "out of memory");
		w->sec_buf = nb;
		w->sec_cap = cap;
	}
	if (len)
		memcpy(w->sec_buf + w->sec_len, buf, len);
	w->sec_len += len;
	return 0;
}

int vsv_section_end(struct vsv_writer *w, struct havm_err *err)
{
	if (vsv_writer_check(w, err) < 0)
		return w->failed;
	if (w->sec_dev < 0)
		return vsv_writer_fail(w, err, HAVM_E_INTERNAL, -EINVAL, "section end without begin");
	const struct vsv_device_desc *dev = &w->desc.devices[w->sec_dev];
	uint8_t hdr[VSV_SEC_HDR_SIZE];
	vsv_sec_header(hdr, VSV_KIND_STATE, dev->name, dev->instance, dev->version, w->sec_len);
	uint32_t crc = 0;
	if (vsv_out_put(w, hdr, sizeof(hdr), NULL) < 0 || vsv_out_put(w, w->sec_buf, w->sec_len, &crc) < 0)
		return vsv_writer_check(w, err);
	w->written[w->sec_dev] = 1;
	w->sec_dev = -1;
	return vsv_sec_finish(w, hdr, w->sec_len, crc, err);
}

static int write_trailer(struct vsv_writer *w, struct havm_err *err)
{
	uint8_t t[VSV_TRL_SIZE] = {0};
	vsv_magic4(t, VSV_TRL_MAGIC);
	vsv_le32(t + VSV_TRL_COUNT, w->sections);
	vsv_le64(t + VSV_TRL_OFFSET, vsv_writer_offset(w));
	vsv_le32(t + VSV_TRL_DIGEST, w->digest);
	vsv_le32(t + VSV_TRL_CRC, vsv_crc32c(0, t, VSV_TRL_CRC));
	if (vsv_out_put(w, t, sizeof(t), NULL) < 0 || out_flush(w) < 0)
		return vsv_writer_check(w, err);
	if (HAVM_FAULT("vsv.trailer_written"))
		return vsv_writer_fail(w, err, HAVM_E_IO, -EIO, "trailer write failed (injected)");
	return 0;
}

int vsv_writer_sync(struct vsv_writer *w, struct havm_err *err)
{
	if (vsv_writer_check(w, err) < 0 || out_flush(w) < 0)
		return vsv_writer_check(w, err);
	if (w->fd < 0)
		return 0;
	int rc = havm_sys.fdatasync(w->fd) < 0 ? -errno : 0;
	if (rc < 0)
		return vsv_writer_fail(w, err, HAVM_E_IO, rc, "fdatasync of %s failed: %s", w->tmp, strerror(-rc));
	return 0;
}

/* fsync the temporary file, rename it over the path, fsync the directory:
 * before the rename the old file is intact, after it the new one is whole.
 * The fault points sit just before each step, so "crash at point k" is the
 * state between two steps and "fail at point k" is that step failing. */
static int file_publish(struct vsv_writer *w, struct havm_err *err)
{
	int rc = HAVM_FAULT("vsv.fsync") ? -EIO : havm_sys.fsync(w->fd) < 0 ? -errno : 0;
	if (rc < 0)
		return vsv_writer_fail(w, err, HAVM_E_IO, rc, "fsync of %s failed: %s", w->tmp, strerror(-rc));
	rc = havm_sys.close(w->fd) < 0 ? -errno : 0;
	w->fd = -1;
	if (rc < 0)
		return vsv_writer_fail(w, err, HAVM_E_IO, rc, "close of %s failed: %s", w->tmp, strerror(-rc));
	rc = HAVM_FAULT("vsv.rename") ? -EIO : havm_sys.rename(w->tmp, w->path) < 0 ? -errno : 0;
	if (rc < 0)
		return vsv_writer_fail(w, err, HAVM_E_IO, rc, "rename of %s failed: %s", w->tmp, strerror(-rc));
	free(w->tmp);
	w->tmp = NULL;  /* nothing left to clean up */
	rc = HAVM_FAULT("vsv.dir_fsync") ? -EIO : havm_fsync_dir_of(w->path);
	if (rc < 0)
		return vsv_writer_fail(w, err, HAVM_E_IO, rc, "fsync of the directory failed: %s; the new "
				       "state is in place but may not survive a power cut", strerror(-rc));
	return 0;
}

int vsv_writer_commit(struct vsv_writer *w, struct havm_err *err)
{
	if (vsv_writer_check(w, err) < 0)
		goto fail;
	if (w->sec_dev >= 0) {
		vsv_writer_fail(w, err, HAVM_E_INTERNAL, -EINVAL, "commit with section %s open",
				w->desc.devices[w->sec_dev].name);
		goto fail;
	}
	for (uint32_t i = 0; i < w->desc.device_count; i++)
		if (!w->written[i]) {
			vsv_writer_fail(w, err, HAVM_E_INTERNAL, -EINVAL, "device %s.%" PRIu32 " has no section",
					w->desc.devices[i].name, w->desc.devices[i].instance);
			goto fail;
		}
	if ((w->desc.flags & VSV_DESC_FINAL_DISKS) && !w->final_disks) {
		vsv_writer_fail(w, err, HAVM_E_INTERNAL, -EINVAL, "no final disks record written");
		goto fail;
	}
	if (w->desc.ram_size && !w->passes) {
		vsv_writer_fail(w, err, HAVM_E_INTERNAL, -EINVAL, "no RAM pass written");
		goto fail;
	}
	if (write_trailer(w, err) < 0 || (w->fd >= 0 && file_publish(w, err) < 0))
		goto fail;
	hlog(LOG_INFO, "%s: saved %" PRIu32 " sections, %" PRIu64 " bytes", w->label, w->sections, w->file_off);
	writer_free(w);
	return 0;
fail: {
	int rc = w->failed;
	vsv_writer_abort(w);
	return rc;
}
}

void vsv_writer_abort(struct vsv_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0) {
		havm_sys.close(w->fd);
		w->fd = -1;
	}
	if (w->tmp)
		havm_sys.unlink(w->tmp);
	writer_free(w);
}
