/* vmcore/ctl — control socket server; see ctl.h. */
#define LOG_TAG HAVM_TAG_CTL
#include "vmcore/ctl/ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

struct ctl_client {
	struct ctl_server *srv;
	int fd;
	char *buf;
	size_t len;
};

struct ctl_server {
	qb_loop_t *loop;
	int fd;
	char *path;
	ctl_handler_fn *handler;
	void *opaque;
	struct ctl_client *clients[CTL_MAX_CLIENTS];
};

static void client_close(struct ctl_client *c)
{
	struct ctl_server *s = c->srv;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i] == c)
			s->clients[i] = NULL;
	qb_loop_poll_del(s->loop, c->fd);
	close(c->fd);
	free(c->buf);
	free(c);
}

/* Writes all of @data; the socket is blocking for writes with a timeout. */
static int send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			if (poll(&p, 1, 5000) <= 0)
				return -ETIMEDOUT;
			continue;
		}
		if (n <= 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void error_reply(json_object *reply, const struct havm_err *err)
{
	json_object *e = json_object_new_object();
	json_object_object_add(e, "kind", json_object_new_string(havm_err_kind_name(err->kind)));
	json_object_object_add(e, "message", json_object_new_string(err->msg));
	json_object_object_add(reply, "ok", json_object_new_boolean(0));
	json_object_object_add(reply, "error", e);
}

static json_object *handle_line(struct ctl_server *s, const char *line, size_t len)
{
	struct havm_err err;
	json_object *reply = json_object_new_object();
	json_object *fields = json_object_new_object();
	havm_err_clear(&err);
	json_tokener *tok = json_tokener_new();
	json_object *req = json_tokener_parse_ex(tok, line, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	if (req && jerr == json_tokener_success && (size_t)json_tokener_get_parse_end(tok) < len)
		jerr = json_tokener_error_parse_unexpected;
	json_tokener_free(tok);
	json_object *cmd = NULL, *id = NULL;
	if (!req || jerr != json_tokener_success) {
		havm_err_set(&err, HAVM_E_FORMAT, -EINVAL, "request is not valid JSON: %s",
			     json_tokener_error_desc(jerr == json_tokener_success ? json_tokener_error_parse_unexpected : jerr));
	} else if (!json_object_is_type(req, json_type_object)) {
		havm_err_set(&err, HAVM_E_FORMAT, -EINVAL, "request is a JSON %s, expected an object",
			     json_type_to_name(json_object_get_type(req)));
	} else if (!json_object_object_get_ex(req, "cmd", &cmd) || !json_object_is_type(cmd, json_type_string)) {
		havm_err_set(&err, HAVM_E_FORMAT, -EINVAL, "request has no \"cmd\" string");
	} else {
		json_object_object_get_ex(req, "id", &id);
		int rc = s->handler(s->opaque, json_object_get_string(cmd), req, fields, &err);
		if (rc < 0 && err.kind == HAVM_OK)
			havm_err_set(&err, HAVM_E_INTERNAL, rc, "command failed without a message");
	}
	if (id)
		json_object_object_add(reply, "id", json_object_get(id));
	if (err.kind != HAVM_OK) {
		error_reply(reply, &err);
	} else {
		json_object_object_add(reply, "ok", json_object_new_boolean(1));
		struct json_object_iterator it = json_object_iter_begin(fields);
		struct json_object_iterator end = json_object_iter_end(fields);
		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
			json_object_object_add(reply, json_object_iter_peek_name(&it),
					       json_object_get(json_object_iter_peek_value(&it)));
	}
	json_object_put(fields);
	json_object_put(req);
	return reply;
}

static int32_t on_client(int32_t fd, int32_t revents, void *data)
{
	struct ctl_client *c = data;
	char tmp[4096];
	(void)revents;
	ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		client_close(c);
		return 0;
	}
	char *nb = realloc(c->buf, c->len + (size_t)n + 1);
	if (!nb) {
		client_close(c);
		return 0;
	}
	c->buf = nb;
	memcpy(c->buf + c->len, tmp, (size_t)n);
	c->len += (size_t)n;
	char *nl;
	while (c->buf && (nl = memchr(c->buf, '\n', c->len))) {
		size_t ll = (size_t)(nl - c->buf);
		json_object *reply = NULL;
		if (ll > 0 && !(ll == 1 && c->buf[0] == '\r'))
			reply = handle_line(c->srv, c->buf, ll);
		memmove(c->buf, nl + 1, c->len - ll - 1);
		c->len -= ll + 1;
		if (reply) {
			const char *out = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
			int rc = send_all(fd, out, strlen(out));
			if (rc == 0)
				rc = send_all(fd, "\n", 1);
			json_object_put(reply);
			if (rc < 0) {
				client_close(c);
				return 0;
			}
		}
	}
	if (c->len > CTL_LINE_MAX) {
		hlog(LOG_WARNING, "control %s: request line over %d bytes, closing the connection",
		     c->srv->path, CTL_LINE_MAX);
		client_close(c);
	}
	return 0;
}

static int32_t on_accept(int32_t fd, int32_t revents, void *data)
{
	struct ctl_server *s = data;
	(void)revents;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return 0;
	int slot = -1;
	for (int i = 0; i < CTL_MAX_CLIENTS && slot < 0; i++)
		if (!s->clients[i])
			slot = i;
	struct ctl_client *c = slot >= 0 ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		static const char busy[] = "{\"ok\":false,\"error\":{\"kind\":\"busy\",\"message\":\"too many control clients\"}}\n";
		(void)!send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(cfd);
		return 0;
	}
	c->srv = s;
	c->fd = cfd;
	if (qb_loop_poll_add(s->loop, QB_LOOP_HIGH, cfd, POLLIN, c, on_client) < 0) {
		close(cfd);
		free(c);
		return 0;
	}
	s->clients[slot] = c;
	return 0;
}

