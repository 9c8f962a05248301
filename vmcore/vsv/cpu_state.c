/* vmcore/vsv — the CPU state section codec; see vsv_cpu.h. The order of
 * the put/get calls below IS the format: change it only by appending under
 * a new version. */
#include "vmcore/vsv/vsv_cpu.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "vmcore/vsv/reader_int.h"
#include "vmcore/vsv/writer_int.h"

#define ST_BYTES 10  /* an x87 register is 80 bits; the FXSAVE slot pads to 16 */

static void put_seg(struct vsv_enc *e, const struct cpu_segment *s)
{
	vsv_put_u32(e, s->base);
	vsv_put_u32(e, s->limit);
	vsv_put_u16(e, s->selector);
	vsv_put_u8(e, s->type);
	vsv_put_u8(e, s->present);
	vsv_put_u8(e, s->dpl);
	vsv_put_u8(e, s->db);
	vsv_put_u8(e, s->s);
	vsv_put_u8(e, s->g);
	vsv_put_u8(e, s->avl);
	vsv_put_u8(e, s->unusable);
}

static void get_seg(struct vsv_dec *d, struct cpu_segment *s)
{
	s->base = vsv_get_u32(d);
	s->limit = vsv_get_u32(d);
	s->selector = vsv_get_u16(d);
	s->type = vsv_get_u8(d);
	s->present = vsv_get_u8(d);
	s->dpl = vsv_get_u8(d);
	s->db = vsv_get_u8(d);
	s->s = vsv_get_u8(d);
	s->g = vsv_get_u8(d);
	s->avl = vsv_get_u8(d);
	s->unusable = vsv_get_u8(d);
}

static void put_fpu(struct vsv_enc *e, const struct cpu_fxsave *f)
{
	vsv_put_u16(e, f->fcw);
	vsv_put_u16(e, f->fsw);
	vsv_put_u8(e, f->ftw);
	vsv_put_u16(e, f->fop);
	vsv_put_u32(e, f->fip);
	vsv_put_u16(e, f->fcs);
	vsv_put_u32(e, f->fdp);
	vsv_put_u16(e, f->fds);
	vsv_put_u32(e, f->mxcsr);
	vsv_put_u32(e, f->mxcsr_mask);
	for (int i = 0; i < 8; i++)
		vsv_put_bytes(e, f->st[i], ST_BYTES);
	for (int i = 0; i < 8; i++)
		vsv_put_bytes(e, f->xmm[i], 16);
}

static void get_fpu(struct vsv_dec *d, struct cpu_fxsave *f)
{
	f->fcw = vsv_get_u16(d);
	f->fsw = vsv_get_u16(d);
	f->ftw = vsv_get_u8(d);
	f->fop = vsv_get_u16(d);
	f->fip = vsv_get_u32(d);
	f->fcs = vsv_get_u16(d);
	f->fdp = vsv_get_u32(d);
	f->fds = vsv_get_u16(d);
	f->mxcsr = vsv_get_u32(d);
	f->mxcsr_mask = vsv_get_u32(d);
	for (int i = 0; i < 8; i++)
		vsv_get_bytes(d, f->st[i], ST_BYTES);
	for (int i = 0; i < 8; i++)
		vsv_get_bytes(d, f->xmm[i], 16);
}

int vsv_cpu_encode(struct vsv_enc *e, const struct cpu_state *st)
{
	for (int i = 0; i < 8; i++)
		vsv_put_u32(e, st->gpr[i]);
	vsv_put_u32(e, st->eip);
	vsv_put_u32(e, st->eflags);
	for (int i = 0; i < CPU_SEG_COUNT; i++)
		put_seg(e, &st->seg[i]);
	put_seg(e, &st->tr);
	put_seg(e, &st->ldtr);
	vsv_put_u32(e, st->gdt.base);
	vsv_put_u16(e, st->gdt.limit);
	vsv_put_u32(e, st->idt.base);
	vsv_put_u16(e, st->idt.limit);
	vsv_put_u32(e, st->cr0);
	vsv_put_u32(e, st->cr2);
	vsv_put_u32(e, st->cr3);
	vsv_put_u32(e, st->cr4);
	for (int i = 0; i < 8; i++)
		vsv_put_u32(e, st->dr[i]);
	vsv_put_u64(e, st->tsc);
	vsv_put_u32(e, st->sysenter_cs);
	vsv_put_u32(e, st->sysenter_esp);
	vsv_put_u32(e, st->sysenter_eip);
	vsv_put_u64(e, st->apic_base);
	put_fpu(e, &st->fpu);
	vsv_put_u8(e, st->halted);
	vsv_put_u8(e, st->irq_shadow);
	vsv_put_u8(e, st->nmi_pending);
	return e->err;
}

/* Flags stored as bytes must be 0 or 1, descriptor fields in range: a
 * corrupted value is refused here instead of surprising the CPU. */
