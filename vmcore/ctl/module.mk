# vmcore/ctl — the per-VM control socket: server (qb_loop) and client.
LIBRARIES += vmcore_ctl
VMCORE_LIBS += vmcore_ctl
vmcore_ctl_SRCS := vmcore/ctl/ctl_server.c vmcore/ctl/ctl_client.c
vmcore_ctl_LDLIBS := -ljson-c -lqb

UNIT_TESTS += test_ctl
test_ctl_SRCS := tests/unit/ctl/test_ctl.c
test_ctl_LIBS := vmcore_ctl common
test_ctl_LDLIBS := -lpthread
