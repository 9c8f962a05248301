/* havm — `havm status CONFIG` and `havm list`: what runs on this node, as
 * `virsh dominfo` / `virsh list --all` do. Read-only; exit 0 whenever the
 * question could be answered, whatever the answer (looksalive/isalive are
 * the commands whose exit code is the state). */
#define LOG_TAG HAVM_TAG_HAVM
#include "havm/cli.h"
#include "havm/lifecycle.h"

#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct st_opts {
	const char *store, *rundir, *config;
	bool json;
};

static void usage(FILE *out, const char *cmd)
{
	if (strcmp(cmd, "list") == 0)
		fprintf(out, "usage: havm list [--store URL] [--rundir DIR] [--json]\n"
			     "Lists the VMs of --store (their .vmc objects) and the VMs that ran on\n"
			     "this node since boot (runtime directories), with their state here.\n");
	else
		fprintf(out, "usage: havm status CONFIG [--store URL] [--rundir DIR] [--json]\n"
			     "Shows the VM's state on this node: its vmm, the guest's run state and\n"
			     "counters, and whether a saved state waits in the store.\n");
}

/* 0, 1 for --help (printed), or an exit code. */
static int parse(int argc, char **argv, bool want_config, struct st_opts *o)
{
	static const struct option longopts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "rundir", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof(*o));
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->store = optarg; break;
		case 'r': o->rundir = optarg; break;
		case 'j': o->json = true; break;
		case 'h': usage(stdout, argv[0]); return 1;
		default: usage(stderr, argv[0]); return havm_err_exit_code(HAVM_E_CONFIG);
		}
	}
	if (optind != argc - (want_config ? 1 : 0)) {
		usage(stderr, argv[0]);
		return havm_err_exit_code(HAVM_E_CONFIG);
	}
	o->config = want_config ? argv[optind] : NULL;
	return 0;
}

static int fail(const struct st_opts *o, const char *cmd, const struct havm_err *e)
{
	if (o->json) {
		json_object *j = json_object_new_object();
		json_object_object_add(j, "command", json_object_new_string(cmd));
		json_object_object_add(j, "ok", json_object_new_boolean(0));
		json_object_object_add(j, "error", json_object_new_string(havm_err_kind_name(e->kind)));
		json_object_object_add(j, "message", json_object_new_string(e->msg));
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	} else {
		fprintf(stderr, "havm %s: %s\n", cmd, e->msg);
	}
	return havm_err_exit_code(e->kind);
}

static const char *saved_name(int saved)
{
	return saved > 0 ? "present" : saved == 0 ? "none" : "unknown";
}

/* One VM's info as a JSON object (the fields of `havm status --json`). */
static json_object *info_json(const char *name, const struct havm_vm_info *in)
{
	json_object *j = json_object_new_object();
	json_object_object_add(j, "vm", json_object_new_string(name));
	json_object_object_add(j, "status", json_object_new_string(havm_vm_status_name(in->status)));
	if (in->pid)
		json_object_object_add(j, "pid", json_object_new_int(in->pid));
	if (in->answered) {
		json_object_object_add(j, "state", json_object_new_string(in->run_state));
		if (in->stop_reason[0])
			json_object_object_add(j, "stop_reason", json_object_new_string(in->stop_reason));
		json_object_object_add(j, "instructions", json_object_new_int64((int64_t)in->instructions));
		json_object_object_add(j, "guest_time_ns", json_object_new_int64((int64_t)in->guest_time_ns));
		json_object_object_add(j, "restored", json_object_new_boolean(in->restored));
	} else if (in->ctl_error[0]) {
		json_object_object_add(j, "control_error", json_object_new_string(in->ctl_error));
	}
	json_object_object_add(j, "saved_state", json_object_new_string(saved_name(in->saved_state)));
	json_object_object_add(j, "saved_state_path", json_object_new_string(in->state_path));
	return j;
}

