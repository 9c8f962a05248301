/* vmm — one process per running VM: `vmm run CONFIG.vmc [--control SOCK]`.
 * The main thread runs the event loop (control socket, serial input,
 * signals); the vCPU thread runs the guest (vcpu.c). */
#define LOG_TAG HAVM_TAG_MAIN
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "iscsi/store.h"
#include "vmcore/ctl/ctl.h"
#include "vmcore/vmm/vm.h"

struct vmm {
	struct vm vm;
	qb_loop_t *loop;
	struct ctl_server *ctl;
	int exit_fd;            /* eventfd: the vCPU thread ended */
	bool quitting;
};

static char blackbox_path[512];

static void usage(FILE *out)
{
	fprintf(out, "usage: vmm run CONFIG.vmc [--control SOCKET] [--restore FILE.vsv | --incoming SOCKET]\n"
		     "       vmm run --store URL NAME.vmc [--control SOCKET] [--restore NAME.vsv | --incoming SOCKET]\n"
		     "       vmm --version\n"
		     "With --store (dir:PATH, iscsi://HOST/IQN/LUN, file:PATH) the .vmc, store=\"...\" disks\n"
		     "and --restore / save paths without a '/' are objects in that store.\n"
		     "Exit status: 0 after quit/poweroff, 20 guest halted with interrupts off,\n"
		     "21 triple fault, 22 emulator error, 23 fenced (this node's PR key left a disk's LUN),\n"
		     "24 storage lost (a disk's LUN did not complete I/O within its io_deadline),\n"
		     "2-11 errors by kind (docs/conventions.md).\n");
}

static void fatal_signal(int sig)
{
	havm_log_blackbox_dump(blackbox_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_fatal_handlers(const char *name, const char *control)
{
	if (control)
		snprintf(blackbox_path, sizeof(blackbox_path), "%s.blackbox", control);
	else
		snprintf(blackbox_path, sizeof(blackbox_path), "/tmp/vmm-%s-%d.blackbox", name, getpid());
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa = { .sa_handler = fatal_signal, .sa_flags = SA_RESETHAND };
		sigaction(sigs[i], &sa, NULL);
	}
	signal(SIGPIPE, SIG_IGN);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The request's @key ("path", "socket"): a non-empty string. */
static int req_path(json_object *req, const char *cmd, const char *key, const char **path, struct havm_err *err)
{
	json_object *p;
	if (!json_object_object_get_ex(req, key, &p) || !json_object_is_type(p, json_type_string) ||
	    !json_object_get_string(p)[0])
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "%s: \"%s\" (a non-empty string) is required", cmd,
				    key);
	*path = json_object_get_string(p);
	return 0;
}

/* An optional non-negative integer option. */
static int req_u64(json_object *req, const char *cmd, const char *key, uint64_t *out, struct havm_err *err)
{
	json_object *p;
	if (!json_object_object_get_ex(req, key, &p))
		return 0;
	if (!json_object_is_type(p, json_type_int) || json_object_get_int64(p) < 0)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "%s: \"%s\" must be a non-negative integer", cmd, key);
	*out = (uint64_t)json_object_get_int64(p);
	return 0;
}

static void report_save(json_object *reply, const char *path, const struct vm_save_report *r)
{
	json_object_object_add(reply, "path", json_object_new_string(path));
	json_object_object_add(reply, "bytes", json_object_new_int64((int64_t)r->bytes));
	json_object_object_add(reply, "passes", json_object_new_int((int)r->passes));
	json_object_object_add(reply, "pages", json_object_new_int64((int64_t)r->pages));
	json_object_object_add(reply, "converged", json_object_new_boolean(r->converged));
	json_object_object_add(reply, "total_ms", json_object_new_double((double)r->total_ns / 1e6));
	json_object_object_add(reply, "downtime_ms", json_object_new_double((double)r->downtime_ns / 1e6));
	if (!r->stop_reason)
		return;
	/* Pre-copy: the rule's view (vmcore/vsv/precopy.h) beside the result. */
	json_object_object_add(reply, "stop_reason", json_object_new_string(r->stop_reason));
	json_object_object_add(reply, "downtime_limit_ms", json_object_new_double((double)r->downtime_limit_ns / 1e6));
	json_object_object_add(reply, "expected_downtime_ms",
			       json_object_new_double((double)r->expected_downtime_ns / 1e6));
	json_object_object_add(reply, "bandwidth_mib_s", json_object_new_double(r->bandwidth / 1048576));
	json_object_object_add(reply, "dirty_rate_mib_s", json_object_new_double(r->dirty_rate / 1048576));
	json_object_object_add(reply, "last_pass_pages", json_object_new_int64((int64_t)r->last_pages));
}

