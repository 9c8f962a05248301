/* A minimal polled legacy virtio-blk driver for the freestanding guests
 * (disk.c, recorder.c): the function at PCI 00:02.0, one 128-entry queue,
 * one request at a time into the 512-byte blk_buf. Header-only because each
 * guest is one .c file linked with entry.S. */
#ifndef HAVM_GUEST_VIRTIO_BLK_H
#define HAVM_GUEST_VIRTIO_BLK_H

#include "guest.h"

#define BLK_QS 128
#define BLK_SECTOR 512
enum { BLK_T_IN = 0, BLK_T_OUT = 1, BLK_T_FLUSH = 4 };

struct blk_desc { u32 addr_lo, addr_hi, len; u16 flags, next; };

static u8 blk_ring[3 * 4096] __attribute__((aligned(4096)));
static u8 blk_hdr[16], blk_status, blk_buf[BLK_SECTOR];
static u16 blk_avail_idx;
static u16 blk_bar;

static u32 pci_read(u8 devfn, u8 reg)
{
	outl(0xcf8, 0x80000000u | (u32)devfn << 8 | reg);
	return inl(0xcfc);
}

/* Finds the device and brings it to DRIVER_OK with the queue at blk_ring;
 * -1 when 00:02.0 is not a virtio-blk. */
static int blk_init(void)
{
	if (pci_read(0x10, 0) != 0x10011af4)
		return -1;
	blk_bar = (u16)(pci_read(0x10, 0x10) & 0xfffc);
	outb(blk_bar + 0x12, 0);                        /* reset */
	outb(blk_bar + 0x12, 3);                        /* ACKNOWLEDGE | DRIVER */
	outl(blk_bar + 0x04, inl(blk_bar + 0x00));      /* accept every feature */
	outw(blk_bar + 0x0e, 0);                        /* queue 0 */
	outl(blk_bar + 0x08, (u32)blk_ring >> 12);
	outb(blk_bar + 0x12, 7);                        /* DRIVER_OK */
	return 0;
}

/* The capacity in sectors (low 32 bits). */
static u32 blk_capacity(void)
{
	return inl(blk_bar + 0x14);
}

/* Set by a guest whose IDT and timer run: blk_request then waits for the
 * device in HLT (interrupts on), so the guest's ticks go on meanwhile. */
static int blk_wait_irq;

/* One polled request (BLK_T_*) on blk_buf: the status byte, or -1 if the
 * device never completed it. */
static int blk_request(u32 type, u32 sector, u32 len, int device_writes)
{
	struct blk_desc *d = (struct blk_desc *)blk_ring;
	volatile u16 *avail = (volatile u16 *)(blk_ring + 16 * BLK_QS);
	volatile u16 *used = (volatile u16 *)(blk_ring + 4096);
	for (int i = 0; i < 16; i++)
		blk_hdr[i] = 0;
	*(u32 *)blk_hdr = type;
	*(u32 *)(blk_hdr + 8) = sector;
	d[0] = (struct blk_desc){ (u32)blk_hdr, 0, 16, 1, 1 };
	d[1] = (struct blk_desc){ (u32)blk_buf, 0, len, (u16)(1 | (device_writes ? 2 : 0)), 2 };
	d[2] = (struct blk_desc){ (u32)&blk_status, 0, 1, 2, 0 };
	if (len == 0)
		d[0].next = 2;
	blk_status = 0xff;
	__asm__ volatile("" : : : "memory");   /* descriptors and header are in RAM */
	u16 before = used[1];
	avail[2 + blk_avail_idx % BLK_QS] = 0;
	avail[1] = ++blk_avail_idx;
	outw(blk_bar + 0x10, 0);
	/* The device completes asynchronously (its I/O thread, a LUN round
	 * trip away, or a frozen target for seconds). With blk_wait_irq (a
	 * timer runs), wait in HLT with interrupts on, up to ~60 s at 100 Hz;
	 * otherwise poll. */
	for (u32 i = 0; i < (blk_wait_irq ? 6000u : 400000000u) && used[1] == before; i++) {
		if (blk_wait_irq)
			__asm__ volatile("sti; hlt; cli" : : : "memory");
		else
			__asm__ volatile("pause" : : : "memory");
	}
	__asm__ volatile("" : : : "memory");   /* the device wrote status and buf */
	(void)inb(blk_bar + 0x13);             /* acknowledge the interrupt */
	return used[1] == before ? -1 : blk_status;
}

#endif
