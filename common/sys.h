/* havm — the system calls that ordered writes depend on, through one table
 * that tests may override (SQLite's os_unix.c aSyscall[]). Code on a
 * crash-safety path calls havm_sys.pwrite(...) instead of pwrite(...), so a
 * test can fail the N-th fsync with EIO or ENOSPC without touching the
 * kernel. Everything else keeps calling libc directly. */
#ifndef HAVM_COMMON_SYS_H
#define HAVM_COMMON_SYS_H

#include <sys/types.h>

struct havm_sys {
	int (*open)(const char *path, int flags, mode_t mode);
	int (*close)(int fd);
	ssize_t (*pread)(int fd, void *buf, size_t len, off_t off);
	ssize_t (*pwrite)(int fd, const void *buf, size_t len, off_t off);
	int (*fsync)(int fd);
	int (*fdatasync)(int fd);
	int (*ftruncate)(int fd, off_t len);
	int (*rename)(const char *from, const char *to);
	int (*unlink)(const char *path);
};

extern struct havm_sys havm_sys;

/* Restores the libc entries (tests call it in teardown). */
void havm_sys_reset(void);

/* pread/pwrite that loop over short transfers and EINTR. Return 0 when all
 * @len bytes moved, -EIO on an unexpected end of file (reads), or -errno. */
int havm_pread_full(int fd, void *buf, size_t len, off_t off);
int havm_pwrite_full(int fd, const void *buf, size_t len, off_t off);

/* fsync of the directory holding @path, so a rename or create is durable. */
int havm_fsync_dir_of(const char *path);

#endif
