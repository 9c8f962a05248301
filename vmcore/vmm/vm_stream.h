/* vmcore/vmm — private: live migration over a unix stream socket
 * (vm_stream.c). The source writes a .vsv stream, shuts down its write
 * side and waits for one line from the target: "ok", or "error KIND
 * MESSAGE" when the target refused or failed to restore the state. */
#ifndef HAVM_VMCORE_VMM_VM_STREAM_H
#define HAVM_VMCORE_VMM_VM_STREAM_H

#include <stddef.h>

#include "common/err.h"
#include "vmcore/vmm/vm.h"

/* Source: connects to @path; *fd is the stream. */
int vm_stream_connect(const char *path, int *fd, struct havm_err *err) HAVM_MUST_CHECK;
/* Source: a vsv_write_fn; @opaque is the fd as intptr_t. */
int vm_stream_write(void *opaque, const void *buf, size_t len);
/* Source: ends the stream and waits (60 s at most) for the target's answer. */
int vm_stream_finish(int fd, struct havm_err *err) HAVM_MUST_CHECK;

#endif
