/* vmcore/dev — virtio-blk on PCI through the legacy (0.9.5) interface: an
 * I/O BAR with the virtio header, one request queue in the legacy vring
 * layout at queue_pfn * 4096, INTx on a level-triggered ISA line. Linux's
 * virtio_pci drives it as a transitional device (1af4:1001).
 *
 * Requests are asynchronous with respect to the guest, as on real hardware:
 * a queue notify parses the new chains on the vCPU thread and hands them to
 * the disk's worker thread, which runs the synchronous block stack (raw,
 * VHD, LUN: a network round trip each) and fills the guest buffers and the
 * status byte while the vCPU runs on. One worker, FIFO, so a FLUSH follows
 * every earlier write. Finished requests reach the used ring, the dirty log
 * and the interrupt line through complete(), on the vCPU thread (woken by
 * MACHINE_REQ_DEV_DONE) under the device lock; pause, save and reset first
 * wait for the worker (vblk_drain, quiesce), so saved state never holds a
 * half-done request. Guest-controlled values (ring addresses, chain lengths,
 * descriptor lengths, sectors) are all checked; a broken ring sets
 * DEVICE_NEEDS_RESET and stops the queue instead of touching memory
 * outside RAM. */
#define LOG_TAG HAVM_TAG_DEV
#include <errno.h>
#include <pthread.h>
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

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* A request between notify and completion: its chain, copied once. */
struct vreq {
	struct vring_desc chain[QUEUE_SIZE];
	uint8_t hdr[16];
	unsigned n;
	uint16_t head;
	uint8_t st;
	uint32_t written;   /* bytes put into guest buffers */
};

struct vblk {
	struct vblk_state s;
	struct machine *m;
	struct vblk_params p;
	struct blk_dev *disk;
	struct irq_line irq;
	uint16_t bar_base;     /* 0 = not decoding */
	uint32_t host_features;
	/* FIFO of requests, slot = index % QUEUE_SIZE: [q_head, q_done) are
	 * served and await complete(), [q_done, q_tail) are the worker's.
	 * q_head is the vCPU side's (device lock); q_done and q_tail change
	 * under mu. */
	struct vreq *reqs;
	uint32_t q_head, q_done, q_tail;
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_idle;
	bool stop;
	pthread_t worker;
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

/* --- requests: parsed on the vCPU thread, served by the disk's worker ------- */

/* Copies the chain at @head and checks its shape; false when malformed. */
static bool parse(struct vblk *v, uint16_t head, struct vreq *r)
{
	struct vring_desc *table = gpa(v, ring_base(v), 16 * QUEUE_SIZE);
	unsigned n = 0;
	uint16_t i = head;
	for (;;) {
		if (i >= QUEUE_SIZE || n == QUEUE_SIZE)
			return false;
		memcpy(&r->chain[n], &table[i], sizeof(r->chain[n]));
		if (r->chain[n].flags & DESC_INDIRECT)
			return false;   /* not offered */
		if (!(r->chain[n++].flags & DESC_NEXT))
			break;
		i = r->chain[n - 1].next;
	}
	struct vring_desc *last = &r->chain[n - 1];
	bool status_ok = n >= 2 && (last->flags & DESC_WRITE) && last->len >= 1 && gpa(v, last->addr, 1);
	uint8_t *h = r->chain[0].len >= 16 && !(r->chain[0].flags & DESC_WRITE) ? gpa(v, r->chain[0].addr, 16)
										  : NULL;
	if (!status_ok || !h)
		return false;
	memcpy(r->hdr, h, 16);
	r->head = head;
	r->n = n;
	r->written = 0;
	return true;
}

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
		if (rc == 0)
			*written += d->len;
	} else {
		if (d->flags & DESC_WRITE)
			return S_IOERR;
		rc = blk_write(v->disk, *sector, buf, count);
	}
	*sector += count;
	return rc == 0 ? S_OK : S_IOERR;
}

/* Runs one request on the worker thread: the disk I/O and the guest
 * buffers, like a DMA engine, without the device lock. The used ring, the
 * dirty log and the interrupt wait for complete() on the vCPU side. */
