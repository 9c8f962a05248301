/* vmcore/vmm — the VM object and its control operations; see vm.h. */
#define LOG_TAG HAVM_TAG_MAIN
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "vmcore/machine/boot.h"
#include "vmcore/vmm/vm_int.h"

static const uint16_t com_base[4] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
static const uint8_t com_irq[4] = { 4, 3, 4, 3 };

uint64_t vm_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *vm_state_name(enum vm_state s)
{
	switch (s) {
	case VM_CREATED: return "created";
	case VM_RUNNING: return "running";
	case VM_PAUSED: return "paused";
	case VM_OFF: return "off";
	case VM_STOPPED: return "stopped";
	}
	return "?";
}

const char *vm_stop_reason_name(enum vm_stop_reason r)
{
	switch (r) {
	case VM_STOP_NONE: return "none";
	case VM_STOP_HALTED: return "halted";
	case VM_STOP_TRIPLE_FAULT: return "triple-fault";
	case VM_STOP_CPU_ERROR: return "cpu-error";
	case VM_STOP_POWEROFF: return "poweroff";
	case VM_STOP_QUIT: return "quit";
	case VM_STOP_SAVED: return "saved";
	case VM_STOP_MIGRATED: return "migrated";
	case VM_STOP_FENCED: return "fenced";
	case VM_STOP_STORAGE_LOST: return "storage-lost";
	}
	return "?";
}

int vm_exit_status(const struct vm *vm)
{
	switch (vm->reason) {
	case VM_STOP_HALTED: return VMM_EXIT_HALTED;
	case VM_STOP_TRIPLE_FAULT: return VMM_EXIT_TRIPLE_FAULT;
	case VM_STOP_CPU_ERROR: return VMM_EXIT_CPU_ERROR;
	case VM_STOP_FENCED: return VMM_EXIT_FENCED;
	case VM_STOP_STORAGE_LOST: return VMM_EXIT_STORAGE_LOST;
	default: return 0;
	}
}

static enum chardev_kind chardev_of(enum vmc_serial_backend b)
{
	switch (b) {
	case VMC_SERIAL_STDIO: return CHARDEV_STDIO;
	case VMC_SERIAL_FILE: return CHARDEV_FILE;
	case VMC_SERIAL_SOCKET: return CHARDEV_SOCKET;
	default: return CHARDEV_NONE;
	}
}

/* COM ports in port order: every configured one, plus COM1 without a
 * backend when none is configured (the kernel still finds its console). */
static void fill_uarts(struct pc_config *pc, const struct vmc_config *cfg)
{
	for (unsigned port = 0; port < 4; port++) {
		const struct vmc_serial *s = NULL;
		for (unsigned i = 0; i < cfg->nserials; i++)
			if (cfg->serials[i].port == port)
				s = &cfg->serials[i];
		if (!s && !(port == 0 && cfg->nserials == 0))
			continue;
		struct uart_params *u = &pc->uart[pc->nuarts++];
		u->base = com_base[port];
		u->irq = com_irq[port];
		u->chardev.kind = s ? chardev_of(s->backend) : CHARDEV_NONE;
		if (s && s->path)
			snprintf(u->chardev.path, sizeof(u->chardev.path), "%s", s->path);
	}
}

/* Disks become virtio-blk-pci functions 00:02.0.. with BARs from 0xC000 and
 * INTA on IRQ 11 and 10 alternately, as a BIOS would assign them. */
static int fill_disks(struct vm *vm, struct pc_config *pc, const struct vmc_config *cfg,
		      struct havm_err *err)
{
	for (unsigned i = 0; i < cfg->ndisks && i < PC_MAX_DISKS; i++) {
		const struct vmc_disk *d = &cfg->disks[i];
		if (!d->path && !vm->store)
			return havm_err_set(err, HAVM_E_CONFIG, -EINVAL,
					    "disk %u: store=\"%s\" names an object in the VM store: run it with "
					    "`vmm run --store URL`",
					    i, d->store);
		struct vblk_params *p = &pc->disk[pc->ndisks++];
		p->devfn = (uint8_t)((2 + i) << 3);
		p->irq = (i % 2) ? 10 : 11;
		p->io_base = (uint16_t)(0xc000 + 0x40 * i);
		p->readonly = d->readonly;
		p->vhd = d->format == VMC_DISK_VHD;
		snprintf(p->path, sizeof(p->path), "%s", d->path ? d->path : d->store);
		snprintf(p->serial, sizeof(p->serial), "vd%c", 'a' + i);
		if (!d->path) {
			p->open = vm_disk_open_store;
			p->open_opaque = vm;
		} else if (strncmp(d->path, "iscsi://", 8) == 0) {
			p->open = vm_disk_open_url;
			p->open_opaque = vm;
		}
	}
	return 0;
}

