/* vmcore/vmm — virtio-blk disks given as iscsi:// URLs in the .vmc, and the
 * self-fencing wiring: the LUN carries this node's SCSI-3 PR key, and when
 * the key disappears (another node fenced this one: fence_havm off,
 * fence_scsi) the registration guard (iscsi/lun.h) fails every request
 * without sending it and vm_fenced() stops the VM at once. vmm then exits
 * with VMM_EXIT_FENCED (23), logs at ERR and writes its blackbox. */
#define LOG_TAG HAVM_TAG_MAIN
#include "vmcore/vmm/vm_int.h"

#include "common/log.h"
#include "iscsi/blk_iscsi.h"
#include "iscsi/lun.h"
#include "iscsi/pr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* This node's key: $HAVM_PR_KEY as hex, or "cmap" (corosync); 0 = none. */
int vm_node_key(uint64_t *key, struct havm_err *err)
{
	const char *s = getenv("HAVM_PR_KEY");
	*key = 0;
	if (!s || !*s)
		return 0;
	if (strcmp(s, "cmap") == 0)
		return pr_local_key(PR_KEY_ID, key, err);
	int rc = pr_key_parse(s, key, err);
	if (rc < 0)
		havm_err_prefix(err, "HAVM_PR_KEY");
	return rc;
}

static void on_fenced(void *priv, struct lun *l)
{
	vm_fenced(priv, lun_name(l));
}

static void on_lost(void *priv, struct lun *l)
{
	struct lun_opts o;
	lun_get_opts(l, &o);
	vm_storage_lost(priv, lun_name(l), o.io_deadline_s);
}

int vm_disk_open_url(void *opaque, const char *url, unsigned flags, struct blk_dev **out,
		     struct havm_err *err)
{
	struct vm *vm = opaque;
	uint64_t key;
	int rc = vm_node_key(&key, err);
	if (rc < 0)
		return rc;
	struct lun *l = NULL;
	struct lun_opts o;
	lun_opts_default(&o);
	o.io_deadline_s = VM_IO_DEADLINE_S; /* the URL's io_deadline=S wins */
	if ((rc = lun_open(url, &o, &l, err)) < 0)
		return rc;
	lun_set_lost_fn(l, on_lost, vm);
	char kb[24];
	pr_key_format(key, kb, sizeof(kb));
	if (key) {
		/* Present: this nexus gets registered (under WERO only registered
		 * nexuses may write). Absent: fenced, or never unfenced; never
		 * register it here, that is the fence agent's "on". */
		rc = pr_check_registration(l, key, err);
		if (rc < 0) {
			havm_err_prefix(err, "disk %s: key %s", lun_name(l), kb);
			lun_close(l);
			return rc;
		}
		lun_set_key(l, key);
		lun_set_fenced_fn(l, on_fenced, vm);
		hlog(LOG_INFO, "disk %s: registration guard on, key %s", lun_name(l), kb);
	} else {
		hlog(LOG_WARNING, "disk %s: no PR key (HAVM_PR_KEY unset): no self-fencing on this LUN",
		     lun_name(l));
	}
	struct blk_backend *be = NULL;
	rc = blk_backend_iscsi_open(l, 0, 0, flags, 1, &be, err);
	if (rc < 0) {
		lun_close(l);
		return rc;
	}
	rc = blk_open_backend(be, flags, out, err);
	if (rc < 0)
		(void)be->ops->close(be); /* closes the LUN too (own_lun) */
	return rc;
}

void vm_storage_lost(struct vm *vm, const char *disk, int deadline_s)
{
	pthread_mutex_lock(&vm->lock);
	bool first = vm->reason != VM_STOP_STORAGE_LOST && vm->reason != VM_STOP_FENCED;
	if (first) {
		vm->state = VM_STOPPED;
		vm->reason = VM_STOP_STORAGE_LOST;
		snprintf(vm->report, sizeof(vm->report),
			 "disk %s did not complete I/O within %d s (io_deadline): storage path lost; "
			 "stopped without another write",
			 disk, deadline_s);
		pthread_cond_broadcast(&vm->cond);
	}
	pthread_mutex_unlock(&vm->lock);
	/* Called on a disk's I/O thread: the vCPU must leave its slice now. */
	if (first && vm->m.cpu)
		vm->m.cpu_ops->request_exit(vm->m.cpu);
	if (first)
		hlog(LOG_ERR, "vm %s: STORAGE LOST: %s", vm->cfg->name, vm->report);
}

void vm_fenced(struct vm *vm, const char *disk)
{
	pthread_mutex_lock(&vm->lock);
	bool first = vm->reason != VM_STOP_FENCED;
	if (first) {
		vm->state = VM_STOPPED;
		vm->reason = VM_STOP_FENCED;
		snprintf(vm->report, sizeof(vm->report),
			 "this node's reservation key is gone from %s: fenced by another node; "
			 "stopped without another write",
			 disk);
		pthread_cond_broadcast(&vm->cond);
	}
	pthread_mutex_unlock(&vm->lock);
	/* Called on a disk's I/O thread: the vCPU must leave its slice now. */
	if (first && vm->m.cpu)
		vm->m.cpu_ops->request_exit(vm->m.cpu);
	if (first)
		hlog(LOG_ERR, "vm %s: FENCED: %s", vm->cfg->name, vm->report);
}
