/* vmcore/machine — struct cpu_bus for the machine: port and MMIO accesses
 * go to the I/O bus under the device lock, INTA goes to the PIC. */
#include "vmcore/dev/dev.h"
#include "vmcore/machine/machine.h"

static uint32_t bus_pio_read(void *opaque, uint16_t port, unsigned size)
{
	struct machine *m = opaque;
	pthread_mutex_lock(&m->lock);
	uint32_t v = io_read(&m->io, IO_PORT, port, size);
	pthread_mutex_unlock(&m->lock);
	return v;
}

static void bus_pio_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	struct machine *m = opaque;
	pthread_mutex_lock(&m->lock);
	io_write(&m->io, IO_PORT, port, size, value);
	pthread_mutex_unlock(&m->lock);
}

static uint32_t bus_mmio_read(void *opaque, uint32_t addr, unsigned size)
{
	struct machine *m = opaque;
	pthread_mutex_lock(&m->lock);
	uint32_t v = io_read(&m->io, IO_MMIO, addr, size);
	pthread_mutex_unlock(&m->lock);
	return v;
}

static void bus_mmio_write(void *opaque, uint32_t addr, unsigned size, uint32_t value)
{
	struct machine *m = opaque;
	pthread_mutex_lock(&m->lock);
	io_write(&m->io, IO_MMIO, addr, size, value);
	pthread_mutex_unlock(&m->lock);
}

static int bus_irq_ack(void *opaque)
{
	struct machine *m = opaque;
	int v = -1;
	pthread_mutex_lock(&m->lock);
	if (m->pic)
		v = pic_ack(m->pic);
	pthread_mutex_unlock(&m->lock);
	return v;
}

void machine_bus_init(struct machine *m)
{
	m->bus = (struct cpu_bus){
		.opaque = m,
		.pio_read = bus_pio_read,
		.pio_write = bus_pio_write,
		.mmio_read = bus_mmio_read,
		.mmio_write = bus_mmio_write,
		.irq_ack = bus_irq_ack,
	};
}

static void isa_irq_set(void *opaque, int n, int level)
{
	struct machine *m = opaque;
	if (m->pic)
		pic_set_irq(m->pic, n, level);
}

struct irq_line machine_isa_irq(struct machine *m, int n)
{
	return (struct irq_line){ .set = isa_irq_set, .opaque = m, .n = n };
}
