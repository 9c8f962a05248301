/* Unit tests for agent/env.c: parameters, meta attributes, probes and the
 * time budget from OCF_RESKEY_CRM_meta_timeout. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"

static const char *const vars[] = {
	"OCF_RESKEY_config", "OCF_RESKEY_store", "OCF_RESKEY_rundir", "OCF_RESKEY_stop_policy",
	"OCF_RESKEY_migrate_downtime", "OCF_RESKEY_migrate_passes", "OCF_RESKEY_CRM_meta_timeout",
	"OCF_RESKEY_CRM_meta_interval", "OCF_CHECK_LEVEL", "OCF_RESKEY_crm_feature_set",
	"OCF_RESOURCE_INSTANCE", "OCF_RESKEY_CRM_meta_migrate_target",
};

static int clean_env(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	return 0;
}

static void test_defaults_with_only_config(void **state)
{
	(void)state;
	setenv("OCF_RESKEY_config", "/srv/web1.vmc", 1);
	setenv("OCF_RESOURCE_INSTANCE", "vm-web1", 1);
	struct agent_env env;
	agent_env_load(&env, "start");
	assert_int_equal(env.param_err.kind, HAVM_OK);
	assert_string_equal(env.config, "/srv/web1.vmc");
	assert_string_equal(env.store, "");
	assert_string_equal(env.instance, "vm-web1");
	assert_int_equal(env.stop_policy, HAVM_STOP_SAVE);
	assert_int_equal(env.migrate_downtime_ms, 500);
	assert_int_equal(env.migrate_passes, 8);
	assert_true(env.timeout_ms == AGENT_DEFAULT_TIMEOUT_MS);
	assert_int_equal(env.check_level, -1);
	assert_false(env.is_probe);
	assert_false(env.under_pacemaker);
	struct havm_vm_params p = agent_env_vm_params(&env);
	assert_string_equal(p.config, "/srv/web1.vmc");
	assert_false(p.require_cluster);
}

static void test_parameters_and_meta_attributes_are_read(void **state)
{
	(void)state;
	setenv("OCF_RESKEY_config", "web1", 1);
	setenv("OCF_RESKEY_store", "dir:/srv/store", 1);
	setenv("OCF_RESKEY_rundir", "/run/x", 1);
	setenv("OCF_RESKEY_stop_policy", "poweroff", 1);
	setenv("OCF_RESKEY_migrate_downtime", "250", 1);
	setenv("OCF_RESKEY_migrate_passes", "3", 1);
	setenv("OCF_RESKEY_CRM_meta_timeout", "90000", 1);
	setenv("OCF_RESKEY_CRM_meta_interval", "10000", 1);
	setenv("OCF_CHECK_LEVEL", "10", 1);
	setenv("OCF_RESKEY_crm_feature_set", "3.16.2", 1);
	setenv("OCF_RESKEY_CRM_meta_migrate_target", "n2", 1);
	struct agent_env env;
	agent_env_load(&env, "monitor");
	assert_int_equal(env.param_err.kind, HAVM_OK);
	assert_int_equal(env.stop_policy, HAVM_STOP_POWEROFF);
	/* shutdown parses, but this build cannot do it: a parameter error that
	 * names the reason, the policy kept for stop's fallback. */
	setenv("OCF_RESKEY_stop_policy", "shutdown", 1);
	struct agent_env env2;
	agent_env_load(&env2, "validate-all");
	assert_int_equal(env2.param_err.kind, HAVM_E_CONFIG);
	assert_non_null(strstr(env2.param_err.msg, "VM Additions"));
	assert_int_equal(env2.stop_policy, HAVM_STOP_SHUTDOWN);
	assert_int_equal(env.migrate_downtime_ms, 250);
	assert_int_equal(env.migrate_passes, 3);
	assert_true(env.timeout_ms == 90000);
	assert_true(env.interval_ms == 10000);
	assert_int_equal(env.check_level, 10);
	assert_false(env.is_probe);
	assert_true(env.under_pacemaker);
	assert_string_equal(env.migrate_target, "n2");
	assert_true(agent_env_vm_params(&env).require_cluster);
}

