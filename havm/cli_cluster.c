/* havm — `havm cluster [--json]`: this node's cluster view from corosync
 * (havm/quorum.h): stand-alone or member, quorate, node id, cluster name. */
#define LOG_TAG HAVM_TAG_HAVM
#include "havm/cli.h"
#include "havm/quorum.h"

#include "common/err.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

int havm_cli_cluster(int argc, char **argv)
{
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: havm cluster [--json]\n"
			       "Shows whether corosync runs here (member) or not (standalone), quorum,\n"
			       "this node's id and the cluster name.\n");
			return 0;
		} else {
			fprintf(stderr, "havm cluster: unknown argument '%s'\n", argv[i]);
			return havm_err_exit_code(HAVM_E_CONFIG);
		}
	}
	struct havm_cluster_info ci;
	struct havm_err e;
	havm_err_clear(&e);
	if (havm_cluster_query(&ci, &e) < 0) {
		fprintf(stderr, "havm cluster: %s\n", e.msg);
		return havm_err_exit_code(e.kind);
	}
	if (json) {
		json_object *j = json_object_new_object();
		json_object_object_add(j, "mode", json_object_new_string(havm_cluster_mode_name(ci.mode)));
		json_object_object_add(j, "quorate", json_object_new_boolean(ci.quorate));
		json_object_object_add(j, "quorum_provider", json_object_new_boolean(ci.quorum_provider));
		json_object_object_add(j, "nodeid", json_object_new_int64(ci.nodeid));
		json_object_object_add(j, "cluster_name", json_object_new_string(ci.cluster_name));
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	} else if (ci.mode == HAVM_CLUSTER_STANDALONE) {
		printf("mode: standalone (corosync is not running)\nquorate: yes\n");
	} else {
		printf("mode: member\ncluster: %s\nnodeid: %u\nquorate: %s\n", ci.cluster_name,
		       ci.nodeid, ci.quorate ? "yes" : "no");
	}
	return 0;
}
