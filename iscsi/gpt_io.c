/* havm — reading and writing a GPT on a block backend, in crash-safe order;
 * see gpt.h. */
#define LOG_TAG HAVM_TAG_STORE
#include "iscsi/gpt.h"
#include "iscsi/gpt_int.h"

#include "common/fault.h"
#include "common/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int dev_sectors(struct blk_backend *be, uint64_t *out, struct havm_err *err)
{
	int64_t sz = be->ops->size(be);
	if (sz < 0)
		return havm_err_set(err, HAVM_E_IO, (int)sz, "%s: cannot get the size", be->name);
	*out = (uint64_t)sz / GPT_SECTOR;
	return 0;
}

/* Reads and decodes the copy whose header is at @lba. */
static int read_copy(struct blk_backend *be, uint64_t lba, uint64_t nsec, struct gpt_table *out,
		     struct havm_err *err)
{
	uint8_t hdr[GPT_SECTOR];
	int rc = blk_backend_pread(be, hdr, sizeof(hdr), lba * GPT_SECTOR);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_IO, rc, "reading LBA %" PRIu64 ": %s", lba, strerror(-rc));
	uint64_t alba;
	uint32_t asecs;
	rc = gpt_array_location(hdr, nsec, &alba, &asecs, NULL);
	if (rc < 0) /* decode reports the first problem, in header order */
		return gpt_decode(hdr, lba, nsec, hdr, 0, out, err);
	uint8_t *array = malloc((size_t)asecs * GPT_SECTOR);
	if (!array)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	rc = blk_backend_pread(be, array, (size_t)asecs * GPT_SECTOR, alba * GPT_SECTOR);
	if (rc < 0)
		rc = havm_err_set(err, HAVM_E_IO, rc, "reading the entry array at LBA %" PRIu64 ": %s", alba,
				  strerror(-rc));
	else
		rc = gpt_decode(hdr, lba, nsec, array, (size_t)asecs * GPT_SECTOR, out, err);
	free(array);
	return rc;
}

int gpt_read(struct blk_backend *be, struct gpt_table *out, struct havm_err *err)
{
	uint64_t nsec = 0;
	int rc = dev_sectors(be, &nsec, err);
	if (rc < 0)
		return rc;
	if (nsec < GPT_MIN_SECTORS)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "%s: %" PRIu64 " sectors, too small for a GPT (at least %u)", be->name, nsec,
				    GPT_MIN_SECTORS);
	struct gpt_table *backup = malloc(sizeof(*backup));
	if (!backup)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	struct havm_err pe, be_err;
	int prc = read_copy(be, 1, nsec, out, &pe);
	int brc = read_copy(be, nsec - 1, nsec, backup, &be_err);
	if (prc < 0 && pe.kind == HAVM_E_IO) {
		rc = havm_err_set(err, pe.kind, prc, "%s: primary GPT: %s", be->name, pe.msg);
	} else if (brc < 0 && be_err.kind == HAVM_E_IO) {
		rc = havm_err_set(err, be_err.kind, brc, "%s: backup GPT: %s", be->name, be_err.msg);
	} else if (prc < 0 && brc < 0) {
		rc = havm_err_set(err, pe.kind, -EINVAL, "%s: no valid GPT: primary: %s; backup: %s", be->name,
				  pe.msg, be_err.msg);
	} else {
		rc = 0;
		if (prc == 0)
			rc |= GPT_PRIMARY_OK;
		if (brc == 0)
			rc |= GPT_BACKUP_OK;
		if (prc == 0 && brc == 0 && !gpt_equal(out, backup))
			rc |= GPT_COPIES_DIFFER;
		if (prc < 0) {
			hlog(LOG_WARNING, "%s: primary GPT invalid (%s); using the backup", be->name, pe.msg);
			*out = *backup;
		} else if (brc < 0) {
			hlog(LOG_INFO, "%s: backup GPT invalid (%s)", be->name, be_err.msg);
		}
	}
	free(backup);
	return rc;
}

static int step(struct blk_backend *be, const char *fault, const void *buf, size_t len, uint64_t lba,
		struct havm_err *err)
{
	int rc = buf ? blk_backend_pwrite(be, buf, len, lba * GPT_SECTOR) : be->ops->flush(be);
	if (rc == 0 && HAVM_FAULT(fault))
		rc = -EIO;
	if (rc < 0)
		return havm_err_set(err, HAVM_E_IO, rc, "%s: writing the GPT (%s, LBA %" PRIu64 "): %s", be->name,
				    fault, lba, strerror(-rc));
	return 0;
}

int gpt_write(struct blk_backend *be, const struct gpt_table *t, bool pmbr, struct havm_err *err)
{
	uint64_t nsec = 0;
	int rc = dev_sectors(be, &nsec, err);
	if (rc < 0)
		return rc;
	if (nsec != t->dev_sectors)
		return havm_err_set(err, HAVM_E_STATE, -ESTALE,
				    "%s: device has %" PRIu64 " sectors, the table was made for %" PRIu64, be->name,
				    nsec, t->dev_sectors);
	struct gpt_table n = *t;
	n.num_entries = GPT_ENTRIES;
	/* Our layout: both arrays where gpt_encode puts them. */
	if (n.first_usable < 2 + GPT_ARRAY_SECTORS || n.last_usable > nsec - 2 - GPT_ARRAY_SECTORS)
		return havm_err_set(err, HAVM_E_UNSUPPORTED, -EINVAL,
				    "%s: usable range %" PRIu64 "..%" PRIu64 " overlaps the 128-entry arrays",
				    be->name, n.first_usable, n.last_usable);
	for (uint32_t i = t->num_entries; i < GPT_ENTRIES; i++)
		memset(&n.part[i], 0, sizeof(n.part[i]));
	rc = gpt_validate(&n, err);
	if (rc < 0)
		return rc;
	uint8_t hdr[GPT_SECTOR], mbr[GPT_SECTOR];
	uint8_t *array = malloc(GPT_ARRAY_SECTORS * GPT_SECTOR);
	if (!array)
		return havm_err_set(err, HAVM_E_IO, -ENOMEM, "out of memory");
	const size_t alen = GPT_ARRAY_SECTORS * GPT_SECTOR;
	if (pmbr) {
		gpt_encode_pmbr(nsec, mbr);
		rc = step(be, "gpt.pmbr", mbr, sizeof(mbr), 0, err);
	}
	/* Primary array before its header: until the header lands, the primary
	 * copy's CRC fails and readers use the backup (the old table). */
	gpt_encode(&n, true, hdr, array);
	if (rc == 0)
		rc = step(be, "gpt.primary_array", array, alen, 2, err);
	if (rc == 0)
		rc = step(be, "gpt.primary_header", hdr, sizeof(hdr), 1, err);
	if (rc == 0)
		rc = step(be, "gpt.primary_flushed", NULL, 0, 1, err);
	/* Now the primary copy is the new table; the backup follows. */
	gpt_encode(&n, false, hdr, array);
	if (rc == 0)
		rc = step(be, "gpt.backup_array", array, alen, nsec - 1 - GPT_ARRAY_SECTORS, err);
	if (rc == 0)
		rc = step(be, "gpt.backup_header", hdr, sizeof(hdr), nsec - 1, err);
	if (rc == 0)
		rc = step(be, "gpt.backup_flushed", NULL, 0, nsec - 1, err);
	free(array);
	return rc;
}
