/* libFuzzer target for the .vmc parser: any input either parses into a
 * config that is freed cleanly or fails with a message; never crashes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vmcore/vmc/vmc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmc_config *cfg = NULL;
	struct havm_err err;
	if (vmc_parse((const char *)data, size, "/fuzz/vm.vmc", &cfg, &err) == 0) {
		if (!cfg->name || !cfg->memory || (!cfg->kernel && !cfg->image))
			__builtin_trap();
		vmc_free(cfg);
	} else if (err.msg[0] == 0) {
		__builtin_trap();   /* every failure explains itself */
	}
	return 0;
}
