# vmcore/ — the VMM. Each part (cpu/, machine/, dev/, disk/, vmc/, vsv/, ctl/)
# is a static library named vmcore_<part>, declared in its own module.mk,
# which also appends it to VMCORE_LIBS so the `vmm` program links it.
# (No `VMCORE_LIBS :=` here: this file is included after cpu/, ctl/, dev/,
# disk/ and machine/ in sorted order and would drop their entries.)

PROGRAMS += vmm
vmm_SRCS = vmcore/vmm/main.c $(VMM_EXTRA_SRCS)
vmm_LIBS = $(VMCORE_LIBS) common
