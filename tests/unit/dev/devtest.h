/* Test harness for devices: a PC board without a CPU whose clock is a
 * counter the test advances. */
#ifndef HAVM_TESTS_UNIT_DEV_DEVTEST_H
#define HAVM_TESTS_UNIT_DEV_DEVTEST_H

#include <stdint.h>

#include "vmcore/machine/pc.h"

struct devtest {
	struct machine m;
	struct pc_config cfg;
	uint64_t insns;
};

/* Builds the board with @nuarts UARTs (COM1.. at 0x3f8, 0x2f8) writing to
 * @serial_path files (NULL: no backend), RTC at @rtc_time. Asserts on failure. */
void devtest_init(struct devtest *t, unsigned nuarts, const char *serial_path, int64_t rtc_time);
/* Builds the board from @cfg (copied into t->cfg; ram_size 0 = 4 MiB). */
void devtest_init_cfg(struct devtest *t, const struct pc_config *cfg);
void devtest_fini(struct devtest *t);

/* Advances guest time by @ns and fires due timers. */
void devtest_advance(struct devtest *t, uint64_t ns);

uint8_t devtest_inb(struct devtest *t, uint16_t port);
void devtest_outb(struct devtest *t, uint16_t port, uint8_t v);

/* Programs the PIC pair like Linux: vectors 0x20/0x28, all unmasked. */
void devtest_pic_init(struct devtest *t);

#endif
