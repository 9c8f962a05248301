/* virtio-blk-pci: found through PCI config space, driven like Linux's legacy
 * virtio_pci driver through its I/O BAR and a vring in guest RAM; data
 * reaches a real raw disk file; bad rings stop the queue, never crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devtest.h"

#define BAR 0xc000
#define RING 0x10000        /* queue pfn 0x10 */
#define HDR 0x30000
#define DATA 0x31000
#define STATUS 0x32000
#define QS 128

static char disk[64];

static int setup(void **state)
{
	(void)state;
	snprintf(disk, sizeof(disk), "/tmp/havm-vblk-%d.img", getpid());
	int fd = open(disk, O_RDWR | O_CREAT | O_TRUNC, 0600);
	uint8_t sec[512];
	for (int i = 0; i < 2048; i++) {   /* 1 MiB; sector i filled with (uint8_t)i */
		memset(sec, i & 0xff, sizeof(sec));
		if (write(fd, sec, sizeof(sec)) != (ssize_t)sizeof(sec))
			return -1;
	}
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(disk);
	return 0;
}

static void board(struct devtest *t, bool readonly)
{
	struct pc_config cfg = { .rtc_time = 1, .ndisks = 1 };
	cfg.disk[0] = (struct vblk_params){ .devfn = 0x10, .irq = 11, .io_base = BAR, .readonly = readonly };
	snprintf(cfg.disk[0].path, sizeof(cfg.disk[0].path), "%s", disk);
	snprintf(cfg.disk[0].serial, sizeof(cfg.disk[0].serial), "vda");
	devtest_init_cfg(t, &cfg);
	devtest_pic_init(t);
}

static uint32_t in(struct devtest *t, uint16_t port, unsigned size)
{
	return t->m.bus.pio_read(t->m.bus.opaque, port, size);
}

static void out(struct devtest *t, uint16_t port, unsigned size, uint32_t v)
{
	t->m.bus.pio_write(t->m.bus.opaque, port, size, v);
}

static uint32_t pci_read(struct devtest *t, uint8_t devfn, uint8_t reg)
{
	out(t, 0xcf8, 4, 0x80000000u | (uint32_t)devfn << 8 | reg);
	return in(t, 0xcfc, 4);
}

static void *ram(struct devtest *t, uint32_t a)
{
	return t->m.ram + a;
}

static void driver_init(struct devtest *t)
{
	out(t, BAR + 0x12, 1, 0);
	out(t, BAR + 0x12, 1, 1 | 2);
	uint32_t features = in(t, BAR + 0x00, 4);
	out(t, BAR + 0x04, 4, features);
	out(t, BAR + 0x0e, 2, 0);
	assert_int_equal(in(t, BAR + 0x0c, 2), QS);
	memset(ram(t, RING), 0, 3 * 4096);
	out(t, BAR + 0x08, 4, RING >> 12);
	out(t, BAR + 0x12, 1, 1 | 2 | 4);
}

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };

/* Queues a 3-descriptor request and notifies; returns the status byte. */
static uint8_t request(struct devtest *t, uint32_t type, uint64_t sector, uint32_t len, bool dev_writes)
{
	static uint16_t avail_idx;
	struct desc *d = ram(t, RING);
	uint8_t *hdr = ram(t, HDR);
	memset(hdr, 0, 16);
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	d[0] = (struct desc){ HDR, 16, 1, 1 };
	d[1] = (struct desc){ DATA, len, (uint16_t)(1 | (dev_writes ? 2 : 0)), 2 };
	d[2] = (struct desc){ STATUS, 1, 2, 0 };
	*(uint8_t *)ram(t, STATUS) = 0xee;
	uint16_t *avail = ram(t, RING + 16 * QS);
	uint16_t cur;
	memcpy(&cur, &avail[1], 2);
	avail_idx = cur;
	avail[2 + avail_idx % QS] = 0;
	avail[1] = (uint16_t)(avail_idx + 1);
	out(t, BAR + 0x10, 2, 0);
	/* Served on the disk's I/O thread; the used ring follows once the
	 * vCPU side completes it (vmm: MACHINE_REQ_DEV_DONE or a pause). */
	vblk_drain(pc_find_dev(&t->m, "virtio-blk"));
	return *(uint8_t *)ram(t, STATUS);
}

