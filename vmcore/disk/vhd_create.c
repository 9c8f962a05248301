/* havm — creating fixed, dynamic and differencing images, written strictly
 * per the spec (docs/vhd.md "What we write"). */
#define LOG_TAG HAVM_TAG_VHD
#include "vmcore/disk/blk_int.h"

#include "common/log.h"
#include "common/sys.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static int new_uuid(uint8_t u[16])
{
	if (getrandom(u, 16, 0) != 16)
		return -errno;
	u[6] = (uint8_t)((u[6] & 0x0F) | 0x40); /* version 4 */
	u[8] = (uint8_t)((u[8] & 0x3F) | 0x80); /* RFC 4122 variant */
	return 0;
}

/* The size written per the policy, or an error naming the limit. */
static int pick_size(const struct vhd_create_opts *o, uint64_t size, uint64_t *out, struct havm_err *err)
{
	if (size == 0)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "size must be greater than 0");
	if (o->size_policy == VHD_SIZE_EXACT) {
		if (size % 512)
			return havm_err_set(err, HAVM_E_CONFIG, -EINVAL,
					    "size %" PRIu64 " is not a multiple of 512 (exact size policy)", size);
		*out = size;
	} else if (vhd_chs_round_up(size, out) < 0) {
		/* Past 127 GiB no geometry can carry the size: the CHS field
		 * saturates and every reader uses current_size. */
		*out = (size + 511) & ~(uint64_t)511;
	}
	if (o->type != VHD_TYPE_FIXED && *out > VHD_MAX_DYNAMIC_SIZE)
		return havm_err_set(err, HAVM_E_UNSUPPORTED, -EFBIG,
				    "size %" PRIu64 " is past the 2040 GiB limit of dynamic and differencing disks"
				    " (use a fixed disk)", *out);
	return 0;
}

static int make_footer(const struct vhd_create_opts *o, uint64_t size, struct vhd_footer *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->cookie, VHD_COOKIE, 8);
	f->features = VHD_FEATURES_RESERVED;
	f->version = VHD_VERSION;
	f->data_offset = o->type == VHD_TYPE_FIXED ? UINT64_MAX : 512;
	f->timestamp = o->timestamp ? o->timestamp : vhd_now();
	memcpy(f->creator_app, VHD_CREATOR_HAVM, 4);
	f->creator_version = VHD_CREATOR_VERSION;
	f->creator_os = VHD_PLAT_WI2K; /* "Wi2k", what every producer writes */
	f->original_size = f->current_size = size; /* libvhdi reads original */
	struct vhd_chs g = vhd_chs_from_sectors(size / 512);
	f->cylinders = g.cylinders, f->heads = g.heads, f->sectors = g.sectors;
	f->type = o->type;
	if (o->uuid) {
		memcpy(f->uuid, o->uuid, 16);
		return 0;
	}
	return new_uuid(f->uuid);
}

static int write_footer(struct blk_backend *be, struct vhd_footer *f, uint64_t off)
{
	uint8_t raw[VHD_FOOTER_SIZE];
	vhd_footer_encode(f, raw);
	return be->ops->pwrite(be, raw, sizeof(raw), off);
}

static int create_fixed(struct blk_backend *be, const struct vhd_create_opts *o, struct vhd_footer *f,
			struct havm_err *err)
{
	uint64_t size = f->current_size;
	int growable = be->caps & BLK_BE_CAP_RESIZE;
	int64_t region = be->ops->size(be);
	if (!growable && (region < 0 || (uint64_t)region != size + 512))
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL,
				    "%s: a fixed disk on a fixed-size store must fill it: size %" PRIu64
				    " + 512 bytes of footer, the store is %" PRId64 " bytes", be->name, size, region);
	int rc = 0;
	if (growable && o->sparse) {
		rc = be->ops->resize(be, size);
	} else {
		static const uint8_t zeros[1 << 20];
		for (uint64_t off = 0; off < size && rc == 0; off += sizeof(zeros)) {
			size_t n = size - off < sizeof(zeros) ? (size_t)(size - off) : sizeof(zeros);
			rc = be->ops->pwrite(be, zeros, n, off);
			if (o->progress && (rc == 0))
				o->progress(o->progress_arg, off + n, size);
		}
	}
	if (rc == 0)
		rc = write_footer(be, f, size);
	if (rc == 0)
		rc = be->ops->flush(be);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_IO, rc, "%s: writing the fixed disk: %s", be->name, strerror(-rc));
	return 0;
}

/* Relative path from the directory of @child to @parent, Windows style
 * (".\p.vhd", "..\base\p.vhd"). Both absolute. */
