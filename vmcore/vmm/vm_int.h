/* vmcore/vmm — private glue between vm.c and vcpu.c. */
#ifndef HAVM_VMCORE_VMM_VM_INT_H
#define HAVM_VMCORE_VMM_VM_INT_H

#include "vmcore/vmm/vm.h"

/* Loads the boot images into RAM and sets the CPU's start state. */
int vm_load_guest(struct vm *vm, struct havm_err *err) HAVM_MUST_CHECK;
void *vm_vcpu_main(void *arg);
uint64_t vm_mono_ns(void);
/* Wakes an idle vCPU (machine.wake). */
void vm_wake(void *opaque);

#endif