static uint16_t used_idx(struct devtest *t)
{
	uint16_t v;
	memcpy(&v, ram(t, RING + 0x1000 + 2), 2);
	return v;
}

static void test_vblk_pci_identity_bar_and_irq_line(void **state)
{
	(void)state;
	struct devtest t;
	board(&t, false);
	assert_int_equal(pci_read(&t, 0x00, 0), 0x12378086);
	assert_int_equal(pci_read(&t, 0x08, 0), 0x70008086);
	assert_int_equal(pci_read(&t, 0x10, 0), 0x10011af4);
	assert_int_equal(pci_read(&t, 0x10, 0x08) >> 16, 0x0100);   /* mass storage, SCSI */
	assert_int_equal(pci_read(&t, 0x10, 0x10), BAR | 1);
	assert_int_equal(pci_read(&t, 0x10, 0x3c) & 0xffff, 0x010b);
	assert_int_equal(pci_read(&t, 0x18, 0), 0xffffffff);
	/* Sizing BAR0 the way Linux does: write all-ones, read the mask. */
	out(&t, 0xcf8, 4, 0x80001010);
	out(&t, 0xcfc, 4, 0xffffffff);
	assert_int_equal(in(&t, 0xcfc, 4) & 0xfffc, 0xffc0);
	out(&t, 0xcfc, 4, 0xd000);                                   /* move it */
	assert_int_equal(in(&t, 0xd000 + 0x0c, 2), QS);
	assert_int_equal(in(&t, BAR + 0x0c, 2), 0xffff);             /* old place is empty */
	devtest_fini(&t);
}

static void test_vblk_write_then_read_reaches_the_disk_file(void **state)
{
	(void)state;
	struct devtest t;
	board(&t, false);
	driver_init(&t);
	assert_true(in(&t, BAR, 4) & (1u << 9));                     /* FLUSH offered */
	uint64_t cap = in(&t, BAR + 0x14, 4) | (uint64_t)in(&t, BAR + 0x18, 4) << 32;
	assert_int_equal(cap, 2048);
	memset(ram(&t, DATA), 0x5a, 1024);
	assert_int_equal(request(&t, 1, 2, 1024, false), 0);         /* OUT sectors 2-3 */
	assert_int_equal(used_idx(&t), 1);
	assert_int_equal(pic_output(t.m.pic), 1);                    /* INTx asserted */
	assert_int_equal(in(&t, BAR + 0x13, 1), 1);                  /* ISR: queue */
	assert_int_equal(in(&t, BAR + 0x13, 1), 0);
	assert_int_equal(request(&t, 4, 0, 0, false), 0);            /* FLUSH (data len 0 is ignored) */
	memset(ram(&t, DATA), 0, 2048);
	assert_int_equal(request(&t, 0, 1, 2048, true), 0);          /* IN sectors 1-4 */
	uint8_t *buf = ram(&t, DATA);
	assert_int_equal(buf[0], 1);
	assert_int_equal(buf[512], 0x5a);
	assert_int_equal(buf[1536 - 1], 0x5a);
	assert_int_equal(buf[1536], 4);
	devtest_fini(&t);
	/* And in the file itself. */
	int fd = open(disk, O_RDONLY);
	uint8_t sec[512];
	assert_int_equal(pread(fd, sec, 512, 3 * 512), 512);
	close(fd);
	assert_int_equal(sec[0], 0x5a);
	assert_int_equal(sec[511], 0x5a);
}

static bool page_dirty(const uint64_t *bm, uint32_t gpa)
{
	return bm[gpa / 4096 / 64] >> (gpa / 4096 % 64) & 1;
}

/* Pre-copy must re-send what the device wrote into guest RAM: the data
 * of an IN request, the status byte and the used ring. */
