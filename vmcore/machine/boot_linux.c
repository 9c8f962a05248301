/* vmcore/machine — direct 32-bit Linux boot; see boot.h. Offsets are the
 * zero page / setup header of Documentation/arch/x86/boot.rst. */
#define LOG_TAG HAVM_TAG_DEV
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmcore/machine/boot.h"
#include "vmcore/machine/machine.h"

enum {
	ZP_ALT_MEM_K = 0x1e0, ZP_E820_ENTRIES = 0x1e8, ZP_SETUP_SECTS = 0x1f1, ZP_BOOT_FLAG = 0x1fe,
	ZP_JUMP = 0x200, ZP_HEADER = 0x202, ZP_VERSION = 0x206, ZP_TYPE_OF_LOADER = 0x210,
	ZP_LOADFLAGS = 0x211, ZP_CODE32_START = 0x214, ZP_RAMDISK_IMAGE = 0x218,
	ZP_RAMDISK_SIZE = 0x21c, ZP_CMD_LINE_PTR = 0x228, ZP_INITRD_ADDR_MAX = 0x22c,
	ZP_CMDLINE_SIZE = 0x238, ZP_PREF_ADDRESS = 0x258, ZP_INIT_SIZE = 0x260, ZP_E820_TABLE = 0x2d0,
};
#define LOADED_HIGH 0x01
#define HDRS 0x53726448u   /* "HdrS" */
#define E820_RAM 1
#define E820_RESERVED 2

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* What the loaders learn from the kernel image. */
struct kernel_info {
	uint32_t entry;
	uint32_t end;            /* first byte above everything the kernel may use */
	uint8_t setup[0x280];    /* setup header bytes, at their zero-page offsets */
	uint32_t setup_len;      /* bytes of setup[] that came from the image */
	uint16_t version;
};

/* --- ELF32 vmlinux ------------------------------------------------------ */

static int elf_check(const char *path, const uint8_t *img, uint32_t len, uint32_t ram,
		     struct havm_err *err)
{
	const Elf32_Ehdr *eh = (const Elf32_Ehdr *)img;
	if (len < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS32 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return havm_err_set(err, HAVM_E_CONFIG, -ENOEXEC,
				    "kernel %s: ELF class/data %u/%u, expected 32-bit little-endian", path,
				    len >= sizeof(*eh) ? eh->e_ident[EI_CLASS] : 0,
				    len >= sizeof(*eh) ? eh->e_ident[EI_DATA] : 0);
	if (eh->e_machine != EM_386)
		return havm_err_set(err, HAVM_E_CONFIG, -ENOEXEC, "kernel %s: ELF machine %u, expected %u (i386)",
				    path, eh->e_machine, EM_386);
	if (eh->e_phentsize != sizeof(Elf32_Phdr) || eh->e_phnum == 0 ||
	    (uint64_t)eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr) > len)
		return havm_err_set(err, HAVM_E_FORMAT, -ENOEXEC,
				    "kernel %s: program headers at %u (%u x %u bytes) outside the %u-byte file",
				    path, eh->e_phoff, eh->e_phnum, eh->e_phentsize, len);
	unsigned loads = 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf32_Phdr ph;
		memcpy(&ph, img + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		loads++;
		if (ph.p_filesz > ph.p_memsz || (uint64_t)ph.p_offset + ph.p_filesz > len)
			return havm_err_set(err, HAVM_E_FORMAT, -ENOEXEC,
					    "kernel %s: segment %u file range %u+%u exceeds the file (%u) or memsz %u",
					    path, i, ph.p_offset, ph.p_filesz, len, ph.p_memsz);
		if ((uint64_t)ph.p_paddr + ph.p_memsz > ram || ph.p_paddr < BOOT_KERNEL_LOW)
			return havm_err_set(err, HAVM_E_CONFIG, -E2BIG,
					    "kernel %s: segment %u at physical 0x%x+0x%x, expected inside [1 MiB, 0x%x) of RAM",
					    path, i, ph.p_paddr, ph.p_memsz, ram);
	}
	if (!loads)
		return havm_err_set(err, HAVM_E_FORMAT, -ENOEXEC, "kernel %s: no PT_LOAD segment", path);
	return 0;
}

