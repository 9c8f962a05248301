/* vmcore/dev — virtio-blk on PCI through the legacy (0.9.5) interface: an
 * I/O BAR with the virtio header, one request queue in the legacy vring
 * layout at queue_pfn * 4096, INTx on a level-triggered ISA line. Linux's
 * virtio_pci drives it as a transitional device (1af4:1001).
 *
 * Requests are served synchronously on the vCPU thread when the guest
 * notifies the queue (blk.h is synchronous): header, data descriptors,
 * status byte. Guest-controlled values (ring addresses, chain lengths,
 * descriptor lengths, sectors) are all checked; a broken ring sets
 * DEVICE_NEEDS_RESET and stops the queue instead of touching memory
 * outside RAM. */
#define LOG_TAG HAVM_TAG_DEV
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmcore/dev/dev.h"
#include "vmcore/dev/pci.h"
#include "vmcore/disk/blk.h"
#include "vmcore/machine/machine.h"
#include "vmcore/vsv/fields.h"

#define QUEUE_SIZE 128
#define BAR_SIZE 64
#define SEG_MAX (QUEUE_SIZE - 2)

enum { F_SEG_MAX = 1u << 2, F_RO = 1u << 5, F_BLK_SIZE = 1u << 6, F_FLUSH = 1u << 9 };
enum { ST_ACK = 1, ST_DRIVER = 2, ST_DRIVER_OK = 4, ST_FEATURES_OK = 8, ST_NEEDS_RESET = 0x40,
       ST_FAILED = 0x80 };
enum { REQ_IN = 0, REQ_OUT = 1, REQ_FLUSH = 4, REQ_GET_ID = 8 };
enum { S_OK = 0, S_IOERR = 1, S_UNSUPP = 2 };
enum { DESC_NEXT = 1, DESC_WRITE = 2, DESC_INDIRECT = 4 };

struct vblk_state {
	uint32_t guest_features;
	uint32_t queue_pfn;
	uint16_t queue_sel;
	uint16_t last_avail;
	uint16_t used_idx;
	uint8_t status, isr;
	uint64_t requests, errors;
};

struct vblk {
	struct vblk_state s;
	struct machine *m;
	struct vblk_params p;
	struct blk_dev *disk;
	struct irq_line irq;
	uint16_t bar_base;     /* 0 = not decoding */
	uint32_t host_features;
};

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* --- guest memory ----------------------------------------------------------- */

static void *gpa(struct vblk *v, uint64_t addr, uint32_t len)
{
	if (addr > UINT32_MAX)
		return NULL;
	return machine_ram_ptr(v->m, (uint32_t)addr, len);
}

static uint32_t ring_base(const struct vblk *v)
{
	return v->s.queue_pfn << 12;
}

/* Legacy layout: desc[N] | avail{flags,idx,ring[N],used_event} | pad to 4 KiB | used. */
static uint32_t avail_off(void) { return 16 * QUEUE_SIZE; }
static uint32_t used_off(void) { return (avail_off() + 4 + 2 * QUEUE_SIZE + 2 + 4095) & ~4095u; }
static uint32_t ring_bytes(void) { return used_off() + 4 + 8 * QUEUE_SIZE + 2; }

static void update_irq(struct vblk *v)
{
	irq_set(&v->irq, v->s.isr & 1);
}

static void broken(struct vblk *v, const char *why)
{
	if (!(v->s.status & ST_NEEDS_RESET))
		hlog(LOG_WARNING, "virtio-blk %s: %s; queue stopped until the driver resets the device",
		     blk_name(v->disk), why);
	v->s.status |= ST_NEEDS_RESET;
	v->s.isr |= 2;   /* configuration change */
	update_irq(v);
}

/* --- requests ------------------------------------------------------------- */

static uint8_t do_data(struct vblk *v, uint32_t type, uint64_t *sector, struct vring_desc *d, uint32_t *written)
{
	if (d->len % BLK_SECTOR_SIZE)
		return S_IOERR;
	uint8_t *buf = gpa(v, d->addr, d->len);
	if (!buf)
		return S_IOERR;
	uint32_t count = d->len / BLK_SECTOR_SIZE;
	int rc;
	if (type == REQ_IN) {
		if (!(d->flags & DESC_WRITE))
			return S_IOERR;
		rc = blk_read(v->disk, *sector, buf, count);
		if (rc == 0) {
			*written += d->len;
			machine_mark_dirty(v->m, (uint32_t)d->addr, d->len);
		}
	} else {
		if (d->flags & DESC_WRITE)
			return S_IOERR;
		rc = blk_write(v->disk, *sector, buf, count);
	}
	*sector += count;
	return rc == 0 ? S_OK : S_IOERR;
}

