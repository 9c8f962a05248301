/* vmcore/dev — 16550A UART: 16-byte FIFOs, IER/IIR/LSR/MSR, loopback, the
 * interrupt gated by MCR.OUT2 as on a PC. Transmit is immediate: a THR
 * write goes to the chardev at once and THRE rises again while the
 * chardev has room for a whole FIFO (Linux's 8250 writes up to 16 bytes
 * per THRE interrupt without looking at LSR). When the backend is slow
 * (a socket peer not reading) THRE and TEMT stay clear and the THRE
 * interrupt waits for the chardev's drain callback: back-pressure
 * instead of lost bytes. Received bytes come from the chardev
 * ring as the RX FIFO drains. */
#define LOG_TAG HAVM_TAG_DEV
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmcore/dev/dev.h"
#include "vmcore/machine/machine.h"
#include "vmcore/vsv/fields.h"

#define FIFO_SIZE 16

enum { IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MSI = 0x08 };
enum { LSR_DR = 0x01, LSR_OE = 0x02, LSR_BI = 0x10, LSR_THRE = 0x20, LSR_TEMT = 0x40 };
enum { MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOP = 0x10 };
enum { IIR_NONE = 0x01, IIR_MSI = 0x00, IIR_THRI = 0x02, IIR_RDI = 0x04, IIR_RLSI = 0x06,
       IIR_TIMEOUT = 0x0c, IIR_FIFO = 0xc0 };

struct uart_state {
	uint8_t rx[FIFO_SIZE];
	uint8_t rx_head, rx_count;
	uint8_t ier, lcr, mcr, lsr, msr, scr;
	uint8_t fcr;            /* as written: bit 0 FIFO enable, bits 6-7 trigger */
	uint8_t dll, dlm;
	uint8_t thr_ipending;   /* THRE interrupt pending (cleared by IIR read or THR write) */
	uint8_t reserved[2];
	uint64_t tx_bytes, rx_bytes;
};

struct uart {
	struct uart_state s;
	struct machine *m;
	struct uart_params p;
	struct irq_line irq;
	struct chardev *cd;
	bool tx_blocked;   /* THRE withheld until the chardev drains (not saved) */
};

static unsigned rx_trigger(const struct uart *u)
{
	static const unsigned levels[4] = { 1, 4, 8, 14 };
	return (u->s.fcr & 1) ? levels[u->s.fcr >> 6] : 1;
}

static uint8_t iir_now(const struct uart *u)
{
	const struct uart_state *s = &u->s;
	if ((s->ier & IER_RLSI) && (s->lsr & (LSR_OE | LSR_BI)))
		return IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_count)
		return s->rx_count >= rx_trigger(u) ? IIR_RDI : IIR_TIMEOUT;
	if ((s->ier & IER_THRI) && s->thr_ipending)
		return IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & 0x0f))
		return IIR_MSI;
	return IIR_NONE;
}

static void update_irq(struct uart *u)
{
	int level = iir_now(u) != IIR_NONE && (u->s.mcr & MCR_OUT2);
	irq_set(&u->irq, level);
}

static void rx_push(struct uart *u, uint8_t b)
{
	struct uart_state *s = &u->s;
	unsigned cap = (s->fcr & 1) ? FIFO_SIZE : 1;
	if (s->rx_count >= cap) {
		s->lsr |= LSR_OE;
		return;
	}
	s->rx[(s->rx_head + s->rx_count++) % FIFO_SIZE] = b;
	s->lsr |= LSR_DR;
	s->rx_bytes++;
}

/* Moves bytes from the chardev ring into the RX FIFO while it has room. */
static void rx_fill(struct uart *u)
{
	if (u->s.mcr & MCR_LOOP)
		return;
	unsigned cap = (u->s.fcr & 1) ? FIFO_SIZE : 1;
	while (u->s.rx_count < cap && chardev_pending(u->cd)) {
		uint8_t b;
		if (chardev_read(u->cd, &b, 1) != 1)
			break;
		rx_push(u, b);
	}
}

static void on_input(void *opaque)
{
	struct uart *u = opaque;
	rx_fill(u);
	update_irq(u);
}

/* THR can take a whole FIFO's worth without the backend dropping any. */
static bool tx_ready(struct uart *u)
{
	return (u->s.mcr & MCR_LOOP) || chardev_out_room(u->cd) >= FIFO_SIZE;
}

