# vmcore/dev — one file per legacy PC device, plus the chardev backends.
LIBRARIES += vmcore_dev
VMCORE_LIBS += vmcore_dev
vmcore_dev_SRCS := vmcore/dev/chardev.c vmcore/dev/pic.c vmcore/dev/pit.c vmcore/dev/cmos.c \
	vmcore/dev/uart.c vmcore/dev/i8042.c vmcore/dev/port92.c vmcore/dev/port80.c \
	vmcore/dev/pci_host.c vmcore/dev/virtio_blk.c
vmcore_dev_LDLIBS := -lqb -lpthread

UNIT_TESTS += test_pic test_pit test_uart test_cmos test_i8042 test_virtio_blk test_dev_fields
INTEGRATION_TESTS += tests/integration/test_vmm_serial_slow_reader.sh
test_pic_SRCS := tests/unit/dev/test_pic.c tests/unit/dev/devtest.c
test_pic_LIBS := vmcore_machine vmcore_dev vmcore_disk common
test_pit_SRCS := tests/unit/dev/test_pit.c tests/unit/dev/devtest.c
test_pit_LIBS := vmcore_machine vmcore_dev vmcore_disk common
test_uart_SRCS := tests/unit/dev/test_uart.c tests/unit/dev/devtest.c
test_uart_LIBS := vmcore_machine vmcore_dev vmcore_disk common
test_cmos_SRCS := tests/unit/dev/test_cmos.c tests/unit/dev/devtest.c
test_cmos_LIBS := vmcore_machine vmcore_dev vmcore_disk common
test_i8042_SRCS := tests/unit/dev/test_i8042.c tests/unit/dev/devtest.c
test_i8042_LIBS := vmcore_machine vmcore_dev vmcore_disk common
test_virtio_blk_SRCS := tests/unit/dev/test_virtio_blk.c tests/unit/dev/devtest.c
test_virtio_blk_LIBS := vmcore_machine vmcore_dev vmcore_disk common
test_dev_fields_SRCS := tests/unit/dev/test_dev_fields.c tests/unit/dev/devtest.c
test_dev_fields_LIBS := vmcore_machine vmcore_dev vmcore_disk vmcore_vsv common
