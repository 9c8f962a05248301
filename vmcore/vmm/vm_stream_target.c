/* vmcore/vmm — live migration over a stream socket, the target side
 * (`vmm run CONFIG --incoming ADDR`); see vm_stream.h for the protocol.
 * The target listens, receives the whole .vsv into memory, then builds the
 * machine (opening the shared disks only now that the source paused and
 * flushed them), restores from it, answers, and runs the guest only on
 * the source's "go". Received into
 * memory rather than restored while it streams: the reader validates a
 * file before any state is used, and the stream's trailer comes last. */
#define LOG_TAG HAVM_TAG_MAIN
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "vmcore/vmm/vm_int.h"
#include "vmcore/vmm/vm_stream.h"

/* A target waits this long for its source, then gives up (exits). */
#define ACCEPT_TIMEOUT_MS 120000
/* The longest silence inside a stream, and before the source's "go". */
#define IDLE_TIMEOUT_MS 60000
/* Connections with a wrong greeting dropped before the target gives up. */
#define MAX_STRANGERS 8
#define ANSWER_MAX 1024

static int listen_unix(const char *path, struct havm_err *err)
{
	struct sockaddr_un sa;
	int rc = vm_stream_unix_addr(path, &sa, err);
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

static int listen_tcp(const char *addr, const char *host, const char *port, struct havm_err *err)
{
	struct addrinfo *ai = NULL;
	int rc = vm_stream_resolve(addr, host, port, true, &ai, err);
	if (rc < 0)
		return rc;
	int s = -1;
	for (struct addrinfo *p = ai; p; p = p->ai_next) {
		s = socket(p->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0) {
			rc = -errno;
			continue;
		}
		int one = 1;
		(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, p->ai_addr, p->ai_addrlen) == 0 && listen(s, 4) == 0)
			break;
		rc = -errno;
		close(s);
		s = -1;
	}
	freeaddrinfo(ai);
	if (s < 0)
		return havm_err_set(err, HAVM_E_IO, rc, "cannot listen on %s: %s", addr, strerror(-rc));
	return s;
}

/* Reads exactly @len bytes within the idle bound; -EPIPE at EOF. */
static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int pr = poll(&pf, 1, IDLE_TIMEOUT_MS);
		if (pr == 0)
			return -ETIMEDOUT;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -errno;
		ssize_t r = read(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Receives the framed file; at most @cap bytes kept at once. */
static int receive(int fd, uint8_t **out, size_t *len, size_t cap, const char *addr, struct havm_err *err)
{
	size_t n = 0, size = 1 << 20;
	uint8_t *buf = malloc(size);
	if (!buf)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "out of memory");
	unsigned restarts = 0;
	int rc;
	for (;;) {
		uint8_t h[4] = { 0 };
		if ((rc = read_full(fd, h, sizeof(h))) < 0)
			break;
		uint32_t flen = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
		if (flen == VM_STREAM_FRAME_END)
			break;
		if (flen == VM_STREAM_FRAME_RESTART) {
			restarts++;
			n = 0;
			continue;
		}
		if (flen > VM_STREAM_FRAME_MAX || n + flen > cap) {
			free(buf);
			return havm_err_set(err, HAVM_E_FORMAT, -EFBIG,
					    "%s: frame of %u bytes at offset %zu: longer than the limit (%u) or than this machine's state can take (%zu)",
					    addr, flen, n, VM_STREAM_FRAME_MAX, cap);
		}
		if (n + flen > size) {
			size_t ns = size;
			while (ns < n + flen)
				ns *= 2;
			if (ns > cap)
				ns = cap;
			uint8_t *nb = realloc(buf, ns);
			if (!nb) {
				free(buf);
				return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "out of memory");
			}
			buf = nb;
			size = ns;
		}
		if ((rc = read_full(fd, buf + n, flen)) < 0)
			break;
		n += flen;
	}
	if (rc < 0) {
		free(buf);
		if (rc == -EPIPE)
			return havm_err_set(err, HAVM_E_IO, rc,
					    "%s: the source ended the stream before its end (%zu bytes in); nothing restored",
					    addr, n);
		return havm_err_set(err, rc == -ETIMEDOUT ? HAVM_E_TIMEOUT : HAVM_E_IO, rc,
				    "%s: reading the stream: %s", addr, strerror(-rc));
	}
	if (restarts)
		hlog(LOG_INFO, "%s: the source restarted the stream %u time(s)", addr, restarts);
	*out = buf;
	*len = n;
	return 0;
}

