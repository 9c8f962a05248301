/* vmcore/machine — an interrupt line as a value (TinyEMU's IRQSignal): a
 * device raises or lowers its line without knowing which controller is
 * behind it. A zeroed line is "not connected" and ignores every call. */
#ifndef HAVM_VMCORE_MACHINE_IRQ_H
#define HAVM_VMCORE_MACHINE_IRQ_H

typedef void irq_set_fn(void *opaque, int n, int level);

struct irq_line {
	irq_set_fn *set;
	void *opaque;
	int n;
};

static inline void irq_set(const struct irq_line *l, int level)
{
	if (l->set)
		l->set(l->opaque, l->n, level);
}

/* A rising then falling edge: what an edge-triggered PIC input latches. */
static inline void irq_pulse(const struct irq_line *l)
{
	irq_set(l, 1);
	irq_set(l, 0);
}

#endif