/* True when something accepts connections at @sa. */
static int socket_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int alive = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return alive;
}

int ctl_server_open(qb_loop_t *loop, const char *path, ctl_handler_fn *handler, void *opaque,
		    struct ctl_server **out, struct havm_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return havm_err_set(err, HAVM_E_CONFIG, -ENAMETOOLONG,
				    "control socket %s: path is %zu bytes, expected under %zu", path,
				    strlen(path), sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	struct stat sb;
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode))
			return havm_err_set(err, HAVM_E_CONFIG, -EEXIST,
					    "control socket %s: exists and is not a socket", path);
		if (socket_alive(&sa))
			return havm_err_set(err, HAVM_E_BUSY, -EADDRINUSE,
					    "control socket %s: another process is serving it", path);
		unlink(path);
	}
	struct ctl_server *s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "control socket: out of memory");
	}
	s->loop = loop;
	s->handler = handler;
	s->opaque = opaque;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int rc = 0;
	if (s->fd < 0) {
		rc = havm_err_set(err, HAVM_E_IO, -errno, "control socket %s: %s", path, strerror(errno));
		goto fail;
	}
	mode_t old = umask(0177);   /* the socket is born 0600 */
	int b = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	umask(old);
	if (b < 0 || listen(s->fd, 8) < 0) {
		rc = havm_err_set(err, HAVM_E_IO, -(b < 0 ? e : errno), "control socket %s: %s", path,
				  strerror(b < 0 ? e : errno));
		goto fail_fd;
	}
	if (qb_loop_poll_add(loop, QB_LOOP_HIGH, s->fd, POLLIN, s, on_accept) < 0) {
		rc = havm_err_set(err, HAVM_E_INTERNAL, -EIO, "control socket %s: cannot watch it", path);
		goto fail_unlink;
	}
	*out = s;
	return 0;
fail_unlink:
	unlink(path);
fail_fd:
	close(s->fd);
fail:
	free(s->path);
	free(s);
	return rc;
}

void ctl_server_close(struct ctl_server *s)
{
	if (!s)
		return;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i])
			client_close(s->clients[i]);
	qb_loop_poll_del(s->loop, s->fd);
	close(s->fd);
	unlink(s->path);
	free(s->path);
	free(s);
}
