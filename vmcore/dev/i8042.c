/* vmcore/dev — i8042 keyboard controller at 0x60/0x64: enough for Linux's
 * probe (self-test, command byte, port tests, AUX loopback), a keyboard that
 * answers reset/identify, and the reset line (command 0xFE, or output-port
 * bit 0 cleared through 0xD1) that `reboot=k` uses. No key input yet. */
#define LOG_TAG HAVM_TAG_DEV
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmcore/dev/dev.h"
#include "vmcore/machine/machine.h"
#include "vmcore/vsv/fields.h"

#define QUEUE_SIZE 16

enum { ST_OBF = 0x01, ST_SYS = 0x04, ST_CMD = 0x08, ST_AUXOBF = 0x20 };
enum { CB_KBDINT = 0x01, CB_AUXINT = 0x02, CB_SYS = 0x04, CB_KBDDIS = 0x10, CB_AUXDIS = 0x20,
       CB_XLATE = 0x40 };

struct i8042_state {
	uint8_t queue[QUEUE_SIZE];
	uint8_t queue_aux[QUEUE_SIZE];   /* 1 if the byte came from the AUX port */
	uint8_t head, count;
	uint8_t status, cmdbyte;
	uint8_t pending_cmd;             /* controller command waiting for its data byte */
	uint8_t outport;
	uint8_t kbd_pending;             /* keyboard command waiting for its argument */
	uint8_t reserved[1];
};

struct i8042 {
	struct i8042_state s;
	struct machine *m;
	struct irq_line irq_kbd, irq_aux;
};

static void update_irq(struct i8042 *k)
{
	struct i8042_state *s = &k->s;
	int kbd = 0, aux = 0;
	s->status &= (uint8_t)~(ST_OBF | ST_AUXOBF);
	if (s->count) {
		s->status |= ST_OBF;
		if (s->queue_aux[s->head]) {
			s->status |= ST_AUXOBF;
			aux = (s->cmdbyte & CB_AUXINT) != 0;
		} else {
			kbd = (s->cmdbyte & CB_KBDINT) != 0;
		}
	}
	irq_set(&k->irq_kbd, kbd);
	irq_set(&k->irq_aux, aux);
}

static void push(struct i8042 *k, uint8_t v, int aux)
{
	struct i8042_state *s = &k->s;
	if (s->count == QUEUE_SIZE)
		return;
	unsigned i = (s->head + s->count++) % QUEUE_SIZE;
	s->queue[i] = v;
	s->queue_aux[i] = (uint8_t)aux;
	update_irq(k);
}

static void keyboard_write(struct i8042 *k, uint8_t v)
{
	if (k->s.kbd_pending) {   /* argument of 0xED/0xF0/0xF3 */
		k->s.kbd_pending = 0;
		push(k, 0xfa, 0);
		return;
	}
	switch (v) {
	case 0xff:
		push(k, 0xfa, 0);
		push(k, 0xaa, 0);
		break;
	case 0xf2:
		push(k, 0xfa, 0);
		push(k, 0xab, 0);
		push(k, 0x83, 0);
		break;
	case 0xee:
		push(k, 0xee, 0);
		break;
	case 0xed: case 0xf0: case 0xf3:
		k->s.kbd_pending = 1;
		push(k, 0xfa, 0);
		break;
	default:
		push(k, 0xfa, 0);
		break;
	}
}

static void controller_cmd(struct i8042 *k, uint8_t cmd)
{
	struct i8042_state *s = &k->s;
	switch (cmd) {
	case 0x20:
		push(k, s->cmdbyte, 0);
		break;
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		s->pending_cmd = cmd;
		break;
	case 0xa7:
		s->cmdbyte |= CB_AUXDIS;
		break;
	case 0xa8:
		s->cmdbyte &= (uint8_t)~CB_AUXDIS;
		break;
	case 0xa9: case 0xab:
		push(k, 0x00, 0);   /* port test passed */
		break;
	case 0xaa:
		s->status |= ST_SYS;
		push(k, 0x55, 0);
		break;
	case 0xad:
		s->cmdbyte |= CB_KBDDIS;
		break;
	case 0xae:
		s->cmdbyte &= (uint8_t)~CB_KBDDIS;
		break;
	case 0xd0:
		push(k, s->outport, 0);
		break;
	default:
		if ((cmd & 0xf0) == 0xf0 && !(cmd & 1)) {
			hlog(LOG_NOTICE, "i8042: reset pulse from the guest");
			machine_request(k->m, MACHINE_REQ_RESET);
		}
		break;
	}
	update_irq(k);
}

static void data_write(struct i8042 *k, uint8_t v)
{
	struct i8042_state *s = &k->s;
	uint8_t cmd = s->pending_cmd;
	s->pending_cmd = 0;
	switch (cmd) {
	case 0x60:
		s->cmdbyte = v;
		if (v & CB_SYS)
			s->status |= ST_SYS;
		update_irq(k);
		break;
	case 0xd1:
		s->outport = v;
		if (!(v & 1)) {
			hlog(LOG_NOTICE, "i8042: reset through the output port");
			machine_request(k->m, MACHINE_REQ_RESET);
		}
		break;
	case 0xd2:
		push(k, v, 0);
		break;
	case 0xd3:
		push(k, v, 1);
		break;
	case 0xd4:
		/* No mouse: the AUX device does not answer, like an empty port. */
		break;
	default:
		keyboard_write(k, v);
		break;
	}
}

