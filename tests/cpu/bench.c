/* tests/cpu — MIPS benchmark of the interpreter on freestanding workloads.
 *
 * Each workload is hand-assembled 32-bit code run in flat protected mode
 * (paging off) on 64 MiB of RAM until it executes HLT; the result it leaves
 * is checked against the same computation on the host, so a fast but wrong
 * interpreter cannot report a number. Prints a Markdown table (and writes
 * it to the file named by the first argument, if any).
 *
 * With QEMU=<path to qemu-system-i386> in the environment, each workload
 * also runs under QEMU TCG: the same code and data in a 2 MiB "BIOS" ROM
 * that enters protected mode, copies them to the same addresses, calls the
 * workload and exits through isa-debug-exit. QEMU's MIPS is our instruction
 * count divided by its wall time minus that of an empty workload (QEMU's
 * start-up and the copy).
 *
 *   cpu_bench [table.md] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "vmcore/cpu/cpu_int.h"

#define RAM_SIZE (64u << 20)
#define CODE 0x1000u
#define DATA 0x100000u      /* 1 MiB */
#define DATA2 0x800000u     /* 8 MiB */

struct workload {
	const char *name;
	const char *what;
	const uint8_t *code;
	size_t len;
	void (*prepare)(uint8_t *ram);
	int (*verify)(const uint8_t *ram, const struct cpu_state *st);
};

/* integer loop: 25M x { add eax,ecx; xor eax,0x55; dec ecx; jnz } */
#define INT_N 25000000u
static const uint8_t code_int[] = {
	0xb9, INT_N & 0xff, (INT_N >> 8) & 0xff, (INT_N >> 16) & 0xff, INT_N >> 24, /* mov ecx, N */
	0x31, 0xc0,             /* xor eax, eax */
	0x01, 0xc8,             /* l: add eax, ecx */
	0x83, 0xf0, 0x55,       /* xor eax, 0x55 */
	0x49,                   /* dec ecx */
	0x75, 0xf8,             /* jnz l */
	0xf4,                   /* hlt */
};

static int verify_int(const uint8_t *ram, const struct cpu_state *st)
{
	(void)ram;
	uint32_t eax = 0;
	for (uint32_t ecx = INT_N; ecx; ecx--)
		eax = (eax + ecx) ^ 0x55;
	return st->gpr[CPU_EAX] == eax ? 0 : -1;
}

/* memcpy: 32 x copy 1 MiB with a dword load/store loop */
#define MC_DWORDS (1u << 18)
#define MC_REPS 32
static const uint8_t code_memcpy[] = {
	0xbd, MC_REPS, 0, 0, 0,                     /* mov ebp, REPS */
	0xbe, 0x00, 0x00, 0x10, 0x00,               /* o: mov esi, DATA */
	0xbf, 0x00, 0x00, 0x80, 0x00,               /* mov edi, DATA2 */
	0xb9, 0x00, 0x00, 0x04, 0x00,               /* mov ecx, MC_DWORDS */
	0x8b, 0x06,                                 /* i: mov eax, [esi] */
	0x89, 0x07,                                 /* mov [edi], eax */
	0x83, 0xc6, 0x04,                           /* add esi, 4 */
	0x83, 0xc7, 0x04,                           /* add edi, 4 */
	0x49,                                       /* dec ecx */
	0x75, 0xf3,                                 /* jnz i */
	0x4d,                                       /* dec ebp */
	0x75, 0xe1,                                 /* jnz o */
	0xf4,
};

static void fill_random(uint8_t *ram)
{
	uint32_t x = 0x12345678;
	for (uint32_t i = 0; i < 4 * MC_DWORDS; i += 4) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		memcpy(ram + DATA + i, &x, 4);
	}
}

static int verify_memcpy(const uint8_t *ram, const struct cpu_state *st)
{
	(void)st;
	return memcmp(ram + DATA, ram + DATA2, 4 * MC_DWORDS) == 0 ? 0 : -1;
}

