# vmcore/ — the VMM. Parts add their sources to vmcore_SRCS in their own
# module.mk (vmcore/<part>/module.mk); the `vmm` program links the library.
LIBRARIES += vmcore
vmcore_SRCS +=
vmcore_LDLIBS := -lxml2 -ljson-c -lqb -lpthread

PROGRAMS += vmm
vmm_SRCS := vmcore/vmm/main.c
vmm_LIBS := vmcore common
