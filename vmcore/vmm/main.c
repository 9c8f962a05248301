/* vmm — one process per running VM. */
#define LOG_TAG HAVM_TAG_MAIN
#include "common/err.h"
#include "common/log.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out, "usage: vmm run CONFIG.vmc [--restore FILE.vsv] [--control SOCKET]\n"
		     "       vmm --version\n");
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("vmm %s\n", HAVM_VERSION);
		return 0;
	}
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	havm_log_init("vmm", HAVM_LOG_STDERR | HAVM_LOG_BLACKBOX, LOG_INFO);
	usage(stderr);
	hlog(LOG_ERR, "vmm: no machine is built into this version yet");
	havm_log_fini();
	return havm_err_exit_code(HAVM_E_UNSUPPORTED);
}
