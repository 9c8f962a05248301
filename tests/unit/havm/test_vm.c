/* Unit tests for havm/vm.c: the VM handle from parameters, and Open
 * (resolving, reading and checking the configuration). */
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
#include <sys/stat.h>
#include <unistd.h>

#include "havm/lifecycle.h"

static char dir[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/havm-vm.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static struct havm_vm *new_vm(const char *config, const char *store)
{
	struct havm_vm_params p = { .config = config, .store = store, .rundir = "/tmp/havm-unused" };
	struct havm_vm *vm = NULL;
	struct havm_err e;
	havm_err_clear(&e);
	int rc = havm_vm_new(&vm, &p, &e);
	if (rc < 0)
		fail_msg("havm_vm_new(%s): %s", config, e.msg);
	return vm;
}

static void test_name_is_config_file_name_without_vmc(void **state)
{
	(void)state;
	struct havm_vm *vm = new_vm("/srv/vms/web1.vmc", NULL);
	assert_string_equal(havm_vm_name(vm), "web1");
	assert_null(havm_vm_config_path(vm)); /* not opened yet */
	assert_string_equal(havm_vm_rundir(vm), "/tmp/havm-unused");
	havm_close(vm);
	vm = new_vm("/srv/vms/db.prod", NULL);
	assert_string_equal(havm_vm_name(vm), "db.prod");
	havm_close(vm);
	vm = new_vm("web2", "dir:/srv/store");
	assert_string_equal(havm_vm_name(vm), "web2");
	havm_close(vm);
}

static void test_bad_parameters_are_config_errors_naming_the_value(void **state)
{
	(void)state;
	static const struct {
		const char *config, *store, *rundir, *needle;
	} cases[] = {
		{ "", NULL, NULL, "config is empty" },
		{ NULL, NULL, NULL, "config is empty" },
		{ "web1.vmc", NULL, NULL, "'web1.vmc' is not an absolute path" },
		{ "/srv/.vmc", NULL, NULL, "VM name '.vmc'" },
		{ "/srv/bad name.vmc", NULL, NULL, "VM name 'bad name'" },
		{ "/srv/x.vmc", "nfs://h/t/0", NULL, "store 'nfs://h/t/0'" },
		{ "/srv/x.vmc", "dir:/s", NULL, "must be a name in the store" },
		{ "x", "dir:rel", NULL, "must be an absolute path" },
		{ "/srv/x.vmc", NULL, "run/rel", "rundir 'run/rel'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct havm_vm_params p = { .config = cases[i].config, .store = cases[i].store,
					    .rundir = cases[i].rundir };
		struct havm_vm *vm = (struct havm_vm *)1;
		struct havm_err e;
		havm_err_clear(&e);
		assert_true(havm_vm_new(&vm, &p, &e) < 0);
		assert_null(vm);
		assert_int_equal(e.kind, HAVM_E_CONFIG);
		if (!strstr(e.msg, cases[i].needle))
			fail_msg("case %zu: '%s' lacks '%s'", i, e.msg, cases[i].needle);
	}
	/* LUN and image stores are valid; Open reads the .vmc object (a
	 * missing image: notfound, naming it). */
	static const char *const luns[] = { "iscsi://h/iqn.2024-01.x:t/0", "file:/nonexistent/store.img" };
	for (size_t i = 0; i < 2; i++) {
		struct havm_vm_params lp = { .config = "web1", .store = luns[i] };
		struct havm_vm *lvm = NULL;
		struct havm_err le;
		assert_int_equal(havm_vm_new(&lvm, &lp, &le), 0);
		assert_string_equal(havm_vm_name(lvm), "web1");
		if (i == 1) {
			assert_true(havm_open(lvm, &le) < 0);
			assert_int_equal(le.kind, HAVM_E_NOTFOUND);
			assert_non_null(strstr(le.msg, "/nonexistent/store.img"));
		}
		havm_close(lvm);
	}
	struct havm_vm_params p = { .config = "/x.vmc", .stop_policy = (enum havm_stop_policy)7 };
	struct havm_vm *vm;
	struct havm_err e;
	assert_true(havm_vm_new(&vm, &p, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_CONFIG);
}

static void test_stop_policy_names_round_trip(void **state)
{
	(void)state;
	enum havm_stop_policy sp;
	static const char *const names[] = { "save", "shutdown", "poweroff" };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(havm_stop_policy_parse(names[i], &sp), 0);
		assert_string_equal(havm_stop_policy_name(sp), names[i]);
	}
	assert_int_equal(havm_stop_policy_parse("Save", &sp), -EINVAL);
	assert_int_equal(havm_stop_policy_parse("", &sp), -EINVAL);
	assert_int_equal(havm_stop_policy_parse(NULL, &sp), -EINVAL);
}

static void test_open_reads_well_formed_config_by_path_and_from_dir_store(void **state)
{
	(void)state;
	write_file("web1.vmc", "<?xml version=\"1.0\"?>\n<vm name=\"web1\"><memory unit=\"MiB\">4</memory>"
			       "<boot><image>web1.bin</image></boot></vm>\n");
	char path[PATH_MAX], store[PATH_MAX];
	snprintf(path, sizeof(path), "%s/web1.vmc", dir);
	struct havm_vm *vm = new_vm(path, NULL);
	struct havm_err e;
	assert_int_equal(havm_open(vm, &e), 0);
	assert_string_equal(havm_vm_config_path(vm), path);
	havm_close(vm);

	snprintf(store, sizeof(store), "dir:%s", dir);
	vm = new_vm("web1", store); /* ".vmc" is added */
	assert_int_equal(havm_open(vm, &e), 0);
	assert_string_equal(havm_vm_config_path(vm), path);
	havm_close(vm);
	vm = new_vm("web1.vmc", store);
	assert_int_equal(havm_open(vm, &e), 0);
	assert_string_equal(havm_vm_config_path(vm), path);
	havm_close(vm);
}

static void open_fails(const char *file, enum havm_err_kind kind, const char *needle)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	struct havm_vm *vm = new_vm(path, NULL);
	struct havm_err e;
	havm_err_clear(&e);
	int rc = havm_open(vm, &e);
	bool path_cleared = havm_vm_config_path(vm) == NULL;
	havm_close(vm);
	assert_true(rc < 0);
	assert_int_equal(e.kind, kind);
	if (!strstr(e.msg, needle))
		fail_msg("'%s' lacks '%s'", e.msg, needle);
	assert_true(path_cleared);
}

