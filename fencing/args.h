/* fence_havm — parameters: one table drives the stdin parser, the command
 * line parser and the metadata, as fencing.py's all_opt does for the Python
 * agents. Input follows doc/FenceAgentAPI.md of fence-agents: key=value lines
 * on stdin when there are no arguments, getopt options otherwise. */
#ifndef HAVM_FENCING_ARGS_H
#define HAVM_FENCING_ARGS_H

#include <stdbool.h>
#include <stdio.h>

/* fencing.py exit codes (EC_*). Like fencing.py's fail_usage(), every
 * failure exits EC_GENERIC_ERROR: status uses 2 for "off", so a bad-argument
 * 2 would read as "fenced". */
enum fence_exit {
	EC_OK = 0,
	EC_GENERIC_ERROR = 1,
	EC_BAD_ARGS = 2,
	EC_LOGIN_DENIED = 3,
	EC_CONNECTION_LOST = 4,
	EC_TIMED_OUT = 5,
	EC_STATUS_OFF = 2, /* status/monitor: the plug is off */
};

enum fence_param_type { FP_STRING, FP_BOOLEAN, FP_SECOND, FP_INTEGER };

enum fence_param_id {
	FP_ACTION, FP_DEVICES, FP_PLUG, FP_PORT, FP_NODENAME, FP_KEY, FP_KEY_VALUE,
	FP_CLUSTER_NAME, FP_NODES, FP_LOCAL_NODE, FP_INITIATOR, FP_LOGIN, FP_PASSWD,
	FP_VERBOSE, FP_QUIET, FP_DELAY, FP_LOGIN_TIMEOUT, FP_POWER_TIMEOUT, FP_POWER_WAIT,
	FP_RETRY_ON, FP_HELP, FP_VERSION,
	FP_COUNT
};

struct fence_param {
	const char *name;       /* stdin key / metadata name */
	char shortopt;          /* 0 = none */
	const char *longopt;    /* --long form */
	enum fence_param_type type;
	const char *def;        /* default shown in metadata (NULL = none) */
	bool required;          /* metadata "required" */
	const char *obsoletes;  /* metadata: this name replaces another */
	bool deprecated;
	const char *help_arg;   /* "[devices]" in the getopt description */
	const char *shortdesc;
};

extern const struct fence_param fence_params[FP_COUNT];

struct fence_args {
	const char *val[FP_COUNT]; /* NULL = not given; owned by the args */
	int verbose;               /* count of -v or 1 from stdin */
	char *owned[FP_COUNT];
};

/* Parses stdin (when argc == 1) or the command line into @a. Unknown stdin
 * keys are warned about and ignored (as fencing.py does); an unknown or
 * malformed option is an error: returns -1 after printing "Failed: ..." to
 * @err. 0 on success. */
int fence_args_parse(struct fence_args *a, int argc, char **argv, FILE *in, FILE *err);

/* Checks types (integer/second values) and the action name; fills @msg. */
int fence_args_check(const struct fence_args *a, char *msg, size_t len);

/* Value or the table default (may be NULL). */
const char *fence_arg(const struct fence_args *a, enum fence_param_id id);
bool fence_arg_bool(const struct fence_args *a, enum fence_param_id id);
long fence_arg_long(const struct fence_args *a, enum fence_param_id id);

void fence_args_free(struct fence_args *a);

/* The actions this agent knows ("reboot" is not one: fabric fencing). */
bool fence_action_known(const char *action);

void fence_usage(FILE *out);

#endif
