/* libFuzzer target: fence_havm's stdin key=value parser and the parameter
 * checks (fencing/args.c), fed with arbitrary input. */
#include "fencing/args.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	FILE *in = fmemopen((void *)data, size, "r");
	FILE *err = fopen("/dev/null", "w");
	if (!in || !err) {
		if (in)
			fclose(in);
		if (err)
			fclose(err);
		return 0;
	}
	char *argv[] = { "fence_havm", NULL };
	struct fence_args a;
	if (fence_args_parse(&a, 1, argv, in, err) == 0) {
		char msg[512];
		(void)fence_args_check(&a, msg, sizeof(msg));
		for (int i = 0; i < FP_COUNT; i++) {
			(void)fence_arg(&a, (enum fence_param_id)i);
			(void)fence_arg_long(&a, (enum fence_param_id)i);
		}
	}
	fence_args_free(&a);
	fclose(in);
	fclose(err);
	return 0;
}
