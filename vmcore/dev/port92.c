/* vmcore/dev — system control port A (0x92): bit 0 pulses a CPU reset,
 * bit 1 is the A20 gate (recorded; this machine keeps A20 enabled). */
#define LOG_TAG HAVM_TAG_DEV
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmcore/dev/dev.h"
#include "vmcore/machine/machine.h"
#include "vmcore/vsv/fields.h"

struct port92_state {
	uint8_t value;
	uint8_t reserved[7];
};

struct port92 {
	struct port92_state s;
	struct machine *m;
};

static uint32_t port92_read(void *dev, uint32_t off, unsigned size)
{
	(void)off, (void)size;
	return ((struct port92 *)dev)->s.value;
}

static void port92_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
	struct port92 *p = dev;
	(void)off, (void)size;
	uint8_t old = p->s.value;
	p->s.value = (uint8_t)(v & 0x02);
	if ((v & 1) && !(old & 1)) {
		hlog(LOG_NOTICE, "port92: reset from the guest");
		machine_request(p->m, MACHINE_REQ_RESET);
	}
}

static const struct io_ops port92_ops = { "port92", IO_W8, port92_read, port92_write };

static void port92_reset(void *dev)
{
	((struct port92 *)dev)->s.value = 0x02;
}

static void port92_unrealize(void *dev)
{
	struct port92 *p = dev;
	io_unregister(p->m, IO_PORT, 0x92, p);
	free(p);
}

static int port92_realize(struct machine *m, const void *params, void **out, struct havm_err *err)
{
	(void)params;
	struct port92 *p = calloc(1, sizeof(*p));
	if (!p)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "port92: out of memory");
	p->m = m;
	int rc = io_bus_register(&m->io, IO_PORT, 0x92, 1, &port92_ops, p, err);
	if (rc < 0) {
		free(p);
		return rc;
	}
	port92_reset(p);
	*out = p;
	return 0;
}

static void port92_save(void *dev, void *buf)
{
	memcpy(buf, &((struct port92 *)dev)->s, sizeof(struct port92_state));
}

static int port92_load(void *dev, const void *buf, size_t size, struct havm_err *err)
{
	struct port92 *p = dev;
	if (size != sizeof(p->s))
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "port92: state is %zu bytes, expected %zu",
				    size, sizeof(p->s));
	memcpy(&p->s, buf, sizeof(p->s));
	return 0;
}

/* The saved state, field by field (docs/vsv.md "Device sections"). */
static const struct vsv_field port92_fields[] = {
	VSV_FIELD(struct port92_state, value),
};

const struct dev_ops port92_dev_ops = {
	.name = "port92",
	.fields = port92_fields, .nfields = sizeof(port92_fields) / sizeof(port92_fields[0]),
	.state_version = 1,
	.state_size = sizeof(struct port92_state),
	.realize = port92_realize,
	.reset = port92_reset,
	.save = port92_save,
	.load = port92_load,
	.unrealize = port92_unrealize,
};
