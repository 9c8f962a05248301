/* vmcore/dev — port 0x80, the POST-code port Linux writes for I/O delays:
 * it records the last value, nothing else. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmcore/dev/dev.h"
#include "vmcore/machine/machine.h"
#include "vmcore/vsv/fields.h"

struct port80_state {
	uint8_t last;
	uint8_t reserved[7];
};

struct port80 {
	struct port80_state s;
	struct machine *m;
};

static uint32_t port80_read(void *dev, uint32_t off, unsigned size)
{
	(void)off, (void)size;
	return ((struct port80 *)dev)->s.last;
}

static void port80_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
	(void)off, (void)size;
	((struct port80 *)dev)->s.last = (uint8_t)v;
}

static const struct io_ops port80_ops = { "port80", IO_W8, port80_read, port80_write };

static void port80_reset(void *dev)
{
	((struct port80 *)dev)->s.last = 0;
}

static void port80_unrealize(void *dev)
{
	struct port80 *p = dev;
	io_unregister(p->m, IO_PORT, 0x80, p);
	free(p);
}

static int port80_realize(struct machine *m, const void *params, void **out, struct havm_err *err)
{
	(void)params;
	struct port80 *p = calloc(1, sizeof(*p));
	if (!p)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "port80: out of memory");
	p->m = m;
	int rc = io_bus_register(&m->io, IO_PORT, 0x80, 1, &port80_ops, p, err);
	if (rc < 0) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

static void port80_save(void *dev, void *buf)
{
	memcpy(buf, &((struct port80 *)dev)->s, sizeof(struct port80_state));
}

static int port80_load(void *dev, const void *buf, size_t size, struct havm_err *err)
{
	struct port80 *p = dev;
	if (size != sizeof(p->s))
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "port80: state is %zu bytes, expected %zu",
				    size, sizeof(p->s));
	memcpy(&p->s, buf, sizeof(p->s));
	return 0;
}

/* The saved state, field by field (docs/vsv.md "Device sections"). */
static const struct vsv_field port80_fields[] = {
	VSV_FIELD(struct port80_state, last),
};

const struct dev_ops port80_dev_ops = {
	.name = "port80",
	.fields = port80_fields, .nfields = sizeof(port80_fields) / sizeof(port80_fields[0]),
	.state_version = 1,
	.state_size = sizeof(struct port80_state),
	.realize = port80_realize,
	.reset = port80_reset,
	.save = port80_save,
	.load = port80_load,
	.unrealize = port80_unrealize,
};
