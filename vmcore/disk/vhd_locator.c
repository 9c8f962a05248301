/* havm — parent lookup for differencing disks: UTF-16 codecs (parent name
 * UTF-16BE, W2ku/W2ru payloads UTF-16LE), locator payloads, the candidate
 * paths, and opening the parent with the UUID and loop checks. */
#define LOG_TAG HAVM_TAG_VHD
#include "vmcore/disk/vhd_int.h"

#include "common/log.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void put16(uint8_t *p, uint16_t v, int be)
{
	p[be ? 0 : 1] = (uint8_t)(v >> 8);
	p[be ? 1 : 0] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p, int be)
{
	return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

int vhd_utf16_encode(const char *utf8, uint8_t *out, size_t cap, int big_endian)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t n = 0;
	while (*s) {
		uint32_t cp;
		int extra;
		if (*s < 0x80)
			cp = *s, extra = 0;
		else if ((*s & 0xE0) == 0xC0)
			cp = *s & 0x1F, extra = 1;
		else if ((*s & 0xF0) == 0xE0)
			cp = *s & 0x0F, extra = 2;
		else if ((*s & 0xF8) == 0xF0)
			cp = *s & 0x07, extra = 3;
		else
			return -EILSEQ;
		s++;
		for (int i = 0; i < extra; i++, s++) {
			if ((*s & 0xC0) != 0x80)
				return -EILSEQ;
			cp = cp << 6 | (*s & 0x3F);
		}
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return -EILSEQ;
		if (cp >= 0x10000) {
			if (n + 4 > cap)
				return -ENAMETOOLONG;
			cp -= 0x10000;
			put16(out + n, (uint16_t)(0xD800 | cp >> 10), big_endian);
			put16(out + n + 2, (uint16_t)(0xDC00 | (cp & 0x3FF)), big_endian);
			n += 4;
		} else {
			if (n + 2 > cap)
				return -ENAMETOOLONG;
			put16(out + n, (uint16_t)cp, big_endian);
			n += 2;
		}
	}
	return (int)n;
}

int vhd_utf16_decode(const uint8_t *in, size_t len, int big_endian, char *out, size_t cap)
{
	size_t o = 0;
	if (cap == 0)
		return -ENAMETOOLONG;
	for (size_t i = 0; i + 1 < len; i += 2) {
		uint32_t cp = get16(in + i, big_endian);
		if (cp == 0)
			break;
		if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < len) {
			uint16_t lo = get16(in + i + 2, big_endian);
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00u);
				i += 2;
			} else {
				cp = 0xFFFD;
			}
		} else if (cp >= 0xD800 && cp <= 0xDFFF) {
			cp = 0xFFFD;
		}
		uint8_t b[4];
		size_t k;
		if (cp < 0x80)
			b[0] = (uint8_t)cp, k = 1;
		else if (cp < 0x800)
			b[0] = (uint8_t)(0xC0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 0x3F)), k = 2;
		else if (cp < 0x10000)
			b[0] = (uint8_t)(0xE0 | cp >> 12), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)),
			b[2] = (uint8_t)(0x80 | (cp & 0x3F)), k = 3;
		else
			b[0] = (uint8_t)(0xF0 | cp >> 18), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F)),
			b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (uint8_t)(0x80 | (cp & 0x3F)), k = 4;
		if (o + k + 1 > cap)
			return -ENAMETOOLONG;
		memcpy(out + o, b, k);
		o += k;
	}
	out[o] = '\0';
	return (int)o;
}

int vhd_locator_read(struct vhd_image *img, int i, char *out, size_t cap)
{
	const struct vhd_locator *l = &img->hdr.loc[i];
	if (cap == 0)
		return -ENAMETOOLONG;
	out[0] = '\0';
	if (l->code == VHD_PLAT_NONE || l->data_len == 0 || l->data_len > 65536)
		return -ENOENT;
	if (l->data_offset + l->data_len > img->file_size)
		return -EINVAL;
	uint8_t *raw = malloc(l->data_len);
	if (!raw)
		return -ENOMEM;
	int rc = img->be->ops->pread(img->be, raw, l->data_len, l->data_offset);
	if (rc == 0) {
		switch (l->code) {
		case VHD_PLAT_W2KU:
		case VHD_PLAT_W2RU:
			rc = vhd_utf16_decode(raw, l->data_len, 0, out, cap);
			break;
		case VHD_PLAT_WI2K:
		case VHD_PLAT_WI2R:
		case VHD_PLAT_MACX:
			if (l->data_len + 1 > cap) {
				rc = -ENAMETOOLONG;
				break;
			}
			memcpy(out, raw, l->data_len);
			out[l->data_len] = '\0';
			rc = (int)strlen(out);
			break;
		default:
			rc = -ENOTSUP;
		}
	}
	free(raw);
	if (rc < 0)
		return rc;
	/* Windows separators and prefixes become POSIX paths. */
	for (char *p = out; *p; p++)
		if (*p == '\\')
			*p = '/';
	if (l->code == VHD_PLAT_MACX && strncmp(out, "file://", 7) == 0)
		memmove(out, out + 7, strlen(out + 7) + 1);
	return 0;
}