static void relative_path(const char *child, const char *parent, char *out, size_t cap)
{
	size_t common = 0;
	for (size_t i = 0; child[i] && child[i] == parent[i]; i++)
		if (child[i] == '/')
			common = i + 1;
	size_t o = 0;
	out[0] = '\0';
	int ups = 0;
	for (const char *p = child + common; *p; p++)
		if (*p == '/')
			ups++;
	if (ups == 0)
		o += (size_t)snprintf(out + o, cap - o, ".\\");
	for (int i = 0; i < ups && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "..\\");
	if (o < cap)
		snprintf(out + o, cap - o, "%s", parent + common);
	for (char *p = out; *p; p++)
		if (*p == '/')
			*p = '\\';
}

int vhd_parent_fields(const char *child_abs, const char *parent_path, struct blk_dev *parent,
		      struct vhd_header *h, struct vhd_locator_payload *lp, int *nlp, struct havm_err *err)
{
	memcpy(h->parent_uuid, parent->vhd.footer.uuid, 16);
	struct stat st;
	h->parent_timestamp = parent->vhd.footer.timestamp;
	if (parent_path && stat(parent_path, &st) == 0 && st.st_mtime > VHD_EPOCH_UNIX)
		h->parent_timestamp = (uint32_t)(st.st_mtime - VHD_EPOCH_UNIX);
	const char *pname = parent_path ? parent_path : parent->be->name;
	const char *base = strrchr(pname, '/') ? strrchr(pname, '/') + 1 : pname;
	if (vhd_utf16_encode(base, h->parent_name, sizeof(h->parent_name), 1) < 0)
		return havm_err_set(err, HAVM_E_CONFIG, -ENAMETOOLONG,
				    "parent name \"%s\" does not fit the header's 256 UTF-16 units", base);
	*nlp = 0;
	char abs[PATH_MAX];
	if (!parent_path || !child_abs || !realpath(parent_path, abs))
		return 0; /* a store-backed chain: the name alone */
	char rel[PATH_MAX];
	relative_path(child_abs, abs, rel, sizeof(rel));
	lp[0].code = VHD_PLAT_W2RU;
	lp[0].len = vhd_utf16_encode(rel, lp[0].data, sizeof(lp[0].data), 0);
	lp[1].code = VHD_PLAT_W2KU;
	lp[1].len = vhd_utf16_encode(abs, lp[1].data, sizeof(lp[1].data), 0);
	if (lp[0].len <= 0 || lp[1].len <= 0)
		return havm_err_set(err, HAVM_E_CONFIG, -EILSEQ, "parent path \"%s\" is not valid UTF-8", abs);
	*nlp = 2;
	return 0;
}

static int create_sparse(struct blk_backend *be, const struct vhd_create_opts *o, struct vhd_footer *f,
			 const char *child_abs, struct blk_dev *parent, struct havm_err *err)
{
	struct vhd_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.cookie, VHD_HEADER_COOKIE, 8);
	h.data_offset = UINT64_MAX;
	h.table_offset = 1536;
	h.version = VHD_VERSION;
	h.block_size = o->block_size;
	h.max_table_entries = (uint32_t)((f->current_size + h.block_size - 1) / h.block_size);
	static struct vhd_locator_payload lp[2];
	int nlp = 0, rc;
	if (parent) {
		rc = vhd_parent_fields(child_abs, o->parent, parent, &h, lp, &nlp, err);
		if (rc < 0)
			return rc;
	}
	uint64_t bat_bytes = ((uint64_t)h.max_table_entries * 4 + 511) & ~(uint64_t)511;
	uint64_t end = h.table_offset + bat_bytes;
	for (int i = 0; i < nlp; i++) {
		/* Slots 0-1 like Hyper-V; data space in bytes, a multiple of 512. */
		h.loc[i].code = lp[i].code;
		h.loc[i].data_len = (uint32_t)lp[i].len;
		h.loc[i].data_space = ((uint32_t)lp[i].len + 511) & ~511u;
		h.loc[i].data_offset = end;
		end += h.loc[i].data_space;
	}
	uint32_t spb = h.block_size / 512;
	uint32_t bitmap_bytes = ((spb + 7) / 8 + 511) & ~511u;
	uint64_t footer_off = vhd_block_place(end, bitmap_bytes);
	if (!(be->caps & BLK_BE_CAP_RESIZE)) {
		int64_t region = be->ops->size(be);
		if (region < 0 || (uint64_t)region < footer_off + 512)
			return havm_err_set(err, HAVM_E_CONFIG, -ENOSPC,
					    "%s: the store (%" PRId64 " bytes) is too small for the metadata (%" PRIu64 ")",
					    be->name, region, footer_off + 512);
		footer_off = (uint64_t)region - 512;
	}
	uint8_t *buf = malloc(bat_bytes > VHD_HEADER_SIZE ? bat_bytes : VHD_HEADER_SIZE);
	if (!buf)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "out of memory for the BAT");
	memset(buf, 0xFF, bat_bytes);
	rc = be->ops->pwrite(be, buf, bat_bytes, h.table_offset);
	for (int i = 0; i < nlp && rc == 0; i++) {
		memset(buf, 0, h.loc[i].data_space);
		memcpy(buf, lp[i].data, (size_t)lp[i].len);
		rc = be->ops->pwrite(be, buf, h.loc[i].data_space, h.loc[i].data_offset);
	}
	if (rc == 0) {
		vhd_header_encode(&h, buf);
		rc = be->ops->pwrite(be, buf, VHD_HEADER_SIZE, 512);
	}
	free(buf);
	/* The copy at 0, then the tail footer: until both exist the file is
	 * not a VHD anyone would open. */
	if (rc == 0)
		rc = write_footer(be, f, 0);
	if (rc == 0)
		rc = write_footer(be, f, footer_off);
	if (rc == 0)
		rc = be->ops->flush(be);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_IO, rc, "%s: writing the image: %s", be->name, strerror(-rc));
	return 0;
}

