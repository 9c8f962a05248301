/* havm — live migration, pull style over TCP; see migrate_stream.h.
 *
 * Why a helper on the source: Pacemaker runs migrate_to on the source and
 * only then migrate_from on the target, and nothing of the source's agent
 * runs in between. To keep the guest running through migrate_to and pause
 * it only during migrate_from, something on the source must wait for the
 * target's call: a detached process, bounded in time, that owns one TCP
 * listener. The rendezvous goes through the shared store (the one place
 * both nodes already share for this VM), so no port or address needs to be
 * configured; the token in the offer keeps strangers out of the helper and
 * of the target vmm.
 *
 * Offer file <vm>.vsv.migrate, one line:
 *   havm-migrate 1 PORT TOKEN ADDR [ADDR...]
 * Request to the helper, one line:  havm-migrate 1 TOKEN TARGET-ADDRESS
 * Answer:  "ok BYTES PASSES TOTAL_MS DOWNTIME_MS" or "error MESSAGE". */
#define LOG_TAG HAVM_TAG_HAVM
#include "havm/migrate_stream.h"

#include "havm/migrate_int.h"
#include "havm/vm_int.h"

#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OFFER_SUFFIX ".migrate"
#define MAGIC HAVM_MIGRATE_OFFER_MAGIC
#define TOKEN_BYTES HAVM_MIGRATE_TOKEN_BYTES
#define MAX_ADDRS HAVM_MIGRATE_MAX_ADDRS
#define LINE_MAX_LEN HAVM_MIGRATE_LINE_MAX
/* A request line must arrive this soon after a connection. */
#define REQUEST_MS 5000
/* The helper's start, as seen by migrate_to. */
#define READY_MS 5000
/* A connection attempt to one of the source's addresses. */
#define CONNECT_MS 2000
/* The source's whole migration as the helper allows it. */
#define MIGRATE_MS 120000
#define HELPER_LOG "migrate.log"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int random_token(char *out)
{
	unsigned char b[TOKEN_BYTES];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -EIO;
	for (unsigned i = 0; i < TOKEN_BYTES; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static int offer_path(const struct havm_vm *vm, char *buf, size_t len, struct havm_err *e)
{
	char state[PATH_MAX];
	int rc = vm->lun_store[0] ? -ENOTSUP : havm_vm_state_path(vm, state, sizeof(state));
	if (rc == -ENOTSUP)
		return havm_err_set(e, HAVM_E_UNSUPPORTED, -ENOTSUP,
				    "vm %s: live migration needs the state file's directory shared by the nodes "
				    "(a directory store, or the .vmc's directory); not a LUN store yet",
				    vm->name);
	if (rc < 0 || (size_t)snprintf(buf, len, "%s%s", state, OFFER_SUFFIX) >= len)
		return havm_err_set(e, HAVM_E_CONFIG, -ENAMETOOLONG, "vm %s: state path too long", vm->name);
	return 0;
}

/* One line within @ms (without the newline): its length or -errno. */
static int read_line(int fd, char *line, size_t cap, int ms)
{
	size_t n = 0;
	int64_t until = now_ms() + ms;
	while (n + 1 < cap) {
		int64_t left = until - now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = left <= 0 ? 0 : poll(&p, 1, (int)left);
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
		if (r == 0) {
			if (n == 0)
				return -EPIPE;
			break;
		}
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = 0;
	return (int)n;
}

static int send_line(int fd, const char *line)
{
	size_t len = strlen(line);
	while (len > 0) {
		ssize_t n = send(fd, line, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		line += n;
		len -= (size_t)n;
	}
	return 0;
}

/* --- the offer file ------------------------------------------------------ */

/* This node's IPv4 addresses that are up, loopback last (a target on the
 * same host, as in the integration test, reaches it there). */
static void local_addrs(struct havm_migrate_offer *o)
{
	struct ifaddrs *ifa = NULL;
	o->n_addrs = 0;
	if (getifaddrs(&ifa) == 0) {
		for (struct ifaddrs *i = ifa; i && o->n_addrs < MAX_ADDRS - 1; i = i->ifa_next) {
			if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
			    (i->ifa_flags & IFF_LOOPBACK))
				continue;
			const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;
			inet_ntop(AF_INET, &sin->sin_addr, o->addrs[o->n_addrs++], INET_ADDRSTRLEN);
		}
		freeifaddrs(ifa);
	}
	snprintf(o->addrs[o->n_addrs++], INET_ADDRSTRLEN, "127.0.0.1");
}

static int write_offer(const char *path, const struct havm_migrate_offer *o, struct havm_err *e)
{
	char tmp[PATH_MAX + 8];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return havm_err_set(e, HAVM_E_CONFIG, -ENAMETOOLONG, "%s: path too long", path);
	char line[LINE_MAX_LEN];
	int n = havm_migrate_offer_format(o, line, sizeof(line));
	if (n < 0)
		return havm_err_set(e, HAVM_E_INTERNAL, n, "%s: offer too long", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return havm_err_set(e, HAVM_E_IO, -errno, "%s: %s", tmp, strerror(errno));
	int rc = 0;
	if (write(fd, line, (size_t)n) != (ssize_t)n || fsync(fd) < 0)
		rc = errno ? -errno : -EIO;
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return havm_err_set(e, HAVM_E_IO, rc, "writing the migration offer %s: %s", path, strerror(-rc));
	}
	return 0;
}

static int read_offer(const char *path, struct havm_migrate_offer *o, struct havm_err *e)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return havm_err_set(e, errno == ENOENT ? HAVM_E_NOTFOUND : HAVM_E_IO, -errno,
				    "no migration offer %s: %s", path, strerror(errno));
	char line[LINE_MAX_LEN];
	size_t n = fread(line, 1, sizeof(line), f);
	fclose(f);
	int rc = havm_migrate_offer_parse(line, n, o, e);
	if (rc < 0)
		havm_err_prefix(e, "%s", path);
	return rc;
}

/* Removes the offer file only when it is still ours (a later offer may
 * have replaced it). */
static void remove_offer(const char *path, const char *token)
{
	struct havm_migrate_offer o;
	struct havm_err e;
	if (read_offer(path, &o, &e) == 0 && strcmp(o.token, token) == 0)
		unlink(path);
}

/* --- source: the helper --------------------------------------------------- */

/* Handles one request; true when it was ours (then the helper is done). */
static bool serve_one(struct havm_vm *vm, const struct havm_migrate_opts *opts, int fd, const char *token)
{
	char line[LINE_MAX_LEN];
	if (read_line(fd, line, sizeof(line), REQUEST_MS) < 0)
		return false;
	char want[64];
	snprintf(want, sizeof(want), MAGIC " %s ", token);
	if (strncmp(line, want, strlen(want)) != 0) {
		hlog(LOG_WARNING, "vm %s: migration helper: dropped a request without our token", vm->name);
		return false;
	}
	const char *target = line + strlen(want);
	json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("migrate"));
	json_object_object_add(req, "socket", json_object_new_string(target));
	havm_migrate_add_opts(req, opts);
	struct havm_deadline dl = havm_deadline_or(NULL, MIGRATE_MS);
	struct havm_migrate_report r;
	struct havm_err e;
	havm_err_clear(&e);
	hlog(LOG_NOTICE, "vm %s: migrating out to %.*s", vm->name, (int)strcspn(target, ","), target);
	int rc = havm_vm_migrate_req(vm, req, &dl, &r, &e);
	json_object_put(req);
	char ans[LINE_MAX_LEN];
	if (rc == 0) {
		hlog(LOG_NOTICE, "vm %s: migrated out: %u passes%s, %llu bytes, total %.1f ms, downtime %.1f ms",
		     vm->name, r.passes, r.converged ? "" : " (stop-and-copy)", (unsigned long long)r.bytes,
		     r.total_ms, r.downtime_ms);
		snprintf(ans, sizeof(ans), "ok %llu %u %.1f %.1f %d\n", (unsigned long long)r.bytes, r.passes,
			 r.total_ms, r.downtime_ms, r.converged ? 1 : 0);
	} else {
		hlog(LOG_WARNING, "vm %s: migration out failed, the guest runs on here: %s", vm->name, e.msg);
		snprintf(ans, sizeof(ans), "error %s\n", e.msg);
	}
	(void)send_line(fd, ans);
	return true;
}

static void serve(struct havm_vm *vm, const struct havm_migrate_opts *opts, int ls, const char *path,
		  const char *token, unsigned wait_ms)
{
	int64_t until = now_ms() + wait_ms;
	for (;;) {
		int64_t left = until - now_ms();
		if (left <= 0) {
			hlog(LOG_NOTICE, "vm %s: no target took the migration offer within %u s; the guest runs on here",
			     vm->name, wait_ms / 1000);
			break;
		}
		struct pollfd p = { .fd = ls, .events = POLLIN };
		int pr = poll(&p, 1, (int)left);
		if (pr <= 0)
			continue;
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		bool done = serve_one(vm, opts, fd, token);
		close(fd);
		if (done)
			break;
	}
	remove_offer(path, token);
}

/* In the helper: stdio to the log, nothing else of the caller's (a
 * resource manager's pipes would never see EOF while it lives). */
static void detach(struct havm_vm *vm, int keep1, int keep2)
{
	setsid();
	char log[PATH_MAX];
	int out = -1;
	if ((size_t)snprintf(log, sizeof(log), "%s/%s/%s", vm->rundir, vm->name, HELPER_LOG) < sizeof(log))
		out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(out >= 0 ? out : null, 1);
		dup2(out >= 0 ? out : null, 2);
	}
	for (int fd = 3; fd < 1024; fd++)
		if (fd != keep1 && fd != keep2)
			close(fd);
	if (chdir("/") < 0)
		_exit(1);
}

