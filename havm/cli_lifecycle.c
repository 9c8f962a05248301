/* havm — the lifecycle commands: havm open|online|looksalive|isalive|
 * offline|terminate|close|migrate-out CONFIG [options]; see lifecycle.h for
 * what each does. Output is one line of text, or one JSON object with
 * --json. */
#define LOG_TAG HAVM_TAG_HAVM
#include "havm/cli.h"
#include "havm/lifecycle.h"

#include "common/log.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lc_opts {
	struct havm_vm_params p;
	uint64_t timeout_ms; /* 0 = the call's own default */
	bool json;
	bool restore_only;   /* online: resume from the saved state or fail */
};

static void usage(FILE *out, const char *cmd)
{
	fprintf(out,
		"usage: havm %s CONFIG [--store dir:/PATH|iscsi://HOST/IQN/LUN|file:/IMAGE] [--rundir DIR] [--stop-policy save|shutdown|poweroff]\n"
		"                  [--timeout SECONDS] [--require-cluster] [--restore-only] [--pr-key HEX|cmap] [--json]\n"
		"CONFIG is the VM's .vmc path, or its name in --store.\n"
		"online resumes the VM from <vm>.vsv beside its .vmc when there is one;\n"
		"--restore-only refuses to boot it afresh. migrate-out copies the running VM\n"
		"live into <vm>.vsv and stops it here (another node then runs online).\n"
		"looksalive/isalive exit 0 when the VM runs on this node and %d when it does not.\n",
		cmd, havm_err_exit_code(HAVM_E_STATE));
}

/* Parses options; returns 0, 1 for --help (printed), or an exit code. */
static int parse(int argc, char **argv, struct lc_opts *o)
{
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "rundir", required_argument, NULL, 'r' },
		{ "stop-policy", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "require-cluster", no_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "restore-only", no_argument, NULL, 'R' },
		{ "pr-key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof(*o));
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 's': o->p.store = optarg; break;
		case 'r': o->p.rundir = optarg; break;
		case 'c': o->p.require_cluster = true; break;
		case 'j': o->json = true; break;
		case 'R': o->restore_only = true; break;
		case 'k': o->p.pr_key = optarg; break;
		case 'p':
			if (havm_stop_policy_parse(optarg, &o->p.stop_policy) < 0) {
				fprintf(stderr, "havm %s: --stop-policy '%s': expected save, shutdown or poweroff\n",
					argv[0], optarg);
				return havm_err_exit_code(HAVM_E_CONFIG);
			}
			break;
		case 't':
			errno = 0;
			unsigned long s = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || s == 0 || s > 86400) {
				fprintf(stderr, "havm %s: --timeout '%s': expected 1..86400 seconds\n",
					argv[0], optarg);
				return havm_err_exit_code(HAVM_E_CONFIG);
			}
			o->timeout_ms = (uint64_t)s * 1000u;
			break;
		case 'h': usage(stdout, argv[0]); return 1;
		default: usage(stderr, argv[0]); return havm_err_exit_code(HAVM_E_CONFIG);
		}
	}
	if (optind != argc - 1) {
		usage(stderr, argv[0]);
		return havm_err_exit_code(HAVM_E_CONFIG);
	}
	o->p.config = argv[optind];
	return 0;
}

/* Prints the outcome and returns the exit code. @st is NULL for commands
 * without a status. */
static int report(const struct lc_opts *o, const char *cmd, const struct havm_vm *vm,
		  const struct havm_err *e, const enum havm_vm_status *st, const char *detail)
{
	int code = havm_err_exit_code(e->kind);
	bool running = st && *st != HAVM_VM_STOPPED;
	if (e->kind == HAVM_OK && st && !running)
		code = havm_err_exit_code(HAVM_E_STATE);
	if (o->json) {
		json_object *j = json_object_new_object();
		json_object_object_add(j, "command", json_object_new_string(cmd));
		if (vm)
			json_object_object_add(j, "vm", json_object_new_string(havm_vm_name(vm)));
		json_object_object_add(j, "ok", json_object_new_boolean(e->kind == HAVM_OK));
		if (st)
			json_object_object_add(j, "status", json_object_new_string(havm_vm_status_name(*st)));
		if (detail && e->kind == HAVM_OK)
			json_object_object_add(j, "detail", json_object_new_string(detail));
		if (e->kind != HAVM_OK) {
			json_object_object_add(j, "error", json_object_new_string(havm_err_kind_name(e->kind)));
			json_object_object_add(j, "message", json_object_new_string(e->msg));
		}
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	} else if (e->kind != HAVM_OK) {
		fprintf(stderr, "havm %s: %s\n", cmd, e->msg);
	} else if (st) {
		printf("vm %s: %s\n", havm_vm_name(vm), havm_vm_status_name(*st));
	} else {
		printf("vm %s: %s ok%s%s%s\n", havm_vm_name(vm), cmd, detail ? " (" : "",
		       detail ? detail : "", detail ? ")" : "");
	}
	return code;
}

int havm_cli_lifecycle(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct lc_opts o;
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	struct havm_err e;
	havm_err_clear(&e);
	struct havm_vm *vm = NULL;
	if (havm_vm_new(&vm, &o.p, &e) < 0)
		return report(&o, cmd, NULL, &e, NULL, NULL);
	struct havm_deadline dl = { 0 }; /* each call has its own default */
	if (o.timeout_ms)
		dl = havm_deadline_in(o.timeout_ms);
	enum havm_vm_status st = HAVM_VM_STOPPED;
	const enum havm_vm_status *stp = NULL;
	int r = 0; /* the outcome is in e, reported below */
	char detail[160];
	const char *det = NULL;
	if (strcmp(cmd, "open") == 0) {
		r = havm_open(vm, &e);
	} else if (strcmp(cmd, "online") == 0) {
		enum havm_online_how how;
		r = havm_online_ex(vm, o.restore_only ? HAVM_ONLINE_RESTORE_ONLY : 0, &dl, &how, &e);
		/* Booted afresh stays the plain "online ok" line. */
		if (r == 0 && how == HAVM_ONLINE_RESTORED)
			det = havm_online_how_name(how);
	} else if (strcmp(cmd, "looksalive") == 0) {
		r = havm_looksalive(vm, &st, &e);
		stp = &st;
	} else if (strcmp(cmd, "isalive") == 0) {
		r = havm_isalive(vm, &st, &e);
		stp = &st;
	} else if (strcmp(cmd, "offline") == 0) {
		r = havm_offline(vm, &dl, &e);
	} else if (strcmp(cmd, "terminate") == 0) {
		r = havm_terminate(vm, &dl, &e);
	} else if (strcmp(cmd, "migrate-out") == 0) {
		struct havm_migrate_report mr;
		r = havm_migrate_out(vm, NULL, &dl, &mr, &e);
		if (r == 0) {
			snprintf(detail, sizeof(detail), "%u passes, downtime %.1f ms", mr.passes,
				 mr.downtime_ms);
			det = detail;
		}
	} else if (strcmp(cmd, "close") != 0) { /* close: only the handle */
		havm_err_set(&e, HAVM_E_INTERNAL, -EINVAL, "no lifecycle command '%s'", cmd);
	}
	(void)r;
	rc = report(&o, cmd, vm, &e, stp, det);
	havm_close(vm);
	return rc;
}
