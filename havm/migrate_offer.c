/* havm — the offer file of a pull-style live migration: parse and format;
 * see migrate_int.h. Read from a shared store, so every field is checked
 * before the target connects anywhere. */
#include "havm/migrate_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int havm_migrate_offer_parse(const char *buf, size_t len, struct havm_migrate_offer *o,
			     struct havm_err *e)
{
	memset(o, 0, sizeof(*o));
	char line[HAVM_MIGRATE_LINE_MAX];
	if (len && buf[len - 1] == '\n')
		len--;
	if (len >= sizeof(line) || memchr(buf, '\n', len) || memchr(buf, '\0', len))
		return havm_err_set(e, HAVM_E_FORMAT, -EINVAL,
				    "offer: expected one line of at most %zu bytes", sizeof(line) - 1);
	memcpy(line, buf, len);
	line[len] = '\0';
	char *save = NULL, *tok[4 + HAVM_MIGRATE_MAX_ADDRS]; /* magic (2), port, token, addresses */
	unsigned n = 0;
	for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (n == sizeof(tok) / sizeof(tok[0]))
			return havm_err_set(e, HAVM_E_FORMAT, -EINVAL, "offer: more than %d addresses",
					    HAVM_MIGRATE_MAX_ADDRS);
		tok[n++] = t;
	}
	if (n < 2 || strcmp(tok[0], "havm-migrate") != 0 || strcmp(tok[1], "1") != 0)
		return havm_err_set(e, HAVM_E_FORMAT, -EINVAL, "offer: expected \"" HAVM_MIGRATE_OFFER_MAGIC
				    " PORT TOKEN ADDR...\"");
	if (n < 5)
		return havm_err_set(e, HAVM_E_FORMAT, -EINVAL, "offer: %u fields, expected at least 5", n);
	char *end = NULL;
	unsigned long port = strtoul(tok[2], &end, 10);
	if (tok[2][0] < '1' || tok[2][0] > '9' || *end || port > 65535)
		return havm_err_set(e, HAVM_E_FORMAT, -EINVAL, "offer: port \"%.16s\" (expected 1..65535)", tok[2]);
	if (strlen(tok[3]) != 2 * HAVM_MIGRATE_TOKEN_BYTES || !all_hex(tok[3], strlen(tok[3])))
		return havm_err_set(e, HAVM_E_FORMAT, -EINVAL, "offer: token is not %d lowercase hex digits",
				    2 * HAVM_MIGRATE_TOKEN_BYTES);
	o->port = (unsigned)port;
	memcpy(o->token, tok[3], sizeof(o->token));
	for (unsigned i = 4; i < n; i++) {
		struct in_addr a;
		if (inet_pton(AF_INET, tok[i], &a) != 1)
			return havm_err_set(e, HAVM_E_FORMAT, -EINVAL, "offer: address %u \"%.20s\" is not IPv4",
					    i - 3, tok[i]);
		inet_ntop(AF_INET, &a, o->addrs[o->n_addrs++], INET_ADDRSTRLEN);
	}
	return 0;
}

int havm_migrate_offer_format(const struct havm_migrate_offer *o, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, HAVM_MIGRATE_OFFER_MAGIC " %u %s", o->port, o->token);
	for (unsigned i = 0; i < o->n_addrs && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, " %s", o->addrs[i]);
	if (n < len)
		n += (size_t)snprintf(buf + n, len - n, "\n");
	return n >= len ? -ENOSPC : (int)n;
}
