/* havm — GPT partition names: UTF-16LE on disk, UTF-8 in memory. */
#include "iscsi/gpt_int.h"

#include <errno.h>
#include <string.h>

/* Decodes one UTF-8 sequence at @s; returns its length (1..4) and the code
 * point, or -EINVAL for malformed, overlong, surrogate or NUL input. */
static int utf8_next(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	int len;
	uint32_t v, min;
	if (c == 0)
		return -EINVAL;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0)
		len = 2, v = c & 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		len = 3, v = c & 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		len = 4, v = c & 0x07, min = 0x10000;
	else
		return -EINVAL;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -EINVAL;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return -EINVAL;
	*cp = v;
	return len;
}

int gpt_name_check(const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	unsigned units = 0;
	while (*s) {
		uint32_t cp;
		int n = utf8_next(s, &cp);
		if (n < 0)
			return -EINVAL;
		units += cp >= 0x10000 ? 2 : 1;
		if (units > GPT_NAME_UNITS)
			return -EINVAL;
		s += n;
	}
	return 0;
}

static size_t utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

int gpt_name_decode(const uint8_t in[GPT_NAME_UNITS * 2], char out[GPT_NAME_MAX + 1])
{
	size_t o = 0;
	for (unsigned i = 0; i < GPT_NAME_UNITS; i++) {
		uint32_t u = (uint32_t)in[2 * i] | (uint32_t)in[2 * i + 1] << 8;
		if (u == 0)
			break;
		if (u >= 0xdc00 && u <= 0xdfff)
			return -EINVAL;
		if (u >= 0xd800 && u <= 0xdbff) {
			if (i + 1 >= GPT_NAME_UNITS)
				return -EINVAL;
			uint32_t l = (uint32_t)in[2 * i + 2] | (uint32_t)in[2 * i + 3] << 8;
			if (l < 0xdc00 || l > 0xdfff)
				return -EINVAL;
			u = 0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00);
			i++;
		}
		o += utf8_put(out + o, u);
	}
	out[o] = '\0';
	return 0;
}

void gpt_name_encode(const char *name, uint8_t out[GPT_NAME_UNITS * 2])
{
	memset(out, 0, GPT_NAME_UNITS * 2);
	const unsigned char *s = (const unsigned char *)name;
	unsigned i = 0;
	while (*s && i < GPT_NAME_UNITS) {
		uint32_t cp;
		int n = utf8_next(s, &cp);
		if (n < 0)
			break;
		s += n;
		if (cp >= 0x10000) {
			if (i + 2 > GPT_NAME_UNITS)
				break;
			uint32_t v = cp - 0x10000, hi = 0xd800 + (v >> 10), lo = 0xdc00 + (v & 0x3ff);
			out[2 * i] = (uint8_t)hi, out[2 * i + 1] = (uint8_t)(hi >> 8);
			out[2 * i + 2] = (uint8_t)lo, out[2 * i + 3] = (uint8_t)(lo >> 8);
			i += 2;
		} else {
			out[2 * i] = (uint8_t)cp, out[2 * i + 1] = (uint8_t)(cp >> 8);
			i++;
		}
	}
}
