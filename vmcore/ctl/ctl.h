/* vmcore/ctl — the per-VM control socket: JSON lines on a unix stream
 * socket (docs/control-protocol.md).
 *
 * Server: runs in a qb_loop. Each request line is one JSON object with a
 * "cmd" string (and an optional "id" echoed in the reply). The handler
 * fills @reply with result fields and returns 0, or returns a negative
 * errno with @err set; the server then writes
 *   {"ok":true, ...fields}            or
 *   {"ok":false,"error":{"kind":"state","message":"..."}}
 * one line per request, in order. Malformed lines get a "format" error and
 * the connection stays open; lines over CTL_LINE_MAX close it.
 *
 * Client: ctl_call sends one request and waits (bounded) for its reply. */
#ifndef HAVM_VMCORE_CTL_CTL_H
#define HAVM_VMCORE_CTL_CTL_H

#include <json-c/json.h>
#include <qb/qbloop.h>

#include "common/err.h"

#define CTL_LINE_MAX 65536
#define CTL_MAX_CLIENTS 16

struct ctl_server;

/* Handles one command on the loop thread. @req is the whole request. */
typedef int ctl_handler_fn(void *opaque, const char *cmd, json_object *req, json_object *reply,
			   struct havm_err *err);

/* Listens on @path (mode 0600). A stale socket file is replaced; a live one
 * (another process answers) is HAVM_E_BUSY. */
int ctl_server_open(qb_loop_t *loop, const char *path, ctl_handler_fn *handler, void *opaque,
		    struct ctl_server **out, struct havm_err *err) HAVM_MUST_CHECK;
/* Closes every client, removes the socket file. */
void ctl_server_close(struct ctl_server *srv);

/* Sends @request (a JSON object) to the socket at @path and returns the
 * parsed reply in @reply (caller puts it). Waits at most @timeout_ms.
 * A reply with "ok":false is returned as success: the caller reads it. */
int ctl_call(const char *path, json_object *request, int timeout_ms, json_object **reply,
	     struct havm_err *err) HAVM_MUST_CHECK;

#endif
