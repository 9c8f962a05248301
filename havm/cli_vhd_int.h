/* havm vhd — helpers shared by cli_vhd*.c. Private to havm/. */
#ifndef HAVM_HAVM_CLI_VHD_INT_H
#define HAVM_HAVM_CLI_VHD_INT_H

#include "common/err.h"

int vhd_cli_fail(const struct havm_err *e);
int vhd_cli_usage(const char *msg);
int vhd_cli_info(int argc, char **argv);
int vhd_cli_check(int argc, char **argv);

#endif
