/* vmcore/vmm — the vCPU thread: runs the guest in slices that end at the
 * next device-timer deadline, fires timers, idles on HLT by moving guest
 * time to the next deadline (never ahead of the wall clock), handles guest
 * resets, and turns a dead guest (HLT with IF=0, triple fault, emulator
 * error) into a stopped VM with a one-line report. */
#define LOG_TAG HAVM_TAG_MAIN
#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "vmcore/vmm/vm_int.h"

#define NS_PER_S 1000000000ull

void vm_wake(void *opaque)
{
	struct vm *vm = opaque;
	pthread_mutex_lock(&vm->lock);
	vm->wake_pending = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

static void publish(struct vm *vm)
{
	struct cpu_stats st;
	struct cpu_state cs;
	vm->m.cpu_ops->get_stats(vm->m.cpu, &st);
	bool have_regs = vm->m.cpu_ops->get_state(vm->m.cpu, &cs) == 0;
	pthread_mutex_lock(&vm->m.lock);
	uint64_t now = machine_now(&vm->m);
	pthread_mutex_unlock(&vm->m.lock);
	pthread_mutex_lock(&vm->lock);
	vm->stats = st;
	vm->guest_ns = now;
	if (have_regs) {
		vm->cs = cs.seg[CPU_SEG_CS].selector;
		vm->eip = cs.eip;
	}
	pthread_mutex_unlock(&vm->lock);
}

/* Running wall time (pauses excluded) mapped onto guest time. vm->lock held. */
static uint64_t wall_as_guest(const struct vm *vm)
{
	return vm->guest_start + (vm_mono_ns() - vm->wall_start - vm->paused_total);
}

static struct timespec mono_deadline(const struct vm *vm, uint64_t guest_ns)
{
	uint64_t mono = vm->wall_start + vm->paused_total + (guest_ns - vm->guest_start);
	return (struct timespec){ .tv_sec = (time_t)(mono / NS_PER_S), .tv_nsec = (long)(mono % NS_PER_S) };
}

/* Moves guest time (and the TSC with it) forward by @ns. */
static void skip_time(struct vm *vm, uint64_t ns)
{
	struct machine *m = &vm->m;
	struct cpu_state st;
	vclock_advance(&m->clock, ns);
	m->count.idle_skips++;
	m->count.idle_ns += ns;
	if (m->cpu_ops->get_state(m->cpu, &st) == 0) {
		st.tsc += (uint64_t)((unsigned __int128)ns * m->clock.insn_hz / NS_PER_S);
		(void)m->cpu_ops->set_state(m->cpu, &st);
	}
}

static void idle(struct vm *vm)
{
	struct machine *m = &vm->m;
	pthread_mutex_lock(&m->lock);
	uint64_t deadline = vclock_next_deadline(&m->clock);
	pthread_mutex_unlock(&m->lock);

	pthread_mutex_lock(&vm->lock);
	bool early = vm->wake_pending;
	if (!early && vm->state == VM_RUNNING && !vm->quit) {
		if (deadline == VCLOCK_NEVER) {
			pthread_cond_wait(&vm->cond, &vm->lock);
		} else if (deadline > wall_as_guest(vm)) {
			struct timespec ts = mono_deadline(vm, deadline);
			while (!vm->wake_pending && vm->state == VM_RUNNING && !vm->quit &&
			       pthread_cond_clockwait(&vm->cond, &vm->lock, CLOCK_MONOTONIC, &ts) != ETIMEDOUT)
				;
		}
		early = vm->wake_pending || vm->state != VM_RUNNING || vm->quit;
	}
	uint64_t wall = wall_as_guest(vm);
	pthread_mutex_unlock(&vm->lock);

	pthread_mutex_lock(&m->lock);
	uint64_t now = machine_now(m), target = deadline;
	if (early || deadline == VCLOCK_NEVER)
		target = wall < deadline ? wall : deadline;
	if (target > now && target != VCLOCK_NEVER)
		skip_time(vm, target - now);
	vclock_run_timers(&m->clock);
	pthread_mutex_unlock(&m->lock);
}

void vm_disks_settle(struct vm *vm, bool drain)
{
	struct machine *m = &vm->m;
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < m->nrealized; i++)
		if (m->devs[i].ops == &virtio_blk_dev_ops)
			(drain ? vblk_drain : vblk_complete)(m->devs[i].dev);
	pthread_mutex_unlock(&m->lock);
}

