/* vmcore/vmm — a VM run from the VM store (iscsi/store.h, docs/store.md):
 * `vmm run --store URL NAME.vmc` reads the .vmc object, opens store="X.vhd"
 * disks as objects (differencing chains inside the store), writes a save's
 * .vsv as an object by the store's atomic replace and restores from one.
 *
 * Threads: disk I/O runs on the vCPU thread through the store's device (for
 * iscsi://, one LUN session with this node's PR key guard, as iscsi://
 * disks). A .vsv is written over a second store handle, a session of its
 * own (registered under the same key), so a pre-copy migration may write
 * it while the guest runs without two threads sharing one session; its
 * restore is read before the vCPU starts. Table changes re-read the table
 * first (store_gpt.c), so the two handles see each other's changes.
 *
 * Disk write generation on a LUN: the object's partition GUID, replaced on
 * the first write after each read (store_generation), and by
 * vm_store_claim before the guest runs (docs/save-restore.md). */
#define LOG_TAG HAVM_TAG_MAIN
#include "vmcore/vmm/vm_int.h"

#include "common/log.h"
#include "iscsi/store.h"
#include "vmcore/vmm/vm_snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest .vsv read back: a pre-copy's passes hold at most RAM plus
 * max_bytes (3 x RAM by default) of pages; room for more, and for device
 * state and headers, without trusting an absurd object size. */
#define VSV_MAX_RAM_MULT 8u
#define VSV_SLACK (64u << 20)

static void store_fenced(void *priv, struct lun *l)
{
	struct vm *vm = priv;
	if (vm->cfg)
		vm_fenced(vm, lun_name(l));
	else
		hlog(LOG_ERR, "store %s: FENCED before the VM was built", lun_name(l));
}

static void store_lost(void *priv, struct lun *l)
{
	struct vm *vm = priv;
	struct lun_opts o;
	lun_get_opts(l, &o);
	if (vm->cfg)
		vm_storage_lost(vm, lun_name(l), o.io_deadline_s);
	else
		hlog(LOG_ERR, "store %s: storage path lost before the VM was built", lun_name(l));
}

static int open_guarded(struct vm *vm, const char *url, struct store **out, struct havm_err *err)
{
	/* As iscsi:// disks: the PR guard and vmm's I/O deadline. */
	struct store_open_opts o = { .on_fenced = store_fenced, .fenced_opaque = vm,
				     .io_deadline_s = VM_IO_DEADLINE_S, .on_lost = store_lost };
	int rc = vm_node_key(&o.pr_key, err);
	if (rc < 0)
		return rc;
	if (!o.pr_key && strncmp(url, "iscsi://", 8) == 0)
		hlog(LOG_WARNING, "store %s: no PR key (HAVM_PR_KEY unset): no self-fencing on this LUN", url);
	return store_open_ex(url, STORE_O_RDWR, &o, out, err);
}

int vm_store_open(struct vm *vm, const char *url, struct store **out, struct havm_err *err)
{
	int rc = open_guarded(vm, url, out, err);
	if (rc == 0)
		hlog(LOG_INFO, "store %s: open", store_url(*out));
	return rc;
}

int vm_store_load_config(struct store *s, const char *name, struct vmc_config **out, struct havm_err *err)
{
	if (store_type(s) == STORE_TYPE_DIR) { /* relative paths anchor at the directory */
		char p[4096];
		int rc = store_file_path(s, name, p, sizeof(p), err);
		return rc < 0 ? rc : vmc_load(p, out, err);
	}
	void *buf = NULL;
	size_t len = 0;
	int rc = store_read_file(s, name, 1u << 20, &buf, &len, err);
	if (rc < 0) {
		havm_err_prefix(err, "config");
		return rc;
	}
	char label[1200];
	snprintf(label, sizeof(label), "%s/%s", store_url(s), name);
	rc = vmc_parse(buf, len, NULL, out, err);
	free(buf);
	if (rc < 0)
		havm_err_prefix(err, "%s", label);
	return rc;
}

int vm_disk_open_store(void *opaque, const char *name, unsigned flags, struct blk_dev **out,
		       struct havm_err *err)
{
	struct vm *vm = opaque;
	if (vm->nsdisks >= PC_MAX_DISKS)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "disk %s: more than %d store disks", name,
				    PC_MAX_DISKS);
	int rc = store_open_disk(vm->store, name, flags, out, err);
	if (rc < 0)
		return rc;
	struct vm_store_disk *d = &vm->sdisks[vm->nsdisks++];
	d->dev = *out;
	d->rw = flags & BLK_O_RDWR;
	snprintf(d->name, sizeof(d->name), "%s", name);
	return 0;
}

static const struct vm_store_disk *find_disk(const struct vm *vm, const struct blk_dev *dev)
{
	for (unsigned i = 0; i < vm->nsdisks; i++)
		if (vm->sdisks[i].dev == dev)
			return &vm->sdisks[i];
	return NULL;
}

int vm_disk_gen(struct vm *vm, struct blk_dev *disk, uint64_t *gen, struct havm_err *err)
{
	const struct vm_store_disk *d = vm->store ? find_disk(vm, disk) : NULL;
	if (!d || store_type(vm->store) == STORE_TYPE_DIR)
		return vm_disk_generation(blk_name(disk), gen, err);
	int rc = store_generation(vm->store, d->name, gen, err);
	if (rc < 0)
		havm_err_prefix(err, "disk %s: write generation", d->name);
	return rc;
}

