/* havm — what `havm status` and `havm list` report: one VM's state on this
 * node, and the VMs this node knows; see lifecycle.h.
 *
 * A VM is known here when its .vmc is in the store being listed, or when it
 * has a runtime directory under the runtime base (it ran here since boot).
 * Online records the parameters it was started with in the runtime
 * directory (vm.params, JSON, mode 0600: a store URL may carry CHAP
 * credentials), as libvirt keeps a running domain's XML under /run, so a
 * VM that was started from any store can be listed without naming it. */
#define LOG_TAG HAVM_TAG_HAVM
#include "havm/vm_int.h"

#include "common/log.h"
#include "common/sys.h"
#include "iscsi/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PARAMS_LEAF "vm.params"
#define INFO_CTL_TIMEOUT_MS 2000

int havm_vm_record_params(struct havm_vm *vm, struct havm_runtime *rt)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	if (havm_runtime_path(rt, PARAMS_LEAF, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	json_object *j = json_object_new_object();
	json_object_object_add(j, "config", json_object_new_string(vm->config));
	const char *store = vm->lun_store[0] ? vm->lun_store : NULL;
	char dir[PATH_MAX + 8];
	if (!store && vm->store_dir[0]) {
		snprintf(dir, sizeof(dir), "dir:%s", vm->store_dir);
		store = dir;
	}
	if (store)
		json_object_object_add(j, "store", json_object_new_string(store));
	const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	int rc = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		rc = -errno;
	else {
		rc = havm_pwrite_full(fd, text, strlen(text), 0);
		close(fd);
	}
	json_object_put(j);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		hlog(LOG_WARNING, "vm %s: cannot record its parameters in %s: %s (havm list will "
		     "not show its store)", vm->name, path, strerror(-rc));
	}
	return rc;
}

/* Copies a string field of @j, "" when absent. */
static void get_str(json_object *j, const char *key, char *buf, size_t len)
{
	json_object *v;
	snprintf(buf, len, "%s", json_object_object_get_ex(j, key, &v) && json_object_is_type(v, json_type_string)
				 ? json_object_get_string(v) : "");
}

static uint64_t get_u64(json_object *j, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(j, key, &v) ? (uint64_t)json_object_get_int64(v) : 0;
}

int havm_vm_info(struct havm_vm *vm, struct havm_vm_info *info, struct havm_err *e)
{
	memset(info, 0, sizeof(*info));
	info->saved_state = -1;
	struct havm_runtime *rt = NULL;
	int rc = havm_vm_runtime(vm, &rt, 0, e);
	if (rc == -ENOENT) {
		info->status = HAVM_VM_STOPPED;
		havm_err_clear(e);
	} else if (rc < 0) {
		return rc;
	} else {
		struct havm_proc_id id;
		rc = havm_vm_probe(vm, rt, &info->status, &id, e);
		havm_runtime_close(rt);
		if (rc < 0)
			return rc;
		info->pid = (int)id.pid;
	}
	if (info->status == HAVM_VM_RUNNING) {
		json_object *rep = NULL;
		struct havm_err cerr;
		if (havm_vm_ctl(vm, "status", INFO_CTL_TIMEOUT_MS, &rep, &cerr) == 0) {
			info->answered = true;
			get_str(rep, "state", info->run_state, sizeof(info->run_state));
			get_str(rep, "stop_reason", info->stop_reason, sizeof(info->stop_reason));
			info->instructions = get_u64(rep, "instructions");
			info->guest_time_ns = get_u64(rep, "guest_time_ns");
			json_object *v;
			info->restored = json_object_object_get_ex(rep, "restored", &v) && json_object_get_boolean(v);
			json_object_put(rep);
		} else {
			snprintf(info->ctl_error, sizeof(info->ctl_error), "%s", cerr.msg);
		}
	}
	if (havm_vm_state_path(vm, info->state_path, sizeof(info->state_path)) == 0) {
		bool exists;
		struct havm_err serr;
		if (havm_state_exists(vm, info->state_path, &exists, &serr) == 0)
			info->saved_state = exists;
		else
			hlog(LOG_INFO, "vm %s: saved state unknown: %s", vm->name, serr.msg);
	}
	return 0;
}

/* Adds @name to the sorted, unique list; 0 or -ENOMEM. */
static int add_name(struct havm_vm_entry **list, size_t *n, size_t *cap, const char *name,
		    const char *config, const char *store)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*list)[i].name, name) == 0)
			return 0; /* the store's entry (listed first) wins */
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct havm_vm_entry *nl = realloc(*list, nc * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		*list = nl;
		*cap = nc;
	}
	struct havm_vm_entry *x = &(*list)[(*n)++];
	memset(x, 0, sizeof(*x));
	snprintf(x->name, sizeof(x->name), "%s", name);
	snprintf(x->config, sizeof(x->config), "%s", config);
	snprintf(x->store, sizeof(x->store), "%s", store ? store : "");
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct havm_vm_entry *)a)->name, ((const struct havm_vm_entry *)b)->name);
}

/* The .vmc objects of @store. */
static int list_store(const char *store, struct havm_vm_entry **list, size_t *n, size_t *cap,
		      struct havm_err *e)
{
	struct store *s = NULL;
	int rc = store_open(store, 0, &s, e);
	if (rc < 0)
		return rc;
	struct store_obj *objs = NULL;
	size_t no = 0;
	rc = store_list(s, &objs, &no, e);
	(void)store_close(s);
	for (size_t i = 0; rc == 0 && i < no; i++) {
		if (objs[i].kind != STORE_KIND_VMC)
			continue;
		char name[STORE_NAME_MAX + 1];
		snprintf(name, sizeof(name), "%.*s", (int)strlen(objs[i].name) - 4, objs[i].name);
		if (havm_vm_name_valid(name) && add_name(list, n, cap, name, objs[i].name, store) < 0)
			rc = havm_err_set(e, HAVM_E_INTERNAL, -ENOMEM, "out of memory");
	}
	free(objs);
	return rc;
}

/* The runtime directories under @base, with the parameters Online recorded. */
static int list_rundir(const char *base, struct havm_vm_entry **list, size_t *n, size_t *cap,
		       struct havm_err *e)
{
	DIR *d = opendir(base);
	if (!d) {
		if (errno == ENOENT)
			return 0; /* nothing ever ran here */
		return havm_err_set(e, HAVM_E_IO, -errno, "runtime directory %s: %s", base, strerror(errno));
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		if (!havm_vm_name_valid(de->d_name))
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s/%s", base, de->d_name, PARAMS_LEAF) >= (int)sizeof(path))
			continue;
		json_object *j = json_object_from_file(path);
		char config[PATH_MAX] = "", store[PATH_MAX] = "";
		if (j) {
			get_str(j, "config", config, sizeof(config));
			get_str(j, "store", store, sizeof(store));
			json_object_put(j);
		}
		if (add_name(list, n, cap, de->d_name, config, store) < 0)
			rc = havm_err_set(e, HAVM_E_INTERNAL, -ENOMEM, "out of memory");
	}
	closedir(d);
	return rc;
}

int havm_vm_list(const char *store, const char *rundir, struct havm_vm_entry **out, size_t *n,
		 struct havm_err *e)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	int rc = store && *store ? list_store(store, out, n, &cap, e) : 0;
	if (rc == 0)
		rc = list_rundir(havm_rundir_base(rundir), out, n, &cap, e);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return rc;
	}
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_entry);
	return 0;
}