static void guest_reset(struct vm *vm)
{
	struct havm_err err;
	hlog(LOG_NOTICE, "vm %s: guest reset, rebooting", vm->cfg->name);
	pc_reset_devices(&vm->m);
	memset(vm->m.ram, 0, vm->m.ram_size);
	vm->m.cpu_ops->reset(vm->m.cpu);
	if (vm_load_guest(vm, &err) < 0)
		hlog(LOG_ERR, "vm %s: reboot failed: %s", vm->cfg->name, err.msg);
	pthread_mutex_lock(&vm->lock);
	vm->resets++;
	pthread_mutex_unlock(&vm->lock);
}

static void stop(struct vm *vm, enum vm_stop_reason reason, const char *what)
{
	struct cpu_state st;
	uint16_t cs = 0;
	uint32_t eip = 0;
	if (vm->m.cpu_ops->get_state(vm->m.cpu, &st) == 0)
		cs = st.seg[CPU_SEG_CS].selector, eip = st.eip;
	publish(vm);
	pthread_mutex_lock(&vm->lock);
	vm->state = VM_STOPPED;
	vm->reason = reason;
	/* The CPU's own message already names the address. */
	char where[32] = "";
	if (!strstr(what, " at "))
		snprintf(where, sizeof(where), " at %04x:%08x", cs, eip);
	snprintf(vm->report, sizeof(vm->report), "%s%s after %llu instructions, guest time %.6f s", what,
		 where, (unsigned long long)vm->stats.instructions, (double)vm->guest_ns / 1e9);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	hlog(reason == VM_STOP_HALTED ? LOG_NOTICE : LOG_ERR, "vm %s: stopped: %s", vm->cfg->name,
	     vm->report);
}

/* Parks while paused; returns false when the thread must end. */
static bool gate(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->wake_pending = false;
	if (vm->state == VM_PAUSED) {
		pthread_mutex_unlock(&vm->lock);
		publish(vm);
		pthread_mutex_lock(&vm->lock);
		vm->parked = true;
		pthread_cond_broadcast(&vm->cond);
		while (vm->state == VM_PAUSED && !vm->quit)
			pthread_cond_wait(&vm->cond, &vm->lock);
		vm->parked = false;
	}
	bool go = vm->state == VM_RUNNING && !vm->quit;
	pthread_mutex_unlock(&vm->lock);
	return go;
}

void *vm_vcpu_main(void *arg)
{
	struct vm *vm = arg;
	struct machine *m = &vm->m;
	struct havm_err err;
	while (gate(vm)) {
		unsigned req = atomic_exchange(&m->requests, 0);
		if (req & MACHINE_REQ_DEV_DONE)
			vm_disks_settle(vm, false);
		if (req & MACHINE_REQ_RESET)
			guest_reset(vm);
		pthread_mutex_lock(&m->lock);
		uint64_t budget = vclock_insns_until(&m->clock, vclock_next_deadline(&m->clock));
		if (budget == 0)
			vclock_run_timers(&m->clock);
		pthread_mutex_unlock(&m->lock);
		if (budget == 0)
			continue;
		if (budget > VM_SLICE_INSNS)
			budget = VM_SLICE_INSNS;
		if (vm->restore_t0 && !vm->restore_reported) {
			vm->restore_reported = true;
			pthread_mutex_lock(&vm->lock);
			vm->restore_first_ns = vm_mono_ns() - vm->restore_t0;
			pthread_mutex_unlock(&vm->lock);
			hlog(LOG_NOTICE, "vm %s: restore: first guest instruction %.3f ms after %s", vm->cfg->name,
			     (double)vm->restore_first_ns / 1e6,
			     vm->restore_stream ? "the migration stream ended" : "vmm run --restore started");
		}
		enum cpu_exit_reason why = m->cpu_ops->run(m->cpu, budget, &err);
		pthread_mutex_lock(&m->lock);
		vclock_run_timers(&m->clock);
		pthread_mutex_unlock(&m->lock);
		publish(vm);
		if (why == CPU_EXIT_HLT) {
			idle(vm);
		} else if (why == CPU_EXIT_HLT_DEAD) {
			stop(vm, VM_STOP_HALTED, "guest halted with interrupts disabled");
			break;
		} else if (why == CPU_EXIT_SHUTDOWN) {
			stop(vm, VM_STOP_TRIPLE_FAULT, err.msg[0] ? err.msg : "triple fault");
			break;
		} else if (why == CPU_EXIT_INTERNAL) {
			stop(vm, VM_STOP_CPU_ERROR, err.msg[0] ? err.msg : "emulator error");
			break;
		}
	}
	publish(vm);
	if (vm->on_vcpu_exit)
		vm->on_vcpu_exit(vm->on_vcpu_exit_opaque);
	return NULL;
}