static void serve(struct vblk *v, struct vreq *r)
{
	uint32_t type;
	uint64_t sector;
	memcpy(&type, r->hdr, 4);
	memcpy(&sector, r->hdr + 8, 8);
	uint8_t st = S_OK;
	switch (type) {
	case REQ_IN: case REQ_OUT:
		if (type == REQ_OUT && v->p.readonly) {
			st = S_IOERR;
			break;
		}
		for (unsigned k = 1; k + 1 < r->n && st == S_OK; k++)
			st = do_data(v, type, &sector, &r->chain[k], &r->written);
		break;
	case REQ_FLUSH:
		/* FIFO: every earlier write has completed on the backend. */
		st = blk_flush(v->disk) == 0 ? S_OK : S_IOERR;
		break;
	case REQ_GET_ID:
		if (r->n >= 3 && (r->chain[1].flags & DESC_WRITE)) {
			uint32_t len = r->chain[1].len < 20 ? r->chain[1].len : 20;
			uint8_t *id = gpa(v, r->chain[1].addr, len);
			char serial[21];
			snprintf(serial, sizeof(serial), "havm-%s", v->p.serial);
			if (id) {
				memset(id, 0, len);
				/* virtio's device ID is 20 bytes, NUL-padded, not NUL-terminated */
				memcpy(id, serial, strnlen(serial, len)); /* NOLINT(bugprone-not-null-terminated-result) */
				r->written += len;
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
	r->st = st;
	struct vring_desc *last = &r->chain[r->n - 1];
	uint8_t *status = gpa(v, last->addr, 1);
	if (status)
		*status = st;
}

static void *worker_main(void *arg)
{
	struct vblk *v = arg;
	pthread_mutex_lock(&v->mu);
	for (;;) {
		while (v->q_done == v->q_tail && !v->stop)
			pthread_cond_wait(&v->cv_work, &v->mu);
		if (v->q_done == v->q_tail)
			break;   /* stopping, and nothing left to serve */
		struct vreq *r = &v->reqs[v->q_done % QUEUE_SIZE];
		pthread_mutex_unlock(&v->mu);
		serve(v, r);
		pthread_mutex_lock(&v->mu);
		v->q_done++;
		pthread_cond_broadcast(&v->cv_idle);
		pthread_mutex_unlock(&v->mu);
		machine_request(v->m, MACHINE_REQ_DEV_DONE);
		pthread_mutex_lock(&v->mu);
	}
	pthread_mutex_unlock(&v->mu);
	return NULL;
}

/* Waits until the worker has served every request handed to it. */
static void wait_idle(struct vblk *v)
{
	pthread_mutex_lock(&v->mu);
	while (v->q_done != v->q_tail)
		pthread_cond_wait(&v->cv_idle, &v->mu);
	pthread_mutex_unlock(&v->mu);
}

/* Pages the worker wrote for @r: the dirty log for pre-copy and the CPU's
 * decoded code (not thread-safe, hence here and not on the worker). */
static void mark_written(struct vblk *v, const struct vreq *r)
{
	uint32_t type;
	memcpy(&type, r->hdr, 4);
	if (type == REQ_IN || type == REQ_GET_ID)
		for (unsigned k = 1; k + 1 < r->n; k++)
			if (r->chain[k].flags & DESC_WRITE)
				machine_mark_dirty(v->m, (uint32_t)r->chain[k].addr, r->chain[k].len);
	machine_mark_dirty(v->m, (uint32_t)r->chain[r->n - 1].addr, 1);
}

static void process_queue(struct vblk *v);

/* Device lock held, on the vCPU thread or with it stopped: publishes the
 * requests the worker finished, in order, in the used ring. */
static void complete(struct vblk *v)
{
	pthread_mutex_lock(&v->mu);
	uint32_t done = v->q_done;
	pthread_mutex_unlock(&v->mu);
	if (v->q_head == done)
		return;
	uint8_t *ring = v->s.queue_pfn ? gpa(v, ring_base(v), ring_bytes()) : NULL;
	for (; v->q_head != done; v->q_head++) {
		struct vreq *r = &v->reqs[v->q_head % QUEUE_SIZE];
		mark_written(v, r);
		v->s.requests++;
		if (r->st != S_OK)
			v->s.errors++;
		if (!ring)
			continue;
		uint32_t id = r->head, l = r->written + 1;
		uint8_t *e = ring + used_off() + 4 + 8 * (v->s.used_idx % QUEUE_SIZE);
		memcpy(e, &id, 4);
		memcpy(e + 4, &l, 4);
		v->s.used_idx++;
	}
	if (!ring)
		return;
	memcpy(ring + used_off() + 2, &v->s.used_idx, 2);
	machine_mark_dirty(v->m, ring_base(v) + used_off(), 4 + 8 * QUEUE_SIZE);
	uint16_t flags;
	memcpy(&flags, ring + avail_off(), 2);
	if (!(flags & 1)) {   /* VRING_AVAIL_F_NO_INTERRUPT */
		v->s.isr |= 1;
		update_irq(v);
	}
	process_queue(v);   /* the guest may have queued more than fit */
}

/* Waits for the worker, then completes everything: before a reset, a
 * save, a pause. Device lock held; the worker never takes it. */
static void quiesce(struct vblk *v)
{
	wait_idle(v);
	complete(v);
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
	uint8_t *avail = ring + avail_off();
	uint16_t avail_idx;
	memcpy(&avail_idx, avail + 2, 2);
	if ((uint16_t)(avail_idx - v->s.last_avail) > QUEUE_SIZE) {
		broken(v, "avail index ran more than a queue ahead");
		return;
	}
	bool any = false;
	while (v->s.last_avail != avail_idx && v->q_tail - v->q_head < QUEUE_SIZE) {
		uint16_t head;
		memcpy(&head, avail + 4 + 2 * (v->s.last_avail % QUEUE_SIZE), 2);
		/* Slots in [q_head, q_tail) belong to the worker or await
		 * complete(); q_tail's slot is free. */
		if (!parse(v, head, &v->reqs[v->q_tail % QUEUE_SIZE])) {
			broken(v, "malformed descriptor chain");
			break;
		}
		pthread_mutex_lock(&v->mu);
		v->q_tail++;
		pthread_cond_signal(&v->cv_work);
		pthread_mutex_unlock(&v->mu);
		v->s.last_avail++;
		any = true;
	}
	(void)any;
}

/* --- the virtio header in BAR0 -------------------------------------------------- */

static void device_reset(struct vblk *v)
{
	/* A reset device does no more DMA: the requests in flight end first,
	 * and their ring (maybe freed by the driver already) is left alone. */
	wait_idle(v);
	v->s.queue_pfn = 0;
	complete(v);
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
		quiesce(v);
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
	pthread_mutex_lock(&v->mu);
	v->stop = true;
	pthread_cond_signal(&v->cv_work);
	pthread_mutex_unlock(&v->mu);
	pthread_join(v->worker, NULL);   /* serves what is queued, then ends */
	free(v->reqs);
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
	v->reqs = calloc(QUEUE_SIZE, sizeof(*v->reqs));
	if (!v->reqs) {
		free(v);
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "virtio-blk: out of memory");
	}
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cv_work, NULL);
	pthread_cond_init(&v->cv_idle, NULL);
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
	rc = pthread_create(&v->worker, NULL, worker_main, v);
	if (rc != 0) {
		rc = havm_err_set(err, HAVM_E_INTERNAL, -rc, "virtio-blk %s: cannot start the I/O thread: %s",
				  p->path, strerror(rc));
		goto fail_disk;
	}
	rc = pci_add_func(h, &info, bar_moved, v, err);
	if (rc < 0)
		goto fail_worker;
	hlog(LOG_INFO, "virtio-blk %s: %s, %llu sectors%s, PCI %02x.0, I/O 0x%x, IRQ %u", p->path,
	     blk_format_name(blk_format(v->disk)), (unsigned long long)(blk_size(v->disk) / BLK_SECTOR_SIZE),
	     p->readonly ? ", read-only" : "", p->devfn >> 3, p->io_base, p->irq);
	*out = v;
	return 0;
fail_worker:
	pthread_mutex_lock(&v->mu);
	v->stop = true;
	pthread_cond_signal(&v->cv_work);
	pthread_mutex_unlock(&v->mu);
	pthread_join(v->worker, NULL);
fail_disk:
	(void)blk_close(v->disk);
fail:
	free(v->reqs);
	free(v);
	return rc;
}

struct blk_dev *vblk_disk(void *vblk)
{
	return ((struct vblk *)vblk)->disk;
}

void vblk_complete(void *vblk)
{
	complete(vblk);
}

void vblk_drain(void *vblk)
{
	quiesce(vblk);
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
