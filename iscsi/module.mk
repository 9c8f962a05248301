# iscsi/ — libiscsi block backend, SCSI-3 persistent reservations, the VM store.
LIBRARIES += havm_iscsi
havm_iscsi_SRCS := iscsi/url.c iscsi/sense.c iscsi/lun.c iscsi/lun_guard.c iscsi/lun_loop.c iscsi/lun_sync.c iscsi/pr.c iscsi/pr_key.c \
	iscsi/blk_iscsi.c
havm_iscsi_LDLIBS := -liscsi -lcmap -lcorosync_common -lnettle -lqb

# lun_probe: a small diagnostic and test tool over the LUN and PR calls
# (integration tests drive it; not installed).
PROGRAMS += lun_probe
lun_probe_SRCS := iscsi/lun_probe.c
lun_probe_LIBS := havm_iscsi vmcore_disk common

UNIT_TESTS += test_url test_sense test_pr_key
test_url_SRCS := tests/unit/iscsi/test_url.c
test_url_LIBS := havm_iscsi common
test_sense_SRCS := tests/unit/iscsi/test_sense.c
test_sense_LIBS := havm_iscsi common
test_pr_key_SRCS := tests/unit/iscsi/test_pr_key.c
test_pr_key_LIBS := havm_iscsi common

INTEGRATION_TESTS += tests/integration/test_iscsi_lun.sh tests/integration/test_iscsi_pr.sh \
	tests/integration/test_iscsi_reconnect.sh tests/integration/test_iscsi_faults.sh

FUZZERS += lun_url_fuzz
lun_url_fuzz_SRCS := tests/fuzz/lun_url_fuzz.c iscsi/url.c common/err.c

BENCHES += bench_lun
bench_lun_SRCS := iscsi/bench_lun.c
bench_lun_LIBS := havm_iscsi common
BENCH_SCRIPTS += tests/bench/iscsi.sh
