/* Recorder guest: writes sequenced records to its virtio-blk disk and says
 * on COM1 which ones the disk acknowledged, for the HA scenarios
 * (tests/cluster/test_vm_ha.sh).
 *
 * Disk layout (512-byte sectors, text so a shell can check it):
 *   sector 0      "HAVMBOOT boot=B\n"      B counts boots of this disk
 *   sector N + 1  "HAVMREC seq=N boot=B\n" record N, written by boot B
 * Records form a contiguous prefix (each is flushed before the next is
 * written), so a boot finds where to continue by binary search for the first
 * sector without a record.
 *
 * COM1:
 *   "recorder: boot B next N"   once per boot (a restore prints nothing)
 *   "ack N B T"                 record N of boot B is on the disk (write and
 *                               flush both succeeded); T = timer ticks / 10
 *                               since boot, an in-memory counter that a
 *                               save/restore keeps and a reboot restarts
 * One record every 100 ms of guest time (PIT at 100 Hz, IRQ 0). */
#include "idt.h"
#include "virtio_blk.h"

extern volatile u32 ticks;
void main(void);

static int starts_with(const char *p)
{
	for (int i = 0; p[i]; i++)
		if (blk_buf[i] != (u8)p[i])
			return 0;
	return 1;
}

/* Text into blk_buf: put_str/put_u append at *n. */
static void put_str(int *n, const char *s)
{
	while (*s && *n < BLK_SECTOR)
		blk_buf[(*n)++] = (u8)*s++;
}

static void put_u(int *n, u32 v)
{
	char d[12];
	int k = 0;
	do {
		d[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (k && *n < BLK_SECTOR)
		blk_buf[(*n)++] = (u8)d[--k];
}

static u32 get_u(const char *key)
{
	for (int i = 0; i + 8 < BLK_SECTOR && blk_buf[i]; i++) {
		int j = 0;
		while (key[j] && blk_buf[i + j] == (u8)key[j])
			j++;
		if (key[j])
			continue;
		u32 v = 0;
		for (i += j; blk_buf[i] >= '0' && blk_buf[i] <= '9'; i++)
			v = v * 10 + (u32)(blk_buf[i] - '0');
		return v;
	}
	return 0;
}

static void clear(void)
{
	for (int i = 0; i < BLK_SECTOR; i++)
		blk_buf[i] = 0;
}

static int is_record(u32 sector)
{
	return blk_request(BLK_T_IN, sector, BLK_SECTOR, 1) == 0 && starts_with("HAVMREC ");
}

static int write_flush(u32 sector)
{
	return blk_request(BLK_T_OUT, sector, BLK_SECTOR, 0) == 0 && blk_request(BLK_T_FLUSH, 0, 0, 0) == 0;
}

static void pit_init(void)
{
	u16 div = 11932;    /* 1193182 / 100 */
	outb(0x43, 0x34);
	outb(0x40, (u8)div);
	outb(0x40, (u8)(div >> 8));
}

void main(void)
{
	idt_init();
	idt_set_gate(0x20, irq0_stub);
	serial_init();
	if (blk_init() < 0) {
		puts_serial("recorder: no virtio-blk at 00:02.0\n");
		return;
	}
	u32 cap = blk_capacity();
	u32 boot = 1;
	if (blk_request(BLK_T_IN, 0, BLK_SECTOR, 1) == 0 && starts_with("HAVMBOOT "))
		boot = get_u("boot=") + 1;
	clear();
	int n = 0;
	put_str(&n, "HAVMBOOT boot=");
	put_u(&n, boot);
	put_str(&n, "\n");
	if (!write_flush(0)) {
		puts_serial("recorder: cannot write the boot sector\n");
		return;
	}
	/* First sector without a record in [1, cap): records are a prefix. */
	u32 lo = 1, hi = cap;
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		if (is_record(mid))
			lo = mid + 1;
		else
			hi = mid;
	}
	u32 seq = lo - 1;
	puts_serial("recorder: boot ");
	putu_serial(boot);
	puts_serial(" next ");
	putu_serial(seq);
	putc_serial('\n');

	pic_init(0xfe);     /* only IRQ 0 */
	pit_init();
	blk_wait_irq = 1;   /* ticks go on while a request is in flight */
	u32 done = 0;
	for (;;) {
		__asm__ volatile("sti; hlt; cli");
		u32 t = ticks / 10;
		if (t == done || seq + 1 >= cap)
			continue;
		done = t;
		clear();
		n = 0;
		put_str(&n, "HAVMREC seq=");
		put_u(&n, seq);
		put_str(&n, " boot=");
		put_u(&n, boot);
		put_str(&n, "\n");
		if (!write_flush(seq + 1)) {
			puts_serial("nack ");
			putu_serial(seq);
			putc_serial('\n');
			continue;   /* retried at the next tick */
		}
		puts_serial("ack ");
		putu_serial(seq);
		putc_serial(' ');
		putu_serial(boot);
		putc_serial(' ');
		putu_serial(t);
		putc_serial('\n');
		seq++;
	}
}