static char *dir_join(const char *child, const char *rel)
{
	const char *slash = strrchr(child, '/');
	int dlen = slash ? (int)(slash - child) : 1;
	const char *dir = slash ? child : ".";
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	char *p = NULL;
	if (asprintf(&p, "%.*s/%s", dlen, dir, rel) < 0)
		return NULL;
	return p;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

int vhd_parent_candidates(struct vhd_image *img, char **out, int max)
{
	static const uint32_t order[] = { VHD_PLAT_W2RU, VHD_PLAT_WI2R, VHD_PLAT_W2KU, VHD_PLAT_WI2K, VHD_PLAT_MACX };
	char buf[PATH_MAX];
	int n = 0;
	for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++)
		for (int i = 0; i < VHD_LOCATOR_COUNT && n < max; i++) {
			if (img->hdr.loc[i].code != order[o] || vhd_locator_read(img, i, buf, sizeof(buf)) < 0 || !buf[0])
				continue;
			int relative = order[o] == VHD_PLAT_W2RU || order[o] == VHD_PLAT_WI2R;
			if (relative || buf[0] != '/')
				out[n] = relative ? dir_join(img->name, buf) : dir_join(img->name, base_name(buf));
			else
				out[n] = strdup(buf);
			if (out[n])
				n++;
		}
	if (n < max && vhd_image_parent_name(img, buf, sizeof(buf)) > 0) {
		for (char *p = buf; *p; p++)
			if (*p == '\\')
				*p = '/';
		out[n] = dir_join(img->name, base_name(buf));
		if (out[n])
			n++;
	}
	return n;
}

int vhd_parent_open(struct vhd_image *img, struct vhd_chain *chain, struct havm_err *err)
{
	char *cand[2 * VHD_LOCATOR_COUNT + 1];
	int n = vhd_parent_candidates(img, cand, 2 * VHD_LOCATOR_COUNT + 1);
	int found = -1, rc = 0, depth0 = chain->depth;
	struct blk_dev *parent = NULL;
	struct havm_err first;
	havm_err_clear(&first);
	/* The first existing candidate whose UUID matches: a stale locator
	 * (a file moved, or a merge re-pointing this child between its
	 * locator and header writes) must not hide the right parent. */
	for (int i = 0; i < n && found < 0; i++) {
		if (access(cand[i], F_OK) != 0)
			continue;
		if (chain->depth >= VHD_MAX_CHAIN_DEPTH) {
			rc = havm_err_set(err, HAVM_E_FORMAT, -ELOOP, "%s: parent chain deeper than %d images",
					  img->name, VHD_MAX_CHAIN_DEPTH);
			goto out;
		}
		struct havm_err e;
		havm_err_clear(&e);
		chain->depth = depth0;
		rc = blk_open_chain(cand[i], 0, chain, &parent, &e);
		if (rc < 0) {
			havm_err_prefix(&e, "%s: parent", img->name);
		} else {
			const uint8_t *puuid = blk_uuid(parent);
			if (puuid && memcmp(puuid, img->hdr.parent_uuid, 16) == 0) {
				found = i;
				break;
			}
			(void)havm_err_set(&e, HAVM_E_FORMAT, -EINVAL,
					  "%s: header parent unique id does not match the footer unique id of parent %s",
					  img->name, cand[i]);
			(void)blk_close(parent);
			parent = NULL;
		}
		if (!first.code)
			first = e;
	}
	if (found < 0) {
		chain->depth = depth0;
		if (first.code) {
			if (err)
				*err = first;
			rc = first.code;
			goto out;
		}
		char name[PATH_MAX];
		if (vhd_image_parent_name(img, name, sizeof(name)) < 0)
			name[0] = '\0';
		rc = havm_err_set(err, HAVM_E_NOTFOUND, -ENOENT,
				  "%s: parent \"%s\" not found (tried %d locator and name paths)",
				  img->name, name, n);
		goto out;
	}
	img->parent = parent;
	img->parent_path = cand[found];
	cand[found] = NULL;
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		free(cand[i]);
	return rc;
}
