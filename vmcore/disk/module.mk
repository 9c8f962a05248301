# vmcore/disk/ — the block layer (blk.h) and VHD images (vhd.h).
LIBRARIES += vmcore_disk
VMCORE_LIBS += vmcore_disk
vmcore_disk_SRCS := vmcore/disk/blk.c vmcore/disk/file.c vmcore/disk/mem.c vmcore/disk/raw.c \
	vmcore/disk/vhd_footer.c vmcore/disk/vhd_header.c vmcore/disk/vhd_chs.c \
	vmcore/disk/vhd_bat.c vmcore/disk/vhd_open.c vmcore/disk/vhd_locator.c \
	vmcore/disk/vhd_io.c vmcore/disk/vhd_create.c vmcore/disk/vhd_check.c
vmcore_disk_LDLIBS :=

# A test driver for the integration and crash scripts (not installed).
PROGRAMS += vhd_testtool
vhd_testtool_SRCS := tests/crash/vhd_testtool.c
vhd_testtool_LIBS := vmcore_disk common

INTEGRATION_TESTS += tests/integration/test_vhd_oracles.sh tests/integration/test_vhd_crash.sh
