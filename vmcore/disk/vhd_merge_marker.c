/* havm — the merge marker `<parent>.merge`: a merge's intent, made durable
 * before it re-points any grandchild, so a rerun after a crash knows which
 * of the parent's children it re-pointed itself (docs/vhd.md "merge").
 *
 * Text, one item a line:
 *     havm-merge 1
 *     child <32 hex digits: the child's footer UUID>
 *     grandchild <absolute path>
 *     ...
 * Written to `<parent>.merge.tmp`, fsynced, renamed, directory fsynced: a
 * crash leaves the old marker (or none) or the new one, never a torn one. */
#define LOG_TAG HAVM_TAG_VHD
#include "vmcore/disk/blk_int.h"

#include "common/fault.h"
#include "common/log.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MARKER_MAX (64u << 10)
#define MARKER_MAGIC "havm-merge 1\n"

static int marker_path(const char *parent, const char *suffix, char *out, size_t cap)
{
	char abs[PATH_MAX];
	if (!realpath(parent, abs))
		return -errno;
	return snprintf(out, cap, "%s.merge%s", abs, suffix) >= (int)cap ? -ENAMETOOLONG : 0;
}

static void uuid_hex(const uint8_t *u, char *out)
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", u[i]);
}

int vhd_merge_marker_write(const char *parent, const uint8_t *child_uuid, char *const *grand, int n,
			   struct havm_err *err)
{
	char path[PATH_MAX], tmp[PATH_MAX], hex[33];
	int rc = marker_path(parent, "", path, sizeof(path));
	if (rc == 0)
		rc = marker_path(parent, ".tmp", tmp, sizeof(tmp));
	if (rc < 0)
		return havm_err_set(err, HAVM_E_IO, rc, "%s: merge marker path: %s", parent, strerror(-rc));
	uuid_hex(child_uuid, hex);
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "%s: out of memory", path);
	fprintf(m, MARKER_MAGIC "child %s\n", hex);
	for (int i = 0; i < n; i++) {
		if (strchr(grand[i], '\n')) {
			fclose(m);
			free(text);
			return havm_err_set(err, HAVM_E_UNSUPPORTED, -EINVAL,
					    "%s: a newline in the path cannot be recorded in %s", grand[i], path);
		}
		fprintf(m, "grandchild %s\n", grand[i]);
	}
	if (fclose(m) != 0) {
		free(text);
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "%s: out of memory", path);
	}
	rc = HAVM_FAULT("vhd.merge_marker") ? -EIO : 0;
	int fd = rc < 0 ? -1 : havm_sys.open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (rc == 0 && fd < 0)
		rc = -errno;
	if (rc == 0)
		rc = havm_pwrite_full(fd, text, len, 0);
	if (rc == 0 && havm_sys.fsync(fd) < 0)
		rc = -errno;
	if (fd >= 0 && havm_sys.close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && havm_sys.rename(tmp, path) < 0)
		rc = -errno;
	if (rc == 0)
		rc = havm_fsync_dir_of(path);
	free(text);
	if (rc < 0) {
		(void)unlink(tmp);
		return havm_err_set(err, HAVM_E_IO, rc, "%s: writing the merge marker: %s", path, strerror(-rc));
	}
	return 0;
}

/* Whether line @l (NUL-terminated, no newline) is "grandchild @abs". */
static int names(const char *l, const char *abs)
{
	static const char key[] = "grandchild ";
	return strncmp(l, key, sizeof(key) - 1) == 0 && strcmp(l + sizeof(key) - 1, abs) == 0;
}

int vhd_merge_marker_lists(const char *parent, const uint8_t *child_uuid, const char *abs)
{
	char path[PATH_MAX], hex[33], want[40];
	if (marker_path(parent, "", path, sizeof(path)) < 0)
		return 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	uuid_hex(child_uuid, hex);
	snprintf(want, sizeof(want), "child %s", hex);
	char line[PATH_MAX + 16];
	int nline = 0, ours = 0, found = 0;
	long total = 0;
	while (!found && fgets(line, sizeof(line), f) && (total += (long)strlen(line)) <= (long)MARKER_MAX) {
		size_t l = strlen(line);
		if (l == 0 || line[l - 1] != '\n')
			break; /* over-long or cut: not ours */
		line[l - 1] = '\0';
		if (nline == 0 && strcmp(line, "havm-merge 1") != 0)
			break;
		if (nline == 1)
			ours = strcmp(line, want) == 0;
		if (nline >= 2 && ours)
			found = names(line, abs);
		if (nline == 1 && !ours)
			break; /* another child's (stale) marker */
		nline++;
	}
	fclose(f);
	return found;
}

int vhd_merge_marker_remove(const char *parent)
{
	char path[PATH_MAX];
	int rc = marker_path(parent, "", path, sizeof(path));
	if (rc < 0)
		return rc;
	if (HAVM_FAULT("vhd.merge_marker_rm"))
		return -EIO;
	if (havm_sys.unlink(path) < 0)
		return errno == ENOENT ? 0 : -errno;
	return havm_fsync_dir_of(path);
}
