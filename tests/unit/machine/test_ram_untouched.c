/* machine_ram_untouched(): which pages of guest RAM the host never
 * populated, from /proc/self/pagemap. A page counts only if it reads as
 * zero without being read: written, written-then-zeroed, read, and
 * file-mapped (lazy restore) pages never count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmcore/machine/machine.h"

#define PAGES 256u

static int bit(const uint64_t *bm, unsigned i)
{
	return (int)(bm[i / 64] >> (i % 64) & 1);
}

static void test_only_never_touched_anonymous_pages_are_untouched(void **state)
{
	(void)state;
	struct machine m;
	memset(&m, 0, sizeof(m));
	struct havm_err e;
	assert_int_equal(machine_ram_alloc(&m, PAGES * 4096, &e), 0);
	m.ram[3 * 4096 + 17] = 1;                  /* written */
	m.ram[7 * 4096] = 9;                       /* written, then zero again */
	m.ram[7 * 4096] = 0;
	volatile uint8_t r = m.ram[11 * 4096 + 5]; /* only read: the zero page */
	(void)r;

	/* pages 64..127: a private file mapping, as a lazy restore makes; never read */
	char path[] = "/tmp/ram-untouched.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, 64 * 4096), 0);
	assert_int_equal(pwrite(fd, "x", 1, 5 * 4096), 1);
	assert_true(mmap(m.ram + 64 * 4096, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0) !=
		    MAP_FAILED);
	close(fd);

	uint64_t bm[PAGES / 64];
	memset(bm, 0xff, sizeof(bm));
	assert_int_equal(machine_ram_untouched(&m, bm), 0);
	for (unsigned i = 0; i < PAGES; i++) {
		int want = !(i == 3 || i == 7 || i == 11 || (i >= 64 && i < 128));
		if (bit(bm, i) != want)
			fail_msg("page %u: untouched %d, expected %d", i, bit(bm, i), want);
	}
	/* the file page holds data although it was never touched */
	assert_int_equal(m.ram[(64 + 5) * 4096], 'x');
	machine_ram_free(&m);
}

static void test_no_ram_is_an_error_with_an_empty_map(void **state)
{
	(void)state;
	struct machine m;
	memset(&m, 0, sizeof(m));
	m.ram_size = 64 * 4096;
	uint64_t bm[1] = {~0ull};
	assert_int_equal(machine_ram_untouched(&m, bm), -EINVAL);
	assert_int_equal(bm[0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_only_never_touched_anonymous_pages_are_untouched),
		cmocka_unit_test(test_no_ram_is_an_error_with_an_empty_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