static int elf_load(struct machine *m, const char *path, const uint8_t *img, uint32_t len,
		    struct kernel_info *ki, struct havm_err *err)
{
	int rc = elf_check(path, img, len, m->ram_size, err);
	if (rc < 0)
		return rc;
	const Elf32_Ehdr *eh = (const Elf32_Ehdr *)img;
	bool entry_found = false;
	ki->entry = eh->e_entry;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf32_Phdr ph;
		memcpy(&ph, img + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		uint8_t *dst = machine_ram_ptr(m, ph.p_paddr, ph.p_memsz);
		memcpy(dst, img + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr + ph.p_memsz > ki->end)
			ki->end = ph.p_paddr + ph.p_memsz;
		/* e_entry may be virtual (PAGE_OFFSET-based): map it through the
		 * segment that contains it. */
		if (!entry_found && eh->e_entry - ph.p_vaddr < ph.p_memsz) {
			ki->entry = eh->e_entry - ph.p_vaddr + ph.p_paddr;
			entry_found = true;
		}
	}
	/* No setup header in a vmlinux: build the fields the kernel reads. */
	put16(ki->setup + ZP_BOOT_FLAG, 0xaa55);
	put32(ki->setup + ZP_HEADER, HDRS);
	put16(ki->setup + ZP_VERSION, 0x020f);
	put32(ki->setup + ZP_INITRD_ADDR_MAX, 0x37ffffff);
	put32(ki->setup + ZP_CMDLINE_SIZE, 2047);
	ki->setup_len = 0x264;
	ki->version = 0x020f;
	return 0;
}

/* --- bzImage ------------------------------------------------------------ */

static int bzimage_load(struct machine *m, const char *path, const uint8_t *img, uint32_t len,
			struct kernel_info *ki, struct havm_err *err)
{
	uint16_t version = get16(img + ZP_VERSION);
	if (version < 0x0204)
		return havm_err_set(err, HAVM_E_UNSUPPORTED, -ENOEXEC,
				    "kernel %s: boot protocol %u.%02u, expected 2.04 or later", path,
				    version >> 8, version & 0xff);
	if (!(img[ZP_LOADFLAGS] & LOADED_HIGH))
		return havm_err_set(err, HAVM_E_UNSUPPORTED, -ENOEXEC,
				    "kernel %s: a zImage (loadflags 0x%02x without LOADED_HIGH), expected a bzImage",
				    path, img[ZP_LOADFLAGS]);
	uint32_t setup_sects = img[ZP_SETUP_SECTS] ? img[ZP_SETUP_SECTS] : 4;
	uint32_t pm_off = (setup_sects + 1) * 512;
	if (pm_off >= len)
		return havm_err_set(err, HAVM_E_FORMAT, -ENOEXEC,
				    "kernel %s: setup_sects %u puts the 32-bit part at %u, past the %u-byte file",
				    path, setup_sects, pm_off, len);
	uint32_t pm_len = len - pm_off;
	if ((uint64_t)BOOT_KERNEL_LOW + pm_len > m->ram_size)
		return havm_err_set(err, HAVM_E_CONFIG, -E2BIG, "kernel %s: %u bytes do not fit in %u MiB of RAM",
				    path, pm_len, m->ram_size >> 20);
	ki->setup_len = 0x202 + img[0x201];   /* header end, as the jump at 0x200 says */
	if (ki->setup_len > sizeof(ki->setup) || ki->setup_len > len)
		ki->setup_len = sizeof(ki->setup) < len ? sizeof(ki->setup) : len;
	memcpy(ki->setup + ZP_SETUP_SECTS, img + ZP_SETUP_SECTS, ki->setup_len - ZP_SETUP_SECTS);
	ki->version = version;
	ki->entry = BOOT_KERNEL_LOW;
	memcpy(machine_ram_ptr(m, BOOT_KERNEL_LOW, pm_len), img + pm_off, pm_len);
	ki->end = BOOT_KERNEL_LOW + pm_len;
	if (version >= 0x020a) {
		/* The decompressor uses [pref_address, +init_size). */
		uint64_t end = get64(img + ZP_PREF_ADDRESS) + get32(img + ZP_INIT_SIZE);
		if (end > ki->end && end <= 0xffffffffu)
			ki->end = (uint32_t)end;
	}
	return 0;
}

/* --- zero page ------------------------------------------------------------ */

static void e820_add(uint8_t *zp, unsigned *n, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t *e = zp + ZP_E820_TABLE + 20 * (*n)++;
	put64(e, addr);
	put64(e + 8, size);
	put32(e + 16, type);
}

static int place_initrd(struct machine *m, const struct kernel_info *ki, uint32_t len,
			uint32_t *addr, struct havm_err *err)
{
	uint32_t max = get32(ki->setup + ZP_INITRD_ADDR_MAX);
	uint64_t top = (uint64_t)(max ? max : 0x37ffffff) + 1;
	if (top > m->ram_size)
		top = m->ram_size;
	uint64_t low = (ki->end + 0xfffu) & ~0xfffull;
	/* The measured recipe's address when it fits, else as high as possible. */
	if ((uint64_t)BOOT_INITRD_PREF + len <= top && BOOT_INITRD_PREF >= low) {
		*addr = BOOT_INITRD_PREF;
		return 0;
	}
	if (len > top || ((top - len) & ~0xfffull) < low)
		return havm_err_set(err, HAVM_E_CONFIG, -E2BIG,
				    "initrd: %u bytes do not fit between the kernel end 0x%llx and 0x%llx; raise <memory>",
				    len, (unsigned long long)low, (unsigned long long)top);
	*addr = (uint32_t)((top - len) & ~0xfffull);
	return 0;
}

