# vmcore/vmc — the .vmc configuration file (docs/vmc.md).
LIBRARIES += vmcore_vmc
VMCORE_LIBS += vmcore_vmc
vmcore_vmc_SRCS := vmcore/vmc/vmc.c
vmcore_vmc_LDLIBS := -lxml2

UNIT_TESTS += test_vmc
test_vmc_SRCS := tests/unit/vmc/test_vmc.c
test_vmc_LIBS := vmcore_vmc common

FUZZERS += vmc_fuzz
vmc_fuzz_SRCS := tests/fuzz/vmc_fuzz.c vmcore/vmc/vmc.c common/err.c
vmc_fuzz_LDLIBS := -lxml2 -Wno-unknown-warning-option