static void answer(int fd, int rc, const struct havm_err *err)
{
	char line[ANSWER_MAX];
	if (rc == 0)
		snprintf(line, sizeof(line), "ok\n");
	else
		snprintf(line, sizeof(line), "error %s %s\n", havm_err_kind_name(err->kind), err->msg);
	(void)vm_stream_send(fd, line, strlen(line));
}

/* Accepts the source: the first connection that greets with @token. */
static int accept_source(int ls, const char *addr, const char *token, struct havm_err *err)
{
	char want[sizeof(VM_STREAM_HELLO) + VM_STREAM_TOKEN_MAX + 2];
	snprintf(want, sizeof(want), "%s %s", VM_STREAM_HELLO, token[0] ? token : "-");
	for (int strangers = 0; strangers < MAX_STRANGERS; strangers++) {
		struct pollfd p = { .fd = ls, .events = POLLIN };
		int pr;
		do
			pr = poll(&p, 1, ACCEPT_TIMEOUT_MS);
		while (pr < 0 && errno == EINTR);
		if (pr == 0)
			return havm_err_set(err, HAVM_E_TIMEOUT, -ETIMEDOUT,
					    "%s: no source connected within %d s", addr, ACCEPT_TIMEOUT_MS / 1000);
		int fd;
		do
			fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		while (fd < 0 && errno == EINTR);
		if (fd < 0)
			return havm_err_set(err, HAVM_E_IO, -errno, "%s: accept: %s", addr, strerror(errno));
		char line[sizeof(want) + 8];
		int rc = vm_stream_read_line(fd, line, sizeof(line), IDLE_TIMEOUT_MS);
		if (rc >= 0 && strcmp(line, want) == 0)
			return fd;
		hlog(LOG_WARNING, "%s: dropped a connection that did not greet as our source", addr);
		close(fd);
	}
	return havm_err_set(err, HAVM_E_IO, -EPROTO, "%s: %d connections without the right greeting",
			    addr, MAX_STRANGERS);
}

int vm_stream_receive(const char *name, uint64_t ram_size, const char *addr, struct vm_incoming *in,
		      struct havm_err *err)
{
	memset(in, 0, sizeof(*in));
	in->fd = -1;
	char host[256], port[16], token[VM_STREAM_TOKEN_MAX];
	int tcp = vm_stream_tcp_parse(addr, host, sizeof(host), port, sizeof(port), token, sizeof(token), err);
	if (tcp < 0)
		return tcp;
	if (!tcp)
		token[0] = 0;
	snprintf(in->label, sizeof(in->label), "%s", tcp ? "the migration stream" : addr);
	int ls = tcp ? listen_tcp(addr, host, port, err) : listen_unix(addr, err);
	if (ls < 0)
		return ls;
	/* The token is a secret: the log names the address only. */
	if (tcp)
		hlog(LOG_NOTICE, "vm %s: waiting for an incoming migration on tcp:%s:%s", name, host, port);
	else
		hlog(LOG_NOTICE, "vm %s: waiting for an incoming migration on %s", name, addr);
	int fd = accept_source(ls, addr, token, err);
	close(ls);
	if (!tcp)
		unlink(addr);
	if (fd < 0)
		return fd;
	/* Every pass may hold all of RAM; bounded by the pass limit of a source. */
	size_t cap = (size_t)ram_size * 10 + (64u << 20);
	int rc = receive(fd, &in->buf, &in->len, cap, in->label, err);
	if (rc < 0) {
		answer(fd, rc, err);
		close(fd);
		return rc;
	}
	in->fd = fd;
	return 0;
}

int vm_stream_handover(struct vm_incoming *in, int rc, struct havm_err *err)
{
	free(in->buf);
	in->buf = NULL;
	answer(in->fd, rc, err);
	if (rc == 0) {
		char line[16];
		int lr = vm_stream_read_line(in->fd, line, sizeof(line), IDLE_TIMEOUT_MS);
		if (lr < 0 || strcmp(line, "go") != 0)
			rc = havm_err_set(err, HAVM_E_STATE, lr < 0 ? lr : -EPROTO,
					  "restored, but the source did not confirm the handover (%s); "
					  "not running the guest: it may still run there",
					  lr == -ETIMEDOUT ? "timeout" : lr < 0 ? strerror(-lr) : "no \"go\"");
	}
	close(in->fd);
	in->fd = -1;
	return rc;
}
