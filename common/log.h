/* havm — logging through libqb's qb_log with one tag per subsystem.
 *
 * Each .c file defines LOG_TAG before including this header, e.g.
 *   #define LOG_TAG HAVM_TAG_VHD
 * and logs with hlog(LOG_NOTICE, "vm %s: online", name). The tag prints as
 * the subsystem name. Levels (docs/conventions.md): ERR = an operation
 * failed and the admin must act; WARNING = degraded or retrying; NOTICE =
 * lifecycle; INFO = steps; DEBUG = detail; TRACE = per I/O, off by default. */
#ifndef HAVM_COMMON_LOG_H
#define HAVM_COMMON_LOG_H

#include <qb/qblog.h>
#include <stdbool.h>
#include <syslog.h>

enum havm_log_tag {
	HAVM_TAG_NONE = 0,
	HAVM_TAG_MAIN,
	HAVM_TAG_CPU,
	HAVM_TAG_DEV,
	HAVM_TAG_BLK,
	HAVM_TAG_VHD,
	HAVM_TAG_VSV,
	HAVM_TAG_VMC,
	HAVM_TAG_CTL,
	HAVM_TAG_ISCSI,
	HAVM_TAG_PR,
	HAVM_TAG_STORE,
	HAVM_TAG_QUORUM,
	HAVM_TAG_HAVM,
	HAVM_TAG_AGENT,
	HAVM_TAG_FENCE,
	HAVM_TAG_COUNT
};

#ifndef LOG_TAG
#define LOG_TAG HAVM_TAG_NONE
#endif

#define hlog(prio, fmt, ...) qb_logt(prio, LOG_TAG, fmt, ##__VA_ARGS__)
/* Appends ": strerror(errno)" like qb_perror. */
#define hlog_errno(prio, fmt, ...) qb_perror(prio, fmt, ##__VA_ARGS__)

enum havm_log_target {
	HAVM_LOG_STDERR = 1 << 0,   /* human-readable lines on stderr */
	HAVM_LOG_SYSLOG = 1 << 1,   /* syslog, facility daemon */
	HAVM_LOG_BLACKBOX = 1 << 2, /* in-memory ring, dumped on fatal events */
};

/* Sets up qb_log for a program: @ident names it in syslog, @targets is a mask
 * of havm_log_target, @level the most verbose priority shown (LOG_INFO by
 * default; the HAVM_DEBUG environment variable = 1 raises it to LOG_DEBUG). */
void havm_log_init(const char *ident, unsigned targets, int level);

/* Changes the level of the stderr and syslog targets. */
void havm_log_set_level(int level);

/* Writes the blackbox to @path (no-op when the blackbox is off). */
void havm_log_blackbox_dump(const char *path);

/* Flushes and closes every target. */
void havm_log_fini(void);

/* Name of a tag ("VHD"); "-" for HAVM_TAG_NONE or unknown values. */
const char *havm_log_tag_name(unsigned tag);

#endif
