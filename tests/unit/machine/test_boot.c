/* Loaders: flat images, ELF32 vmlinux, bzImage, the zero page recipe
 * (e820, cmdline, initrd, setup header) and the start state; bad images
 * are refused with messages naming the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmcore/machine/boot.h"
#include "vmcore/machine/pc.h"

static char dir[] = "/tmp/havm-boot-XXXXXX";
static char kpath[64], rdpath[64];

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(kpath, sizeof(kpath), "%s/kernel", dir);
	snprintf(rdpath, sizeof(rdpath), "%s/initrd", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(kpath);
	unlink(rdpath);
	rmdir(dir);
	return 0;
}

static void board(struct machine *m, uint32_t mib)
{
	struct pc_config cfg = { .ram_size = mib << 20, .rtc_time = 1 };
	struct havm_err err;
	if (pc_init(m, &cfg, &err) < 0)
		fail_msg("%s", err.msg);
	memset(m->ram, 0xaa, m->ram_size);
}

static uint32_t rd32(struct machine *m, uint32_t a)
{
	uint32_t v;
	memcpy(&v, m->ram + a, 4);
	return v;
}

static uint64_t rd64(struct machine *m, uint32_t a)
{
	uint64_t v;
	memcpy(&v, m->ram + a, 8);
	return v;
}

static void test_boot_flat_image_loads_and_starts_flat32(void **state)
{
	(void)state;
	struct machine m;
	struct cpu_state st;
	struct havm_err err;
	board(&m, 4);
	write_file(kpath, "\x90\x90\xf4", 3);
	struct boot_flat_config bc = { .image = kpath, .load_addr = 0x100000, .entry = 0x100001 };
	assert_int_equal(boot_flat_load(&m, &bc, &st, &err), 0);
	assert_memory_equal(m.ram + 0x100000, "\x90\x90\xf4", 3);
	assert_int_equal(st.eip, 0x100001);
	assert_int_equal(st.gpr[CPU_ESP], 0x100000);
	assert_int_equal(st.seg[CPU_SEG_CS].selector, 0x10);
	assert_int_equal(st.seg[CPU_SEG_SS].selector, 0x18);
	assert_int_equal(st.seg[CPU_SEG_DS].limit, 0xffffffff);
	assert_int_equal(st.cr0 & 1, 1);
	assert_int_equal(st.eflags & 0x200, 0);   /* IF=0 */
	assert_int_equal(rd64(&m, BOOT_GDT + 16), 0x00cf9b000000ffffull);
	assert_int_equal(rd64(&m, BOOT_GDT + 24), 0x00cf93000000ffffull);
	bc.entry = 0x100003;
	assert_int_equal(boot_flat_load(&m, &bc, &st, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "entry 0x100003 outside"));
	pc_fini(&m);
}

/* An ELF32 vmlinux-like image: one PT_LOAD at physical 1 MiB, virtual
 * 0xc0100000, 16 bytes in the file and 32 in memory. */
static void write_elf(uint16_t machine_type, uint32_t paddr)
{
	uint8_t img[0x200] = { 0 };
	Elf32_Ehdr *eh = (Elf32_Ehdr *)img;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = machine_type;
	eh->e_entry = 0xc0100004;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf32_Phdr);
	eh->e_phnum = 1;
	Elf32_Phdr *ph = (Elf32_Phdr *)(img + sizeof(*eh));
	*ph = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = 0x100, .p_vaddr = 0xc0100000,
			    .p_paddr = paddr, .p_filesz = 16, .p_memsz = 32 };
	memset(img + 0x100, 0x5c, 16);
	write_file(kpath, img, sizeof(img));
}

static void test_boot_elf_vmlinux_zero_page_recipe(void **state)
{
	(void)state;
	struct machine m;
	struct cpu_state st;
	struct havm_err err;
	board(&m, 128);
	write_elf(EM_386, 0x100000);
	write_file(rdpath, "RAMDISK!", 8);
	struct boot_linux_config bc = { .kernel = kpath, .initrd = rdpath, .cmdline = "console=ttyS0 panic=-1" };
	assert_int_equal(boot_linux_load(&m, &bc, &st, &err), 0);
	/* Segment at its physical address, the rest of memsz zeroed. */
	assert_int_equal(m.ram[0x100000], 0x5c);
	assert_int_equal(m.ram[0x10000f], 0x5c);
	assert_int_equal(m.ram[0x100010], 0);
	assert_int_equal(m.ram[0x10001f], 0);
	assert_int_equal(m.ram[0x100020], 0xaa);
	/* Start state: entry translated to physical, ESI at the zero page. */
	assert_int_equal(st.eip, 0x100004);
	assert_int_equal(st.gpr[CPU_ESI], 0x90000);
	assert_int_equal(st.gpr[CPU_ESP], BOOT_STACK);
	assert_int_equal(st.seg[CPU_SEG_CS].selector, 0x10);
	assert_int_equal(st.seg[CPU_SEG_DS].selector, 0x18);
	/* Zero page. */
	uint32_t zp = 0x90000;
	assert_int_equal(m.ram[zp + 0x1fe] | m.ram[zp + 0x1ff] << 8, 0xaa55);
	assert_int_equal(rd32(&m, zp + 0x202), 0x53726448);
	assert_int_equal(m.ram[zp + 0x210], 0xff);
	assert_int_equal(m.ram[zp + 0x211] & 1, 1);
	assert_int_equal(rd32(&m, zp + 0x228), 0x20000);
	assert_string_equal((char *)m.ram + 0x20000, "console=ttyS0 panic=-1");
	assert_int_equal(rd32(&m, zp + 0x218), 0x4000000);
	assert_int_equal(rd32(&m, zp + 0x21c), 8);
	assert_memory_equal(m.ram + 0x4000000, "RAMDISK!", 8);
	assert_int_equal(m.ram[zp + 0x1e8], 4);
	static const uint64_t e820[4][3] = {
		{ 0, 0x9fc00, 1 }, { 0x9fc00, 0x400, 2 }, { 0xf0000, 0x10000, 2 }, { 0x100000, (128u << 20) - 0x100000, 1 },
	};
	for (int i = 0; i < 4; i++) {
		uint32_t e = zp + 0x2d0 + 20 * (uint32_t)i;
		assert_int_equal(rd64(&m, e), e820[i][0]);
		assert_int_equal(rd64(&m, e + 8), e820[i][1]);
		assert_int_equal(rd32(&m, e + 16), e820[i][2]);
	}
	pc_fini(&m);
}