int vm_load_guest(struct vm *vm, struct havm_err *err)
{
	struct cpu_state st;
	int rc;
	if (vm->cfg->boot == VMC_BOOT_FLAT) {
		struct boot_flat_config bc = { .image = vm->cfg->image, .load_addr = vm->cfg->load_addr,
					       .entry = vm->cfg->entry };
		rc = boot_flat_load(&vm->m, &bc, &st, err);
	} else {
		struct boot_linux_config bc = { .kernel = vm->cfg->kernel, .initrd = vm->cfg->initrd,
						.cmdline = vm->cfg->cmdline };
		rc = boot_linux_load(&vm->m, &bc, &st, err);
	}
	if (rc < 0)
		return rc;
	struct cpu_state cur;
	if (vm->m.cpu_ops->get_state(vm->m.cpu, &cur) == 0)
		st.tsc = cur.tsc;   /* the TSC keeps counting across a reset */
	rc = vm->m.cpu_ops->set_state(vm->m.cpu, &st);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_INTERNAL, rc, "cpu %s: set_state refused the boot state",
				    vm->m.cpu_ops->name);
	return 0;
}

/* The machine for @cfg with nothing loaded (RAM all zero). */
static int build(struct vm *vm, struct vmc_config *cfg, const struct cpu_ops *ops, qb_loop_t *loop,
		 struct havm_err *err)
{
	struct store *store = vm->store; /* set by the caller before */
	memset(vm, 0, sizeof(*vm));
	vm->store = store;
	vm->cfg = cfg;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->pc.ram_size = cfg->memory;
	vm->pc.cpu_ops = ops;
	vm->pc.loop = loop;
	fill_uarts(&vm->pc, cfg);
	int rc = fill_disks(vm, &vm->pc, cfg, err);
	if (rc < 0)
		goto fail;
	rc = pc_init(&vm->m, &vm->pc, err);
	if (rc < 0)
		goto fail;
	vm->m.wake = vm_wake;
	vm->m.wake_opaque = vm;
	return 0;
fail:
	havm_err_prefix(err, "vm %s", cfg->name);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->lock);
	return rc;
}

static void unbuild(struct vm *vm)
{
	pc_fini(&vm->m);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->lock);
}

int vm_create(struct vm *vm, struct vmc_config *cfg, const struct cpu_ops *ops, qb_loop_t *loop,
	      struct havm_err *err)
{
	int rc = build(vm, cfg, ops, loop, err);
	if (rc < 0)
		return rc;
	rc = vm_load_guest(vm, err);
	if (rc < 0) {
		havm_err_prefix(err, "vm %s", cfg->name);
		unbuild(vm);
	}
	return rc;
}

int vm_create_restored(struct vm *vm, struct vmc_config *cfg, const struct cpu_ops *ops,
		       qb_loop_t *loop, const char *path, uint64_t t0, struct havm_err *err)
{
	int rc = build(vm, cfg, ops, loop, err);
	if (rc < 0)
		return rc;
	vm->restore_t0 = t0;
	rc = vm_restore_state(vm, path, err);
	if (rc < 0) {
		havm_err_prefix(err, "vm %s", cfg->name);
		unbuild(vm);
	}
	return rc;
}

int vm_create_restored_mem(struct vm *vm, struct vmc_config *cfg, const struct cpu_ops *ops,
			   qb_loop_t *loop, const void *buf, size_t len, const char *label, uint64_t t0,
			   struct havm_err *err)
{
	int rc = build(vm, cfg, ops, loop, err);
	if (rc < 0)
		return rc;
	vm->restore_t0 = t0;
	rc = vm_restore_state_mem(vm, buf, len, label, err);
	if (rc < 0) {
		havm_err_prefix(err, "vm %s", cfg->name);
		unbuild(vm);
	}
	return rc;
}

int vm_create_incoming(struct vm *vm, struct vmc_config *cfg, const struct cpu_ops *ops,
		       qb_loop_t *loop, const char *sock, struct havm_err *err)
{
	/* Received first, built after: the source writes the shared disks
	 * until its last pass, so they are opened (VHD metadata read) only
	 * once it paused and flushed them. */
	struct vm_incoming in;
	int rc = vm_stream_receive(cfg->name, cfg->memory, sock, &in, err);
	if (rc < 0) {
		havm_err_prefix(err, "vm %s", cfg->name);
		return rc;
	}
	uint64_t t0 = vm_mono_ns();
	rc = build(vm, cfg, ops, loop, err);
	bool built = rc == 0;
	if (built) {
		vm->restore_t0 = t0;
		vm->restore_stream = true;
		rc = vm_restore_state_mem(vm, in.buf, in.len, in.label, err);
	}
	rc = vm_stream_handover(&in, rc, err);
	if (rc < 0) {
		havm_err_prefix(err, "vm %s", cfg->name);
		if (built)
			unbuild(vm);
	}
	return rc;
}

