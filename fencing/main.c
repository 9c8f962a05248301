/* fence_havm — SCSI-3 persistent-reservation fencing over libiscsi.
 * Until the PR helpers land (issue 8) it answers metadata only. */
#include <stdio.h>
#include <string.h>

static const char metadata[] =
	"<?xml version=\"1.0\" ?>\n"
	"<resource-agent name=\"fence_havm\" shortdesc=\"Fence agent for SCSI-3 persistent reservations over iSCSI (libiscsi)\">\n"
	"<longdesc>fence_havm cuts a node off shared iSCSI LUNs by removing its persistent-reservation key.</longdesc>\n"
	"<vendor-url>https://github.com/havm</vendor-url>\n"
	"<parameters>\n"
	"<parameter name=\"action\" unique=\"0\" required=\"1\"><getopt mixed=\"-o, --action=[action]\"/><content type=\"string\" default=\"off\"/><shortdesc lang=\"en\">Fencing action</shortdesc></parameter>\n"
	"</parameters>\n"
	"<actions>\n"
	"<action name=\"metadata\"/>\n"
	"</actions>\n"
	"</resource-agent>\n";

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "metadata") == 0 || strcmp(argv[i], "-o") == 0) {
			if (strcmp(argv[i], "-o") == 0 && (i + 1 >= argc || strcmp(argv[i + 1], "metadata") != 0))
				continue;
			fputs(metadata, stdout);
			return 0;
		}
	fprintf(stderr, "fence_havm: only 'metadata' is implemented in this build\n");
	return 1;
}
