/* havm — private: the two text formats runtime.c reads, as pure functions
 * so they can be fuzzed (tests/fuzz/runtime_parse_fuzz.c). */
#ifndef HAVM_HAVM_RUNTIME_INT_H
#define HAVM_HAVM_RUNTIME_INT_H

#include "havm/runtime.h"

#include <stddef.h>

/* A pidfile's @len bytes: exactly "<pid> <starttime>\n" with 1 <= pid <=
 * INT_MAX. 0 and @id filled, or -EINVAL. */
int havm_pidfile_parse(const char *text, size_t len, struct havm_proc_id *id) HAVM_MUST_CHECK;

/* A NUL-terminated /proc/<pid>/stat line: fills id->starttime (field 22);
 * -ESRCH for a zombie or dead process, -EPROTO for anything unparsable.
 * id->pid is left alone. */
int havm_proc_stat_parse(const char *buf, struct havm_proc_id *id) HAVM_MUST_CHECK;

#endif