static int build_zero_page(struct machine *m, const struct kernel_info *ki, const char *cmdline,
			   uint32_t initrd_addr, uint32_t initrd_len, struct havm_err *err)
{
	size_t cl = cmdline ? strlen(cmdline) : 0;
	uint32_t cl_max = ki->version >= 0x0206 ? get32(ki->setup + ZP_CMDLINE_SIZE) : 255;
	if (cl > cl_max || cl >= BOOT_ZERO_PAGE - BOOT_CMDLINE)
		return havm_err_set(err, HAVM_E_CONFIG, -E2BIG,
				    "cmdline: %zu bytes, the kernel accepts at most %u", cl, cl_max);
	uint8_t *zp = machine_ram_ptr(m, BOOT_ZERO_PAGE, 4096);
	memset(zp, 0, 4096);
	memcpy(zp + ZP_SETUP_SECTS, ki->setup + ZP_SETUP_SECTS, ki->setup_len - ZP_SETUP_SECTS);
	zp[ZP_TYPE_OF_LOADER] = 0xff;
	zp[ZP_LOADFLAGS] |= LOADED_HIGH;
	put32(zp + ZP_CODE32_START, BOOT_KERNEL_LOW);
	put32(zp + ZP_RAMDISK_IMAGE, initrd_len ? initrd_addr : 0);
	put32(zp + ZP_RAMDISK_SIZE, initrd_len);
	put32(zp + ZP_CMD_LINE_PTR, BOOT_CMDLINE);
	put32(zp + ZP_ALT_MEM_K, (m->ram_size - (1u << 20)) / 1024);
	uint8_t *c = machine_ram_ptr(m, BOOT_CMDLINE, (uint32_t)cl + 1);
	memcpy(c, cmdline ? cmdline : "", cl);
	c[cl] = 0;
	unsigned n = 0;
	e820_add(zp, &n, 0, 0x9fc00, E820_RAM);
	e820_add(zp, &n, 0x9fc00, 0x400, E820_RESERVED);
	e820_add(zp, &n, 0xf0000, 0x10000, E820_RESERVED);
	e820_add(zp, &n, 0x100000, m->ram_size - 0x100000u, E820_RAM);
	zp[ZP_E820_ENTRIES] = (uint8_t)n;
	return 0;
}

int boot_linux_load(struct machine *m, const struct boot_linux_config *bc, struct cpu_state *st,
		    struct havm_err *err)
{
	uint8_t *img = NULL, *rd = NULL;
	uint32_t len = 0, rd_len = 0, rd_addr = 0;
	struct kernel_info *ki = calloc(1, sizeof(*ki));
	if (!ki)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "kernel: out of memory");
	int rc = boot_read_file("kernel", bc->kernel, m->ram_size, &img, &len, err);
	if (rc < 0)
		goto out;
	if (bc->initrd) {
		rc = boot_read_file("initrd", bc->initrd, m->ram_size, &rd, &rd_len, err);
		if (rc < 0)
			goto out;
	}
	if (len >= 4 && memcmp(img, ELFMAG, SELFMAG) == 0) {
		rc = elf_load(m, bc->kernel, img, len, ki, err);
	} else if (len > 0x210 && get32(img + ZP_HEADER) == HDRS) {
		rc = bzimage_load(m, bc->kernel, img, len, ki, err);
	} else {
		rc = havm_err_set(err, HAVM_E_CONFIG, -ENOEXEC,
				  "kernel %s: neither an ELF32 vmlinux nor a bzImage (no \"HdrS\" at offset 0x202)",
				  bc->kernel);
	}
	if (rc < 0)
		goto out;
	if (rd) {
		rc = place_initrd(m, ki, rd_len, &rd_addr, err);
		if (rc < 0)
			goto out;
		memcpy(machine_ram_ptr(m, rd_addr, rd_len), rd, rd_len);
	}
	rc = build_zero_page(m, ki, bc->cmdline, rd_addr, rd_len, err);
	if (rc < 0)
		goto out;
	boot_cpu_flat32(m, st, ki->entry, BOOT_STACK);
	st->gpr[CPU_ESI] = BOOT_ZERO_PAGE;
	hlog(LOG_INFO, "boot: kernel %s entry 0x%x end 0x%x, initrd %u bytes at 0x%x", bc->kernel,
	     ki->entry, ki->end, rd_len, rd_addr);
out:
	free(rd);
	free(img);
	free(ki);
	return rc;
}
