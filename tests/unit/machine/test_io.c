/* I/O bus: registration rules, dispatch, width splitting, unclaimed ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "vmcore/machine/io.h"

struct fake {
	uint8_t regs[16];
	unsigned reads, writes;
	unsigned last_size;
};

static uint32_t fake_read(void *dev, uint32_t off, unsigned size)
{
	struct fake *f = dev;
	uint32_t v = 0;
	f->reads++;
	f->last_size = size;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)f->regs[off + i] << (8 * i);
	return v;
}

static void fake_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
	struct fake *f = dev;
	f->writes++;
	f->last_size = size;
	for (unsigned i = 0; i < size; i++)
		f->regs[off + i] = (uint8_t)(v >> (8 * i));
}

static const struct io_ops byte_ops = { "bytes", IO_W8, fake_read, fake_write };
static const struct io_ops dword_ops = { "dwords", IO_W32, fake_read, fake_write };

static void test_io_unclaimed_port_reads_all_ones_and_counts(void **state)
{
	(void)state;
	struct io_bus bus;
	assert_int_equal(io_bus_init(&bus), 0);
	assert_int_equal(io_read(&bus, IO_PORT, 0x1234, 1), 0xff);
	assert_int_equal(io_read(&bus, IO_PORT, 0x1234, 2), 0xffff);
	assert_int_equal(io_read(&bus, IO_MMIO, 0xfee00000, 4), 0xffffffff);
	io_write(&bus, IO_PORT, 0x1234, 1, 0);
	assert_int_equal(bus.count.unclaimed_reads, 3);
	assert_int_equal(bus.count.unclaimed_writes, 1);
	io_bus_fini(&bus);
}

static void test_io_overlap_is_rejected_naming_both_devices(void **state)
{
	(void)state;
	struct io_bus bus;
	struct fake a = { 0 }, b = { 0 };
	struct havm_err err;
	assert_int_equal(io_bus_init(&bus), 0);
	assert_int_equal(io_bus_register(&bus, IO_PORT, 0x60, 4, &byte_ops, &a, &err), 0);
	assert_int_equal(io_bus_register(&bus, IO_PORT, 0x63, 2, &dword_ops, &b, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "dwords"));
	assert_non_null(strstr(err.msg, "bytes"));
	assert_int_equal(io_bus_register(&bus, IO_PORT, 0xfffe, 4, &byte_ops, &b, &err), -EINVAL);
	assert_int_equal(io_bus_register(&bus, IO_PORT, 0x64, 2, &dword_ops, &b, &err), 0);
	io_bus_unregister(&bus, IO_PORT, 0x60, &a);
	assert_int_equal(io_read(&bus, IO_PORT, 0x60, 1), 0xff);
	io_bus_fini(&bus);
}

static void test_io_wide_access_splits_into_accepted_widths(void **state)
{
	(void)state;
	struct io_bus bus;
	struct fake f = { .regs = { 0x11, 0x22, 0x33, 0x44 } };
	assert_int_equal(io_bus_init(&bus), 0);
	assert_int_equal(io_bus_register(&bus, IO_PORT, 0x100, 4, &byte_ops, &f, NULL), 0);
	assert_int_equal(io_read(&bus, IO_PORT, 0x100, 4), 0x44332211);
	assert_int_equal(f.reads, 4);
	assert_int_equal(f.last_size, 1);
	io_write(&bus, IO_PORT, 0x102, 2, 0xbbaa);
	assert_int_equal(f.regs[2], 0xaa);
	assert_int_equal(f.regs[3], 0xbb);
	/* Crossing the end of the range: the byte past it is unclaimed. */
	assert_int_equal(io_read(&bus, IO_PORT, 0x103, 2), 0xffbb);
	io_bus_fini(&bus);
}

static void test_io_narrow_read_uses_containing_wide_unit_and_drops_narrow_write(void **state)
{
	(void)state;
	struct io_bus bus;
	struct fake f = { .regs = { 0x11, 0x22, 0x33, 0x44 } };
	assert_int_equal(io_bus_init(&bus), 0);
	assert_int_equal(io_bus_register(&bus, IO_MMIO, 0xfed00000, 4, &dword_ops, &f, NULL), 0);
	assert_int_equal(io_read(&bus, IO_MMIO, 0xfed00002, 1), 0x33);
	assert_int_equal(f.last_size, 4);
	io_write(&bus, IO_MMIO, 0xfed00001, 1, 0x99);
	assert_int_equal(f.writes, 0);
	assert_int_equal(bus.count.dropped_writes, 1);
	io_write(&bus, IO_MMIO, 0xfed00000, 4, 0xdeadbeef);
	assert_int_equal(io_read(&bus, IO_MMIO, 0xfed00000, 4), 0xdeadbeef);
	io_bus_fini(&bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_unclaimed_port_reads_all_ones_and_counts),
		cmocka_unit_test(test_io_overlap_is_rejected_naming_both_devices),
		cmocka_unit_test(test_io_wide_access_splits_into_accepted_widths),
		cmocka_unit_test(test_io_narrow_read_uses_containing_wide_unit_and_drops_narrow_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
