/* Unit tests for vmcore/vsv/reader.c and ram_load.c: every bad-input path
 * gives its error kind and a message naming what is wrong, and a valid
 * file round-trips. Files are built with the real writer, then tampered
 * with (fixing the other checksums so the targeted check is the one hit). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/vsv/vsv_test_util.h"
#include "vmcore/vsv/format_int.h"

static struct tu_buf file;

static int setup(void **state)
{
	(void)state;
	tu_make(&file, 1, 2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(file.p);
	memset(&file, 0, sizeof(file));
	return 0;
}

/* Opens @p/@len against the test machine (or @exp) and expects failure. */
static void expect_fail(const uint8_t *p, size_t len, const struct vsv_machine_desc *exp,
			enum havm_err_kind kind, const char *needle)
{
	struct vsv_machine_desc d;
	tu_desc(&d);
	struct vsv_reader *r = (struct vsv_reader *)1;
	struct havm_err e;
	havm_err_clear(&e);
	int rc = vsv_reader_open_mem(p, len, "t.vsv", exp ? exp : &d, &r, &e);
	if (rc >= 0 || e.kind != kind || (needle && !strstr(e.msg, needle)))
		print_error("rc %d kind %s msg \"%s\" (want %s, \"%s\")\n", rc, havm_err_kind_name(e.kind), e.msg,
			    havm_err_kind_name(kind), needle ? needle : "");
	assert_true(rc < 0);
	assert_null(r);
	assert_int_equal(e.kind, kind);
	assert_int_equal(e.code, rc);
	if (needle)
		assert_non_null(strstr(e.msg, needle));
	assert_non_null(strstr(e.msg, "t.vsv"));
}

static uint8_t *copy(void)
{
	uint8_t *p = malloc(file.len);
	memcpy(p, file.p, file.len);
	return p;
}

static void test_valid_file_round_trips_devices_and_ram(void **state)
{
	(void)state;
	struct vsv_machine_desc d;
	tu_desc(&d);
	struct vsv_reader *r;
	struct havm_err e;
	assert_int_equal(vsv_reader_open_mem(file.p, file.len, "t.vsv", &d, &r, &e), 0);
	assert_null(tu_check(r, 1));
	struct vsv_file_info info;
	vsv_reader_info(r, &info);
	assert_int_equal(info.major, 1);
	assert_int_equal(info.minor, 0);
	assert_int_equal(info.section_count, 6);
	assert_int_equal(info.ram_passes, 2);
	assert_int_equal(vsv_reader_section_count(r), 6);
	const struct vsv_section_info *s = vsv_reader_section_at(r, 4);
	assert_int_equal(s->kind, VSV_KIND_RAM);
	assert_int_equal(s->data_pages + s->zero_pages, TU_RAM_PAGES);
	s = vsv_reader_section_at(r, 5);
	assert_int_equal(s->pass, 1);
	assert_int_equal(s->data_pages + s->zero_pages, TU_RAM_PAGES / 2);
	assert_null(vsv_reader_section_at(r, 6));
	assert_int_equal(vsv_reader_verify(r, &e), 0);
	assert_int_equal(memcmp(vsv_reader_desc(r), &d, sizeof(d)), 0);
	vsv_reader_close(r);
	/* NULL expected: inspection without a machine */
	assert_int_equal(vsv_reader_open_mem(file.p, file.len, "t.vsv", NULL, &r, &e), 0);
	vsv_reader_close(r);
}

static void test_bad_magic_is_not_a_vsv(void **state)
{
	(void)state;
	uint8_t *p = copy();
	p[0] ^= 0x20;
	expect_fail(p, file.len, NULL, HAVM_E_FORMAT, "not a .vsv file");
	free(p);
}

static void test_other_major_version_is_unsupported(void **state)
{
	(void)state;
	uint8_t *p = copy();
	vsv_le16(p + VSV_HDR_MAJOR, 2);
	expect_fail(p, file.len, NULL, HAVM_E_UNSUPPORTED, "format version 2.0");
	vsv_le16(p + VSV_HDR_MAJOR, 0);
	expect_fail(p, file.len, NULL, HAVM_E_UNSUPPORTED, "format version 0.0");
	free(p);
}

static void test_newer_minor_version_is_unsupported(void **state)
{
	(void)state;
	uint8_t *p = copy();
	vsv_le16(p + VSV_HDR_MINOR, VSV_VERSION_MINOR + 1);
	vsv_le32(p + VSV_HDR_CRC, vsv_crc32c(0, p, VSV_HDR_CRC));
	expect_fail(p, file.len, NULL, HAVM_E_UNSUPPORTED, "format version 1.2, this build reads 1.0 to 1.1");
	free(p);
}

