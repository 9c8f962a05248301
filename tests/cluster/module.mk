# Cluster tests: corosync + Pacemaker nodes in network namespaces on this
# machine (tests/cluster/lib/bed.sh, docs/cluster-testbed.md). Run as root by
# `make check` / `make test-cluster`; each script skips with a reason when
# something it needs is missing.
CLUSTER_TESTS += tests/cluster/test_bed.sh
CLUSTER_TESTS += tests/cluster/test_havm_fencing.sh
CLUSTER_TESTS += tests/cluster/test_agent_vm.sh
CLUSTER_TESTS += tests/cluster/test_vm_ha.sh
CLUSTER_TESTS += tests/cluster/test_vm_ha_iscsi.sh
