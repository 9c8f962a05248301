/* .vmc parser: a full config, defaults, and one test per error that names
 * the element and what was expected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmcore/vmc/vmc.h"

static struct vmc_config *parse_ok(const char *xml)
{
	struct vmc_config *cfg = NULL;
	struct havm_err err;
	int rc = vmc_parse(xml, strlen(xml), "/etc/havm/vm.vmc", &cfg, &err);
	if (rc < 0)
		fail_msg("unexpected error: %s", err.msg);
	return cfg;
}

/* Parses @xml expecting failure; checks the kind and that every @needles
 * string is in the message. */
static void parse_bad(const char *xml, enum havm_err_kind kind, const char *n1, const char *n2)
{
	struct vmc_config *cfg = NULL;
	struct havm_err err;
	int rc = vmc_parse(xml, strlen(xml), "/etc/havm/vm.vmc", &cfg, &err);
	assert_true(rc < 0);
	assert_null(cfg);
	if (err.kind != kind || !strstr(err.msg, n1) || (n2 && !strstr(err.msg, n2)))
		fail_msg("kind %s message \"%s\" lacks \"%s\"/\"%s\"", havm_err_kind_name(err.kind),
			 err.msg, n1, n2 ? n2 : "");
}

#define BOOT "<boot><image>t.bin</image></boot>"
#define MEM "<memory>16</memory>"

static void test_vmc_full_linux_config(void **state)
{
	(void)state;
	struct vmc_config *c = parse_ok(
		"<vm name=\"web1\">\n"
		"  <memory unit=\"GiB\">1</memory>\n"
		"  <cpu backend=\"interp\"/>\n"
		"  <boot><kernel>/boot/vmlinux</kernel><initrd>rd.cpio</initrd>\n"
		"    <cmdline> console=ttyS0 panic=-1 </cmdline></boot>\n"
		"  <disk path=\"web1.vhd\" format=\"vhd\"/>\n"
		"  <disk store=\"data\" format=\"raw\" readonly=\"yes\"/>\n"
		"  <serial port=\"com2\" backend=\"socket\" path=\"/run/web1.serial\"/>\n"
		"  <serial port=\"com1\" backend=\"file\" path=\"web1.log\"/>\n"
		"  <control path=\"web1.sock\"/>\n"
		"</vm>\n");
	assert_string_equal(c->name, "web1");
	assert_int_equal(c->memory, 1u << 30);
	assert_string_equal(c->cpu_backend, "interp");
	assert_int_equal(c->boot, VMC_BOOT_LINUX);
	assert_string_equal(c->kernel, "/boot/vmlinux");
	assert_string_equal(c->initrd, "/etc/havm/rd.cpio");
	assert_string_equal(c->cmdline, "console=ttyS0 panic=-1");
	assert_int_equal(c->ndisks, 2);
	assert_string_equal(c->disks[0].path, "/etc/havm/web1.vhd");
	assert_int_equal(c->disks[0].format, VMC_DISK_VHD);
	assert_false(c->disks[0].readonly);
	assert_null(c->disks[1].path);
	assert_string_equal(c->disks[1].store, "data");
	assert_true(c->disks[1].readonly);
	assert_int_equal(c->nserials, 2);
	assert_int_equal(c->serials[0].port, 1);
	assert_int_equal(c->serials[0].backend, VMC_SERIAL_SOCKET);
	assert_string_equal(c->serials[1].path, "/etc/havm/web1.log");
	assert_string_equal(c->control, "/etc/havm/web1.sock");
	vmc_free(c);
}

static void test_vmc_flat_image_defaults(void **state)
{
	(void)state;
	struct vmc_config *c = parse_ok("<vm name=\"t\">" MEM BOOT "</vm>");
	assert_int_equal(c->memory, 16u << 20);
	assert_string_equal(c->cpu_backend, "interp");
	assert_int_equal(c->boot, VMC_BOOT_FLAT);
	assert_string_equal(c->image, "/etc/havm/t.bin");
	assert_int_equal(c->load_addr, 0x100000);
	assert_int_equal(c->entry, 0);
	assert_null(c->control);
	vmc_free(c);
}

static void test_vmc_rejects_malformed_xml_with_line(void **state)
{
	(void)state;
	parse_bad("<vm name=\"t\">\n<memory>16</memory\n</vm>", HAVM_E_FORMAT, "vm.vmc:", NULL);
	parse_bad("", HAVM_E_FORMAT, "vm.vmc", NULL);
}

static void test_vmc_rejects_wrong_root(void **state)
{
	(void)state;
	parse_bad("<machine/>", HAVM_E_CONFIG, "<machine>", "expected <vm>");
}

