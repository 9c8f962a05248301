/* havm vhd info / check — human text or JSON (json-c). */
#include "havm/cli_vhd_int.h"

#include "common/err.h"
#include "vmcore/disk/blk.h"
#include "vmcore/disk/vhd.h"

#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static void uuid_str(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
		 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static const char *locator_name(uint32_t code)
{
	switch (code) {
	case VHD_PLAT_W2KU: return "W2ku";
	case VHD_PLAT_W2RU: return "W2ru";
	case VHD_PLAT_WI2K: return "Wi2k";
	case VHD_PLAT_WI2R: return "Wi2r";
	case VHD_PLAT_MAC: return "Mac";
	case VHD_PLAT_MACX: return "MacX";
	}
	return "unknown";
}

static int parse_flags(int argc, char **argv, const char *extra, int *json, int *extra_set)
{
	static struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "repair", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "jrh", opts, NULL)) != -1) {
		if (c == 'j')
			*json = 1;
		else if (c == 'r' && extra)
			*extra_set = 1;
		else
			return -1;
	}
	return optind == argc - 1 ? 0 : -1;
}

static json_object *info_json(struct blk_dev *d)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "file", json_object_new_string(blk_name(d)));
	json_object_object_add(o, "format", json_object_new_string(blk_format_name(blk_format(d))));
	json_object_object_add(o, "virtual_size", json_object_new_int64((int64_t)blk_size(d)));
	struct vhd_image *img = blk_vhd(d);
	if (!img)
		return o;
	const struct vhd_footer *f = vhd_image_footer(img);
	char u[37], app[5];
	snprintf(app, sizeof(app), "%.4s", f->creator_app);
	uuid_str(f->uuid, u);
	json_object_object_add(o, "uuid", json_object_new_string(u));
	json_object_object_add(o, "creator", json_object_new_string(app));
	json_object_object_add(o, "creator_version", json_object_new_int64(f->creator_version));
	json_object_object_add(o, "timestamp", json_object_new_int64(f->timestamp));
	json_object_object_add(o, "current_size", json_object_new_int64((int64_t)f->current_size));
	json_object_object_add(o, "original_size", json_object_new_int64((int64_t)f->original_size));
	json_object *g = json_object_new_object();
	json_object_object_add(g, "cylinders", json_object_new_int(f->cylinders));
	json_object_object_add(g, "heads", json_object_new_int(f->heads));
	json_object_object_add(g, "sectors", json_object_new_int(f->sectors));
	json_object_object_add(o, "geometry", g);
	json_object_object_add(o, "saved_state", json_object_new_boolean(f->saved_state));
	static const char *src[] = { "tail", "copy-at-0", "511-byte" };
	json_object_object_add(o, "footer_source", json_object_new_string(src[vhd_image_footer_source(img)]));
	const struct vhd_header *h = vhd_image_header(img);
	if (!h)
		return o;
	uint32_t n, used = 0;
	const uint32_t *bat = vhd_image_bat(img, &n);
	for (uint32_t i = 0; i < n; i++)
		used += bat[i] != VHD_BAT_UNUSED;
	json_object_object_add(o, "block_size", json_object_new_int64(h->block_size));
	json_object_object_add(o, "table_offset", json_object_new_int64((int64_t)h->table_offset));
	json_object_object_add(o, "max_table_entries", json_object_new_int64(h->max_table_entries));
	json_object_object_add(o, "allocated_blocks", json_object_new_int64(used));
	if (blk_format(d) != BLK_FMT_VHD_DIFF)
		return o;
	char name[1024];
	uuid_str(h->parent_uuid, u);
	json_object_object_add(o, "parent_uuid", json_object_new_string(u));
	json_object_object_add(o, "parent_timestamp", json_object_new_int64(h->parent_timestamp));
	if (vhd_image_parent_name(img, name, sizeof(name)) >= 0)
		json_object_object_add(o, "parent_name", json_object_new_string(name));
	if (vhd_image_parent_path(img))
		json_object_object_add(o, "parent_path", json_object_new_string(vhd_image_parent_path(img)));
	json_object *locs = json_object_new_array();
	for (int i = 0; i < VHD_LOCATOR_COUNT; i++) {
		if (h->loc[i].code == VHD_PLAT_NONE)
			continue;
		json_object *l = json_object_new_object();
		json_object_object_add(l, "slot", json_object_new_int(i));
		json_object_object_add(l, "code", json_object_new_string(locator_name(h->loc[i].code)));
		json_object_object_add(l, "offset", json_object_new_int64((int64_t)h->loc[i].data_offset));
		json_object_object_add(l, "length", json_object_new_int64(h->loc[i].data_len));
		json_object_array_add(locs, l);
	}
	json_object_object_add(o, "locators", locs);
	return o;
}

