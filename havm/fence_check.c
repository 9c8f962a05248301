/* havm — IsAlive's fencing check: is this node's SCSI-3 PR key still
 * registered on every iSCSI LUN the VM's disks live on? An idle guest sends
 * no disk request, so the vmm's own guard (iscsi/lun.h) would notice a fence
 * only at the next write; the thorough monitor asks the LUNs directly. Over
 * a fresh session and read-only: READ KEYS, never a registration (a removed
 * key must stay removed). */
#define LOG_TAG HAVM_TAG_HAVM
#include "havm/vm_int.h"

#include "common/log.h"
#include "iscsi/lun.h"
#include "iscsi/pr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Seconds per command: a monitor must answer well inside its timeout. */
#define CHECK_TIMEOUT_S 5

int havm_vm_node_key(const struct havm_vm *vm, uint64_t *key, struct havm_err *e)
{
	const char *s = vm->pr_key[0] ? vm->pr_key : getenv("HAVM_PR_KEY");
	*key = 0;
	if (!s || !*s)
		return 0;
	if (strcmp(s, "cmap") == 0)
		return pr_local_key(PR_KEY_ID, key, e);
	return pr_key_parse(s, key, e);
}

int havm_vm_check_fenced(struct havm_vm *vm, struct havm_err *e)
{
	if (vm->n_iscsi_disks == 0)
		return 0;
	uint64_t key;
	int rc = havm_vm_node_key(vm, &key, e);
	if (rc < 0) {
		havm_err_prefix(e, "vm %s: pr_key", vm->name);
		return rc;
	}
	if (!key)
		return 0;
	char kb[24];
	pr_key_format(key, kb, sizeof(kb));
	struct lun_opts o;
	lun_opts_default(&o);
	o.timeout_s = CHECK_TIMEOUT_S;
	o.reconnect_max = 0;
	for (unsigned i = 0; i < vm->n_iscsi_disks; i++) {
		struct lun *l = NULL;
		struct pr_keys ks;
		if ((rc = lun_open(vm->iscsi_disks[i], &o, &l, e)) < 0 ||
		    (rc = pr_read_keys(l, &ks, e)) < 0) {
			lun_close(l);
			if (e->kind != HAVM_E_FENCED)
				e->kind = HAVM_E_IO; /* unreachable is not "not installed" */
			havm_err_prefix(e, "vm %s: fencing check", vm->name);
			return rc;
		}
		bool have = pr_keys_has(&ks, key);
		char name[LUN_URL_MAX];
		snprintf(name, sizeof(name), "%s", lun_name(l));
		lun_close(l);
		if (!have)
			return havm_err_set(e, HAVM_E_FENCED, -EACCES,
					    "vm %s: this node's key %s is no longer registered on %s: "
					    "fenced by another node",
					    vm->name, kb, name);
	}
	return 0;
}