/* Serves the chain at @head; returns bytes written into guest buffers, or
 * -1 when the chain itself is malformed. */
static int64_t serve(struct vblk *v, uint16_t head)
{
	struct vring_desc *table = gpa(v, ring_base(v), 16 * QUEUE_SIZE);
	struct vring_desc chain[QUEUE_SIZE];
	unsigned n = 0;
	uint16_t i = head;
	for (;;) {
		if (i >= QUEUE_SIZE || n == QUEUE_SIZE)
			return -1;
		memcpy(&chain[n], &table[i], sizeof(chain[n]));
		if (chain[n].flags & DESC_INDIRECT)
			return -1;   /* not offered */
		if (!(chain[n++].flags & DESC_NEXT))
			break;
		i = chain[n - 1].next;
	}
	struct vring_desc *last = &chain[n - 1];
	uint8_t *status = n >= 2 && (last->flags & DESC_WRITE) && last->len >= 1 ? gpa(v, last->addr, 1) : NULL;
	uint8_t hdr[16];
	uint8_t *h = chain[0].len >= 16 && !(chain[0].flags & DESC_WRITE) ? gpa(v, chain[0].addr, 16) : NULL;
	if (!status || !h)
		return -1;
	memcpy(hdr, h, 16);
	uint32_t type, written = 0;
	uint64_t sector;
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	uint8_t st = S_OK;
	v->s.requests++;
	switch (type) {
	case REQ_IN: case REQ_OUT:
		if (type == REQ_OUT && v->p.readonly) {
			st = S_IOERR;
			break;
		}
		for (unsigned k = 1; k + 1 < n && st == S_OK; k++)
			st = do_data(v, type, &sector, &chain[k], &written);
		break;
	case REQ_FLUSH:
		st = blk_flush(v->disk) == 0 ? S_OK : S_IOERR;
		break;
	case REQ_GET_ID:
		if (n >= 3 && (chain[1].flags & DESC_WRITE)) {
			uint32_t len = chain[1].len < 20 ? chain[1].len : 20;
			uint8_t *id = gpa(v, chain[1].addr, len);
			char serial[21];
			snprintf(serial, sizeof(serial), "havm-%s", v->p.serial);
			if (id) {
				memset(id, 0, len);
				/* virtio's device ID is 20 bytes, NUL-padded, not NUL-terminated */
				memcpy(id, serial, strnlen(serial, len)); /* NOLINT(bugprone-not-null-terminated-result) */
				machine_mark_dirty(v->m, (uint32_t)chain[1].addr, len);
				written += len;
			} else {
				st = S_IOERR;
			}
		} else {
			st = S_IOERR;
		}
		break;
	default:
		st = S_UNSUPP;
		break;
	}
	if (st != S_OK)
		v->s.errors++;
	*status = st;
	machine_mark_dirty(v->m, (uint32_t)last->addr, 1);
	return written + 1;
}

static void process_queue(struct vblk *v)
{
	if (!v->s.queue_pfn || (v->s.status & (ST_NEEDS_RESET | ST_FAILED)))
		return;
	uint8_t *ring = gpa(v, ring_base(v), ring_bytes());
	if (!ring) {
		broken(v, "the ring lies outside RAM");
		return;
	}
	uint8_t *avail = ring + avail_off(), *used = ring + used_off();
	uint16_t avail_idx, flags;
	memcpy(&avail_idx, avail + 2, 2);
	if ((uint16_t)(avail_idx - v->s.last_avail) > QUEUE_SIZE) {
		broken(v, "avail index ran more than a queue ahead");
		return;
	}
	bool any = false;
	while (v->s.last_avail != avail_idx) {
		uint16_t head;
		memcpy(&head, avail + 4 + 2 * (v->s.last_avail % QUEUE_SIZE), 2);
		int64_t len = serve(v, head);
		if (len < 0) {
			broken(v, "malformed descriptor chain");
			return;
		}
		uint32_t id = head, l = (uint32_t)len;
		uint8_t *e = used + 4 + 8 * (v->s.used_idx % QUEUE_SIZE);
		memcpy(e, &id, 4);
		memcpy(e + 4, &l, 4);
		v->s.used_idx++;
		memcpy(used + 2, &v->s.used_idx, 2);
		machine_mark_dirty(v->m, ring_base(v) + used_off(), 4 + 8 * QUEUE_SIZE);
		v->s.last_avail++;
		any = true;
	}
	memcpy(&flags, avail, 2);
	if (any && !(flags & 1)) {   /* VRING_AVAIL_F_NO_INTERRUPT */
		v->s.isr |= 1;
		update_irq(v);
	}
}

