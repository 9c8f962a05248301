/* havm — serialising table changes between processes of this node: every
 * change of a GPT store re-reads the table, edits it and writes it whole,
 * so two processes doing that at the same instant (a vmm moving its disk's
 * generation on while the lifecycle renames a consumed .vsv, two VMs of one
 * store starting together) would lose one change. An flock(2) on a lock
 * file per store serialises them on this node; between nodes the store
 * relies on the cluster (docs/store.md "Concurrency").
 *
 * The lock file: for a file: store the image itself; for an iscsi:// store
 * /run/lock/havm-store-<hash>.lock (else $TMPDIR or /tmp), the hash over
 * the URL without its credentials, so every URL spelling of one LUN that
 * is the same string shares it. */
#define LOG_TAG HAVM_TAG_STORE
#include "iscsi/store_int.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static uint64_t fnv(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

int store_lock_open(const char *url)
{
	char path[4200];
	if (strncmp(url, "iscsi://", 8) != 0) {
		const char *p = strncmp(url, "file:", 5) == 0 ? url + 5 : url;
		return open(p, O_RDONLY | O_CLOEXEC);
	}
	/* Credentials end at the last '@' before the host. */
	const char *rest = url + 8, *at = NULL;
	for (const char *c = rest; *c && *c != '/'; c++)
		if (*c == '@')
			at = c;
	uint64_t h = fnv(at ? at + 1 : rest);
	const char *tmp = getenv("TMPDIR");
	const char *dirs[] = { "/run/lock", tmp && *tmp ? tmp : "/tmp", "/tmp" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/havm-store-%016llx.lock", dirs[i], (unsigned long long)h);
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
	}
	hlog(LOG_WARNING, "store: no lock file for table changes (%s): %s", path, strerror(errno));
	return -1;
}

void store_lock(int fd)
{
	while (fd >= 0 && flock(fd, LOCK_EX) < 0 && errno == EINTR)
		;
}

void store_unlock(int fd)
{
	if (fd >= 0)
		(void)flock(fd, LOCK_UN);
}
