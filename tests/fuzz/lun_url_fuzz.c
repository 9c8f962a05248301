/* libFuzzer target: iscsi:// URL parsing (iscsi/url.c) and formatting; the
 * formatted URL must parse again to the same parts, password excepted. */
#include "iscsi/lun.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct lun_url u, v;
	struct havm_err e;
	if (lun_url_parse(s, &u, &e) == 0) {
		char buf[LUN_URL_MAX + 64];
		lun_url_format(&u, buf, sizeof(buf));
		if (lun_url_parse(buf, &v, &e) == 0 &&
		    (strcmp(u.host, v.host) || u.port != v.port || strcmp(u.target, v.target) || u.lun != v.lun))
			abort();
	} else if (strlen(e.msg) == 0) {
		abort(); /* every refusal says why */
	}
	free(s);
	return 0;
}
