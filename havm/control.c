/* havm — the lifecycle's client side of the vmm control socket
 * (docs/control-protocol.md), over vmcore/ctl's blocking ctl_call. */
#define LOG_TAG HAVM_TAG_CTL
#include "havm/vm_int.h"

#include "common/log.h"
#include "vmcore/ctl/ctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int havm_vm_socket_path(const struct havm_vm *vm, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/%s", vm->rundir, vm->name, HAVM_RUNTIME_SOCKET);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int havm_vm_ctl(struct havm_vm *vm, const char *cmd, int timeout_ms, json_object **reply,
		struct havm_err *e)
{
	json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	int rc = havm_vm_ctl_req(vm, req, timeout_ms, reply, e);
	json_object_put(req);
	return rc;
}

int havm_vm_ctl_req(struct havm_vm *vm, json_object *req, int timeout_ms, json_object **reply,
		    struct havm_err *e)
{
	*reply = NULL;
	json_object *c = NULL;
	const char *cmd = json_object_object_get_ex(req, "cmd", &c) ? json_object_get_string(c) : "?";
	char path[PATH_MAX];
	if (havm_vm_socket_path(vm, path, sizeof(path)) < 0)
		return havm_err_set(e, HAVM_E_CONFIG, -ENAMETOOLONG, "vm %s: socket path too long",
				    vm->name);
	json_object *rep = NULL;
	int rc = ctl_call(path, req, timeout_ms, &rep, e);
	if (rc < 0) {
		/* Any transport failure means "the vmm does not answer": never
		 * "not found", which the agent would read as a missing install. */
		if (e && e->kind != HAVM_E_TIMEOUT)
			e->kind = HAVM_E_IO;
		havm_err_prefix(e, "vm %s: %s", vm->name, cmd);
		return rc;
	}
	json_object *ok = NULL, *err = NULL, *kind = NULL, *msg = NULL;
	if (!json_object_is_type(rep, json_type_object) ||
	    !json_object_object_get_ex(rep, "ok", &ok) || !json_object_is_type(ok, json_type_boolean)) {
		json_object_put(rep);
		return havm_err_set(e, HAVM_E_FORMAT, -EPROTO,
				    "vm %s: %s: reply from %s has no boolean \"ok\"", vm->name, cmd, path);
	}
	if (!json_object_get_boolean(ok)) {
		enum havm_err_kind k = HAVM_E_INTERNAL;
		const char *text = "no message";
		if (json_object_object_get_ex(rep, "error", &err)) {
			if (json_object_object_get_ex(err, "kind", &kind))
				k = havm_err_kind_from_name(json_object_get_string(kind));
			if (json_object_object_get_ex(err, "message", &msg))
				text = json_object_get_string(msg);
		}
		rc = havm_err_set(e, k == HAVM_OK ? HAVM_E_INTERNAL : k, -EPROTO, "vm %s: %s: vmm says: %s",
				  vm->name, cmd, text);
		json_object_put(rep);
		return rc;
	}
	*reply = rep;
	return 0;
}

int havm_vm_ctl_state(struct havm_vm *vm, int timeout_ms, char *state, size_t len,
		      struct havm_err *e)
{
	json_object *rep = NULL, *st = NULL;
	int rc = havm_vm_ctl(vm, "status", timeout_ms, &rep, e);
	if (rc < 0)
		return rc;
	if (!json_object_object_get_ex(rep, "state", &st) || !json_object_is_type(st, json_type_string))
		rc = havm_err_set(e, HAVM_E_FORMAT, -EPROTO, "vm %s: status reply has no \"state\"",
				  vm->name);
	else
		snprintf(state, len, "%s", json_object_get_string(st));
	json_object_put(rep);
	return rc;
}
