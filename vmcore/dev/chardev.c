/* vmcore/dev — chardev backends; see chardev.h. */
#define LOG_TAG HAVM_TAG_DEV
#include "vmcore/dev/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/log.h"

#define RING_SIZE 4096
/* Output the backend has not taken yet. 64 KiB keeps a burst of printk
 * (which polls LSR with a timeout, then writes anyway) intact while the
 * reader catches up; IRQ-driven tty output waits for room instead. */
#define OUT_SIZE 65536

struct chardev {
	enum chardev_kind kind;
	int out_fd;        /* -1: drop output */
	int in_fd;         /* -1: no input */
	int listen_fd;     /* socket kind */
	char path[CHARDEV_PATH_MAX];
	qb_loop_t *loop;
	pthread_mutex_t *lock;
	chardev_input_fn *input;
	void *opaque;
	chardev_input_fn *drained;
	uint8_t ring[RING_SIZE];
	size_t head, count;
	uint8_t out[OUT_SIZE];
	size_t out_head, out_count;
	bool out_watched;  /* POLLOUT armed (loop thread only) */
	bool out_broken;   /* write failed hard; the loop drops the client */
	int kick_fd;       /* eventfd: vCPU asks the loop to arm POLLOUT */
	uint64_t dropped_in, dropped_out;
	bool tty_raw;
	struct termios saved_tio;
};

const char *chardev_kind_name(enum chardev_kind kind)
{
	switch (kind) {
	case CHARDEV_NONE: return "none";
	case CHARDEV_STDIO: return "stdio";
	case CHARDEV_FILE: return "file";
	case CHARDEV_SOCKET: return "socket";
	}
	return "?";
}

/* Output nobody will read is dropped (counted); the buffer empties. */
static void discard_out(struct chardev *cd)
{
	cd->dropped_out += cd->out_count;
	cd->out_head = cd->out_count = 0;
}

/* Loop thread (or close). Disconnecting a socket client discards its
 * pending output: the next client starts with what the guest writes next. */
static void drop_client(struct chardev *cd)
{
	if (cd->in_fd < 0)
		return;
	if (cd->loop)
		qb_loop_poll_del(cd->loop, cd->in_fd);
	if (cd->kind == CHARDEV_SOCKET) {
		close(cd->in_fd);
		cd->out_fd = -1;
		cd->out_watched = false;
		cd->out_broken = false;
		discard_out(cd);
	}
	cd->in_fd = -1;
}

