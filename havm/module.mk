# havm/ — the lifecycle library (liblifecycle: runtime directory and lock,
# quorum gate, Open..Terminate) and the `havm` CLI over it.
LIBRARIES += lifecycle
lifecycle_SRCS := havm/runtime.c havm/quorum.c havm/vm.c havm/status.c havm/online.c havm/stop.c \
	havm/vmm_path.c havm/control.c havm/spawn.c havm/state.c havm/migrate.c havm/migrate_stream.c havm/migrate_offer.c havm/fence_check.c havm/info.c
lifecycle_LDLIBS := -lquorum -lcmap -lqb
# What a user of the lifecycle links: it validates .vmc files with vmcore's
# parser and talks to vmm through vmcore's control client.
HAVM_LC_LIBS := lifecycle havm_store havm_iscsi vmcore_vmc vmcore_ctl vmcore_disk common

PROGRAMS += havm
havm_SRCS := havm/main.c $(sort $(wildcard havm/cli_vhd*.c)) havm/progress.c havm/cli_lifecycle.c havm/cli_status.c havm/cli_cluster.c
havm_LIBS := lifecycle havm_store havm_iscsi vmcore_vmc vmcore_ctl vmcore_disk common
havm_LDLIBS := -ljson-c -lfuse3

UNIT_TESTS += test_runtime
test_runtime_SRCS := tests/unit/havm/test_runtime.c
test_runtime_LIBS := $(HAVM_LC_LIBS)

UNIT_TESTS += test_quorum
test_quorum_SRCS := tests/unit/havm/test_quorum.c
test_quorum_LIBS := $(HAVM_LC_LIBS)

UNIT_TESTS += test_vm
test_vm_SRCS := tests/unit/havm/test_vm.c
test_vm_LIBS := $(HAVM_LC_LIBS)

# Lifecycle tests share a fake vmm (a forked process posing as one) and a fixture.
HAVM_LC_TEST_HELPERS := tests/unit/havm/fake_vmm.c tests/unit/havm/lifecycle_fixture.c
UNIT_TESTS += test_status test_stop test_online
test_status_SRCS := tests/unit/havm/test_status.c $(HAVM_LC_TEST_HELPERS)
test_status_LIBS := $(HAVM_LC_LIBS)
test_stop_SRCS := tests/unit/havm/test_stop.c $(HAVM_LC_TEST_HELPERS)
test_stop_LIBS := $(HAVM_LC_LIBS)
test_online_SRCS := tests/unit/havm/test_online.c $(HAVM_LC_TEST_HELPERS)
test_online_LIBS := $(HAVM_LC_LIBS)

INTEGRATION_TESTS += tests/integration/test_quorum_corosync.sh
INTEGRATION_TESTS += tests/integration/test_lifecycle_vmm.sh tests/integration/test_lifecycle_saverestore.sh \
	tests/integration/test_lifecycle_store.sh tests/integration/test_havm_status.sh

FUZZERS += migrate_offer_fuzz
migrate_offer_fuzz_SRCS := tests/fuzz/migrate_offer_fuzz.c havm/migrate_offer.c common/err.c
FUZZERS += runtime_parse_fuzz
runtime_parse_fuzz_SRCS := tests/fuzz/runtime_parse_fuzz.c havm/runtime.c common/err.c common/sys.c \
	common/log.c common/fault.c
runtime_parse_fuzz_LDLIBS := -lqb
