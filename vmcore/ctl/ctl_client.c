/* vmcore/ctl — a blocking one-shot client; see ctl.h. */
#include "vmcore/ctl/ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ctl_call(const char *path, json_object *request, int timeout_ms, json_object **reply,
	     struct havm_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return havm_err_set(err, HAVM_E_CONFIG, -ENAMETOOLONG, "control socket %s: path too long", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return havm_err_set(err, HAVM_E_IO, -errno, "control socket %s: %s", path, strerror(errno));
	int rc = 0;
	char *buf = NULL;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = havm_err_set(err, errno == ENOENT || errno == ECONNREFUSED ? HAVM_E_NOTFOUND : HAVM_E_IO,
				  -errno, "control socket %s: %s", path, strerror(errno));
		goto out;
	}
	const char *req = json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN);
	size_t rl = strlen(req);
	if (send(fd, req, rl, MSG_NOSIGNAL) != (ssize_t)rl || send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		rc = havm_err_set(err, HAVM_E_IO, -EIO, "control socket %s: send failed", path);
		goto out;
	}
	size_t len = 0;
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		char *nl = buf ? memchr(buf, '\n', len) : NULL;
		if (nl) {
			*nl = 0;
			*reply = json_tokener_parse(buf);
			if (!*reply)
				rc = havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "control socket %s: reply is not JSON", path);
			goto out;
		}
		int64_t left = deadline - now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			rc = havm_err_set(err, HAVM_E_TIMEOUT, -ETIMEDOUT, "control socket %s: no reply in %d ms",
					  path, timeout_ms);
			goto out;
		}
		char *nb = realloc(buf, len + 4097);
		if (!nb) {
			rc = havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "control socket: out of memory");
			goto out;
		}
		buf = nb;
		ssize_t n = recv(fd, buf + len, 4096, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = havm_err_set(err, HAVM_E_IO, -EPIPE, "control socket %s: closed before replying", path);
			goto out;
		}
		len += (size_t)n;
		if (len > CTL_LINE_MAX) {
			rc = havm_err_set(err, HAVM_E_FORMAT, -E2BIG, "control socket %s: reply too long", path);
			goto out;
		}
	}
out:
	free(buf);
	close(fd);
	return rc;
}
