/* havm — the VM handle and Open (configuration); see lifecycle.h. */
#define LOG_TAG HAVM_TAG_HAVM
#include "havm/vm_int.h"

#include "common/log.h"
#include "iscsi/store.h"
#include "vmcore/vmc/vmc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const policy_names[] = {
	[HAVM_STOP_SAVE] = "save",
	[HAVM_STOP_SHUTDOWN] = "shutdown",
	[HAVM_STOP_POWEROFF] = "poweroff",
};

int havm_stop_policy_parse(const char *s, enum havm_stop_policy *out)
{
	for (size_t i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++)
		if (s && strcmp(s, policy_names[i]) == 0) {
			*out = (enum havm_stop_policy)i;
			return 0;
		}
	return -EINVAL;
}

const char *havm_stop_policy_name(enum havm_stop_policy p)
{
	return (unsigned)p < sizeof(policy_names) / sizeof(policy_names[0]) ? policy_names[p] : "?";
}

const char *havm_vm_status_name(enum havm_vm_status st)
{
	switch (st) {
	case HAVM_VM_STOPPED: return "stopped";
	case HAVM_VM_RUNNING: return "running";
	case HAVM_VM_TRANSITION: return "transition";
	}
	return "?";
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct havm_deadline havm_deadline_in(uint64_t ms)
{
	return (struct havm_deadline){ .end_ms = now_ms() + ms };
}

uint64_t havm_deadline_left_ms(const struct havm_deadline *dl)
{
	if (!dl || dl->end_ms == 0)
		return UINT64_MAX;
	uint64_t now = now_ms();
	return now >= dl->end_ms ? 0 : dl->end_ms - now;
}

struct havm_deadline havm_deadline_or(const struct havm_deadline *dl, uint64_t ms)
{
	if (dl && dl->end_ms)
		return *dl;
	return havm_deadline_in(ms);
}

bool havm_deadline_sleep(const struct havm_deadline *dl, unsigned ms)
{
	uint64_t left = havm_deadline_left_ms(dl);
	if (left == 0)
		return false;
	if (left < ms)
		ms = (unsigned)left;
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
	return true;
}

/* The VM name: the configuration's file name without a ".vmc" suffix. */
static int derive_name(const char *config, char *name, size_t len, struct havm_err *e)
{
	const char *base = strrchr(config, '/');
	base = base ? base + 1 : config;
	size_t n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".vmc") == 0)
		n -= 4;
	if (n >= len)
		n = len - 1; /* long enough to be rejected below */
	memcpy(name, base, n);
	name[n] = '\0';
	if (!havm_vm_name_valid(name))
		return havm_err_set(e, HAVM_E_CONFIG, -EINVAL,
				    "config '%s': the VM name '%s' derived from its file name is not "
				    "usable: expected 1..%d characters of [A-Za-z0-9._+-], not "
				    "starting with '.' or '-'",
				    config, name, HAVM_VM_NAME_MAX);
	return 0;
}

