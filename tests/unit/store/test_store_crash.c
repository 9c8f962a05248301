/* Crash safety of replacing a .vsv, for both layouts: a child process
 * replaces the old object A by B and is killed (HAVM_FAULT "*", crash
 * action: _exit without flushing) at step 1, 2, ... until it finishes.
 * After every death the store must open and validate, hold exactly one
 * object, and that object must read back as A or as B byte for byte, never
 * a mix; a read-write open then repairs the table without changing the
 * answer. Both outcomes must occur (the window after the commit point). */
#include "store_fixture.h"

#include "common/fault.h"
#include "iscsi/gpt.h"

#include <sys/wait.h>

#define A_LEN (300u * 1024 + 17)
#define B_LEN (700u * 1024 + 5)
#define CHUNK (64u * 1024)
#define MAX_STEPS 500

static uint8_t *obj_a, *obj_b;

static void reset(struct sfx *f)
{
	struct havm_err e;
	if (f->img[0] && store_format(f->url, 1, &e) != 0)
		fail_msg("%s", e.msg);
	struct store *s = sfx_open(f, STORE_O_RDWR);
	if (store_remove(s, "vm.vsv", NULL) == 0)
		assert_true(1);
	if (store_write_file(s, "vm.vsv", STORE_KIND_VSV, obj_a, A_LEN, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(store_close(s), 0);
}

/* The writer: returns the child's exit status (86 = killed at step @n). */
static int writer(struct sfx *f, unsigned n)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		havm_fault_arm("*", n, HAVM_FAULT_CRASH);
		struct store *s;
		struct store_replace *r;
		if (store_open(f->url, STORE_O_RDWR, &s, NULL) != 0)
			_exit(2);
		if (store_replace_begin(s, "vm.vsv", STORE_KIND_VSV, 0, &r, NULL) != 0)
			_exit(3);
		for (size_t off = 0; off < B_LEN; off += CHUNK)
			if (store_replace_write(r, obj_b + off, B_LEN - off < CHUNK ? B_LEN - off : CHUNK) != 0)
				_exit(4);
		if (store_replace_commit(r, NULL) != 0)
			_exit(5);
		_exit(store_close(s) == 0 ? 0 : 6);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* 'A' or 'B': what the store holds now (fails the test on anything else). */
static char check(struct sfx *f, unsigned flags)
{
	struct store *s;
	struct havm_err e;
	if (store_open(f->url, flags, &s, &e) != 0)
		fail_msg("after a crash the store does not open: %s", e.msg);
	struct store_obj *o;
	size_t n;
	assert_int_equal(store_list(s, &o, &n, NULL), 0);
	assert_int_equal(n, 1); /* no half-made or duplicate object */
	free(o);
	void *buf;
	size_t len;
	if (store_read_file(s, "vm.vsv", 1 << 22, &buf, &len, &e) != 0)
		fail_msg("%s", e.msg);
	char got = 0;
	if (len == A_LEN && memcmp(buf, obj_a, A_LEN) == 0)
		got = 'A';
	else if (len == B_LEN && memcmp(buf, obj_b, B_LEN) == 0)
		got = 'B';
	free(buf);
	assert_int_equal(store_close(s), 0);
	if (!got)
		fail_msg("vm.vsv is neither the old nor the new object (%zu bytes)", len);
	return got;
}

static void crash_every_step(struct sfx *f)
{
	obj_a = malloc(A_LEN);
	obj_b = malloc(B_LEN);
	sfx_fill(obj_a, A_LEN, 11);
	sfx_fill(obj_b, B_LEN, 22);
	unsigned n, old = 0, new = 0;
	int st = -1;
	for (n = 1; n <= MAX_STEPS; n++) {
		reset(f);
		st = writer(f, n);
		if (st != HAVM_FAULT_EXIT)
			break;
		if (f->img[0]) { /* the table itself still validates */
			struct blk_backend *be;
			struct gpt_table t;
			assert_int_equal(blk_backend_file_open(f->img, 0, &be, NULL), 0);
			assert_true(gpt_read(be, &t, NULL) > 0);
			assert_int_equal(blk_backend_close(be), 0);
		}
		char ro = check(f, 0);
		char rw = check(f, STORE_O_RDWR); /* repairs, same answer */
		assert_int_equal(ro, rw);
		if (f->img[0]) {
			struct blk_backend *be;
			struct gpt_table t;
			assert_int_equal(blk_backend_file_open(f->img, 0, &be, NULL), 0);
			assert_int_equal(gpt_read(be, &t, NULL), GPT_PRIMARY_OK | GPT_BACKUP_OK);
			assert_int_equal(blk_backend_close(be), 0);
		}
		if (ro == 'A')
			old++;
		else
			new ++;
	}
	assert_int_equal(st, 0); /* the writer finished within MAX_STEPS */
	assert_int_equal(check(f, 0), 'B');
	print_message("%s: killed at %u steps: %u left the old object, %u the new one\n", f->url, n - 1, old, new);
	assert_true(old > 0);
	assert_true(new > 0);
	free(obj_a);
	free(obj_b);
}

static void test_store_crash_gpt_replace_is_atomic_at_every_step(void **state)
{
	(void)state;
	struct sfx f;
	sfx_init(&f, 1, 8u << 20);
	crash_every_step(&f);
	sfx_fini(&f);
}

static void test_store_crash_dir_replace_is_atomic_at_every_step(void **state)
{
	(void)state;
	struct sfx f;
	sfx_init(&f, 0, 0);
	crash_every_step(&f);
	sfx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_crash_gpt_replace_is_atomic_at_every_step),
		cmocka_unit_test(test_store_crash_dir_replace_is_atomic_at_every_step),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
