// SPDX-License-Identifier: GPL-2.0
/*
 * weavectl: escaping names for text and JSON output (escape.h).
 *
 * Both forms decide per UTF-8 character, and the decision does not
 * depend on the locale or on whether the output is a terminal: the same
 * registry prints the same way everywhere, and a script sees what a
 * person sees.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <stdint.h>
#include <stdlib.h>

#include "escape.h"

/*
 * The valid UTF-8 sequence at @p: its length (1..4) with its code point
 * in *@cp, or 0. A NUL ends a truncated sequence, as it is no
 * continuation byte.
 */
static int utf8_char(const unsigned char *p, uint32_t *cp)
{
	int n, i;

	if (*p < 0x80) {
		*cp = *p;
		return 1;
	}
	if ((*p & 0xe0) == 0xc0) {
		n = 2;
		*cp = *p & 0x1f;
	} else if ((*p & 0xf0) == 0xe0) {
		n = 3;
		*cp = *p & 0x0f;
	} else if ((*p & 0xf8) == 0xf0) {
		n = 4;
		*cp = *p & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are invalid. */
	if ((n == 2 && *cp < 0x80) || (n == 3 && *cp < 0x800) ||
	    (n == 4 && *cp < 0x10000) || *cp > 0x10ffff ||
	    (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

/* C0, DEL and C1: what a terminal acts on instead of showing. */
static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

size_t escape_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t cols = 0;
	uint32_t cp;
	int n, i;

	for (; *p; p += n) {
		n = utf8_char(p, &cp);
		if (*p == '\\') {
			fputs("\\\\", f);
			cols += 2;
		} else if (!n || is_control(cp)) {
			/* Each byte; of an invalid sequence, the first only. */
			n = n ? n : 1;
			for (i = 0; i < n; i++)
				fprintf(f, "\\x%02x", p[i]);
			cols += 4 * (size_t)n;
		} else {
			fwrite(p, 1, (size_t)n, f);
			cols++;
		}
	}
	return cols;
}

void escape_vprintf(FILE *f, const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0) {
		/* Out of memory: the unexpanded message says at least what. */
		escape_text(f, fmt);
		return;
	}
	escape_text(f, msg);
	free(msg);
}

void escape_json_member(FILE *f, const char *key, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	bool valid = true;
	uint32_t cp;
	int n;

	fprintf(f, "\"%s\":\"", key);
	for (; *p; p += n) {
		n = utf8_char(p, &cp);
		if (!n) {
			fputs("\xef\xbf\xbd", f);	/* U+FFFD */
			valid = false;
			n = 1;
		} else if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p);
		} else if (*p == '\n') {
			fputs("\\n", f);
		} else if (*p == '\t') {
			fputs("\\t", f);
		} else if (is_control(cp)) {
			fprintf(f, "\\u%04x", (unsigned int)cp);
		} else {
			fwrite(p, 1, (size_t)n, f);
		}
	}
	fputc('"', f);
	if (valid)
		return;
	fprintf(f, ",\"%s_hex\":\"", key);
	for (p = (const unsigned char *)s; *p; p++)
		fprintf(f, "%02x", *p);
	fputc('"', f);
}
