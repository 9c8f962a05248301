/* vmcore/dev — character backends for serial ports: stdio, a file, or a
 * unix stream socket the VMM listens on (one client at a time).
 *
 * Output is written from the vCPU thread and never blocks: what the
 * backend does not take at once (a socket peer that reads slowly, a
 * non-blocking stdout) waits in a bounded output buffer that the event
 * loop drains. The owner asks chardev_out_room before reporting "can send"
 * to the guest and gets its drain callback when room returns, so a slow
 * reader slows the guest down instead of losing bytes. Only a socket
 * without a client, or a guest that writes past the room it was given,
 * drops bytes (counted). Input arrives on the event-loop thread into a small ring; the owner's
 * callback runs with @lock held and pulls bytes with chardev_read. */
#ifndef HAVM_VMCORE_DEV_CHARDEV_H
#define HAVM_VMCORE_DEV_CHARDEV_H

#include <pthread.h>
#include <qb/qbloop.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

enum chardev_kind { CHARDEV_NONE, CHARDEV_STDIO, CHARDEV_FILE, CHARDEV_SOCKET };

#define CHARDEV_PATH_MAX 256

struct chardev_config {
	enum chardev_kind kind;
	char path[CHARDEV_PATH_MAX];   /* file or socket path */
};

struct chardev;
typedef void chardev_input_fn(void *opaque);

/* Opens the backend. @loop may be NULL (no input). @input runs on the loop
 * thread with @lock held when bytes arrived. */
int chardev_open(const struct chardev_config *cfg, qb_loop_t *loop, pthread_mutex_t *lock,
		 chardev_input_fn *input, void *opaque, struct chardev **out,
		 struct havm_err *err) HAVM_MUST_CHECK;
void chardev_close(struct chardev *cd);

void chardev_write(struct chardev *cd, const uint8_t *buf, size_t len);
/* Bytes chardev_write accepts now without dropping (SIZE_MAX when output
 * is discarded anyway: no backend, or a socket with no client). Tries to
 * flush the output buffer first. */
size_t chardev_out_room(struct chardev *cd);
/* @drained runs (loop thread, @lock held, with the open's opaque) when the
 * output buffer empties or its client goes away. */
void chardev_set_drain(struct chardev *cd, chardev_input_fn *drained);
/* Output bytes chardev_write has dropped so far. */
uint64_t chardev_dropped_out(const struct chardev *cd);
/* Takes up to @len buffered input bytes; returns the count. */
size_t chardev_read(struct chardev *cd, uint8_t *buf, size_t len);
size_t chardev_pending(const struct chardev *cd);

const char *chardev_kind_name(enum chardev_kind kind);

#endif
