# Cluster tests: corosync + Pacemaker nodes in network namespaces on this
# machine (tests/cluster/lib/bed.sh, docs/cluster-testbed.md). Run as root by
# `make check` / `make test-cluster`; skipped with a reason otherwise.
CLUSTER_TESTS += tests/cluster/test_bed.sh