static void test_probe_is_monitor_with_zero_interval(void **state)
{
	(void)state;
	struct agent_env env;
	agent_env_load(&env, "monitor");
	assert_true(env.is_probe);
	setenv("OCF_RESKEY_CRM_meta_interval", "0", 1);
	agent_env_load(&env, "monitor");
	assert_true(env.is_probe);
	agent_env_load(&env, "stop");
	assert_false(env.is_probe);
}

static void expect_param_error(const char *var, const char *value, const char *needle)
{
	setenv("OCF_RESKEY_config", "/srv/web1.vmc", 1);
	setenv(var, value, 1);
	struct agent_env env;
	agent_env_load(&env, "start");
	assert_int_equal(env.param_err.kind, HAVM_E_CONFIG);
	if (!strstr(env.param_err.msg, needle))
		fail_msg("'%s' lacks '%s'", env.param_err.msg, needle);
	unsetenv(var);
}

static void test_bad_parameters_name_parameter_and_value(void **state)
{
	(void)state;
	struct agent_env env;
	agent_env_load(&env, "start");
	assert_int_equal(env.param_err.kind, HAVM_E_CONFIG);
	assert_non_null(strstr(env.param_err.msg, "parameter 'config' is required"));
	expect_param_error("OCF_RESKEY_stop_policy", "hibernate",
			   "parameter 'stop_policy' is 'hibernate', expected save, shutdown or poweroff");
	expect_param_error("OCF_RESKEY_rundir", "run/havm", "parameter 'rundir' is 'run/havm'");
	expect_param_error("OCF_RESKEY_migrate_downtime", "0", "'migrate_downtime' is '0'");
	expect_param_error("OCF_RESKEY_migrate_downtime", "5s", "expected an integer from 1 to 600000");
	expect_param_error("OCF_RESKEY_migrate_passes", "-1", "'migrate_passes' is '-1'");
	/* The field falls back to the default so the rules can go on. */
	setenv("OCF_RESKEY_stop_policy", "hibernate", 1);
	agent_env_load(&env, "stop");
	assert_int_equal(env.stop_policy, HAVM_STOP_SAVE);
}

static void test_unparsable_timeout_falls_back_to_default(void **state)
{
	(void)state;
	setenv("OCF_RESKEY_CRM_meta_timeout", "20s", 1);
	struct agent_env env;
	agent_env_load(&env, "stop");
	assert_true(env.timeout_ms == AGENT_DEFAULT_TIMEOUT_MS);
}

static void test_budget_leaves_margin_and_terminate_reserve(void **state)
{
	(void)state;
	struct agent_env env;
	setenv("OCF_RESKEY_CRM_meta_timeout", "60000", 1);
	agent_env_load(&env, "stop");
	struct havm_deadline total = agent_budget_total(&env);
	struct havm_deadline graceful = agent_budget_graceful(&env);
	uint64_t t = havm_deadline_left_ms(&total), g = havm_deadline_left_ms(&graceful);
	assert_true(t > 57000 && t <= 59000); /* 1 s margin */
	assert_true(g <= t - 5000 + 50 && g + 1000 > t - 5000); /* 5 s kept for Terminate */
	setenv("OCF_RESKEY_CRM_meta_timeout", "8000", 1);
	agent_env_load(&env, "stop");
	total = agent_budget_total(&env);
	graceful = agent_budget_graceful(&env);
	t = havm_deadline_left_ms(&total);
	g = havm_deadline_left_ms(&graceful);
	assert_true(t > 6200 && t <= 7200); /* margin at most a tenth */
	assert_true(g <= t - t / 4 + 50 && g + 1000 > t - t / 4); /* reserve a quarter */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults_with_only_config, clean_env),
		cmocka_unit_test_setup(test_parameters_and_meta_attributes_are_read, clean_env),
		cmocka_unit_test_setup(test_probe_is_monitor_with_zero_interval, clean_env),
		cmocka_unit_test_setup(test_bad_parameters_name_parameter_and_value, clean_env),
		cmocka_unit_test_setup(test_unparsable_timeout_falls_back_to_default, clean_env),
		cmocka_unit_test_setup(test_budget_leaves_margin_and_terminate_reserve, clean_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
