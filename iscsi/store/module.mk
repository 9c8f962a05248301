# The VM store (iscsi/store.h, docs/store.md): GPT on a LUN or image, or a
# directory. Kept in its own library and module file so it links after the
# LUN code; sorts after havm/module.mk, so it can extend the havm program.
LIBRARIES += havm_store
havm_store_SRCS := iscsi/gpt.c iscsi/gpt_name.c iscsi/gpt_io.c iscsi/store.c iscsi/store_dir.c \
	iscsi/store_gpt.c iscsi/store_lock.c iscsi/store_region.c iscsi/store_lun.c iscsi/store_copy.c iscsi/store_disk.c
havm_store_LDLIBS := -lz
STORE_LIBS := havm_store havm_iscsi vmcore_disk common

havm_SRCS += havm/cli_store.c
havm_LIBS += havm_store havm_iscsi

UNIT_TESTS += test_gpt test_store_gpt test_store_dir test_store_crash
test_gpt_SRCS := tests/unit/store/test_gpt.c
test_gpt_LIBS := $(STORE_LIBS)
test_store_gpt_SRCS := tests/unit/store/test_store_gpt.c
test_store_gpt_LIBS := $(STORE_LIBS) vmcore_vsv
test_store_dir_SRCS := tests/unit/store/test_store_dir.c
test_store_dir_LIBS := $(STORE_LIBS)
test_store_crash_SRCS := tests/unit/store/test_store_crash.c
test_store_crash_LIBS := $(STORE_LIBS)

INTEGRATION_TESTS += tests/integration/test_store_lun.sh tests/integration/test_store_dir.sh

FUZZERS += gpt_fuzz
gpt_fuzz_SRCS := tests/fuzz/gpt_fuzz.c iscsi/gpt.c iscsi/gpt_name.c iscsi/gpt_io.c vmcore/disk/mem.c \
	common/err.c common/log.c common/fault.c
gpt_fuzz_LDLIBS := -lz -lqb

# make bench: a VHD on a LUN store vs a VHD file (docs/benchmarks.md).
BENCHES += bench_store_vhd
bench_store_vhd_SRCS := iscsi/bench_store_vhd.c
bench_store_vhd_LIBS := $(STORE_LIBS)
BENCH_SCRIPTS += tests/bench/store_vhd.sh
