/* vmcore/vmm — live migration over a stream socket, the source side and
 * what both sides share; see vm_stream.h for the protocol. */
#define LOG_TAG HAVM_TAG_MAIN
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/log.h"
#include "vmcore/vmm/vm_int.h"
#include "vmcore/vmm/vm_stream.h"

#define ACK_TIMEOUT_MS 60000
#define ACK_MAX 1024
/* A target vmm starts listening after the source is told where it will be:
 * the source retries a refused TCP connection this long. */
#define CONNECT_RETRY_MS 15000

int vm_stream_unix_addr(const char *path, struct sockaddr_un *sa, struct havm_err *err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return havm_err_set(err, HAVM_E_CONFIG, -ENAMETOOLONG, "socket path %s is longer than %zu bytes",
				    path, sizeof(sa->sun_path) - 1);
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "tcp:HOST:PORT[,token=T]" into its parts; 0 when it is not a TCP address. */
int vm_stream_tcp_parse(const char *addr, char *host, size_t hcap, char *port, size_t pcap, char *token,
		     size_t tcap, struct havm_err *err)
{
	if (tcap)
		token[0] = 0;
	if (strncmp(addr, "tcp:", 4) != 0)
		return 0;
	const char *a = addr + 4;
	const char *comma = strchr(a, ',');
	size_t alen = comma ? (size_t)(comma - a) : strlen(a);
	if (comma) {
		if (strncmp(comma, ",token=", 7) != 0 || strlen(comma + 7) >= tcap || !comma[7])
			return havm_err_set(err, HAVM_E_CONFIG, -EINVAL,
					    "%s: expected tcp:HOST:PORT[,token=T]", addr);
		snprintf(token, tcap, "%s", comma + 7);
	}
	const char *colon = memrchr(a, ':', alen);
	if (!colon || colon == a || (size_t)(a + alen - colon - 1) >= pcap || colon + 1 == a + alen)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "%s: expected tcp:HOST:PORT", addr);
	size_t hlen = (size_t)(colon - a);
	if (a[0] == '[' && hlen >= 2 && a[hlen - 1] == ']') { /* [v6 address] */
		a++;
		hlen -= 2;
	}
	if (hlen >= hcap)
		return havm_err_set(err, HAVM_E_CONFIG, -ENAMETOOLONG, "%s: host name too long", addr);
	memcpy(host, a, hlen);
	host[hlen] = 0;
	size_t plen = (size_t)(addr + 4 + alen - colon - 1);
	memcpy(port, colon + 1, plen);
	port[plen] = 0;
	return 1;
}

int vm_stream_resolve(const char *addr, const char *host, const char *port, bool passive, struct addrinfo **ai,
		   struct havm_err *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0) };
	int g = getaddrinfo(host, port, &hints, ai);
	if (g != 0)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "%s: %s", addr, gai_strerror(g));
	return 0;
}

static int tcp_connect(const char *addr, const char *host, const char *port, int *fd,
		       struct havm_err *err)
{
	struct addrinfo *ai = NULL;
	int rc = vm_stream_resolve(addr, host, port, false, &ai, err);
	if (rc < 0)
		return rc;
	int64_t until = now_ms() + CONNECT_RETRY_MS;
	for (;;) {
		for (struct addrinfo *p = ai; p; p = p->ai_next) {
			int s = socket(p->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (s < 0) {
				rc = -errno;
				continue;
			}
			if (connect(s, p->ai_addr, p->ai_addrlen) == 0) {
				int one = 1;
				(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				freeaddrinfo(ai);
				*fd = s;
				return 0;
			}
			rc = -errno;
			close(s);
		}
		if (rc != -ECONNREFUSED || now_ms() >= until)
			break;
		usleep(20000); /* the target is not listening yet */
	}
	freeaddrinfo(ai);
	return havm_err_set(err, HAVM_E_IO, rc, "no target listening on %s: %s", addr, strerror(-rc));
}

static int unix_connect(const char *path, int *fd, struct havm_err *err)
{
	struct sockaddr_un sa;
	int rc = vm_stream_unix_addr(path, &sa, err);
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

int vm_stream_send(int fd, const void *buf, size_t len)
{
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

int vm_stream_connect(const char *addr, int *fd, struct havm_err *err)
{
	char host[256], port[16], token[VM_STREAM_TOKEN_MAX];
	int rc = vm_stream_tcp_parse(addr, host, sizeof(host), port, sizeof(port), token, sizeof(token), err);
	if (rc < 0)
		return rc;
	rc = rc ? tcp_connect(addr, host, port, fd, err) : unix_connect(addr, fd, err);
	if (rc < 0)
		return rc;
	char hello[sizeof(VM_STREAM_HELLO) + VM_STREAM_TOKEN_MAX + 2];
	snprintf(hello, sizeof(hello), "%s %s\n", VM_STREAM_HELLO, token[0] ? token : "-");
	if ((rc = vm_stream_send(*fd, hello, strlen(hello))) < 0) {
		close(*fd);
		return havm_err_set(err, HAVM_E_IO, rc, "%s: sending the greeting: %s", addr, strerror(-rc));
	}
	return 0;
}

static int send_frame_len(int fd, uint32_t len)
{
	uint8_t h[4] = { (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24) };
	return vm_stream_send(fd, h, sizeof(h));
}

int vm_stream_write(void *opaque, const void *buf, size_t len)
{
	int fd = (int)(intptr_t)opaque;
	const uint8_t *p = buf;
	while (len > 0) {
		/* Test builds: stream.frame:N:crash kills the source mid-stream. */
		if (HAVM_FAULT("stream.frame"))
			return -EIO;
		uint32_t n = len > VM_STREAM_FRAME_MAX ? VM_STREAM_FRAME_MAX : (uint32_t)len;
		int rc = send_frame_len(fd, n);
		if (rc == 0)
			rc = vm_stream_send(fd, p, n);
		if (rc < 0)
			return rc;
		p += n;
		len -= n;
	}
	return 0;
}

/* Reads one line (without the newline) within @ms. */
int vm_stream_read_line(int fd, char *line, size_t cap, int ms)
{
	size_t n = 0;
	while (n + 1 < cap) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = poll(&p, 1, ms);
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
	int rc = send_frame_len(fd, VM_STREAM_FRAME_END);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_IO, rc, "ending the stream: %s", strerror(-rc));
	char line[ACK_MAX];
	rc = vm_stream_read_line(fd, line, sizeof(line), ACK_TIMEOUT_MS);
	if (rc == -ETIMEDOUT)
		return havm_err_set(err, HAVM_E_TIMEOUT, rc, "the target did not answer within %d s",
				    ACK_TIMEOUT_MS / 1000);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_IO, rc, "reading the target's answer: %s", strerror(-rc));
	if (strcmp(line, "ok") == 0) {
		/* The target restored the state and waits for this word before
		 * it runs the guest: from here the guest belongs to it. Without
		 * the word (a cut connection) it does not run, and neither does
		 * the source once this returns 0. */
		rc = vm_stream_send(fd, "go\n", 3);
		if (rc < 0)
			return havm_err_set(err, HAVM_E_IO, rc, "confirming to the target: %s", strerror(-rc));
		return 0;
	}
	if (rc == 0)
		return havm_err_set(err, HAVM_E_IO, -EPIPE, "the target closed the stream without an answer");
	return havm_err_set(err, HAVM_E_STATE, -EREMOTEIO, "the target refused the state: %s", line);
}
