/* vmcore/vmm — live migration over a unix stream socket; see vm_stream.h.
 * The target side (vm_create_incoming) listens, receives the whole .vsv
 * into memory, restores from it, and answers. Received into memory rather
 * than restored while it streams: the reader validates a file before any
 * state is used, and the stream's trailer comes last. */
#define LOG_TAG HAVM_TAG_MAIN
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "vmcore/vmm/vm_int.h"
#include "vmcore/vmm/vm_stream.h"

#define ACK_TIMEOUT_MS 60000
#define ACK_MAX 1024

static int sock_addr(const char *path, struct sockaddr_un *sa, struct havm_err *err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return havm_err_set(err, HAVM_E_CONFIG, -ENAMETOOLONG, "socket path %s is longer than %zu bytes",
				    path, sizeof(sa->sun_path) - 1);
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

int vm_stream_connect(const char *path, int *fd, struct havm_err *err)
{
	struct sockaddr_un sa;
	int rc = sock_addr(path, &sa, err);
	if (rc < 0)
		return rc;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return havm_err_set(err, HAVM_E_IO, -errno, "socket: %s", strerror(errno));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(s);
		return havm_err_set(err, rc == -ENOENT ? HAVM_E_NOTFOUND : HAVM_E_IO, rc,
				    "no target listening on %s: %s", path, strerror(-rc));
	}
	*fd = s;
	return 0;
}

int vm_stream_write(void *opaque, const void *buf, size_t len)
{
	int fd = (int)(intptr_t)opaque;
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one line (without the newline) within the deadline. */
static int read_line(int fd, char *line, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = poll(&p, 1, ACK_TIMEOUT_MS);
		if (pr == 0)
			return -ETIMEDOUT;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -errno;
		ssize_t r = read(fd, line + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = 0;
	return (int)n;
}

int vm_stream_finish(int fd, struct havm_err *err)
{
	if (shutdown(fd, SHUT_WR) < 0)
		return havm_err_set(err, HAVM_E_IO, -errno, "ending the stream: %s", strerror(errno));
	char line[ACK_MAX];
	int rc = read_line(fd, line, sizeof(line));
	if (rc == -ETIMEDOUT)
		return havm_err_set(err, HAVM_E_TIMEOUT, rc, "the target did not answer within %d s",
				    ACK_TIMEOUT_MS / 1000);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_IO, rc, "reading the target's answer: %s", strerror(-rc));
	if (strcmp(line, "ok") == 0)
		return 0;
	if (rc == 0)
		return havm_err_set(err, HAVM_E_IO, -EPIPE, "the target closed the stream without an answer");
	return havm_err_set(err, HAVM_E_STATE, -EREMOTEIO, "the target refused the state: %s", line);
}

/* --- target --------------------------------------------------------------- */

static int listen_on(const char *path, struct havm_err *err)
{
	struct sockaddr_un sa;
	int rc = sock_addr(path, &sa, err);
	if (rc < 0)
		return rc;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return havm_err_set(err, HAVM_E_IO, -errno, "socket: %s", strerror(errno));
	unlink(path);
	mode_t old = umask(0077);
	rc = 0;
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 || listen(s, 1) < 0)
		rc = -errno;
	umask(old);
	if (rc < 0) {
		close(s);
		return havm_err_set(err, HAVM_E_IO, rc, "cannot listen on %s: %s", path, strerror(-rc));
	}
	return s;
}

/* Reads until EOF; at most @cap bytes. */
static int receive(int fd, uint8_t **out, size_t *len, size_t cap, const char *path, struct havm_err *err)
{
	size_t n = 0, size = 1 << 20;
	uint8_t *buf = malloc(size);
	if (!buf)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "out of memory");
	for (;;) {
		if (n == size) {
			if (size >= cap) {
				free(buf);
				return havm_err_set(err, HAVM_E_FORMAT, -EFBIG,
						    "%s: the stream is longer than %zu bytes, more than this machine's state can take",
						    path, cap);
			}
			size = size * 2 > cap ? cap : size * 2;
			uint8_t *nb = realloc(buf, size);
			if (!nb) {
				free(buf);
				return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "out of memory");
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			return havm_err_set(err, HAVM_E_IO, -e, "%s: reading the stream: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

static void answer(int fd, int rc, const struct havm_err *err)
{
	char line[ACK_MAX];
	if (rc == 0)
		snprintf(line, sizeof(line), "ok\n");
	else
		snprintf(line, sizeof(line), "error %s %s\n", havm_err_kind_name(err->kind), err->msg);
	(void)vm_stream_write((void *)(intptr_t)fd, line, strlen(line));
}

int vm_receive_and_restore(struct vm *vm, const char *sock, struct havm_err *err)
{
	int ls = listen_on(sock, err);
	if (ls < 0)
		return ls;
	hlog(LOG_NOTICE, "vm %s: waiting for an incoming migration on %s", vm->cfg->name, sock);
	int fd;
	do
		fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	int rc = fd < 0 ? havm_err_set(err, HAVM_E_IO, -errno, "%s: accept: %s", sock, strerror(errno)) : 0;
	close(ls);
	unlink(sock);
	if (rc < 0)
		return rc;
	uint8_t *buf = NULL;
	size_t len = 0;
	/* Every pass may hold all of RAM; bounded by the pass limit of a source. */
	size_t cap = (size_t)vm->m.ram_size * 10 + (64u << 20);
	rc = receive(fd, &buf, &len, cap, sock, err);
	if (rc == 0) {
		vm->restore_t0 = vm_mono_ns();
		vm->restore_stream = true;
		rc = vm_restore_state_mem(vm, buf, len, sock, err);
	}
	free(buf);
	answer(fd, rc, err);
	close(fd);
	return rc;
}
