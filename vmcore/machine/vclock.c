/* vmcore/machine — virtual clock and timers; see vclock.h. */
#include "vmcore/machine/vclock.h"

#include <stddef.h>

#define NS_PER_S 1000000000ull

void vclock_init(struct vclock *c, vclock_insns_fn *insns, void *opaque, uint64_t insn_hz)
{
	c->insns = insns;
	c->insns_opaque = opaque;
	c->insn_hz = insn_hz ? insn_hz : VCLOCK_INSN_HZ;
	c->offset_ns = 0;
	c->timers = NULL;
}

static uint64_t insns_ns(const struct vclock *c)
{
	uint64_t n = c->insns ? c->insns(c->insns_opaque) : 0;
	return (uint64_t)((unsigned __int128)n * NS_PER_S / c->insn_hz);
}

uint64_t vclock_now(const struct vclock *c)
{
	return c->offset_ns + insns_ns(c);
}

void vclock_advance(struct vclock *c, uint64_t ns)
{
	c->offset_ns += ns;
}

void vclock_set(struct vclock *c, uint64_t ns)
{
	uint64_t base = insns_ns(c);
	c->offset_ns = ns > base ? ns - base : 0;
}

uint64_t vclock_insns_until(const struct vclock *c, uint64_t ns)
{
	uint64_t now = vclock_now(c);
	if (ns <= now)
		return 0;
	if (ns == VCLOCK_NEVER)
		return UINT64_MAX;
	/* Round up so the guest reaches the deadline, not one short of it. */
	unsigned __int128 n = (unsigned __int128)(ns - now) * c->insn_hz + NS_PER_S - 1;
	n /= NS_PER_S;
	return n > UINT64_MAX ? UINT64_MAX : (uint64_t)n;
}

void vtimer_init(struct vtimer *t, vtimer_fn *cb, void *opaque)
{
	*t = (struct vtimer){ .cb = cb, .opaque = opaque };
}

void vtimer_del(struct vclock *c, struct vtimer *t)
{
	if (!t->armed)
		return;
	for (struct vtimer **p = &c->timers; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	t->armed = false;
	t->next = NULL;
}

void vtimer_mod(struct vclock *c, struct vtimer *t, uint64_t deadline_ns)
{
	vtimer_del(c, t);
	t->deadline_ns = deadline_ns;
	struct vtimer **p = &c->timers;
	while (*p && (*p)->deadline_ns <= deadline_ns)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
	t->armed = true;
}

uint64_t vclock_next_deadline(const struct vclock *c)
{
	return c->timers ? c->timers->deadline_ns : VCLOCK_NEVER;
}

unsigned vclock_run_timers(struct vclock *c)
{
	unsigned fired = 0;
	uint64_t now = vclock_now(c);
	/* Bounded: a timer re-armed at or before now fires again only after
	 * the clock moves, so one pass handles each due deadline once. */
	for (unsigned guard = 0; c->timers && c->timers->deadline_ns <= now && guard < 1024; guard++) {
		struct vtimer *t = c->timers;
		c->timers = t->next;
		t->armed = false;
		t->next = NULL;
		t->cb(t->opaque);
		fired++;
	}
	return fired;
}
