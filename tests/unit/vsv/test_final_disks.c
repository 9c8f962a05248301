/* Unit tests for vmcore/vsv/final_disks.c: a pre-copy file (format 1.1)
 * ends with the disks as they were at the last pass, and the reader checks
 * those, not the provisional ones in the description; plain files stay
 * 1.0; a file announcing the record without it, or a record in the wrong
 * place, is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tests/unit/vsv/vsv_test_util.h"
#include "vmcore/vsv/format_int.h"

/* A pre-copy file: header disk at generation 5, final record at @final_gen. */
static void make_final(struct tu_buf *out, uint64_t final_gen)
{
	struct vsv_machine_desc d, now;
	tu_desc(&d);
	d.flags = VSV_DESC_FINAL_DISKS;
	uint8_t *ram = malloc(TU_RAM_SIZE);
	tu_ram(ram, TU_RAM_SIZE, 3);
	memset(out, 0, sizeof(*out));
	struct vsv_writer *w;
	assert_int_equal(vsv_writer_open_sink(tu_sink, out, "mem.vsv", &d, &w, NULL), 0);
	assert_int_equal(tu_write_all(w, 3, ram, 2, NULL), 0);
	tu_desc(&now);
	now.disks[0].generation = final_gen;
	assert_int_equal(vsv_write_final_disks(w, &now, NULL), 0);
	assert_int_equal(vsv_writer_commit(w, NULL), 0);
	free(ram);
}

static int open_gen(const struct tu_buf *f, uint64_t gen, struct vsv_reader **r, struct havm_err *e)
{
	struct vsv_machine_desc d;
	tu_desc(&d);
	d.disks[0].generation = gen;
	havm_err_clear(e);
	return vsv_reader_open_mem(f->p, f->len, "t.vsv", &d, r, e);
}

