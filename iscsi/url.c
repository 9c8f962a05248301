/* havm — iscsi:// URL parsing with messages that say which part is wrong.
 * Our own parser rather than iscsi_parse_full_url so errors name the part,
 * the password never reaches a message, and IPv6 portals are checked. */
#include "iscsi/lun.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEME "iscsi://"

static int bad(struct havm_err *err, const char *part, const char *fmt, const char *found)
{
	char what[256];
	snprintf(what, sizeof(what), fmt, found);
	return havm_err_set(err, HAVM_E_CONFIG, -EINVAL, "iscsi URL: bad %s: %s", part, what);
}

/* Copies [s, s+n) into dst (size cap); -1 if too long. */
static int copy_part(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* Decimal in [lo, hi], the whole string. */
static int parse_uint(const char *s, long lo, long hi, long *out)
{
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
		return -1;
	long v = strtol(s, NULL, 10);
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_userinfo(const char *s, size_t n, struct lun_url *u, struct havm_err *err)
{
	const char *pct = memchr(s, '%', n);
	size_t ulen = pct ? (size_t)(pct - s) : n;
	if (ulen == 0)
		return bad(err, "user", "%s", "empty user name before '%' or '@' (expected user%password@)");
	if (copy_part(u->user, sizeof(u->user), s, ulen) < 0)
		return bad(err, "user", "%s", "longer than 255 bytes");
	if (pct) {
		size_t plen = n - ulen - 1;
		if (plen == 0)
			return bad(err, "password", "%s", "empty after '%'");
		if (copy_part(u->password, sizeof(u->password), pct + 1, plen) < 0)
			return bad(err, "password", "%s", "longer than 255 bytes");
	}
	return 0;
}

static int parse_hostport(const char *s, size_t n, struct lun_url *u, struct havm_err *err)
{
	char buf[300];
	if (copy_part(buf, sizeof(buf), s, n) < 0)
		return bad(err, "host", "%s", "longer than 255 bytes");
	char *port = NULL;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (!close)
			return bad(err, "host", "'%s': '[' without ']' (IPv6 form is [addr]:port)", buf);
		*close = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return bad(err, "host", "'%s': expected ':' or '/' after ']'", close + 1);
		if (strspn(buf + 1, "0123456789abcdefABCDEF:.") != strlen(buf + 1) || !buf[1])
			return bad(err, "host", "'%s' is not an IPv6 address", buf + 1);
		snprintf(u->host, sizeof(u->host), "%s", buf + 1);
	} else {
		char *colon = strchr(buf, ':');
		if (colon) {
			if (strchr(colon + 1, ':'))
				return bad(err, "host", "'%s': IPv6 addresses need brackets: [addr]:port", buf);
			*colon = '\0';
			port = colon + 1;
		}
		if (!buf[0])
			return bad(err, "host", "%s", "empty (expected iscsi://host[:port]/iqn/lun)");
		if (strspn(buf, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != strlen(buf))
			return bad(err, "host", "'%s' has characters a host name cannot have", buf);
		snprintf(u->host, sizeof(u->host), "%s", buf);
	}
	u->port = 3260;
	if (port) {
		long p;
		if (parse_uint(port, 1, 65535, &p) < 0)
			return bad(err, "port", "'%s' (expected a number 1..65535)", port);
		u->port = (int)p;
	}
	if (strchr(u->host, ':'))
		snprintf(u->portal, sizeof(u->portal), "[%s]:%d", u->host, u->port);
	else
		snprintf(u->portal, sizeof(u->portal), "%s:%d", u->host, u->port);
	return 0;
}

static int parse_target(const char *s, struct lun_url *u, struct havm_err *err)
{
	if (!*s)
		return bad(err, "target name", "%s", "missing (expected /iqn.YYYY-MM.domain:name/lun)");
	if (copy_part(u->target, sizeof(u->target), s, strlen(s)) < 0)
		return bad(err, "target name", "%s", "longer than 223 bytes");
	if (strncmp(s, "iqn.", 4) != 0 && strncmp(s, "eui.", 4) != 0 && strncmp(s, "naa.", 4) != 0)
		return bad(err, "target name", "'%s' (expected a name starting with iqn., eui. or naa.)", s);
	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p == '%' || *p == '@' || *p == '?')
			return bad(err, "target name", "'%s' contains a space or one of %%@?", s);
	return 0;
}

static int parse_option(char *opt, struct lun_url *u, struct havm_err *err)
{
	char *eq = strchr(opt, '=');
	if (!eq)
		return bad(err, "option", "'%s' (expected name=value)", opt);
	*eq = '\0';
	const char *v = eq + 1;
	if (strcmp(opt, "target_user") == 0)
		snprintf(u->target_user, sizeof(u->target_user), "%s", v);
	else if (strcmp(opt, "target_password") == 0)
		snprintf(u->target_password, sizeof(u->target_password), "%s", v);
	else if (strcmp(opt, "header_digest") == 0) {
		static const char *const names[] = { "none-crc32c", "none", "crc32c", "crc32c-none" };
		unsigned i;
		for (i = 0; i < 4; i++)
			if (strcmp(v, names[i]) == 0)
				break;
		if (i == 4)
			return bad(err, "option", "header_digest='%s' (expected none, crc32c, none-crc32c or crc32c-none)", v);
		u->digest = (enum lun_digest)i;
	} else if (strcmp(opt, "io_deadline") == 0) {
		char *end = NULL;
		long s = strtol(v, &end, 10);
		if (!*v || *end || s < 0 || s > 86400)
			return bad(err, "option", "io_deadline='%s' (expected seconds, 0..86400)", v);
		u->io_deadline_s = (int)s;
	} else
		return bad(err, "option", "'%s' (known: target_user, target_password, header_digest, io_deadline)",
			   opt);
	return 0;
}

int lun_url_parse(const char *url, struct lun_url *u, struct havm_err *err)
{
	memset(u, 0, sizeof(*u));
	u->io_deadline_s = -1;
	if (!url || !*url)
		return bad(err, "URL", "%s", "empty (expected iscsi://[user%password@]host[:port]/iqn/lun)");
	if (strlen(url) >= LUN_URL_MAX)
		return bad(err, "URL", "%s", "longer than 1023 bytes");
	if (strncmp(url, SCHEME, strlen(SCHEME)) != 0) {
		char head[24];
		snprintf(head, sizeof(head), "%.16s", url);
		return bad(err, "scheme", "'%s...' (expected iscsi://)", head);
	}
	char buf[LUN_URL_MAX];
	snprintf(buf, sizeof(buf), "%s", url + strlen(SCHEME));

	char *query = strchr(buf, '?');
	if (query)
		*query++ = '\0';
	char *path = strchr(buf, '/');
	if (!path)
		return bad(err, "URL", "%s", "no '/target-iqn/lun' after the host");
	*path++ = '\0';

	/* authority: [userinfo@]host[:port]; the last '@' ends the userinfo so a
	 * password may contain '@'. */
	char *at = strrchr(buf, '@');
	const char *hp = buf;
	if (at) {
		int rc = parse_userinfo(buf, (size_t)(at - buf), u, err);
		if (rc < 0)
			return rc;
		hp = at + 1;
	}
	int rc = parse_hostport(hp, strlen(hp), u, err);
	if (rc < 0)
		return rc;

	char *slash = strrchr(path, '/');
	if (!slash)
		return bad(err, "lun", "%s", "missing (expected /target-iqn/lun, e.g. /iqn.2024-01.org.example:disk0/1)");
	*slash = '\0';
	const char *lunstr = slash + 1;
	rc = parse_target(path, u, err);
	if (rc < 0)
		return rc;
	long lun;
	if (parse_uint(lunstr, 0, 16383, &lun) < 0)
		return bad(err, "lun", "'%s' (expected a number 0..16383)", lunstr);
	u->lun = (int)lun;

	for (char *save = NULL, *opt = query ? strtok_r(query, "&", &save) : NULL; opt;
	     opt = strtok_r(NULL, "&", &save)) {
		rc = parse_option(opt, u, err);
		if (rc < 0)
			return rc;
	}
	if (!u->user[0] && u->password[0])
		return bad(err, "user", "%s", "password given without a user");
	if (!!u->target_user[0] != !!u->target_password[0])
		return bad(err, "option", "%s", "target_user and target_password go together (mutual CHAP)");
	if (u->target_user[0] && !u->user[0])
		return bad(err, "option", "%s", "mutual CHAP (target_user) needs a user%password@ too");
	return 0;
}

void lun_url_format(const struct lun_url *u, char *buf, size_t len)
{
	const char *open = strchr(u->host, ':') ? "[" : "";
	const char *close = *open ? "]" : "";
	snprintf(buf, len, "iscsi://%s%s%s%s%s:%d/%s/%d", u->user, u->user[0] ? "@" : "", open, u->host,
		 close, u->port, u->target, u->lun);
}