static int save_cmd(struct vmm *v, const char *cmd, json_object *req, json_object *reply, struct havm_err *err)
{
	const char *path = NULL;
	struct vm_save_report r;
	json_object *so;
	/* migrate takes "path" (a file) or "socket" (a target vmm --incoming). */
	bool sock = !strcmp(cmd, "migrate") && json_object_object_get_ex(req, "socket", &so);
	int rc = req_path(req, cmd, sock ? "socket" : "path", &path, err);
	if (rc < 0)
		return rc;
	if (!strcmp(cmd, "migrate")) {
		struct vm_migrate_opts o = { 0 };
		uint64_t passes = 0;
		if ((rc = req_u64(req, cmd, "max_passes", &passes, err)) < 0 ||
		    (rc = req_u64(req, cmd, "max_bytes", &o.max_bytes, err)) < 0 ||
		    (rc = req_u64(req, cmd, "converge_pages", &o.converge_pages, err)) < 0 ||
		    (rc = req_u64(req, cmd, "downtime_ms", &o.downtime_ms, err)) < 0)
			return rc;
		if (o.downtime_ms > 3600000)
			return havm_err_set(err, HAVM_E_CONFIG, -EINVAL,
					    "%s: \"downtime_ms\" is %llu, expected at most 3600000 (1 hour)", cmd,
					    (unsigned long long)o.downtime_ms);
		o.max_passes = passes > 1000 ? 1000 : (unsigned)passes;
		rc = sock ? vm_migrate_socket(&v->vm, path, &o, &r, err) : vm_migrate(&v->vm, path, &o, &r, err);
	} else {
		rc = vm_save(&v->vm, path, !strcmp(cmd, "save"), &r, err);
	}
	if (rc == 0)
		report_save(reply, path, &r);
	return rc;
}

static int control(void *opaque, const char *cmd, json_object *req, json_object *reply,
		   struct havm_err *err)
{
	struct vmm *v = opaque;
	if (!strcmp(cmd, "save") || !strcmp(cmd, "checkpoint") || !strcmp(cmd, "migrate"))
		return save_cmd(v, cmd, req, reply, err);
	if (!strcmp(cmd, "status")) {
		vm_status(&v->vm, reply);
		return 0;
	}
	if (!strcmp(cmd, "pause"))
		return vm_pause(&v->vm, err);
	if (!strcmp(cmd, "resume"))
		return vm_resume(&v->vm, err);
	if (!strcmp(cmd, "poweroff"))
		return vm_poweroff(&v->vm, err);
	if (!strcmp(cmd, "quit")) {
		hlog(LOG_NOTICE, "vm %s: quit requested on the control socket", v->vm.cfg->name);
		v->quitting = true;
		vm_quit(&v->vm);
		qb_loop_stop(v->loop);
		return 0;
	}
	return havm_err_set(err, HAVM_E_UNSUPPORTED, -ENOTSUP,
			    "unknown command \"%s\", expected status, pause, resume, save, checkpoint, migrate, poweroff or quit",
			    cmd);
}

static void vcpu_exited(void *opaque)
{
	struct vmm *v = opaque;
	uint64_t one = 1;
	(void)!write(v->exit_fd, &one, sizeof(one));
}

static int32_t on_vcpu_exit(int32_t fd, int32_t revents, void *data)
{
	struct vmm *v = data;
	uint64_t n;
	(void)revents;
	(void)!read(fd, &n, sizeof(n));
	/* A powered-off VM keeps answering status until quit. */
	if (v->vm.state == VM_STOPPED || v->quitting)
		qb_loop_stop(v->loop);
	return 0;
}

static int32_t on_term(int32_t sig, void *data)
{
	struct vmm *v = data;
	hlog(LOG_NOTICE, "vm %s: signal %d, quitting", v->vm.cfg->name, sig);
	v->quitting = true;
	vm_quit(&v->vm);
	qb_loop_stop(v->loop);
	return 0;
}

