# fencing/ — fence agent(s) in the fence-agents protocol.
PROGRAMS += fence_havm
fence_havm_SRCS := fencing/main.c fencing/args.c fencing/metadata.c fencing/actions.c
fence_havm_LIBS := havm_iscsi common

UNIT_TESTS += test_fence_args
test_fence_args_SRCS := tests/unit/fencing/test_args.c fencing/args.c fencing/metadata.c
test_fence_args_LIBS := common

INTEGRATION_TESTS += tests/integration/test_fence_havm.sh tests/integration/test_fence_corosync.sh

FUZZERS += fence_args_fuzz
fence_args_fuzz_SRCS := tests/fuzz/fence_args_fuzz.c fencing/args.c
