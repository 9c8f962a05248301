/* VirtualServer — the meta-data document; see agent.h.
 *
 * It must validate against both resource-agents' 1.0 DTD (ra-api-1.dtd, what
 * ocf-tester checks with xmllint --valid) and the OCF 1.1 RNG, which allows
 * only their intersection: the DOCTYPE line; children in the order version,
 * longdesc, shortdesc, parameters, actions; parameter attributes name,
 * required and unique only; content types string, integer, boolean; no
 * reload-agent. migrate_to/migrate_from are not advertised until they work. */
#include "agent/agent.h"

#define STR(x) #x
#define XSTR(x) STR(x)

static const char metadata[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n"
	"<resource-agent name=\"VirtualServer\" version=\"" HAVM_VERSION "\">\n"
	"<version>1.1</version>\n"
	"<longdesc lang=\"en\">\n"
	"Runs one havm virtual machine (a vmm process) on this node. Start brings the VM\n"
	"online; stop takes it offline by the stop policy and kills it when the\n"
	"operation's timeout runs out. (This version boots the VM afresh on every start\n"
	"and, as vmm cannot save state or shut a guest down yet, stops by powering off.)\n"
	"The monitor at\n"
	"depth 0 checks that the VM's vmm process runs (LooksAlive); depth 10 also asks\n"
	"the vmm over its control socket (IsAlive). Starting is refused in a partition\n"
	"without quorum, and a VM never runs twice on one node.\n"
	"</longdesc>\n"
	"<shortdesc lang=\"en\">havm virtual machine</shortdesc>\n"
	"<parameters>\n"
	"<parameter name=\"config\" unique=\"1\" required=\"1\">\n"
	"<longdesc lang=\"en\">\n"
	"The VM's configuration: an absolute path to its .vmc file, or, with store set,\n"
	"its name in the store. The VM's name is the file name without \".vmc\"\n"
	"(letters, digits, '.', '_', '+', '-'; at most 64 characters).\n"
	"</longdesc>\n"
	"<shortdesc lang=\"en\">VM configuration (.vmc)</shortdesc>\n"
	"<content type=\"string\" default=\"\"/>\n"
	"</parameter>\n"
	"<parameter name=\"store\" unique=\"0\" required=\"0\">\n"
	"<longdesc lang=\"en\">\n"
	"Where the VM's files live when config is a name: \"dir:/path\" for a directory\n"
	"(local or on a shared file system). Empty: config is a path.\n"
	"</longdesc>\n"
	"<shortdesc lang=\"en\">VM store</shortdesc>\n"
	"<content type=\"string\" default=\"\"/>\n"
	"</parameter>\n"
	"<parameter name=\"stop_policy\" unique=\"0\" required=\"0\">\n"
	"<longdesc lang=\"en\">\n"
	"How stop takes the VM offline before the timeout forces it off: \"save\" writes\n"
	"the VM's state to the store so the next start resumes it (quick migration);\n"
	"\"shutdown\" asks the guest to shut down; \"poweroff\" turns it off at once.\n"
	"A policy this version cannot carry out (save, shutdown) falls back to poweroff.\n"
	"</longdesc>\n"
	"<shortdesc lang=\"en\">save, shutdown or poweroff</shortdesc>\n"
	"<content type=\"string\" default=\"" AGENT_DEFAULT_STOP_POLICY "\"/>\n"
	"</parameter>\n"
	"<parameter name=\"rundir\" unique=\"0\" required=\"0\">\n"
	"<longdesc lang=\"en\">\n"
	"Base of the per-VM runtime directories (lock, pidfile, control socket) on this\n"
	"node. Empty: /run/havm.\n"
	"</longdesc>\n"
	"<shortdesc lang=\"en\">runtime directory</shortdesc>\n"
	"<content type=\"string\" default=\"\"/>\n"
	"</parameter>\n"
	"<parameter name=\"migrate_downtime\" unique=\"0\" required=\"0\">\n"
	"<longdesc lang=\"en\">\n"
	"Live migration: the longest pause of the VM, in milliseconds. Memory is copied\n"
	"while the VM runs until what is left fits in this pause. Used by migrate_to and\n"
	"migrate_from, which this version does not offer yet.\n"
	"</longdesc>\n"
	"<shortdesc lang=\"en\">migration downtime (ms)</shortdesc>\n"
	"<content type=\"integer\" default=\"" XSTR(AGENT_DEFAULT_MIGRATE_DOWNTIME_MS_N) "\"/>\n"
	"</parameter>\n"
	"<parameter name=\"migrate_passes\" unique=\"0\" required=\"0\">\n"
	"<longdesc lang=\"en\">\n"
	"Live migration: the most memory copy passes before the final pause, whatever\n"
	"the downtime.\n"
	"</longdesc>\n"
	"<shortdesc lang=\"en\">migration copy passes</shortdesc>\n"
	"<content type=\"integer\" default=\"" XSTR(AGENT_DEFAULT_MIGRATE_PASSES_N) "\"/>\n"
	"</parameter>\n"
	"</parameters>\n"
	"<actions>\n"
	"<action name=\"start\" timeout=\"120s\"/>\n"
	"<action name=\"stop\" timeout=\"120s\"/>\n"
	"<action name=\"monitor\" depth=\"0\" timeout=\"20s\" interval=\"10s\"/>\n"
	"<action name=\"monitor\" depth=\"10\" timeout=\"30s\" interval=\"60s\"/>\n"
	"<action name=\"validate-all\" timeout=\"20s\"/>\n"
	"<action name=\"meta-data\" timeout=\"5s\"/>\n"
	"</actions>\n"
	"</resource-agent>\n";

const char *agent_metadata(void)
{
	return metadata;
}
