/* havm — overridable system-call table; see sys.h. */
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int sys_open(const char *path, int flags, mode_t mode)
{
	return open(path, flags | O_CLOEXEC, mode);
}

#define LIBC_SYS { \
	.open = sys_open, .close = close, .pread = pread, .pwrite = pwrite, \
	.fsync = fsync, .fdatasync = fdatasync, .ftruncate = ftruncate, \
	.rename = rename, .unlink = unlink, \
}

static const struct havm_sys libc_sys = LIBC_SYS;
struct havm_sys havm_sys = LIBC_SYS;

void havm_sys_reset(void)
{
	havm_sys = libc_sys;
}

int havm_pread_full(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = havm_sys.pread(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

int havm_pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = havm_sys.pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

int havm_fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	int fd = havm_sys.open(dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return -errno;
	int rc = havm_sys.fsync(fd) < 0 ? -errno : 0;
	havm_sys.close(fd);
	return rc;
}
