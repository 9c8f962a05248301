/* libFuzzer target for the runtime directory's text formats (havm/runtime.c):
 * the pidfile "<pid> <starttime>\n" and a /proc/<pid>/stat line. Any input is
 * accepted or refused; accepted pidfiles satisfy their contract and print
 * back to the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include "havm/runtime_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct havm_proc_id id = { 0 };
	if (havm_pidfile_parse((const char *)data, size, &id) == 0) {
		if (id.pid < 1)
			__builtin_trap();
		/* Canonical form only: no leading zeros would break this, so
		 * compare numerically instead of byte for byte. */
		char back[64];
		int n = snprintf(back, sizeof(back), "%d %" PRIu64 "\n", (int)id.pid, id.starttime);
		struct havm_proc_id again;
		if (havm_pidfile_parse(back, (size_t)n, &again) != 0 || again.pid != id.pid ||
		    again.starttime != id.starttime)
			__builtin_trap();
	}
	char *line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	struct havm_proc_id st = { .pid = 7 };
	int rc = havm_proc_stat_parse(line, &st);
	if (rc != 0 && rc != -3 /* -ESRCH */ && rc != -71 /* -EPROTO */)
		__builtin_trap();
	if (st.pid != 7)
		__builtin_trap();
	free(line);
	return 0;
}
