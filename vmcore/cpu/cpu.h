/* vmcore/cpu — the CPU interface every backend implements (the interpreter
 * today, KVM later). The register state is one canonical struct, shaped
 * like KVM's (segments as struct kvm_segment, x87 in the FXSAVE layout), so
 * a .vsv written by one backend restores in the other.
 *
 * Threading: cpu_run() runs on the vCPU thread. cpu_set_irq() and
 * cpu_request_exit() may be called from any thread. Everything else runs on
 * the vCPU thread or while it is stopped.
 *
 * Memory: the machine registers RAM ranges (host memory the CPU reads and
 * writes directly); every other physical address goes to the bus's MMIO
 * callbacks. Device I/O never blocks the CPU for long: devices complete
 * slow work on the event-loop thread. */
#ifndef HAVM_VMCORE_CPU_CPU_H
#define HAVM_VMCORE_CPU_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Segment register with its hidden descriptor cache (KVM's kvm_segment). */
struct cpu_segment {
	uint32_t base;
	uint32_t limit;     /* byte granular, already expanded by G */
	uint16_t selector;
	uint8_t type;       /* descriptor type nibble */
	uint8_t present, dpl, db, s, g, avl, unusable;
};

struct cpu_dtable {
	uint32_t base;
	uint16_t limit;
};

/* x87 state in the FXSAVE image layout (Intel SDM vol. 1, table 10-2). */
struct cpu_fxsave {
	uint16_t fcw, fsw;
	uint8_t ftw;        /* abridged tag word: 1 bit per register, 1 = valid */
	uint8_t reserved0;
	uint16_t fop;
	uint32_t fip;
	uint16_t fcs, reserved1;
	uint32_t fdp;
	uint16_t fds, reserved2;
	uint32_t mxcsr, mxcsr_mask;
	uint8_t st[8][16];  /* ST0..ST7: 80-bit values in the low 10 bytes */
	uint8_t xmm[8][16];
	uint8_t reserved3[224];
};
_Static_assert(sizeof(struct cpu_fxsave) == 512, "FXSAVE image is 512 bytes");

enum cpu_seg_index { CPU_SEG_ES, CPU_SEG_CS, CPU_SEG_SS, CPU_SEG_DS, CPU_SEG_FS, CPU_SEG_GS, CPU_SEG_COUNT };
enum cpu_gpr_index { CPU_EAX, CPU_ECX, CPU_EDX, CPU_EBX, CPU_ESP, CPU_EBP, CPU_ESI, CPU_EDI };

/* The architectural state; plain data (no pointers) so .vsv can store it. */
struct cpu_state {
	uint32_t gpr[8];
	uint32_t eip;
	uint32_t eflags;    /* materialised: lazy flags are folded in */
	struct cpu_segment seg[CPU_SEG_COUNT];
	struct cpu_segment tr, ldtr;
	struct cpu_dtable gdt, idt;
	uint32_t cr0, cr2, cr3, cr4;
	uint32_t dr[8];
	uint64_t tsc;
	uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t apic_base;
	struct cpu_fxsave fpu;
	uint8_t halted;          /* in HLT, waiting for an interrupt */
	uint8_t irq_shadow;      /* after STI / MOV SS: interrupts held one insn */
	uint8_t nmi_pending;
	uint8_t reserved[5];
};

/* Implemented by the machine: port I/O, MMIO, and the interrupt controller. */
struct cpu_bus {
	void *opaque;
	uint32_t (*pio_read)(void *opaque, uint16_t port, unsigned size);
	void (*pio_write)(void *opaque, uint16_t port, unsigned size, uint32_t value);
	uint32_t (*mmio_read)(void *opaque, uint32_t addr, unsigned size);
	void (*mmio_write)(void *opaque, uint32_t addr, unsigned size, uint32_t value);
	/* INTA cycle: the vector of the highest pending interrupt, called only
	 * when the IRQ line is asserted and the CPU accepts; -1 = spurious. */
	int (*irq_ack)(void *opaque);
};

enum cpu_exit_reason {
	CPU_EXIT_BUDGET,     /* executed the requested number of instructions */
	CPU_EXIT_REQUEST,    /* cpu_request_exit() was called */
	CPU_EXIT_HLT,        /* HLT with IF=1: idle until an interrupt */
	CPU_EXIT_HLT_DEAD,   /* HLT with IF=0 and no NMI: the guest stopped itself */
	CPU_EXIT_SHUTDOWN,   /* triple fault */
	CPU_EXIT_INTERNAL,   /* an emulator invariant failed; see cpu_run's err */
};

struct cpu_stats {
	uint64_t instructions;     /* retired guest instructions */
	uint64_t exceptions;
	uint64_t interrupts;
	uint64_t tlb_flushes;
	uint64_t code_invalidations; /* self-modifying-code hits */
};

struct cpu;

struct cpu_config {
	const struct cpu_bus *bus;   /* borrowed; lives as long as the CPU */
	uint64_t tsc_hz;             /* guest TSC frequency */
};

/* The operations a backend provides. */
struct cpu_ops {
	const char *name;
	int (*create)(const struct cpu_config *cfg, struct cpu **out, struct havm_err *err);
	void (*free)(struct cpu *cpu);
	/* Registers a RAM range the CPU may access directly. */
	int (*add_ram)(struct cpu *cpu, uint32_t gpa, uint32_t size, uint8_t *host);
	void (*reset)(struct cpu *cpu);            /* power-on state (real mode, F000:FFF0) */
	int (*get_state)(struct cpu *cpu, struct cpu_state *st);
	int (*set_state)(struct cpu *cpu, const struct cpu_state *st);
	/* Runs at most @budget instructions; returns why it stopped. */
	enum cpu_exit_reason (*run)(struct cpu *cpu, uint64_t budget, struct havm_err *err);
	void (*set_irq)(struct cpu *cpu, bool level);  /* the INTR line from the PIC */
	void (*request_exit)(struct cpu *cpu);
	void (*get_stats)(struct cpu *cpu, struct cpu_stats *stats);
	/* Dirty pages since the last clear: one bit per 4 KiB page of physical
	 * memory, starting at gpa 0; @bitmap holds @npages bits. */
	int (*dirty_log)(struct cpu *cpu, uint64_t *bitmap, uint32_t npages, bool clear);
	/* Tells the CPU that memory changed behind its back (DMA): drops any
	 * decoded code cached for [gpa, gpa+len). */
	void (*invalidate_code)(struct cpu *cpu, uint32_t gpa, uint32_t len);
};

/* The software interpreter (vmcore/cpu/interp_*.c). */
extern const struct cpu_ops cpu_interp_ops;

#endif
