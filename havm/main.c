/* havm — the command-line front end: one table of subcommands, each in its
 * own file (cli_<name>.c). Exit codes follow common/err.h. */
#define LOG_TAG HAVM_TAG_HAVM
#include "common/err.h"
#include "common/log.h"
#include "havm/cli.h"

#include <stdio.h>
#include <string.h>

static int cmd_version(int argc, char **argv)
{
	(void)argc, (void)argv;
	printf("havm %s\n", HAVM_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv);

static const struct havm_cli_cmd commands[] = {
	{ "vhd", havm_cli_vhd, "create, inspect, check and convert VHD disks" },
	{ "vsv", havm_cli_vsv, "inspect and verify saved-state (.vsv) files" },
	{ "store", havm_cli_store, "the VM store: format, ls, import, export, rm, df" },
	{ "open", havm_cli_lifecycle, "load and check a VM's configuration (MSCS Open)" },
	{ "online", havm_cli_lifecycle, "start a VM on this node (quorum-gated)" },
	{ "looksalive", havm_cli_lifecycle, "quick check: does the VM's vmm run here?" },
	{ "isalive", havm_cli_lifecycle, "thorough check: does the VM's vmm answer?" },
	{ "offline", havm_cli_lifecycle, "stop a VM by its stop policy (save, shutdown, poweroff)" },
	{ "terminate", havm_cli_lifecycle, "kill a VM's vmm at once" },
	{ "migrate-out", havm_cli_lifecycle, "live-copy a running VM into its .vsv and stop it here" },
	{ "status", havm_cli_status, "a VM's state on this node: vmm, guest, saved state" },
	{ "list", havm_cli_status, "the VMs of a store and those that ran here" },
	{ "close", havm_cli_lifecycle, "release a VM handle (never stops the VM)" },
	{ "cluster", havm_cli_cluster, "this node's cluster view: quorum, node id, name" },
	{ "version", cmd_version, "print the version" },
	{ "help", cmd_help, "list the commands" },
};

static int cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	printf("usage: havm COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].help);
	printf("\n'havm COMMAND --help' shows a command's options.\n");
	return 0;
}

int main(int argc, char **argv)
{
	havm_log_init("havm", HAVM_LOG_STDERR, LOG_WARNING);
	if (argc < 2) {
		cmd_help(0, NULL);
		return havm_err_exit_code(HAVM_E_CONFIG);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(0, NULL);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(0, NULL);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			int rc = commands[i].fn(argc - 1, argv + 1);
			havm_log_fini();
			return rc;
		}
	fprintf(stderr, "havm: unknown command '%s' (try 'havm help')\n", argv[1]);
	return havm_err_exit_code(HAVM_E_CONFIG);
}