/* --- the virtio header in BAR0 -------------------------------------------------- */

static void device_reset(struct vblk *v)
{
	uint64_t req = v->s.requests, err = v->s.errors;
	memset(&v->s, 0, sizeof(v->s));
	v->s.requests = req, v->s.errors = err;
	update_irq(v);
}

static uint32_t config_read(struct vblk *v, uint32_t off, unsigned size)
{
	uint8_t cfg[24] = { 0 };
	uint64_t cap = blk_size(v->disk) / BLK_SECTOR_SIZE;
	uint32_t seg_max = SEG_MAX, blk_sz = BLK_SECTOR_SIZE;
	memcpy(cfg, &cap, 8);
	memcpy(cfg + 12, &seg_max, 4);
	memcpy(cfg + 20, &blk_sz, 4);
	uint32_t val = 0;
	for (unsigned i = 0; i < size && off + i < sizeof(cfg); i++)
		val |= (uint32_t)cfg[off + i] << (8 * i);
	return val;
}

static uint32_t bar_read(void *dev, uint32_t off, unsigned size)
{
	struct vblk *v = dev;
	switch (off) {
	case 0x00: return v->host_features;
	case 0x04: return v->s.guest_features;
	case 0x08: return v->s.queue_pfn;
	case 0x0c: return v->s.queue_sel == 0 ? QUEUE_SIZE : 0;
	case 0x0e: return v->s.queue_sel;
	case 0x10: return 0;
	case 0x12: return v->s.status;
	case 0x13: {
		uint8_t isr = v->s.isr;
		v->s.isr = 0;   /* reading ISR acknowledges and lowers INTx */
		update_irq(v);
		return isr;
	}
	default:
		return off >= 0x14 ? config_read(v, off - 0x14, size) : 0;
	}
}

static void bar_write(void *dev, uint32_t off, unsigned size, uint32_t val)
{
	struct vblk *v = dev;
	(void)size;
	switch (off) {
	case 0x04:
		v->s.guest_features = val & v->host_features;
		break;
	case 0x08:
		if (v->s.queue_sel != 0)
			break;
		v->s.queue_pfn = val;
		v->s.last_avail = v->s.used_idx = 0;
		if (val && !gpa(v, ring_base(v), ring_bytes()))
			broken(v, "queue address outside RAM");
		break;
	case 0x0e:
		v->s.queue_sel = (uint16_t)val;
		break;
	case 0x10:
		if (val == 0)
			process_queue(v);
		break;
	case 0x12:
		if ((val & 0xff) == 0)
			device_reset(v);
		else
			v->s.status = (uint8_t)val;
		break;
	default:
		break;   /* config space is read-only */
	}
}

/* Accesses follow the field widths; the bus splits nothing we accept. */
static const struct io_ops bar_ops = { "virtio-blk", IO_WALL, bar_read, bar_write };

static void bar_moved(void *dev, bool enabled, uint16_t base)
{
	struct vblk *v = dev;
	if (v->bar_base)
		io_unregister(v->m, IO_PORT, v->bar_base, v);
	v->bar_base = 0;
	if (enabled && io_bus_register(&v->m->io, IO_PORT, base, BAR_SIZE, &bar_ops, v, NULL) == 0)
		v->bar_base = base;
}

/* --- device ops ------------------------------------------------------------ */

static void vblk_reset(void *dev)
{
	device_reset(dev);
}

static void vblk_unrealize(void *dev)
{
	struct vblk *v = dev;
	struct pci_host *h = pci_host_of(v->m);
	if (h)
		pci_remove_func(h, v->p.devfn);
	int rc = blk_close(v->disk);
	if (rc < 0)
		hlog(LOG_ERR, "virtio-blk %s: close failed (%d): writes since the last flush may be lost",
		     v->p.path, rc);
	free(v);
}

