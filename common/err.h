/* havm — one error-reporting convention for every module (docs/conventions.md).
 *
 * Internally a fallible call returns int: 0 on success, a count >= 0 where it
 * says so, or a negative errno. Calls that face users also fill a
 * caller-provided struct havm_err with a kind (what the caller should do about
 * it) and a one-line message written by the layer that knows the detail
 * (file, offset, field, expected vs found). Outer layers only add a prefix. */
#ifndef HAVM_COMMON_ERR_H
#define HAVM_COMMON_ERR_H

#include <stddef.h>

#define HAVM_MUST_CHECK __attribute__((warn_unused_result))
#define HAVM_PRINTF(f, a) __attribute__((format(printf, f, a)))

enum havm_err_kind {
	HAVM_OK = 0,
	HAVM_E_CONFIG,   /* the configuration or arguments are wrong */
	HAVM_E_FORMAT,   /* a file or message is malformed */
	HAVM_E_IO,       /* an I/O or transport error */
	HAVM_E_FENCED,   /* this node lost its storage registration */
	HAVM_E_NOQUORUM, /* the cluster partition has no quorum */
	HAVM_E_BUSY,     /* someone else holds it (lock, running VM) */
	HAVM_E_NOTFOUND, /* the named object does not exist */
	HAVM_E_STATE,    /* not allowed in the current state */
	HAVM_E_TIMEOUT,  /* the operation did not finish in time */
	HAVM_E_UNSUPPORTED, /* valid, but not implemented by this build/target */
	HAVM_E_INTERNAL, /* a bug: an invariant of ours failed */
	HAVM_E_KIND_COUNT
};

#define HAVM_ERR_MSG_MAX 512

struct havm_err {
	enum havm_err_kind kind;
	int code;                    /* negative errno, 0 when kind is HAVM_OK */
	char msg[HAVM_ERR_MSG_MAX];  /* one line, no trailing newline */
};

/* Resets @e to "no error". @e may be NULL. */
void havm_err_clear(struct havm_err *e);

/* Records an error in @e (may be NULL) and returns @code so callers can write
 * `return havm_err_set(e, HAVM_E_FORMAT, -EINVAL, "...")`. @code must be a
 * negative errno; a non-negative value is replaced by -EIO. */
int havm_err_set(struct havm_err *e, enum havm_err_kind kind, int code,
		 const char *fmt, ...) HAVM_PRINTF(4, 5);

/* Prepends "prefix: " to the message of @e (no-op when @e is NULL or clear). */
void havm_err_prefix(struct havm_err *e, const char *fmt, ...) HAVM_PRINTF(2, 3);

/* Stable lower-case name of a kind ("config", "format", ...), used in JSON
 * replies and logs; "unknown" for out-of-range values. */
const char *havm_err_kind_name(enum havm_err_kind kind);

/* Parses a name from havm_err_kind_name(); returns HAVM_E_INTERNAL if unknown. */
enum havm_err_kind havm_err_kind_from_name(const char *name);

/* Process exit code for the CLI (0 for HAVM_OK; see docs/conventions.md). */
int havm_err_exit_code(enum havm_err_kind kind);

#endif
