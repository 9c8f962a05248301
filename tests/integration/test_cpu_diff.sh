#!/usr/bin/env bash
# Differential test of the CPU interpreter against unicorn (tests/cpu/):
# a bounded run of random instructions in real mode and in 32-bit protected
# mode from a fixed seed, so a failure reproduces with the printed command.
# The long randomised run is `make fuzz` (fuzz-cpu in vmcore/cpu/module.mk).
source "$(dirname "$0")/../lib/tap.sh"
tester=$HAVM_TOP/build/asan/tests/cpu_difftest
count=${CPU_DIFF_COUNT:-100000}
seed=${CPU_DIFF_SEED:-1}
if [[ ! -x $tester ]]; then
	not_ok "cpu_difftest is built ($tester missing)"
	done_testing
	exit
fi
relay_tap "$tester" --seed "$seed" --count "$count"
done_testing