static int vblk_realize(struct machine *m, const void *params, void **out, struct havm_err *err)
{
	const struct vblk_params *p = params;
	struct pci_host *h = pci_host_of(m);
	if (!p || !h)
		return havm_err_set(err, HAVM_E_INTERNAL, -EINVAL, "virtio-blk: no parameters or no PCI host");
	struct vblk *v = calloc(1, sizeof(*v));
	if (!v)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "virtio-blk: out of memory");
	v->m = m;
	v->p = *p;
	v->irq = machine_isa_irq(m, p->irq);
	unsigned flags = (p->readonly ? 0 : BLK_O_RDWR) | (p->vhd ? 0 : BLK_O_FORMAT_RAW);
	int rc = p->open ? p->open(p->open_opaque, p->path, flags, &v->disk, err)
			 : blk_open(p->path, flags, &v->disk, err);
	if (rc < 0)
		goto fail;
	if (p->vhd && blk_format(v->disk) == BLK_FMT_RAW) {
		rc = havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "disk %s: format vhd, but the file has no VHD footer",
				  p->path);
		goto fail_disk;
	}
	v->host_features = F_SEG_MAX | F_BLK_SIZE | F_FLUSH | (p->readonly ? F_RO : 0);
	struct pci_func_info info = {
		.devfn = p->devfn, .vendor = 0x1af4, .device = 0x1001, .subsys_vendor = 0x1af4, .subsys = 2,
		.class_code = 0x01, .subclass = 0x00, .irq_pin = 1, .irq_line = p->irq,
		.io_bar_size = BAR_SIZE, .io_bar_addr = p->io_base,
	};
	rc = pci_add_func(h, &info, bar_moved, v, err);
	if (rc < 0)
		goto fail_disk;
	hlog(LOG_INFO, "virtio-blk %s: %s, %llu sectors%s, PCI %02x.0, I/O 0x%x, IRQ %u", p->path,
	     blk_format_name(blk_format(v->disk)), (unsigned long long)(blk_size(v->disk) / BLK_SECTOR_SIZE),
	     p->readonly ? ", read-only" : "", p->devfn >> 3, p->io_base, p->irq);
	*out = v;
	return 0;
fail_disk:
	(void)blk_close(v->disk);
fail:
	free(v);
	return rc;
}

struct blk_dev *vblk_disk(void *vblk)
{
	return ((struct vblk *)vblk)->disk;
}

static void vblk_save(void *dev, void *buf)
{
	memcpy(buf, &((struct vblk *)dev)->s, sizeof(struct vblk_state));
}

static int vblk_load(void *dev, const void *buf, size_t size, struct havm_err *err)
{
	struct vblk *v = dev;
	struct vblk_state s;
	if (size != sizeof(s))
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL, "virtio-blk: state is %zu bytes, expected %zu",
				    size, sizeof(s));
	memcpy(&s, buf, sizeof(s));
	if (s.queue_pfn && !gpa(v, (uint64_t)s.queue_pfn << 12, ring_bytes()))
		return havm_err_set(err, HAVM_E_FORMAT, -EINVAL,
				    "virtio-blk: queue_pfn 0x%x puts the ring outside RAM", s.queue_pfn);
	v->s = s;
	update_irq(v);
	return 0;
}

/* The saved state, field by field (docs/vsv.md "Device sections"). */
static const struct vsv_field vblk_fields[] = {
	VSV_FIELD(struct vblk_state, guest_features),
	VSV_FIELD(struct vblk_state, queue_pfn),
	VSV_FIELD(struct vblk_state, queue_sel),
	VSV_FIELD(struct vblk_state, last_avail),
	VSV_FIELD(struct vblk_state, used_idx),
	VSV_FIELD(struct vblk_state, status),
	VSV_FIELD(struct vblk_state, isr),
	VSV_FIELD(struct vblk_state, requests),
	VSV_FIELD(struct vblk_state, errors),
};

const struct dev_ops virtio_blk_dev_ops = {
	.name = "virtio-blk",
	.fields = vblk_fields, .nfields = sizeof(vblk_fields) / sizeof(vblk_fields[0]),
	.state_version = 1,
	.state_size = sizeof(struct vblk_state),
	.realize = vblk_realize,
	.reset = vblk_reset,
	.save = vblk_save,
	.load = vblk_load,
	.unrealize = vblk_unrealize,
};
