/* havm vsv info — what a .vsv file holds: version, machine description,
 * sections and RAM passes, as text or JSON (json-c). Opening validates
 * everything but page data; --verify checks that too. */
#include "havm/cli.h"

#include "common/err.h"
#include "vmcore/vsv/vsv.h"

#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr, "usage: havm vsv info [--json] [--verify] FILE\n");
	return havm_err_exit_code(HAVM_E_CONFIG);
}

static void uuid_str(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
		 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static json_object *jint(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

static json_object *section_json(const struct vsv_section_info *s)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string(s->kind == VSV_KIND_RAM ? "ram" :
											s->kind == VSV_KIND_DISKS ? "disks" : "state"));
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "instance", jint(s->instance));
	json_object_object_add(o, "version", jint(s->version));
	json_object_object_add(o, "offset", jint(s->offset));
	json_object_object_add(o, "length", jint(s->length));
	if (s->kind == VSV_KIND_RAM) {
		json_object_object_add(o, "pass", jint(s->pass));
		json_object_object_add(o, "runs", jint(s->runs));
		json_object_object_add(o, "data_pages", jint(s->data_pages));
		json_object_object_add(o, "zero_pages", jint(s->zero_pages));
	}
	return o;
}

static json_object *info_json(struct vsv_reader *r, const char *path, int verified)
{
	struct vsv_file_info fi;
	vsv_reader_info(r, &fi);
	const struct vsv_machine_desc *d = vsv_reader_desc(r);
	json_object *o = json_object_new_object();
	char buf[64];
	json_object_object_add(o, "file", json_object_new_string(path));
	snprintf(buf, sizeof(buf), "%u.%u", fi.major, fi.minor);
	json_object_object_add(o, "version", json_object_new_string(buf));
	json_object_object_add(o, "size", jint(fi.file_size));
	json_object_object_add(o, "created_ns", jint(fi.created_ns));
	snprintf(buf, sizeof(buf), "%08" PRIx32, fi.machine_digest);
	json_object_object_add(o, "machine_digest", json_object_new_string(buf));
	json_object_object_add(o, "ram_size", jint(d->ram_size));
	json_object_object_add(o, "cpu_model", json_object_new_string(d->cpu_model));
	json_object *devs = json_object_new_array();
	for (uint32_t i = 0; i < d->device_count; i++) {
		json_object *dv = json_object_new_object();
		json_object_object_add(dv, "name", json_object_new_string(d->devices[i].name));
		json_object_object_add(dv, "instance", jint(d->devices[i].instance));
		json_object_object_add(dv, "version", jint(d->devices[i].version));
		json_object_array_add(devs, dv);
	}
	json_object_object_add(o, "devices", devs);
	json_object *disks = json_object_new_array();
	for (uint32_t i = 0; i < d->disk_count; i++) {
		json_object *dk = json_object_new_object();
		char u[37];
		uuid_str(d->disks[i].uuid, u);
		json_object_object_add(dk, "slot", json_object_new_string(d->disks[i].slot));
		json_object_object_add(dk, "uuid", json_object_new_string(u));
		json_object_object_add(dk, "generation", jint(d->disks[i].generation));
		json_object_array_add(disks, dk);
	}
	json_object_object_add(o, "disks", disks);
	json_object_object_add(o, "ram_passes", jint(fi.ram_passes));
	json_object_object_add(o, "ram_data_pages", jint(fi.ram_data_pages));
	json_object *secs = json_object_new_array();
	for (size_t i = 0; i < vsv_reader_section_count(r); i++)
		json_object_array_add(secs, section_json(vsv_reader_section_at(r, i)));
	json_object_object_add(o, "sections", secs);
	json_object_object_add(o, "page_data_verified", json_object_new_boolean(verified));
	return o;
}

static void info_text(struct vsv_reader *r, const char *path, int verified)
{
	struct vsv_file_info fi;
	vsv_reader_info(r, &fi);
	const struct vsv_machine_desc *d = vsv_reader_desc(r);
	printf("file               %s\nversion            %u.%u\nsize               %" PRIu64 "\n", path,
	       fi.major, fi.minor, fi.file_size);
	printf("machine digest     %08" PRIx32 "\nram size           %" PRIu64 "\ncpu model          %s\n",
	       fi.machine_digest, d->ram_size, d->cpu_model);
	for (uint32_t i = 0; i < d->disk_count; i++) {
		char u[37];
		uuid_str(d->disks[i].uuid, u);
		printf("disk               %s uuid %s generation %" PRIu64 "\n", d->disks[i].slot, u,
		       d->disks[i].generation);
	}
	printf("sections:\n");
	for (size_t i = 0; i < vsv_reader_section_count(r); i++) {
		const struct vsv_section_info *s = vsv_reader_section_at(r, i);
		if (s->kind == VSV_KIND_RAM)
			printf("  %-12s pass %" PRIu32 "  offset %-10" PRIu64 " %" PRIu64 " data pages, %" PRIu64
			       " zero pages in %" PRIu32 " runs\n", "ram", s->pass, s->offset, s->data_pages,
			       s->zero_pages, s->runs);
		else
			printf("  %-8s.%-3" PRIu32 " v%-5" PRIu32 " offset %-10" PRIu64 " %" PRIu64 " bytes\n", s->name,
			       s->instance, s->version, s->offset, s->length);
	}
	printf("page data          %s\n", verified ? "verified" : "not verified (use --verify)");
}

static int cli_info(int argc, char **argv)
{
	static struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "verify", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int json = 0, verify = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jvh", opts, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'v')
			verify = 1;
		else
			return usage();
	}
	if (optind != argc - 1)
		return usage();
	const char *path = argv[optind];
	struct havm_err e;
	havm_err_clear(&e);
	struct vsv_reader *r;
	if (vsv_reader_open(path, NULL, &r, &e) < 0 || (verify && vsv_reader_verify(r, &e) < 0)) {
		vsv_reader_close(r);  /* NULL when the open failed */
		fprintf(stderr, "havm vsv: %s\n", e.msg);
		return havm_err_exit_code(e.kind);
	}
	if (json) {
		json_object *o = info_json(r, path, verify);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		info_text(r, path, verify);
	}
	vsv_reader_close(r);
	return 0;
}

int havm_cli_vsv(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "info") == 0)
		return cli_info(argc - 1, argv + 1);
	return usage();
}
