/* havm — per-VM runtime directory, lock and pidfile; see runtime.h. */
#define LOG_TAG HAVM_TAG_HAVM
#include "havm/runtime.h"
#include "havm/runtime_int.h"

#include "common/log.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct havm_runtime {
	char vm[HAVM_VM_NAME_MAX + 1];
	char dir[PATH_MAX];
	int lock_fd; /* -1 when this handle holds no lock */
};

const char *havm_rundir_base(const char *param)
{
	if (param && *param)
		return param;
	const char *env = getenv("HAVM_RUNDIR");
	if (env && *env)
		return env;
	return HAVM_RUNDIR_DEFAULT;
}

bool havm_vm_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > HAVM_VM_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '+';
		if (!ok)
			return false;
	}
	return true;
}

/* mkdir -p for @path with @mode on the last component and 0755 above it. */
static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	struct stat st;
	if (stat(tmp, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int havm_runtime_open(struct havm_runtime **out, const char *base, const char *vm,
		      unsigned flags, struct havm_err *e)
{
	*out = NULL;
	if (!havm_vm_name_valid(vm))
		return havm_err_set(e, HAVM_E_CONFIG, -EINVAL,
				    "vm name '%s' is not usable: expected 1..%d characters of "
				    "[A-Za-z0-9._+-], not starting with '.' or '-'",
				    vm ? vm : "", HAVM_VM_NAME_MAX);
	if (!base || base[0] != '/')
		return havm_err_set(e, HAVM_E_CONFIG, -EINVAL,
				    "runtime directory '%s' is not an absolute path", base ? base : "");
	struct havm_runtime *rt = calloc(1, sizeof(*rt));
	if (!rt)
		return havm_err_set(e, HAVM_E_INTERNAL, -ENOMEM, "out of memory");
	rt->lock_fd = -1;
	snprintf(rt->vm, sizeof(rt->vm), "%s", vm);
	if (snprintf(rt->dir, sizeof(rt->dir), "%s/%s", base, vm) >= (int)sizeof(rt->dir)) {
		free(rt);
		return havm_err_set(e, HAVM_E_CONFIG, -ENAMETOOLONG,
				    "runtime directory %s/%s: path too long", base, vm);
	}
	struct stat st;
	int rc;
	if (flags & HAVM_RUNTIME_CREATE)
		rc = mkdir_p(rt->dir, 0750);
	else if (stat(rt->dir, &st) < 0)
		rc = -errno;
	else
		rc = S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (rc == -ENOENT && !(flags & HAVM_RUNTIME_CREATE)) {
		free(rt);
		return rc;
	}
	if (rc < 0) {
		havm_err_set(e, HAVM_E_IO, rc, "runtime directory %s: cannot create: %s",
			     rt->dir, strerror(-rc));
		free(rt);
		return rc;
	}
	*out = rt;
	return 0;
}

void havm_runtime_close(struct havm_runtime *rt)
{
	if (!rt)
		return;
	havm_runtime_unlock(rt);
	free(rt);
}

const char *havm_runtime_dir(const struct havm_runtime *rt)
{
	return rt->dir;
}

const char *havm_runtime_vm(const struct havm_runtime *rt)
{
	return rt->vm;
}

int havm_runtime_path(const struct havm_runtime *rt, const char *leaf, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", rt->dir, leaf);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Appends " (pidfile names pid N)" style detail about the holder to @msg. */
static void describe_holder(const struct havm_runtime *rt, char *msg, size_t len)
{
	struct havm_proc_id id = { 0 };
	if (havm_runtime_read_pid(rt, &id, NULL) == 0)
		snprintf(msg, len, "vmm pid %d%s", (int)id.pid,
			 havm_proc_id_alive(&id, NULL) ? "" : ", which is gone (starting or stopping?)");
	else
		snprintf(msg, len, "no pidfile yet (starting?)");
}

int havm_runtime_lock(struct havm_runtime *rt, struct havm_err *e)
{
	if (rt->lock_fd >= 0)
		return 0;
	char path[PATH_MAX];
	if (havm_runtime_path(rt, HAVM_RUNTIME_LOCK, path, sizeof(path)) < 0)
		return havm_err_set(e, HAVM_E_CONFIG, -ENAMETOOLONG, "%s: path too long", rt->dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return havm_err_set(e, HAVM_E_IO, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		close(fd);
		if (err != EWOULDBLOCK)
			return havm_err_set(e, HAVM_E_IO, -err, "%s: flock: %s", path, strerror(err));
		char holder[128];
		describe_holder(rt, holder, sizeof(holder));
		return havm_err_set(e, HAVM_E_BUSY, -EWOULDBLOCK,
				    "vm %s is locked on this node by another process (%s)", rt->vm, holder);
	}
	rt->lock_fd = fd;
	hlog(LOG_DEBUG, "vm %s: runtime lock taken (%s)", rt->vm, path);
	return 0;
}

int havm_runtime_lock_fd(const struct havm_runtime *rt)
{
	return rt->lock_fd;
}

void havm_runtime_unlock(struct havm_runtime *rt)
{
	if (rt->lock_fd >= 0) {
		close(rt->lock_fd);
		rt->lock_fd = -1;
	}
}

int havm_runtime_lock_held(const struct havm_runtime *rt)
{
	if (rt->lock_fd >= 0)
		return 0;
	char path[PATH_MAX];
	if (havm_runtime_path(rt, HAVM_RUNTIME_LOCK, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	int rc = 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		rc = errno == EWOULDBLOCK ? 1 : -errno;
	close(fd); /* also drops the probe's shared lock */
	return rc;
}

int havm_runtime_write_pid(struct havm_runtime *rt, const struct havm_proc_id *id,
			   struct havm_err *e)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], text[64];
	if (havm_runtime_path(rt, HAVM_RUNTIME_PIDFILE, path, sizeof(path)) < 0)
		return havm_err_set(e, HAVM_E_CONFIG, -ENAMETOOLONG, "%s: path too long", rt->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int n = snprintf(text, sizeof(text), "%d %" PRIu64 "\n", (int)id->pid, id->starttime);
	int fd = havm_sys.open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return havm_err_set(e, HAVM_E_IO, -errno, "%s: cannot create: %s", tmp, strerror(errno));
	int rc = havm_pwrite_full(fd, text, (size_t)n, 0);
	if (rc == 0 && havm_sys.fsync(fd) < 0)
		rc = -errno;
	havm_sys.close(fd);
	if (rc == 0 && havm_sys.rename(tmp, path) < 0)
		rc = -errno;
	if (rc == 0)
		rc = havm_fsync_dir_of(path);
	if (rc < 0) {
		havm_sys.unlink(tmp);
		return havm_err_set(e, HAVM_E_IO, rc, "%s: cannot write: %s", path, strerror(-rc));
	}
	return 0;
}

/* Parses a decimal number filling all of [s, end); false on anything else. */
static bool parse_u64(const char *s, const char *end, uint64_t *out)
{
	if (s == end || end - s > 20)
		return false;
	uint64_t v = 0;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		uint64_t d = (uint64_t)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

int havm_runtime_read_pid(const struct havm_runtime *rt, struct havm_proc_id *id,
			  struct havm_err *e)
{
	char path[PATH_MAX], text[64];
	if (havm_runtime_path(rt, HAVM_RUNTIME_PIDFILE, path, sizeof(path)) < 0)
		return havm_err_set(e, HAVM_E_CONFIG, -ENAMETOOLONG, "%s: path too long", rt->dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return havm_err_set(e, HAVM_E_IO, -errno, "%s: cannot open: %s", path, strerror(errno));
	}
	ssize_t n = read(fd, text, sizeof(text) - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return havm_err_set(e, HAVM_E_IO, -err, "%s: read: %s", path, strerror(err));
	text[n] = '\0';
	if (havm_pidfile_parse(text, (size_t)n, id) < 0)
		return havm_err_set(e, HAVM_E_FORMAT, -EINVAL,
				    "%s: expected \"<pid> <starttime>\\n\", found %zd bytes '%.32s'",
				    path, n, text);
	return 0;
}

int havm_pidfile_parse(const char *text, size_t len, struct havm_proc_id *id)
{
	/* Exactly "<pid> <starttime>\n", nothing else (no NUL inside). */
	const char *end = text + len;
	const char *sp = memchr(text, ' ', len), *nl = memchr(text, '\n', len);
	uint64_t pid, start;
	if (!sp || !nl || nl < sp || nl + 1 != end || !parse_u64(text, sp, &pid) ||
	    !parse_u64(sp + 1, nl, &start) || pid < 1 || pid > INT_MAX)
		return -EINVAL;
	id->pid = (pid_t)pid;
	id->starttime = start;
	return 0;
}

int havm_proc_id_of(pid_t pid, struct havm_proc_id *id)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int err = errno;
	close(fd);
	if (n <= 0)
		return n < 0 ? -err : -ESRCH;
	buf[n] = '\0';
	int rc = havm_proc_stat_parse(buf, id);
	if (rc == 0)
		id->pid = pid;
	return rc;
}

int havm_proc_stat_parse(const char *buf, struct havm_proc_id *id)
{
	/* The command name in parentheses may hold spaces: fields count from the
	 * last ')'. Field 3 is the state, field 22 the start time. */
	const char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EPROTO;
	p += 2;
	if (*p == 'Z' || *p == 'X') /* exited, not yet reaped: not running */
		return -ESRCH;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EPROTO;
		p++;
	}
	const char *end = strchr(p, ' ');
	uint64_t start;
	if (!end || !parse_u64(p, end, &start))
		return -EPROTO;
	id->starttime = start;
	return 0;
}

int havm_proc_id_alive(const struct havm_proc_id *id, const char *comm)
{
	struct havm_proc_id now;
	if (id->pid < 1 || havm_proc_id_of(id->pid, &now) < 0 || now.starttime != id->starttime)
		return 0;
	if (!comm)
		return 1;
	char path[64], name[32];
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)id->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, name, sizeof(name) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	name[n] = '\0';
	name[strcspn(name, "\n")] = '\0';
	return strcmp(name, comm) == 0;
}

/* Unlinks @leaf in the VM's directory; 1 when removed, 0 when absent. */
static int remove_leaf(const struct havm_runtime *rt, const char *leaf, struct havm_err *e)
{
	char path[PATH_MAX];
	if (havm_runtime_path(rt, leaf, path, sizeof(path)) < 0)
		return havm_err_set(e, HAVM_E_CONFIG, -ENAMETOOLONG, "%s: path too long", rt->dir);
	if (unlink(path) == 0) {
		hlog(LOG_INFO, "vm %s: removed stale %s", rt->vm, path);
		return 1;
	}
	if (errno == ENOENT)
		return 0;
	return havm_err_set(e, HAVM_E_IO, -errno, "%s: cannot remove: %s", path, strerror(errno));
}

int havm_runtime_recover(struct havm_runtime *rt, const char *comm, struct havm_err *e)
{
	if (rt->lock_fd < 0)
		return havm_err_set(e, HAVM_E_INTERNAL, -EPERM,
				    "vm %s: recover called without the runtime lock", rt->vm);
	struct havm_proc_id id = { 0 };
	struct havm_err perr;
	havm_err_clear(&perr);
	int rc = havm_runtime_read_pid(rt, &id, &perr);
	if (rc == 0 && havm_proc_id_alive(&id, comm))
		return havm_err_set(e, HAVM_E_BUSY, -EBUSY,
				    "vm %s: pid %d from %s/%s is still running without holding the "
				    "lock; refusing to touch it",
				    rt->vm, (int)id.pid, rt->dir, HAVM_RUNTIME_PIDFILE);
	if (rc < 0 && rc != -ENOENT)
		hlog(LOG_WARNING, "vm %s: unreadable pidfile treated as stale: %s", rt->vm, perr.msg);
	static const char *const leaves[] = { HAVM_RUNTIME_PIDFILE, HAVM_RUNTIME_PIDFILE ".tmp",
					      HAVM_RUNTIME_SOCKET };
	int removed = 0;
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		rc = remove_leaf(rt, leaves[i], e);
		if (rc < 0)
			return rc;
		removed += rc;
	}
	if (removed)
		hlog(LOG_NOTICE, "vm %s: recovered %d stale runtime file(s) after a crash", rt->vm,
		     removed);
	return removed;
}
