/* Unit tests for havm/quorum.c: every answer corosync can give, through the
 * corosync ops table, plus the real library in a network namespace without
 * corosync (stand-alone). A running single-node corosync is covered by
 * tests/integration/test_quorum_corosync.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "havm/quorum.h"
#include "havm/quorum_int.h"

/* The fake corosync: what each call answers. */
static struct {
	cs_error_t init_rc;
	int try_again_rounds; /* quorum_initialize answers TRY_AGAIN this often first */
	uint32_t type;
	cs_error_t quorate_rc;
	int quorate;
	cs_error_t cmap_rc;
	const char *cluster_name; /* NULL = key unset */
	uint32_t this_node_id;    /* 0 = key unset */
	int local_node_pos;       /* -1 = key unset */
	uint32_t pos_nodeid;      /* nodelist.node.<pos>.nodeid, 0 = unset */
	int init_calls, q_finalized, c_finalized;
} fake;

static cs_error_t f_qinit(quorum_handle_t *h, quorum_callbacks_t *cb, uint32_t *type)
{
	(void)cb;
	fake.init_calls++;
	if (fake.try_again_rounds-- > 0)
		return CS_ERR_TRY_AGAIN;
	*h = 1;
	*type = fake.type;
	return fake.init_rc;
}
static cs_error_t f_getq(quorum_handle_t h, int *q)
{
	(void)h;
	*q = fake.quorate;
	return fake.quorate_rc;
}
static cs_error_t f_qfin(quorum_handle_t h)
{
	(void)h;
	fake.q_finalized++;
	return CS_OK;
}
static cs_error_t f_cinit(cmap_handle_t *h)
{
	*h = 2;
	return fake.cmap_rc;
}
static cs_error_t f_cstr(cmap_handle_t h, const char *key, char **str)
{
	(void)h;
	if (strcmp(key, "totem.cluster_name") == 0 && fake.cluster_name) {
		*str = strdup(fake.cluster_name);
		return CS_OK;
	}
	return CS_ERR_NOT_EXIST;
}
static cs_error_t f_cu32(cmap_handle_t h, const char *key, uint32_t *v)
{
	(void)h;
	if (strcmp(key, "runtime.votequorum.this_node_id") == 0 && fake.this_node_id) {
		*v = fake.this_node_id;
		return CS_OK;
	}
	if (strcmp(key, "nodelist.local_node_pos") == 0 && fake.local_node_pos >= 0) {
		*v = (uint32_t)fake.local_node_pos;
		return CS_OK;
	}
	char want[64];
	snprintf(want, sizeof(want), "nodelist.node.%d.nodeid", fake.local_node_pos);
	if (strcmp(key, want) == 0 && fake.pos_nodeid) {
		*v = fake.pos_nodeid;
		return CS_OK;
	}
	return CS_ERR_NOT_EXIST;
}
static cs_error_t f_cfin(cmap_handle_t h)
{
	(void)h;
	fake.c_finalized++;
	return CS_OK;
}

static int use_fake(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	fake.init_rc = CS_OK;
	fake.type = QUORUM_SET;
	fake.quorate_rc = CS_OK;
	fake.quorate = 1;
	fake.cmap_rc = CS_OK;
	fake.cluster_name = "rtest";
	fake.this_node_id = 3;
	fake.local_node_pos = -1;
	havm_corosync = (struct havm_corosync_ops){ f_qinit, f_getq, f_qfin, f_cinit, f_cstr, f_cu32, f_cfin };
	return 0;
}

static int use_real(void **state)
{
	(void)state;
	havm_corosync_reset();
	return 0;
}

static void test_no_corosync_is_standalone_and_quorate(void **state)
{
	(void)state;
	fake.init_rc = CS_ERR_LIBRARY;
	struct havm_cluster_info ci;
	struct havm_err e;
	havm_err_clear(&e);
	assert_int_equal(havm_cluster_query(&ci, &e), 0);
	assert_int_equal(ci.mode, HAVM_CLUSTER_STANDALONE);
	assert_true(ci.quorate);
	assert_int_equal(ci.nodeid, 0);
	assert_string_equal(ci.cluster_name, "");
	assert_int_equal(e.kind, HAVM_OK);
	assert_string_equal(havm_cluster_mode_name(ci.mode), "standalone");
}

static void test_member_reads_quorum_name_and_votequorum_nodeid(void **state)
{
	(void)state;
	struct havm_cluster_info ci;
	struct havm_err e;
	assert_int_equal(havm_cluster_query(&ci, &e), 0);
	assert_int_equal(ci.mode, HAVM_CLUSTER_MEMBER);
	assert_true(ci.quorate);
	assert_true(ci.quorum_provider);
	assert_int_equal(ci.nodeid, 3);
	assert_string_equal(ci.cluster_name, "rtest");
	assert_int_equal(fake.q_finalized, 1);
	assert_int_equal(fake.c_finalized, 1);
	assert_string_equal(havm_cluster_mode_name(ci.mode), "member");
}

static void test_nodeid_falls_back_to_nodelist_local_node_pos(void **state)
{
	(void)state;
	fake.this_node_id = 0;
	fake.local_node_pos = 1;
	fake.pos_nodeid = 7;
	fake.type = QUORUM_FREE;
	struct havm_cluster_info ci;
	struct havm_err e;
	assert_int_equal(havm_cluster_query(&ci, &e), 0);
	assert_int_equal(ci.nodeid, 7);
	assert_false(ci.quorum_provider);
}