/* CRC-32 (reflected, poly 0xEDB88320) over 1 MiB, bit by bit */
#define CRC_LEN (1u << 20)
static const uint8_t code_crc[] = {
	0xbe, 0x00, 0x00, 0x10, 0x00,               /* mov esi, DATA */
	0xb9, 0x00, 0x00, 0x10, 0x00,               /* mov ecx, CRC_LEN */
	0xb8, 0xff, 0xff, 0xff, 0xff,               /* mov eax, -1 */
	0x32, 0x06,                                 /* b: xor al, [esi] */
	0x46,                                       /* inc esi */
	0xba, 0x08, 0x00, 0x00, 0x00,               /* mov edx, 8 */
	0xd1, 0xe8,                                 /* k: shr eax, 1 */
	0x73, 0x05,                                 /* jnc s */
	0x35, 0x20, 0x83, 0xb8, 0xed,               /* xor eax, 0xedb88320 */
	0x4a,                                       /* s: dec edx */
	0x75, 0xf4,                                 /* jnz k */
	0x49,                                       /* dec ecx */
	0x75, 0xe9,                                 /* jnz b */
	0xf7, 0xd0,                                 /* not eax */
	0xf4,
};

static int verify_crc(const uint8_t *ram, const struct cpu_state *st)
{
	uint32_t crc = 0xffffffffu;
	for (uint32_t i = 0; i < CRC_LEN; i++) {
		crc ^= ram[DATA + i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ ((crc & 1) ? 0xedb88320u : 0);
	}
	return st->gpr[CPU_EAX] == ~crc ? 0 : -1;
}

/* insertion sort of 3000 signed dwords */
#define SORT_N 3000u
static const uint8_t code_sort[] = {
	0xbe, 0x00, 0x00, 0x10, 0x00,               /* mov esi, DATA */
	0xbb, 0x01, 0x00, 0x00, 0x00,               /* mov ebx, 1 */
	0x81, 0xfb, SORT_N & 0xff, SORT_N >> 8, 0, 0, /* o: cmp ebx, N */
	0x73, 0x1d,                                 /* jae done */
	0x8b, 0x04, 0x9e,                           /* mov eax, [esi+ebx*4] */
	0x89, 0xdf,                                 /* mov edi, ebx */
	0x85, 0xff,                                 /* i: test edi, edi */
	0x74, 0x0e,                                 /* jz p */
	0x8b, 0x54, 0xbe, 0xfc,                     /* mov edx, [esi+edi*4-4] */
	0x39, 0xc2,                                 /* cmp edx, eax */
	0x7e, 0x06,                                 /* jle p */
	0x89, 0x14, 0xbe,                           /* mov [esi+edi*4], edx */
	0x4f,                                       /* dec edi */
	0xeb, 0xee,                                 /* jmp i */
	0x89, 0x04, 0xbe,                           /* p: mov [esi+edi*4], eax */
	0x43,                                       /* inc ebx */
	0xeb, 0xdb,                                 /* jmp o */
	0xf4,                                       /* done: hlt */
};

static int cmp_i32(const void *a, const void *b)
{
	int32_t x, y;
	memcpy(&x, a, 4);
	memcpy(&y, b, 4);
	return (x > y) - (x < y);
}

static int32_t sort_ref[SORT_N];

static void prepare_sort(uint8_t *ram)
{
	fill_random(ram);
	memcpy(sort_ref, ram + DATA, sizeof(sort_ref));
	qsort(sort_ref, SORT_N, 4, cmp_i32);
}

static int verify_sort(const uint8_t *ram, const struct cpu_state *st)
{
	(void)st;
	return memcmp(ram + DATA, sort_ref, sizeof(sort_ref)) == 0 ? 0 : -1;
}

static const struct workload workloads[] = {
	{ "integer", "add/xor/dec/jnz loop, 25M iterations", code_int, sizeof(code_int), NULL, verify_int },
	{ "memcpy", "load/store dword loop, 32 x 1 MiB", code_memcpy, sizeof(code_memcpy), fill_random, verify_memcpy },
	{ "crc32", "bitwise CRC-32 of 1 MiB", code_crc, sizeof(code_crc), fill_random, verify_crc },
	{ "sort", "insertion sort of 3000 dwords", code_sort, sizeof(code_sort), prepare_sort, verify_sort },
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t last_al;   /* AL at the end of our run, to check QEMU's */

static int run(const struct workload *w, uint8_t *ram, double *mips, uint64_t *insns)
{
	struct cpu *c;
	struct cpu_config cfg = { 0 };
	if (cpu_interp_ops.create(&cfg, &c, NULL) < 0)
		return -1;
	memset(ram, 0, RAM_SIZE);
	if (cpu_interp_ops.add_ram(c, 0, RAM_SIZE, ram) < 0)
		return -1;
	if (w->prepare)
		w->prepare(ram);
	memcpy(ram + CODE, w->code, w->len);
	struct cpu_state st;
	cpu_interp_ops.get_state(c, &st);
	for (int s = 0; s < CPU_SEG_COUNT; s++)
		st.seg[s] = (struct cpu_segment){ .limit = 0xffffffffu, .type = s == CPU_SEG_CS ? 0xb : 0x3,
						  .present = 1, .s = 1, .db = 1, .g = 1 };
	st.cr0 = 0x11;
	st.eip = CODE;
	st.gpr[CPU_ESP] = 0x8000;
	cpu_interp_ops.set_state(c, &st);
	struct havm_err err;
	double t0 = now();
	enum cpu_exit_reason why;
	do {
		why = cpu_interp_ops.run(c, 100000000, &err);
	} while (why == CPU_EXIT_BUDGET);
	double dt = now() - t0;
	struct cpu_stats stats;
	cpu_interp_ops.get_stats(c, &stats);
	cpu_interp_ops.get_state(c, &st);
	cpu_interp_ops.free(c);
	if (why != CPU_EXIT_HLT_DEAD) {
		fprintf(stderr, "%s: stopped with reason %d: %s\n", w->name, why, err.msg);
		return -1;
	}
	if (w->verify(ram, &st) < 0) {
		fprintf(stderr, "%s: wrong result\n", w->name);
		return -1;
	}
	*insns = stats.instructions;
	last_al = (uint8_t)st.gpr[CPU_EAX];
	*mips = (double)stats.instructions / dt / 1e6;
	return 0;
}

#define ROM_SIZE (2u << 20)
#define ROM_BASE 0xffe00000u
#define ROM_BOOT 0x1f0000u   /* last 64 KiB: linear 0xffff0000, real-mode IP 0 */

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Writes the QEMU ROM for @w (NULL: an empty workload) to @path. */
static int write_qemu_rom(const struct workload *w, const uint8_t *ram, const char *path)
{
	uint8_t *rom = calloc(1, ROM_SIZE);
	if (!rom)
		return -1;
	memcpy(rom, ram + DATA, 1u << 20);
	uint8_t *b = rom + ROM_BOOT;
	const uint32_t lin = 0xffff0000u, gdt = 0x100, gdtr = 0x120, code = 0x200;
	static const uint8_t real[] = {
		0xfa,                                     /* cli */
		0x66, 0x2e, 0x0f, 0x01, 0x16, 0x20, 0x01, /* lgdt cs:[0x120] */
		0x0f, 0x20, 0xc0, 0x0c, 0x01, 0x0f, 0x22, 0xc0, /* cr0.PE = 1 */
		0x66, 0xea, 0x18, 0x00, 0xff, 0xff, 0x08, 0x00, /* jmp 0x08:0xffff0018 */
	};
	memcpy(b, real, sizeof(real));
	uint8_t pm[] = {
		0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0,   /* ds = es = ss = 0x10 */
		0xbc, 0x00, 0x80, 0x00, 0x00, 0xfc,                           /* mov esp, 0x8000; cld */
		0xbe, 0x00, 0x00, 0xe0, 0xff, 0xbf, 0x00, 0x00, 0x10, 0x00,   /* esi = ROM, edi = DATA */
		0xb9, 0x00, 0x00, 0x04, 0x00, 0xf3, 0xa5,                     /* rep movsd 1 MiB */
		0xbe, 0, 0, 0, 0, 0xbf, 0x00, 0x10, 0x00, 0x00,               /* esi = code, edi = CODE */
		0xb9, 0, 0, 0, 0, 0xf3, 0xa4,                                 /* rep movsb */
		0xb8, 0x00, 0x10, 0x00, 0x00, 0xff, 0xd0,                     /* call CODE */
		0x90, 0x90, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd,                     /* out 0xf4, al; hlt */
	};
	size_t len = w ? w->len : 1;
	put32(pm + 34, lin + code);
	put32(pm + 44, (uint32_t)len);
	memcpy(b + 0x18, pm, sizeof(pm));
	put32(b + gdt + 8, 0x0000ffff);
	put32(b + gdt + 12, 0x00cf9b00);
	put32(b + gdt + 16, 0x0000ffff);
	put32(b + gdt + 20, 0x00cf9300);
	b[gdtr] = 23;
	put32(b + gdtr + 2, lin + gdt);
	if (w) {
		memcpy(b + code, w->code, w->len);
		b[code + w->len - 1] = 0xc3;   /* the final HLT becomes RET */
	} else {
		b[code] = 0xc3;
	}
	static const uint8_t reset[] = { 0xe9, 0x0d, 0x00 };   /* jmp 0 (IP wraps) */
	memcpy(rom + ROM_SIZE - 16, reset, sizeof(reset));
	FILE *f = fopen(path, "wb");
	int rc = f && fwrite(rom, ROM_SIZE, 1, f) == 1 ? 0 : -1;
	if (f)
		fclose(f);
	free(rom);
	return rc;
}

static double qemu_time_once(const char *qemu, const char *rom, uint8_t al);

/* Best of three QEMU runs of @rom (start-up time is noisy); < 0 on failure. */
static double qemu_time(const char *qemu, const char *rom, uint8_t al)
{
	double best = -1;
	for (int i = 0; i < 3; i++) {
		double t = qemu_time_once(qemu, rom, al);
		if (t < 0)
			return -1;
		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

/* Wall time of one QEMU run of @rom; < 0 on failure. The ROM exits with
 * the workload's AL through isa-debug-exit: status (AL << 1) | 1. */
static double qemu_time_once(const char *qemu, const char *rom, uint8_t al)
{
	double t0 = now();
	pid_t pid = fork();
	if (pid == 0) {
		execl(qemu, qemu, "-bios", rom, "-display", "none", "-nodefaults", "-m", "64",
		      "-accel", "tcg", "-device", "isa-debug-exit,iobase=0xf4,iosize=1", (char *)NULL);
		_exit(127);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	double dt = now() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != (((al << 1) | 1) & 0xff)) {
		fprintf(stderr, "QEMU exited with status 0x%x, expected 0x%x\n", status, ((al << 1) | 1) & 0xff);
		return -1;
	}
	return dt;
}

int main(int argc, char **argv)
{
	uint8_t *ram = aligned_alloc(4096, RAM_SIZE);
	if (!ram)
		return 1;
	FILE *out = argc > 1 ? fopen(argv[1], "w") : NULL;
	const char *qemu = getenv("QEMU");
	double qemu_base = 0;
	char rom[64];
	snprintf(rom, sizeof(rom), "/tmp/cpu_bench_rom.%d", (int)getpid());
	if (qemu) {
		memset(ram, 0, RAM_SIZE);
		if (write_qemu_rom(NULL, ram, rom) < 0 || (qemu_base = qemu_time(qemu, rom, 0)) < 0) {
			fprintf(stderr, "QEMU run of the empty workload failed\n");
			qemu = NULL;
		}
	}
	const char *hdr = qemu ? "| workload | what | guest instructions | MIPS | QEMU TCG MIPS |\n|---|---|---:|---:|---:|\n"
			       : "| workload | what | guest instructions | MIPS |\n|---|---|---:|---:|\n";
	printf("%s", hdr);
	if (out)
		fprintf(out, "%s", hdr);
	int rc = 0;
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		double mips = 0;
		uint64_t n = 0;
		if (run(&workloads[i], ram, &mips, &n) < 0) {
			rc = 1;
			continue;
		}
		char qcol[32] = "";
		if (qemu) {
			/* the same data as our run: prepare() again on fresh RAM */
			memset(ram, 0, RAM_SIZE);
			if (workloads[i].prepare)
				workloads[i].prepare(ram);
			double t = write_qemu_rom(&workloads[i], ram, rom) < 0 ? -1 : qemu_time(qemu, rom, last_al);
			if (t > qemu_base)
				snprintf(qcol, sizeof(qcol), " %.0f |", (double)n / (t - qemu_base) / 1e6);
			else
				snprintf(qcol, sizeof(qcol), " failed |");
		}
		printf("| %s | %s | %llu | %.0f |%s\n", workloads[i].name, workloads[i].what, (unsigned long long)n,
		       mips, qcol);
		if (out)
			fprintf(out, "| %s | %s | %llu | %.0f |%s\n", workloads[i].name, workloads[i].what,
				(unsigned long long)n, mips, qcol);
	}
	if (out)
		fclose(out);
	if (qemu)
		unlink(rom);
	free(ram);
	return rc;
}
