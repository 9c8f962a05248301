/* libFuzzer target for the OCF agent's parameter handling (agent/env.c) and
 * the lifecycle handle built from it (havm_vm_new): the input is split at
 * '\n' into the values of the OCF_RESKEY_* variables. Any values either give
 * a handle with a valid VM name or an error with a message; never a crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "havm/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const vars[] = {
	"OCF_RESKEY_config",	       "OCF_RESKEY_store",	       "OCF_RESKEY_stop_policy",
	"OCF_RESKEY_rundir",	       "OCF_RESKEY_migrate_downtime", "OCF_RESKEY_migrate_passes",
	"OCF_RESKEY_CRM_meta_timeout", "OCF_RESKEY_CRM_meta_interval", "OCF_CHECK_LEVEL",
};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *p = buf;
	for (size_t i = 0; i < NVARS; i++) {
		char *nl = p ? strchr(p, '\n') : NULL;
		if (nl)
			*nl = '\0';
		if (p)
			setenv(vars[i], p, 1);
		else
			unsetenv(vars[i]);
		p = nl ? nl + 1 : NULL;
	}
	struct agent_env env;
	agent_env_load(&env, "monitor");
	if (env.param_err.kind != HAVM_OK && !env.param_err.msg[0])
		__builtin_trap();
	if ((unsigned)env.stop_policy > HAVM_STOP_POWEROFF || env.timeout_ms == 0)
		__builtin_trap();
	struct havm_vm_params params = agent_env_vm_params(&env);
	struct havm_vm *vm = NULL;
	struct havm_err e;
	if (havm_vm_new(&vm, &params, &e) == 0) {
		if (!havm_vm_name_valid(havm_vm_name(vm)) || havm_vm_rundir(vm)[0] != '/')
			__builtin_trap();
		havm_close(vm);
	} else if (vm || !e.msg[0]) {
		__builtin_trap();
	}
	free(buf);
	return 0;
}
