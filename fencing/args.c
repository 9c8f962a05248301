/* fence_havm — the parameter table and the two input forms (stdin key=value,
 * getopt command line), following fencing.py's _parse_input_stdin and
 * _parse_input_cmdline. */
#include "fencing/args.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const struct fence_param fence_params[FP_COUNT] = {
	[FP_ACTION] = { "action", 'o', "action", FP_STRING, "off", true, NULL, false, "[action]",
			"Fencing action" },
	[FP_DEVICES] = { "devices", 'd', "devices", FP_STRING, NULL, false, NULL, false, "[devices]",
			 "Comma-separated list of shared LUNs as iscsi://[user%password@]host[:port]/target-iqn/lun URLs (several portals allowed). Each must support SCSI-3 persistent reservations." },
	[FP_PLUG] = { "plug", 'n', "plug", FP_STRING, NULL, true, "port", false, "[nodename]",
		      "Name of the node to be fenced (or unfenced). The node name is used to generate the key value used for the current operation. This option will be ignored when used with the -k option." },
	[FP_PORT] = { "port", 'n', "plug", FP_STRING, NULL, true, NULL, true, "[nodename]",
		      "Name of the node to be fenced (or unfenced). The node name is used to generate the key value used for the current operation. This option will be ignored when used with the -k option." },
	[FP_NODENAME] = { "nodename", 0, "nodename", FP_STRING, NULL, false, NULL, false, "[nodename]",
			  "Name of the target node, as Pacemaker passes it; plug wins when both are given." },
	[FP_KEY] = { "key", 'k', "key", FP_STRING, NULL, false, NULL, false, "[key]",
		     "Reservation key of the target node (hexadecimal). Default: derived from the cluster name and the node as fence_scsi does." },
	[FP_KEY_VALUE] = { "key_value", 0, "key-value", FP_STRING, "id", false, NULL, false, "<id|hash>",
			   "Method used to generate the key: \"id\" uses the node's position in corosync's nodelist, \"hash\" part of md5(node name) (fence_scsi's key_value)." },
	[FP_CLUSTER_NAME] = { "cluster_name", 0, "cluster-name", FP_STRING, NULL, false, NULL, false, "[name]",
			      "Cluster name for key generation. Default: totem.cluster_name from corosync cmap." },
	[FP_NODES] = { "nodes", 0, "nodes", FP_STRING, NULL, false, NULL, false, "[n1,n2,...]",
		       "Node names in corosync nodelist order, used instead of corosync cmap (for setups or tests without a running corosync)." },
	[FP_LOCAL_NODE] = { "local_node", 0, "local-node", FP_STRING, NULL, false, NULL, false, "[nodename]",
			    "Name of the node this agent runs on. Default: corosync's local node, else the host name." },
	[FP_INITIATOR] = { "initiator", 'i', "initiator", FP_STRING, NULL, false, NULL, false, "[iqn]",
			   "iSCSI initiator name. Default: iqn.2024-01.org.havm:<hostname>." },
	[FP_LOGIN] = { "login", 'l', "username", FP_STRING, NULL, false, NULL, false, "[name]",
		       "CHAP user for devices whose URL names none" },
	[FP_PASSWD] = { "passwd", 'p', "password", FP_STRING, NULL, false, NULL, false, "[password]",
			"CHAP password for devices whose URL names none" },
	[FP_VERBOSE] = { "verbose", 'v', "verbose", FP_BOOLEAN, NULL, false, NULL, false, NULL, "Verbose mode" },
	[FP_QUIET] = { "quiet", 'q', "quiet", FP_BOOLEAN, NULL, false, NULL, false, NULL,
		       "Disable logging to stderr. Does not affect --verbose or logging to syslog." },
	[FP_DELAY] = { "delay", 0, "delay", FP_SECOND, "0", false, NULL, false, "[seconds]",
		       "Wait X seconds before fencing is started" },
	[FP_LOGIN_TIMEOUT] = { "login_timeout", 0, "login-timeout", FP_SECOND, "10", false, NULL, false,
			       "[seconds]", "Timeout of each SCSI command (and the login)" },
	[FP_POWER_TIMEOUT] = { "power_timeout", 0, "power-timeout", FP_SECOND, "20", false, NULL, false,
			       "[seconds]", "Test X seconds for status change after ON/OFF" },
	[FP_POWER_WAIT] = { "power_wait", 0, "power-wait", FP_SECOND, "0", false, NULL, false, "[seconds]",
			    "Wait X seconds after issuing ON/OFF" },
	[FP_RETRY_ON] = { "retry_on", 0, "retry-on", FP_INTEGER, "1", false, NULL, false, "[attempts]",
			  "Count of attempts to retry power on" },
	[FP_HELP] = { "help", 'h', "help", FP_BOOLEAN, NULL, false, NULL, false, NULL, "Display help and exit" },
	[FP_VERSION] = { "version", 'V', "version", FP_BOOLEAN, NULL, false, NULL, false, NULL,
			 "Display version information and exit" },
};