int havm_migrate_offer(struct havm_vm *vm, const struct havm_migrate_opts *opts, unsigned wait_ms,
		       struct havm_err *e)
{
	havm_err_clear(e);
	char path[PATH_MAX];
	int rc = offer_path(vm, path, sizeof(path), e);
	if (rc < 0)
		return rc;
	enum havm_vm_status st;
	if ((rc = havm_looksalive(vm, &st, e)) < 0)
		return rc;
	if (st != HAVM_VM_RUNNING)
		return havm_err_set(e, HAVM_E_STATE, -ESRCH, "vm %s: migrate: not running on this node (%s)",
				    vm->name, havm_vm_status_name(st));
	struct havm_migrate_offer o = { 0 };
	if (random_token(o.token) < 0)
		return havm_err_set(e, HAVM_E_INTERNAL, -EIO, "vm %s: no random token", vm->name);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	socklen_t sl = sizeof(sa);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 4) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) < 0) {
		rc = -errno;
		if (ls >= 0)
			close(ls);
		return havm_err_set(e, HAVM_E_IO, rc, "vm %s: migration listener: %s", vm->name, strerror(-rc));
	}
	o.port = ntohs(sa.sin_port);
	local_addrs(&o);
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		rc = -errno;
		close(ls);
		return havm_err_set(e, HAVM_E_INTERNAL, rc, "pipe: %s", strerror(-rc));
	}
	if (!wait_ms)
		wait_ms = HAVM_MIGRATE_OFFER_MS;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* Twice, so the helper is nobody's child and outlives the agent. */
		if (fork() != 0)
			_exit(0);
		close(pfd[0]);
		detach(vm, ls, pfd[1]);
		struct havm_err we;
		char msg[LINE_MAX_LEN];
		int wrc = write_offer(path, &o, &we);
		snprintf(msg, sizeof(msg), "%s\n", wrc == 0 ? "ok" : we.msg);
		(void)!write(pfd[1], msg, strlen(msg));
		close(pfd[1]);
		if (wrc == 0) {
			hlog(LOG_NOTICE, "vm %s: offered for live migration on port %u for %u s (helper pid %d)",
			     vm->name, o.port, wait_ms / 1000, (int)getpid());
			serve(vm, opts, ls, path, o.token, wait_ms);
		}
		_exit(0);
	}
	close(ls);
	close(pfd[1]);
	if (pid < 0) {
		rc = -errno;
		close(pfd[0]);
		return havm_err_set(e, HAVM_E_INTERNAL, rc, "fork: %s", strerror(-rc));
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	char line[LINE_MAX_LEN];
	rc = read_line(pfd[0], line, sizeof(line), READY_MS);
	close(pfd[0]);
	if (rc < 0)
		return havm_err_set(e, HAVM_E_INTERNAL, rc, "vm %s: the migration helper did not start: %s",
				    vm->name, strerror(-rc));
	if (strcmp(line, "ok") != 0)
		return havm_err_set(e, HAVM_E_IO, -EIO, "vm %s: %s", vm->name, line);
	hlog(LOG_INFO, "vm %s: migration offered in %s (port %u)", vm->name, path, o.port);
	return 0;
}