static int create_on(struct blk_backend *be, const struct vhd_create_opts *in, struct blk_dev *parent,
		     const char *child_abs, uint64_t *final_size, struct havm_err *err)
{
	struct vhd_create_opts o = *in;
	if (o.type != VHD_TYPE_FIXED && o.type != VHD_TYPE_DYNAMIC && o.type != VHD_TYPE_DIFF)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "disk type %d: expected fixed, dynamic or differencing",
				    (int)o.type);
	uint64_t size = o.size;
	if (o.type == VHD_TYPE_DIFF) {
		if (!parent)
			return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "a differencing disk needs a parent");
		if (parent->fmt == BLK_FMT_RAW)
			return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "%s: the parent must be a VHD, not raw",
					    parent->be->name);
		size = parent->size;
		o.size_policy = VHD_SIZE_EXACT;
		if (!o.block_size)
			o.block_size = parent->fmt == BLK_FMT_VHD_FIXED ? VHD_DEFAULT_BLOCK_SIZE
									: parent->vhd.hdr.block_size;
	}
	if (!o.block_size)
		o.block_size = VHD_DEFAULT_BLOCK_SIZE;
	if (o.type != VHD_TYPE_FIXED &&
	    (o.block_size < 4096 || o.block_size > VHD_MAX_BLOCK_SIZE || (o.block_size & (o.block_size - 1))))
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL,
				    "block size %u: expected a power of two from 4096 to %u (2 MiB is the default"
				    " and what every reader takes)", o.block_size, VHD_MAX_BLOCK_SIZE);
	uint64_t final = 0;
	int rc = pick_size(&o, size, &final, err);
	if (rc < 0)
		return rc;
	struct vhd_footer f;
	rc = make_footer(&o, final, &f);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_IO, rc, "cannot get random bytes for the unique id");
	rc = o.type == VHD_TYPE_FIXED ? create_fixed(be, &o, &f, err)
				      : create_sparse(be, &o, &f, child_abs, parent, err);
	if (rc == 0 && final_size)
		*final_size = final;
	return rc;
}

int vhd_create_backend(struct blk_backend *be, const struct vhd_create_opts *o, struct blk_dev *parent_dev,
		       uint64_t *final_size, struct havm_err *err)
{
	return create_on(be, o, parent_dev, NULL, final_size, err);
}

int vhd_create(const char *path, const struct vhd_create_opts *o, uint64_t *final_size, struct havm_err *err)
{
	struct blk_dev *parent = NULL;
	int rc;
	if (o->type == VHD_TYPE_DIFF) {
		if (!o->parent)
			return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "%s: a differencing disk needs --parent", path);
		rc = blk_open(o->parent, 0, &parent, err);
		if (rc < 0)
			return rc;
	}
	struct blk_backend *be = NULL;
	rc = blk_backend_file_open(path, BLK_O_RDWR | BLK_O_CREATE, &be, err);
	if (rc == -EEXIST)
		havm_err_set(err, HAVM_E_STATE, rc, "%s: already exists", path);
	if (rc == 0) {
		/* The child's absolute path, for the relative locator. */
		char dir[PATH_MAX], abs[PATH_MAX + 256];
		const char *slash = strrchr(path, '/');
		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
		char *rdir = realpath(slash == path ? "/" : dir, NULL);
		snprintf(abs, sizeof(abs), "%s/%s", rdir ? rdir : dir, slash ? slash + 1 : path);
		free(rdir);
		rc = create_on(be, o, parent, abs, final_size, err);
		int crc = blk_backend_close(be);
		if (rc == 0 && crc < 0)
			rc = havm_err_set(err, HAVM_E_IO, crc, "%s: close: %s", path, strerror(-crc));
		if (rc < 0)
			unlink(path);
	}
	if (rc == 0 && havm_fsync_dir_of(path) < 0)
		hlog(LOG_WARNING, "%s: created, but syncing its directory failed", path);
	(void)blk_close(parent);
	return rc;
}