static void test_vmc_rejects_missing_or_bad_name(void **state)
{
	(void)state;
	parse_bad("<vm>" MEM BOOT "</vm>", HAVM_E_CONFIG, "<vm>", "name missing");
	parse_bad("<vm name=\"a/b\">" MEM BOOT "</vm>", HAVM_E_CONFIG, "name \"a/b\"", "expected");
}

static void test_vmc_rejects_bad_memory(void **state)
{
	(void)state;
	parse_bad("<vm name=\"t\"><memory>lots</memory>" BOOT "</vm>", HAVM_E_CONFIG, "<memory>", "\"lots\" is not a number");
	parse_bad("<vm name=\"t\"><memory unit=\"TiB\">1</memory>" BOOT "</vm>", HAVM_E_CONFIG, "<memory>", "unit \"TiB\"");
	parse_bad("<vm name=\"t\"><memory>4096</memory>" BOOT "</vm>", HAVM_E_CONFIG, "<memory>", "3072 MiB");
	parse_bad("<vm name=\"t\"><memory unit=\"B\">1048577</memory>" BOOT "</vm>", HAVM_E_CONFIG, "<memory>", "multiple of 4 KiB");
	parse_bad("<vm name=\"t\"><memory>-1</memory>" BOOT "</vm>", HAVM_E_CONFIG, "<memory>", "not a number");
	parse_bad("<vm name=\"t\">" BOOT "</vm>", HAVM_E_CONFIG, "<vm>", "no <memory>");
	parse_bad("<vm name=\"t\">" MEM MEM BOOT "</vm>", HAVM_E_CONFIG, "<memory>", "given twice");
}

static void test_vmc_rejects_bad_cpu(void **state)
{
	(void)state;
	parse_bad("<vm name=\"t\">" MEM "<cpu backend=\"qemu\"/>" BOOT "</vm>", HAVM_E_CONFIG, "<cpu>", "backend \"qemu\"");
	parse_bad("<vm name=\"t\">" MEM "<cpu/>" BOOT "</vm>", HAVM_E_CONFIG, "<cpu>", "backend missing");
}

static void test_vmc_rejects_bad_boot(void **state)
{
	(void)state;
	parse_bad("<vm name=\"t\">" MEM "</vm>", HAVM_E_CONFIG, "<vm>", "no <boot>");
	parse_bad("<vm name=\"t\">" MEM "<boot/></vm>", HAVM_E_CONFIG, "<boot>", "no <kernel> or <image>");
	parse_bad("<vm name=\"t\">" MEM "<boot><image>a</image><kernel>b</kernel></boot></vm>", HAVM_E_CONFIG, "<boot>", "both");
	parse_bad("<vm name=\"t\">" MEM "<boot><kernel> </kernel></boot></vm>", HAVM_E_CONFIG, "<kernel>", "empty");
	parse_bad("<vm name=\"t\">" MEM "<boot><kernel>a</kernel><kernel>b</kernel></boot></vm>", HAVM_E_CONFIG, "<kernel>", "given twice");
	parse_bad("<vm name=\"t\">" MEM "<boot><bios>a</bios></boot></vm>", HAVM_E_CONFIG, "<bios>", "unknown element");
	parse_bad("<vm name=\"t\">" MEM "<boot><image load=\"zz\">a</image></boot></vm>", HAVM_E_CONFIG, "<image>", "load \"zz\"");
	parse_bad("<vm name=\"t\">" MEM "<boot><image load=\"0x1000\">a</image></boot></vm>", HAVM_E_CONFIG, "<image>", "at least 0x2000");
	parse_bad("<vm name=\"t\">" MEM "<boot><image>a</image><cmdline>x</cmdline></boot></vm>", HAVM_E_CONFIG, "<boot>", "both");
}

static void test_vmc_rejects_bad_disk(void **state)
{
	(void)state;
	parse_bad("<vm name=\"t\">" MEM BOOT "<disk format=\"raw\"/></vm>", HAVM_E_CONFIG, "<disk>", "neither path nor store");
	parse_bad("<vm name=\"t\">" MEM BOOT "<disk path=\"a\" store=\"b\" format=\"raw\"/></vm>", HAVM_E_CONFIG, "<disk>", "both path and store");
	parse_bad("<vm name=\"t\">" MEM BOOT "<disk path=\"a\"/></vm>", HAVM_E_CONFIG, "<disk>", "format missing");
	parse_bad("<vm name=\"t\">" MEM BOOT "<disk path=\"a\" format=\"qcow2\"/></vm>", HAVM_E_CONFIG, "<disk>", "format \"qcow2\"");
	parse_bad("<vm name=\"t\">" MEM BOOT "<disk path=\"a\" format=\"raw\" readonly=\"maybe\"/></vm>", HAVM_E_CONFIG, "<disk>", "readonly \"maybe\"");
	parse_bad("<vm name=\"t\">" MEM BOOT "<disk path=\"a\" format=\"raw\" size=\"1\"/></vm>", HAVM_E_CONFIG, "<disk>", "unknown attribute \"size\"");
	parse_bad("<vm name=\"t\">" MEM BOOT
		  "<disk path=\"a\" format=\"raw\"/><disk path=\"a\" format=\"raw\"/><disk path=\"a\" format=\"raw\"/>"
		  "<disk path=\"a\" format=\"raw\"/><disk path=\"a\" format=\"raw\"/></vm>", HAVM_E_CONFIG, "<disk>", "more than 4");
}

