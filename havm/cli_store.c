/* havm store format|ls|import|export|child|rm|df — the VM store from the command
 * line (iscsi/store.h, docs/store.md). */
#include "havm/cli.h"

#include "common/err.h"
#include "common/size.h"
#include "iscsi/pr.h"
#include "iscsi/store.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const struct havm_err *e)
{
	fprintf(stderr, "havm store: %s\n", e->msg);
	return havm_err_exit_code(e->kind);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: havm store format [--force] URL\n"
		"       havm store ls [--json] URL\n"
		"       havm store import [--kind vmc|vhd|vsv|other] [--size BYTES] URL FILE [NAME]\n"
		"       havm store export [--raw] URL NAME FILE\n"
		"       havm store child [--size BYTES] URL PARENT CHILD   (a differencing VHD)\n"
		"       havm store rm URL NAME...\n"
		"       havm store df [--json] URL\n"
		"URL: dir:PATH | iscsi://[user%%pass@]host[:port]/iqn/lun | file:IMAGE | PATH\n"
		"With $HAVM_PR_KEY (hex or \"cmap\") changes to an iscsi:// store register this\n"
		"session under the node's key, so they pass a WERO reservation (docs/store.md).\n");
	return havm_err_exit_code(HAVM_E_CONFIG);
}

static const struct option opts[] = {
	{ "json", no_argument, NULL, 'j' },   { "force", no_argument, NULL, 'f' },
	{ "kind", required_argument, NULL, 'k' }, { "size", required_argument, NULL, 's' },
	{ "raw", no_argument, NULL, 'r' },    { "help", no_argument, NULL, 'h' },   { NULL, 0, NULL, 0 },
};

struct args {
	int json, force, raw;
	const char *kind, *size;
};

static int parse(int argc, char **argv, struct args *a)
{
	memset(a, 0, sizeof(*a));
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "jfrk:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': a->json = 1; break;
		case 'f': a->force = 1; break;
		case 'r': a->raw = 1; break;
		case 'k': a->kind = optarg; break;
		case 's': a->size = optarg; break;
		default: return -1;
		}
	}
	return 0;
}

static int cmd_format(const struct args *a, int argc, char **argv)
{
	if (argc != 1)
		return usage();
	struct havm_err e;
	if (store_format(argv[0], a->force, &e) < 0)
		return fail(&e);
	printf("formatted %s\n", argv[0]);
	return 0;
}

static int cmd_ls(struct store *s, const struct args *a)
{
	struct store_obj *o;
	size_t n;
	struct havm_err e;
	if (store_list(s, &o, &n, &e) < 0)
		return fail(&e);
	if (a->json) {
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			json_object *j = json_object_new_object();
			json_object_object_add(j, "name", json_object_new_string(o[i].name));
			json_object_object_add(j, "kind", json_object_new_string(store_kind_name(o[i].kind)));
			json_object_object_add(j, "size", json_object_new_int64((int64_t)o[i].size));
			json_object_object_add(j, "capacity", json_object_new_int64((int64_t)o[i].capacity));
			json_object_object_add(j, "offset", json_object_new_int64((int64_t)o[i].offset));
			json_object_array_add(arr, j);
		}
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
		json_object_put(arr);
	} else {
		printf("%-36s %-5s %14s %14s %14s\n", "NAME", "KIND", "SIZE", "CAPACITY", "OFFSET");
		for (size_t i = 0; i < n; i++)
			printf("%-36s %-5s %14" PRIu64 " %14" PRIu64 " %14" PRIu64 "\n", o[i].name,
			       store_kind_name(o[i].kind), o[i].size, o[i].capacity, o[i].offset);
	}
	free(o);
	return 0;
}

static int cmd_df(struct store *s, const struct args *a)
{
	struct store_df d;
	struct havm_err e;
	if (store_df(s, &d, &e) < 0)
		return fail(&e);
	if (a->json) {
		json_object *j = json_object_new_object();
		json_object_object_add(j, "total", json_object_new_int64((int64_t)d.total));
		json_object_object_add(j, "used", json_object_new_int64((int64_t)d.used));
		json_object_object_add(j, "free", json_object_new_int64((int64_t)d.free));
		json_object_object_add(j, "largest_free", json_object_new_int64((int64_t)d.largest_free));
		json_object_object_add(j, "objects", json_object_new_int64(d.objects));
		json_object_object_add(j, "max_objects", json_object_new_int64(d.max_objects));
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
		json_object_put(j);
		return 0;
	}
	char t[32], u[32], f[32], l[32];
	printf("total %s, used %s, free %s, largest free extent %s, %" PRIu32 " objects", havm_size_format(d.total, t, sizeof(t)),
	       havm_size_format(d.used, u, sizeof(u)), havm_size_format(d.free, f, sizeof(f)),
	       havm_size_format(d.largest_free, l, sizeof(l)), d.objects);
	if (d.max_objects)
		printf(" of %" PRIu32, d.max_objects);
	printf("\n");
	return 0;
}

