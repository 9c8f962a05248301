/* havm vhd — create, inspect and check VHD images (docs/vhd.md). The
 * subcommands share this dispatcher; info and check live in cli_vhd_info.c. */
#include "havm/cli.h"
#include "havm/cli_vhd_int.h"
#include "havm/progress.h"

#include "common/err.h"
#include "common/size.h"
#include "vmcore/disk/vhd.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int vhd_cli_fail(const struct havm_err *e)
{
	fprintf(stderr, "havm vhd: %s\n", e->msg);
	return havm_err_exit_code(e->kind);
}

int vhd_cli_usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "havm vhd: %s\n", msg);
	fprintf(msg ? stderr : stdout,
		"usage: havm vhd create [--type fixed|dynamic|differencing] [--size SIZE] [--parent FILE]\n"
		"                       [--block-size SIZE] [--exact-size] [--sparse] FILE\n"
		"       havm vhd info [--json] FILE\n"
		"       havm vhd check [--repair] [--json] FILE\n"
		"       havm vhd convert [--type raw|fixed|dynamic] [--block-size SIZE] [--exact-size] SRC DST\n"
		"       havm vhd compact FILE\n"
		"       havm vhd merge [--force] [--keep] CHILD\n"
		"       havm vhd resize --size SIZE [--exact-size] FILE\n"
		"       havm vhd undo create|commit|discard BASE\n"
		"       havm vhd mount [--ro] [-f] [-d] FILE MOUNTPOINT\n");
	return msg ? havm_err_exit_code(HAVM_E_CONFIG) : 0;
}

static int parse_type(const char *s, enum vhd_type *t)
{
	if (strcmp(s, "fixed") == 0)
		*t = VHD_TYPE_FIXED;
	else if (strcmp(s, "dynamic") == 0)
		*t = VHD_TYPE_DYNAMIC;
	else if (strcmp(s, "differencing") == 0 || strcmp(s, "diff") == 0)
		*t = VHD_TYPE_DIFF;
	else
		return -1;
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },   { "size", required_argument, NULL, 's' },
		{ "parent", required_argument, NULL, 'p' }, { "block-size", required_argument, NULL, 'b' },
		{ "exact-size", no_argument, NULL, 'e' },   { "sparse", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	struct vhd_create_opts o = { .type = VHD_TYPE_DYNAMIC };
	int have_type = 0, c;
	uint64_t v;
	struct havm_progress bar;
	while ((c = getopt_long(argc, argv, "t:s:p:b:eSh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_type(optarg, &o.type) < 0)
				return vhd_cli_usage("--type: expected fixed, dynamic or differencing");
			have_type = 1;
			break;
		case 's':
			if (havm_size_parse(optarg, &v) < 0)
				return vhd_cli_usage("--size: expected a size such as 512M or 20G");
			o.size = v;
			break;
		case 'p':
			o.parent = optarg;
			break;
		case 'b':
			if (havm_size_parse(optarg, &v) < 0 || v > UINT32_MAX)
				return vhd_cli_usage("--block-size: expected a size such as 2M");
			o.block_size = (uint32_t)v;
			break;
		case 'e':
			o.size_policy = VHD_SIZE_EXACT;
			break;
		case 'S':
			o.sparse = 1;
			break;
		case 'h':
			return vhd_cli_usage(NULL);
		default:
			return vhd_cli_usage("create: unknown option");
		}
	}
	if (optind != argc - 1)
		return vhd_cli_usage("create: expected one FILE");
	if (o.parent && !have_type)
		o.type = VHD_TYPE_DIFF;
	if (o.type == VHD_TYPE_DIFF && (!o.parent || o.size))
		return vhd_cli_usage("create: a differencing disk takes --parent and no --size");
	if (o.type != VHD_TYPE_DIFF && (o.parent || !o.size))
		return vhd_cli_usage("create: fixed and dynamic disks take --size and no --parent");
	havm_progress_init(&bar, "writing zeros");
	if (o.type == VHD_TYPE_FIXED && !o.sparse && bar.enabled) {
		o.progress = havm_progress_cb;
		o.progress_arg = &bar;
	}
	struct havm_err e;
	havm_err_clear(&e);
	uint64_t final = 0;
	if (vhd_create(argv[optind], &o, &final, &e) < 0)
		return vhd_cli_fail(&e);
	if (o.size && final != o.size)
		printf("%s: size %" PRIu64 " rounded up to %" PRIu64 " (CHS-exact, so every reader agrees;"
		       " --exact-size keeps it)\n", argv[optind], o.size, final);
	return 0;
}

static const struct havm_cli_cmd vhd_tool_cmds[] = {
	{ "convert", vhd_cli_convert, NULL }, { "compact", vhd_cli_compact, NULL },
	{ "merge", vhd_cli_merge, NULL },     { "resize", vhd_cli_resize, NULL },
	{ "undo", vhd_cli_undo, NULL },       { "mount", vhd_cli_mount, NULL },
};

int havm_cli_vhd(int argc, char **argv)
{
	if (argc < 2)
		return vhd_cli_usage("expected a subcommand");
	optind = 1;
	if (strcmp(argv[1], "create") == 0)
		return cmd_create(argc - 1, argv + 1);
	if (strcmp(argv[1], "info") == 0)
		return vhd_cli_info(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return vhd_cli_check(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(vhd_tool_cmds) / sizeof(vhd_tool_cmds[0]); i++)
		if (strcmp(argv[1], vhd_tool_cmds[i].name) == 0)
			return vhd_tool_cmds[i].fn(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)
		return vhd_cli_usage(NULL);
	return vhd_cli_usage("unknown subcommand");
}
