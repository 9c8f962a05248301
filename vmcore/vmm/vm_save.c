/* vmcore/vmm — saving a VM: stop-and-copy (`save`, `checkpoint`) and live
 * pre-copy (`migrate`). Both write through the vsv writer (tmp, fsync,
 * rename), so the previous file at the path survives any failure or kill.
 *
 * Pre-copy: pass 0 (all RAM) is written while the guest runs, then passes
 * of the pages it dirtied meanwhile. Reading the dirty log needs the vCPU
 * stopped (cpu.h), so each pass begins with a short park. Each pass is
 * timed; the rule of vmcore/vsv/precopy.h decides from its bandwidth and
 * the dirty rate whether the dirty set fits in the downtime limit
 * (converged), cannot shrink, or hit a bound (stop-and-copy fallback); the
 * guest then stays parked for the last pass and the devices.
 * Each live pass is flushed to disk while the guest runs (fdatasync), so
 * the commit's fsync inside the downtime has only the last pass to write.
 * The guest writes its disks during pre-copy, so the disk generations in
 * the header (taken before pass 0) are provisional: the file ends with a
 * final disks record taken while the guest is parked for the last pass,
 * after the disks were flushed (vsv_write_final_disks; docs/vsv.md). On
 * shared storage the target then uses the disks as the source left them. */
#define LOG_TAG HAVM_TAG_MAIN
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/log.h"
#include "vmcore/disk/blk.h"
#include "vmcore/dev/dev.h"
#include "vmcore/vmm/vm_int.h"
#include "vmcore/vmm/vm_snapshot.h"
#include "vmcore/vmm/vm_stream.h"
#include "vmcore/vsv/precopy.h"

/* A full RAM pass. Pages the host never populated are recorded as zero
 * without being read (machine_ram_untouched(): reading them is what made
 * saves of big, mostly idle guests slow); the hint is taken after the
 * dirty log was cleared, so a page the guest touches later is in the next
 * pass. Without pagemap, every page is read after one prefault call. */
static int64_t full_pass(struct vm *vm, struct vsv_writer *w, struct havm_err *err)
{
	size_t words = ((size_t)(vm->m.ram_size / 4096) + 63) / 64;
	uint64_t *zero = calloc(words, sizeof(uint64_t));
	if (zero && machine_ram_untouched(&vm->m, zero) < 0) {
		hlog(LOG_INFO, "vm %s: /proc/self/pagemap unreadable; the save reads every page",
		     vm->cfg->name);
		free(zero);
		zero = NULL;
	}
	if (!zero)
		machine_ram_prefault(&vm->m);
	int64_t pages = vsv_ram_pass_sparse(w, vm->m.ram, vm->m.ram_size, NULL, zero, err);
	free(zero);
	return pages;
}

/* One complete stop-and-copy image of a parked VM; returns pages written. */
static int64_t write_stopped(struct vm *vm, const char *path, const struct vsv_machine_desc *d,
			     const uint64_t *dirty, struct vsv_writer **wp, struct havm_err *err)
{
	int64_t pages = 0;
	struct vsv_writer *w = *wp;
	if (!w) {
		int rc = vm_vsv_open(vm, path, d, &w, err);
		if (rc < 0)
			return rc;
		*wp = w;
	}
	pages = dirty ? vsv_ram_pass(w, vm->m.ram, vm->m.ram_size, dirty, err) : full_pass(vm, w, err);
	if (pages < 0)
		return pages;
	int rc = vm_write_state(vm, w, err);
	return rc < 0 ? rc : pages;
}

static int commit(struct vm *vm, struct vsv_writer **wp, struct vm_save_report *rep, struct havm_err *err)
{
	rep->bytes = vsv_writer_offset(*wp) + 32;   /* + the trailer commit writes */
	int rc = vm_vsv_commit(vm, *wp, err);
	*wp = NULL;
	return rc;
}

int vm_save(struct vm *vm, const char *path, bool stop, struct vm_save_report *rep,
	    struct havm_err *err)
{
	memset(rep, 0, sizeof(*rep));
	uint64_t t0 = vm_mono_ns();
	int parked = vm_park(vm, err);
	if (parked < 0)
		return parked;
	struct vsv_machine_desc d;
	struct vsv_writer *w = NULL;
	int rc = vm_machine_desc(vm, &d, err);
	int64_t pages = rc < 0 ? rc : write_stopped(vm, path, &d, NULL, &w, err);
	rc = pages < 0 ? (int)pages : commit(vm, &w, rep, err);
	vm_vsv_abort(vm, w);
	if (rc < 0) {
		if (parked)
			vm_unpark(vm);
		havm_err_prefix(err, "vm %s: save to %s failed (the previous file is intact)", vm->cfg->name, path);
		return rc;
	}
	rep->passes = 1;
	rep->pages = (uint64_t)pages;
	rep->converged = true;
	rep->total_ns = rep->downtime_ns = vm_mono_ns() - t0;
	hlog(LOG_NOTICE, "vm %s: %s to %s: %llu bytes in %.1f ms", vm->cfg->name, stop ? "saved" : "checkpoint",
	     path, (unsigned long long)rep->bytes, (double)rep->total_ns / 1e6);
	if (stop) {
		char why[HAVM_ERR_MSG_MAX];
		snprintf(why, sizeof(why), "saved to %s", path);
		vm_stop_after_save(vm, VM_STOP_SAVED, why);
	} else if (parked) {
		vm_unpark(vm);
	}
	return 0;
}

