/* libFuzzer target: the VHD open path (footer with fallbacks, dynamic
 * header, BAT validation, locators) and sector reads on an in-memory
 * backend, then one write and flush on a copy to exercise allocation. */
#include "vmcore/disk/vhd_int.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise_reads(struct blk_dev *d)
{
	uint8_t buf[8 * 512];
	uint64_t total = blk_size(d) / 512;
	if (total == 0)
		return;
	/* Sampled positions: the start, the end, and spread over the disk. */
	for (uint64_t i = 0; i < 32; i++) {
		uint64_t s = i < 2 ? i * (total - 1) : (total / 32) * i;
		uint32_t n = total - s < 8 ? (uint32_t)(total - s) : 8;
		(void)blk_read(d, s, buf, n);
	}
	struct vhd_image *img = blk_vhd(d);
	if (img && img->footer.type == VHD_TYPE_DIFF) {
		char path[1024];
		for (int i = 0; i < VHD_LOCATOR_COUNT; i++)
			(void)vhd_locator_read(img, i, path, sizeof(path));
		(void)vhd_image_parent_name(img, path, sizeof(path));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	struct blk_backend *be;
	struct blk_dev *d;
	if (blk_backend_mem_open(copy, size, 1, &be) == 0) {
		if (blk_open_backend(be, BLK_O_NO_PARENT | BLK_O_RDWR, &d, NULL) == 0) {
			exercise_reads(d);
			uint8_t sector[512];
			memset(sector, 0xA5, sizeof(sector));
			if (blk_size(d) >= 512 && blk_format(d) != BLK_FMT_RAW)
				(void)blk_write(d, blk_size(d) / 1024, sector, 1);
			(void)blk_close(d);
		} else {
			(void)blk_backend_close(be);
		}
	}
	free(copy);
	return 0;
}
