# vmcore/vsv — the .vsv saved-state container (docs/vsv.md).
LIBRARIES += vmcore_vsv
VMCORE_LIBS += vmcore_vsv
vmcore_vsv_SRCS := vmcore/vsv/crc32c.c vmcore/vsv/desc.c vmcore/vsv/writer.c vmcore/vsv/ram_write.c \
                   vmcore/vsv/reader.c vmcore/vsv/ram_load.c vmcore/vsv/fields.c vmcore/vsv/cpu_state.c
vmcore_vsv_LDLIBS := -lqb -lpthread
