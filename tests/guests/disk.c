/* Disk guest: finds the virtio-blk-pci function at 00:02.0 through PCI
 * configuration space, sets up its queue like a legacy virtio driver, then
 * prints sector 0 as text, writes a message to sector 1, flushes, reads it
 * back and compares. Ends with HLT and interrupts off. */
#include "guest.h"

void main(void);

#define QS 128
struct desc { u32 addr_lo, addr_hi, len; u16 flags, next; };

static u8 ring[3 * 4096] __attribute__((aligned(4096)));
static u8 hdr[16], status, buf[512];
static u16 avail_idx;
static u16 bar;

static u32 pci_read(u8 devfn, u8 reg)
{
	outl(0xcf8, 0x80000000u | (u32)devfn << 8 | reg);
	return inl(0xcfc);
}

static int request(u32 type, u32 sector, u32 len, int device_writes)
{
	struct desc *d = (struct desc *)ring;
	volatile u16 *avail = (volatile u16 *)(ring + 16 * QS);
	volatile u16 *used = (volatile u16 *)(ring + 4096);
	for (int i = 0; i < 16; i++)
		hdr[i] = 0;
	*(u32 *)hdr = type;
	*(u32 *)(hdr + 8) = sector;
	d[0] = (struct desc){ (u32)hdr, 0, 16, 1, 1 };
	d[1] = (struct desc){ (u32)buf, 0, len, (u16)(1 | (device_writes ? 2 : 0)), 2 };
	d[2] = (struct desc){ (u32)&status, 0, 1, 2, 0 };
	if (len == 0)
		d[0].next = 2;
	status = 0xff;
	__asm__ volatile("" : : : "memory");   /* descriptors and header are in RAM */
	u16 before = used[1];
	avail[2 + avail_idx % QS] = 0;
	avail[1] = ++avail_idx;
	outw(bar + 0x10, 0);
	for (int i = 0; i < 1000000 && used[1] == before; i++)
		;
	__asm__ volatile("" : : : "memory");   /* the device wrote status and buf */
	(void)inb(bar + 0x13);   /* acknowledge the interrupt */
	return used[1] == before ? -1 : status;
}

static void print_status(const char *what, int st)
{
	puts_serial(what);
	puts_serial(st == 0 ? " ok\n" : " failed\n");
}

void main(void)
{
	serial_init();
	if (pci_read(0x10, 0) != 0x10011af4) {
		puts_serial("disk: no virtio-blk at 00:02.0\n");
		return;
	}
	bar = (u16)(pci_read(0x10, 0x10) & 0xfffc);
	outb(bar + 0x12, 0);
	outb(bar + 0x12, 3);
	outl(bar + 0x04, inl(bar + 0x00));
	outw(bar + 0x0e, 0);
	outl(bar + 0x08, (u32)ring >> 12);
	outb(bar + 0x12, 7);
	puts_serial("disk: capacity ");
	putu_serial(inl(bar + 0x14));
	puts_serial(" sectors\n");

	print_status("disk: read sector 0", request(0, 0, 512, 1));
	puts_serial("disk: sector 0 says: ");
	for (int i = 0; i < 64 && buf[i] >= ' ' && buf[i] < 127; i++)
		putc_serial((char)buf[i]);
	putc_serial('\n');

	static const char msg[] = "written by the disk guest";
	for (int i = 0; i < 512; i++)
		buf[i] = i < (int)sizeof(msg) ? (u8)msg[i] : 0;
	print_status("disk: write sector 1", request(1, 1, 512, 0));
	print_status("disk: flush", request(4, 0, 0, 0));
	for (int i = 0; i < 512; i++)
		buf[i] = 0;
	print_status("disk: read sector 1", request(0, 1, 512, 1));
	int same = 1;
	for (int i = 0; i < (int)sizeof(msg); i++)
		same &= buf[i] == (u8)msg[i];
	puts_serial(same ? "disk: verify ok\n" : "disk: verify mismatch\n");
	print_status("disk: read past the end", request(0, 0x7fffffff, 512, 1) == 1 ? 0 : 1);
}