int vm_start(struct vm *vm, struct havm_err *err)
{
	vm->state = VM_RUNNING;
	vm->wall_start = vm_mono_ns();
	vm->guest_start = machine_now(&vm->m);
	int rc = pthread_create(&vm->vcpu, NULL, vm_vcpu_main, vm);
	if (rc != 0) {
		vm->state = VM_CREATED;
		return havm_err_set(err, HAVM_E_INTERNAL, -rc, "vm %s: cannot start the vCPU thread: %s",
				    vm->cfg->name, strerror(rc));
	}
	vm->vcpu_started = true;
	hlog(LOG_NOTICE, "vm %s: running (%u MiB, %s boot)", vm->cfg->name, vm->cfg->memory >> 20,
	     vm->cfg->boot == VMC_BOOT_FLAT ? "flat image" : "Linux");
	return 0;
}

void vm_quit(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->quit = true;
	if (vm->state == VM_RUNNING || vm->state == VM_PAUSED) {
		vm->reason = VM_STOP_QUIT;
		snprintf(vm->report, sizeof(vm->report), "quit on request");
	}
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	if (vm->m.cpu)
		vm->m.cpu_ops->request_exit(vm->m.cpu);
}

void vm_destroy(struct vm *vm)
{
	if (vm->vcpu_started) {
		vm_quit(vm);
		pthread_join(vm->vcpu, NULL);
		vm->vcpu_started = false;
	}
	pc_fini(&vm->m);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->lock);
}

/* Waits (bounded) until the vCPU thread parks or ends; vm->lock held. */
static int wait_parked(struct vm *vm)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	while (!vm->parked && vm->state == VM_PAUSED) {
		if (pthread_cond_timedwait(&vm->cond, &vm->lock, &ts) == ETIMEDOUT)
			return -ETIMEDOUT;
	}
	return 0;
}

int vm_pause(struct vm *vm, struct havm_err *err)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_RUNNING) {
		enum vm_state s = vm->state;
		pthread_mutex_unlock(&vm->lock);
		return havm_err_set(err, HAVM_E_STATE, -EINVAL, "vm %s: is %s, can pause only when running",
				    vm->cfg->name, vm_state_name(s));
	}
	vm->state = VM_PAUSED;
	vm->paused_since = vm_mono_ns();
	pthread_cond_broadcast(&vm->cond);
	vm->m.cpu_ops->request_exit(vm->m.cpu);
	int rc = wait_parked(vm);
	pthread_mutex_unlock(&vm->lock);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_TIMEOUT, rc, "vm %s: the vCPU did not stop within 5 s",
				    vm->cfg->name);
	vm_disks_settle(vm, true);   /* no request stays in flight while paused */
	hlog(LOG_NOTICE, "vm %s: paused", vm->cfg->name);
	return 0;
}

int vm_resume(struct vm *vm, struct havm_err *err)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_PAUSED) {
		enum vm_state s = vm->state;
		pthread_mutex_unlock(&vm->lock);
		return havm_err_set(err, HAVM_E_STATE, -EINVAL, "vm %s: is %s, can resume only when paused",
				    vm->cfg->name, vm_state_name(s));
	}
	vm->paused_total += vm_mono_ns() - vm->paused_since;
	vm->state = VM_RUNNING;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	hlog(LOG_NOTICE, "vm %s: resumed", vm->cfg->name);
	return 0;
}

int vm_poweroff(struct vm *vm, struct havm_err *err)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_RUNNING && vm->state != VM_PAUSED) {
		enum vm_state s = vm->state;
		pthread_mutex_unlock(&vm->lock);
		return havm_err_set(err, HAVM_E_STATE, -EINVAL, "vm %s: is %s, nothing to power off",
				    vm->cfg->name, vm_state_name(s));
	}
	vm->state = VM_OFF;
	vm->reason = VM_STOP_POWEROFF;
	snprintf(vm->report, sizeof(vm->report), "powered off on request");
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	vm->m.cpu_ops->request_exit(vm->m.cpu);
	pthread_join(vm->vcpu, NULL);
	vm->vcpu_started = false;
	hlog(LOG_NOTICE, "vm %s: powered off", vm->cfg->name);
	return 0;
}

