/* havm — per-node PR keys, compatible with fence_scsi's generate_key(), and
 * the cluster identity they come from (corosync cmap or configuration). */
#define LOG_TAG HAVM_TAG_PR
#include "common/log.h"
#include "iscsi/pr.h"

#include <corosync/cmap.h>
#include <errno.h>
#include <inttypes.h>
#include <nettle/md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pr_key_parse(const char *s, uint64_t *out, struct havm_err *err)
{
	const char *p = s ? s : "";
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	size_t n = strlen(p);
	if (n == 0 || n > 16 || strspn(p, "0123456789abcdefABCDEF") != n)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL,
				    "key '%s': expected 1 to 16 hexadecimal digits (e.g. 4a3b0001)", s ? s : "");
	uint64_t v = strtoull(p, NULL, 16);
	if (v == 0)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "key '%s': 0 is not a valid reservation key", s);
	*out = v;
	return 0;
}

void pr_key_format(uint64_t key, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIx64, key);
}

static void md5_hex(const char *s, char hex[33])
{
	struct md5_ctx c;
	uint8_t d[MD5_DIGEST_SIZE];
	md5_init(&c);
	md5_update(&c, strlen(s), (const uint8_t *)s);
	md5_digest(&c, sizeof(d), d);
	for (int i = 0; i < MD5_DIGEST_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

uint64_t pr_key_from_id(const char *cluster, unsigned id)
{
	char h[33], k[32];
	md5_hex(cluster, h);
	snprintf(k, sizeof(k), "%.4s%.4u", h, id);
	return strtoull(k, NULL, 16);
}

uint64_t pr_key_from_hash(const char *cluster, const char *node)
{
	char h[33], n[33], k[32];
	md5_hex(cluster, h);
	md5_hex(node, n);
	snprintf(k, sizeof(k), "%.4s%.4s", h, n);
	return strtoull(k, NULL, 16);
}

int pr_cluster_index(const struct pr_cluster *c, const char *node)
{
	for (int i = 0; node && i < c->count; i++)
		if (strcmp(c->nodes[i], node) == 0)
			return i;
	return -1;
}

int pr_cluster_key(const struct pr_cluster *c, const char *node, enum pr_key_method m, uint64_t *key,
		   struct havm_err *err)
{
	if (!c->name[0])
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "no cluster name to derive a key from");
	if (!node || !*node)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "no node name to derive a key from");
	if (m == PR_KEY_HASH) {
		*key = pr_key_from_hash(c->name, node);
		return 0;
	}
	int i = pr_cluster_index(c, node);
	if (i < 0)
		return havm_err_set(err, HAVM_E_NOTFOUND, -ENOENT,
				    "node '%s' is not in the nodelist of cluster '%s' (%d nodes)", node, c->name,
				    c->count);
	*key = pr_key_from_id(c->name, (unsigned)i);
	return 0;
}

int pr_cluster_from_list(struct pr_cluster *c, const char *cluster_name, const char *nodes,
			 const char *local, struct havm_err *err)
{
	memset(c, 0, sizeof(*c));
	c->local = -1;
	if (!cluster_name || !*cluster_name)
		return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "cluster name is empty");
	snprintf(c->name, sizeof(c->name), "%s", cluster_name);
	if (nodes && *nodes) {
		const char *p = nodes;
		while (*p) {
			size_t n = strcspn(p, ",");
			if (n == 0 || n >= sizeof(c->nodes[0]))
				return havm_err_set(err, HAVM_E_CONFIG, -EINVAL,
						    "node list '%s': empty or overlong name at position %d", nodes,
						    c->count + 1);
			if (c->count == PR_MAX_NODES)
				return havm_err_set(err, HAVM_E_CONFIG, -E2BIG, "node list: more than %d nodes",
						    PR_MAX_NODES);
			memcpy(c->nodes[c->count], p, n);
			c->nodes[c->count][n] = '\0';
			c->count++;
			p += n;
			if (*p == ',')
				p++;
		}
	}
	if (local && *local)
		c->local = pr_cluster_index(c, local);
	return 0;
}

static int cmap_err(cs_error_t e, const char *what, struct havm_err *err)
{
	return havm_err_set(err, HAVM_E_CONFIG, e == CS_ERR_LIBRARY ? -ENOTCONN : -EIO,
			    "corosync cmap: %s: %s%s", what, cs_strerror(e),
			    e == CS_ERR_LIBRARY ? " (is corosync running?)" : "");
}

int pr_cluster_from_cmap(struct pr_cluster *c, struct havm_err *err)
{
	memset(c, 0, sizeof(*c));
	c->local = -1;
	cmap_handle_t h;
	cs_error_t e = cmap_initialize(&h);
	if (e != CS_OK)
		return cmap_err(e, "connect", err);
	int rc = 0;
	char *name = NULL;
	e = cmap_get_string(h, "totem.cluster_name", &name);
	if (e != CS_OK) {
		rc = cmap_err(e, "totem.cluster_name", err);
		goto out;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	free(name);

	uint32_t self = 0;
	bool have_self = cmap_get_uint32(h, "runtime.votequorum.this_node_id", &self) == CS_OK;
	for (int i = 0; i < PR_MAX_NODES; i++) {
		char key[128];
		char *v = NULL;
		snprintf(key, sizeof(key), "nodelist.node.%d.name", i);
		if (cmap_get_string(h, key, &v) != CS_OK) {
			snprintf(key, sizeof(key), "nodelist.node.%d.ring0_addr", i);
			if (cmap_get_string(h, key, &v) != CS_OK)
				break;
		}
		snprintf(c->nodes[i], sizeof(c->nodes[i]), "%s", v);
		free(v);
		c->count = i + 1;
		uint32_t id;
		snprintf(key, sizeof(key), "nodelist.node.%d.nodeid", i);
		if (have_self && cmap_get_uint32(h, key, &id) == CS_OK && id == self)
			c->local = i;
	}
	if (c->local < 0) { /* no votequorum id: fall back to the host name */
		char host[256] = "";
		gethostname(host, sizeof(host) - 1);
		c->local = pr_cluster_index(c, host);
	}
out:
	cmap_finalize(h);
	return rc;
}

int pr_local_key(enum pr_key_method m, uint64_t *key, struct havm_err *err)
{
	struct pr_cluster c;
	int rc = pr_cluster_from_cmap(&c, err);
	if (rc < 0)
		return rc;
	if (c.local < 0)
		return havm_err_set(err, HAVM_E_NOTFOUND, -ENOENT,
				    "this node is not in the nodelist of cluster '%s' (no matching nodeid or host name)",
				    c.name);
	return pr_cluster_key(&c, c.nodes[c.local], m, key, err);
}
