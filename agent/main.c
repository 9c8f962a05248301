/* VirtualServer — the OCF resource agent ocf:havm:VirtualServer.
 * Until the lifecycle library lands (issue 9) it answers meta-data only. */
#define LOG_TAG HAVM_TAG_AGENT
#include <stdio.h>
#include <string.h>

#define OCF_SUCCESS 0
#define OCF_ERR_UNIMPLEMENTED 3

static const char meta_data[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n"
	"<resource-agent name=\"VirtualServer\" version=\"" HAVM_VERSION "\">\n"
	"<version>1.1</version>\n"
	"<longdesc lang=\"en\">Runs one havm virtual machine. Stop saves its state so the next start resumes it on any node.</longdesc>\n"
	"<shortdesc lang=\"en\">havm virtual machine</shortdesc>\n"
	"<parameters>\n"
	"<parameter name=\"config\" unique=\"1\" required=\"1\">\n"
	"<longdesc lang=\"en\">The VM's .vmc configuration (a path, or a name in the store).</longdesc>\n"
	"<shortdesc lang=\"en\">VM configuration</shortdesc>\n"
	"<content type=\"string\" default=\"\"/>\n"
	"</parameter>\n"
	"</parameters>\n"
	"<actions>\n"
	"<action name=\"start\" timeout=\"90s\"/>\n"
	"<action name=\"stop\" timeout=\"90s\"/>\n"
	"<action name=\"monitor\" depth=\"0\" timeout=\"30s\" interval=\"10s\"/>\n"
	"<action name=\"meta-data\" timeout=\"5s\"/>\n"
	"</actions>\n"
	"</resource-agent>\n";

int main(int argc, char **argv)
{
	const char *action = argc > 1 ? argv[1] : "";
	if (strcmp(action, "meta-data") == 0) {
		fputs(meta_data, stdout);
		return OCF_SUCCESS;
	}
	fprintf(stderr, "ocf-exit-reason:action '%s' is not implemented in this build\n", action);
	return OCF_ERR_UNIMPLEMENTED;
}
