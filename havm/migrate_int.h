/* havm — private: what the two live-migration styles share (migrate.c). */
#ifndef HAVM_HAVM_MIGRATE_INT_H
#define HAVM_HAVM_MIGRATE_INT_H

#include "havm/vm_int.h"

/* Sends the running vmm the "migrate" request @req (borrowed) within @dl;
 * on success the guest is off here: the vmm is then asked to quit and
 * awaited (killed if it lingers) and the runtime files are removed.
 * HAVM_E_STATE when the VM does not run here; the vmm's error otherwise,
 * the guest then running on. *@out gets the vmm's report. */
int havm_vm_migrate_req(struct havm_vm *vm, json_object *req, const struct havm_deadline *dl,
			struct havm_migrate_report *out, struct havm_err *e) HAVM_MUST_CHECK;
/* Adds max_passes / converge_pages of @opts (may be NULL) to @req. */
void havm_migrate_add_opts(json_object *req, const struct havm_migrate_opts *opts);

#endif