static void test_open_errors_name_file_line_and_kind(void **state)
{
	(void)state;
	open_fails("missing.vmc", HAVM_E_NOTFOUND, "missing.vmc: no such file on this node");
	write_file("broken.vmc", "<vm>\n<memory>\n</vm>\n");
	open_fails("broken.vmc", HAVM_E_FORMAT, "broken.vmc:4: Premature end of data");
	write_file("empty.vmc", "");
	open_fails("empty.vmc", HAVM_E_FORMAT, "empty.vmc: empty file");
	/* The content is validated by vmcore's .vmc parser. */
	write_file("tib.vmc", "<vm name=\"tib\">\n<memory unit=\"TiB\">4</memory>\n"
			      "<boot><image>x.bin</image></boot></vm>\n");
	open_fails("tib.vmc", HAVM_E_CONFIG, "tib.vmc:2: <memory>");
	/* Its <vm name> must be the file name: the runtime state is found by it. */
	write_file("web2.vmc", "<vm name=\"web3\"><memory unit=\"MiB\">4</memory>"
			       "<boot><image>x.bin</image></boot></vm>\n");
	open_fails("web2.vmc", HAVM_E_CONFIG, "<vm name=\"web3\">: expected \"web2\", the file name");
	write_file("text.vmc", "memory=64\n");
	open_fails("text.vmc", HAVM_E_FORMAT, "text.vmc:1:");
	/* A directory is not a configuration. */
	char sub[PATH_MAX];
	snprintf(sub, sizeof(sub), "%s/d.vmc", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	open_fails("d.vmc", HAVM_E_FORMAT, "not a regular file");
	/* Far too big for a VM description. */
	write_file("big.vmc", "");
	char big[PATH_MAX];
	snprintf(big, sizeof(big), "%s/big.vmc", dir);
	assert_int_equal(truncate(big, 2 << 20), 0);
	open_fails("big.vmc", HAVM_E_FORMAT, "expected at most");
	/* The prefix names the VM once. */
	open_fails("missing.vmc", HAVM_E_NOTFOUND, "vm missing: ");
	if (geteuid() != 0) { /* root reads anything */
		write_file("secret.vmc", "<vm name=\"secret\"/>");
		snprintf(sub, sizeof(sub), "%s/secret.vmc", dir);
		chmod(sub, 0);
		open_fails("secret.vmc", HAVM_E_IO, "cannot open");
	}
}

static void test_deadline_counts_down_and_unset_is_unbounded(void **state)
{
	(void)state;
	struct havm_deadline dl = havm_deadline_in(10000);
	uint64_t left = havm_deadline_left_ms(&dl);
	assert_true(left > 9000 && left <= 10000);
	struct havm_deadline past = havm_deadline_in(0);
	assert_int_equal(havm_deadline_left_ms(&past), 0);
	struct havm_deadline none = { 0 };
	assert_true(havm_deadline_left_ms(&none) == UINT64_MAX);
	assert_true(havm_deadline_left_ms(NULL) == UINT64_MAX);
}

static void test_state_path_is_beside_the_vmc_in_the_dir_store_or_an_object_in_a_lun_store(void **state)
{
	(void)state;
	char buf[PATH_MAX];
	struct havm_vm *vm = new_vm("/srv/vms/web1.vmc", NULL);
	assert_int_equal(havm_vm_state_path(vm, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/srv/vms/web1.vsv");
	havm_close(vm);
	vm = new_vm("/web2", NULL); /* no .vmc suffix, at the root */
	assert_int_equal(havm_vm_state_path(vm, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/web2.vsv");
	havm_close(vm);
	vm = new_vm("web3", "dir:/shared/store");
	assert_int_equal(havm_vm_state_path(vm, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/shared/store/web3.vsv");
	assert_int_equal(havm_vm_state_path(vm, buf, 10), -ENAMETOOLONG);
	havm_close(vm);
	vm = new_vm("web4", "iscsi://127.0.0.1/iqn.2024-01.test:s/1");
	assert_int_equal(havm_vm_state_path(vm, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "web4.vsv"); /* an object in the LUN store */
	havm_close(vm);
	assert_string_equal(havm_online_how_name(HAVM_ONLINE_RESTORED), "restored");
	assert_string_equal(havm_online_how_name(HAVM_ONLINE_BOOTED), "booted");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_is_config_file_name_without_vmc),
		cmocka_unit_test(test_bad_parameters_are_config_errors_naming_the_value),
		cmocka_unit_test(test_stop_policy_names_round_trip),
		cmocka_unit_test_setup_teardown(test_open_reads_well_formed_config_by_path_and_from_dir_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors_name_file_line_and_kind, setup, teardown),
		cmocka_unit_test(test_deadline_counts_down_and_unset_is_unbounded),
		cmocka_unit_test(test_state_path_is_beside_the_vmc_in_the_dir_store_or_an_object_in_a_lun_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
