/* vmcore/dev — PCI bus 0 behind the host bridge (pci_host.c): devices add a
 * function with its IDs, one I/O BAR and an INTx line; the host keeps the
 * configuration space and tells the device when its BAR moves or I/O
 * decoding is switched on or off.
 *
 * There is no firmware: the board assigns each function's BAR and
 * interrupt line at realize (what a BIOS would do), and Linux reads them
 * back from configuration space (pci=conf1, no ACPI). */
#ifndef HAVM_VMCORE_DEV_PCI_H
#define HAVM_VMCORE_DEV_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct machine;
struct pci_host;

#define PCI_MAX_FUNCS 8

struct pci_func_info {
	uint8_t devfn;             /* slot << 3 | function */
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys;
	uint8_t class_code, subclass, prog_if, revision;
	uint8_t irq_pin;           /* 1 = INTA, 0 = none */
	uint8_t irq_line;          /* ISA IRQ wired to INTA */
	uint32_t io_bar_size;      /* BAR0: I/O space, power of two >= 4; 0 = none */
	uint16_t io_bar_addr;      /* what "firmware" assigns at realize */
};

/* Called when BAR0's decoding changes: @enabled with the new @base, or
 * disabled (base meaningless). Runs under the device lock. */
typedef void pci_bar_fn(void *dev, bool enabled, uint16_t base);

/* Finds the host bridge of @m (NULL if the board has none). */
struct pci_host *pci_host_of(struct machine *m);

/* Adds a function; calls @bar_cb at once with the initial assignment.
 * -EBUSY if @devfn is taken, -ENOSPC when the bus is full. */
int pci_add_func(struct pci_host *h, const struct pci_func_info *info, pci_bar_fn *bar_cb,
		 void *dev, struct havm_err *err) HAVM_MUST_CHECK;
void pci_remove_func(struct pci_host *h, uint8_t devfn);

#endif