static const char *check_seg(const struct cpu_segment *s)
{
	if (s->type > 15)
		return "type";
	if (s->dpl > 3)
		return "dpl";
	if ((s->present | s->db | s->s | s->g | s->avl | s->unusable) > 1)
		return "flag byte";
	return NULL;
}

static const char *const seg_names[] = { "es", "cs", "ss", "ds", "fs", "gs", "tr", "ldtr" };

int vsv_cpu_decode(const void *buf, size_t len, uint32_t version, struct cpu_state *st, struct havm_err *err)
{
	if (version != 1)
		return VSV_ERR(err, HAVM_E_UNSUPPORTED, -ENOTSUP, "cpu section version %" PRIu32
				    ", this build reads 1", version);
	if (len != VSV_CPU_V1_SIZE)
		return VSV_ERR(err, HAVM_E_FORMAT, -EBADMSG, "cpu section is %zu bytes, version 1 has %d",
				    len, VSV_CPU_V1_SIZE);
	struct cpu_state s;
	memset(&s, 0, sizeof(s));
	struct vsv_dec d;
	vsv_dec_init(&d, buf, len);
	for (int i = 0; i < 8; i++)
		s.gpr[i] = vsv_get_u32(&d);
	s.eip = vsv_get_u32(&d);
	s.eflags = vsv_get_u32(&d);
	for (int i = 0; i < CPU_SEG_COUNT; i++)
		get_seg(&d, &s.seg[i]);
	get_seg(&d, &s.tr);
	get_seg(&d, &s.ldtr);
	s.gdt.base = vsv_get_u32(&d);
	s.gdt.limit = vsv_get_u16(&d);
	s.idt.base = vsv_get_u32(&d);
	s.idt.limit = vsv_get_u16(&d);
	s.cr0 = vsv_get_u32(&d);
	s.cr2 = vsv_get_u32(&d);
	s.cr3 = vsv_get_u32(&d);
	s.cr4 = vsv_get_u32(&d);
	for (int i = 0; i < 8; i++)
		s.dr[i] = vsv_get_u32(&d);
	s.tsc = vsv_get_u64(&d);
	s.sysenter_cs = vsv_get_u32(&d);
	s.sysenter_esp = vsv_get_u32(&d);
	s.sysenter_eip = vsv_get_u32(&d);
	s.apic_base = vsv_get_u64(&d);
	get_fpu(&d, &s.fpu);
	s.halted = vsv_get_u8(&d);
	s.irq_shadow = vsv_get_u8(&d);
	s.nmi_pending = vsv_get_u8(&d);
	if (vsv_dec_finish(&d) < 0)
		return VSV_ERR(err, HAVM_E_INTERNAL, -EBADMSG, "cpu section decoder out of step with its size");
	for (int i = 0; i < CPU_SEG_COUNT + 2; i++) {
		const struct cpu_segment *sg = i < CPU_SEG_COUNT ? &s.seg[i] : i == CPU_SEG_COUNT ? &s.tr : &s.ldtr;
		const char *bad = check_seg(sg);
		if (bad)
			return VSV_ERR(err, HAVM_E_FORMAT, -EBADMSG, "cpu section: segment %s has an invalid %s",
					    seg_names[i], bad);
	}
	if ((s.halted | s.irq_shadow | s.nmi_pending) > 1)
		return VSV_ERR(err, HAVM_E_FORMAT, -EBADMSG, "cpu section: halted/irq_shadow/nmi_pending "
				    "must be 0 or 1");
	*st = s;
	return 0;
}

int vsv_cpu_save(struct vsv_writer *w, uint32_t instance, const struct cpu_state *st, struct havm_err *err)
{
	struct vsv_enc e;
	vsv_enc_init(&e);
	int rc = vsv_cpu_encode(&e, st);
	if (rc < 0)
		rc = VSV_ERR(err, HAVM_E_IO, rc, "cpu %" PRIu32 ": out of memory", instance);
	if (rc == 0)
		rc = vsv_section_begin(w, VSV_CPU_SECTION, instance, VSV_CPU_VERSION, err);
	if (rc == 0 && (rc = vsv_section_write(w, e.buf, e.len)) < 0)
		vsv_writer_check(w, err);
	if (rc == 0)
		rc = vsv_section_end(w, err);
	vsv_enc_fini(&e);
	return rc;
}

int vsv_cpu_load(const struct vsv_reader *r, uint32_t instance, struct cpu_state *st, struct havm_err *err)
{
	const void *data;
	size_t len;
	uint32_t version;
	int rc = vsv_reader_section(r, VSV_CPU_SECTION, instance, &data, &len, &version, err);
	if (rc == 0 && (rc = vsv_cpu_decode(data, len, version, st, err)) < 0)
		havm_err_prefix(err, "%s: cpu %" PRIu32, r->label, instance);
	return rc;
}
