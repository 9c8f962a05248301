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
/* An incoming migration (vm_stream_target.c): the connection to the source
 * and the whole .vsv it sent. */
struct vm_incoming {
	int fd;
	uint8_t *buf;
	size_t len;
	char label[64];       /* names the stream in messages */
};
/* Listens on @sock, accepts the source and receives one stream for a
 * machine of @ram_size bytes of RAM. Before any machine is built: the
 * disks are opened only once the source has paused and flushed them. */
int vm_stream_receive(const char *name, uint64_t ram_size, const char *sock, struct vm_incoming *in,
		      struct havm_err *err) HAVM_MUST_CHECK;
/* Answers the source (@rc: the restore's result, @err its error) and, after
 * "ok", waits for its "go"; 0 only then. Frees @in in every case. */
int vm_stream_handover(struct vm_incoming *in, int rc, struct havm_err *err) HAVM_MUST_CHECK;
/* The description of this machine, as a writer records it and a reader
 * expects it (vm_snapshot.c); disks are flushed first (vCPU stopped). */
int vm_machine_desc(struct vm *vm, struct vsv_machine_desc *d, struct havm_err *err) HAVM_MUST_CHECK;
/* Stops the vCPU thread at its gate without changing the visible state
 * more than a pause would; vm_unpark lets it continue. */
int vm_park(struct vm *vm, struct havm_err *err) HAVM_MUST_CHECK;
/* Publishes the disk requests the I/O threads finished; with @drain, waits
 * for those in flight first (vCPU stopped: pause, save). */
void vm_disks_settle(struct vm *vm, bool drain);
void vm_unpark(struct vm *vm);
/* Ends the vCPU thread with the VM off and @reason (after save/migrate). */
void vm_stop_after_save(struct vm *vm, enum vm_stop_reason reason, const char *report);
uint64_t vm_mono_ns(void);
/* This node's PR key from $HAVM_PR_KEY (vm_disk_url.c); 0 = none. */
int vm_node_key(uint64_t *key, struct havm_err *err) HAVM_MUST_CHECK;
/* virtio-blk's open for store="NAME" disks (vm_store.c). */
int vm_disk_open_store(void *opaque, const char *name, unsigned flags, struct blk_dev **out,
		       struct havm_err *err) HAVM_MUST_CHECK;
/* The write generation of @disk: its store object's, or its file's. */
int vm_disk_gen(struct vm *vm, struct blk_dev *disk, uint64_t *gen, struct havm_err *err) HAVM_MUST_CHECK;
/* The .vsv writer for a save or migration to @path: a file, or with a
 * store a .vsv object (a name without '/') written by the store's atomic
 * replace over its own connection. commit/abort end either. */
int vm_vsv_open(struct vm *vm, const char *path, const struct vsv_machine_desc *d, struct vsv_writer **w,
		struct havm_err *err) HAVM_MUST_CHECK;
int vm_vsv_commit(struct vm *vm, struct vsv_writer *w, struct havm_err *err) HAVM_MUST_CHECK;
void vm_vsv_abort(struct vm *vm, struct vsv_writer *w);
/* Wakes an idle vCPU (machine.wake). */
void vm_wake(void *opaque);

#endif
