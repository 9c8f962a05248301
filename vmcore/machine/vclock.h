/* vmcore/machine — the virtual clock and device timers.
 *
 * Clock model (docs/vmc.md "Guest time"): guest time advances only with
 * guest work. now_ns = offset_ns + retired_instructions * 1e9 / insn_hz,
 * where insn_hz is a fixed nominal rate (VCLOCK_INSN_HZ). While the guest
 * is halted the vCPU loop moves the clock straight to the next timer
 * deadline (adding to offset_ns), throttled so guest time never runs ahead
 * of the wall clock. The same instruction stream therefore sees the same
 * device timings on every run, whatever the host speed: tests are
 * deterministic. Device timers (PIT, RTC) are deadlines on this clock.
 *
 * Threading: all calls are made with the machine's device lock held. */
#ifndef HAVM_VMCORE_MACHINE_VCLOCK_H
#define HAVM_VMCORE_MACHINE_VCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define VCLOCK_INSN_HZ 1000000000ull  /* nominal 1 G instructions per second (docs/vmc.md) */
#define VCLOCK_NEVER UINT64_MAX

typedef uint64_t vclock_insns_fn(void *opaque);

struct vtimer;
typedef void vtimer_fn(void *opaque);

struct vclock {
	vclock_insns_fn *insns;  /* live retired-instruction count */
	void *insns_opaque;
	uint64_t insn_hz;
	uint64_t offset_ns;
	struct vtimer *timers;   /* armed timers, soonest first */
};

struct vtimer {
	uint64_t deadline_ns;
	vtimer_fn *cb;
	void *opaque;
	bool armed;
	struct vtimer *next;
};

void vclock_init(struct vclock *c, vclock_insns_fn *insns, void *opaque, uint64_t insn_hz);

/* Guest time in nanoseconds. */
uint64_t vclock_now(const struct vclock *c);

/* Moves guest time forward by @ns (idle skip). */
void vclock_advance(struct vclock *c, uint64_t ns);

/* Sets guest time to @ns (restore); never moves it backwards past timers. */
void vclock_set(struct vclock *c, uint64_t ns);

/* Instructions the guest may run before guest time reaches @ns (0 if due). */
uint64_t vclock_insns_until(const struct vclock *c, uint64_t ns);

void vtimer_init(struct vtimer *t, vtimer_fn *cb, void *opaque);
/* Arms (or re-arms) @t to fire at guest time @deadline_ns. */
void vtimer_mod(struct vclock *c, struct vtimer *t, uint64_t deadline_ns);
void vtimer_del(struct vclock *c, struct vtimer *t);

/* Deadline of the soonest armed timer, VCLOCK_NEVER if none. */
uint64_t vclock_next_deadline(const struct vclock *c);

/* Fires every timer whose deadline has passed; returns how many fired.
 * A callback may re-arm its own or any other timer. */
unsigned vclock_run_timers(struct vclock *c);

#endif
