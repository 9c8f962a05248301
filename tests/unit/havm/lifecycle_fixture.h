/* Test helper shared by the lifecycle unit tests: a scratch directory with a
 * runtime base and a well-formed web1.vmc, and a handle on it. */
#ifndef HAVM_TESTS_LIFECYCLE_FIXTURE_H
#define HAVM_TESTS_LIFECYCLE_FIXTURE_H

#include "havm/lifecycle.h"

#include <limits.h>

/* A .vmc that vmcore's parser accepts (the image need not exist to parse). */
#define LC_VALID_VMC                                                                             \
	"<vm name=\"web1\"><memory unit=\"MiB\">4</memory><boot><image>web1.bin</image></boot>" \
	"</vm>\n"

struct lc_fixture {
	char dir[PATH_MAX];    /* scratch */
	char rundir[PATH_MAX]; /* <dir>/run */
	char config[PATH_MAX]; /* <dir>/web1.vmc */
	struct havm_vm *vm;
};

int lc_setup(void **state);
int lc_teardown(void **state);

/* True when the VM's runtime file @leaf exists. */
bool lc_exists(const struct lc_fixture *f, const char *leaf);

#endif
