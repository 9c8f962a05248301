/* vmcore/vmm — private: the state sections of a VM's .vsv (vm_snapshot.c),
 * shared by the save loops (vm_save.c) and the restore. */
#ifndef HAVM_VMCORE_VMM_VM_SNAPSHOT_H
#define HAVM_VMCORE_VMM_VM_SNAPSHOT_H

#include <stdint.h>

#include "common/err.h"
#include "vmcore/vmm/vm.h"
#include "vmcore/vsv/vsv.h"

/* Writes the CPU, clock and every device section; the vCPU must be stopped. */
int vm_write_state(struct vm *vm, struct vsv_writer *w, struct havm_err *err) HAVM_MUST_CHECK;

/* The write generation of the disk file at @path (see vm_snapshot.c). */
int vm_disk_generation(const char *path, uint64_t *gen, struct havm_err *err) HAVM_MUST_CHECK;

#endif
