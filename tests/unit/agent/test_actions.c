/* Unit tests for agent/actions.c: the actions and the OCF rules for a broken
 * environment, against forked fake vmm processes (tests/unit/havm/fake_vmm.c)
 * and a stand-in corosync (havm/quorum_int.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent.h"
#include "havm/quorum_int.h"
#include "havm/runtime.h"
#include "tests/unit/havm/fake_vmm.h"

static char dir[PATH_MAX], rundir[PATH_MAX + 8], config[PATH_MAX + 16];

static cs_error_t no_corosync(quorum_handle_t *h, quorum_callbacks_t *cb, uint32_t *type)
{
	(void)h, (void)cb, (void)type;
	return CS_ERR_LIBRARY;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/havm-agent.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(rundir, sizeof(rundir), "%s/run", dir);
	snprintf(config, sizeof(config), "%s/web1.vmc", dir);
	FILE *fp = fopen(config, "w");
	fputs("<vm name=\"web1\"><memory unit=\"MiB\">4</memory><boot><image>w.bin</image></boot></vm>\n", fp);
	fclose(fp);
	static const char *const vars[] = { "OCF_RESKEY_store", "OCF_RESKEY_stop_policy",
					    "OCF_RESKEY_CRM_meta_interval", "OCF_CHECK_LEVEL",
					    "OCF_RESKEY_crm_feature_set" };
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	setenv("OCF_RESKEY_config", config, 1);
	setenv("OCF_RESKEY_rundir", rundir, 1);
	setenv("OCF_RESKEY_CRM_meta_timeout", "5000", 1);
	/* A "vmm" that exits at once: start runs for real up to the process
	 * (the real vmm: tests/integration/test_lifecycle_vmm.sh). */
	setenv("HAVM_VMM", "/bin/false", 1);
	havm_corosync_reset();
	havm_corosync.quorum_initialize = no_corosync;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static enum ocf_rc run(const char *action)
{
	static const struct {
		const char *name;
		agent_action_fn fn;
	} fns[] = { { "start", agent_start },	      { "stop", agent_stop },
		    { "monitor", agent_monitor },     { "validate-all", agent_validate_all },
		    { "migrate_to", agent_migrate_to }, { "migrate_from", agent_migrate_from } };
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (strcmp(fns[i].name, action) == 0) {
			struct agent_env env;
			agent_env_load(&env, action);
			return fns[i].fn(&env);
		}
	fail_msg("no action %s", action);
	return OCF_ERR_GENERIC;
}

static bool runtime_file(const char *leaf)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/web1/%s", rundir, leaf);
	return access(p, F_OK) == 0;
}

static void test_stop_without_config_parameter_succeeds(void **state)
{
	(void)state;
	unsetenv("OCF_RESKEY_config");
	assert_int_equal(run("stop"), OCF_SUCCESS);
}

static void test_stop_kills_running_vm_even_when_config_is_gone(void **state)
{
	(void)state;
	pid_t pid = fake_vmm_start(rundir, "web1", 0);
	assert_int_equal(unlink(config), 0);
	setenv("OCF_RESKEY_stop_policy", "bogus", 1); /* broken, but the VM must still stop */
	assert_int_equal(run("stop"), OCF_SUCCESS);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_false(runtime_file(HAVM_RUNTIME_PIDFILE));
	setenv("OCF_RESKEY_CRM_meta_interval", "0", 1);
	assert_int_equal(run("monitor"), OCF_NOT_RUNNING);
}

static void test_stop_of_stopped_vm_succeeds_and_cleans_crash(void **state)
{
	(void)state;
	assert_int_equal(run("stop"), OCF_SUCCESS); /* never ran */
	pid_t pid = fake_vmm_start(rundir, "web1", 0);
	fake_vmm_crash(pid);
	assert_true(runtime_file(HAVM_RUNTIME_SOCKET));
	assert_int_equal(run("stop"), OCF_SUCCESS);
	assert_false(runtime_file(HAVM_RUNTIME_SOCKET));
	assert_int_equal(run("stop"), OCF_SUCCESS); /* idempotent */
}

static void test_probe_on_broken_environment_is_not_running_recurring_is_error(void **state)
{
	(void)state;
	unsetenv("OCF_RESKEY_config");
	setenv("OCF_RESKEY_CRM_meta_interval", "0", 1);
	assert_int_equal(run("monitor"), OCF_NOT_RUNNING);
	setenv("OCF_RESKEY_CRM_meta_interval", "10000", 1);
	assert_int_equal(run("monitor"), OCF_ERR_GENERIC);
}

static void test_probe_finds_running_vm_although_config_unreadable(void **state)
{
	(void)state;
	pid_t pid = fake_vmm_start(rundir, "web1", 0);
	assert_int_equal(unlink(config), 0);
	setenv("OCF_RESKEY_CRM_meta_interval", "0", 1);
	assert_int_equal(run("monitor"), OCF_SUCCESS);
	setenv("OCF_RESKEY_CRM_meta_interval", "10000", 1);
	assert_int_equal(run("monitor"), OCF_SUCCESS);
	fake_vmm_crash(pid);
	assert_int_equal(run("monitor"), OCF_NOT_RUNNING);
}

static void test_monitor_depth_10_asks_the_vmm(void **state)
{
	(void)state;
	setenv("OCF_CHECK_LEVEL", "10", 1);
	setenv("OCF_RESKEY_CRM_meta_interval", "60000", 1);
	assert_int_equal(run("monitor"), OCF_NOT_RUNNING);
	/* A vmm process that does not answer its socket has failed... */
	pid_t pid = fake_vmm_start(rundir, "web1", 0);
	assert_int_equal(run("monitor"), OCF_ERR_GENERIC);
	/* ...though depth 0 sees only that the process runs. */
	setenv("OCF_CHECK_LEVEL", "0", 1);
	assert_int_equal(run("monitor"), OCF_SUCCESS);
	fake_vmm_crash(pid);
}

