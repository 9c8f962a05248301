/* havm — numbered fault points for crash and error tests (SQLite's
 * sqlite3FaultSim). Production code marks each step of an ordered write:
 *
 *     if (HAVM_FAULT("vhd.bitmap_written")) return -EIO;
 *
 * In release builds HAVM_FAULT() is the constant 0. In test builds
 * (-DHAVM_TESTING) a point can be armed from a test, or for a whole process
 * through the environment, so a test can kill a real writer at step N:
 *
 *     HAVM_FAULT_AT=<name|*>:<n>[:crash|:fail]
 *
 * "*" counts every fault point hit. At the n-th hit, "crash" (the default)
 * calls _exit(HAVM_FAULT_EXIT) without flushing anything, "fail" makes the
 * point return nonzero once (the caller turns that into -EIO). */
#ifndef HAVM_COMMON_FAULT_H
#define HAVM_COMMON_FAULT_H

#define HAVM_FAULT_EXIT 86

enum havm_fault_action { HAVM_FAULT_CRASH, HAVM_FAULT_FAIL };

#ifdef HAVM_TESTING
#define HAVM_FAULT(name) havm_fault_hit(name)
#else
#define HAVM_FAULT(name) 0
#endif

/* Returns nonzero when the armed fault fires with the "fail" action. */
int havm_fault_hit(const char *name);

/* Arms one fault point: fire at the @nth hit (1-based) of @name ("*" = any). */
void havm_fault_arm(const char *name, unsigned nth, enum havm_fault_action action);

/* Disarms and resets counters. */
void havm_fault_disarm(void);

/* Hits counted since the last arm/disarm (of the armed name, or all). */
unsigned havm_fault_hits(void);

#endif
