/* Unit tests for fencing/args.c (and the metadata's parameter list): the
 * stdin key=value protocol and the command line as fencing.py reads them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fencing/args.h"
#include "fencing/metadata.h"

struct parsed {
	struct fence_args a;
	char err[2048];
	int rc;
};

static void parse_stdin(struct parsed *p, const char *text)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	FILE *err = fmemopen(p->err, sizeof(p->err), "w");
	char *argv[] = { "fence_havm", NULL };
	memset(p->err, 0, sizeof(p->err));
	p->rc = fence_args_parse(&p->a, 1, argv, in, err);
	fclose(err);
	fclose(in);
}

static void parse_argv(struct parsed *p, int argc, char **argv)
{
	FILE *err = fmemopen(p->err, sizeof(p->err), "w");
	memset(p->err, 0, sizeof(p->err));
	p->rc = fence_args_parse(&p->a, argc, argv, stdin, err);
	fclose(err);
}

static void test_stdin_key_values_comments_quotes_and_last_wins(void **state)
{
	(void)state;
	struct parsed p;
	parse_stdin(&p, "# a comment\n\naction=status\n  plug=n1  \nplug=\"n2\"\ndevices=iscsi://h/iqn.2024-01.t:d/1\n");
	assert_int_equal(p.rc, 0);
	assert_string_equal(fence_arg(&p.a, FP_ACTION), "status");
	assert_string_equal(fence_arg(&p.a, FP_PLUG), "n2");
	assert_string_equal(fence_arg(&p.a, FP_DEVICES), "iscsi://h/iqn.2024-01.t:d/1");
	fence_args_free(&p.a);
}

static void test_stdin_aliases_option_port_and_dashes(void **state)
{
	(void)state;
	struct parsed p;
	parse_stdin(&p, "option=off\nport=n3\nkey-value=hash\npower-timeout=7\nnodename=n9\n");
	assert_int_equal(p.rc, 0);
	assert_string_equal(fence_arg(&p.a, FP_ACTION), "off");
	assert_string_equal(fence_arg(&p.a, FP_PLUG), "n3");
	assert_string_equal(fence_arg(&p.a, FP_KEY_VALUE), "hash");
	assert_int_equal(fence_arg_long(&p.a, FP_POWER_TIMEOUT), 7);
	assert_string_equal(fence_arg(&p.a, FP_NODENAME), "n9");
	fence_args_free(&p.a);
}

static void test_stdin_booleans_and_unknown_keys_are_warned(void **state)
{
	(void)state;
	struct parsed p;
	parse_stdin(&p, "verbose=yes\nquiet=maybe\ncolour=blue\n");
	assert_int_equal(p.rc, 0);
	assert_true(fence_arg_bool(&p.a, FP_VERBOSE));
	assert_int_equal(p.a.verbose, 1);
	assert_false(fence_arg_bool(&p.a, FP_QUIET));
	assert_non_null(strstr(p.err, "Ignoring unknown option 'colour=blue'"));
	assert_non_null(strstr(p.err, "Ignoring option 'quiet' because it does not have value"));
	fence_args_free(&p.a);
}

static void test_defaults_come_from_the_table(void **state)
{
	(void)state;
	struct parsed p;
	parse_stdin(&p, "");
	assert_string_equal(fence_arg(&p.a, FP_ACTION), "off");
	assert_int_equal(fence_arg_long(&p.a, FP_POWER_TIMEOUT), 20);
	assert_string_equal(fence_arg(&p.a, FP_KEY_VALUE), "id");
	assert_null(fence_arg(&p.a, FP_DEVICES));
	fence_args_free(&p.a);
}

static void test_cmdline_short_and_long_options(void **state)
{
	(void)state;
	struct parsed p;
	char *argv[] = { "fence_havm", "-o", "on", "-n", "n2", "--devices=iscsi://h/iqn.2024-01.t:d/1",
			 "-vv", "--delay", "3", "-k", "af1f0001", NULL };
	parse_argv(&p, 11, argv);
	assert_int_equal(p.rc, 0);
	assert_string_equal(fence_arg(&p.a, FP_ACTION), "on");
	assert_string_equal(fence_arg(&p.a, FP_PLUG), "n2");
	assert_string_equal(fence_arg(&p.a, FP_KEY), "af1f0001");
	assert_int_equal(fence_arg_long(&p.a, FP_DELAY), 3);
	assert_int_equal(p.a.verbose, 2);
	fence_args_free(&p.a);
}

static void test_cmdline_unknown_or_incomplete_option_fails(void **state)
{
	(void)state;
	struct parsed p;
	char *a1[] = { "fence_havm", "--bogus", NULL };
	parse_argv(&p, 2, a1);
	assert_int_equal(p.rc, -1);
	assert_non_null(strstr(p.err, "Failed: Parse error"));
	fence_args_free(&p.a);
	char *a2[] = { "fence_havm", "-o", NULL };
	parse_argv(&p, 2, a2);
	assert_int_equal(p.rc, -1);
	assert_non_null(strstr(p.err, "requires an argument"));
	fence_args_free(&p.a);
}

static void test_check_rejects_reboot_unknown_actions_bad_numbers_and_key_value(void **state)
{
	(void)state;
	static const struct {
		const char *in, *needle;
	} cases[] = {
		{ "action=reboot\n", "Unrecognised action 'reboot' (fabric fencing" },
		{ "action=explode\n", "Unrecognised action 'explode'" },
		{ "delay=abc\n", "--delay is not a valid time in seconds" },
		{ "power_timeout=-1\n", "--power-timeout is not a valid time" },
		{ "retry_on=1x\n", "--retry-on is not a valid integer" },
		{ "key_value=name\n", "key-value has to be 'id' or 'hash'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct parsed p;
		char msg[512] = "";
		parse_stdin(&p, cases[i].in);
		if (fence_args_check(&p.a, msg, sizeof(msg)) != -1 || !strstr(msg, cases[i].needle))
			fail_msg("input '%s': message '%s'", cases[i].in, msg);
		fence_args_free(&p.a);
	}
	struct parsed ok;
	char msg[512];
	parse_stdin(&ok, "action=list-status\ndelay=5\n");
	assert_int_equal(fence_args_check(&ok.a, msg, sizeof(msg)), 0);
	fence_args_free(&ok.a);
}

static void test_metadata_lists_every_parameter_and_unfencing_on_target(void **state)
{
	(void)state;
	char buf[32768];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	fence_metadata(f);
	fclose(f);
	for (int i = 0; i < FP_COUNT; i++) {
		char needle[128];
		snprintf(needle, sizeof(needle), "<parameter name=\"%s\"", fence_params[i].name);
		if (!strstr(buf, needle))
			fail_msg("metadata lacks %s", needle);
	}
	assert_non_null(strstr(buf, "<action name=\"on\" on_target=\"1\" automatic=\"1\"/>"));
	assert_null(strstr(buf, "\"reboot\""));
	assert_non_null(strstr(buf, "--key-value=&lt;id|hash&gt;"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stdin_key_values_comments_quotes_and_last_wins),
		cmocka_unit_test(test_stdin_aliases_option_port_and_dashes),
		cmocka_unit_test(test_stdin_booleans_and_unknown_keys_are_warned),
		cmocka_unit_test(test_defaults_come_from_the_table),
		cmocka_unit_test(test_cmdline_short_and_long_options),
		cmocka_unit_test(test_cmdline_unknown_or_incomplete_option_fails),
		cmocka_unit_test(test_check_rejects_reboot_unknown_actions_bad_numbers_and_key_value),
		cmocka_unit_test(test_metadata_lists_every_parameter_and_unfencing_on_target),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