static int run(const char *store_url, const char *config, const char *control_path, const char *restore,
	       const char *incoming, uint64_t t0)
{
	struct havm_err err;
	struct vmc_config *cfg = NULL;
	struct vmm v = { .exit_fd = -1 };
	struct store *store = NULL;
	int status;
	if (store_url && vm_store_open(&v.vm, store_url, &store, &err) < 0) {
		hlog(LOG_ERR, "%s", err.msg);
		return havm_err_exit_code(err.kind);
	}
	v.vm.store = store;
	if ((store ? vm_store_load_config(store, config, &cfg, &err) : vmc_load(config, &cfg, &err)) < 0) {
		hlog(LOG_ERR, "%s", err.msg);
		(void)store_close(store);
		return havm_err_exit_code(err.kind);
	}
	const char *sock = control_path ? control_path : cfg->control;
	install_fatal_handlers(cfg->name, sock);
	if (strcmp(cfg->cpu_backend, "interp") != 0) {
		hlog(LOG_ERR, "vm %s: cpu backend \"%s\" is not built into this vmm (only interp)", cfg->name,
		     cfg->cpu_backend);
		vmc_free(cfg);
		return havm_err_exit_code(HAVM_E_UNSUPPORTED);
	}
	v.loop = qb_loop_create();
	v.exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!v.loop || v.exit_fd < 0) {
		hlog(LOG_ERR, "vm %s: cannot create the event loop", cfg->name);
		status = havm_err_exit_code(HAVM_E_INTERNAL);
		goto out_loop;
	}
	int crc = restore    ? vm_create_restored_store(&v.vm, cfg, &cpu_interp_ops, v.loop, restore, t0, &err)
		  : incoming ? vm_create_incoming(&v.vm, cfg, &cpu_interp_ops, v.loop, incoming, &err)
			     : vm_create(&v.vm, cfg, &cpu_interp_ops, v.loop, &err);
	if (crc < 0) {
		hlog(LOG_ERR, "%s", err.msg);
		status = havm_err_exit_code(err.kind);
		goto out_loop;
	}
	/* Disks in a store: a .vsv saved before this run no longer matches. */
	if (store && vm_store_claim(&v.vm, &err) < 0) {
		hlog(LOG_ERR, "%s", err.msg);
		status = havm_err_exit_code(err.kind);
		goto out_vm;
	}
	v.vm.on_vcpu_exit = vcpu_exited;
	v.vm.on_vcpu_exit_opaque = &v;
	if (sock && ctl_server_open(v.loop, sock, control, &v, &v.ctl, &err) < 0) {
		havm_err_prefix(&err, "vm %s", cfg->name);
		hlog(LOG_ERR, "%s", err.msg);
		status = havm_err_exit_code(err.kind);
		goto out_vm;
	}
	qb_loop_poll_add(v.loop, QB_LOOP_HIGH, v.exit_fd, POLLIN, &v, on_vcpu_exit);
	qb_loop_signal_add(v.loop, QB_LOOP_HIGH, SIGTERM, &v, on_term, NULL);
	qb_loop_signal_add(v.loop, QB_LOOP_HIGH, SIGINT, &v, on_term, NULL);
	if (vm_start(&v.vm, &err) < 0) {
		hlog(LOG_ERR, "%s", err.msg);
		status = havm_err_exit_code(err.kind);
		goto out_ctl;
	}
	qb_loop_run(v.loop);
	status = 0;
out_ctl:
	ctl_server_close(v.ctl);
out_vm:
	vm_destroy(&v.vm);
	if (status == 0) {
		status = vm_exit_status(&v.vm);
		hlog(status ? LOG_ERR : LOG_NOTICE, "vm %s: ended (%s%s%s), exit status %d", cfg->name,
		     vm_stop_reason_name(v.vm.reason), v.vm.report[0] ? ": " : "", v.vm.report, status);
		/* Fenced: keep the last debug lines for the post-mortem. */
		if (v.vm.reason == VM_STOP_FENCED || v.vm.reason == VM_STOP_STORAGE_LOST)
			havm_log_blackbox_dump(blackbox_path);
	}
out_loop:
	if (v.exit_fd >= 0)
		close(v.exit_fd);
	if (v.loop)
		qb_loop_destroy(v.loop);
	vmc_free(cfg);
	int src = store_close(store);
	if (src < 0)
		hlog(LOG_WARNING, "store %s: close: %s", store_url, strerror(-src));
	return status;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("vmm %s\n", HAVM_VERSION);
		return 0;
	}
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	uint64_t t0 = mono_ns();
	const char *config = NULL, *control_path = NULL, *restore = NULL, *incoming = NULL, *store = NULL;
	bool bad = argc < 3 || strcmp(argv[1], "run") != 0;
	for (int i = 2; i < argc && !bad; i++) {
		if (!strcmp(argv[i], "--control") && i + 1 < argc)
			control_path = argv[++i];
		else if (!strcmp(argv[i], "--restore") && i + 1 < argc)
			restore = argv[++i];
		else if (!strcmp(argv[i], "--incoming") && i + 1 < argc)
			incoming = argv[++i];
		else if (!strcmp(argv[i], "--store") && i + 1 < argc)
			store = argv[++i];
		else if (argv[i][0] != '-' && !config)
			config = argv[i];
		else
			bad = true;
	}
	if (bad || !config || (restore && incoming)) {
		usage(stderr);
		return havm_err_exit_code(HAVM_E_CONFIG);
	}
	havm_log_init("vmm", HAVM_LOG_STDERR | HAVM_LOG_BLACKBOX, LOG_INFO);
	int status = run(store, config, control_path, restore, incoming, t0);
	havm_log_fini();
	return status;
}
