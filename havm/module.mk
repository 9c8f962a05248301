# havm/ — the lifecycle library (liblifecycle: runtime directory and lock,
# quorum gate, Open..Terminate) and the `havm` CLI over it.
LIBRARIES += lifecycle
lifecycle_SRCS := havm/runtime.c havm/quorum.c havm/vm.c havm/status.c havm/online.c havm/stop.c
lifecycle_LDLIBS := -lquorum -lcmap -lxml2 -lqb

PROGRAMS += havm
havm_SRCS := havm/main.c havm/cli_vhd.c
havm_LIBS := lifecycle common

UNIT_TESTS += test_runtime
test_runtime_SRCS := tests/unit/havm/test_runtime.c
test_runtime_LIBS := lifecycle common

UNIT_TESTS += test_quorum
test_quorum_SRCS := tests/unit/havm/test_quorum.c
test_quorum_LIBS := lifecycle common

UNIT_TESTS += test_vm
test_vm_SRCS := tests/unit/havm/test_vm.c
test_vm_LIBS := lifecycle common
