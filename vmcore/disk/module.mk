# vmcore/disk/ — the block layer (blk.h) and VHD images (vhd.h).
LIBRARIES += vmcore_disk
VMCORE_LIBS += vmcore_disk
vmcore_disk_SRCS := vmcore/disk/blk.c vmcore/disk/file.c vmcore/disk/mem.c vmcore/disk/raw.c \
	vmcore/disk/vhd_footer.c vmcore/disk/vhd_header.c vmcore/disk/vhd_chs.c \
	vmcore/disk/vhd_bat.c vmcore/disk/vhd_open.c vmcore/disk/vhd_locator.c \
	vmcore/disk/vhd_io.c vmcore/disk/vhd_create.c vmcore/disk/vhd_check.c \
	vmcore/disk/vhd_convert.c vmcore/disk/vhd_compact.c vmcore/disk/vhd_merge.c vmcore/disk/vhd_merge_marker.c \
	vmcore/disk/vhd_resize.c
vmcore_disk_LDLIBS :=

# A test driver for the integration and crash scripts (not installed).
PROGRAMS += vhd_testtool
vhd_testtool_SRCS := tests/crash/vhd_testtool.c
vhd_testtool_LIBS := vmcore_disk common

INTEGRATION_TESTS += tests/integration/test_vhd_oracles.sh tests/integration/test_vhd_crash.sh \
	tests/integration/test_vhd_cli.sh tests/integration/test_vhd_tools.sh tests/integration/test_vhd_tools_crash.sh \
	tests/integration/test_vhd_mount.sh

VHD_UNIT_TESTS := test_vhd_footer test_vhd_header test_vhd_chs test_vhd_bat test_vhd_locator \
	test_vhd_open test_vhd_io test_vhd_create test_blk test_vhd_tools
UNIT_TESTS += $(VHD_UNIT_TESTS)
$(foreach t,$(VHD_UNIT_TESTS),$(eval $(t)_SRCS := tests/unit/disk/$(t).c)$(eval $(t)_LIBS := vmcore_disk common))

FUZZERS += vhd_open_fuzz
vhd_open_fuzz_SRCS := tests/fuzz/vhd_open_fuzz.c $(vmcore_disk_SRCS) common/err.c common/log.c \
	common/fault.c common/sys.c
vhd_open_fuzz_LDLIBS := -lqb

BENCHES += bench_vhd
bench_vhd_SRCS := tests/bench/vhd_bench.c
bench_vhd_LIBS := vmcore_disk common
BENCH_SCRIPTS += tests/bench/vhd.sh
