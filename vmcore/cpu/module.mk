# vmcore/cpu — the x86 CPU interpreter (docs/cpu.md).
LIBRARIES += vmcore_cpu
VMCORE_LIBS += vmcore_cpu
vmcore_cpu_SRCS := $(addprefix vmcore/cpu/, interp.c decode.c flags.c mmu.c seg.c except.c \
    exec_main.c exec_0f.c exec_alu.c exec_string.c exec_control.c exec_system.c \
    cpuid_msr.c fpu.c)
