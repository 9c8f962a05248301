/* iscsi/store_dir.c (through store.h): the same API on a directory — one
 * file per object, replace by tmp + fsync + rename, kinds from names, no
 * escapes from the directory, failures that leave the old object. */
#include "store_fixture.h"

#include "common/sys.h"

#include <sys/stat.h>

static int setup(void **state)
{
	struct sfx *f = calloc(1, sizeof(*f));
	sfx_init(f, 0, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	havm_sys_reset();
	sfx_fini(*state);
	free(*state);
	return 0;
}

static void test_store_dir_objects_are_files(void **state)
{
	struct sfx *f = *state;
	struct store *s = sfx_open(f, STORE_O_RDWR);
	struct havm_err e;
	assert_int_equal(store_type(s), STORE_TYPE_DIR);
	assert_int_equal(store_write_file(s, "web1.vmc", STORE_KIND_VMC, "abc", 3, &e), 0);
	assert_int_equal(store_create_region(s, "web1.vhd", STORE_KIND_VHD, 1 << 20, &e), 0);
	assert_int_equal(store_create_region(s, "web1.vhd", STORE_KIND_VHD, 1 << 20, &e), -EEXIST);
	char p[400];
	snprintf(p, sizeof(p), "%s/store/web1.vhd", f->dir);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 1 << 20);
	/* Foreign files and dot files are not objects. */
	snprintf(p, sizeof(p), "%s/store/.hidden", f->dir);
	FILE *fp = fopen(p, "w");
	fclose(fp);
	struct store_obj *o;
	size_t n;
	assert_int_equal(store_list(s, &o, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(o[0].name, "web1.vhd");
	assert_int_equal(o[0].kind, STORE_KIND_VHD);
	assert_string_equal(o[1].name, "web1.vmc");
	assert_int_equal(o[1].kind, STORE_KIND_VMC);
	assert_int_equal(o[1].size, 3);
	free(o);
	struct store_df d;
	assert_int_equal(store_df(s, &d, &e), 0);
	assert_int_equal(d.used, (1 << 20) + 3);
	assert_int_equal(d.objects, 2);
	assert_true(d.free > 0);
	void *buf;
	size_t len;
	assert_int_equal(store_read_file(s, "web1.vmc", 100, &buf, &len, &e), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "abc", 3);
	free(buf);
	assert_int_equal(store_remove(s, "web1.vhd", &e), 0);
	assert_int_equal(store_remove(s, "web1.vhd", &e), -ENOENT);
	assert_int_equal(e.kind, HAVM_E_NOTFOUND);
	assert_int_equal(store_remove(s, "../store", &e), -EINVAL);
	assert_int_equal(store_close(s), 0);
}

static void test_store_dir_replace_stream_and_abort(void **state)
{
	struct sfx *f = *state;
	struct store *s = sfx_open(f, STORE_O_RDWR);
	uint8_t a[10000], b[7000];
	sfx_fill(a, sizeof(a), 1);
	sfx_fill(b, sizeof(b), 2);
	assert_int_equal(store_write_file(s, "vm.vsv", STORE_KIND_VSV, a, sizeof(a), NULL), 0);
	struct store_replace *r;
	assert_int_equal(store_replace_begin(s, "vm.vsv", STORE_KIND_VSV, 0, &r, NULL), 0);
	assert_int_equal(store_replace_write(r, b, 3000), 0);
	store_replace_abort(r); /* the old object stays */
	void *buf;
	size_t len;
	assert_int_equal(store_read_file(s, "vm.vsv", 1 << 20, &buf, &len, NULL), 0);
	assert_int_equal(len, sizeof(a));
	assert_memory_equal(buf, a, sizeof(a));
	free(buf);
	assert_int_equal(store_replace_begin(s, "vm.vsv", STORE_KIND_VSV, 0, &r, NULL), 0);
	assert_int_equal(store_replace_write(r, b, 3000), 0);
	assert_int_equal(store_replace_write(r, b + 3000, 4000), 0);
	assert_int_equal(store_replace_commit(r, NULL), 0);
	assert_int_equal(store_read_file(s, "vm.vsv", 1 << 20, &buf, &len, NULL), 0);
	assert_int_equal(len, sizeof(b));
	assert_memory_equal(buf, b, sizeof(b));
	free(buf);
	assert_int_equal(store_close(s), 0);
}

static int fail_fsync(int fd)
{
	(void)fd;
	errno = EIO;
	return -1;
}

static void test_store_dir_failed_fsync_keeps_the_old_object(void **state)
{
	struct sfx *f = *state;
	struct store *s = sfx_open(f, STORE_O_RDWR);
	assert_int_equal(store_write_file(s, "a.vmc", STORE_KIND_VMC, "old", 3, NULL), 0);
	havm_sys.fsync = fail_fsync;
	struct havm_err e;
	assert_int_equal(store_write_file(s, "a.vmc", STORE_KIND_VMC, "new!", 4, &e), -EIO);
	assert_int_equal(e.kind, HAVM_E_IO);
	assert_non_null(strstr(e.msg, "a.vmc: fsync: Input/output error"));
	havm_sys_reset();
	void *buf;
	size_t len;
	assert_int_equal(store_read_file(s, "a.vmc", 100, &buf, &len, NULL), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "old", 3);
	free(buf);
	char p[400];
	snprintf(p, sizeof(p), "%s/store/.a.vmc.tmp", f->dir);
	assert_int_equal(access(p, F_OK), -1); /* no temp left behind */
	assert_int_equal(store_close(s), 0);
}

static void test_store_dir_missing_directory(void **state)
{
	struct sfx *f = *state;
	char url[400];
	snprintf(url, sizeof(url), "dir:%s/nope", f->dir);
	struct store *s;
	struct havm_err e;
	assert_int_equal(store_open(url, 0, &s, &e), -ENOENT);
	assert_int_equal(e.kind, HAVM_E_NOTFOUND);
	assert_int_equal(store_open(url, STORE_O_RDWR | STORE_O_CREATE, &s, &e), 0);
	assert_int_equal(store_close(s), 0);
}

int main(void)
{
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_store_dir_objects_are_files),
		T(test_store_dir_replace_stream_and_abort),
		T(test_store_dir_failed_fsync_keeps_the_old_object),
		T(test_store_dir_missing_directory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
