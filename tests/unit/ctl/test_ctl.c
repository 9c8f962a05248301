/* Control socket: replies, typed errors, malformed input, id echo, 0600
 * mode, and refusing a socket another server is serving. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmcore/ctl/ctl.h"

struct fixture {
	qb_loop_t *loop;
	struct ctl_server *srv;
	pthread_t thread;
	char path[64];
	int calls;
};

static int handler(void *opaque, const char *cmd, json_object *req, json_object *reply,
		   struct havm_err *err)
{
	struct fixture *f = opaque;
	(void)req;
	f->calls++;
	if (!strcmp(cmd, "status")) {
		json_object_object_add(reply, "state", json_object_new_string("running"));
		json_object_object_add(reply, "instructions", json_object_new_int64(42));
		return 0;
	}
	if (!strcmp(cmd, "stop")) {
		qb_loop_stop(f->loop);
		return 0;
	}
	if (!strcmp(cmd, "resume"))
		return havm_err_set(err, HAVM_E_STATE, -EINVAL, "vm t: not paused");
	return havm_err_set(err, HAVM_E_UNSUPPORTED, -ENOTSUP, "unknown command \"%s\"", cmd);
}

static void *loop_main(void *arg)
{
	qb_loop_run(((struct fixture *)arg)->loop);
	return NULL;
}

static int setup(void **state)
{
	static struct fixture f;
	struct havm_err err;
	memset(&f, 0, sizeof(f));
	snprintf(f.path, sizeof(f.path), "/tmp/havm-ctl-%d.sock", getpid());
	f.loop = qb_loop_create();
	if (ctl_server_open(f.loop, f.path, handler, &f, &f.srv, &err) < 0)
		fail_msg("%s", err.msg);
	pthread_create(&f.thread, NULL, loop_main, &f);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	json_object *req = json_tokener_parse("{\"cmd\":\"stop\"}"), *reply = NULL;
	struct havm_err err;
	if (ctl_call(f->path, req, 5000, &reply, &err) == 0)
		json_object_put(reply);
	json_object_put(req);
	pthread_join(f->thread, NULL);
	ctl_server_close(f->srv);
	qb_loop_destroy(f->loop);
	assert_int_equal(access(f->path, F_OK), -1);
	return 0;
}

static json_object *call(struct fixture *f, const char *json)
{
	json_object *req = json_tokener_parse(json), *reply = NULL;
	struct havm_err err;
	assert_non_null(req);
	if (ctl_call(f->path, req, 5000, &reply, &err) < 0)
		fail_msg("%s", err.msg);
	json_object_put(req);
	return reply;
}

static const char *str_at(json_object *o, const char *a, const char *b)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, a, &v))
		return NULL;
	if (b && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_get_string(v);
}

static void test_ctl_status_reply_is_ok_with_fields_and_echoes_id(void **state)
{
	struct fixture *f = *state;
	json_object *r = call(f, "{\"cmd\":\"status\",\"id\":7}");
	assert_string_equal(str_at(r, "ok", NULL), "true");
	assert_string_equal(str_at(r, "state", NULL), "running");
	assert_string_equal(str_at(r, "instructions", NULL), "42");
	assert_string_equal(str_at(r, "id", NULL), "7");
	json_object_put(r);
}

static void test_ctl_handler_error_becomes_typed_error(void **state)
{
	struct fixture *f = *state;
	json_object *r = call(f, "{\"cmd\":\"resume\"}");
	assert_string_equal(str_at(r, "ok", NULL), "false");
	assert_string_equal(str_at(r, "error", "kind"), "state");
	assert_string_equal(str_at(r, "error", "message"), "vm t: not paused");
	json_object_put(r);
	r = call(f, "{\"cmd\":\"fly\"}");
	assert_string_equal(str_at(r, "error", "kind"), "unsupported");
	json_object_put(r);
}

/* Sends raw bytes and reads one reply line. */
static void raw_exchange(struct fixture *f, const char *out, char *in, size_t cap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, f->path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(fd, out, strlen(out), 0), (ssize_t)strlen(out));
	size_t len = 0;
	while (len < cap - 1 && !memchr(in, '\n', len)) {
		ssize_t n = recv(fd, in + len, cap - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	in[len] = 0;
	close(fd);
}

static void test_ctl_malformed_requests_get_format_errors(void **state)
{
	struct fixture *f = *state;
	char buf[512];
	int before = f->calls;
	raw_exchange(f, "{not json\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"kind\":\"format\""));
	raw_exchange(f, "[1,2]\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "expected an object"));
	raw_exchange(f, "{\"command\":\"status\"}\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "no \\\"cmd\\\" string"));
	raw_exchange(f, "{\"cmd\":\"status\"} trailing\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"kind\":\"format\""));
	assert_int_equal(f->calls, before);
	/* Two requests in one write get two replies in order. */
	raw_exchange(f, "{\"cmd\":\"status\",\"id\":1}\n{\"cmd\":\"status\",\"id\":2}\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"id\":1"));
}

static void test_ctl_socket_is_private_and_not_stolen(void **state)
{
	struct fixture *f = *state;
	struct stat sb;
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	qb_loop_t *l2 = qb_loop_create();
	struct ctl_server *s2 = NULL;
	struct havm_err err;
	assert_int_equal(ctl_server_open(l2, f->path, handler, f, &s2, &err), -EADDRINUSE);
	assert_int_equal(err.kind, HAVM_E_BUSY);
	qb_loop_destroy(l2);
}

static void test_ctl_call_to_missing_socket_is_notfound(void **state)
{
	(void)state;
	json_object *req = json_tokener_parse("{\"cmd\":\"status\"}"), *reply = NULL;
	struct havm_err err;
	assert_true(ctl_call("/tmp/havm-no-such.sock", req, 1000, &reply, &err) < 0);
	assert_int_equal(err.kind, HAVM_E_NOTFOUND);
	json_object_put(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ctl_status_reply_is_ok_with_fields_and_echoes_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_handler_error_becomes_typed_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_malformed_requests_get_format_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_socket_is_private_and_not_stolen, setup, teardown),
		cmocka_unit_test(test_ctl_call_to_missing_socket_is_notfound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