/* THR became empty: raise THRE now, or once the backend has room. */
static void thr_emptied(struct uart *u)
{
	if (tx_ready(u)) {
		u->s.thr_ipending = 1;
		u->tx_blocked = false;
	} else {
		u->s.thr_ipending = 0;   /* THR not empty as far as the guest knows */
		u->tx_blocked = true;
	}
}

static void on_drain(void *opaque)
{
	struct uart *u = opaque;
	if (!u->tx_blocked || !tx_ready(u))
		return;
	u->tx_blocked = false;
	u->s.thr_ipending = 1;
	update_irq(u);
}

static void update_msr(struct uart *u)
{
	uint8_t old = u->s.msr, hi;
	if (u->s.mcr & MCR_LOOP) {
		uint8_t mcr = u->s.mcr;
		hi = (uint8_t)(((mcr & MCR_RTS) ? 0x10 : 0) | ((mcr & MCR_DTR) ? 0x20 : 0) |
			       ((mcr & MCR_OUT1) ? 0x40 : 0) | ((mcr & MCR_OUT2) ? 0x80 : 0));
	} else {
		hi = 0xb0;   /* DCD, DSR, CTS: a cable is always attached */
	}
	uint8_t delta = (uint8_t)(((old ^ hi) >> 4) & 0x0b);
	if ((old & 0x40) && !(hi & 0x40))
		delta |= 0x04;   /* trailing edge of RI */
	u->s.msr = (uint8_t)(hi | (old & 0x0f) | delta);
}

static uint32_t uart_read(void *dev, uint32_t off, unsigned size)
{
	struct uart *u = dev;
	struct uart_state *s = &u->s;
	uint8_t v;
	(void)size;
	switch (off) {
	case 0:
		if (s->lcr & 0x80)
			return s->dll;
		v = 0;
		if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % FIFO_SIZE;
			s->rx_count--;
		}
		rx_fill(u);
		if (!s->rx_count)
			s->lsr &= (uint8_t)~LSR_DR;
		update_irq(u);
		return v;
	case 1:
		return (s->lcr & 0x80) ? s->dlm : s->ier;
	case 2:
		v = iir_now(u);
		if (v == IIR_THRI)
			s->thr_ipending = 0;   /* reading IIR acknowledges THRE */
		update_irq(u);
		return v | ((s->fcr & 1) ? IIR_FIFO : 0);
	case 3:
		return s->lcr;
	case 4:
		return s->mcr;
	case 5:
		v = s->lsr | (tx_ready(u) ? LSR_THRE | LSR_TEMT : 0);
		s->lsr &= (uint8_t)~(LSR_OE | LSR_BI);
		update_irq(u);
		return v;
	case 6:
		v = s->msr;
		s->msr &= 0xf0;
		update_irq(u);
		return v;
	default:
		return s->scr;
	}
}

static void transmit(struct uart *u, uint8_t b)
{
	u->s.tx_bytes++;
	if (u->s.mcr & MCR_LOOP)
		rx_push(u, b);
	else
		chardev_write(u->cd, &b, 1);
	thr_emptied(u);
}

static void uart_write(void *dev, uint32_t off, unsigned size, uint32_t val)
{
	struct uart *u = dev;
	struct uart_state *s = &u->s;
	uint8_t v = (uint8_t)val;
	(void)size;
	switch (off) {
	case 0:
		if (s->lcr & 0x80) {
			s->dll = v;
			return;
		}
		transmit(u, v);
		break;
	case 1:
		if (s->lcr & 0x80) {
			s->dlm = v;
			return;
		}
		/* Enabling THRI while THR is empty raises THRE at once. */
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			thr_emptied(u);
		s->ier = v & 0x0f;
		break;
	case 2:
		if ((v ^ s->fcr) & 1) {
			s->rx_count = s->rx_head = 0;   /* toggling FIFO mode clears them */
		}
		if (v & 0x02)
			s->rx_count = s->rx_head = 0;
		s->fcr = v & 0xc1;
		if (!s->rx_count)
			s->lsr &= (uint8_t)~LSR_DR;
		rx_fill(u);
		break;
	case 3:
		s->lcr = v;
		return;
	case 4:
		s->mcr = v & 0x1f;
		update_msr(u);
		rx_fill(u);
		break;
	case 5: case 6:
		return;   /* LSR and MSR are read-only */
	default:
		s->scr = v;
		return;
	}
	update_irq(u);
}