static void test_missing_nodeid_is_config_error_naming_keys(void **state)
{
	(void)state;
	fake.this_node_id = 0;
	struct havm_cluster_info ci;
	struct havm_err e;
	assert_true(havm_cluster_query(&ci, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_CONFIG);
	assert_non_null(strstr(e.msg, "runtime.votequorum.this_node_id"));
	assert_non_null(strstr(e.msg, "nodelist.local_node_pos"));
	assert_int_equal(fake.c_finalized, 1);

	fake.local_node_pos = 2; /* position known, but that node has no id */
	assert_true(havm_cluster_query(&ci, &e) < 0);
	assert_non_null(strstr(e.msg, "nodelist.node.2.nodeid"));
}

static void test_unset_cluster_name_is_empty_not_error(void **state)
{
	(void)state;
	fake.cluster_name = NULL;
	struct havm_cluster_info ci;
	struct havm_err e;
	assert_int_equal(havm_cluster_query(&ci, &e), 0);
	assert_string_equal(ci.cluster_name, "");
	assert_int_equal(ci.nodeid, 3);
}

static void test_try_again_is_retried_a_bounded_number_of_times(void **state)
{
	(void)state;
	fake.try_again_rounds = 2;
	struct havm_cluster_info ci;
	struct havm_err e;
	assert_int_equal(havm_cluster_query(&ci, &e), 0);
	assert_int_equal(fake.init_calls, 3);
	assert_int_equal(ci.mode, HAVM_CLUSTER_MEMBER);

	fake.init_calls = 0;
	fake.try_again_rounds = 1000;
	assert_true(havm_cluster_query(&ci, &e) < 0);
	assert_int_equal(e.kind, HAVM_E_IO);
	assert_non_null(strstr(e.msg, "CS_ERR_TRY_AGAIN"));
	assert_int_equal(fake.init_calls, 10);
}

static void test_ipc_errors_are_io_errors_not_standalone(void **state)
{
	(void)state;
	struct havm_cluster_info ci;
	struct havm_err e;
	fake.init_rc = CS_ERR_SECURITY;
	assert_int_equal(havm_cluster_query(&ci, &e), -EACCES);
	assert_int_equal(e.kind, HAVM_E_IO);
	assert_non_null(strstr(e.msg, "CS_ERR_SECURITY"));
	fake.init_rc = CS_OK;
	fake.quorate_rc = CS_ERR_BAD_HANDLE;
	assert_true(havm_cluster_query(&ci, &e) < 0);
	assert_non_null(strstr(e.msg, "getquorate"));
	assert_int_equal(fake.q_finalized, 1); /* only the connected attempt */
	fake.quorate_rc = CS_OK;
	fake.cmap_rc = CS_ERR_LIBRARY;
	assert_true(havm_cluster_query(&ci, &e) < 0);
	assert_non_null(strstr(e.msg, "cmap"));
}

static void test_gate_allows_quorate_and_standalone_unless_cluster_required(void **state)
{
	(void)state;
	struct havm_cluster_info ci = { .mode = HAVM_CLUSTER_MEMBER, .quorate = true, .nodeid = 2 };
	snprintf(ci.cluster_name, sizeof(ci.cluster_name), "prod");
	struct havm_err e;
	havm_err_clear(&e);
	assert_int_equal(havm_quorum_gate(&ci, true, "vm web1: online", &e), 0);
	ci.quorate = false;
	assert_int_equal(havm_quorum_gate(&ci, false, "vm web1: online", &e), -EPERM);
	assert_int_equal(e.kind, HAVM_E_NOQUORUM);
	assert_string_equal(e.msg, "vm web1: online: refused: node 2 of cluster 'prod' is in a "
				   "partition without quorum");
	struct havm_cluster_info alone = { .mode = HAVM_CLUSTER_STANDALONE, .quorate = true };
	assert_int_equal(havm_quorum_gate(&alone, false, "x", &e), 0);
	assert_int_equal(havm_quorum_gate(&alone, true, "vm web1: online", &e), -EPERM);
	assert_int_equal(e.kind, HAVM_E_NOQUORUM);
	assert_non_null(strstr(e.msg, "corosync is not running"));
}

/* The real libraries in a fresh network namespace, where no corosync IPC
 * socket (abstract unix sockets are per namespace) can exist. */
static void test_real_corosync_absent_in_private_netns_is_standalone(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0)
			_exit(3);
		struct havm_cluster_info ci;
		struct havm_err e;
		if (havm_cluster_query(&ci, &e) < 0)
			_exit(1);
		_exit(ci.mode == HAVM_CLUSTER_STANDALONE && ci.quorate ? 0 : 2);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 3) {
		skip(); /* no namespace support here */
		return;
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_no_corosync_is_standalone_and_quorate, use_fake),
		cmocka_unit_test_setup(test_member_reads_quorum_name_and_votequorum_nodeid, use_fake),
		cmocka_unit_test_setup(test_nodeid_falls_back_to_nodelist_local_node_pos, use_fake),
		cmocka_unit_test_setup(test_missing_nodeid_is_config_error_naming_keys, use_fake),
		cmocka_unit_test_setup(test_unset_cluster_name_is_empty_not_error, use_fake),
		cmocka_unit_test_setup(test_try_again_is_retried_a_bounded_number_of_times, use_fake),
		cmocka_unit_test_setup(test_ipc_errors_are_io_errors_not_standalone, use_fake),
		cmocka_unit_test(test_gate_allows_quorate_and_standalone_unless_cluster_required),
		cmocka_unit_test_setup(test_real_corosync_absent_in_private_netns_is_standalone, use_real),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