static void test_vblk_dma_writes_mark_guest_pages_dirty(void **state)
{
	(void)state;
	struct devtest t;
	board(&t, false);
	driver_init(&t);
	uint64_t bm[1024 / 64];                                      /* 4 MiB board */
	assert_int_equal(machine_dirty_log(&t.m, bm, true), 0);
	assert_int_equal(request(&t, 0, 0, 512, true), 0);           /* IN sector 0 */
	assert_int_equal(machine_dirty_log(&t.m, bm, true), 0);
	assert_true(page_dirty(bm, DATA));
	assert_true(page_dirty(bm, STATUS));
	assert_true(page_dirty(bm, RING + 0x1000));                  /* used ring */
	assert_false(page_dirty(bm, HDR));                           /* only read */
	assert_int_equal(machine_dirty_log(&t.m, bm, false), 0);     /* cleared */
	assert_false(page_dirty(bm, DATA));
	devtest_fini(&t);
}

static void test_vblk_errors_are_reported_in_the_status_byte(void **state)
{
	(void)state;
	struct devtest t;
	board(&t, false);
	driver_init(&t);
	assert_int_equal(request(&t, 0, 2047, 1024, true), 1);       /* past the end: IOERR */
	assert_int_equal(request(&t, 0, 0, 100, true), 1);           /* not a sector multiple */
	assert_int_equal(request(&t, 0, 0, 512, false), 1);          /* IN into a read-only buffer */
	assert_int_equal(request(&t, 99, 0, 512, true), 2);          /* unknown type: UNSUPP */
	assert_int_equal(request(&t, 8, 0, 20, true), 0);            /* GET_ID */
	assert_string_equal((char *)ram(&t, DATA), "havm-vda");
	devtest_fini(&t);
}

static void test_vblk_readonly_disk_refuses_writes(void **state)
{
	(void)state;
	struct devtest t;
	board(&t, true);
	driver_init(&t);
	assert_true(in(&t, BAR, 4) & (1u << 5));                     /* RO offered */
	assert_int_equal(request(&t, 1, 0, 512, false), 1);
	devtest_fini(&t);
}

static void test_vblk_malformed_ring_stops_the_queue_until_reset(void **state)
{
	(void)state;
	struct devtest t;
	board(&t, false);
	driver_init(&t);
	struct desc *d = ram(&t, RING);
	uint16_t *avail = ram(&t, RING + 16 * QS);
	d[0] = (struct desc){ HDR, 16, 1, 0 };                        /* a chain that loops on itself */
	avail[2] = 0;
	avail[1] = 1;
	out(&t, BAR + 0x10, 2, 0);
	assert_int_equal(in(&t, BAR + 0x12, 1) & 0x40, 0x40);        /* NEEDS_RESET */
	assert_int_equal(used_idx(&t), 0);
	avail[2] = 500;                                               /* head out of range */
	out(&t, BAR + 0x10, 2, 0);
	assert_int_equal(used_idx(&t), 0);
	out(&t, BAR + 0x08, 4, 0xfffff);                              /* ring beyond RAM */
	out(&t, BAR + 0x10, 2, 0);
	driver_init(&t);                                              /* reset recovers */
	assert_int_equal(in(&t, BAR + 0x12, 1), 7);
	assert_int_equal(request(&t, 0, 5, 512, true), 0);
	assert_int_equal(*(uint8_t *)ram(&t, DATA), 5);
	devtest_fini(&t);
}

/* Puts one IN request of sector @sector on the ring and notifies, without
 * waiting for it. */
static void submit_in(struct devtest *t, uint64_t sector)
{
	struct desc *d = ram(t, RING);
	uint8_t *hdr = ram(t, HDR);
	uint32_t type = 0;
	memset(hdr, 0, 16);
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	d[0] = (struct desc){ HDR, 16, 1, 1 };
	d[1] = (struct desc){ DATA, 512, 3, 2 };
	d[2] = (struct desc){ STATUS, 1, 2, 0 };
	*(uint8_t *)ram(t, STATUS) = 0xee;
	uint16_t *avail = ram(t, RING + 16 * QS);
	avail[2 + avail[1] % QS] = 0;
	avail[1] = (uint16_t)(avail[1] + 1);
	out(t, BAR + 0x10, 2, 0);
}

