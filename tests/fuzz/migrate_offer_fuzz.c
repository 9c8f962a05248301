/* libFuzzer target for the live-migration offer file (havm/migrate_offer.c),
 * read by the target node from the shared store. Any input is accepted or
 * refused; an accepted offer formats to a line that parses to the same
 * offer. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "havm/migrate_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct havm_migrate_offer o, again;
	struct havm_err e;
	if (havm_migrate_offer_parse((const char *)data, size, &o, &e) != 0)
		return 0;
	if (o.port < 1 || o.port > 65535 || o.n_addrs < 1 || o.n_addrs > HAVM_MIGRATE_MAX_ADDRS ||
	    strlen(o.token) != 2 * HAVM_MIGRATE_TOKEN_BYTES)
		__builtin_trap();
	char line[HAVM_MIGRATE_LINE_MAX];
	int n = havm_migrate_offer_format(&o, line, sizeof(line));
	if (n < 0 || havm_migrate_offer_parse(line, (size_t)n, &again, &e) != 0 || again.port != o.port ||
	    strcmp(again.token, o.token) != 0 || again.n_addrs != o.n_addrs)
		__builtin_trap();
	for (unsigned i = 0; i < o.n_addrs; i++)
		if (strcmp(again.addrs[i], o.addrs[i]) != 0)
			__builtin_trap();
	return 0;
}