static uint32_t i8042_read(void *dev, uint32_t off, unsigned size)
{
	struct i8042 *k = dev;
	struct i8042_state *s = &k->s;
	(void)size;
	if (off == 4)
		return s->status;
	if (!s->count)
		return s->queue[(s->head + QUEUE_SIZE - 1) % QUEUE_SIZE];   /* last byte again */
	uint8_t v = s->queue[s->head];
	s->head = (s->head + 1) % QUEUE_SIZE;
	s->count--;
	update_irq(k);
	return v;
}

static void i8042_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
	struct i8042 *k = dev;
	(void)size;
	if (off == 4) {
		k->s.status |= ST_CMD;
		controller_cmd(k, (uint8_t)v);
	} else {
		k->s.status &= (uint8_t)~ST_CMD;
		data_write(k, (uint8_t)v);
	}
}

static uint32_t i8042_cmd_read(void *dev, uint32_t off, unsigned size)
{
	return i8042_read(dev, off + 4, size);
}

static void i8042_cmd_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
	i8042_write(dev, off + 4, size, v);
}

static const struct io_ops i8042_data_ops = { "i8042", IO_W8, i8042_read, i8042_write };
static const struct io_ops i8042_cmd_ops = { "i8042", IO_W8, i8042_cmd_read, i8042_cmd_write };

static void i8042_reset(void *dev)
{
	struct i8042 *k = dev;
	memset(&k->s, 0, sizeof(k->s));
	k->s.cmdbyte = CB_KBDINT | CB_SYS | CB_XLATE;
	k->s.status = ST_SYS;
	k->s.outport = 0x03;   /* reset line inactive, A20 on */
	update_irq(k);
}

static void i8042_unrealize(void *dev)
{
	struct i8042 *k = dev;
	io_unregister(k->m, IO_PORT, 0x64, k);
	io_unregister(k->m, IO_PORT, 0x60, k);
	free(k);
}

static int i8042_realize(struct machine *m, const void *params, void **out, struct havm_err *err)
{
	(void)params;
	struct i8042 *k = calloc(1, sizeof(*k));
	if (!k)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "i8042: out of memory");
	k->m = m;
	k->irq_kbd = machine_isa_irq(m, 1);
	k->irq_aux = machine_isa_irq(m, 12);
	/* Two ranges: 0x61 between them belongs to the PIT. */
	int rc = io_bus_register(&m->io, IO_PORT, 0x60, 1, &i8042_data_ops, k, err);
	if (rc == 0) {
		rc = io_bus_register(&m->io, IO_PORT, 0x64, 1, &i8042_cmd_ops, k, err);
		if (rc < 0)
			io_unregister(m, IO_PORT, 0x60, k);
	}
	if (rc < 0) {
		free(k);
		return rc;
	}
	i8042_reset(k);
	*out = k;
	return 0;
}

static void i8042_save(void *dev, void *buf)
{
	memcpy(buf, &((struct i8042 *)dev)->s, sizeof(struct i8042_state));
}

static int i8042_load(void *dev, const void *buf, size_t size, struct havm_err *err)
{
	struct i8042 *k = dev;
	struct i8042_state s;
	if (size != sizeof(s))
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "i8042: state is %zu bytes, expected %zu",
				    size, sizeof(s));
	memcpy(&s, buf, sizeof(s));
	if (s.head >= QUEUE_SIZE || s.count > QUEUE_SIZE)
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "i8042: queue head %u count %u out of range",
				    s.head, s.count);
	k->s = s;
	update_irq(k);
	return 0;
}

/* The saved state, field by field (docs/vsv.md "Device sections"). */
static const struct vsv_field i8042_fields[] = {
	VSV_FIELD_BYTES(struct i8042_state, queue),
	VSV_FIELD_BYTES(struct i8042_state, queue_aux),
	VSV_FIELD(struct i8042_state, head),
	VSV_FIELD(struct i8042_state, count),
	VSV_FIELD(struct i8042_state, status),
	VSV_FIELD(struct i8042_state, cmdbyte),
	VSV_FIELD(struct i8042_state, pending_cmd),
	VSV_FIELD(struct i8042_state, outport),
	VSV_FIELD(struct i8042_state, kbd_pending),
};

const struct dev_ops i8042_dev_ops = {
	.name = "i8042",
	.fields = i8042_fields, .nfields = sizeof(i8042_fields) / sizeof(i8042_fields[0]),
	.state_version = 1,
	.state_size = sizeof(struct i8042_state),
	.realize = i8042_realize,
	.reset = i8042_reset,
	.save = i8042_save,
	.load = i8042_load,
	.unrealize = i8042_unrealize,
};