static void test_header_and_description_checksums_are_checked(void **state)
{
	(void)state;
	uint8_t *p = copy();
	p[VSV_HDR_CREATED] ^= 1;
	expect_fail(p, file.len, NULL, HAVM_E_FORMAT, "header checksum");
	free(p);
	p = copy();
	p[VSV_HDR_SIZE + 12] ^= 1;  /* CPU model */
	expect_fail(p, file.len, NULL, HAVM_E_FORMAT, "machine description checksum");
	free(p);
}

static void test_every_section_header_and_payload_checksum_is_checked(void **state)
{
	(void)state;
	uint64_t offs[16];
	size_t n = tu_sections(file.p, file.len, offs, 16);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = copy();
		p[offs[i] + VSV_SEC_INSTANCE] ^= 1;
		expect_fail(p, file.len, NULL, HAVM_E_FORMAT, "section header checksum");
		free(p);
		p = copy();
		uint64_t len = vsv_rd64(file.p + offs[i] + VSV_SEC_LENGTH);
		if (vsv_rd16(file.p + offs[i] + VSV_SEC_KIND) == VSV_KIND_STATE) {
			p[offs[i] + VSV_SEC_HDR_SIZE + len / 2] ^= 0x80;
			expect_fail(p, file.len, NULL, HAVM_E_FORMAT, "payload checksum");
		} else {
			p[offs[i] + VSV_SEC_HDR_SIZE + VSV_PASS_DATA_LEN] ^= 0x80;
			expect_fail(p, file.len, NULL, HAVM_E_FORMAT, "RAM pass header checksum");
			free(p);
			p = copy();
			p[offs[i] + VSV_SEC_HDR_SIZE + VSV_PASS_HDR_SIZE + 3] ^= 0x80;  /* run table */
			expect_fail(p, file.len, NULL, HAVM_E_FORMAT, "RAM pass header checksum");
		}
		free(p);
	}
}

static void test_corrupted_page_data_fails_load_and_verify(void **state)
{
	(void)state;
	uint64_t offs[16];
	size_t n = tu_sections(file.p, file.len, offs, 16);
	for (size_t i = 4; i < n; i++) {
		uint8_t *p = copy();
		const uint8_t *ph = p + offs[i] + VSV_SEC_HDR_SIZE;
		uint64_t data = offs[i] + VSV_SEC_HDR_SIZE + vsv_rd64(ph + VSV_PASS_DATA_OFF);
		p[data + vsv_rd64(ph + VSV_PASS_DATA_LEN) - 1] ^= 1;
		struct vsv_machine_desc d;
		tu_desc(&d);
		struct vsv_reader *r;
		struct havm_err e;
		assert_int_equal(vsv_reader_open_mem(p, file.len, "t.vsv", &d, &r, &e), 0);
		assert_int_equal(vsv_reader_verify(r, &e), -EBADMSG);
		assert_int_equal(e.kind, HAVM_E_FORMAT);
		assert_non_null(strstr(e.msg, "page data checksum"));
		uint8_t *ram = calloc(1, TU_RAM_SIZE);
		havm_err_clear(&e);
		assert_int_equal(vsv_ram_load(r, ram, TU_RAM_SIZE, VSV_RAM_ZEROED, &e), -EBADMSG);
		assert_non_null(strstr(e.msg, "page data checksum"));
		free(ram);
		vsv_reader_close(r);
		free(p);
	}
}

static void test_truncation_at_any_offset_is_detected(void **state)
{
	(void)state;
	size_t cuts = 0;
	for (size_t len = 0; len < file.len; len += (len < 2048 ? 13 : 4001)) {
		expect_fail(file.p, len, NULL, HAVM_E_FORMAT, NULL);
		cuts++;
	}
	for (size_t k = 1; k <= 64; k++)
		expect_fail(file.p, file.len - k, NULL, HAVM_E_FORMAT, "truncated");
	assert_true(cuts > 100);
	/* bytes appended after the trailer are as wrong as bytes missing */
	uint8_t *p = malloc(file.len + 8);
	memcpy(p, file.p, file.len);
	memset(p + file.len, 0, 8);
	expect_fail(p, file.len + 8, NULL, HAVM_E_FORMAT, "truncated");
	free(p);
}