static uint64_t count_bits(const uint64_t *bm, size_t words)
{
	uint64_t n = 0;
	for (size_t i = 0; i < words; i++)
		n += (uint64_t)__builtin_popcountll(bm[i]);
	return n;
}

/* Parks the vCPU and takes (and clears) the dirty log into @bm. */
static int park_and_log(struct vm *vm, uint64_t *bm, struct havm_err *err)
{
	int rc = vm_park(vm, err);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&vm->m.lock);
	int lrc = machine_dirty_log(&vm->m, bm, true);
	pthread_mutex_unlock(&vm->m.lock);
	if (lrc < 0) {
		vm_unpark(vm);
		return havm_err_set(err, HAVM_E_INTERNAL, lrc, "cpu %s: dirty log failed", vm->m.cpu_ops->name);
	}
	return 0;
}

/* Test builds only (fault point migrate.disk_moved): moves every file
 * disk's write generation on (its ctime/mtime), as a guest write would. */
static void vm_touch_disks(struct vm *vm)
{
	for (unsigned i = 0; i < vm->m.nrealized; i++) {
		if (vm->m.devs[i].ops != &virtio_blk_dev_ops)
			continue;
		const char *p = blk_name(vblk_disk(vm->m.devs[i].dev));
		if (utimensat(AT_FDCWD, p, NULL, 0) < 0)
			hlog(LOG_WARNING, "vm %s: touching %s: %s", vm->cfg->name, p, strerror(errno));
	}
}

/* The writer for @path, or for the stream @fd when >= 0. */
static int open_dest(struct vm *vm, const char *path, int fd, const struct vsv_machine_desc *d, struct vsv_writer **w,
		     struct havm_err *err)
{
	if (fd < 0)
		return vm_vsv_open(vm, path, d, w, err);
	return vsv_writer_open_sink(vm_stream_write, (void *)(intptr_t)fd, path, d, w, err);
}

/* After a live pass: flush what is written while the guest still runs,
 * so the final fsync (inside the downtime) has only the last pass. */
static int64_t live_sync(struct vsv_writer *w, int64_t pages, struct havm_err *err)
{
	int rc = vsv_writer_sync(w, err);
	return rc < 0 ? rc : pages;
}

/* Live pre-copy to a file (@fd < 0) or a stream; @path names it. */
static int migrate(struct vm *vm, const char *path, int fd, const struct vm_migrate_opts *opts,
		   struct vm_save_report *rep, struct havm_err *err)
{
	memset(rep, 0, sizeof(*rep));
	struct vm_migrate_opts none = { 0 };
	if (!opts)
		opts = &none;
	struct vsv_precopy pc;
	vsv_precopy_init(&pc, vm->m.ram_size, opts->downtime_ms, opts->converge_pages, opts->max_passes,
			 opts->max_bytes);
	enum vsv_precopy_stop stop = VSV_PRECOPY_GO_ON;
	uint64_t t0 = vm_mono_ns();
	size_t words = ((size_t)(vm->m.ram_size / 4096) + 63) / 64;
	uint64_t *bm = calloc(words, sizeof(uint64_t));
	if (!bm)
		return havm_err_set(err, HAVM_E_INTERNAL, -ENOMEM, "vm %s: out of memory", vm->cfg->name);

	/* Start: disks flushed and described, dirty log empty. */
	int was_running = vm_park(vm, err);
	int rc = was_running;
	struct vsv_machine_desc d0, d1;
	struct vsv_writer *w = NULL;
	if (rc >= 0)
		rc = vm_machine_desc(vm, &d0, err);
	if (rc >= 0)
		d0.flags |= VSV_DESC_FINAL_DISKS;
	if (rc >= 0) {
		pthread_mutex_lock(&vm->m.lock);
		rc = machine_dirty_log(&vm->m, bm, true);
		pthread_mutex_unlock(&vm->m.lock);
		if (rc < 0)
			havm_err_set(err, HAVM_E_INTERNAL, rc, "dirty log failed");
	}
	if (rc >= 0)
		rc = open_dest(vm, path, fd, &d0, &w, err);
	uint64_t t_log = vm_mono_ns();   /* the dirty log was last read */
	if (was_running > 0)
		vm_unpark(vm);
	if (rc < 0)
		goto fail_running;

