# vmcore/cpu — the x86 CPU interpreter (docs/cpu.md).
LIBRARIES += vmcore_cpu
VMCORE_LIBS += vmcore_cpu
vmcore_cpu_SRCS := $(addprefix vmcore/cpu/, interp.c decode.c flags.c mmu.c seg.c except.c \
    exec_main.c exec_0f.c exec_alu.c exec_string.c exec_control.c exec_system.c \
    cpuid_msr.c fpu.c fpu_env.c fpu_host.c cache.c exec_fast.c)

# Differential tester against unicorn (tests/cpu/, docs/cpu.md "Conformance").
# Built sanitised for `make check`/`make test-cpu` and optimised for `make fuzz-cpu`.
CPU_DIFFTEST_SRCS := tests/cpu/difftest.c tests/cpu/difftest_gen.c
build/asan/tests/cpu_difftest: $(patsubst %.c,build/asan/obj/%.o,$(CPU_DIFFTEST_SRCS)) \
    build/asan/lib/libvmcore_cpu.a build/asan/lib/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(SAN_LDFLAGS) -o $@ $^ -lunicorn -lqb
build/bench/cpu_difftest: $(patsubst %.c,build/obj/%.o,$(CPU_DIFFTEST_SRCS)) \
    build/lib/libvmcore_cpu.a build/lib/libcommon.a
	@mkdir -p $(@D)
	$(CC) -o $@ $^ -lunicorn -lqb
check-build: build/asan/tests/cpu_difftest
INTEGRATION_TESTS += tests/integration/test_cpu_diff.sh
# Debian's 686 kernel booted by vmm on this CPU (needs make guest-linux).
INTEGRATION_TESTS += tests/integration/test_vmm_linux.sh

# `make fuzz` also runs a long randomised differential run (optimised build,
# a new seed each time; CPU_FUZZ_COUNT instructions per mode).
CPU_FUZZ_COUNT ?= 5000000
.PHONY: fuzz-cpu
fuzz-cpu: build/bench/cpu_difftest
	build/bench/cpu_difftest --seed $$(od -An -N4 -tu4 /dev/urandom | tr -d ' ') \
	    --count $(CPU_FUZZ_COUNT) --max-report 20
fuzz: fuzz-cpu

# MIPS benchmark on freestanding workloads (docs/cpu.md "Performance").
BENCHES += cpu_bench
cpu_bench_SRCS := tests/cpu/bench.c
cpu_bench_LIBS := vmcore_cpu common
BENCH_SCRIPTS += tests/cpu/bench_cpu.sh

# cmocka unit tests (tests/unit/cpu/), one binary per source file.
UNIT_TESTS += test_cpu_exec_alu test_cpu_mmu test_cpu_seg test_cpu_except test_cpu_exec_0f test_cpu_fpu
test_cpu_exec_alu_SRCS := tests/unit/cpu/test_exec_alu.c
test_cpu_exec_alu_LIBS := vmcore_cpu common
test_cpu_mmu_SRCS := tests/unit/cpu/test_mmu.c
test_cpu_mmu_LIBS := vmcore_cpu common
test_cpu_seg_SRCS := tests/unit/cpu/test_seg.c
test_cpu_seg_LIBS := vmcore_cpu common
test_cpu_except_SRCS := tests/unit/cpu/test_except.c
test_cpu_except_LIBS := vmcore_cpu common
test_cpu_exec_0f_SRCS := tests/unit/cpu/test_exec_0f.c
test_cpu_exec_0f_LIBS := vmcore_cpu common
UNIT_TESTS += test_cpu_cache
test_cpu_cache_SRCS := tests/unit/cpu/test_cache.c
test_cpu_cache_LIBS := vmcore_cpu common
test_cpu_fpu_SRCS := tests/unit/cpu/test_fpu.c
test_cpu_fpu_LIBS := vmcore_cpu common

# x87 differential test against unicorn (tests/cpu/difftest_x87.c).
CPU_DIFFTEST_X87_SRCS := tests/cpu/difftest_x87.c tests/cpu/difftest_gen.c
build/asan/tests/cpu_difftest_x87: $(patsubst %.c,build/asan/obj/%.o,$(CPU_DIFFTEST_X87_SRCS)) \
    build/asan/lib/libvmcore_cpu.a build/asan/lib/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(SAN_LDFLAGS) -o $@ $^ -lunicorn -lqb
check-build: build/asan/tests/cpu_difftest_x87
INTEGRATION_TESTS += tests/integration/test_cpu_diff_x87.sh

# `make test-cpu`: the CPU's unit tests and the bounded differential run
# (last in the file: the prerequisites expand when the rule is read, so every
# test_cpu_* must be in UNIT_TESTS by then).
CPU_UNIT_TESTS = $(filter test_cpu_%,$(UNIT_TESTS))
test-cpu: build/asan/tests/cpu_difftest $(addprefix build/asan/tests/,$(CPU_UNIT_TESTS))
	@tests/lib/run-suites.sh --unit "$(addprefix build/asan/tests/,$(CPU_UNIT_TESTS))" \
	    --integration tests/integration/test_cpu_diff.sh
