# vmcore/vsv — the .vsv saved-state container (docs/vsv.md).
LIBRARIES += vmcore_vsv
VMCORE_LIBS += vmcore_vsv
vmcore_vsv_SRCS := vmcore/vsv/crc32c.c vmcore/vsv/desc.c vmcore/vsv/writer.c vmcore/vsv/ram_write.c \
                   vmcore/vsv/reader.c vmcore/vsv/ram_load.c vmcore/vsv/fields.c vmcore/vsv/cpu_state.c \
                   vmcore/vsv/precopy.c vmcore/vsv/final_disks.c
vmcore_vsv_LDLIBS := -lqb -lpthread

VSV_TEST_UTIL := tests/unit/vsv/vsv_test_util.c
UNIT_TESTS += test_vsv_reader test_vsv_writer test_vsv_fields test_vsv_crash test_vsv_precopy test_vsv_final_disks
test_vsv_final_disks_SRCS := tests/unit/vsv/test_final_disks.c $(VSV_TEST_UTIL)
test_vsv_final_disks_LIBS := vmcore_vsv common
test_vsv_reader_SRCS := tests/unit/vsv/test_reader.c $(VSV_TEST_UTIL)
test_vsv_reader_LIBS := vmcore_vsv common
test_vsv_writer_SRCS := tests/unit/vsv/test_writer.c $(VSV_TEST_UTIL)
test_vsv_writer_LIBS := vmcore_vsv common
test_vsv_fields_SRCS := tests/unit/vsv/test_fields.c
test_vsv_fields_LIBS := vmcore_vsv common
test_vsv_precopy_SRCS := tests/unit/vsv/test_precopy.c
test_vsv_precopy_LIBS := vmcore_vsv common
test_vsv_crash_SRCS := tests/crash/test_vsv_crash.c $(VSV_TEST_UTIL)
test_vsv_crash_LIBS := vmcore_vsv common

FUZZERS += vsv_fuzz
vsv_fuzz_SRCS := tests/fuzz/vsv_fuzz.c $(VSV_TEST_UTIL) $(vmcore_vsv_SRCS) \
                 common/err.c common/fault.c common/sys.c common/log.c
vsv_fuzz_LDLIBS := -lqb -lpthread

# `havm vsv info` lives in havm/cli_vsv.c; it is added to the havm program
# here so the CLI's own module.mk stays as its owner wrote it.
havm_SRCS += havm/cli_vsv.c
havm_LIBS += vmcore_vsv
INTEGRATION_TESTS += tests/integration/test_vsv_cli.sh

BENCHES += bench_vsv
bench_vsv_SRCS := tests/bench/vsv_bench.c
bench_vsv_LIBS := vmcore_vsv common
BENCH_SCRIPTS += tests/bench/vsv.sh
