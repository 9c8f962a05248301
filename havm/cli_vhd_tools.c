/* havm vhd convert|compact|merge|resize|undo — the image tools over
 * vmcore/disk/vhd.h (docs/vhd.md "Tools"). */
#include "havm/cli.h"
#include "havm/cli_vhd_int.h"
#include "havm/progress.h"

#include "common/err.h"
#include "common/size.h"
#include "common/sys.h"
#include "vmcore/disk/vhd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void with_progress(struct vhd_tool_opts *o, struct havm_progress *bar, const char *label)
{
	havm_progress_init(bar, label);
	if (bar->enabled) {
		o->progress = havm_progress_cb;
		o->progress_arg = bar;
	}
}

static int run_fail(struct havm_err *e)
{
	return vhd_cli_fail(e);
}

int vhd_cli_convert(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' }, { "block-size", required_argument, NULL, 'b' },
		{ "exact-size", no_argument, NULL, 'e' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vhd_tool_opts o = { .size_policy = VHD_SIZE_CHS_ROUND_UP };
	enum vhd_out_type type = VHD_OUT_DYNAMIC;
	uint64_t v;
	int c;
	while ((c = getopt_long(argc, argv, "t:b:eh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (strcmp(optarg, "raw") == 0)
				type = VHD_OUT_RAW;
			else if (strcmp(optarg, "fixed") == 0)
				type = VHD_OUT_FIXED;
			else if (strcmp(optarg, "dynamic") == 0)
				type = VHD_OUT_DYNAMIC;
			else
				return vhd_cli_usage("convert --type: expected raw, fixed or dynamic");
			break;
		case 'b':
			if (havm_size_parse(optarg, &v) < 0 || v > UINT32_MAX)
				return vhd_cli_usage("--block-size: expected a size such as 2M");
			o.block_size = (uint32_t)v;
			break;
		case 'e':
			o.size_policy = VHD_SIZE_EXACT;
			break;
		case 'h':
			return vhd_cli_usage(NULL);
		default:
			return vhd_cli_usage("convert: unknown option");
		}
	}
	if (optind != argc - 2)
		return vhd_cli_usage("convert: expected SRC and DST");
	struct havm_progress bar;
	with_progress(&o, &bar, "converting");
	struct vhd_tool_stats st;
	struct havm_err e;
	havm_err_clear(&e);
	if (vhd_convert(argv[optind], argv[optind + 1], type, &o, &st, &e) < 0)
		return run_fail(&e);
	printf("%s: %" PRIu64 " bytes (guest size %" PRIu64 "), %" PRIu64 " bytes of data copied\n",
	       argv[optind + 1], st.bytes_out, st.final_size, st.bytes_copied);
	return 0;
}

int vhd_cli_compact(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return vhd_cli_usage(argc == 2 && strcmp(argv[1], "--help") == 0 ? NULL : "compact: expected one FILE");
	struct vhd_tool_opts o = { .size_policy = VHD_SIZE_EXACT };
	struct havm_progress bar;
	with_progress(&o, &bar, "compacting");
	struct vhd_tool_stats st;
	struct havm_err e;
	havm_err_clear(&e);
	if (vhd_compact(argv[1], &o, &st, &e) < 0)
		return run_fail(&e);
	printf("%s: %u -> %u blocks, %" PRIu64 " -> %" PRIu64 " bytes\n", argv[1], st.blocks_in, st.blocks_out,
	       st.bytes_in, st.bytes_out);
	return 0;
}

static int merge_opts(int argc, char **argv, struct vhd_tool_opts *o)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' }, { "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },  { NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "fkh", opts, NULL)) != -1) {
		if (c == 'f')
			o->force = 1;
		else if (c == 'k')
			o->keep_child = 1;
		else
			return -1;
	}
	return optind == argc - 1 ? 0 : -1;
}

int vhd_cli_merge(int argc, char **argv)
{
	struct vhd_tool_opts o = { .size_policy = VHD_SIZE_EXACT };
	if (merge_opts(argc, argv, &o) < 0)
		return vhd_cli_usage("merge: expected [--force] [--keep] CHILD");
	struct havm_progress bar;
	with_progress(&o, &bar, "merging");
	struct vhd_tool_stats st;
	struct havm_err e;
	havm_err_clear(&e);
	if (vhd_merge(argv[optind], &o, &st, &e) < 0)
		return run_fail(&e);
	printf("%s: merged %" PRIu64 " bytes into its parent; %d child(ren) re-pointed%s\n", argv[optind],
	       st.bytes_copied, st.reparented, o.keep_child ? "" : "; deleted");
	return 0;
}

