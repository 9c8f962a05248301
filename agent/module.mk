# agent/ — the OCF resource agent ocf:havm:VirtualServer (a thin layer over havm/).
PROGRAMS += VirtualServer
VirtualServer_SRCS := agent/main.c
VirtualServer_LIBS := common
INTEGRATION_TESTS += tests/integration/test_install.sh
