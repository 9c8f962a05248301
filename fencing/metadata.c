/* fence_havm — metadata in the shape fencing.py prints (validated against
 * fence-agents' metadata.rng by tests/integration/test_fence_havm.sh). */
#include "fencing/metadata.h"
#include "fencing/args.h"

#include <stdio.h>

static void xml_text(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		default: fputc(*s, out);
		}
	}
}

static const char *type_name(enum fence_param_type t)
{
	switch (t) {
	case FP_BOOLEAN: return "boolean";
	case FP_SECOND: return "second";
	case FP_INTEGER: return "integer";
	default: return "string";
	}
}

void fence_metadata(FILE *out)
{
	fputs("<?xml version=\"1.0\" ?>\n", out);
	fputs("<resource-agent name=\"fence_havm\" shortdesc=\"Fence agent for SCSI-3 persistent reservations on iSCSI LUNs (libiscsi)\" >\n", out);
	fputs("<longdesc>fence_havm is an I/O fencing agent that uses SCSI-3 persistent reservations on shared iSCSI LUNs, "
	      "talking to the targets itself (libiscsi), so no kernel initiator or /dev node is needed. Each node registers "
	      "a unique key on every LUN when it is unfenced (action on, run on the node itself: configure the device with "
	      "meta provides=unfencing); the first node also takes a \"write exclusive, registrants only\" reservation. "
	      "Fencing (action off) removes the victim's key with PREEMPT AND ABORT, or with PREEMPT on targets without it "
	      "(tgt), and verifies the key is gone. The fenced node's writes then fail with RESERVATION CONFLICT; havm's "
	      "vmm notices its key is gone and stops its VMs at once. Keys are derived as fence_scsi does (cluster name hash "
	      "plus the node id or node name hash). There is no reboot action: a fenced node must be rebooted by other "
	      "means.</longdesc>\n", out);
	fputs("<vendor-url>https://github.com/havm</vendor-url>\n<parameters>\n", out);
	for (int i = 0; i < FP_COUNT; i++) {
		const struct fence_param *p = &fence_params[i];
		fprintf(out, "\t<parameter name=\"%s\" unique=\"0\" required=\"%d\"", p->name, p->required);
		if (p->deprecated)
			fputs(" deprecated=\"1\"", out);
		if (p->obsoletes)
			fprintf(out, " obsoletes=\"%s\"", p->obsoletes);
		fputs(">\n\t\t<getopt mixed=\"", out);
		char mixed[160];
		if (p->shortopt)
			snprintf(mixed, sizeof(mixed), "-%c, --%s%s%s", p->shortopt, p->longopt, p->help_arg ? "=" : "",
				 p->help_arg ? p->help_arg : "");
		else
			snprintf(mixed, sizeof(mixed), "--%s%s%s", p->longopt, p->help_arg ? "=" : "",
				 p->help_arg ? p->help_arg : "");
		xml_text(out, mixed);
		fprintf(out, "\" />\n\t\t<content type=\"%s\" ", type_name(p->type));
		if (p->def) {
			fputs("default=\"", out);
			xml_text(out, p->def);
			fputs("\" ", out);
		}
		fputs(" />\n\t\t<shortdesc lang=\"en\">", out);
		xml_text(out, p->shortdesc);
		fputs("</shortdesc>\n\t</parameter>\n", out);
	}
	fputs("</parameters>\n<actions>\n", out);
	/* fabric fencing: unfencing runs on the target itself, automatically */
	fputs("\t<action name=\"on\" on_target=\"1\" automatic=\"1\"/>\n", out);
	static const char *const actions[] = { "off", "status", "list", "list-status", "monitor", "metadata",
					       "validate-all" };
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		fprintf(out, "\t<action name=\"%s\" />\n", actions[i]);
	fputs("</actions>\n</resource-agent>\n", out);
}