static int cmd_status(int argc, char **argv)
{
	struct st_opts o;
	int rc = parse(argc, argv, true, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	struct havm_err e;
	havm_err_clear(&e);
	struct havm_vm *vm = NULL;
	struct havm_vm_params p = { .config = o.config, .store = o.store, .rundir = o.rundir };
	struct havm_vm_info in;
	if (havm_vm_new(&vm, &p, &e) < 0 || havm_vm_info(vm, &in, &e) < 0) {
		havm_close(vm);
		return fail(&o, "status", &e);
	}
	if (o.json) {
		json_object *j = info_json(havm_vm_name(vm), &in);
		json_object_object_add(j, "command", json_object_new_string("status"));
		json_object_object_add(j, "ok", json_object_new_boolean(1));
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	} else {
		printf("vm %s: %s\n", havm_vm_name(vm), havm_vm_status_name(in.status));
		if (in.pid)
			printf("  vmm pid:       %d\n", in.pid);
		if (in.answered) {
			printf("  guest:         %s%s%s%s\n", in.run_state, in.stop_reason[0] ? " (" : "",
			       in.stop_reason, in.stop_reason[0] ? ")" : "");
			printf("  instructions:  %" PRIu64 "\n", in.instructions);
			printf("  guest time:    %.3f s\n", (double)in.guest_time_ns / 1e9);
			printf("  started from:  %s\n", in.restored ? "a saved state" : "a cold boot");
		} else if (in.ctl_error[0]) {
			printf("  control:       no answer: %s\n", in.ctl_error);
		}
		printf("  saved state:   %s (%s)\n", saved_name(in.saved_state), in.state_path);
	}
	havm_close(vm);
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	struct st_opts o;
	int rc = parse(argc, argv, false, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	struct havm_err e;
	havm_err_clear(&e);
	struct havm_vm_entry *vms = NULL;
	size_t n = 0;
	if (havm_vm_list(o.store, o.rundir, &vms, &n, &e) < 0)
		return fail(&o, "list", &e);
	json_object *arr = o.json ? json_object_new_array() : NULL;
	if (!o.json)
		printf("%-24s %-10s %-8s %-8s %s\n", "NAME", "STATUS", "PID", "SAVED", "CONFIG");
	for (size_t i = 0; i < n; i++) {
		struct havm_vm_info in = { .status = HAVM_VM_STOPPED, .saved_state = -1 };
		struct havm_err ve;
		havm_err_clear(&ve);
		struct havm_vm *vm = NULL;
		/* A VM whose parameters are unknown is probed by name alone. */
		char fallback[4200];
		snprintf(fallback, sizeof(fallback), "/%s.vmc", vms[i].name);
		struct havm_vm_params p = {
			.config = vms[i].config[0] ? vms[i].config : fallback,
			.store = vms[i].store[0] ? vms[i].store : NULL,
			.rundir = o.rundir,
		};
		bool ok = havm_vm_new(&vm, &p, &ve) == 0 && havm_vm_info(vm, &in, &ve) == 0;
		if (!vms[i].config[0])
			in.saved_state = -1, in.state_path[0] = '\0';
		if (o.json) {
			json_object *j = info_json(vms[i].name, &in);
			json_object_object_add(j, "config", json_object_new_string(vms[i].config));
			if (vms[i].store[0])
				json_object_object_add(j, "store", json_object_new_string(vms[i].store));
			if (!ok)
				json_object_object_add(j, "error", json_object_new_string(ve.msg));
			json_object_array_add(arr, j);
		} else {
			char pid[16] = "-";
			if (in.pid)
				snprintf(pid, sizeof(pid), "%d", in.pid);
			printf("%-24s %-10s %-8s %-8s %s%s%s\n", vms[i].name,
			       ok ? havm_vm_status_name(in.status) : "error", pid, saved_name(in.saved_state),
			       vms[i].config[0] ? vms[i].config : "?", vms[i].store[0] ? " in " : "",
			       vms[i].store);
			if (!ok)
				fprintf(stderr, "havm list: %s\n", ve.msg);
		}
		havm_close(vm);
	}
	free(vms);
	if (o.json) {
		json_object *j = json_object_new_object();
		json_object_object_add(j, "command", json_object_new_string("list"));
		json_object_object_add(j, "ok", json_object_new_boolean(1));
		json_object_object_add(j, "vms", arr);
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	}
	return 0;
}

int havm_cli_status(int argc, char **argv)
{
	return strcmp(argv[0], "list") == 0 ? cmd_list(argc, argv) : cmd_status(argc, argv);
}
