/* Disk guest: finds the virtio-blk-pci function at 00:02.0 through PCI
 * configuration space, sets up its queue like a legacy virtio driver, then
 * prints sector 0 as text, writes a message to sector 1, flushes, reads it
 * back and compares. Ends with HLT and interrupts off. */
#include "virtio_blk.h"

void main(void);

static void print_status(const char *what, int st)
{
	puts_serial(what);
	puts_serial(st == 0 ? " ok\n" : " failed\n");
}

void main(void)
{
	serial_init();
	if (blk_init() < 0) {
		puts_serial("disk: no virtio-blk at 00:02.0\n");
		return;
	}
	puts_serial("disk: capacity ");
	putu_serial(blk_capacity());
	puts_serial(" sectors\n");

	print_status("disk: read sector 0", blk_request(BLK_T_IN, 0, 512, 1));
	puts_serial("disk: sector 0 says: ");
	for (int i = 0; i < 64 && blk_buf[i] >= ' ' && blk_buf[i] < 127; i++)
		putc_serial((char)blk_buf[i]);
	putc_serial('\n');

	static const char msg[] = "written by the disk guest";
	for (int i = 0; i < 512; i++)
		blk_buf[i] = i < (int)sizeof(msg) ? (u8)msg[i] : 0;
	print_status("disk: write sector 1", blk_request(BLK_T_OUT, 1, 512, 0));
	print_status("disk: flush", blk_request(BLK_T_FLUSH, 0, 0, 0));
	for (int i = 0; i < 512; i++)
		blk_buf[i] = 0;
	print_status("disk: read sector 1", blk_request(BLK_T_IN, 1, 512, 1));
	int same = 1;
	for (int i = 0; i < (int)sizeof(msg); i++)
		same &= blk_buf[i] == (u8)msg[i];
	puts_serial(same ? "disk: verify ok\n" : "disk: verify mismatch\n");
	print_status("disk: read past the end", blk_request(BLK_T_IN, 0x7fffffff, 512, 1) == 1 ? 0 : 1);
}