	const uint64_t *pass_bm = NULL;  /* NULL: pass 0, all RAM */
	uint64_t t_down;
	for (;;) {
		uint64_t off = vsv_writer_offset(w), t_pass = vm_mono_ns();
		int64_t pages = pass_bm ? vsv_ram_pass(w, vm->m.ram, vm->m.ram_size, pass_bm, err)
					: full_pass(vm, w, err);
		if (pages >= 0)
			pages = live_sync(w, pages, err);
		if (pages < 0) {
			rc = (int)pages;
			goto fail_running;
		}
		/* Test builds: migrate.disk_moved:1:fail moves the disks' write
		 * generation on after pass 0, while the guest runs (as a guest
		 * write during pre-copy does). */
		if (!pass_bm && HAVM_FAULT("migrate.disk_moved"))
			vm_touch_disks(vm);
		vsv_precopy_pass(&pc, (uint64_t)pages, vsv_writer_offset(w) - off, vm_mono_ns() - t_pass);
		rep->passes++;
		rep->pages += (uint64_t)pages;
		rc = park_and_log(vm, bm, err);
		if (rc < 0)
			goto fail_running;
		t_down = vm_mono_ns();
		uint64_t n = count_bits(bm, words);
		/* A VM that was paused has nothing to converge: one final pass. */
		stop = vsv_precopy_decide(&pc, n, t_down - t_log, was_running > 0);
		hlog(LOG_DEBUG, "vm %s: pre-copy pass %u: %.1f MiB/s, %llu pages dirty (%.1f MiB/s), %s",
		     vm->cfg->name, pc.passes, pc.bandwidth / 1048576, (unsigned long long)n,
		     pc.dirty_rate / 1048576, vsv_precopy_stop_name(stop));
		if (stop != VSV_PRECOPY_GO_ON)
			break;
		t_log = t_down;
		vm_unpark(vm);
		pass_bm = bm;
	}
	rep->converged = vsv_precopy_converged(stop);
	rep->stop_reason = vsv_precopy_stop_name(stop);
	rep->downtime_limit_ns = pc.downtime_ns;
	rep->expected_downtime_ns = pc.expected_ns;
	rep->bandwidth = pc.bandwidth;
	rep->dirty_rate = pc.dirty_rate;
	int64_t pages;

	/* Parked from here: the last pass and the devices. */
	pages = write_stopped(vm, path, &d0, bm, &w, err);
	if (pages < 0) {
		rc = (int)pages;
		goto fail_parked;
	}
	/* The disks as the parked guest left them: flushed, final. */
	rc = vm_machine_desc(vm, &d1, err);
	if (rc == 0)
		rc = vsv_write_final_disks(w, &d1, err);
	if (rc < 0)
		goto fail_parked;
	if (memcmp(d0.disks, d1.disks, sizeof(d0.disks)) != 0)
		hlog(LOG_INFO, "vm %s: the guest wrote its disks during pre-copy; the state names their "
		     "generation at the last pass", vm->cfg->name);
	rep->passes++;
	rep->pages += (uint64_t)pages;
	rep->last_pages = (uint64_t)pages;
	rc = commit(vm, &w, rep, err);
	/* The guest may only run on at one place: wait for the target's word. */
	if (rc == 0 && fd >= 0)
		rc = vm_stream_finish(fd, err);
	if (rc < 0)
		goto fail_parked;
	uint64_t t1 = vm_mono_ns();
	rep->downtime_ns = t1 - t_down;
	rep->total_ns = t1 - t0;
	free(bm);
	hlog(LOG_NOTICE,
	     "vm %s: migrated to %s: %u passes, %llu bytes, %s (%s), downtime %.1f ms (expected %.1f, limit %.0f), "
	     "total %.1f ms",
	     vm->cfg->name, path, rep->passes, (unsigned long long)rep->bytes,
	     rep->converged ? "converged" : "stop-and-copy fallback", rep->stop_reason,
	     (double)rep->downtime_ns / 1e6, (double)rep->expected_downtime_ns / 1e6,
	     (double)rep->downtime_limit_ns / 1e6, (double)rep->total_ns / 1e6);
	char why[HAVM_ERR_MSG_MAX];
	snprintf(why, sizeof(why), "migrated to %s", path);
	vm_stop_after_save(vm, VM_STOP_MIGRATED, why);
	return 0;

fail_parked:
	if (was_running > 0)
		vm_unpark(vm);
fail_running:
	vm_vsv_abort(vm, w);
	free(bm);
	havm_err_prefix(err, "vm %s: migrate to %s failed (the guest runs on%s)", vm->cfg->name, path,
			fd < 0 ? "; the previous file is intact" : "");
	return rc;
}

int vm_migrate(struct vm *vm, const char *path, const struct vm_migrate_opts *opts,
	       struct vm_save_report *rep, struct havm_err *err)
{
	return migrate(vm, path, -1, opts, rep, err);
}

int vm_migrate_socket(struct vm *vm, const char *sock, const struct vm_migrate_opts *opts,
		      struct vm_save_report *rep, struct havm_err *err)
{
	int fd;
	int rc = vm_stream_connect(sock, &fd, err);
	if (rc < 0) {
		havm_err_prefix(err, "vm %s: migrate", vm->cfg->name);
		return rc;
	}
	/* Named without its ",token=..." in logs and stop reasons. */
	char label[256];
	snprintf(label, sizeof(label), "%.*s", (int)strcspn(sock, ","), sock);
	rc = migrate(vm, label, fd, opts, rep, err);
	close(fd);
	return rc;
}
