/* Helpers for the vsv tests; see vsv_test_util.h. */
#include "tests/unit/vsv/vsv_test_util.h"

#include <stdlib.h>
#include <string.h>

#include "vmcore/vsv/format_int.h"
#include "vmcore/vsv/vsv_cpu.h"

const struct vsv_field tu_pic_fields[] = {
	VSV_FIELD(struct tu_pic, irr),
	VSV_FIELD(struct tu_pic, isr),
	VSV_FIELD(struct tu_pic, imr),
	VSV_FIELD(struct tu_pic, base),
	VSV_FIELD_ARRAY(struct tu_pic, icw),
	VSV_FIELD_SINCE(struct tu_pic, elcr, 2),
};
const size_t tu_pic_nfields = sizeof(tu_pic_fields) / sizeof(tu_pic_fields[0]);

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

void tu_desc(struct vsv_machine_desc *d)
{
	static const uint8_t uuid[16] = { 0x6a, 0x1f, 0x22, 0x9e, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	memset(d, 0, sizeof(*d));
	d->ram_size = TU_RAM_SIZE;
	strcpy(d->cpu_model, "havm-486");
	if (vsv_desc_add_device(d, "cpu", 0, 1) || vsv_desc_add_device(d, "pic", 0, 2) ||
	    vsv_desc_add_device(d, "pic", 1, 2) || vsv_desc_add_device(d, "uart", 0, 1) ||
	    vsv_desc_add_disk(d, "ide0", uuid, 5))
		abort();
}

void tu_ram(uint8_t *ram, size_t size, unsigned seed)
{
	uint32_t s = seed * 2654435761u + 1;
	for (size_t pg = 0; pg < size / 4096; pg++) {
		uint8_t *p = ram + pg * 4096;
		if (rnd(&s) % 3 == 0) {
			memset(p, 0, 4096);
			continue;
		}
		for (size_t i = 0; i < 4096; i += 4) {
			uint32_t v = rnd(&s);
			memcpy(p + i, &v, 4);
		}
	}
}

void tu_pic(struct tu_pic *p, unsigned seed)
{
	uint32_t s = seed + 7;
	memset(p, 0, sizeof(*p));
	p->irr = (uint8_t)rnd(&s);
	p->isr = (uint8_t)rnd(&s);
	p->imr = (uint8_t)rnd(&s);
	p->base = (uint16_t)rnd(&s);
	for (int i = 0; i < 4; i++)
		p->icw[i] = (uint8_t)rnd(&s);
	p->elcr = rnd(&s);
}

void tu_uart(uint8_t out[64], unsigned seed)
{
	uint32_t s = seed + 99;
	for (int i = 0; i < 64; i++)
		out[i] = (uint8_t)rnd(&s);
}

void tu_cpu(void *cpu_state, unsigned seed)
{
	struct cpu_state *c = cpu_state;
	uint32_t s = seed + 1234;
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 8; i++)
		c->gpr[i] = rnd(&s);
	c->eip = rnd(&s);
	c->eflags = 0x202;
	for (int i = 0; i < CPU_SEG_COUNT; i++) {
		c->seg[i].base = rnd(&s);
		c->seg[i].limit = 0xfffff;
		c->seg[i].selector = (uint16_t)rnd(&s);
		c->seg[i].type = 3;
		c->seg[i].present = c->seg[i].s = c->seg[i].db = 1;
	}
	c->tr.type = 11;
	c->tr.present = 1;
	c->gdt.base = rnd(&s);
	c->gdt.limit = 0x7ff;
	c->cr0 = 0x80000011;
	c->cr3 = rnd(&s) & ~0xfffu;
	c->tsc = (uint64_t)rnd(&s) << 32 | rnd(&s);
	c->apic_base = 0xfee00900;
	c->fpu.fcw = 0x37f;
	c->fpu.mxcsr = 0x1f80;
	for (int i = 0; i < 8; i++)
		for (int k = 0; k < 10; k++)
			c->fpu.st[i][k] = (uint8_t)rnd(&s);
	c->fpu.xmm[3][7] = 0x5a;
	c->halted = 1;
}

int tu_sink(void *opaque, const void *buf, size_t len)
{
	struct tu_buf *b = opaque;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap < b->len + len)
			cap *= 2;
		uint8_t *np = realloc(b->p, cap);
		if (!np)
			return -12;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, buf, len);
	b->len += len;
	return 0;
}

int tu_write_all(struct vsv_writer *w, unsigned seed, const uint8_t *ram, int passes, struct havm_err *err)
{
	return tu_write_all_size(w, seed, ram, TU_RAM_SIZE, passes, err);
}

