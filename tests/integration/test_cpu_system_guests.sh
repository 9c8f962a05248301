#!/usr/bin/env bash
# System-level CPU checks run as real guests under vmm: each freestanding
# guest in tests/guests (idt, paging, rings, fpu) runs its checks, prints
# "PASS <name>" or "FAIL <name>: <what> expected X got Y" on COM1 and ends
# in HLT with IF=0 (vmm exit 20). Every expected PASS line must be there,
# and no FAIL line.
source "$(dirname "$0")/../lib/tap.sh"
vmm=${HAVM_BIN:-$HAVM_TOP/build/asan/bin}/vmm
guests=$HAVM_TOP/build/guests

# guest name, then the checks it must pass
declare -A expected=(
	[idt]="div_by_zero_de ud2_ud int3_bp bad_selector_gp not_present_segment_np
	       interrupt_gate_clears_if trap_gate_keeps_if pit_irq0_at_vector_0x20
	       gp_through_absent_gate_double_fault"
	[paging]="not_present_read_restarts not_present_write_restarts
	          ring0_write_readonly_wp0_no_fault ring0_write_readonly_wp1_faults
	          accessed_dirty_bits invlpg_shows_new_mapping ring3_access_supervisor_page
	          pse_4mib_page"
	[rings]="iret_to_ring3 int80_dpl3_trap_gate_to_ring0 cli_in_ring3_gp0
	         hlt_in_ring3_gp0 int_dpl0_gate_from_ring3_gp call_gate_to_ring0_with_params"
	[fpu]="fninit_state arith_bit_patterns fcom_fnstsw_condition_codes
	       masked_zero_divide_gives_inf unmasked_zero_divide_mf
	       fnsave_frstor_round_trip cr0_ts_nm_then_clts"
)
order=(idt paging rings fpu)

if [[ ! -x $vmm ]]; then
	skip "cpu system guests" "vmm is not built"
	done_testing
	exit
fi
missing=()
for g in "${order[@]}"; do [[ -f $guests/$g.bin ]] || missing+=("build/guests/$g.bin"); done
if ((${#missing[@]})); then
	make -C "$HAVM_TOP" -s -j2 "${missing[@]}" >"$scratch/make.log" 2>&1 || diag "building the guests failed: $(tail -3 "$scratch/make.log")"
fi

for g in "${order[@]}"; do
	if [[ ! -f $guests/$g.bin ]]; then
		skip "$g guest" "$guests/$g.bin not built"
		continue
	fi
	printf '<vm name="%s"><memory>8</memory><boot><image>%s</image></boot><serial port="com1" backend="stdio"/></vm>\n' \
		"$g" "$guests/$g.bin" >"$scratch/$g.vmc"
	timeout 60 "$vmm" run "$scratch/$g.vmc" >"$scratch/$g.serial" 2>"$scratch/$g.err" </dev/null
	rc=$?
	check_eq "$g: halts with IF=0 (exit 20)" 20 "$rc"
	((rc == 20)) || diag "$(tail -3 "$scratch/$g.err")"
	for name in ${expected[$g]}; do
		check "$g: PASS $name" grep -qx "PASS $name" "$scratch/$g.serial"
		grep "^FAIL $name:" "$scratch/$g.serial" | while read -r l; do diag "$l"; done
	done
	check "$g: no FAIL line" bash -c "! grep -q '^FAIL' '$scratch/$g.serial'"
	check "$g: ran to its end" grep -qx "$g: done" "$scratch/$g.serial"
done

done_testing
