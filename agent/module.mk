# agent/ — the OCF resource agent ocf:havm:VirtualServer (a thin layer over havm/).
PROGRAMS += VirtualServer
VirtualServer_SRCS := agent/main.c agent/env.c agent/ocf.c agent/metadata.c agent/actions.c
VirtualServer_LIBS := lifecycle havm_store havm_iscsi vmcore_vmc vmcore_ctl vmcore_disk common
INTEGRATION_TESTS += tests/integration/test_install.sh
INTEGRATION_TESTS += tests/integration/test_agent_ocf.sh
INTEGRATION_TESTS += tests/integration/test_agent_crm_resource.sh

# Unit tests compile the agent's sources (all but main.c) in.
AGENT_TEST_SRCS := agent/env.c agent/ocf.c agent/metadata.c agent/actions.c
UNIT_TESTS += test_agent_ocf test_agent_env test_agent_actions
test_agent_ocf_SRCS := tests/unit/agent/test_ocf.c $(AGENT_TEST_SRCS)
test_agent_ocf_LIBS := lifecycle havm_store havm_iscsi vmcore_vmc vmcore_ctl vmcore_disk common
test_agent_env_SRCS := tests/unit/agent/test_env.c $(AGENT_TEST_SRCS)
test_agent_env_LIBS := lifecycle havm_store havm_iscsi vmcore_vmc vmcore_ctl vmcore_disk common
test_agent_actions_SRCS := tests/unit/agent/test_actions.c $(AGENT_TEST_SRCS) \
	tests/unit/havm/fake_vmm.c
test_agent_actions_LIBS := lifecycle havm_store havm_iscsi vmcore_vmc vmcore_ctl vmcore_disk common

FUZZERS += ocf_env_fuzz
ocf_env_fuzz_SRCS := tests/fuzz/ocf_env_fuzz.c agent/env.c havm/vm.c havm/runtime.c \
	vmcore/vmc/vmc.c common/err.c common/sys.c common/log.c common/fault.c
ocf_env_fuzz_LDLIBS := -lxml2 -lqb