static void test_different_machine_is_refused_naming_the_difference(void **state)
{
	(void)state;
	struct vsv_machine_desc d;
	tu_desc(&d);
	d.ram_size *= 2;
	expect_fail(file.p, file.len, &d, HAVM_E_CONFIG, "saved with 262144 bytes of RAM, this machine has 524288");
	tu_desc(&d);
	strcpy(d.cpu_model, "pentium");
	expect_fail(file.p, file.len, &d, HAVM_E_CONFIG, "CPU model \"havm-486\"");
	tu_desc(&d);
	d.device_count--;  /* uart.0 */
	expect_fail(file.p, file.len, &d, HAVM_E_CONFIG, "device uart.0 is in the saved state but not in this machine");
	tu_desc(&d);
	assert_int_equal(vsv_desc_add_device(&d, "rtc", 0, 1), 0);
	expect_fail(file.p, file.len, &d, HAVM_E_CONFIG, "device rtc.0 of this machine is missing");
	tu_desc(&d);
	d.devices[1].version = 1;  /* this build reads pic up to v1 */
	expect_fail(file.p, file.len, &d, HAVM_E_UNSUPPORTED, "device pic.0 state version 2 is newer than this build reads (1)");
}

static void test_newer_build_reads_older_device_version(void **state)
{
	(void)state;
	struct vsv_machine_desc d;
	tu_desc(&d);
	d.devices[1].version = d.devices[2].version = 3;
	struct vsv_reader *r;
	assert_int_equal(vsv_reader_open_mem(file.p, file.len, "t.vsv", &d, &r, NULL), 0);
	assert_null(tu_check(r, 1));
	vsv_reader_close(r);
}

static void test_disk_identity_and_generation_are_checked(void **state)
{
	(void)state;
	struct vsv_machine_desc d;
	tu_desc(&d);
	d.disks[0].generation = 6;
	expect_fail(file.p, file.len, &d, HAVM_E_STATE,
		    "disk ide0 has moved on since the save: state belongs to write generation 5, disk is at 6");
	tu_desc(&d);
	d.disks[0].uuid[15] ^= 1;
	expect_fail(file.p, file.len, &d, HAVM_E_CONFIG, "disk ide0 is a different disk: saved with 6a1f229e-0102");
	tu_desc(&d);
	d.disk_count = 0;
	expect_fail(file.p, file.len, &d, HAVM_E_CONFIG, "disk ide0 is in the saved state but not in this machine");
	tu_desc(&d);
	static const uint8_t u[16] = {0};
	assert_int_equal(vsv_desc_add_disk(&d, "ide1", u, 0), 0);
	expect_fail(file.p, file.len, &d, HAVM_E_CONFIG, "disk ide1 of this machine is not in the saved state");
}

/* Builds a file from the sections of the test file in the order @order
 * (indexes; -1 ends), with a recomputed trailer. */
static uint8_t *reassemble(const struct tu_buf *src, const int *order, size_t *len_out)
{
	uint64_t offs[16];
	size_t n = tu_sections(src->p, src->len, offs, 16);
	offs[n] = src->len - VSV_TRL_SIZE;
	uint8_t *p = malloc(src->len * 2);
	size_t len = vsv_rd32(src->p + VSV_HDR_FIRST);
	memcpy(p, src->p, len);
	for (; *order >= 0; order++) {
		size_t sz = offs[*order + 1] - offs[*order];
		memcpy(p + len, src->p + offs[*order], sz);
		len += sz;
	}
	len += VSV_TRL_SIZE;
	tu_fix_trailer(p, len);
	*len_out = len;
	return p;
}

static void test_duplicate_and_missing_sections_are_refused(void **state)
{
	(void)state;
	size_t len;
	const int dup[] = { 0, 1, 1, 2, 3, 4, 5, -1 };
	uint8_t *p = reassemble(&file, dup, &len);
	expect_fail(p, len, NULL, HAVM_E_FORMAT, "section pic.0 appears twice");
	free(p);
	const int only_dev[] = { 0, 1, 2, 3, -1 };
	p = reassemble(&file, only_dev, &len);
	expect_fail(p, len, NULL, HAVM_E_FORMAT, "no RAM pass for 262144 bytes of RAM");
	free(p);
	const int pass_twice[] = { 0, 1, 2, 3, 4, 4, 5, -1 };  /* moves by whole 4 KiB multiples */
	p = reassemble(&file, pass_twice, &len);
	expect_fail(p, len, NULL, HAVM_E_FORMAT, "pass 0 of 1");
	free(p);
	/* a machine without RAM lets sections move freely: drop cpu.0 */
	struct vsv_machine_desc d;
	tu_desc(&d);
	d.ram_size = 0;
	struct tu_buf norm = {0};
	struct vsv_writer *w;
	assert_int_equal(vsv_writer_open_sink(tu_sink, &norm, "mem", &d, &w, NULL), 0);
	assert_int_equal(tu_write_all(w, 3, NULL, 0, NULL), 0);
	assert_int_equal(vsv_writer_commit(w, NULL), 0);
	const int no_cpu[] = { 1, 2, 3, -1 };
	p = reassemble(&norm, no_cpu, &len);
	expect_fail(p, len, &d, HAVM_E_FORMAT, "device cpu.0 is in the machine description but has no section");
	free(p);
	const int all[] = { 0, 1, 2, 3, -1 };
	p = reassemble(&norm, all, &len);
	struct vsv_reader *r;
	assert_int_equal(vsv_reader_open_mem(p, len, "t.vsv", &d, &r, NULL), 0);
	vsv_reader_close(r);
	free(p);
	free(norm.p);
}