int havm_vm_new(struct havm_vm **out, const struct havm_vm_params *p, struct havm_err *e)
{
	*out = NULL;
	if (!p->config || !*p->config)
		return havm_err_set(e, HAVM_E_CONFIG, -EINVAL,
				    "config is empty: expected the path of the VM's .vmc file or "
				    "its name in the store");
	if ((unsigned)p->stop_policy > HAVM_STOP_POWEROFF)
		return havm_err_set(e, HAVM_E_CONFIG, -EINVAL, "stop policy %d is not one of "
				    "save, shutdown, poweroff", (int)p->stop_policy);
	struct havm_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return havm_err_set(e, HAVM_E_INTERNAL, -ENOMEM, "out of memory");
	int rc = 0;
	if (snprintf(vm->config, sizeof(vm->config), "%s", p->config) >= (int)sizeof(vm->config)) {
		rc = havm_err_set(e, HAVM_E_CONFIG, -ENAMETOOLONG, "config '%.64s...': path too long",
				  p->config);
		goto fail;
	}
	rc = derive_name(p->config, vm->name, sizeof(vm->name), e);
	if (rc < 0)
		goto fail;
	if (p->store && *p->store) {
		bool lun = strncmp(p->store, "iscsi://", 8) == 0 || strncmp(p->store, "file:", 5) == 0;
		if (lun) {
			/* A GPT store (iscsi/store.h): the .vmc is an object, the vmm
			 * runs with --store. */
			snprintf(vm->lun_store, sizeof(vm->lun_store), "%s", p->store);
		} else if (strncmp(p->store, "dir:", 4) != 0) {
			rc = havm_err_set(e, HAVM_E_CONFIG, -EINVAL,
					  "store '%s': expected \"dir:/absolute/path\" (or iscsi://, file:)",
					  p->store);
			goto fail;
		}
		const char *dir = p->store + 4;
		if (lun) {
			/* no directory */
		} else if (dir[0] != '/' ||
		    snprintf(vm->store_dir, sizeof(vm->store_dir), "%s", dir) >= (int)sizeof(vm->store_dir)) {
			rc = havm_err_set(e, HAVM_E_CONFIG, -EINVAL,
					  "store '%s': the directory must be an absolute path", p->store);
			goto fail;
		}
		if (strchr(p->config, '/')) {
			rc = havm_err_set(e, HAVM_E_CONFIG, -EINVAL,
					  "config '%s': with store '%s' it must be a name in the store, "
					  "not a path",
					  p->config, p->store);
			goto fail;
		}
	} else if (p->config[0] != '/') {
		rc = havm_err_set(e, HAVM_E_CONFIG, -EINVAL,
				  "config '%s' is not an absolute path (and no store is set)", p->config);
		goto fail;
	}
	const char *base = havm_rundir_base(p->rundir);
	if (base[0] != '/' || snprintf(vm->rundir, sizeof(vm->rundir), "%s", base) >= (int)sizeof(vm->rundir)) {
		rc = havm_err_set(e, HAVM_E_CONFIG, -EINVAL,
				  "rundir '%s' is not an absolute path", base);
		goto fail;
	}
	vm->stop_policy = p->stop_policy;
	vm->require_cluster = p->require_cluster;
	if (p->pr_key && snprintf(vm->pr_key, sizeof(vm->pr_key), "%s", p->pr_key) >= (int)sizeof(vm->pr_key)) {
		rc = havm_err_set(e, HAVM_E_CONFIG, -EINVAL,
				  "pr_key '%.20s...': expected a hexadecimal key or \"cmap\"", p->pr_key);
		goto fail;
	}
	*out = vm;
	return 0;
fail:
	free(vm);
	return rc;
}

/* Resolves the configuration's path: the parameter itself, or
 * <store dir>/<name>[.vmc]. */
static int resolve_config(struct havm_vm *vm, struct havm_err *e)
{
	int n;
	if (vm->lun_store[0]) {
		size_t l = strlen(vm->config);
		n = snprintf(vm->config_obj, sizeof(vm->config_obj), "%s%s", vm->config,
			     l > 4 && strcmp(vm->config + l - 4, ".vmc") == 0 ? "" : ".vmc");
		if (n < 0 || (size_t)n >= sizeof(vm->config_obj))
			return havm_err_set(e, HAVM_E_CONFIG, -ENAMETOOLONG, "config '%s': name too long",
					    vm->config);
		/* For messages and status: where the configuration lives. */
		n = snprintf(vm->config_path, sizeof(vm->config_path), "%s/%s", vm->lun_store, vm->config_obj);
	} else if (!vm->store_dir[0])
		n = snprintf(vm->config_path, sizeof(vm->config_path), "%s", vm->config);
	else if (strlen(vm->config) > 4 && strcmp(vm->config + strlen(vm->config) - 4, ".vmc") == 0)
		n = snprintf(vm->config_path, sizeof(vm->config_path), "%s/%s", vm->store_dir, vm->config);
	else
		n = snprintf(vm->config_path, sizeof(vm->config_path), "%s/%s.vmc", vm->store_dir,
			     vm->config);
	if (n < 0 || (size_t)n >= sizeof(vm->config_path))
		return havm_err_set(e, HAVM_E_CONFIG, -ENAMETOOLONG, "config '%s': path too long",
				    vm->config);
	return 0;
}

/* Reads the whole file (at most HAVM_VMC_MAX_BYTES) into a new buffer. */
static int read_config(const char *path, char **buf, size_t *len, struct havm_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		if (err == ENOENT)
			return havm_err_set(e, HAVM_E_NOTFOUND, -ENOENT,
					    "%s: no such file on this node", path);
		return havm_err_set(e, HAVM_E_IO, -err, "%s: cannot open: %s", path, strerror(err));
	}
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0) {
		rc = havm_err_set(e, HAVM_E_IO, -errno, "%s: stat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = havm_err_set(e, HAVM_E_FORMAT, -EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > (off_t)HAVM_VMC_MAX_BYTES) {
		rc = havm_err_set(e, HAVM_E_FORMAT, -EFBIG,
				  "%s: %lld bytes, expected at most %u for a VM configuration", path,
				  (long long)st.st_size, HAVM_VMC_MAX_BYTES);
		goto out;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		rc = havm_err_set(e, HAVM_E_INTERNAL, -ENOMEM, "out of memory");
		goto out;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, *buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = havm_err_set(e, HAVM_E_IO, r < 0 ? -errno : -EIO, "%s: read: %s", path,
					  r < 0 ? strerror(errno) : "file shrank while reading");
			free(*buf);
			*buf = NULL;
			goto out;
		}
		got += (size_t)r;
	}
	*len = got;