/* --- target --------------------------------------------------------------- */

struct pull {
	struct havm_vm *vm;
	struct havm_migrate_offer offer;
	unsigned my_port;
	char my_token[2 * TOKEN_BYTES + 1];
	int64_t until;
	/* results */
	bool ok;
	bool unreachable;
	char answer[LINE_MAX_LEN];
};

static int connect_within(const char *ip, unsigned port, int ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return -EINVAL;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		int rc = -errno;
		close(s);
		return rc;
	}
	struct pollfd p = { .fd = s, .events = POLLOUT };
	int soerr = 0;
	socklen_t l = sizeof(soerr);
	if (poll(&p, 1, ms) != 1 || getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &l) < 0 || soerr) {
		close(s);
		return soerr ? -soerr : -ETIMEDOUT;
	}
	int fl = fcntl(s, F_GETFL);
	if (fl < 0 || fcntl(s, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		close(s);
		return -errno;
	}
	return s;
}

/* The target vmm waits for a source that will not come: end it. */
static void stop_waiting_vmm(struct havm_vm *vm)
{
	struct havm_runtime *rt = NULL;
	struct havm_err e;
	if (havm_vm_runtime(vm, &rt, 0, &e) < 0)
		return;
	struct havm_proc_id id;
	/* The pidfile is written right after the fork: wait for it a little. */
	for (int i = 0; i < 100; i++) {
		if (havm_runtime_read_pid(rt, &id, &e) == 0 && havm_proc_id_alive(&id, HAVM_VMM_COMM) > 0) {
			kill(id.pid, SIGTERM);
			break;
		}
		usleep(50000);
	}
	havm_runtime_close(rt);
}

