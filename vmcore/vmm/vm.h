/* vmcore/vmm — one running VM inside the vmm process: the machine built
 * from a .vmc, the vCPU thread, and the run-state machine the control
 * socket drives.
 *
 * States: running <-> paused (pause/resume); running/paused -> off
 * (poweroff: the vCPU stops, the process keeps answering status);
 * running -> stopped (the guest stopped itself: HLT with IF=0, triple
 * fault, or an emulator error; vmm exits with VMM_EXIT_*).
 *
 * Threads: vm_create/vm_destroy and the control calls run on the
 * event-loop thread; the vCPU thread runs the guest. vm->lock guards the
 * state and the published counters; the machine's device lock is taken
 * first when both are needed. */
#ifndef HAVM_VMCORE_VMM_VM_H
#define HAVM_VMCORE_VMM_VM_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>

#include "vmcore/machine/pc.h"
#include "vmcore/vmc/vmc.h"

/* Exit statuses of `vmm run` when the guest stopped itself (distinct from
 * the error-kind codes 1-11 of docs/conventions.md). */
#define VMM_EXIT_HALTED       20   /* HLT with interrupts disabled */
#define VMM_EXIT_TRIPLE_FAULT 21
#define VMM_EXIT_CPU_ERROR    22
#define VMM_EXIT_FENCED       23   /* this node's PR key left a disk's LUN: stopped without another write */
#define VMM_EXIT_STORAGE_LOST 24   /* a disk's LUN did not complete I/O within its io_deadline: stopped */
/* The io_deadline of iscsi:// disks unless their URL sets one (seconds):
 * above the 10 s command timeout, so one timed-out command and a reconnect
 * fit; well under the time a cluster needs to give up on a node and fence
 * it plus Pacemaker's stop timeout, so the process ends on its own. */
#define VM_IO_DEADLINE_S      15

#define VM_SLICE_INSNS 100000ull   /* 1 ms of guest time per run() call at most */

enum vm_state { VM_CREATED, VM_RUNNING, VM_PAUSED, VM_OFF, VM_STOPPED };
enum vm_stop_reason { VM_STOP_NONE, VM_STOP_HALTED, VM_STOP_TRIPLE_FAULT, VM_STOP_CPU_ERROR,
		      VM_STOP_POWEROFF, VM_STOP_QUIT, VM_STOP_SAVED, VM_STOP_MIGRATED, VM_STOP_FENCED,
		      VM_STOP_STORAGE_LOST };

typedef void vm_stopped_fn(void *opaque);

struct store;
struct store_replace;

/* A disk opened from the VM store (vm_store.c). */
struct vm_store_disk {
	struct blk_dev *dev;         /* borrowed: the virtio-blk device owns it */
	char name[40];               /* the object */
	bool rw;
};

struct vm {
	struct vmc_config *cfg;      /* borrowed */
	struct pc_config pc;
	struct machine m;
	pthread_t vcpu;
	bool vcpu_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum vm_state state;
	enum vm_stop_reason reason;
	char report[HAVM_ERR_MSG_MAX];
	bool parked;                 /* the vCPU thread is waiting in pause */
	bool quit;
	bool wake_pending;
	/* Published by the vCPU thread after each slice. */
	struct cpu_stats stats;
	uint64_t guest_ns;
	uint16_t cs;                 /* where the guest was at the last publish */
	uint32_t eip;
	uint64_t resets;
	/* Wall-clock accounting for idle throttling (CLOCK_MONOTONIC ns). */
	uint64_t wall_start, paused_since, paused_total;
	uint64_t guest_start;
	vm_stopped_fn *on_vcpu_exit; /* called on the vCPU thread as it ends */
	void *on_vcpu_exit_opaque;
	/* Restore timing (CLOCK_MONOTONIC ns; 0 when not restored). */
	uint64_t restore_t0;         /* `vmm run --restore` started */
	uint64_t restore_first_ns;   /* first guest instruction after restore, from t0 */
	bool restore_reported;
	bool restore_stream;         /* restored from a migration stream: t0 is its end */
	/* `vmm run --store URL`: the store (owned by main.c; kept by build()),
	 * the disks opened from it, and a .vsv being written into it. */
	struct store *store;
	struct vm_store_disk sdisks[PC_MAX_DISKS];
	unsigned nsdisks;
	struct store *vsv_store;
	struct store_replace *vsv_replace;
};

