/* SPDX-License-Identifier: GPL-2.0 */
/*
 * weavectl: how strings from the kernel and the command line are printed
 * (escape.c). Registry names are any bytes but NUL and '/', so none is
 * printed raw: text output escapes what a terminal would act on or
 * mangle, JSON output stays valid and lossless.
 *
 * Copyright (C) 2026 The weave authors
 */
#ifndef WEAVECTL_ESCAPE_H
#define WEAVECTL_ESCAPE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Write @s with each backslash as \\ and, as \xHH (two lowercase hex
 * digits), each byte of a control character (C0, DEL, and C1 either as a
 * raw byte or UTF-8 encoded) or of an invalid UTF-8 sequence. Anything
 * else, printable UTF-8 included, is written as it is. Returns the
 * number of characters written (a UTF-8 character counts one), for
 * column alignment. The result reads back with printf %b or bash's $'...'.
 */
size_t escape_text(FILE *f, const char *s);

/* escape_text() of a whole printf-style message. */
__attribute__((format(printf, 2, 0)))
void escape_vprintf(FILE *f, const char *fmt, va_list ap);

/*
 * Write the JSON member "@key":"@s" (no leading comma). The string
 * escapes what JSON requires and control characters (C0, DEL and C1, as
 * \u00HH); a byte that is not part of valid UTF-8 becomes U+FFFD. When @s
 * is not valid UTF-8 a second member follows, ,"@key_hex":"...", with
 * every byte of @s as two lowercase hex digits, so that @s can be
 * recovered exactly; its absence means the string itself is exact.
 */
void escape_json_member(FILE *f, const char *key, const char *s);

#endif /* WEAVECTL_ESCAPE_H */