static void info_text(json_object *o)
{
	struct json_object_iterator it = json_object_iter_begin(o), end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		json_object *val = json_object_iter_peek_value(&it);
		if (json_object_is_type(val, json_type_array) || json_object_is_type(val, json_type_object))
			printf("%-18s %s\n", key, json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
		else
			printf("%-18s %s\n", key, json_object_get_string(val));
	}
}

int vhd_cli_info(int argc, char **argv)
{
	int json = 0, unused = 0;
	if (parse_flags(argc, argv, NULL, &json, &unused) < 0)
		return vhd_cli_usage("info: expected [--json] FILE");
	struct havm_err e;
	havm_err_clear(&e);
	struct blk_dev *d;
	/* Info works without the parent; the chain is check's business. */
	if (blk_open(argv[optind], BLK_O_NO_PARENT, &d, &e) < 0)
		return vhd_cli_fail(&e);
	json_object *o = info_json(d);
	if (json)
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	else
		info_text(o);
	json_object_put(o);
	(void)blk_close(d);
	return 0;
}

int vhd_cli_check(int argc, char **argv)
{
	int json = 0, repair = 0;
	if (parse_flags(argc, argv, "repair", &json, &repair) < 0)
		return vhd_cli_usage("check: expected [--repair] [--json] FILE");
	struct havm_err e;
	havm_err_clear(&e);
	struct vhd_check_report r;
	if (vhd_check(argv[optind], repair, &r, &e) < 0)
		return vhd_cli_fail(&e);
	static const char *lv[] = { "info", "warning", "error" };
	if (json) {
		json_object *o = json_object_new_object(), *items = json_object_new_array();
		json_object_object_add(o, "file", json_object_new_string(argv[optind]));
		json_object_object_add(o, "clean", json_object_new_boolean(r.errors == 0));
		json_object_object_add(o, "errors", json_object_new_int((int)r.errors));
		json_object_object_add(o, "warnings", json_object_new_int((int)r.warnings));
		json_object_object_add(o, "allocated_blocks", json_object_new_int64(r.allocated_blocks));
		json_object_object_add(o, "leaked_bytes", json_object_new_int64((int64_t)r.leaked_bytes));
		json_object_object_add(o, "repaired", json_object_new_boolean(r.repaired));
		for (size_t i = 0; i < r.count; i++) {
			json_object *it = json_object_new_object();
			json_object_object_add(it, "level", json_object_new_string(lv[r.items[i].level]));
			json_object_object_add(it, "message", json_object_new_string(r.items[i].msg));
			json_object_array_add(items, it);
		}
		json_object_object_add(o, "items", items);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		for (size_t i = 0; i < r.count; i++)
			printf("%s: %s: %s\n", argv[optind], lv[r.items[i].level], r.items[i].msg);
		printf("%s: %s (%u errors, %u warnings, %u blocks, %" PRIu64 " bytes leaked)\n", argv[optind],
		       r.errors ? "NOT clean" : "clean", r.errors, r.warnings, r.allocated_blocks, r.leaked_bytes);
	}
	int rc = r.errors ? havm_err_exit_code(HAVM_E_FORMAT) : 0;
	vhd_check_report_free(&r);
	return rc;
}