int vhd_cli_resize(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' }, { "exact-size", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
	};
	struct vhd_tool_opts o = { .size_policy = VHD_SIZE_CHS_ROUND_UP };
	uint64_t size = 0;
	int c;
	while ((c = getopt_long(argc, argv, "s:eh", opts, NULL)) != -1) {
		if (c == 's' && havm_size_parse(optarg, &size) == 0)
			continue;
		if (c == 'e') {
			o.size_policy = VHD_SIZE_EXACT;
			continue;
		}
		return vhd_cli_usage(c == 'h' ? NULL : "resize: expected --size SIZE [--exact-size] FILE");
	}
	if (optind != argc - 1 || size == 0)
		return vhd_cli_usage("resize: expected --size SIZE [--exact-size] FILE");
	struct vhd_tool_stats st;
	struct havm_err e;
	havm_err_clear(&e);
	if (vhd_resize(argv[optind], size, &o, &st, &e) < 0)
		return run_fail(&e);
	printf("%s: size %" PRIu64 "\n", argv[optind], st.final_size);
	return 0;
}

/* The undo disk of BASE: "d/disk.vhd" -> "d/disk.undo.vhd" (a differencing
 * VHD, like Virtual PC's .vud). */
static void undo_path(const char *base, char *out, size_t cap)
{
	size_t l = strlen(base);
	if (l > 4 && strcasecmp(base + l - 4, ".vhd") == 0)
		snprintf(out, cap, "%.*s.undo.vhd", (int)(l - 4), base);
	else
		snprintf(out, cap, "%s.undo.vhd", base);
}

/* The undo disk must exist and be BASE's differencing child. */
static int undo_check(const char *base, const char *undo, struct havm_err *e)
{
	struct blk_dev *b = NULL, *u = NULL;
	int rc = blk_open(base, BLK_O_NO_PARENT, &b, e);
	if (rc == 0)
		rc = blk_open(undo, BLK_O_NO_PARENT, &u, e);
	if (rc == -ENOENT && b)
		havm_err_set(e, HAVM_E_NOTFOUND, rc, "%s: no undo disk (expected %s)", base, undo);
	if (rc == 0) {
		const struct vhd_image *ui = blk_vhd(u), *bi = blk_vhd(b);
		if (blk_format(u) != BLK_FMT_VHD_DIFF || !bi ||
		    memcmp(vhd_image_header(ui)->parent_uuid, vhd_image_footer(bi)->uuid, 16) != 0)
			rc = havm_err_set(e, HAVM_E_STATE, -EINVAL,
					  "%s: not a differencing child of %s (parent unique id differs); left alone",
					  undo, base);
	}
	(void)blk_close(u);
	(void)blk_close(b);
	return rc;
}

int vhd_cli_undo(int argc, char **argv)
{
	struct vhd_tool_opts o = { .size_policy = VHD_SIZE_EXACT };
	const char *what = argc > 1 ? argv[1] : "";
	optind = 1;
	if (argc < 3 || merge_opts(argc - 1, argv + 1, &o) < 0 || o.keep_child)
		return vhd_cli_usage("undo: expected create|commit|discard [--force] BASE");
	const char *base = argv[optind + 1];
	char undo[PATH_MAX];
	undo_path(base, undo, sizeof(undo));
	struct havm_err e;
	havm_err_clear(&e);
	if (strcmp(what, "create") == 0) {
		struct vhd_create_opts c = { .type = VHD_TYPE_DIFF, .parent = base };
		if (vhd_create(undo, &c, NULL, &e) < 0)
			return run_fail(&e);
		printf("%s: undo disk created; run the VM on it, then undo commit or discard\n", undo);
		return 0;
	}
	if (strcmp(what, "commit") != 0 && strcmp(what, "discard") != 0)
		return vhd_cli_usage("undo: expected create, commit or discard");
	if (undo_check(base, undo, &e) < 0)
		return run_fail(&e);
	if (strcmp(what, "discard") == 0) {
		if (unlink(undo) < 0 || havm_fsync_dir_of(undo) < 0) {
			havm_err_set(&e, HAVM_E_IO, -errno, "%s: delete: %s", undo, strerror(errno));
			return run_fail(&e);
		}
		printf("%s: discarded\n", undo);
		return 0;
	}
	struct havm_progress bar;
	with_progress(&o, &bar, "committing");
	if (vhd_merge(undo, &o, NULL, &e) < 0)
		return run_fail(&e);
	printf("%s: committed into %s and deleted\n", undo, base);
	return 0;
}