static void test_boot_initrd_moves_below_small_ram_and_refuses_too_big(void **state)
{
	(void)state;
	struct machine m;
	struct cpu_state st;
	struct havm_err err;
	board(&m, 16);
	write_elf(EM_386, 0x100000);
	write_file(rdpath, "RAMDISK!", 8);
	struct boot_linux_config bc = { .kernel = kpath, .initrd = rdpath };
	assert_int_equal(boot_linux_load(&m, &bc, &st, &err), 0);
	assert_int_equal(rd32(&m, 0x90000 + 0x218), (16u << 20) - 4096);
	assert_string_equal((char *)m.ram + 0x20000, "");
	pc_fini(&m);

	board(&m, 2);
	static uint8_t big[(1u << 20) + 4096];
	write_file(rdpath, big, sizeof(big));
	assert_int_equal(boot_linux_load(&m, &bc, &st, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "initrd"));
	pc_fini(&m);
}

static void test_boot_bzimage_protected_mode_part_at_1mib(void **state)
{
	(void)state;
	struct machine m;
	struct cpu_state st;
	struct havm_err err;
	board(&m, 64);
	static uint8_t img[1024 + 64];
	memset(img, 0, sizeof(img));
	img[0x1f1] = 1;                                  /* setup_sects: PM part at 1024 */
	img[0x201] = 0x66;                               /* header ends at 0x268 */
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = 0x0f, img[0x207] = 0x02;            /* protocol 2.15 */
	img[0x211] = 0x01;                               /* LOADED_HIGH */
	img[0x238] = 0xff, img[0x239] = 0x07;            /* cmdline_size 2047 */
	img[0x25b] = 0x01;                               /* pref_address 0x1000000 */
	img[0x262] = 0x10;                               /* init_size 0x100000 */
	memset(img + 1024, 0xc3, 64);
	write_file(kpath, img, sizeof(img));
	struct boot_linux_config bc = { .kernel = kpath, .cmdline = "quiet" };
	assert_int_equal(boot_linux_load(&m, &bc, &st, &err), 0);
	assert_int_equal(st.eip, 0x100000);
	assert_int_equal(m.ram[0x100000], 0xc3);
	assert_int_equal(m.ram[0x10003f], 0xc3);
	assert_int_equal(m.ram[0x90000 + 0x1f1], 1);     /* header copied */
	assert_int_equal(rd32(&m, 0x90000 + 0x238), 2047);
	assert_int_equal(m.ram[0x90000 + 0x210], 0xff);
	pc_fini(&m);

	/* A zImage (no LOADED_HIGH) is refused, naming loadflags. */
	img[0x211] = 0;
	write_file(kpath, img, sizeof(img));
	board(&m, 64);
	assert_int_equal(boot_linux_load(&m, &bc, &st, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "loadflags"));
	pc_fini(&m);
}

static void test_boot_rejects_bad_kernels(void **state)
{
	(void)state;
	struct machine m;
	struct cpu_state st;
	struct havm_err err;
	struct boot_linux_config bc = { .kernel = kpath };
	board(&m, 16);
	write_file(kpath, "#!/bin/sh\necho not a kernel\n", 28);
	assert_int_equal(boot_linux_load(&m, &bc, &st, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "neither an ELF32 vmlinux nor a bzImage"));
	write_elf(EM_X86_64, 0x100000);
	assert_int_equal(boot_linux_load(&m, &bc, &st, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "ELF machine 62, expected 3"));
	write_elf(EM_386, 0x2000000);
	assert_int_equal(boot_linux_load(&m, &bc, &st, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "segment 0 at physical 0x2000000"));
	write_elf(EM_386, 0x100000);
	char longline[3000];
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = 0;
	bc.cmdline = longline;
	assert_int_equal(boot_linux_load(&m, &bc, &st, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "cmdline: 2999 bytes"));
	bc.kernel = "/nonexistent/vmlinux";
	assert_int_equal(boot_linux_load(&m, &bc, &st, &err), -ENOENT);
	assert_int_equal(err.kind, HAVM_E_NOTFOUND);
	pc_fini(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_flat_image_loads_and_starts_flat32),
		cmocka_unit_test(test_boot_elf_vmlinux_zero_page_recipe),
		cmocka_unit_test(test_boot_initrd_moves_below_small_ram_and_refuses_too_big),
		cmocka_unit_test(test_boot_bzimage_protected_mode_part_at_1mib),
		cmocka_unit_test(test_boot_rejects_bad_kernels),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
