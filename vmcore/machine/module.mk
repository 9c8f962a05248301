# vmcore/machine — I/O bus, virtual clock, RAM, the PC board, boot loaders.
LIBRARIES += vmcore_machine
VMCORE_LIBS += vmcore_machine
vmcore_machine_SRCS := vmcore/machine/io.c vmcore/machine/vclock.c vmcore/machine/ram.c vmcore/machine/ram_untouched.c \
	vmcore/machine/cpubus.c vmcore/machine/pc.c vmcore/machine/boot_cpu.c \
	vmcore/machine/boot_flat.c vmcore/machine/boot_linux.c
vmcore_machine_LDLIBS := -lpthread

UNIT_TESTS += test_io test_vclock test_boot test_ram_untouched
test_io_SRCS := tests/unit/machine/test_io.c
test_io_LIBS := vmcore_machine vmcore_dev vmcore_disk common
test_vclock_SRCS := tests/unit/machine/test_vclock.c
test_vclock_LIBS := vmcore_machine vmcore_dev vmcore_disk common
test_boot_SRCS := tests/unit/machine/test_boot.c
test_boot_LIBS := vmcore_machine vmcore_dev vmcore_disk common
test_ram_untouched_SRCS := tests/unit/machine/test_ram_untouched.c
test_ram_untouched_LIBS := vmcore_machine vmcore_dev vmcore_disk common