static int cmd_import(struct store *s, const struct args *a, int argc, char **argv)
{
	if (argc < 1 || argc > 2)
		return usage();
	char *copy = strdup(argv[0]);
	if (!copy)
		return havm_err_exit_code(HAVM_E_IO);
	const char *name = argc == 2 ? argv[1] : basename(copy);
	enum store_kind kind = store_kind_of_name(name);
	uint64_t cap = 0;
	struct havm_err e;
	int rc = 0;
	if (a->kind && store_kind_parse(a->kind, &kind) < 0)
		rc = havm_err_set(&e, HAVM_E_CONFIG, -EINVAL, "--kind '%s': expected vmc, vhd, vsv or other", a->kind);
	else if (a->size && havm_size_parse(a->size, &cap) < 0)
		rc = havm_err_set(&e, HAVM_E_CONFIG, -EINVAL, "--size '%s': not a size", a->size);
	if (rc == 0)
		rc = store_import(s, argv[0], name, kind, cap, &e);
	free(copy);
	return rc < 0 ? fail(&e) : 0;
}

static int run(const char *verb, struct store *s, const struct args *a, int argc, char **argv)
{
	struct havm_err e;
	if (strcmp(verb, "ls") == 0)
		return argc ? usage() : cmd_ls(s, a);
	if (strcmp(verb, "df") == 0)
		return argc ? usage() : cmd_df(s, a);
	if (strcmp(verb, "import") == 0)
		return cmd_import(s, a, argc, argv);
	if (strcmp(verb, "export") == 0) {
		if (argc != 2)
			return usage();
		return store_export(s, argv[0], argv[1], a->raw ? STORE_EXPORT_RAW : 0, &e) < 0 ? fail(&e) : 0;
	}
	if (strcmp(verb, "child") == 0) {
		uint64_t cap = 0;
		if (argc != 2)
			return usage();
		if (a->size && havm_size_parse(a->size, &cap) < 0) {
			havm_err_set(&e, HAVM_E_CONFIG, -EINVAL, "--size '%s': not a size", a->size);
			return fail(&e);
		}
		return store_create_child(s, argv[0], argv[1], cap, &e) < 0 ? fail(&e) : 0;
	}
	/* rm */
	if (argc < 1)
		return usage();
	for (int i = 0; i < argc; i++)
		if (store_remove(s, argv[i], &e) < 0)
			return fail(&e);
	return 0;
}

int havm_cli_store(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *verb = argv[1];
	struct args a;
	if (parse(argc - 1, argv + 1, &a) < 0)
		return usage();
	int rest = argc - 1 - optind;
	char **rv = argv + 1 + optind;
	if (strcmp(verb, "format") == 0)
		return cmd_format(&a, rest, rv);
	static const char *const verbs[] = { "ls", "df", "import", "export", "rm", "child" };
	unsigned flags = 0;
	size_t i;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verb, verbs[i]) == 0)
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0]) || rest < 1)
		return usage();
	if (strcmp(verb, "import") == 0 || strcmp(verb, "rm") == 0 || strcmp(verb, "child") == 0)
		flags = STORE_O_RDWR;
	struct store *s;
	struct havm_err e;
	struct store_open_opts o = { 0 };
	const char *key = flags ? getenv("HAVM_PR_KEY") : NULL;
	if (key && *key && (strcmp(key, "cmap") == 0 ? pr_local_key(PR_KEY_ID, &o.pr_key, &e)
						       : pr_key_parse(key, &o.pr_key, &e)) < 0) {
		havm_err_prefix(&e, "HAVM_PR_KEY");
		return fail(&e);
	}
	if (store_open_ex(rv[0], flags, &o, &s, &e) < 0)
		return fail(&e);
	int rc = run(verb, s, &a, rest - 1, rv + 1);
	int crc = store_close(s);
	if (rc == 0 && crc < 0) {
		fprintf(stderr, "havm store: %s: closing: %s\n", rv[0], strerror(-crc));
		return havm_err_exit_code(HAVM_E_IO);
	}
	return rc;
}
