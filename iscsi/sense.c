/* havm — SCSI status and sense data: what to do (retry, check the PR
 * registration, fail) and how to say it in words. Pure functions, so the
 * unit tests cover every branch without a target. */
#include "iscsi/lun_int.h"

#include <errno.h>
#include <stdio.h>

#define ASC(ascq) (((ascq) >> 8) & 0xff)

enum lun_event lun_classify(int status, int key, int ascq)
{
	switch (status) {
	case SCSI_STATUS_GOOD:
	case SCSI_STATUS_CONDITION_MET:
		return LUN_EV_GOOD;
	case SCSI_STATUS_BUSY:
	case SCSI_STATUS_TASK_SET_FULL:
		return LUN_EV_RETRY;
	case SCSI_STATUS_RESERVATION_CONFLICT:
		return LUN_EV_CONFLICT;
	case SCSI_STATUS_TIMEOUT:
		return LUN_EV_TIMEOUT;
	case SCSI_STATUS_CHECK_CONDITION:
		break;
	default:
		return LUN_EV_FAIL;
	}
	switch (key) {
	case SCSI_SENSE_UNIT_ATTENTION:
		if (ASC(ascq) == 0x29)
			return LUN_EV_NEXUS_UA;
		if (ASC(ascq) == 0x2a)
			return LUN_EV_PR_UA;
		return LUN_EV_RETRY; /* e.g. capacity changed: the command did not run */
	case SCSI_SENSE_NOT_READY:
		/* 04/01: becoming ready; anything else is not coming back soon */
		return ascq == 0x0401 ? LUN_EV_RETRY : LUN_EV_FAIL;
	case SCSI_SENSE_COMMAND_ABORTED:
		return LUN_EV_RETRY;
	default:
		return LUN_EV_FAIL;
	}
}

static int sense_errno(int key, int ascq, enum havm_err_kind *kind)
{
	*kind = HAVM_E_IO;
	switch (key) {
	case SCSI_SENSE_ILLEGAL_REQUEST:
		if (ascq == SCSI_SENSE_ASCQ_LBA_OUT_OF_RANGE) {
			*kind = HAVM_E_CONFIG;
			return -ERANGE;
		}
		if (ascq == SCSI_SENSE_ASCQ_LOGICAL_UNIT_NOT_SUPPORTED) {
			*kind = HAVM_E_NOTFOUND;
			return -ENOENT;
		}
		if (ascq == SCSI_SENSE_ASCQ_INVALID_FIELD_IN_PARAMETER_LIST) {
			*kind = HAVM_E_CONFIG;
			return -EINVAL;
		}
		/* 20/00 invalid opcode, 24/00 invalid field in CDB: the target
		 * does not implement it (tgt and PREEMPT AND ABORT) */
		*kind = HAVM_E_UNSUPPORTED;
		return -EOPNOTSUPP;
	case SCSI_SENSE_DATA_PROTECTION:
		*kind = HAVM_E_STATE;
		return -EROFS;
	case SCSI_SENSE_NOT_READY:
	case SCSI_SENSE_UNIT_ATTENTION:
	case SCSI_SENSE_COMMAND_ABORTED:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

int lun_status_err(int status, int key, int ascq, const char *what,
		   const char *transport_msg, struct havm_err *err)
{
	switch (status) {
	case SCSI_STATUS_GOOD:
	case SCSI_STATUS_CONDITION_MET:
		return 0;
	case SCSI_STATUS_CHECK_CONDITION: {
		enum havm_err_kind kind;
		int code = sense_errno(key, ascq, &kind);
		/* libiscsi 1.19 names only some keys and ASC/ASCQs (NULL otherwise) */
		static const char *const keys[16] = {
			"NO_SENSE", "RECOVERED_ERROR", "NOT_READY", "MEDIUM_ERROR", "HARDWARE_ERROR",
			"ILLEGAL_REQUEST", "UNIT_ATTENTION", "DATA_PROTECTION", "BLANK_CHECK",
			"VENDOR_SPECIFIC", "COPY_ABORTED", "ABORTED_COMMAND", "OBSOLETE", "VOLUME_OVERFLOW",
			"MISCOMPARE", "RESERVED",
		};
		const char *ks = scsi_sense_key_str(key);
		const char *as = scsi_sense_ascq_str(ascq);
		return havm_err_set(err, kind, code,
				    "%s: CHECK CONDITION %s/%s (key 0x%x, asc/ascq 0x%04x)", what,
				    ks ? ks : keys[key & 15], as ? as : "unlisted ASC/ASCQ", key, ascq & 0xffff);
	}
	case SCSI_STATUS_RESERVATION_CONFLICT:
		return havm_err_set(err, HAVM_E_BUSY, -EACCES,
				    "%s: RESERVATION CONFLICT (the LUN is reserved and this I_T nexus is not registered)",
				    what);
	case SCSI_STATUS_BUSY:
		return havm_err_set(err, HAVM_E_IO, -EBUSY, "%s: target BUSY", what);
	case SCSI_STATUS_TASK_SET_FULL:
		return havm_err_set(err, HAVM_E_IO, -EBUSY, "%s: TASK SET FULL", what);
	case SCSI_STATUS_TASK_ABORTED:
		return havm_err_set(err, HAVM_E_IO, -EINTR, "%s: TASK ABORTED by the target", what);
	case SCSI_STATUS_TIMEOUT:
		return havm_err_set(err, HAVM_E_TIMEOUT, -ETIMEDOUT,
				    "%s: no answer within the command timeout (the command may still reach the target)",
				    what);
	case SCSI_STATUS_CANCELLED:
		return havm_err_set(err, HAVM_E_IO, -ECANCELED, "%s: cancelled (LUN closed)", what);
	case SCSI_STATUS_ERROR:
		return havm_err_set(err, HAVM_E_IO, -EIO, "%s: transport error: %s", what,
				    transport_msg && *transport_msg ? transport_msg : "unknown");
	default:
		return havm_err_set(err, HAVM_E_IO, -EIO, "%s: unexpected SCSI status 0x%x", what, status);
	}
}
