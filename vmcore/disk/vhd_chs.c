/* havm — CHS geometry by the spec appendix algorithm and the size rules
 * (docs/vhd.md "Size policy"). */
#include "vmcore/disk/vhd_int.h"

#include <errno.h>
#include <time.h>

struct vhd_chs vhd_chs_from_sectors(uint64_t ts)
{
	uint64_t spt, heads, cth;
	if (ts > VHD_CHS_MAX_SECTORS)
		ts = VHD_CHS_MAX_SECTORS;
	if (ts >= 65535ull * 16 * 63) {
		spt = 255;
		heads = 16;
		cth = ts / spt;
	} else {
		spt = 17;
		cth = ts / spt;
		heads = (cth + 1023) / 1024;
		if (heads < 4)
			heads = 4;
		if (cth >= heads * 1024 || heads > 16) {
			spt = 31;
			heads = 16;
			cth = ts / spt;
		}
		if (cth >= heads * 1024) {
			spt = 63;
			heads = 16;
			cth = ts / spt;
		}
	}
	struct vhd_chs g = {
		.cylinders = (uint16_t)(cth / heads),
		.heads = (uint8_t)heads,
		.sectors = (uint8_t)spt,
	};
	return g;
}

uint64_t vhd_chs_sectors(struct vhd_chs g)
{
	return (uint64_t)g.cylinders * g.heads * g.sectors;
}

int vhd_chs_round_up(uint64_t bytes, uint64_t *out)
{
	uint64_t want = (bytes + 511) / 512;
	if (want > VHD_CHS_MAX_SECTORS)
		return -ERANGE;
	/* The product is within one cylinder group (<= 16 x 255 sectors) of
	 * any candidate, so this loop is short and bounded. */
	for (uint64_t ts = want; ts <= VHD_CHS_MAX_SECTORS; ts++) {
		uint64_t p = vhd_chs_sectors(vhd_chs_from_sectors(ts));
		if (p >= want) {
			*out = p * 512;
			return 0;
		}
		if (ts - want > 16 * 255 * 2)
			break;
	}
	return -ERANGE;
}

static int chs_is_max(const struct vhd_footer *f)
{
	return f->cylinders == 65535 && f->heads == 16 && f->sectors == 255;
}

uint64_t vhd_footer_virtual_size(const struct vhd_footer *f)
{
	/* QEMU 10's allowlist: Virtual PC and old QEMU size disks by CHS. */
	int by_chs = (memcmp(f->creator_app, "vpc ", 4) == 0 || memcmp(f->creator_app, "qemu", 4) == 0) &&
		     !chs_is_max(f);
	if (by_chs) {
		uint64_t chs = (uint64_t)f->cylinders * f->heads * f->sectors * 512;
		/* Never beyond what the image can hold. */
		if (chs > 0 && chs <= f->current_size)
			return chs;
	}
	return f->current_size;
}

uint32_t vhd_now(void)
{
	time_t t = time(NULL);
	return t > VHD_EPOCH_UNIX ? (uint32_t)(t - VHD_EPOCH_UNIX) : 0;
}
