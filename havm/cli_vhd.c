/* havm vhd — placeholder until the VHD library lands (issue 3). */
#include "havm/cli.h"
#include "common/err.h"

#include <stdio.h>

int havm_cli_vhd(int argc, char **argv)
{
	(void)argc, (void)argv;
	fprintf(stderr, "havm vhd: not available in this build yet\n");
	return havm_err_exit_code(HAVM_E_UNSUPPORTED);
}
