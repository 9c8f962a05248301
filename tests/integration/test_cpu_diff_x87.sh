#!/usr/bin/env bash
# x87 differential test of the CPU interpreter against unicorn
# (tests/cpu/difftest_x87.c): random x87 sequences from a fixed seed,
# FNSAVE images, EFLAGS and stored operands compared bit for bit, with the
# documented exclusions where QEMU's x87 differs from hardware.
source "$(dirname "$0")/../lib/tap.sh"
tester=$HAVM_TOP/build/asan/tests/cpu_difftest_x87
count=${CPU_DIFF_X87_COUNT:-20000}
seed=${CPU_DIFF_SEED:-1}
if [[ ! -x $tester ]]; then
	not_ok "cpu_difftest_x87 is built ($tester missing)"
	done_testing
	exit
fi
relay_tap "$tester" --seed "$seed" --count "$count"
done_testing
