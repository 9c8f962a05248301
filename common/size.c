/* havm — size parsing and formatting; see size.h. */
#include "common/size.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>

int havm_size_parse(const char *text, uint64_t *bytes)
{
	if (!text || !isdigit((unsigned char)*text))
		return -EINVAL;
	uint64_t v = 0;
	const char *p = text;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	unsigned shift = 0;
	switch (toupper((unsigned char)*p)) {
	case '\0':
	case 'B':
		break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return -EINVAL;
	}
	if (*p) {
		const char *rest = p + 1;
		if (toupper((unsigned char)*p) == 'B') {
			if (*rest)
				return -EINVAL;
		} else if (*rest && strcasecmp(rest, "iB") != 0 && strcasecmp(rest, "B") != 0) {
			return -EINVAL;
		}
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*bytes = v << shift;
	return 0;
}

char *havm_size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;
	double v = (double)bytes;
	while (v >= 1024.0 && u < 4) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}
