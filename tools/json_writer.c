// SPDX-License-Identifier: GPL-2.0
/*
 * json_writer: a small streaming JSON writer (see json_writer.h).
 *
 * Misuse (a value where a name is due, a name in an array, closing what
 * was not opened, nesting deeper than JSONW_MAX_DEPTH) is a bug in the
 * caller and stops the program in assert().
 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>

#include "json_writer.h"

void jsonw_init(struct jsonw *w, FILE *out)
{
	w->out = out;
	w->depth = 0;
	w->named = false;
}

static bool in_object(const struct jsonw *w)
{
	return w->depth && w->close[w->depth - 1] == '}';
}

/* Before a value or a name: the ", " after the previous one. */
static void jsonw_sep(struct jsonw *w)
{
	if (w->named) {
		w->named = false;
		return;
	}
	if (!w->depth)
		return;
	if (!w->empty[w->depth - 1])
		fputs(", ", w->out);
	w->empty[w->depth - 1] = false;
}

/* Before a value: in an object, its name must have been written. */
static void jsonw_value(struct jsonw *w)
{
	assert(w->named || !in_object(w));
	jsonw_sep(w);
}

static void jsonw_start(struct jsonw *w, char open, char close)
{
	jsonw_value(w);
	assert(w->depth < JSONW_MAX_DEPTH);
	w->empty[w->depth] = true;
	w->close[w->depth] = close;
	w->depth++;
	putc(open, w->out);
}

static void jsonw_end(struct jsonw *w, char close)
{
	assert(w->depth && w->close[w->depth - 1] == close && !w->named);
	w->depth--;
	putc(close, w->out);
	if (!w->depth)
		putc('\n', w->out);
}

void jsonw_start_object(struct jsonw *w)
{
	jsonw_start(w, '{', '}');
}

void jsonw_end_object(struct jsonw *w)
{
	jsonw_end(w, '}');
}

void jsonw_start_array(struct jsonw *w)
{
	jsonw_start(w, '[', ']');
}

void jsonw_end_array(struct jsonw *w)
{
	jsonw_end(w, ']');
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0.  A NUL ends any
 * sequence, so s is never read past its end.
 */
static unsigned int utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	unsigned int n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	if (s[0] < 0xe0) {
		n = 2;
	} else if (s[0] < 0xf0) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	}
	for (i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
		if (s[i] < lo || s[i] > hi)
			return 0;
	return n;
}

static bool needs_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

static void jsonw_quoted(struct jsonw *w, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned int n, len;

	putc('"', w->out);
	for (;;) {
		/* what goes out as it is, in one piece */
		for (len = 0; !needs_escape(s[len]) && (n = utf8_len(s + len));)
			len += n;
		fwrite(s, 1, len, w->out);
		s += len;
		if (!*s)
			break;
		if (*s == '"' || *s == '\\')
			fprintf(w->out, "\\%c", *s);
		else if (*s < 0x20)
			fprintf(w->out, "\\u%04x", *s);
		else
			fputs("\\ufffd", w->out);
		s++;
	}
	putc('"', w->out);
}

void jsonw_name(struct jsonw *w, const char *name)
{
	assert(in_object(w) && !w->named);
	jsonw_sep(w);
	jsonw_quoted(w, name);
	fputs(": ", w->out);
	w->named = true;
}

void jsonw_string(struct jsonw *w, const char *s)
{
	jsonw_value(w);
	jsonw_quoted(w, s);
}

void jsonw_u64(struct jsonw *w, uint64_t v)
{
	jsonw_value(w);
	fprintf(w->out, "%" PRIu64, v);
}

void jsonw_null(struct jsonw *w)
{
	jsonw_value(w);
	fputs("null", w->out);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	jsonw_value(w);
	fputs(v ? "true" : "false", w->out);
}

void jsonw_number(struct jsonw *w, const char *fmt, ...)
{
	va_list ap;

	jsonw_value(w);
	va_start(ap, fmt);
	vfprintf(w->out, fmt, ap);
	va_end(ap);
}

void jsonw_string_field(struct jsonw *w, const char *name, const char *s)
{
	jsonw_name(w, name);
	jsonw_string(w, s);
}

void jsonw_u64_field(struct jsonw *w, const char *name, uint64_t v)
{
	jsonw_name(w, name);
	jsonw_u64(w, v);
}