static const char *const actions[] = {
	"on", "off", "status", "monitor", "list", "list-status", "metadata", "validate-all", NULL,
};

bool fence_action_known(const char *action)
{
	for (int i = 0; action && actions[i]; i++)
		if (strcmp(action, actions[i]) == 0)
			return true;
	return false;
}

static void set(struct fence_args *a, enum fence_param_id id, const char *v)
{
	free(a->owned[id]);
	a->owned[id] = strdup(v);
	a->val[id] = a->owned[id];
}

/* "port" is the deprecated spelling of "plug": store both under plug. */
static enum fence_param_id canonical(enum fence_param_id id)
{
	return id == FP_PORT ? FP_PLUG : id;
}

static int find_name(const char *name)
{
	char n[128];
	snprintf(n, sizeof(n), "%s", name);
	for (char *p = n; *p; p++)
		if (*p == '-')
			*p = '_';
	if (strcmp(n, "option") == 0) /* the deprecated name of action */
		return FP_ACTION;
	for (int i = 0; i < FP_COUNT; i++) {
		char l[128];
		snprintf(l, sizeof(l), "%s", fence_params[i].longopt);
		for (char *p = l; *p; p++)
			if (*p == '-')
				*p = '_';
		if (strcmp(n, fence_params[i].name) == 0 || strcmp(n, l) == 0)
			return i;
	}
	return -1;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_stdin(struct fence_args *a, FILE *in, FILE *err)
{
	char line[4096];
	while (fgets(line, sizeof(line), in)) {
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		const char *value = "";
		if (eq) {
			*eq = '\0';
			value = eq + 1;
		}
		size_t vl = strlen(value);
		char vbuf[4096];
		snprintf(vbuf, sizeof(vbuf), "%s", value);
		if (vl >= 2 && vbuf[0] == '"' && vbuf[vl - 1] == '"') { /* fencing.py strips one pair */
			vbuf[vl - 1] = '\0';
			memmove(vbuf, vbuf + 1, vl - 1);
		}
		int id = find_name(s);
		if (id < 0) {
			fprintf(err, "fence_havm: Parse error: Ignoring unknown option '%s=%s'\n", s, value);
			continue;
		}
		if (fence_params[id].type == FP_BOOLEAN) {
			const char *v = vbuf;
			if (!strcasecmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcasecmp(v, "true"))
				set(a, (enum fence_param_id)id, "1");
			else if (!strcasecmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "off") || !strcasecmp(v, "false"))
				set(a, (enum fence_param_id)id, "0");
			else
				fprintf(err, "fence_havm: Parse error: Ignoring option '%s' because it does not have value\n", s);
			continue;
		}
		set(a, canonical((enum fence_param_id)id), vbuf);
	}
	if (fence_arg_bool(a, FP_VERBOSE))
		a->verbose = 1;
	return 0;
}