static void test_unknown_kind_and_unknown_device_are_refused(void **state)
{
	(void)state;
	uint64_t offs[16];
	tu_sections(file.p, file.len, offs, 16);
	uint8_t *p = copy();
	vsv_le16(p + offs[3] + VSV_SEC_KIND, 7);
	tu_fix_section(p, offs[3]);
	tu_fix_trailer(p, file.len);
	expect_fail(p, file.len, NULL, HAVM_E_FORMAT, "section uart at offset");
	free(p);
	p = copy();
	memcpy(p + offs[3] + VSV_SEC_NAME, "usb\0", 4);
	tu_fix_section(p, offs[3]);
	tu_fix_trailer(p, file.len);
	expect_fail(p, file.len, NULL, HAVM_E_FORMAT, "section usb.0 at offset");
	free(p);
	p = copy();
	vsv_le32(p + offs[1] + VSV_SEC_VERSION, 1);  /* pic.0 says v1, description v2 */
	tu_fix_section(p, offs[1]);
	tu_fix_trailer(p, file.len);
	expect_fail(p, file.len, NULL, HAVM_E_FORMAT, "has version 1, the description says 2");
	free(p);
	p = copy();
	vsv_le32(p + offs[5] + VSV_SEC_HDR_SIZE + VSV_PASS_NUMBER, 0);  /* second pass numbered 0 */
	const uint8_t *ph = p + offs[5] + VSV_SEC_HDR_SIZE;
	uint32_t nr = vsv_rd32(ph + VSV_PASS_RUNS);
	vsv_le32(p + offs[5] + VSV_SEC_HDR_SIZE + VSV_PASS_CRC,
		 vsv_crc32c(vsv_crc32c(0, ph, VSV_PASS_CRC), ph + VSV_PASS_HDR_SIZE, nr * VSV_RUN_SIZE));
	expect_fail(p, file.len, NULL, HAVM_E_FORMAT, "RAM pass header at offset");
	free(p);
}

static void test_trailer_count_and_digest_must_match(void **state)
{
	(void)state;
	uint8_t *p = copy();
	uint8_t *t = p + file.len - VSV_TRL_SIZE;
	vsv_le32(t + VSV_TRL_COUNT, 7);
	vsv_le32(t + VSV_TRL_CRC, vsv_crc32c(0, t, VSV_TRL_CRC));
	expect_fail(p, file.len, NULL, HAVM_E_FORMAT, "trailer says 7 sections");
	vsv_le32(t + VSV_TRL_COUNT, 6);
	vsv_le32(t + VSV_TRL_DIGEST, vsv_rd32(t + VSV_TRL_DIGEST) ^ 1);
	vsv_le32(t + VSV_TRL_CRC, vsv_crc32c(0, t, VSV_TRL_CRC));
	expect_fail(p, file.len, NULL, HAVM_E_FORMAT, "with digest");
	free(p);
}

static void test_missing_file_and_wrong_ram_size(void **state)
{
	(void)state;
	struct vsv_reader *r;
	struct havm_err e;
	assert_int_equal(vsv_reader_open("/nonexistent/x.vsv", NULL, &r, &e), -ENOENT);
	assert_int_equal(e.kind, HAVM_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "/nonexistent/x.vsv"));
	assert_int_equal(vsv_reader_open_mem(file.p, file.len, "t.vsv", NULL, &r, &e), 0);
	uint8_t ram[4096];
	assert_int_equal(vsv_ram_load(r, ram, sizeof(ram), 0, &e), -EINVAL);
	assert_int_equal(e.kind, HAVM_E_CONFIG);
	const void *data;
	size_t len;
	uint32_t ver;
	assert_int_equal(vsv_reader_section(r, "rtc", 0, &data, &len, &ver, &e), -ENOENT);
	assert_int_equal(e.kind, HAVM_E_NOTFOUND);
	vsv_reader_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_file_round_trips_devices_and_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_magic_is_not_a_vsv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_major_version_is_unsupported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_minor_version_is_unsupported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_and_description_checksums_are_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_section_header_and_payload_checksum_is_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupted_page_data_fails_load_and_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_at_any_offset_is_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_different_machine_is_refused_naming_the_difference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_build_reads_older_device_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_identity_and_generation_are_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_and_missing_sections_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_kind_and_unknown_device_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trailer_count_and_digest_must_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file_and_wrong_ram_size, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
