/* Unit tests for iscsi/url.c: iscsi:// URLs parse into their parts, and bad
 * ones are refused with a message naming the part. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "iscsi/lun.h"

static void test_url_full_form_with_chap_and_port(void **state)
{
	(void)state;
	struct lun_url u;
	struct havm_err e;
	assert_int_equal(lun_url_parse("iscsi://alice%s3cret@san1.example:3261/iqn.2024-01.org.example:disk0/3", &u, &e), 0);
	assert_string_equal(u.user, "alice");
	assert_string_equal(u.password, "s3cret");
	assert_string_equal(u.host, "san1.example");
	assert_int_equal(u.port, 3261);
	assert_string_equal(u.portal, "san1.example:3261");
	assert_string_equal(u.target, "iqn.2024-01.org.example:disk0");
	assert_int_equal(u.lun, 3);
	assert_int_equal(u.digest, LUN_DIGEST_NONE_CRC32C);
}

static void test_url_defaults_port_3260_and_no_chap(void **state)
{
	(void)state;
	struct lun_url u;
	assert_int_equal(lun_url_parse("iscsi://10.0.0.1/iqn.2024-01.t:d/0", &u, NULL), 0);
	assert_int_equal(u.port, 3260);
	assert_string_equal(u.user, "");
	assert_string_equal(u.portal, "10.0.0.1:3260");
	assert_int_equal(u.lun, 0);
}

static void test_url_ipv6_in_brackets(void **state)
{
	(void)state;
	struct lun_url u;
	assert_int_equal(lun_url_parse("iscsi://[fe80::1]:3262/iqn.2024-01.t:d/1", &u, NULL), 0);
	assert_string_equal(u.host, "fe80::1");
	assert_string_equal(u.portal, "[fe80::1]:3262");
	char buf[256];
	lun_url_format(&u, buf, sizeof(buf));
	assert_string_equal(buf, "iscsi://[fe80::1]:3262/iqn.2024-01.t:d/1");
}

static void test_url_password_may_contain_at_sign_and_is_not_formatted(void **state)
{
	(void)state;
	struct lun_url u;
	assert_int_equal(lun_url_parse("iscsi://bob%p@ss@h/iqn.2024-01.t:d/1", &u, NULL), 0);
	assert_string_equal(u.user, "bob");
	assert_string_equal(u.password, "p@ss");
	char buf[256];
	lun_url_format(&u, buf, sizeof(buf));
	assert_string_equal(buf, "iscsi://bob@h:3260/iqn.2024-01.t:d/1");
}

static void test_url_options_mutual_chap_and_digest(void **state)
{
	(void)state;
	struct lun_url u;
	assert_int_equal(lun_url_parse("iscsi://a%b@h/iqn.2024-01.t:d/1?target_user=t&target_password=tp&header_digest=crc32c", &u, NULL), 0);
	assert_string_equal(u.target_user, "t");
	assert_string_equal(u.target_password, "tp");
	assert_int_equal(u.digest, LUN_DIGEST_CRC32C);
}

static void test_url_io_deadline_option_absent_is_minus_one(void **state)
{
	(void)state;
	struct lun_url u;
	assert_int_equal(lun_url_parse("iscsi://h/iqn.2024-01.t:d/1", &u, NULL), 0);
	assert_int_equal(u.io_deadline_s, -1);
	assert_int_equal(lun_url_parse("iscsi://h/iqn.2024-01.t:d/1?io_deadline=20", &u, NULL), 0);
	assert_int_equal(u.io_deadline_s, 20);
	assert_int_equal(lun_url_parse("iscsi://h/iqn.2024-01.t:d/1?io_deadline=0", &u, NULL), 0);
	assert_int_equal(u.io_deadline_s, 0);
}

struct bad_case {
	const char *url;
	const char *needle;
};

static void test_url_bad_inputs_name_the_part(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{ "", "bad URL" },
		{ "http://h/iqn.2024-01.t:d/1", "bad scheme" },
		{ "iscsi://h", "no '/target-iqn/lun'" },
		{ "iscsi:///iqn.2024-01.t:d/1", "bad host" },
		{ "iscsi://h:0/iqn.2024-01.t:d/1", "bad port" },
		{ "iscsi://h:65536/iqn.2024-01.t:d/1", "bad port" },
		{ "iscsi://h:x/iqn.2024-01.t:d/1", "bad port" },
		{ "iscsi://fe80::1/iqn.2024-01.t:d/1", "need brackets" },
		{ "iscsi://[fe80::1/iqn.2024-01.t:d/1", "without ']'" },
		{ "iscsi://h/disk/1", "bad target name" },
		{ "iscsi://h//1", "bad target name" },
		{ "iscsi://h/iqn.2024-01.t:d", "bad lun" },
		{ "iscsi://h/iqn.2024-01.t:d/", "bad lun" },
		{ "iscsi://h/iqn.2024-01.t:d/-1", "bad lun" },
		{ "iscsi://h/iqn.2024-01.t:d/16384", "bad lun" },
		{ "iscsi://%pw@h/iqn.2024-01.t:d/1", "bad user" },
		{ "iscsi://u%@h/iqn.2024-01.t:d/1", "bad password" },
		{ "iscsi://h/iqn.2024-01.t:d/1?foo=1", "bad option" },
		{ "iscsi://h/iqn.2024-01.t:d/1?header_digest=md5", "header_digest" },
		{ "iscsi://h/iqn.2024-01.t:d/1?io_deadline=", "io_deadline" },
		{ "iscsi://h/iqn.2024-01.t:d/1?io_deadline=-1", "io_deadline" },
		{ "iscsi://h/iqn.2024-01.t:d/1?io_deadline=86401", "io_deadline" },
		{ "iscsi://h/iqn.2024-01.t:d/1?io_deadline=5s", "io_deadline" },
		{ "iscsi://a%b@h/iqn.2024-01.t:d/1?target_user=t", "go together" },
		{ "iscsi://h/iqn.2024-01.t:d/1?target_user=t&target_password=p", "needs a user" },
		{ "iscsi://h o/iqn.2024-01.t:d/1", "bad host" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lun_url u;
		struct havm_err e;
		havm_err_clear(&e);
		int rc = lun_url_parse(cases[i].url, &u, &e);
		if (rc != -EINVAL || e.kind != HAVM_E_CONFIG || !strstr(e.msg, cases[i].needle))
			fail_msg("url '%s': rc %d kind %d msg '%s' (wanted '%s')", cases[i].url, rc, e.kind, e.msg,
				 cases[i].needle);
	}
}

static void test_url_error_never_shows_the_password(void **state)
{
	(void)state;
	struct lun_url u;
	struct havm_err e;
	assert_int_equal(lun_url_parse("iscsi://u%topsecret@h/iqn.2024-01.t:d/x", &u, &e), -EINVAL);
	assert_null(strstr(e.msg, "topsecret"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_full_form_with_chap_and_port),
		cmocka_unit_test(test_url_defaults_port_3260_and_no_chap),
		cmocka_unit_test(test_url_ipv6_in_brackets),
		cmocka_unit_test(test_url_password_may_contain_at_sign_and_is_not_formatted),
		cmocka_unit_test(test_url_options_mutual_chap_and_digest),
		cmocka_unit_test(test_url_io_deadline_option_absent_is_minus_one),
		cmocka_unit_test(test_url_bad_inputs_name_the_part),
		cmocka_unit_test(test_url_error_never_shows_the_password),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