/* A save, checkpoint or migration, as reported on the control socket. */
struct vm_save_report {
	uint64_t bytes;           /* .vsv size */
	unsigned passes;          /* RAM passes written */
	uint64_t pages;           /* pages written with data or as zero runs, all passes */
	uint64_t total_ns;        /* from the request to the committed file */
	uint64_t downtime_ns;     /* the guest was stopped this long */
	bool converged;           /* pre-copy: the dirty set got small; false = stop-and-copy fallback */
	/* Pre-copy only (vmcore/vsv/precopy.h): why it stopped ("small",
	 * "downtime", "no_progress", "max_passes", "max_bytes", "paused",
	 * "disk_written"), the limit, the downtime the rule expected for the
	 * last pass, the last measured bandwidth and dirty rate (bytes/s), and
	 * the pages in the last (stopped) pass. */
	const char *stop_reason;
	uint64_t downtime_limit_ns, expected_downtime_ns;
	double bandwidth, dirty_rate;
	uint64_t last_pages;
};

/* Live pre-copy (the rule: vmcore/vsv/precopy.h): the guest is stopped
 * for the final pass once the dirty pages can be written within
 * @downtime_ms at the measured bandwidth, or number at most
 * @converge_pages; it stops early when the guest dirties as fast as the
 * passes write; at most @max_passes RAM passes while the guest runs and at
 * most @max_bytes of page data in them. */
struct vm_migrate_opts {
	unsigned max_passes;      /* 0 = 8 */
	uint64_t max_bytes;       /* 0 = 3 x RAM */
	uint64_t converge_pages;  /* 0 = 256 (1 MiB) */
	uint64_t downtime_ms;     /* 0 = 300 (QEMU's default downtime-limit) */
};

/* Builds the machine for @cfg with the CPU backend @ops; loads the boot
 * images. Nothing runs yet. */
int vm_create(struct vm *vm, struct vmc_config *cfg, const struct cpu_ops *ops, qb_loop_t *loop,
	      struct havm_err *err) HAVM_MUST_CHECK;
/* Starts the vCPU thread. */
int vm_start(struct vm *vm, struct havm_err *err) HAVM_MUST_CHECK;
/* Stops the vCPU thread (if running) and frees the machine. */
void vm_destroy(struct vm *vm);

int vm_pause(struct vm *vm, struct havm_err *err) HAVM_MUST_CHECK;
int vm_resume(struct vm *vm, struct havm_err *err) HAVM_MUST_CHECK;
int vm_poweroff(struct vm *vm, struct havm_err *err) HAVM_MUST_CHECK;
/* Asks the vCPU thread to end (vm_destroy joins it). */
void vm_quit(struct vm *vm);

/* As vm_create, but the machine's state comes from the .vsv at @path
 * instead of the boot images: the file must describe this machine (RAM
 * size, CPU model, devices and versions, disks with the same identity and
 * write generation), else a clear error and nothing runs. RAM is mapped
 * lazily (VSV_RAM_MAP). @t0 (CLOCK_MONOTONIC ns) is when the restore
 * started, for the first-instruction time. */
int vm_create_restored(struct vm *vm, struct vmc_config *cfg, const struct cpu_ops *ops,
		       qb_loop_t *loop, const char *path, uint64_t t0,
		       struct havm_err *err) HAVM_MUST_CHECK;
/* The same from @len bytes of .vsv at @buf (borrowed for the call). */
int vm_create_restored_mem(struct vm *vm, struct vmc_config *cfg, const struct cpu_ops *ops,
			   qb_loop_t *loop, const void *buf, size_t len, const char *label, uint64_t t0,
			   struct havm_err *err) HAVM_MUST_CHECK;

/* Writes the VM's state to @path atomically (vsv writer: tmp, fsync,
 * rename). The guest is paused, every disk flushed, and then: @stop true
 * (`save`) leaves it off with stop_reason "saved" (the process keeps
 * answering until quit); false (`checkpoint`) resumes it. On failure the
 * previous file at @path is intact and the guest resumes as it was. */
int vm_save(struct vm *vm, const char *path, bool stop, struct vm_save_report *rep,
	    struct havm_err *err) HAVM_MUST_CHECK;

