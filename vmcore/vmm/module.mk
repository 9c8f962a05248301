# vmcore/vmm — the vmm program's VM object and vCPU loop (main.c is named
# by vmcore/module.mk).
VMM_EXTRA_SRCS += vmcore/vmm/vm.c vmcore/vmm/vcpu.c vmcore/vmm/vm_snapshot.c vmcore/vmm/vm_save.c \
	vmcore/vmm/vm_stream.c vmcore/vmm/vm_stream_target.c vmcore/vmm/vm_disk_url.c vmcore/vmm/vm_store.c
vmm_LDLIBS := -lpthread
# iscsi:// disks with the PR registration guard (vm_disk_url.c).
vmm_LIBS += havm_store havm_iscsi

INTEGRATION_TESTS += tests/integration/test_vmm_ticker.sh tests/integration/test_vmm_disk.sh \
	tests/integration/test_vmm_tsccal.sh \
	tests/integration/test_vmm_saverestore.sh tests/integration/test_vmm_selffence.sh tests/integration/test_vmm_iscsi_sessiondrop.sh \
	tests/integration/test_vmm_iodeadline.sh tests/integration/test_vmm_blk_async.sh \
	tests/integration/test_vmm_store.sh tests/integration/test_vmm_store_fence.sh
# Linux guest saved, killed, restored elsewhere, from files and from a LUN
# store (needs make guest-linux).
INTEGRATION_TESTS += tests/integration/test_vmm_linux_saverestore.sh tests/integration/test_vmm_linux_migrate.sh tests/integration/test_vmm_store_linux.sh

# make bench: save/restore/migrate beside QEMU (docs/benchmarks.md).
BENCH_SCRIPTS += tests/bench/saverestore.sh