static void *pull_thread(void *arg)
{
	struct pull *p = arg;
	int fd = -1, rc = -ENOENT;
	for (unsigned i = 0; i < p->offer.n_addrs && fd < 0; i++) {
		fd = connect_within(p->offer.addrs[i], p->offer.port, CONNECT_MS);
		if (fd < 0)
			rc = fd;
	}
	if (fd < 0) {
		snprintf(p->answer, sizeof(p->answer), "the source's migration helper cannot be reached (%s)",
			 strerror(-rc));
		p->unreachable = true;
		stop_waiting_vmm(p->vm);
		return NULL;
	}
	/* Our address as the source sees it: the one this connection uses. */
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	char ip[INET_ADDRSTRLEN] = "127.0.0.1";
	if (getsockname(fd, (struct sockaddr *)&me, &ml) == 0)
		inet_ntop(AF_INET, &me.sin_addr, ip, sizeof(ip));
	char req[LINE_MAX_LEN];
	snprintf(req, sizeof(req), MAGIC " %s tcp:%s:%u,token=%s\n", p->offer.token, ip, p->my_port,
		 p->my_token);
	int64_t left = p->until - now_ms();
	rc = send_line(fd, req);
	if (rc == 0)
		rc = read_line(fd, p->answer, sizeof(p->answer), left > 1000 ? (int)left : 1000);
	close(fd);
	if (rc < 0)
		snprintf(p->answer, sizeof(p->answer), "no answer from the source's migration helper (%s)",
			 strerror(-rc));
	p->ok = rc >= 0 && strncmp(p->answer, "ok ", 3) == 0;
	if (!p->ok)
		stop_waiting_vmm(p->vm);
	return NULL;
}

