#!/usr/bin/env bash
# The kernel's TSC calibration against PIT channel 2 must succeed on our
# machine: the tsccal guest runs Linux's quick_pit_calibrate() algorithm
# (gate through port 0x61, MSB polling, 1/2048 error bound) and the host
# checks the frequency it measured against the nominal TSC rate (1 GHz:
# one tick per instruction, docs/vmc.md "Guest time").
source "$(dirname "$0")/../lib/tap.sh"
vmm=$HAVM_BIN/vmm
guest=$HAVM_TOP/build/guests/tsccal.bin
if [[ ! -x $vmm || ! -f $guest ]]; then
	skip "tsc calibration" "vmm or build/guests/tsccal.bin is not built (make check-build)"
	done_testing
	exit
fi
printf '<vm name="tsccal"><memory>4</memory><boot><image>%s</image></boot><serial port="com1" backend="stdio"/></vm>' \
	"$guest" >"$scratch/t.vmc"
timeout 60 "$vmm" run "$scratch/t.vmc" >"$scratch/out" 2>"$scratch/err" </dev/null
check_eq "tsccal guest ends halted (exit 20)" 20 "$?"
line=$(grep -E '^tsccal (ok|failed)' "$scratch/out")
grep '^tsccal cpu:' "$scratch/out" | sed 's/^/# /'
if [[ $line =~ ^tsccal\ ok\ i=([0-9]+)\ delta=([0-9]+)$ ]]; then
	ok "quick PIT calibration succeeds"
	khz=$((BASH_REMATCH[2] * 1193182 / (BASH_REMATCH[1] * 256 * 1000)))
	diag "measured $khz kHz in ${BASH_REMATCH[1]} MSB steps"
	check "measured TSC within 0.1% of 1 GHz" test $((khz > 999000 && khz < 1001000)) = 1
else
	not_ok "quick PIT calibration succeeds"
	diag "guest said: ${line:-nothing}"
	skip "measured TSC within 0.1% of 1 GHz" "no measurement"
fi
done_testing
