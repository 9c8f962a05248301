/* libFuzzer target: the GPT reader (iscsi/gpt*.c) on an arbitrary disk
 * image. Every refusal must say why; every table it accepts must validate,
 * write back (both copies) and read back equal. */
#include "iscsi/gpt.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	size_t len = size / GPT_SECTOR * GPT_SECTOR;
	uint8_t *disk = malloc(len ? len : 1);
	if (!disk)
		return 0;
	memcpy(disk, data, len);
	struct blk_backend *be;
	if (blk_backend_mem_open(disk, len, 1, &be) != 0) {
		free(disk);
		return 0;
	}
	struct gpt_table *t = malloc(sizeof(*t)), *u = malloc(sizeof(*u));
	struct havm_err e;
	int rc = gpt_read(be, t, &e);
	if (rc < 0) {
		if (e.msg[0] == '\0')
			abort(); /* every refusal says why */
	} else {
		if (gpt_validate(t, &e) != 0)
			abort(); /* accepted means valid */
		/* Tables with another layout may be refused on write; ours not. */
		if (gpt_write(be, t, false, &e) == 0) {
			if (gpt_read(be, u, &e) != (GPT_PRIMARY_OK | GPT_BACKUP_OK) || !gpt_equal(t, u))
				abort();
		} else if (e.msg[0] == '\0') {
			abort();
		}
	}
	free(t);
	free(u);
	(void)blk_backend_close(be);
	free(disk);
	return 0;
}