/* "ok BYTES PASSES TOTAL_MS DOWNTIME_MS CONVERGED" into @out (figures for
 * the log only: a malformed field leaves its zero). */
static void parse_answer(const char *a, struct havm_migrate_report *out)
{
	char *end = NULL;
	const char *s = a + 3; /* after "ok " */
	out->bytes = strtoull(s, &end, 10);
	s = end;
	out->passes = (unsigned)strtoul(s, &end, 10);
	s = end;
	out->total_ms = strtod(s, &end);
	s = end;
	out->downtime_ms = strtod(s, &end);
	s = end;
	out->converged = strtoul(s, &end, 10) != 0;
}

/* A free TCP port of this node (bound and released: the vmm binds it
 * again with SO_REUSEADDR a moment later). */
static int free_port(unsigned *port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	socklen_t sl = sizeof(sa);
	int rc = 0;
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) < 0)
		rc = -errno;
	if (s >= 0)
		close(s);
	*port = ntohs(sa.sin_port);
	return rc;
}

int havm_migrate_in(struct havm_vm *vm, const struct havm_deadline *dl, struct havm_migrate_report *out,
		    struct havm_err *e)
{
	struct havm_migrate_report rep_local;
	if (!out)
		out = &rep_local;
	*out = (struct havm_migrate_report){ 0 };
	havm_err_clear(e);
	char path[PATH_MAX];
	int rc = offer_path(vm, path, sizeof(path), e);
	if (rc < 0)
		return rc;
	enum havm_vm_status st;
	if ((rc = havm_looksalive(vm, &st, e)) < 0)
		return rc;
	if (st == HAVM_VM_RUNNING) {
		hlog(LOG_INFO, "vm %s: already running here; the offer is not taken", vm->name);
		return 0;
	}
	struct pull *p = calloc(1, sizeof(*p));
	if (!p)
		return havm_err_set(e, HAVM_E_INTERNAL, -ENOMEM, "out of memory");
	p->vm = vm;
	if ((rc = read_offer(path, &p->offer, e)) < 0)
		goto out;
	if (random_token(p->my_token) < 0 || (rc = free_port(&p->my_port)) < 0) {
		rc = havm_err_set(e, HAVM_E_INTERNAL, rc < 0 ? rc : -EIO, "vm %s: no port or token", vm->name);
		goto out;
	}
	struct havm_deadline until = havm_deadline_or(dl, 60000);
	p->until = now_ms() + havm_deadline_ctl_ms(&until);
	snprintf(vm->incoming, sizeof(vm->incoming), "tcp:0.0.0.0:%u,token=%s", p->my_port, p->my_token);
	pthread_t t;
	if ((rc = -pthread_create(&t, NULL, pull_thread, p)) < 0) {
		havm_err_set(e, HAVM_E_INTERNAL, rc, "pthread_create: %s", strerror(-rc));
		goto out;
	}
	enum havm_online_how how;
	rc = havm_online_ex(vm, 0, &until, &how, e);
	pthread_join(t, NULL);
	if (rc == 0 && !p->ok)
		/* The guest runs here: the source confirmed the handover to
		 * our vmm, only its helper's answer went missing. */
		hlog(LOG_WARNING, "vm %s: migrated in, but the source's helper said: %s", vm->name, p->answer);
	if (p->unreachable) /* stale: its helper is gone; it cannot be taken */
		remove_offer(path, p->offer.token);
	if (rc < 0 && !p->ok)
		havm_err_prefix(e, "vm %s: migration from the source failed (%s)", vm->name,
				p->answer[0] ? p->answer : "no answer");
	if (p->ok)
		parse_answer(p->answer, out);
out:
	vm->incoming[0] = 0;
	free(p);
	return rc;
}
