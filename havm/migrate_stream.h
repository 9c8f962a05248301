/* havm — live migration, pull style over TCP (migrate_stream.c,
 * docs/lifecycle.md "Live migration").
 *
 * The source only offers (Pacemaker's migrate_to): a detached helper
 * listens on an ephemeral TCP port of this node and publishes the port,
 * this node's addresses and a random token in <vm>.vsv.migrate beside the
 * VM's state file in the shared store, while the guest runs on. The target
 * takes it (migrate_from): it starts its vmm with `--incoming` on a port of
 * its own, asks the helper, which sends the source vmm the "migrate"
 * request to that port: pre-copy while the guest runs, the guest paused
 * only for the last pass; the target restores, the source confirms and
 * stops, the target runs. The guest never runs in two places (the vmm
 * stream protocol, vmcore/vmm/vm_stream.h), and when anything fails before
 * the handover the source guest runs on. */
#ifndef HAVM_HAVM_MIGRATE_STREAM_H
#define HAVM_HAVM_MIGRATE_STREAM_H

#include "havm/lifecycle.h"

/* How long an offer waits for its target by default. */
#define HAVM_MIGRATE_OFFER_MS 120000u

/* Source: offers the running VM for @wait_ms (0 = the default). Returns
 * once the helper listens and the offer file is written; the VM runs on.
 * HAVM_E_STATE when the VM does not run here; HAVM_E_UNSUPPORTED with a LUN
 * store (no shared directory for the offer yet). */
int havm_migrate_offer(struct havm_vm *vm, const struct havm_migrate_opts *opts, unsigned wait_ms,
		       struct havm_err *e) HAVM_MUST_CHECK;

/* Target: takes the VM's offer within @dl and returns once the guest runs
 * here; *@out (may be NULL) has the source's figures. HAVM_E_NOTFOUND
 * (code -ENOENT) when there is no offer, HAVM_E_UNSUPPORTED with a LUN
 * store (callers may then resume a state file instead); otherwise the source's or the vmm's error, nothing running
 * here. Succeeds at once when the VM already runs here. */
int havm_migrate_in(struct havm_vm *vm, const struct havm_deadline *dl, struct havm_migrate_report *out,
		    struct havm_err *e) HAVM_MUST_CHECK;

#endif