/* One non-blocking write: bytes taken, or -errno. */
static ssize_t raw_write(struct chardev *cd, const uint8_t *buf, size_t len)
{
	for (;;) {
		ssize_t n = cd->kind == CHARDEV_SOCKET
				    ? send(cd->out_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT)
				    : write(cd->out_fd, buf, len);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}

/* Writes what the backend takes now from the output buffer. A hard error
 * (peer gone) discards the buffer; the loop notices EOF and drops the
 * client. Returns false on a hard error. */
static bool flush_out(struct chardev *cd)
{
	while (cd->out_count > 0 && !cd->out_broken) {
		size_t chunk = cd->out_count;
		if (cd->out_head + chunk > OUT_SIZE)
			chunk = OUT_SIZE - cd->out_head;
		ssize_t n = raw_write(cd, cd->out + cd->out_head, chunk);
		if (n == -EAGAIN || n == 0)
			return true;
		if (n < 0) {
			hlog(LOG_INFO, "serial %s: output failed: %s", chardev_kind_name(cd->kind),
			     strerror((int)-n));
			cd->out_broken = true;
			break;
		}
		cd->out_head = (cd->out_head + (size_t)n) % OUT_SIZE;
		cd->out_count -= (size_t)n;
	}
	if (cd->out_broken)
		discard_out(cd);
	return !cd->out_broken;
}

static int32_t on_output(int32_t fd, int32_t revents, void *data);
static int32_t on_input(int32_t fd, int32_t revents, void *data);

/* Loop thread, @lock held: watch for POLLOUT while output is pending. */
static void arm_out(struct chardev *cd, bool on)
{
	if (!cd->loop || cd->out_fd < 0 || cd->out_watched == on)
		return;
	int rc;
	if (cd->out_fd == cd->in_fd)
		rc = qb_loop_poll_mod(cd->loop, QB_LOOP_MED, cd->out_fd,
				      POLLIN | (on ? POLLOUT : 0), cd, on_input);
	else if (on)
		rc = qb_loop_poll_add(cd->loop, QB_LOOP_MED, cd->out_fd, POLLOUT, cd, on_output);
	else
		rc = qb_loop_poll_del(cd->loop, cd->out_fd);
	if (rc < 0)
		hlog(LOG_WARNING, "serial %s: cannot %s output watch: %s", chardev_kind_name(cd->kind),
		     on ? "arm" : "disarm", strerror(-rc));
	else
		cd->out_watched = on;
}

/* Loop thread, @lock held: the backend can take more. */
static void on_writable(struct chardev *cd)
{
	flush_out(cd);
	if (cd->out_count == 0) {
		arm_out(cd, false);
		if (cd->drained)
			cd->drained(cd->opaque);
	}
}

static int32_t on_output(int32_t fd, int32_t revents, void *data)
{
	struct chardev *cd = data;
	(void)fd, (void)revents;
	pthread_mutex_lock(cd->lock);
	on_writable(cd);
	pthread_mutex_unlock(cd->lock);
	return 0;
}

static int32_t on_kick(int32_t fd, int32_t revents, void *data)
{
	struct chardev *cd = data;
	uint64_t v;
	(void)revents;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 0;
	pthread_mutex_lock(cd->lock);
	if (cd->out_count > 0)
		arm_out(cd, true);
	else if (cd->drained)
		cd->drained(cd->opaque);   /* flushed by the vCPU meanwhile */
	pthread_mutex_unlock(cd->lock);
	return 0;
}

static int32_t on_input(int32_t fd, int32_t revents, void *data)
{
	struct chardev *cd = data;
	uint8_t buf[512];
	if (revents & POLLOUT) {
		pthread_mutex_lock(cd->lock);
		on_writable(cd);
		pthread_mutex_unlock(cd->lock);
		if (!(revents & (POLLIN | POLLHUP | POLLERR)))
			return 0;
	}
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	pthread_mutex_lock(cd->lock);
	if (n <= 0) {
		drop_client(cd);
		if (cd->drained)
			cd->drained(cd->opaque);
		pthread_mutex_unlock(cd->lock);
		return 0;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (cd->count == RING_SIZE) {
			cd->dropped_in++;
			continue;
		}
		cd->ring[(cd->head + cd->count++) % RING_SIZE] = buf[i];
	}
	if (cd->input)
		cd->input(cd->opaque);
	pthread_mutex_unlock(cd->lock);
	return 0;
}

static int watch_input(struct chardev *cd, int fd)
{
	cd->in_fd = fd;
	if (!cd->loop)
		return 0;
	return qb_loop_poll_add(cd->loop, QB_LOOP_MED, fd, POLLIN, cd, on_input);
}

static int32_t on_accept(int32_t fd, int32_t revents, void *data)
{
	struct chardev *cd = data;
	(void)revents;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return 0;
	pthread_mutex_lock(cd->lock);
	if (cd->in_fd >= 0) {
		pthread_mutex_unlock(cd->lock);
		hlog(LOG_INFO, "serial socket %s: second client refused", cd->path);
		close(c);
		return 0;
	}
	cd->out_fd = c;
	if (watch_input(cd, c) < 0) {
		close(c);
		cd->out_fd = cd->in_fd = -1;
	}
	pthread_mutex_unlock(cd->lock);
	return 0;
}

static int open_socket(struct chardev *cd, struct havm_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(cd->path) >= sizeof(sa.sun_path))
		return havm_err_set(err, HAVM_E_CONFIG, -ENAMETOOLONG,
				    "serial socket %s: path longer than %zu bytes", cd->path,
				    sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, cd->path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return havm_err_set(err, HAVM_E_IO, -errno, "serial socket %s: %s", cd->path, strerror(errno));
	unlink(cd->path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(cd->path, 0600) < 0 ||
	    listen(fd, 1) < 0) {
		int e = errno;
		close(fd);
		return havm_err_set(err, HAVM_E_IO, -e, "serial socket %s: %s", cd->path, strerror(e));
	}
	cd->listen_fd = fd;
	if (cd->loop && qb_loop_poll_add(cd->loop, QB_LOOP_MED, fd, POLLIN, cd, on_accept) < 0) {
		close(fd);
		unlink(cd->path);
		cd->listen_fd = -1;
		return havm_err_set(err, HAVM_E_INTERNAL, -EIO, "serial socket %s: cannot watch", cd->path);
	}
	return 0;
}

/* The vCPU thread may not touch the loop; it kicks this eventfd instead
 * and the loop thread arms the output watch. */
static int open_kick(struct chardev *cd, struct havm_err *err)
{
	cd->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (cd->kick_fd < 0)
		return havm_err_set(err, HAVM_E_IO, -errno, "serial %s: eventfd: %s",
				    chardev_kind_name(cd->kind), strerror(errno));
	if (qb_loop_poll_add(cd->loop, QB_LOOP_MED, cd->kick_fd, POLLIN, cd, on_kick) < 0) {
		close(cd->kick_fd);
		cd->kick_fd = -1;
		return havm_err_set(err, HAVM_E_INTERNAL, -EIO, "serial %s: cannot watch eventfd",
				    chardev_kind_name(cd->kind));
	}
	return 0;
}

static void stdio_raw(struct chardev *cd)
{
	struct termios tio;
	if (!isatty(0) || tcgetattr(0, &cd->saved_tio) < 0)
		return;
	tio = cd->saved_tio;
	cfmakeraw(&tio);
	tio.c_oflag |= OPOST;   /* keep \n -> \r\n for the host terminal */
	if (tcsetattr(0, TCSANOW, &tio) == 0)
		cd->tty_raw = true;
}

int chardev_open(const struct chardev_config *cfg, qb_loop_t *loop, pthread_mutex_t *lock,
		 chardev_input_fn *input, void *opaque, struct chardev **out, struct havm_err *err)
{
	struct chardev *cd = calloc(1, sizeof(*cd));
	if (!cd)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "chardev: out of memory");
	*cd = (struct chardev){ .kind = cfg->kind, .out_fd = -1, .in_fd = -1, .listen_fd = -1,
				.kick_fd = -1, .loop = loop, .lock = lock, .input = input,
				.opaque = opaque };
	snprintf(cd->path, sizeof(cd->path), "%s", cfg->path);
	int rc = 0;
	switch (cfg->kind) {
	case CHARDEV_NONE:
		break;
	case CHARDEV_STDIO:
		cd->out_fd = 1;
		if (loop && isatty(0)) {
			stdio_raw(cd);
			rc = watch_input(cd, 0) < 0 ? havm_err_set(err, HAVM_E_INTERNAL, -EIO,
								   "serial stdio: cannot watch stdin") : 0;
		}
		break;
	case CHARDEV_FILE:
		cd->out_fd = open(cfg->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
		if (cd->out_fd < 0)
			rc = havm_err_set(err, HAVM_E_IO, -errno, "serial file %s: %s", cfg->path,
					  strerror(errno));
		break;
	case CHARDEV_SOCKET:
		rc = open_socket(cd, err);
		break;
	}
	if (rc == 0 && loop && cfg->kind != CHARDEV_NONE && cfg->kind != CHARDEV_FILE)
		rc = open_kick(cd, err);
	if (rc < 0) {
		chardev_close(cd);
		return rc;
	}
	*out = cd;
	return 0;
}

void chardev_close(struct chardev *cd)
{
	if (!cd)
		return;
	if (cd->kick_fd >= 0) {
		qb_loop_poll_del(cd->loop, cd->kick_fd);
		close(cd->kick_fd);
	}
	if (cd->kind == CHARDEV_STDIO) {
		if (cd->out_watched && cd->out_fd != cd->in_fd)
			qb_loop_poll_del(cd->loop, cd->out_fd);
		flush_out(cd);   /* a last try; stdout may be non-blocking */
		discard_out(cd);
		if (cd->in_fd >= 0 && cd->loop)
			qb_loop_poll_del(cd->loop, cd->in_fd);
		if (cd->tty_raw)
			tcsetattr(0, TCSANOW, &cd->saved_tio);
	} else {
		drop_client(cd);
	}
	discard_out(cd);
	if (cd->kind == CHARDEV_FILE && cd->out_fd >= 0)
		close(cd->out_fd);
	if (cd->listen_fd >= 0) {
		if (cd->loop)
			qb_loop_poll_del(cd->loop, cd->listen_fd);
		close(cd->listen_fd);
		unlink(cd->path);
	}
	if (cd->kind != CHARDEV_NONE && (cd->dropped_in || cd->dropped_out))
		hlog(LOG_INFO, "serial %s: dropped %llu input and %llu output bytes",
		     chardev_kind_name(cd->kind), (unsigned long long)cd->dropped_in,
		     (unsigned long long)cd->dropped_out);
	free(cd);
}

void chardev_write(struct chardev *cd, const uint8_t *buf, size_t len)
{
	if (!cd)
		return;
	if (cd->out_fd < 0 || cd->out_broken) {
		cd->dropped_out += len;
		return;
	}
	bool was_empty = cd->out_count == 0;
	if (was_empty) {
		/* The common case: the backend takes it all, nothing buffered. */
		while (len > 0) {
			ssize_t n = raw_write(cd, buf, len);
			if (n == -EAGAIN || n == 0)
				break;
			if (n < 0) {
				cd->out_broken = true;
				cd->dropped_out += len;
				return;
			}
			buf += n;
			len -= (size_t)n;
		}
	}
	size_t room = OUT_SIZE - cd->out_count;
	if (len > room) {
		/* The guest wrote past the room it was given (printk after its
		 * LSR timeout); keep the oldest bytes. */
		cd->dropped_out += len - room;
		len = room;
	}
	for (size_t i = 0; i < len; i++)
		cd->out[(cd->out_head + cd->out_count++) % OUT_SIZE] = buf[i];
	if (was_empty && cd->out_count > 0 && cd->kick_fd >= 0) {
		uint64_t one = 1;
		if (write(cd->kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			hlog(LOG_WARNING, "serial %s: eventfd: %s", chardev_kind_name(cd->kind),
			     strerror(errno));
	}
}

size_t chardev_out_room(struct chardev *cd)
{
	if (!cd || cd->out_fd < 0 || cd->out_broken)
		return SIZE_MAX;
	if (cd->out_count > 0)
		flush_out(cd);
	return cd->out_broken ? SIZE_MAX : OUT_SIZE - cd->out_count;
}

void chardev_set_drain(struct chardev *cd, chardev_input_fn *drained)
{
	if (cd)
		cd->drained = drained;
}

uint64_t chardev_dropped_out(const struct chardev *cd)
{
	return cd ? cd->dropped_out : 0;
}

size_t chardev_read(struct chardev *cd, uint8_t *buf, size_t len)
{
	size_t n = 0;
	while (cd && n < len && cd->count) {
		buf[n++] = cd->ring[cd->head];
		cd->head = (cd->head + 1) % RING_SIZE;
		cd->count--;
	}
	return n;
}

size_t chardev_pending(const struct chardev *cd)
{
	return cd ? cd->count : 0;
}
