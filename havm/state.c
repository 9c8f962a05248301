/* havm — the VM's saved-state file (.vsv): where it lives and how a used or
 * refused one is set aside; see lifecycle.h.
 *
 * One file per VM, next to its configuration on the shared storage, so the
 * node that takes the VM over finds it: Offline by save and migrate_to write
 * it (vmm writes atomically: tmp, fsync, rename), Online resumes from it. A
 * state is valid only with the disk contents it was saved with; after the
 * VM has run from it the disks move on, so the file is renamed
 * <vm>.vsv.consumed at once (kept, not deleted: the running vmm maps its RAM
 * pages copy-on-write from it, and the admin can still look at it), and a
 * file vmm refuses becomes <vm>.vsv.refused. Either way, the next Online
 * without a new save boots afresh instead of resuming a stale state.
 *
 * In a LUN store (iscsi://, file:) the state is the object <vm>.vsv and
 * setting it aside is a rename of the object: one table write, atomic. The
 * vmm read it whole before it ran, so nothing still maps it. */
#define LOG_TAG HAVM_TAG_HAVM
#include "havm/vm_int.h"

#include "common/log.h"
#include "iscsi/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int havm_vm_state_path(const struct havm_vm *vm, char *buf, size_t len)
{
	int n;
	if (vm->lun_store[0]) {
		n = snprintf(buf, len, "%s.vsv", vm->name); /* an object name: no '/' */
	} else if (vm->store_dir[0]) {
		n = snprintf(buf, len, "%s/%s.vsv", vm->store_dir, vm->name);
	} else {
		/* The .vmc's directory (config is absolute: havm_vm_new checks). */
		const char *slash = strrchr(vm->config, '/');
		int dirlen = slash ? (int)(slash - vm->config) : 0;
		n = snprintf(buf, len, "%.*s/%s.vsv", dirlen, vm->config, vm->name);
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* fsync of the directory holding @path, so a rename survives a crash. */
static int sync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*(slash == dir ? slash + 1 : slash) = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

int havm_vm_store_open(struct havm_vm *vm, bool rdwr, struct store **out, struct havm_err *e)
{
	struct store_open_opts o = { 0 };
	int rc = rdwr ? havm_vm_node_key(vm, &o.pr_key, e) : 0;
	if (rc == 0)
		rc = store_open_ex(vm->lun_store, rdwr ? STORE_O_RDWR : 0, &o, out, e);
	if (rc < 0)
		havm_err_prefix(e, "vm %s", vm->name);
	return rc;
}

int havm_state_exists(struct havm_vm *vm, const char *path, bool *exists, struct havm_err *e)
{
	*exists = false;
	if (!vm->lun_store[0]) {
		if (access(path, F_OK) == 0)
			*exists = true;
		else if (errno != ENOENT)
			return havm_err_set(e, HAVM_E_IO, -errno, "vm %s: cannot look for its saved state %s: %s",
					    vm->name, path, strerror(errno));
		return 0;
	}
	struct store *s = NULL;
	int rc = havm_vm_store_open(vm, false, &s, e);
	if (rc < 0)
		return rc;
	struct store_obj o;
	rc = store_stat(s, path, &o, e);
	(void)store_close(s);
	if (rc == 0)
		*exists = true;
	else if (rc == -ENOENT)
		havm_err_clear(e), rc = 0;
	return rc;
}

/* The LUN store's set-aside: a rename of the object (or its removal when
 * the new name would pass the 36 characters of a GPT name). */
static int set_aside_object(struct havm_vm *vm, const char *name, const char *suffix, struct havm_err *e)
{
	struct store *s = NULL;
	int rc = havm_vm_store_open(vm, true, &s, e);
	if (rc < 0)
		return rc;
	char to[128];
	snprintf(to, sizeof(to), "%s%s", name, suffix);
	if (strlen(to) > STORE_NAME_MAX) {
		hlog(LOG_WARNING, "vm %s: '%s' would be longer than %d characters: removing '%s' instead",
		     vm->name, to, STORE_NAME_MAX, name);
		rc = store_remove(s, name, e);
	} else {
		rc = store_rename(s, name, to, e);
	}
	int crc = store_close(s);
	if (rc == 0 && crc < 0)
		rc = havm_err_set(e, HAVM_E_IO, crc, "%s: close: %s", vm->lun_store, strerror(-crc));
	if (rc < 0)
		havm_err_prefix(e, "vm %s: setting %s aside", vm->name, name);
	return rc;
}

int havm_state_set_aside(struct havm_vm *vm, const char *path, const char *suffix,
			 struct havm_err *e)
{
	if (vm->lun_store[0])
		return set_aside_object(vm, path, suffix, e);
	char to[PATH_MAX];
	if (snprintf(to, sizeof(to), "%s%s", path, suffix) >= (int)sizeof(to))
		return havm_err_set(e, HAVM_E_CONFIG, -ENAMETOOLONG, "vm %s: %s%s: path too long",
				    vm->name, path, suffix);
	if (rename(path, to) < 0)
		return havm_err_set(e, HAVM_E_IO, -errno, "vm %s: rename %s to %s: %s", vm->name, path,
				    to, strerror(errno));
	int rc = sync_dir_of(to);
	if (rc < 0)
		return havm_err_set(e, HAVM_E_IO, rc, "vm %s: fsync of the directory of %s: %s",
				    vm->name, to, strerror(-rc));
	return 0;
}

int havm_deadline_ctl_ms(const struct havm_deadline *dl)
{
	uint64_t left = havm_deadline_left_ms(dl);
	if (left == 0)
		return 1;
	return left > INT_MAX ? INT_MAX : (int)left;
}

const char *havm_online_how_name(enum havm_online_how how)
{
	switch (how) {
	case HAVM_ONLINE_ALREADY: return "already running";
	case HAVM_ONLINE_BOOTED: return "booted";
	case HAVM_ONLINE_RESTORED: return "restored";
	}
	return "?";
}
