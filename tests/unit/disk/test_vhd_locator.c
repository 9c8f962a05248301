/* vhd_locator.c: UTF-16LE locators, UTF-16BE parent names, surrogates. */
#include "vhd_testimg.h"

static void test_vhd_utf16_be_parent_name_bytes(void **state)
{
	(void)state;
	uint8_t b[64];
	assert_int_equal(vhd_utf16_encode("dynamic.vhd", b, sizeof(b), 1), 22);
	assert_int_equal(b[0], 0);
	assert_int_equal(b[1], 'd');
	char s[64];
	assert_int_equal(vhd_utf16_decode(b, 22, 1, s, sizeof(s)), 11);
	assert_string_equal(s, "dynamic.vhd");
}

static void test_vhd_utf16_le_locator_and_non_ascii(void **state)
{
	(void)state;
	uint8_t b[64];
	/* ".\\é😀" : a BMP letter and a surrogate pair */
	int n = vhd_utf16_encode(".\\\xc3\xa9\xf0\x9f\x98\x80", b, sizeof(b), 0);
	assert_int_equal(n, 2 * 2 + 2 + 4);
	assert_int_equal(b[0], '.');
	assert_int_equal(b[1], 0);
	assert_int_equal(b[4], 0xe9);
	assert_int_equal(b[5], 0x00);
	assert_int_equal(b[6], 0x3d); /* D83D little-endian */
	assert_int_equal(b[7], 0xd8);
	char s[64];
	assert_true(vhd_utf16_decode(b, (size_t)n, 0, s, sizeof(s)) > 0);
	assert_string_equal(s, ".\\\xc3\xa9\xf0\x9f\x98\x80");
}

static void test_vhd_utf16_unpaired_surrogate_and_limits(void **state)
{
	(void)state;
	uint8_t b[4] = { 0xd8, 0x00, 0x00, 0x41 }; /* BE: lone high surrogate, 'A' */
	char s[16];
	assert_true(vhd_utf16_decode(b, 4, 1, s, sizeof(s)) > 0);
	assert_string_equal(s, "\xef\xbf\xbd" "A");
	assert_int_equal(vhd_utf16_encode("abc", b, 4, 1), -ENAMETOOLONG);
	assert_int_equal(vhd_utf16_encode("\xff", b, 4, 1), -EILSEQ);
	assert_int_equal(vhd_utf16_decode((const uint8_t *)"a\0b\0c\0", 6, 0, s, 3), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhd_utf16_be_parent_name_bytes),
		cmocka_unit_test(test_vhd_utf16_le_locator_and_non_ascii),
		cmocka_unit_test(test_vhd_utf16_unpaired_surrogate_and_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