out:
	close(fd);
	return rc;
}

/* Validates the whole configuration (vmcore/vmc) and checks that the VM's
 * own name is the one its file name gives: the agent and the CLI find a
 * VM's runtime directory from the file name alone, even when the file has
 * become unreadable, so the two must agree. */
static int check_vmc(struct havm_vm *vm, const char *buf, size_t len, struct havm_err *e)
{
	if (len == 0) /* said here: libxml2 reports no error of its own for it */
		return havm_err_set(e, HAVM_E_FORMAT, -EINVAL,
				    "%s: empty file, expected a VM configuration (<vm>)", vm->config_path);
	struct vmc_config *cfg = NULL;
	int rc = vmc_parse(buf, len, vm->config_path, &cfg, e);
	if (rc < 0)
		return rc;
	if (strcmp(cfg->name, vm->name) != 0)
		rc = havm_err_set(e, HAVM_E_CONFIG, -EINVAL,
				  "%s: <vm name=\"%s\">: expected \"%s\", the file name without "
				  ".vmc (havm finds a VM's runtime state by its file name)",
				  vm->config_path, cfg->name, vm->name);
	/* Disks on iSCSI LUNs: IsAlive checks this node's key on them. */
	vm->n_iscsi_disks = 0;
	/* Store disks live on the store's LUN. */
	if (rc == 0 && strncmp(vm->lun_store, "iscsi://", 8) == 0)
		snprintf(vm->iscsi_disks[vm->n_iscsi_disks++], sizeof(vm->iscsi_disks[0]), "%s", vm->lun_store);
	for (unsigned i = 0; rc == 0 && i < cfg->ndisks; i++) {
		const char *p = cfg->disks[i].path;
		if (p && strncmp(p, "iscsi://", 8) == 0 &&
		    vm->n_iscsi_disks < sizeof(vm->iscsi_disks) / sizeof(vm->iscsi_disks[0]))
			snprintf(vm->iscsi_disks[vm->n_iscsi_disks++], sizeof(vm->iscsi_disks[0]), "%s", p);
	}
	vmc_free(cfg);
	return rc;
}

/* The .vmc object of a LUN store (read-only: no registration needed). */
static int read_config_object(struct havm_vm *vm, char **buf, size_t *len, struct havm_err *e)
{
	struct store *s = NULL;
	int rc = havm_vm_store_open(vm, false, &s, e);
	if (rc < 0)
		return rc;
	void *p = NULL;
	rc = store_read_file(s, vm->config_obj, HAVM_VMC_MAX_BYTES, &p, len, e);
	(void)store_close(s);
	if (rc < 0)
		return rc;
	char *c = realloc(p, *len + 1);
	if (!c) {
		free(p);
		return havm_err_set(e, HAVM_E_INTERNAL, -ENOMEM, "out of memory");
	}
	c[*len] = '\0';
	*buf = c;
	return 0;
}

int havm_open(struct havm_vm *vm, struct havm_err *e)
{
	int rc = resolve_config(vm, e);
	if (rc < 0)
		return rc;
	char *buf = NULL;
	size_t len = 0;
	rc = vm->lun_store[0] ? read_config_object(vm, &buf, &len, e) : read_config(vm->config_path, &buf, &len, e);
	if (rc == 0) {
		rc = check_vmc(vm, buf, len, e);
		free(buf);
	}
	if (rc < 0) {
		vm->config_path[0] = '\0';
		havm_err_prefix(e, "vm %s", vm->name);
		return rc;
	}
	vm->opened = true;
	hlog(LOG_DEBUG, "vm %s: opened %s", vm->name, vm->config_path);
	return 0;
}

void havm_close(struct havm_vm *vm)
{
	free(vm);
}

const char *havm_vm_name(const struct havm_vm *vm)
{
	return vm->name;
}

const char *havm_vm_config_path(const struct havm_vm *vm)
{
	return vm->opened ? vm->config_path : NULL;
}

const char *havm_vm_rundir(const struct havm_vm *vm)
{
	return vm->rundir;
}

void havm_vm_set_stop_policy(struct havm_vm *vm, enum havm_stop_policy p)
{
	vm->stop_policy = p;
}

enum havm_stop_policy havm_vm_stop_policy(const struct havm_vm *vm)
{
	return vm->stop_policy;
}

int havm_vm_runtime(struct havm_vm *vm, struct havm_runtime **rt, unsigned flags,
		    struct havm_err *e)
{
	return havm_runtime_open(rt, vm->rundir, vm->name, flags, e);
}
