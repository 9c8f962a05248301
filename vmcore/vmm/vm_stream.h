/* vmcore/vmm — private: live migration over a stream socket (vm_stream.c,
 * the source; vm_stream_target.c, the target). The address is a unix
 * socket path or "tcp:HOST:PORT[,token=T]" (docs/save-restore.md).
 *
 * Protocol: the source sends the line "havm-stream 1 TOKEN" ("-" for none;
 * the target drops a connection whose token differs), then the .vsv in
 * frames (a 32-bit little-endian length and the bytes; END closes the
 * file; RESTART drops what came so far — sent only by older sources, which
 * restarted a pre-copy as stop-and-copy when the guest wrote a disk; the
 * final disks record of format 1.1 made that unnecessary). The target answers one line: "ok"
 * once it restored the state, or "error KIND MESSAGE". After "ok" it runs
 * the guest only when the source confirms with "go": an answer the source
 * never got leaves the guest stopped on both sides, never running twice. */
#ifndef HAVM_VMCORE_VMM_VM_STREAM_H
#define HAVM_VMCORE_VMM_VM_STREAM_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

#include "common/err.h"
#include "vmcore/vmm/vm.h"

#define VM_STREAM_FRAME_END 0u
#define VM_STREAM_FRAME_RESTART 0xffffffffu
#define VM_STREAM_FRAME_MAX (16u << 20)
#define VM_STREAM_HELLO "havm-stream 1"
#define VM_STREAM_TOKEN_MAX 128

/* Source: connects to @addr and greets; *fd is the stream. A refused TCP
 * connection is retried for 15 s (the target may be starting). */
int vm_stream_connect(const char *addr, int *fd, struct havm_err *err) HAVM_MUST_CHECK;
/* Source: a vsv_write_fn; @opaque is the fd as intptr_t. */
int vm_stream_write(void *opaque, const void *buf, size_t len);
/* Source: ends the file, waits (60 s at most) for the target's answer and
 * confirms an "ok". 0 only when the target took the guest over. */
int vm_stream_finish(int fd, struct havm_err *err) HAVM_MUST_CHECK;

/* Shared by both sides. */
int vm_stream_unix_addr(const char *path, struct sockaddr_un *sa, struct havm_err *err) HAVM_MUST_CHECK;
/* 1 and the parts for "tcp:HOST:PORT[,token=T]", 0 for anything else (a
 * unix path), or a negative errno for a malformed TCP address. */
int vm_stream_tcp_parse(const char *addr, char *host, size_t hcap, char *port, size_t pcap, char *token,
			size_t tcap, struct havm_err *err);
int vm_stream_resolve(const char *addr, const char *host, const char *port, bool passive,
		      struct addrinfo **ai, struct havm_err *err) HAVM_MUST_CHECK;
int vm_stream_send(int fd, const void *buf, size_t len);
/* One line without its newline within @ms: its length, or -ETIMEDOUT/-errno. */
int vm_stream_read_line(int fd, char *line, size_t cap, int ms);

#endif