static void test_vmc_rejects_bad_serial(void **state)
{
	(void)state;
	parse_bad("<vm name=\"t\">" MEM BOOT "<serial port=\"com5\" backend=\"stdio\"/></vm>", HAVM_E_CONFIG, "<serial>", "port \"com5\"");
	parse_bad("<vm name=\"t\">" MEM BOOT "<serial port=\"com1\" backend=\"pty\"/></vm>", HAVM_E_CONFIG, "<serial>", "backend \"pty\"");
	parse_bad("<vm name=\"t\">" MEM BOOT "<serial port=\"com1\" backend=\"file\"/></vm>", HAVM_E_CONFIG, "<serial>", "needs a path");
	parse_bad("<vm name=\"t\">" MEM BOOT "<serial port=\"com1\" backend=\"stdio\" path=\"x\"/></vm>", HAVM_E_CONFIG, "<serial>", "takes no path");
	parse_bad("<vm name=\"t\">" MEM BOOT "<serial port=\"com1\" backend=\"stdio\"/><serial port=\"com1\" backend=\"stdio\"/></vm>",
		  HAVM_E_CONFIG, "<serial>", "given twice");
}

static void test_vmc_rejects_unknown_element_and_control_errors(void **state)
{
	(void)state;
	parse_bad("<vm name=\"t\">" MEM BOOT "<nic/></vm>", HAVM_E_CONFIG, "<nic>", "unknown element");
	parse_bad("<vm name=\"t\">" MEM BOOT "<control/></vm>", HAVM_E_CONFIG, "<control>", "path missing");
	parse_bad("<vm name=\"t\">" MEM BOOT "<control path=\"a\"/><control path=\"b\"/></vm>", HAVM_E_CONFIG, "<control>", "given twice");
	parse_bad("<vm name=\"t\">hello" MEM BOOT "</vm>", HAVM_E_CONFIG, "<vm>", "stray text");
}

static void test_vmc_error_names_the_line(void **state)
{
	(void)state;
	parse_bad("<vm name=\"t\">\n" MEM "\n" BOOT "\n<cpu backend=\"x\"/>\n</vm>", HAVM_E_CONFIG, "vm.vmc:4: <cpu>", NULL);
}

static void test_vmc_load_missing_file_is_notfound(void **state)
{
	(void)state;
	struct vmc_config *cfg = NULL;
	struct havm_err err;
	assert_int_equal(vmc_load("/nonexistent/x.vmc", &cfg, &err), -ENOENT);
	assert_int_equal(err.kind, HAVM_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "/nonexistent/x.vmc"));
}

static void test_vmc_load_resolves_paths_against_the_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/havm-vmc-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.vmc", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("<vm name=\"t\">" MEM BOOT "</vm>", f);
	fclose(f);
	struct vmc_config *cfg = NULL;
	struct havm_err err;
	assert_int_equal(vmc_load(path, &cfg, &err), 0);
	char want[80];
	snprintf(want, sizeof(want), "%s/t.bin", dir);
	assert_string_equal(cfg->image, want);
	vmc_free(cfg);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmc_full_linux_config),
		cmocka_unit_test(test_vmc_flat_image_defaults),
		cmocka_unit_test(test_vmc_rejects_malformed_xml_with_line),
		cmocka_unit_test(test_vmc_rejects_wrong_root),
		cmocka_unit_test(test_vmc_rejects_missing_or_bad_name),
		cmocka_unit_test(test_vmc_rejects_bad_memory),
		cmocka_unit_test(test_vmc_rejects_bad_cpu),
		cmocka_unit_test(test_vmc_rejects_bad_boot),
		cmocka_unit_test(test_vmc_rejects_bad_disk),
		cmocka_unit_test(test_vmc_rejects_bad_serial),
		cmocka_unit_test(test_vmc_rejects_unknown_element_and_control_errors),
		cmocka_unit_test(test_vmc_error_names_the_line),
		cmocka_unit_test(test_vmc_load_missing_file_is_notfound),
		cmocka_unit_test(test_vmc_load_resolves_paths_against_the_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
