# iscsi/ — libiscsi block backend, SCSI-3 persistent reservations, the VM store.
