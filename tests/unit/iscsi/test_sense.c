/* Unit tests for iscsi/sense.c: SCSI status and sense decide retry, guard
 * check or failure, and failures read as words with the right kind. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "iscsi/lun_int.h"

static void test_classify_good_busy_conflict_timeout(void **state)
{
	(void)state;
	assert_int_equal(lun_classify(SCSI_STATUS_GOOD, 0, 0), LUN_EV_GOOD);
	assert_int_equal(lun_classify(SCSI_STATUS_BUSY, 0, 0), LUN_EV_RETRY);
	assert_int_equal(lun_classify(SCSI_STATUS_TASK_SET_FULL, 0, 0), LUN_EV_RETRY);
	assert_int_equal(lun_classify(SCSI_STATUS_RESERVATION_CONFLICT, 0, 0), LUN_EV_CONFLICT);
	assert_int_equal(lun_classify(SCSI_STATUS_TIMEOUT, 0, 0), LUN_EV_TIMEOUT);
	assert_int_equal(lun_classify(SCSI_STATUS_ERROR, 0, 0), LUN_EV_FAIL);
	assert_int_equal(lun_classify(SCSI_STATUS_CANCELLED, 0, 0), LUN_EV_FAIL);
}

static void test_classify_unit_attentions(void **state)
{
	(void)state;
	int cc = SCSI_STATUS_CHECK_CONDITION, ua = SCSI_SENSE_UNIT_ATTENTION;
	/* 29/00 power on/reset, 29/07 I_T nexus loss: the guard must check */
	assert_int_equal(lun_classify(cc, ua, 0x2900), LUN_EV_NEXUS_UA);
	assert_int_equal(lun_classify(cc, ua, 0x2907), LUN_EV_NEXUS_UA);
	/* 2A/03 reservations preempted, 2A/04 released, 2A/05 registrations preempted */
	assert_int_equal(lun_classify(cc, ua, 0x2a03), LUN_EV_PR_UA);
	assert_int_equal(lun_classify(cc, ua, 0x2a05), LUN_EV_PR_UA);
	assert_int_equal(lun_classify(cc, ua, 0x2a09), LUN_EV_PR_UA);
	/* capacity data changed: just retry */
	assert_int_equal(lun_classify(cc, ua, 0x2a09 + 0x100), LUN_EV_RETRY);
}

static void test_classify_other_sense(void **state)
{
	(void)state;
	int cc = SCSI_STATUS_CHECK_CONDITION;
	assert_int_equal(lun_classify(cc, SCSI_SENSE_NOT_READY, 0x0401), LUN_EV_RETRY);
	assert_int_equal(lun_classify(cc, SCSI_SENSE_NOT_READY, 0x3a00), LUN_EV_FAIL);
	assert_int_equal(lun_classify(cc, SCSI_SENSE_COMMAND_ABORTED, 0), LUN_EV_RETRY);
	assert_int_equal(lun_classify(cc, SCSI_SENSE_ILLEGAL_REQUEST, 0x2400), LUN_EV_FAIL);
	assert_int_equal(lun_classify(cc, SCSI_SENSE_MEDIUM_ERROR, 0x1100), LUN_EV_FAIL);
}

struct map_case {
	int status, key, ascq;
	int code;
	enum havm_err_kind kind;
	const char *words;
};

static void test_status_err_maps_kind_errno_and_words(void **state)
{
	(void)state;
#define cc SCSI_STATUS_CHECK_CONDITION
	static const struct map_case cases[] = {
		{ SCSI_STATUS_GOOD, 0, 0, 0, HAVM_OK, "" },
		{ cc, SCSI_SENSE_ILLEGAL_REQUEST, 0x2400, -EOPNOTSUPP, HAVM_E_UNSUPPORTED, "INVALID_FIELD_IN_CDB" },
		{ cc, SCSI_SENSE_ILLEGAL_REQUEST, 0x2100, -ERANGE, HAVM_E_CONFIG, "LBA_OUT_OF_RANGE" },
		{ cc, SCSI_SENSE_ILLEGAL_REQUEST, 0x2500, -ENOENT, HAVM_E_NOTFOUND, "LOGICAL_UNIT_NOT_SUPPORTED" },
		{ cc, SCSI_SENSE_ILLEGAL_REQUEST, 0x2600, -EINVAL, HAVM_E_CONFIG, "0x2600" },
		{ cc, SCSI_SENSE_DATA_PROTECTION, 0x2700, -EROFS, HAVM_E_STATE, "WRITE_PROTECTED" },
		{ cc, SCSI_SENSE_MEDIUM_ERROR, 0x1100, -EIO, HAVM_E_IO, "MEDIUM_ERROR" },
		{ cc, SCSI_SENSE_UNIT_ATTENTION, 0x2900, -EAGAIN, HAVM_E_IO, "UNIT_ATTENTION" },
		{ SCSI_STATUS_RESERVATION_CONFLICT, 0, 0, -EACCES, HAVM_E_BUSY, "RESERVATION CONFLICT" },
		{ SCSI_STATUS_BUSY, 0, 0, -EBUSY, HAVM_E_IO, "BUSY" },
		{ SCSI_STATUS_TIMEOUT, 0, 0, -ETIMEDOUT, HAVM_E_TIMEOUT, "may still reach the target" },
		{ SCSI_STATUS_CANCELLED, 0, 0, -ECANCELED, HAVM_E_IO, "cancelled" },
		{ SCSI_STATUS_ERROR, 0, 0, -EIO, HAVM_E_IO, "transport error: socket closed" },
		{ 0x77, 0, 0, -EIO, HAVM_E_IO, "unexpected SCSI status 0x77" },
	};
#undef cc
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct havm_err e;
		havm_err_clear(&e);
		int rc = lun_status_err(cases[i].status, cases[i].key, cases[i].ascq, "lun X: WRITE(16) lba 1+1",
					"socket closed", &e);
		if (rc != cases[i].code || e.kind != cases[i].kind || !strstr(e.msg, cases[i].words))
			fail_msg("case %zu: rc %d kind %d msg '%s'", i, rc, e.kind, e.msg);
		if (rc < 0 && strncmp(e.msg, "lun X: WRITE(16) lba 1+1: ", 26) != 0)
			fail_msg("case %zu: message does not start with the command: '%s'", i, e.msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_good_busy_conflict_timeout),
		cmocka_unit_test(test_classify_unit_attentions),
		cmocka_unit_test(test_classify_other_sense),
		cmocka_unit_test(test_status_err_maps_kind_errno_and_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
