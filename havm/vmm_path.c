/* havm — where the vmm program is; see lifecycle.h. */
#include "havm/lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int havm_vmm_path(char *buf, size_t len, struct havm_err *e)
{
	const char *env = getenv("HAVM_VMM");
	if (env && *env) {
		if (access(env, X_OK) < 0)
			return havm_err_set(e, HAVM_E_NOTFOUND, -errno,
					    "vmm program %s (from $HAVM_VMM) is not executable: %s", env,
					    strerror(errno));
		if (snprintf(buf, len, "%s", env) >= (int)len)
			return havm_err_set(e, HAVM_E_CONFIG, -ENAMETOOLONG, "$HAVM_VMM: path too long");
		return 0;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/sbin:/usr/bin:/sbin:/bin";
	const char *p = path;
	while (*p) {
		size_t n = strcspn(p, ":");
		if (n > 0 && snprintf(buf, len, "%.*s/vmm", (int)n, p) < (int)len &&
		    access(buf, X_OK) == 0)
			return 0;
		p += n;
		if (*p == ':')
			p++;
	}
	buf[0] = '\0';
	return havm_err_set(e, HAVM_E_NOTFOUND, -ENOENT,
			    "vmm program not found in PATH (%s) and $HAVM_VMM is unset", path);
}