static json_object *u64(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

void vm_status(struct vm *vm, json_object *reply)
{
	struct machine_counters mc;
	struct io_counters io;
	pthread_mutex_lock(&vm->m.lock);
	mc = vm->m.count;
	io = vm->m.io.count;
	pthread_mutex_unlock(&vm->m.lock);

	pthread_mutex_lock(&vm->lock);
	json_object_object_add(reply, "name", json_object_new_string(vm->cfg->name));
	json_object_object_add(reply, "state", json_object_new_string(vm_state_name(vm->state)));
	json_object_object_add(reply, "pid", json_object_new_int(getpid()));
	json_object_object_add(reply, "instructions", u64(vm->stats.instructions));
	json_object_object_add(reply, "guest_time_ns", u64(vm->guest_ns));
	char pc[16];
	snprintf(pc, sizeof(pc), "%04x:%08x", vm->cs, vm->eip);
	json_object_object_add(reply, "pc", json_object_new_string(pc));
	if (vm->restore_t0) {
		json_object_object_add(reply, "restored", json_object_new_boolean(1));
		if (vm->restore_first_ns)
			json_object_object_add(reply, "restore_first_insn_us", u64(vm->restore_first_ns / 1000));
	}
	if (vm->reason != VM_STOP_NONE) {
		json_object_object_add(reply, "stop_reason", json_object_new_string(vm_stop_reason_name(vm->reason)));
		json_object_object_add(reply, "report", json_object_new_string(vm->report));
	}
	json_object *c = json_object_new_object();
	json_object_object_add(c, "exceptions", u64(vm->stats.exceptions));
	json_object_object_add(c, "interrupts", u64(vm->stats.interrupts));
	json_object_object_add(c, "tlb_flushes", u64(vm->stats.tlb_flushes));
	json_object_object_add(c, "code_invalidations", u64(vm->stats.code_invalidations));
	json_object_object_add(c, "irq_acks", u64(mc.irq_acks));
	json_object_object_add(c, "spurious_irqs", u64(mc.spurious_irqs));
	json_object_object_add(c, "idle_skips", u64(mc.idle_skips));
	json_object_object_add(c, "idle_ns", u64(mc.idle_ns));
	json_object_object_add(c, "unclaimed_io_reads", u64(io.unclaimed_reads));
	json_object_object_add(c, "unclaimed_io_writes", u64(io.unclaimed_writes));
	json_object_object_add(c, "resets", u64(vm->resets));
	pthread_mutex_unlock(&vm->lock);
	json_object_object_add(reply, "counters", c);
}

int vm_park(struct vm *vm, struct havm_err *err)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_RUNNING && vm->state != VM_PAUSED) {
		enum vm_state s = vm->state;
		pthread_mutex_unlock(&vm->lock);
		return havm_err_set(err, HAVM_E_STATE, -EINVAL, "vm %s: is %s, nothing to save",
				    vm->cfg->name, vm_state_name(s));
	}
	if (vm->state == VM_PAUSED) {
		pthread_mutex_unlock(&vm->lock);
		vm_disks_settle(vm, true);
		return 0;
	}
	vm->state = VM_PAUSED;
	vm->paused_since = vm_mono_ns();
	pthread_cond_broadcast(&vm->cond);
	vm->m.cpu_ops->request_exit(vm->m.cpu);
	int rc = wait_parked(vm);
	if (rc < 0) {
		vm->paused_total += vm_mono_ns() - vm->paused_since;
		vm->state = VM_RUNNING;
		pthread_cond_broadcast(&vm->cond);
	}
	pthread_mutex_unlock(&vm->lock);
	if (rc < 0)
		return havm_err_set(err, HAVM_E_TIMEOUT, rc, "vm %s: the vCPU did not stop within 5 s",
				    vm->cfg->name);
	/* In-flight disk I/O ends (or fails, on a fenced or lost LUN) before
	 * anything reads RAM, the dirty log or device state. */
	vm_disks_settle(vm, true);
	return 1;
}

void vm_unpark(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->state == VM_PAUSED) {
		vm->paused_total += vm_mono_ns() - vm->paused_since;
		vm->state = VM_RUNNING;
		pthread_cond_broadcast(&vm->cond);
	}
	pthread_mutex_unlock(&vm->lock);
}

/* Ends the vCPU thread after a save or migration: the guest must not run
 * on and diverge from the state just written. */
void vm_stop_after_save(struct vm *vm, enum vm_stop_reason reason, const char *report)
{
	pthread_mutex_lock(&vm->lock);
	vm->state = VM_OFF;
	vm->reason = reason;
	snprintf(vm->report, sizeof(vm->report), "%s", report);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	vm->m.cpu_ops->request_exit(vm->m.cpu);
	if (vm->vcpu_started) {
		pthread_join(vm->vcpu, NULL);
		vm->vcpu_started = false;
	}
}