static void test_final_record_supersedes_the_header_generation(void **state)
{
	(void)state;
	struct tu_buf f;
	make_final(&f, 9);
	assert_int_equal(vsv_rd16(f.p + VSV_HDR_MINOR), 1);
	assert_int_equal(vsv_rd32(f.p + VSV_HDR_FLAGS), VSV_FLAG_FINAL_DISKS);
	struct vsv_reader *r;
	struct havm_err e;
	assert_int_equal(open_gen(&f, 9, &r, &e), 0);
	assert_null(tu_check(r, 3));
	assert_int_equal(vsv_reader_desc(r)->disks[0].generation, 9);
	size_t n = vsv_reader_section_count(r);
	assert_int_equal(vsv_reader_section_at(r, n - 1)->kind, VSV_KIND_DISKS);
	vsv_reader_close(r);
	/* The generation at open (the header's) no longer counts. */
	assert_true(open_gen(&f, 5, &r, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_STATE);
	assert_non_null(strstr(e.msg, "write generation 9, disk is at 5"));
	free(f.p);
}

static void test_plain_files_stay_version_1_0(void **state)
{
	(void)state;
	struct tu_buf f;
	tu_make(&f, 1, 1);
	assert_int_equal(vsv_rd16(f.p + VSV_HDR_MINOR), 0);
	assert_int_equal(vsv_rd32(f.p + VSV_HDR_FLAGS), 0);
	struct vsv_reader *r;
	struct havm_err e;
	assert_int_equal(open_gen(&f, 5, &r, &e), 0);
	vsv_reader_close(r);
	free(f.p);
}

static void test_writer_enforces_the_record(void **state)
{
	(void)state;
	struct vsv_machine_desc d;
	struct tu_buf out = { 0 };
	uint8_t *ram = calloc(1, TU_RAM_SIZE);
	struct vsv_writer *w;
	struct havm_err e;
	/* Announced but not written: commit refuses. */
	tu_desc(&d);
	d.flags = VSV_DESC_FINAL_DISKS;
	assert_int_equal(vsv_writer_open_sink(tu_sink, &out, "mem.vsv", &d, &w, NULL), 0);
	assert_int_equal(tu_write_all(w, 1, ram, 1, NULL), 0);
	assert_true(vsv_writer_commit(w, &e) < 0);
	assert_non_null(strstr(e.msg, "no final disks record written"));
	/* Not announced: the record is refused. */
	tu_desc(&d);
	out.len = 0;
	assert_int_equal(vsv_writer_open_sink(tu_sink, &out, "mem.vsv", &d, &w, NULL), 0);
	assert_true(vsv_write_final_disks(w, &d, &e) < 0);
	assert_non_null(strstr(e.msg, "not opened for one"));
	vsv_writer_abort(w);
	/* Other slots than the description's: refused. */
	d.flags = VSV_DESC_FINAL_DISKS;
	out.len = 0;
	assert_int_equal(vsv_writer_open_sink(tu_sink, &out, "mem.vsv", &d, &w, NULL), 0);
	struct vsv_machine_desc other = d;
	memcpy(other.disks[0].slot, "vdb", 4);
	assert_true(vsv_write_final_disks(w, &other, &e) < 0);
	assert_non_null(strstr(e.msg, "disk 0 is vdb, the description has ide0"));
	vsv_writer_abort(w);
	/* Nothing but commit after the record. */
	out.len = 0;
	assert_int_equal(vsv_writer_open_sink(tu_sink, &out, "mem.vsv", &d, &w, NULL), 0);
	assert_int_equal(vsv_write_final_disks(w, &d, NULL), 0);
	assert_true(vsv_section_begin(w, "cpu", 0, 1, &e) < 0);
	assert_non_null(strstr(e.msg, "after the final disks record"));
	vsv_writer_abort(w);
	free(out.p);
	free(ram);
}

/* The file without its last section (the record), trailer recomputed. */
static void test_missing_or_misplaced_record_is_refused(void **state)
{
	(void)state;
	struct tu_buf f;
	make_final(&f, 9);
	uint64_t offs[16];
	size_t n = tu_sections(f.p, f.len, offs, 16);
	size_t rec_len = f.len - VSV_TRL_SIZE - offs[n - 1];
	uint8_t *p = malloc(f.len);
	memcpy(p, f.p, offs[n - 1]);
	size_t len = offs[n - 1] + VSV_TRL_SIZE;
	tu_fix_trailer(p, len);
	struct vsv_reader *r = NULL;
	struct vsv_machine_desc d;
	tu_desc(&d);
	struct havm_err e;
	assert_true(vsv_reader_open_mem(p, len, "t.vsv", &d, &r, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_FORMAT);
	assert_non_null(strstr(e.msg, "announces a final disks record, the file has none"));
	/* The record moved before the last device section: refused. */
	size_t last_len = offs[n - 1] - offs[n - 2];
	memcpy(p, f.p, offs[n - 2]);
	memcpy(p + offs[n - 2], f.p + offs[n - 1], rec_len);
	memcpy(p + offs[n - 2] + rec_len, f.p + offs[n - 2], last_len);
	len = f.len;
	tu_fix_trailer(p, len);
	assert_true(vsv_reader_open_mem(p, len, "t.vsv", &d, &r, &e) < 0);
	assert_non_null(strstr(e.msg, "follows the final disks record"));
	/* A 1.0 header cannot announce it (flags were reserved). */
	memcpy(p, f.p, f.len);
	vsv_le16(p + VSV_HDR_MINOR, 0);
	vsv_le32(p + VSV_HDR_CRC, vsv_crc32c(0, p, VSV_HDR_CRC));
	tu_fix_trailer(p, len);
	assert_true(vsv_reader_open_mem(p, len, "t.vsv", &d, &r, &e) < 0);
	assert_non_null(strstr(e.msg, "header: flags 0x1"));
	free(p);
	free(f.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_final_record_supersedes_the_header_generation),
		cmocka_unit_test(test_plain_files_stay_version_1_0),
		cmocka_unit_test(test_writer_enforces_the_record),
		cmocka_unit_test(test_missing_or_misplaced_record_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