static void test_validate_all_codes(void **state)
{
	(void)state;
	setenv("HAVM_VMM", "/bin/true", 1);
	assert_int_equal(run("validate-all"), OCF_SUCCESS);
	setenv("HAVM_VMM", "/nonexistent/vmm", 1);
	assert_int_equal(run("validate-all"), OCF_ERR_INSTALLED);
	setenv("HAVM_VMM", "/bin/true", 1);
	FILE *fp = fopen(config, "w");
	fputs("<vm>", fp);
	fclose(fp);
	assert_int_equal(run("validate-all"), OCF_ERR_CONFIGURED);
	setenv("OCF_CHECK_LEVEL", "0", 1); /* parameters only */
	assert_int_equal(run("validate-all"), OCF_SUCCESS);
	unsetenv("OCF_CHECK_LEVEL");
	unlink(config);
	assert_int_equal(run("validate-all"), OCF_ERR_INSTALLED);
	setenv("OCF_RESKEY_stop_policy", "hibernate", 1);
	assert_int_equal(run("validate-all"), OCF_ERR_CONFIGURED);
	unsetenv("OCF_RESKEY_stop_policy");
	setenv("OCF_RESKEY_config", "relative.vmc", 1);
	assert_int_equal(run("validate-all"), OCF_ERR_CONFIGURED);
	unsetenv("OCF_RESKEY_config");
	assert_int_equal(run("validate-all"), OCF_ERR_CONFIGURED);
}

static void test_start_rules(void **state)
{
	(void)state;
	/* Stand-alone: everything up to the vmm, which exits at once here. */
	assert_int_equal(run("start"), OCF_ERR_GENERIC);
	setenv("HAVM_VMM", "/nonexistent/vmm", 1);
	assert_int_equal(run("start"), OCF_ERR_INSTALLED);
	setenv("HAVM_VMM", "/bin/false", 1);
	/* Under Pacemaker a dead corosync is never stand-alone. */
	setenv("OCF_RESKEY_crm_feature_set", "3.16.2", 1);
	assert_int_equal(run("start"), OCF_ERR_GENERIC);
	unsetenv("OCF_RESKEY_crm_feature_set");
	/* Already running: start is a no-op success. */
	pid_t pid = fake_vmm_start(rundir, "web1", 0);
	assert_int_equal(run("start"), OCF_SUCCESS);
	assert_int_equal(fake_vmm_reap(pid), 0);
	fake_vmm_crash(pid);
	/* Broken parameters: configured-error, nothing started. */
	setenv("OCF_RESKEY_stop_policy", "hibernate", 1);
	assert_int_equal(run("start"), OCF_ERR_CONFIGURED);
	unsetenv("OCF_RESKEY_stop_policy");
	unlink(config);
	assert_int_equal(run("start"), OCF_ERR_INSTALLED);
}

static void test_migrate_validates_first_and_needs_a_running_vm_or_a_state(void **state)
{
	(void)state;
	/* Not running here: migrate_to fails (generic), nothing is written. */
	assert_int_equal(run("migrate_to"), OCF_ERR_GENERIC);
	char vsv[PATH_MAX];
	snprintf(vsv, sizeof(vsv), "%s/web1.vsv", dir);
	assert_int_equal(access(vsv, F_OK), -1);
	/* No state to resume from: migrate_from fails (generic, not a missing
	 * install that would ban the node) and never boots afresh. */
	setenv("HAVM_VMM", "/bin/true", 1);
	assert_int_equal(run("migrate_from"), OCF_ERR_GENERIC);
	setenv("OCF_RESKEY_stop_policy", "shutdown", 1);
	assert_int_equal(run("migrate_to"), OCF_ERR_CONFIGURED);
	unsetenv("OCF_RESKEY_stop_policy");
	unsetenv("OCF_RESKEY_config");
	assert_int_equal(run("migrate_to"), OCF_ERR_CONFIGURED);
	assert_int_equal(run("migrate_from"), OCF_ERR_CONFIGURED);
}

static void test_shutdown_policy_is_rejected_up_front_but_stop_still_stops(void **state)
{
	(void)state;
	setenv("HAVM_VMM", "/bin/true", 1);
	setenv("OCF_RESKEY_stop_policy", "shutdown", 1);
	assert_int_equal(run("validate-all"), OCF_ERR_CONFIGURED);
	setenv("OCF_CHECK_LEVEL", "0", 1);
	assert_int_equal(run("validate-all"), OCF_ERR_CONFIGURED);
	unsetenv("OCF_CHECK_LEVEL");
	assert_int_equal(run("start"), OCF_ERR_CONFIGURED);
	/* stop never fails over it: a fake vmm that answers nothing is
	 * terminated after the graceful attempts fail. */
	pid_t pid = fake_vmm_start(rundir, "web1", 0);
	assert_int_equal(run("stop"), OCF_SUCCESS);
	assert_int_equal(fake_vmm_reap(pid), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stop_without_config_parameter_succeeds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_kills_running_vm_even_when_config_is_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_of_stopped_vm_succeeds_and_cleans_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_on_broken_environment_is_not_running_recurring_is_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_finds_running_vm_although_config_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_depth_10_asks_the_vmm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validate_all_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_validates_first_and_needs_a_running_vm_or_a_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_policy_is_rejected_up_front_but_stop_still_stops, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
