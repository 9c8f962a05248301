/* vmcore/vsv — the CPU state section: struct cpu_state (vmcore/cpu/cpu.h)
 * encoded field by field in little-endian (docs/vsv.md lists the layout),
 * never as a memcpy of the struct, so the struct can change shape while
 * the section format stays put. Version 1 is the only version so far; a
 * new field means version 2 appended at the end, and decode keeps reading
 * version 1 (the new field left as the caller initialised it). */
#ifndef HAVM_VMCORE_VSV_VSV_CPU_H
#define HAVM_VMCORE_VSV_VSV_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "vmcore/cpu/cpu.h"
#include "vmcore/vsv/fields.h"
#include "vmcore/vsv/vsv.h"

#define VSV_CPU_SECTION "cpu"   /* instance = vCPU index */
#define VSV_CPU_VERSION 1
#define VSV_CPU_V1_SIZE 510     /* payload bytes of version 1 */

/* Appends the version-@VSV_CPU_VERSION encoding of @st to @e. */
int vsv_cpu_encode(struct vsv_enc *e, const struct cpu_state *st) HAVM_MUST_CHECK;

/* Decodes a payload of section version @version into @st (zeroed first).
 * HAVM_E_FORMAT naming the field when a value is out of range or the
 * length is wrong; HAVM_E_UNSUPPORTED for an unknown version. */
int vsv_cpu_decode(const void *buf, size_t len, uint32_t version, struct cpu_state *st,
		   struct havm_err *err) HAVM_MUST_CHECK;

/* Writes / reads section ("cpu", @instance). The description must list
 * ("cpu", @instance) with version VSV_CPU_VERSION. */
int vsv_cpu_save(struct vsv_writer *w, uint32_t instance, const struct cpu_state *st,
		 struct havm_err *err) HAVM_MUST_CHECK;
int vsv_cpu_load(const struct vsv_reader *r, uint32_t instance, struct cpu_state *st,
		 struct havm_err *err) HAVM_MUST_CHECK;

#endif
