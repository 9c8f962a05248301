/* havm — the error type shared by all modules; see err.h. */
#include "common/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[HAVM_E_KIND_COUNT] = {
	[HAVM_OK] = "ok",
	[HAVM_E_CONFIG] = "config",
	[HAVM_E_FORMAT] = "format",
	[HAVM_E_IO] = "io",
	[HAVM_E_FENCED] = "fenced",
	[HAVM_E_NOQUORUM] = "noquorum",
	[HAVM_E_BUSY] = "busy",
	[HAVM_E_NOTFOUND] = "notfound",
	[HAVM_E_STATE] = "state",
	[HAVM_E_TIMEOUT] = "timeout",
	[HAVM_E_UNSUPPORTED] = "unsupported",
	[HAVM_E_INTERNAL] = "internal",
};

/* Exit codes of the CLI. 1 stays "generic" as tools expect; the rest are
 * distinct so scripts can tell them apart without parsing text. */
static const int kind_exit[HAVM_E_KIND_COUNT] = {
	[HAVM_OK] = 0,
	[HAVM_E_CONFIG] = 2,
	[HAVM_E_FORMAT] = 3,
	[HAVM_E_IO] = 4,
	[HAVM_E_FENCED] = 5,
	[HAVM_E_NOQUORUM] = 6,
	[HAVM_E_BUSY] = 7,
	[HAVM_E_NOTFOUND] = 8,
	[HAVM_E_STATE] = 9,
	[HAVM_E_TIMEOUT] = 10,
	[HAVM_E_UNSUPPORTED] = 11,
	[HAVM_E_INTERNAL] = 1,
};

void havm_err_clear(struct havm_err *e)
{
	if (!e)
		return;
	e->kind = HAVM_OK;
	e->code = 0;
	e->msg[0] = '\0';
}

int havm_err_set(struct havm_err *e, enum havm_err_kind kind, int code,
		 const char *fmt, ...)
{
	if (code >= 0)
		code = -EIO;
	if (!e)
		return code;
	e->kind = kind;
	e->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

void havm_err_prefix(struct havm_err *e, const char *fmt, ...)
{
	if (!e || e->kind == HAVM_OK)
		return;
	char prefix[HAVM_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	char joined[HAVM_ERR_MSG_MAX];
	snprintf(joined, sizeof(joined), "%s: %s", prefix, e->msg);
	memcpy(e->msg, joined, sizeof(e->msg));
}

const char *havm_err_kind_name(enum havm_err_kind kind)
{
	if ((unsigned)kind >= HAVM_E_KIND_COUNT)
		return "unknown";
	return kind_names[kind];
}

enum havm_err_kind havm_err_kind_from_name(const char *name)
{
	for (int k = 0; k < HAVM_E_KIND_COUNT; k++)
		if (name && strcmp(name, kind_names[k]) == 0)
			return (enum havm_err_kind)k;
	return HAVM_E_INTERNAL;
}

int havm_err_exit_code(enum havm_err_kind kind)
{
	if ((unsigned)kind >= HAVM_E_KIND_COUNT)
		return 1;
	return kind_exit[kind];
}