/* The notify returns at once; the I/O thread fills the buffer and the status
 * byte and asks the vCPU loop to publish it; the used ring and the
 * interrupt come only with that completion, on the vCPU side. */
static void test_vblk_request_completes_off_the_vcpu_thread(void **state)
{
	(void)state;
	struct devtest t;
	board(&t, false);
	driver_init(&t);
	atomic_store(&t.m.requests, 0);
	submit_in(&t, 7);
	for (int i = 0; i < 5000 && !(atomic_load(&t.m.requests) & MACHINE_REQ_DEV_DONE); i++)
		usleep(1000);
	assert_true(atomic_load(&t.m.requests) & MACHINE_REQ_DEV_DONE);
	assert_int_equal(*(uint8_t *)ram(&t, STATUS), 0);            /* served ... */
	assert_int_equal(*(uint8_t *)ram(&t, DATA), 7);
	assert_int_equal(used_idx(&t), 0);                            /* ... not yet published */
	assert_int_equal(pic_output(t.m.pic), 0);
	vblk_complete(pc_find_dev(&t.m, "virtio-blk"));
	assert_int_equal(used_idx(&t), 1);
	assert_int_equal(pic_output(t.m.pic), 1);
	devtest_fini(&t);
}

/* A device reset waits for the requests in flight: no DMA after it. */
static void test_vblk_reset_waits_for_requests_in_flight(void **state)
{
	(void)state;
	struct devtest t;
	board(&t, false);
	driver_init(&t);
	memset(ram(&t, DATA), 0, 512);
	submit_in(&t, 9);
	out(&t, BAR + 0x12, 1, 0);                                    /* reset */
	assert_int_equal(*(uint8_t *)ram(&t, STATUS), 0);
	assert_int_equal(*(uint8_t *)ram(&t, DATA), 9);
	assert_int_equal(in(&t, BAR + 0x12, 1), 0);
	driver_init(&t);                                              /* and it works again */
	assert_int_equal(request(&t, 0, 5, 512, true), 0);
	assert_int_equal(*(uint8_t *)ram(&t, DATA), 5);
	devtest_fini(&t);
}

static void test_vblk_missing_disk_names_the_file(void **state)
{
	(void)state;
	struct devtest t;
	struct pc_config cfg = { .rtc_time = 1, .ndisks = 1, .ram_size = 4u << 20 };
	cfg.disk[0] = (struct vblk_params){ .devfn = 0x10, .irq = 11, .io_base = BAR };
	snprintf(cfg.disk[0].path, sizeof(cfg.disk[0].path), "/nonexistent/disk.vhd");
	struct havm_err err;
	memset(&t, 0, sizeof(t));
	assert_true(pc_init(&t.m, &cfg, &err) < 0);
	assert_non_null(strstr(err.msg, "device virtio-blk"));
	assert_non_null(strstr(err.msg, "/nonexistent/disk.vhd"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vblk_pci_identity_bar_and_irq_line),
		cmocka_unit_test(test_vblk_write_then_read_reaches_the_disk_file),
		cmocka_unit_test(test_vblk_errors_are_reported_in_the_status_byte),
		cmocka_unit_test(test_vblk_readonly_disk_refuses_writes),
		cmocka_unit_test(test_vblk_malformed_ring_stops_the_queue_until_reset),
		cmocka_unit_test(test_vblk_missing_disk_names_the_file),
		cmocka_unit_test(test_vblk_dma_writes_mark_guest_pages_dirty),
		cmocka_unit_test(test_vblk_request_completes_off_the_vcpu_thread),
		cmocka_unit_test(test_vblk_reset_waits_for_requests_in_flight),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
