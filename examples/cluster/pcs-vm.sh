#!/bin/sh
# The same configuration as crm-vm.crm, with pcs.
set -e
pcs stonith create fence-san fence_havm \
    devices="iscsi://san1:3260/iqn.2024-01.org.example:vms/1" \
    pcmk_host_list="n1 n2 n3" pcmk_reboot_action=off \
    meta provides=unfencing op monitor interval=60s
pcs resource create vm1 ocf:havm:VirtualServer \
    config=/srv/vms/vm1.vmc stop_policy=save pr_key=cmap migrate_downtime=300 \
    meta allow-migrate=true resource-stickiness=100 \
    op start timeout=120s op stop timeout=120s \
    op migrate_to timeout=120s op migrate_from timeout=60s \
    op monitor interval=10s timeout=20s \
    op monitor interval=60s timeout=30s OCF_CHECK_LEVEL=10
pcs constraint order start fence-san then start vm1
pcs property set stonith-enabled=true no-quorum-policy=stop
# Planned move (save-state hand-off, or live migration with allow-migrate):
#   pcs resource move vm1 n2 && pcs resource clear vm1
