/* Helpers for the disk unit tests: cmocka includes, and images built
 * byte by byte in memory (Hyper-V, Virtual PC layouts) without our writer. */
#ifndef HAVM_TESTS_UNIT_DISK_VHD_TESTIMG_H
#define HAVM_TESTS_UNIT_DISK_VHD_TESTIMG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmcore/disk/vhd_int.h"

static inline void timg_footer(uint8_t *raw, uint32_t type, uint64_t size, const char *creator, uint8_t uuid_byte)
{
	struct vhd_footer f;
	memset(&f, 0, sizeof(f));
	memcpy(f.cookie, VHD_COOKIE, 8);
	f.features = 2;
	f.version = VHD_VERSION;
	f.data_offset = type == VHD_TYPE_FIXED ? UINT64_MAX : 512;
	f.timestamp = 12345;
	memcpy(f.creator_app, creator, 4);
	f.creator_version = 0x000a0000;
	f.creator_os = VHD_PLAT_WI2K;
	f.original_size = f.current_size = size;
	struct vhd_chs g = vhd_chs_from_sectors(size / 512);
	f.cylinders = g.cylinders, f.heads = g.heads, f.sectors = g.sectors;
	f.type = type;
	memset(f.uuid, uuid_byte, 16);
	vhd_footer_encode(&f, raw);
}

/* A dynamic header with its BAT at @bat_off, all entries free. */
static inline void timg_header(uint8_t *raw, uint64_t size, uint32_t bs, uint64_t bat_off, struct vhd_header *out)
{
	struct vhd_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.cookie, VHD_HEADER_COOKIE, 8);
	h.data_offset = UINT64_MAX;
	h.table_offset = bat_off;
	h.version = VHD_VERSION;
	h.block_size = bs;
	h.max_table_entries = (uint32_t)((size + bs - 1) / bs);
	vhd_header_encode(&h, raw);
	if (out)
		*out = h;
}

static inline uint8_t *timg_alloc(size_t len)
{
	uint8_t *p = calloc(1, len);
	assert_non_null(p);
	return p;
}

static inline char *timg_tmpdir(void)
{
	char tmpl[] = "/tmp/havm-unit-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static inline void timg_write_file(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static inline void timg_rmdir(char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

#endif