int vm_store_claim(struct vm *vm, struct havm_err *err)
{
	for (unsigned i = 0; i < vm->nsdisks; i++) {
		if (!vm->sdisks[i].rw)
			continue;
		int rc = store_bump_generation(vm->store, vm->sdisks[i].name, err);
		if (rc < 0) {
			havm_err_prefix(err, "vm %s: disk %s: moving its write generation on", vm->cfg->name,
					vm->sdisks[i].name);
			return rc;
		}
	}
	return 0;
}

/* A name in the store (no '/') when vmm runs from one; else a file path. */
static bool is_object(const struct vm *vm, const char *path)
{
	return vm->store && !strchr(path, '/');
}

int vm_create_restored_store(struct vm *vm, struct vmc_config *cfg, const struct cpu_ops *ops,
			     qb_loop_t *loop, const char *name, uint64_t t0, struct havm_err *err)
{
	struct store *s = vm->store;
	if (!is_object(vm, name))
		return vm_create_restored(vm, cfg, ops, loop, name, t0, err);
	if (store_type(s) == STORE_TYPE_DIR) { /* a file: mapped lazily */
		char p[4096];
		int rc = store_file_path(s, name, p, sizeof(p), err);
		return rc < 0 ? rc : vm_create_restored(vm, cfg, ops, loop, p, t0, err);
	}
	void *buf = NULL;
	size_t len = 0;
	uint64_t t_read = vm_mono_ns();
	int rc = store_read_file(s, name, (size_t)cfg->memory * VSV_MAX_RAM_MULT + VSV_SLACK, &buf, &len, err);
	if (rc < 0) {
		havm_err_prefix(err, "vm %s: restore", cfg->name);
		/* A state that is not there is the caller's state problem. */
		if (rc == -ENOENT)
			err->kind = HAVM_E_NOTFOUND;
		return rc;
	}
	hlog(LOG_INFO, "vm %s: read %s/%s (%zu bytes) in %.1f ms", cfg->name, store_url(s), name, len,
	     (double)(vm_mono_ns() - t_read) / 1e6);
	char label[1200];
	snprintf(label, sizeof(label), "%s/%s", store_url(s), name);
	rc = vm_create_restored_mem(vm, cfg, ops, loop, buf, len, label, t0, err);
	free(buf);
	return rc;
}

int vm_vsv_open(struct vm *vm, const char *path, const struct vsv_machine_desc *d, struct vsv_writer **w,
		struct havm_err *err)
{
	if (!is_object(vm, path))
		return vsv_writer_open(path, d, w, err);
	if (store_type(vm->store) == STORE_TYPE_DIR) {
		char p[4096];
		int rc = store_name_check(path, STORE_KIND_VSV, err);
		if (rc == 0)
			rc = store_file_path(vm->store, path, p, sizeof(p), err);
		return rc < 0 ? rc : vsv_writer_open(p, d, w, err);
	}
	struct store *s = NULL;
	struct store_replace *r = NULL;
	int rc = open_guarded(vm, store_url(vm->store), &s, err);
	/* Room for a pre-copy's passes at their default bound; the extent is
	 * taken in the table for the time of the save, so concurrent saves of
	 * other VMs (other processes or nodes) get their own. A smaller store:
	 * its largest free extent. */
	uint64_t room = (uint64_t)vm->cfg->memory * (VSV_MAX_RAM_MULT / 2) + VSV_SLACK;
	if (rc == 0 && (rc = store_replace_begin(s, path, STORE_KIND_VSV, room, &r, err)) == -ENOSPC) {
		havm_err_clear(err); /* the control reply reads it */
		rc = store_replace_begin(s, path, STORE_KIND_VSV, 0, &r, err);
	}
	char label[1200];
	snprintf(label, sizeof(label), "%s/%s", store_url(vm->store), path);
	if (rc == 0)
		rc = vsv_writer_open_sink(store_replace_sink, r, label, d, w, err);
	if (rc < 0) {
		store_replace_abort(r);
		(void)store_close(s);
		return rc;
	}
	vm->vsv_store = s;
	vm->vsv_replace = r;
	return 0;
}

static void end_store(struct vm *vm)
{
	int rc = store_close(vm->vsv_store);
	if (rc < 0)
		hlog(LOG_WARNING, "store %s: closing the save's connection: %s", store_url(vm->store), strerror(-rc));
	vm->vsv_store = NULL;
	vm->vsv_replace = NULL;
}

int vm_vsv_commit(struct vm *vm, struct vsv_writer *w, struct havm_err *err)
{
	int rc = vsv_writer_commit(w, err);
	if (!vm->vsv_replace)
		return rc;
	if (rc == 0)
		rc = store_replace_commit(vm->vsv_replace, err); /* the object is now the new .vsv */
	else
		store_replace_abort(vm->vsv_replace);
	end_store(vm);
	return rc;
}

void vm_vsv_abort(struct vm *vm, struct vsv_writer *w)
{
	vsv_writer_abort(w);
	if (vm->vsv_replace) {
		store_replace_abort(vm->vsv_replace);
		end_store(vm);
	}
}
