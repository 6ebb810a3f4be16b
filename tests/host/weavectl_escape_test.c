// SPDX-License-Identifier: GPL-2.0
/*
 * weavectl's name escaping (tools/weavectl/escape.c), on the host: the
 * text form of control characters, backslashes and invalid UTF-8, the
 * column count, and the JSON form with its "_hex" member. KTAP output;
 * exit 1 on a failure.
 *
 * Copyright (C) 2026 The weave authors
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/weavectl/escape.h"

static int tests, failed;

static void check(int cond, const char *name, const char *got)
{
	tests++;
	if (!cond)
		failed++;
	printf("%sok %d %s\n", cond ? "" : "not ", tests, name);
	if (!cond)
		printf("# got: %s\n", got);
}

/*
 * What @emit writes for @in is @want, and it returns @ret (escape_text()
 * returns the width; the other emitters 0).
 */
static void expect(const char *name, size_t (*emit)(FILE *, const char *),
		   const char *in, const char *want, size_t ret)
{
	char *out = NULL;
	size_t len, n = 0;
	FILE *f = open_memstream(&out, &len);

	if (f) {
		n = emit(f, in);
		fclose(f);
	}
	check(f && !strcmp(out, want) && n == ret, name,
	      f ? out : "open_memstream failed");
	free(out);
}

static size_t json_name(FILE *f, const char *in)
{
	escape_json_member(f, "name", in);
	return 0;
}

__attribute__((format(printf, 2, 3)))
static void message(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	escape_vprintf(f, fmt, ap);
	va_end(ap);
}

/* An error message of weavectl's with @in as its name argument. */
static size_t get_message(FILE *f, const char *in)
{
	message(f, "get %s %d: bad", in, 1);
	return 0;
}

/* escape_text(): the text form and its width. */
static const struct {
	const char *name, *in, *want;
	size_t cols;
} text_cases[] = {
	{ "text_plain", "demo-1_x.y", "demo-1_x.y", 10 },
	{ "text_utf8_unchanged", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 8 },
	{ "text_c0_del", "a\nb\tc\x1b[1m\x7f", "a\\x0ab\\x09c\\x1b[1m\\x7f",
	  22 },
	{ "text_backslash", "a\\x0a", "a\\\\x0a", 6 },
	/* C1 raw (invalid UTF-8) and UTF-8 encoded (U+0085, U+009B). */
	{ "text_c1", "\x85|\xc2\x85|\xc2\x9b", "\\x85|\\xc2\\x85|\\xc2\\x9b",
	  22 },
	/* U+00A0 is the first character after C1: printed. */
	{ "text_after_c1", "\xc2\xa0", "\xc2\xa0", 1 },
	{ "text_invalid_bytes", "\xff\xfe\xc0\xaf", "\\xff\\xfe\\xc0\\xaf",
	  16 },
	/* A sequence cut short: each byte, the next character kept. */
	{ "text_truncated", "\xe2\x82z\xe2\x82", "\\xe2\\x82z\\xe2\\x82",
	  17 },
	/* Surrogates and code points past U+10FFFF are not UTF-8. */
	{ "text_surrogate", "\xed\xa0\x80", "\\xed\\xa0\\x80", 12 },
	{ "text_above_10ffff", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80",
	  16 },
};

/* escape_json_member() and escape_vprintf(): the output only. */
static const struct {
	const char *name;
	size_t (*emit)(FILE *f, const char *in);
	const char *in, *want;
} other_cases[] = {
	{ "json_plain", json_name, "demo", "\"name\":\"demo\"" },
	{ "json_utf8_unchanged", json_name, "caf\xc3\xa9",
	  "\"name\":\"caf\xc3\xa9\"" },
	{ "json_escapes", json_name, "q\"b\\n\nt\t\x01\x7f",
	  "\"name\":\"q\\\"b\\\\n\\nt\\t\\u0001\\u007f\"" },
	/* U+0085 is valid UTF-8: escaped, and exact without a _hex. */
	{ "json_c1_utf8", json_name, "a\xc2\x85", "\"name\":\"a\\u0085\"" },
	/* Not UTF-8: U+FFFD per byte, and the bytes in hex. */
	{ "json_invalid", json_name, "a\xff\x85\n",
	  "\"name\":\"a\xef\xbf\xbd\xef\xbf\xbd\\n\",\"name_hex\":\"61ff850a\"" },
	/* A real U+FFFD is valid UTF-8: no _hex. */
	{ "json_real_fffd", json_name, "\xef\xbf\xbd",
	  "\"name\":\"\xef\xbf\xbd\"" },
	{ "json_overlong", json_name, "\xc0\xaf",
	  "\"name\":\"\xef\xbf\xbd\xef\xbf\xbd\",\"name_hex\":\"c0af\"" },
	{ "vprintf_escapes_args", get_message, "a\x1b]0;x\x07\\",
	  "get a\\x1b]0;x\\x07\\\\ 1: bad" },
	{ "vprintf_utf8_unchanged", get_message, "caf\xc3\xa9",
	  "get caf\xc3\xa9 1: bad" },
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

int main(void)
{
	size_t i;

	printf("KTAP version 1\n1..%zu\n",
	       ARRAY_SIZE(text_cases) + ARRAY_SIZE(other_cases));
	for (i = 0; i < ARRAY_SIZE(text_cases); i++)
		expect(text_cases[i].name, escape_text, text_cases[i].in,
		       text_cases[i].want, text_cases[i].cols);
	for (i = 0; i < ARRAY_SIZE(other_cases); i++)
		expect(other_cases[i].name, other_cases[i].emit,
		       other_cases[i].in, other_cases[i].want, 0);
	return failed ? 1 : 0;
}