int tu_write_all_size(struct vsv_writer *w, unsigned seed, const uint8_t *ram, uint64_t size, int passes,
		      struct havm_err *err)
{
	struct cpu_state cpu;
	struct tu_pic pic;
	uint8_t uart[64];
	tu_cpu(&cpu, seed);
	int rc = vsv_cpu_save(w, 0, &cpu, err);
	for (uint32_t i = 0; rc == 0 && i < 2; i++) {
		tu_pic(&pic, seed + i);
		rc = vsv_state_save(w, "pic", i, 2, tu_pic_fields, tu_pic_nfields, &pic, err);
	}
	tu_uart(uart, seed);
	if (rc == 0 && (rc = vsv_section_begin(w, "uart", 0, 1, err)) == 0 &&
	    (rc = vsv_section_write(w, uart, 32)) == 0 && (rc = vsv_section_write(w, uart + 32, 32)) == 0)
		rc = vsv_section_end(w, err);
	if (rc == 0 && passes >= 1) {
		int64_t n = vsv_ram_pass(w, ram, size, NULL, err);
		rc = n < 0 ? (int)n : 0;
	}
	if (rc == 0 && passes >= 2) {
		/* the pass saw what the "guest" had before: the test compares
		 * against the same RAM, so passes must compose to it */
		uint64_t pages = size / 4096;
		uint64_t *dirty = calloc((pages + 63) / 64, 8);
		for (uint64_t i = 0; i < pages; i += 2)
			dirty[i / 64] |= 1ull << (i % 64);
		int64_t n = vsv_ram_pass(w, ram, size, dirty, err);
		rc = n < 0 ? (int)n : 0;
		free(dirty);
	}
	return rc;
}

void tu_make(struct tu_buf *out, unsigned seed, int passes)
{
	struct vsv_machine_desc d;
	tu_desc(&d);
	uint8_t *ram = malloc(TU_RAM_SIZE);
	tu_ram(ram, TU_RAM_SIZE, seed);
	memset(out, 0, sizeof(*out));
	struct vsv_writer *w;
	if (vsv_writer_open_sink(tu_sink, out, "mem.vsv", &d, &w, NULL) < 0)
		abort();
	if (tu_write_all(w, seed, ram, passes, NULL) < 0 || vsv_writer_commit(w, NULL) < 0)
		abort();
	free(ram);
}

size_t tu_sections(const uint8_t *p, size_t len, uint64_t *offs, size_t max)
{
	uint64_t pos = vsv_rd32(p + VSV_HDR_FIRST), end = len - VSV_TRL_SIZE;
	size_t n = 0;
	while (pos < end && n < max) {
		offs[n++] = pos;
		uint64_t l = vsv_rd64(p + pos + VSV_SEC_LENGTH);
		pos += VSV_SEC_HDR_SIZE + ((l + 7) & ~7ull) + VSV_SEC_TAIL_SIZE;
	}
	return n;
}

void tu_fix_section(uint8_t *p, uint64_t off)
{
	vsv_le32(p + off + VSV_SEC_CRC, vsv_crc32c(0, p + off, VSV_SEC_CRC));
}

void tu_fix_trailer(uint8_t *p, size_t len)
{
	uint64_t offs[256];
	size_t n = tu_sections(p, len, offs, 256);
	uint32_t dg = vsv_crc32c(0, p, VSV_HDR_SIZE);
	for (size_t i = 0; i < n; i++) {
		uint64_t l = vsv_rd64(p + offs[i] + VSV_SEC_LENGTH);
		uint32_t crc = vsv_rd32(p + offs[i] + VSV_SEC_HDR_SIZE + ((l + 7) & ~7ull));
		dg = vsv_digest_section(dg, p + offs[i], crc);
	}
	uint8_t *t = p + len - VSV_TRL_SIZE;
	memcpy(t, VSV_TRL_MAGIC, 4);
	vsv_le32(t + VSV_TRL_COUNT, (uint32_t)n);
	vsv_le64(t + VSV_TRL_OFFSET, len - VSV_TRL_SIZE);
	vsv_le32(t + VSV_TRL_DIGEST, dg);
	vsv_le32(t + VSV_TRL_CRC, vsv_crc32c(0, t, VSV_TRL_CRC));
}

const char *tu_check(struct vsv_reader *r, unsigned seed)
{
	return tu_check_size(r, seed, TU_RAM_SIZE);
}

const char *tu_check_size(struct vsv_reader *r, unsigned seed, uint64_t size)
{
	struct cpu_state want_cpu, got_cpu;
	tu_cpu(&want_cpu, seed);
	if (vsv_cpu_load(r, 0, &got_cpu, NULL) < 0)
		return "cpu section does not load";
	if (memcmp(&want_cpu, &got_cpu, sizeof(got_cpu)) != 0)
		return "cpu state differs";
	for (uint32_t i = 0; i < 2; i++) {
		struct tu_pic want, got;
		tu_pic(&want, seed + i);
		memset(&got, 0, sizeof(got));
		if (vsv_state_load(r, "pic", i, tu_pic_fields, tu_pic_nfields, &got, NULL) < 0)
			return "pic section does not load";
		if (memcmp(&want, &got, sizeof(got)) != 0)
			return "pic state differs";
	}
	uint8_t uart[64];
	const void *data;
	size_t len;
	uint32_t ver;
	tu_uart(uart, seed);
	if (vsv_reader_section(r, "uart", 0, &data, &len, &ver, NULL) < 0 || len != 64 || memcmp(data, uart, 64))
		return "uart section differs";
	uint8_t *want = malloc(size), *got = calloc(1, size);
	tu_ram(want, size, seed);
	const char *why = NULL;
	if (vsv_ram_load(r, got, size, VSV_RAM_ZEROED, NULL) < 0)
		why = "RAM does not load";
	else if (memcmp(want, got, size) != 0)
		why = "RAM differs";
	free(want);
	free(got);
	return why;
}
