/* Unit tests for iscsi/pr_key.c: keys equal fence_scsi's generate_key()
 * (expected values computed with Python's hashlib as fence_scsi does), key
 * parsing, and node lists. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "iscsi/pr.h"

static void test_key_id_method_matches_fence_scsi(void **state)
{
	(void)state;
	/* python3: "%.4s%.4d" % (md5("rtest").hexdigest(), 2) == "af1f0002" */
	assert_true(pr_key_from_id("rtest", 0) == 0xaf1f0000ULL);
	assert_true(pr_key_from_id("rtest", 2) == 0xaf1f0002ULL);
	/* %.4d is a minimum width: five digits stay five digits */
	assert_true(pr_key_from_id("mycluster", 12345) == 0x6c9d12345ULL);
}

static void test_key_hash_method_matches_fence_scsi(void **state)
{
	(void)state;
	/* "%.4s%.4s" % (md5("rtest"), md5("n1")) == "af1fc825" */
	assert_true(pr_key_from_hash("rtest", "n1") == 0xaf1fc825ULL);
}

static void test_key_parse_accepts_hex_and_rejects_zero_and_junk(void **state)
{
	(void)state;
	uint64_t k;
	struct havm_err e;
	assert_int_equal(pr_key_parse("af1f0002", &k, &e), 0);
	assert_true(k == 0xaf1f0002ULL);
	assert_int_equal(pr_key_parse("0xAF1F0002", &k, &e), 0);
	assert_true(k == 0xaf1f0002ULL);
	assert_int_equal(pr_key_parse("ffffffffffffffff", &k, &e), 0);
	const char *bad[] = { "", "0", "0x", "00000", "xyz", "1ffffffffffffffff", "12 34", NULL };
	for (int i = 0; bad[i]; i++) {
		havm_err_clear(&e);
		if (pr_key_parse(bad[i], &k, &e) != -EINVAL || e.kind != HAVM_E_CONFIG)
			fail_msg("key '%s' accepted", bad[i]);
	}
	assert_non_null(strstr(e.msg, "hexadecimal"));
	assert_int_equal(pr_key_parse(NULL, &k, NULL), -EINVAL);
}

static void test_key_format_is_lowercase_without_leading_zeros(void **state)
{
	(void)state;
	char b[32];
	pr_key_format(0xaf1f0002ULL, b, sizeof(b));
	assert_string_equal(b, "af1f0002");
	pr_key_format(0x00ab0001ULL, b, sizeof(b));
	assert_string_equal(b, "ab0001");
}

static void test_cluster_list_gives_positions_and_local(void **state)
{
	(void)state;
	struct pr_cluster c;
	struct havm_err e;
	assert_int_equal(pr_cluster_from_list(&c, "rtest", "n1,n2,n3", "n2", &e), 0);
	assert_int_equal(c.count, 3);
	assert_int_equal(c.local, 1);
	assert_int_equal(pr_cluster_index(&c, "n3"), 2);
	assert_int_equal(pr_cluster_index(&c, "n4"), -1);
	uint64_t k;
	assert_int_equal(pr_cluster_key(&c, "n3", PR_KEY_ID, &k, &e), 0);
	assert_true(k == 0xaf1f0002ULL);
	assert_int_equal(pr_cluster_key(&c, "n1", PR_KEY_HASH, &k, &e), 0);
	assert_true(k == 0xaf1fc825ULL);
	havm_err_clear(&e);
	assert_int_equal(pr_cluster_key(&c, "n9", PR_KEY_ID, &k, &e), -ENOENT);
	assert_int_equal(e.kind, HAVM_E_NOTFOUND);
	assert_non_null(strstr(e.msg, "'n9' is not in the nodelist of cluster 'rtest'"));
}

static void test_cluster_list_rejects_empty_names(void **state)
{
	(void)state;
	struct pr_cluster c;
	struct havm_err e;
	assert_int_equal(pr_cluster_from_list(&c, "", "n1", NULL, &e), -EINVAL);
	assert_int_equal(pr_cluster_from_list(&c, "x", "n1,,n2", NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "position 2"));
	uint64_t k;
	assert_int_equal(pr_cluster_from_list(&c, "x", NULL, NULL, &e), 0);
	assert_int_equal(pr_cluster_key(&c, "", PR_KEY_HASH, &k, &e), -EINVAL);
}

static void test_cluster_from_cmap_without_corosync_says_so(void **state)
{
	(void)state;
	struct pr_cluster c;
	struct havm_err e;
	havm_err_clear(&e);
	int rc = pr_cluster_from_cmap(&c, &e);
	if (rc == 0) /* a corosync runs here: the name must then be set */
		assert_true(c.name[0] != '\0');
	else {
		assert_int_equal(e.kind, HAVM_E_CONFIG);
		assert_non_null(strstr(e.msg, "corosync cmap"));
	}
}

static void test_local_key_without_corosync_is_a_config_error(void **state)
{
	(void)state;
	uint64_t k = 0;
	struct havm_err e;
	havm_err_clear(&e);
	int rc = pr_local_key(PR_KEY_ID, &k, &e);
	if (rc == 0) /* a corosync with this node runs here */
		assert_true(k != 0);
	else
		assert_true(e.kind == HAVM_E_CONFIG || e.kind == HAVM_E_NOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_id_method_matches_fence_scsi),
		cmocka_unit_test(test_key_hash_method_matches_fence_scsi),
		cmocka_unit_test(test_key_parse_accepts_hex_and_rejects_zero_and_junk),
		cmocka_unit_test(test_key_format_is_lowercase_without_leading_zeros),
		cmocka_unit_test(test_cluster_list_gives_positions_and_local),
		cmocka_unit_test(test_cluster_list_rejects_empty_names),
		cmocka_unit_test(test_cluster_from_cmap_without_corosync_says_so),
		cmocka_unit_test(test_local_key_without_corosync_is_a_config_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
