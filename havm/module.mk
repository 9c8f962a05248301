# havm/ — lifecycle library and the `havm` CLI.
PROGRAMS += havm
havm_SRCS := havm/main.c havm/cli_vhd.c
havm_LIBS := common
