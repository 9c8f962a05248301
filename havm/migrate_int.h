/* havm — private: what the two live-migration styles share (migrate.c). */
#ifndef HAVM_HAVM_MIGRATE_INT_H
#define HAVM_HAVM_MIGRATE_INT_H

#include "havm/vm_int.h"

#include <netinet/in.h>
#include <stddef.h>

/* Sends the running vmm the "migrate" request @req (borrowed) within @dl;
 * on success the guest is off here: the vmm is then asked to quit and
 * awaited (killed if it lingers) and the runtime files are removed.
 * HAVM_E_STATE when the VM does not run here; the vmm's error otherwise,
 * the guest then running on. *@out gets the vmm's report. */
int havm_vm_migrate_req(struct havm_vm *vm, json_object *req, const struct havm_deadline *dl,
			struct havm_migrate_report *out, struct havm_err *e) HAVM_MUST_CHECK;
/* Adds max_passes / converge_pages of @opts (may be NULL) to @req. */
void havm_migrate_add_opts(json_object *req, const struct havm_migrate_opts *opts);

/* migrate_offer.c: the offer file of a pull-style live migration
 * (migrate_stream.c), one line:
 *   havm-migrate 1 PORT TOKEN ADDR [ADDR...]
 * PORT 1..65535, TOKEN 32 lowercase hex digits, 1..8 IPv4 addresses. */
#define HAVM_MIGRATE_OFFER_MAGIC "havm-migrate 1"
#define HAVM_MIGRATE_TOKEN_BYTES 16
#define HAVM_MIGRATE_MAX_ADDRS 8
#define HAVM_MIGRATE_LINE_MAX 1024
struct havm_migrate_offer {
	unsigned port;
	char token[2 * HAVM_MIGRATE_TOKEN_BYTES + 1];
	char addrs[HAVM_MIGRATE_MAX_ADDRS][INET_ADDRSTRLEN];
	unsigned n_addrs;
};
/* Parses @len bytes at @buf (one line, the newline optional, nothing after
 * it): 0, or HAVM_E_FORMAT (-EINVAL) naming the field that is wrong. */
int havm_migrate_offer_parse(const char *buf, size_t len, struct havm_migrate_offer *o,
			     struct havm_err *e) HAVM_MUST_CHECK;
/* The line with its newline into @buf: its length, or -ENOSPC. */
int havm_migrate_offer_format(const struct havm_migrate_offer *o, char *buf, size_t len);

#endif