/* Live pre-copy to @path: RAM written while the guest runs, then the
 * pages it dirtied, pass after pass, until a pass is small (converged) or
 * a bound of @opts is hit (stop-and-copy fallback); the guest is paused
 * only for the last pass and the device state. Afterwards it is off with
 * stop_reason "migrated". @opts may be NULL. */
int vm_migrate(struct vm *vm, const char *path, const struct vm_migrate_opts *opts,
	       struct vm_save_report *rep, struct havm_err *err) HAVM_MUST_CHECK;

/* The same, streamed to the unix socket @sock where a target vmm waits
 * (`vmm run CONFIG --incoming SOCK`). The target validates and restores
 * the state and answers; only on its "ok" does the source stop
 * (migrated). If it refuses, the source resumes and reports its error. */
int vm_migrate_socket(struct vm *vm, const char *sock, const struct vm_migrate_opts *opts,
		      struct vm_save_report *rep, struct havm_err *err) HAVM_MUST_CHECK;

/* As vm_create_restored, with the state received on the unix socket
 * @sock from a source's migrate: listens (mode 0600), takes one
 * connection, reads the stream to its end, restores (every checksum
 * checked), and answers the source "ok" or the error. */
int vm_create_incoming(struct vm *vm, struct vmc_config *cfg, const struct cpu_ops *ops,
		       qb_loop_t *loop, const char *sock, struct havm_err *err) HAVM_MUST_CHECK;

/* Called when a disk's registration guard finds this node fenced (its PR
 * key is gone from the LUN), on whatever thread ran the disk request: the
 * VM stops at once (stopped, reason "fenced"); the guard already fails
 * every further request on that LUN without sending it. */
void vm_fenced(struct vm *vm, const char *disk);
/* Called when a disk's LUN found its I/O deadline passed (iscsi/lun.h,
 * lun_set_lost_fn): the VM stops at once (reason "storage-lost", exit 24);
 * the LUN already fails every request without sending it. */
void vm_storage_lost(struct vm *vm, const char *disk, int deadline_s);

/* Opens a disk given as an iscsi:// URL (vm_disk_url.c), with this node's
 * PR key from $HAVM_PR_KEY (hex, or "cmap" for corosync's pr_local_key;
 * unset: no guard). With a key the LUN must hold it (else HAVM_E_FENCED:
 * fenced, or never unfenced), this I_T nexus is registered under it, and
 * the guard calls vm_fenced(@opaque) when the key disappears. */
int vm_disk_open_url(void *opaque, const char *url, unsigned flags, struct blk_dev **out,
		     struct havm_err *err) HAVM_MUST_CHECK;

/* The VM store (vm_store.c). vmm runs a VM from a store with
 * `vmm run --store URL NAME.vmc`: the .vmc is read from the store, disks
 * with store="NAME.vhd" are its objects, and save/checkpoint/migrate
 * "path"s and --restore without a '/' name .vsv objects in it. */

/* Opens the store at @url read-write, with this node's PR key guard on an
 * iscsi:// LUN (as vm_disk_open_url); fenced -> vm_fenced(@vm). */
int vm_store_open(struct vm *vm, const char *url, struct store **out, struct havm_err *err) HAVM_MUST_CHECK;
/* Reads and parses the .vmc object @name. */
int vm_store_load_config(struct store *s, const char *name, struct vmc_config **out,
			 struct havm_err *err) HAVM_MUST_CHECK;
/* As vm_create_restored, from the .vsv object @name of vm->store (read
 * whole on a LUN; mapped lazily on dir:). */
int vm_create_restored_store(struct vm *vm, struct vmc_config *cfg, const struct cpu_ops *ops,
			     qb_loop_t *loop, const char *name, uint64_t t0,
			     struct havm_err *err) HAVM_MUST_CHECK;
/* Moves the write generation of every read-write store disk on before the
 * guest runs: a .vsv saved earlier no longer matches them. */
int vm_store_claim(struct vm *vm, struct havm_err *err) HAVM_MUST_CHECK;

/* Adds state, counters and the stop report to @reply. */
void vm_status(struct vm *vm, json_object *reply);

const char *vm_state_name(enum vm_state s);
const char *vm_stop_reason_name(enum vm_stop_reason r);
/* The process exit status for how the VM ended. */
int vm_exit_status(const struct vm *vm);

#endif
