/* havm vhd mount FILE MOUNTPOINT — the virtual disk as one raw file
 * MOUNTPOINT/disk of the disk's size (like vhdmount), through libfuse3's
 * high-level API. Read-write unless --ro; fsync and the last release flush
 * (blk_flush: the crash-safe commit), unmount closes the image. The block
 * layer is single-threaded, so FUSE runs single-threaded (-s). */
#define FUSE_USE_VERSION 31
#include "havm/cli_vhd_int.h"

#include "common/err.h"
#include "vmcore/disk/blk.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DISK_NAME "disk"

struct mount_state {
	struct blk_dev *d;
	int ro;
	time_t t0;
};

static struct mount_state *st(void)
{
	return fuse_get_context()->private_data;
}

static int m_getattr(const char *path, struct stat *sb, struct fuse_file_info *fi)
{
	(void)fi;
	memset(sb, 0, sizeof(*sb));
	sb->st_uid = getuid();
	sb->st_gid = getgid();
	sb->st_mtime = sb->st_ctime = sb->st_atime = st()->t0;
	if (strcmp(path, "/") == 0) {
		sb->st_mode = S_IFDIR | 0755;
		sb->st_nlink = 2;
		return 0;
	}
	if (strcmp(path, "/" DISK_NAME) != 0)
		return -ENOENT;
	sb->st_mode = S_IFREG | (st()->ro ? 0444 : 0644);
	sb->st_nlink = 1;
	sb->st_size = (off_t)blk_size(st()->d);
	sb->st_blocks = sb->st_size / 512;
	return 0;
}

static int m_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
		     enum fuse_readdir_flags flags)
{
	(void)off, (void)fi, (void)flags;
	if (strcmp(path, "/") != 0)
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, DISK_NAME, NULL, 0, 0);
	return 0;
}

static int m_open(const char *path, struct fuse_file_info *fi)
{
	if (strcmp(path, "/" DISK_NAME) != 0)
		return -ENOENT;
	if (st()->ro && (fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	return 0;
}

/* Reads or writes bytes at any offset: whole sectors directly, partial
 * head and tail sectors through a bounce sector (read-modify-write). */
static int xfer(char *buf, size_t len, off_t off, int write)
{
	struct blk_dev *d = st()->d;
	uint64_t size = blk_size(d);
	if ((uint64_t)off >= size)
		return 0;
	if ((uint64_t)off + len > size)
		len = (size_t)(size - (uint64_t)off);
	size_t done = 0;
	uint8_t sec[512];
	while (done < len) {
		uint64_t pos = (uint64_t)off + done;
		uint64_t s = pos / 512;
		uint32_t in = (uint32_t)(pos % 512);
		int rc;
		if (in == 0 && len - done >= 512) {
			uint32_t n = (uint32_t)((len - done) / 512);
			if (n > 8192)
				n = 8192;
			rc = write ? blk_write(d, s, buf + done, n) : blk_read(d, s, buf + done, n);
			if (rc < 0)
				return rc;
			done += (size_t)n * 512;
			continue;
		}
		size_t k = 512 - in < len - done ? 512 - in : len - done;
		rc = blk_read(d, s, sec, 1);
		if (rc == 0 && write) {
			memcpy(sec + in, buf + done, k);
			rc = blk_write(d, s, sec, 1);
		} else if (rc == 0) {
			memcpy(buf + done, sec + in, k);
		}
		if (rc < 0)
			return rc;
		done += k;
	}
	return (int)len;
}

static int m_read(const char *path, char *buf, size_t len, off_t off, struct fuse_file_info *fi)
{
	(void)path, (void)fi;
	return xfer(buf, len, off, 0);
}

static int m_write(const char *path, const char *buf, size_t len, off_t off, struct fuse_file_info *fi)
{
	(void)path, (void)fi;
	if (st()->ro)
		return -EROFS;
	if ((uint64_t)off + len > blk_size(st()->d))
		return -ENOSPC; /* the disk has a fixed size */
	return xfer((char *)buf, len, off, 1);
}

static int m_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)path, (void)fi;
	/* O_TRUNC-free tools (dd conv=notrunc, cmp) never get here; a real
	 * size change would be `havm vhd resize`. */
	return (uint64_t)size == blk_size(st()->d) ? 0 : -EPERM;
}

static int m_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path, (void)datasync, (void)fi;
	return st()->ro ? 0 : blk_flush(st()->d);
}

static int m_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	if (st()->ro || (fi->flags & O_ACCMODE) == O_RDONLY)
		return 0;
	return blk_flush(st()->d);
}

static void *m_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->direct_io = 0;
	cfg->kernel_cache = 0;
	return fuse_get_context()->private_data;
}

static void m_destroy(void *data)
{
	struct mount_state *s = data;
	if (blk_close(s->d) < 0)
		fprintf(stderr, "havm vhd mount: closing the image failed; writes since the last fsync may be lost\n");
	s->d = NULL;
}

static const struct fuse_operations ops = {
	.getattr = m_getattr,
	.readdir = m_readdir,
	.open = m_open,
	.read = m_read,
	.write = m_write,
	.truncate = m_truncate,
	.fsync = m_fsync,
	.release = m_release,
	.init = m_init,
	.destroy = m_destroy,
};

int vhd_cli_mount(int argc, char **argv)
{
	int ro = 0, fg = 0, dbg = 0;
	const char *pos[2] = { NULL, NULL };
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ro") == 0)
			ro = 1;
		else if (strcmp(argv[i], "-f") == 0)
			fg = 1;
		else if (strcmp(argv[i], "-d") == 0)
			dbg = 1;
		else if (strcmp(argv[i], "--help") == 0)
			return vhd_cli_usage(NULL);
		else if (argv[i][0] == '-' || npos == 2)
			return vhd_cli_usage("mount: expected [--ro] [-f] [-d] FILE MOUNTPOINT");
		else
			pos[npos++] = argv[i];
	}
	if (npos != 2)
		return vhd_cli_usage("mount: expected [--ro] [-f] [-d] FILE MOUNTPOINT");
	static struct mount_state s;
	struct havm_err e;
	havm_err_clear(&e);
	if (blk_open(pos[0], ro ? 0 : BLK_O_RDWR, &s.d, &e) < 0)
		return vhd_cli_fail(&e);
	s.ro = ro;
	s.t0 = time(NULL);
	char *fargv[12];
	int n = 0;
	fargv[n++] = (char *)"havm-vhd-mount";
	fargv[n++] = (char *)pos[1];
	fargv[n++] = (char *)"-s";
	fargv[n++] = (char *)"-o";
	fargv[n++] = (char *)(ro ? "ro,default_permissions,fsname=havm-vhd" : "default_permissions,fsname=havm-vhd");
	if (fg)
		fargv[n++] = (char *)"-f";
	if (dbg)
		fargv[n++] = (char *)"-d";
	fargv[n] = NULL;
	int rc = fuse_main(n, fargv, &ops, &s);
	if (s.d) /* fuse_main failed before init: nothing was mounted */
		(void)blk_close(s.d);
	return rc == 0 ? 0 : havm_err_exit_code(HAVM_E_IO);
}