static const struct io_ops uart_ops = { "uart", IO_W8, uart_read, uart_write };

static void uart_reset(void *dev)
{
	struct uart *u = dev;
	uint64_t tx = u->s.tx_bytes, rx = u->s.rx_bytes;
	memset(&u->s, 0, sizeof(u->s));
	u->tx_blocked = false;
	u->s.tx_bytes = tx, u->s.rx_bytes = rx;
	u->s.dll = 0x0c;   /* 9600 baud */
	update_msr(u);
	u->s.msr &= 0xf0;
	irq_set(&u->irq, 0);
}

static void uart_unrealize(void *dev)
{
	struct uart *u = dev;
	io_unregister(u->m, IO_PORT, u->p.base, u);
	chardev_close(u->cd);
	free(u);
}

static int uart_realize(struct machine *m, const void *params, void **out, struct havm_err *err)
{
	const struct uart_params *p = params;
	if (!p || p->irq > 15)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "uart: missing or bad parameters");
	struct uart *u = calloc(1, sizeof(*u));
	if (!u)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "uart: out of memory");
	u->m = m;
	u->p = *p;
	u->irq = machine_isa_irq(m, p->irq);
	int rc = chardev_open(&p->chardev, m->loop, &m->lock, on_input, u, &u->cd, err);
	if (rc < 0) {
		havm_err_prefix(err, "uart 0x%x", p->base);
		free(u);
		return rc;
	}
	chardev_set_drain(u->cd, on_drain);
	rc = io_bus_register(&m->io, IO_PORT, p->base, 8, &uart_ops, u, err);
	if (rc < 0) {
		chardev_close(u->cd);
		free(u);
		return rc;
	}
	uart_reset(u);
	*out = u;
	return 0;
}

static void uart_save(void *dev, void *buf)
{
	const struct uart *u = dev;
	struct uart_state s = u->s;
	/* A THRE withheld for a slow backend is due as soon as that backend
	 * drains; the restored VM starts with an empty one, so it is due now
	 * (otherwise an IRQ-driven driver would wait for it forever). */
	if (u->tx_blocked)
		s.thr_ipending = 1;
	memcpy(buf, &s, sizeof(s));
}

static int uart_load(void *dev, const void *buf, size_t size, struct havm_err *err)
{
	struct uart *u = dev;
	struct uart_state s;
	if (size != sizeof(s))
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "uart: state is %zu bytes, expected %zu",
				    size, sizeof(s));
	memcpy(&s, buf, sizeof(s));
	if (s.rx_count > FIFO_SIZE || s.rx_head >= FIFO_SIZE)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "uart: rx fifo head %u count %u, expected < %d", s.rx_head, s.rx_count,
				    FIFO_SIZE);
	u->s = s;
	u->tx_blocked = false;
	update_irq(u);
	return 0;
}

/* The saved state, field by field (docs/vsv.md "Device sections"). */
static const struct vsv_field uart_fields[] = {
	VSV_FIELD_BYTES(struct uart_state, rx),
	VSV_FIELD(struct uart_state, rx_head),
	VSV_FIELD(struct uart_state, rx_count),
	VSV_FIELD(struct uart_state, ier),
	VSV_FIELD(struct uart_state, lcr),
	VSV_FIELD(struct uart_state, mcr),
	VSV_FIELD(struct uart_state, lsr),
	VSV_FIELD(struct uart_state, msr),
	VSV_FIELD(struct uart_state, scr),
	VSV_FIELD(struct uart_state, fcr),
	VSV_FIELD(struct uart_state, dll),
	VSV_FIELD(struct uart_state, dlm),
	VSV_FIELD(struct uart_state, thr_ipending),
	VSV_FIELD(struct uart_state, tx_bytes),
	VSV_FIELD(struct uart_state, rx_bytes),
};

const struct dev_ops uart_dev_ops = {
	.name = "uart",
	.fields = uart_fields, .nfields = sizeof(uart_fields) / sizeof(uart_fields[0]),
	.state_version = 1,
	.state_size = sizeof(struct uart_state),
	.realize = uart_realize,
	.reset = uart_reset,
	.save = uart_save,
	.load = uart_load,
	.unrealize = uart_unrealize,
};
