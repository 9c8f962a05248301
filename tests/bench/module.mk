# Benchmarks that span several modules (the whole VMM booting Linux).
BENCH_SCRIPTS += tests/bench/linux_boot.sh