static int parse_cmdline(struct fence_args *a, int argc, char **argv, FILE *err)
{
	struct option lo[FP_COUNT + 1];
	char shortopts[3 * FP_COUNT + 2] = "+";
	int n = 0;
	for (int i = 0; i < FP_COUNT; i++) {
		if (i == FP_PORT) /* same -n/--plug as plug */
			continue;
		lo[n++] = (struct option){ fence_params[i].longopt,
					   fence_params[i].type == FP_BOOLEAN ? no_argument : required_argument,
					   NULL, 1000 + i };
		if (fence_params[i].shortopt) {
			size_t l = strlen(shortopts);
			shortopts[l] = fence_params[i].shortopt;
			shortopts[l + 1] = fence_params[i].type == FP_BOOLEAN ? '\0' : ':';
			shortopts[l + 2] = '\0';
		}
	}
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		int id = -1;
		if (c >= 1000)
			id = c - 1000;
		else
			for (int i = 0; i < FP_COUNT && id < 0; i++)
				if (fence_params[i].shortopt == c && i != FP_PORT)
					id = i;
		if (id < 0) {
			if (optopt)
				fprintf(err, "fence_havm: Failed: Parse error: option -%c %s\n", optopt,
					strchr(shortopts, optopt) ? "requires an argument" : "not recognized");
			else
				fprintf(err, "fence_havm: Failed: Parse error: option %s not recognized or missing its argument\n",
					argv[optind - 1]);
			fprintf(err, "fence_havm: Please use '-h' for usage\n");
			return -1;
		}
		if (id == FP_VERBOSE)
			a->verbose++;
		set(a, (enum fence_param_id)id, fence_params[id].type == FP_BOOLEAN ? "1" : optarg);
	}
	if (optind < argc)
		fprintf(err, "fence_havm: Unused arguments on command line: %s\n", argv[optind]);
	return 0;
}

int fence_args_parse(struct fence_args *a, int argc, char **argv, FILE *in, FILE *err)
{
	memset(a, 0, sizeof(*a));
	return argc > 1 ? parse_cmdline(a, argc, argv, err) : parse_stdin(a, in, err);
}

const char *fence_arg(const struct fence_args *a, enum fence_param_id id)
{
	return a->val[id] ? a->val[id] : fence_params[id].def;
}

bool fence_arg_bool(const struct fence_args *a, enum fence_param_id id)
{
	const char *v = a->val[id];
	return v && strcmp(v, "1") == 0;
}

long fence_arg_long(const struct fence_args *a, enum fence_param_id id)
{
	const char *v = fence_arg(a, id);
	return v ? strtol(v, NULL, 10) : 0;
}

int fence_args_check(const struct fence_args *a, char *msg, size_t len)
{
	const char *act = fence_arg(a, FP_ACTION);
	if (!fence_action_known(act)) {
		snprintf(msg, len, "Failed: Unrecognised action '%s'%s", act,
			 strcmp(act, "reboot") == 0 ? " (fabric fencing: use off, a fenced node must be rebooted by other means)" : "");
		return -1;
	}
	for (int i = 0; i < FP_COUNT; i++) {
		const char *v = a->val[i];
		if (!v || (fence_params[i].type != FP_SECOND && fence_params[i].type != FP_INTEGER))
			continue;
		char *end;
		long x = strtol(v, &end, 10);
		if (!*v || *end || x < 0 || x > 86400) {
			snprintf(msg, len, "Failed: The value you have entered for --%s is not a valid %s ('%s')",
				 fence_params[i].longopt,
				 fence_params[i].type == FP_SECOND ? "time in seconds" : "integer", v);
			return -1;
		}
	}
	const char *kv = fence_arg(a, FP_KEY_VALUE);
	if (strcmp(kv, "id") != 0 && strcmp(kv, "hash") != 0) {
		snprintf(msg, len, "Failed: key-value has to be 'id' or 'hash' (got '%s')", kv);
		return -1;
	}
	return 0;
}

void fence_args_free(struct fence_args *a)
{
	for (int i = 0; i < FP_COUNT; i++)
		free(a->owned[i]);
	memset(a, 0, sizeof(*a));
}

void fence_usage(FILE *out)
{
	fprintf(out, "Usage:\n\tfence_havm [options]\nOptions:\n");
	for (int i = 0; i < FP_COUNT; i++) {
		const struct fence_param *p = &fence_params[i];
		if (p->deprecated)
			continue;
		char opt[96];
		if (p->shortopt)
			snprintf(opt, sizeof(opt), "-%c, --%s%s%s", p->shortopt, p->longopt, p->help_arg ? "=" : "",
				 p->help_arg ? p->help_arg : "");
		else
			snprintf(opt, sizeof(opt), "--%s%s%s", p->longopt, p->help_arg ? "=" : "", p->help_arg ? p->help_arg : "");
		fprintf(out, "   %-36s %s\n", opt, p->shortdesc);
	}
	fprintf(out, "\nWith no options, key=value lines are read from stdin (fence-agents API).\n");
}
