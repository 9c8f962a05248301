/* havm vhd — helpers shared by cli_vhd*.c. Private to havm/. */
#ifndef HAVM_HAVM_CLI_VHD_INT_H
#define HAVM_HAVM_CLI_VHD_INT_H

#include "common/err.h"

int vhd_cli_fail(const struct havm_err *e);
int vhd_cli_usage(const char *msg);
int vhd_cli_info(int argc, char **argv);
int vhd_cli_check(int argc, char **argv);
/* cli_vhd_tools.c */
int vhd_cli_convert(int argc, char **argv);
int vhd_cli_compact(int argc, char **argv);
int vhd_cli_merge(int argc, char **argv);
int vhd_cli_resize(int argc, char **argv);
int vhd_cli_undo(int argc, char **argv);
/* cli_vhd_mount.c */
int vhd_cli_mount(int argc, char **argv);

#endif
