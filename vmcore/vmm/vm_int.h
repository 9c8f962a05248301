/* vmcore/vmm — private glue between vm.c and vcpu.c. */
#ifndef HAVM_VMCORE_VMM_VM_INT_H
#define HAVM_VMCORE_VMM_VM_INT_H

#include "vmcore/vmm/vm.h"
#include "vmcore/vsv/vsv.h"

/* Loads the boot images into RAM and sets the CPU's start state. */
int vm_load_guest(struct vm *vm, struct havm_err *err) HAVM_MUST_CHECK;
void *vm_vcpu_main(void *arg);
/* Replaces the freshly built machine's state with the .vsv at @path. */
int vm_restore_state(struct vm *vm, const char *path, struct havm_err *err) HAVM_MUST_CHECK;
/* The same from a .vsv received into memory (@buf borrowed for the call). */
int vm_restore_state_mem(struct vm *vm, const void *buf, size_t len, const char *label,
			 struct havm_err *err) HAVM_MUST_CHECK;
/* Listens on @sock, receives one migration stream, restores it and
 * answers the source (vm_stream.c). */
int vm_receive_and_restore(struct vm *vm, const char *sock, struct havm_err *err) HAVM_MUST_CHECK;
/* The description of this machine, as a writer records it and a reader
 * expects it (vm_snapshot.c); disks are flushed first (vCPU stopped). */
int vm_machine_desc(struct vm *vm, struct vsv_machine_desc *d, struct havm_err *err) HAVM_MUST_CHECK;
/* Stops the vCPU thread at its gate without changing the visible state
 * more than a pause would; vm_unpark lets it continue. */
int vm_park(struct vm *vm, struct havm_err *err) HAVM_MUST_CHECK;
void vm_unpark(struct vm *vm);
/* Ends the vCPU thread with the VM off and @reason (after save/migrate). */
void vm_stop_after_save(struct vm *vm, enum vm_stop_reason reason, const char *report);
uint64_t vm_mono_ns(void);
/* Wakes an idle vCPU (machine.wake). */
void vm_wake(void *opaque);

#endif
