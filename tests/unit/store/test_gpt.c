/* iscsi/gpt*.c: GPT round trips on a memory backend, the backup copy when
 * the primary is bad, strict validation with messages that say what is
 * wrong, names in UTF-16LE, GUIDs mixed-endian on disk. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/gpt.h"
#include "iscsi/gpt_int.h"

#define DEV_SECTORS 8192u /* 4 MiB */

struct fx {
	uint8_t *disk;
	struct blk_backend *be;
	struct gpt_table t;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->disk = calloc(DEV_SECTORS, GPT_SECTOR);
	assert_int_equal(blk_backend_mem_open(f->disk, (size_t)DEV_SECTORS * GPT_SECTOR, 1, &f->be), 0);
	assert_int_equal(gpt_init(&f->t, DEV_SECTORS, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	assert_int_equal(blk_backend_close(f->be), 0);
	free(f->disk);
	free(f);
	return 0;
}

static void add(struct gpt_table *t, unsigned i, const char *type, uint64_t first, uint64_t last, const char *name)
{
	struct gpt_part *p = &t->part[i];
	assert_int_equal(gpt_guid_parse(type, p->type), 0);
	assert_int_equal(gpt_guid_random(p->uuid), 0);
	p->first_lba = first;
	p->last_lba = last;
	p->attrs = 0x12ull << 48;
	snprintf(p->name, sizeof(p->name), "%s", name);
}

#define T_VHD "b07a15d2-1d51-42d1-8f21-5a11637e50c8"
#define T_VMC "3b52f459-be42-4d94-9724-479aa8479040"

/* Writes one copy as raw bytes, bypassing gpt_write's validation. */
static void write_raw_copy(struct fx *f, const struct gpt_table *t, int primary)
{
	uint8_t hdr[GPT_SECTOR], array[GPT_ARRAY_SECTORS * GPT_SECTOR];
	gpt_encode(t, primary, hdr, array);
	uint64_t hl = primary ? 1 : DEV_SECTORS - 1, al = primary ? 2 : DEV_SECTORS - 1 - GPT_ARRAY_SECTORS;
	memcpy(f->disk + hl * GPT_SECTOR, hdr, sizeof(hdr));
	memcpy(f->disk + al * GPT_SECTOR, array, sizeof(array));
}

static void test_gpt_round_trip_keeps_every_field(void **state)
{
	struct fx *f = *state;
	add(&f->t, 0, T_VMC, 2048, 2048, "web1.vmc");
	add(&f->t, 5, T_VHD, 4096, 6143, "web1.vhd");
	assert_int_equal(gpt_write(f->be, &f->t, true, NULL), 0);
	struct gpt_table r;
	assert_int_equal(gpt_read(f->be, &r, NULL), GPT_PRIMARY_OK | GPT_BACKUP_OK);
	assert_true(gpt_equal(&f->t, &r));
	assert_string_equal(r.part[5].name, "web1.vhd");
	assert_int_equal(r.part[5].first_lba, 4096);
	assert_int_equal(r.part[5].attrs, 0x12ull << 48);
	assert_int_equal(r.first_usable, 34);
	assert_int_equal(r.last_usable, DEV_SECTORS - 34);
	assert_false(gpt_part_used(&r.part[1]));
}

static void test_gpt_protective_mbr_and_on_disk_layout(void **state)
{
	struct fx *f = *state;
	add(&f->t, 0, T_VHD, 2048, 4095, "a.vhd");
	assert_int_equal(gpt_write(f->be, &f->t, true, NULL), 0);
	assert_int_equal(f->disk[446 + 4], 0xee);
	assert_int_equal(f->disk[510], 0x55);
	assert_int_equal(f->disk[511], 0xaa);
	assert_memory_equal(f->disk + 512, "EFI PART", 8);
	assert_memory_equal(f->disk + (size_t)(DEV_SECTORS - 1) * 512, "EFI PART", 8);
	/* Type GUID b07a15d2-1d51-42d1-... is stored d2 15 7a b0 51 1d d1 42 8f 21 ... */
	const uint8_t want[10] = { 0xd2, 0x15, 0x7a, 0xb0, 0x51, 0x1d, 0xd1, 0x42, 0x8f, 0x21 };
	assert_memory_equal(f->disk + 2 * 512, want, sizeof(want));
	/* Name "a.vhd" in UTF-16LE at entry offset 56. */
	const uint8_t name[6] = { 'a', 0, '.', 0, 'v', 0 };
	assert_memory_equal(f->disk + 2 * 512 + 56, name, sizeof(name));
}

static void test_gpt_bad_primary_header_falls_back_to_backup(void **state)
{
	struct fx *f = *state;
	add(&f->t, 0, T_VHD, 2048, 4095, "a.vhd");
	assert_int_equal(gpt_write(f->be, &f->t, true, NULL), 0);
	f->disk[512 + 40] ^= 1; /* first usable LBA: header CRC now wrong */
	struct gpt_table r;
	assert_int_equal(gpt_read(f->be, &r, NULL), GPT_BACKUP_OK);
	assert_true(gpt_equal(&f->t, &r));
}

static void test_gpt_bad_primary_array_falls_back_to_backup(void **state)
{
	struct fx *f = *state;
	add(&f->t, 0, T_VHD, 2048, 4095, "a.vhd");
	assert_int_equal(gpt_write(f->be, &f->t, true, NULL), 0);
	f->disk[2 * 512 + 33] ^= 0x40; /* first LBA of entry 0 */
	struct gpt_table r;
	assert_int_equal(gpt_read(f->be, &r, NULL), GPT_BACKUP_OK);
	assert_int_equal(r.part[0].first_lba, 2048);
}

static void test_gpt_both_copies_bad_is_a_format_error_naming_both(void **state)
{
	struct fx *f = *state;
	assert_int_equal(gpt_write(f->be, &f->t, true, NULL), 0);
	f->disk[512 + 16] ^= 1;                          /* primary header CRC */
	f->disk[(size_t)(DEV_SECTORS - 1) * 512] = 'X';  /* backup signature */
	struct gpt_table r;
	struct havm_err e;
	assert_int_equal(gpt_read(f->be, &r, &e), -EINVAL);
	assert_int_equal(e.kind, HAVM_E_FORMAT);
	assert_non_null(strstr(e.msg, "primary: header CRC32"));
	assert_non_null(strstr(e.msg, "backup: no \"EFI PART\" signature at LBA 8191"));
}

static void test_gpt_stale_backup_is_reported_as_differing(void **state)
{
	struct fx *f = *state;
	assert_int_equal(gpt_write(f->be, &f->t, true, NULL), 0);
	struct gpt_table n = f->t;
	add(&n, 0, T_VHD, 2048, 4095, "new.vhd");
	write_raw_copy(f, &n, 1); /* as if the writer died before the backup */
	struct gpt_table r;
	assert_int_equal(gpt_read(f->be, &r, NULL), GPT_PRIMARY_OK | GPT_BACKUP_OK | GPT_COPIES_DIFFER);
	assert_string_equal(r.part[0].name, "new.vhd"); /* the primary wins */
}

static void test_gpt_overlapping_entries_are_refused(void **state)
{
	struct fx *f = *state;
	add(&f->t, 0, T_VHD, 2048, 4095, "a.vhd");
	add(&f->t, 3, T_VHD, 4000, 5000, "b.vhd");
	struct havm_err e;
	assert_int_equal(gpt_write(f->be, &f->t, true, &e), -EINVAL);
	assert_string_equal(e.msg, "entry 3 (LBAs 4000..5000) overlaps entry 0 (LBAs 2048..4095)");
	/* The same table on disk (written raw) does not read either. */
	write_raw_copy(f, &f->t, 1);
	write_raw_copy(f, &f->t, 0);
	struct gpt_table r;
	assert_int_equal(gpt_read(f->be, &r, &e), -EINVAL);
	assert_int_equal(e.kind, HAVM_E_FORMAT);
	assert_non_null(strstr(e.msg, "overlaps entry 0"));
}

static void test_gpt_entry_past_the_end_is_refused(void **state)
{
	struct fx *f = *state;
	add(&f->t, 1, T_VHD, 2048, DEV_SECTORS, "big.vhd");
	struct havm_err e;
	assert_int_equal(gpt_validate(&f->t, &e), -EINVAL);
	assert_string_equal(e.msg, "entry 1: LBAs 2048..8192 outside the usable range 34..8158");
	f->t.part[1].last_lba = 100;
	assert_int_equal(gpt_validate(&f->t, &e), -EINVAL);
	assert_string_equal(e.msg, "entry 1: first LBA 2048 after last LBA 100");
}

static void test_gpt_array_past_the_end_is_refused(void **state)
{
	struct fx *f = *state;
	assert_int_equal(gpt_write(f->be, &f->t, true, NULL), 0);
	uint8_t hdr[GPT_SECTOR];
	memcpy(hdr, f->disk + 512, sizeof(hdr));
	hdr[72] = 0xf0, hdr[73] = 0x1f; /* entry array at LBA 8176: 32 sectors do not fit */
	uint64_t lba;
	uint32_t n;
	struct havm_err e;
	assert_int_equal(gpt_array_location(hdr, DEV_SECTORS, &lba, &n, &e), -EINVAL);
	assert_string_equal(e.msg, "entry array at LBA 8176 (32 sectors) past the end (8192 sectors)");
}

static void test_gpt_names_are_utf16le_both_ways(void **state)
{
	struct fx *f = *state;
	add(&f->t, 0, T_VHD, 2048, 2048, "d\xc3\xa9j\xc3\xa0-\xf0\x9f\x98\x80"); /* "déjà-😀" */
	assert_int_equal(gpt_write(f->be, &f->t, true, NULL), 0);
	const uint8_t u16[] = { 'd', 0, 0xe9, 0, 'j', 0, 0xe0, 0, '-', 0, 0x3d, 0xd8, 0x00, 0xde };
	assert_memory_equal(f->disk + 2 * 512 + 56, u16, sizeof(u16));
	struct gpt_table r;
	assert_true(gpt_read(f->be, &r, NULL) > 0);
	assert_string_equal(r.part[0].name, f->t.part[0].name);
}

static void test_gpt_bad_names_are_refused(void **state)
{
	struct fx *f = *state;
	add(&f->t, 0, T_VHD, 2048, 2048, "0123456789012345678901234567890123456"); /* 37 */
	struct havm_err e;
	assert_int_equal(gpt_validate(&f->t, &e), -EINVAL);
	assert_string_equal(e.msg, "entry 0: name is not UTF-8 of at most 36 UTF-16 units");
	snprintf(f->t.part[0].name, sizeof(f->t.part[0].name), "%s", "ok.vhd");
	write_raw_copy(f, &f->t, 1);
	write_raw_copy(f, &f->t, 0);
	/* An unpaired high surrogate in the primary copy: fixed CRCs, still refused. */
	uint8_t in[GPT_NAME_UNITS * 2] = { 'a', 0, 0x00, 0xd8, 'b', 0 };
	char out[GPT_NAME_MAX + 1];
	assert_int_equal(gpt_name_decode(in, out), -EINVAL);
	assert_int_equal(gpt_name_check("a\xed\xa0\x80"), -EINVAL); /* UTF-8 surrogate */
	assert_int_equal(gpt_name_check("\xc0\xaf"), -EINVAL);      /* overlong */
}

static void test_gpt_too_small_device_and_unsupported_entry_size(void **state)
{
	(void)state;
	struct gpt_table t;
	struct havm_err e;
	assert_int_equal(gpt_init(&t, 40, &e), -ENOSPC);
	assert_string_equal(e.msg, "device of 40 sectors is too small for a GPT (at least 68)");
	uint8_t hdr[GPT_SECTOR] = { 0 };
	hdr[84] = 0; hdr[85] = 1; /* entry size 256 */
	hdr[80] = 128;
	uint64_t lba;
	uint32_t n;
	assert_int_equal(gpt_array_location(hdr, 8192, &lba, &n, &e), -EINVAL);
	assert_int_equal(e.kind, HAVM_E_UNSUPPORTED);
	assert_string_equal(e.msg, "entry size 256, expected 128");
}

static void test_gpt_guid_text_round_trip(void **state)
{
	(void)state;
	uint8_t g[16];
	char s[37];
	assert_int_equal(gpt_guid_parse("967056C6-be30-4039-8469-1f0a16e98616", g), 0);
	gpt_guid_format(g, s);
	assert_string_equal(s, "967056c6-be30-4039-8469-1f0a16e98616");
	assert_int_equal(gpt_guid_parse("967056c6be30-4039-8469-1f0a16e98616x", g), -EINVAL);
	assert_int_equal(gpt_guid_parse("967056c6-be30-4039-8469-1f0a16e9861g", g), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gpt_round_trip_keeps_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpt_protective_mbr_and_on_disk_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpt_bad_primary_header_falls_back_to_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpt_bad_primary_array_falls_back_to_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpt_both_copies_bad_is_a_format_error_naming_both, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gpt_stale_backup_is_reported_as_differing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpt_overlapping_entries_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpt_entry_past_the_end_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpt_array_past_the_end_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpt_names_are_utf16le_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpt_bad_names_are_refused, setup, teardown),
		cmocka_unit_test(test_gpt_too_small_device_and_unsupported_entry_size),
		cmocka_unit_test(test_gpt_guid_text_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
