/* Test helper: lifecycle fixture; see lifecycle_fixture.h. */
#include "tests/unit/havm/lifecycle_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int lc_setup(void **state)
{
	struct lc_fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/havm-lc.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->rundir, sizeof(f->rundir), "%s/run", f->dir);
	snprintf(f->config, sizeof(f->config), "%s/web1.vmc", f->dir);
	FILE *fp = fopen(f->config, "w");
	if (!fp)
		return -1;
	fputs(LC_VALID_VMC, fp);
	fclose(fp);
	struct havm_vm_params p = { .config = f->config, .rundir = f->rundir };
	struct havm_err e;
	if (havm_vm_new(&f->vm, &p, &e) < 0)
		return -1;
	*state = f;
	return 0;
}

int lc_teardown(void **state)
{
	struct lc_fixture *f = *state;
	havm_close(f->vm);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

bool lc_exists(const struct lc_fixture *f, const char *leaf)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/web1/%s", f->rundir, leaf);
	return access(p, F_OK) == 0;
}
