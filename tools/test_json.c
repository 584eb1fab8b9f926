// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of json_writer, KTAP output (kselftest.h): each test writes
 * into a memory stream and compares the bytes with what closestat's
 * layout and RFC 8259 want.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest.h"
#include "json_writer.h"

static struct jsonw w;
static FILE *mem;
static char *buf;
static size_t len;

static void begin(void)
{
	mem = open_memstream(&buf, &len);
	if (!mem)
		ksft_exit_fail_perror("open_memstream");
	jsonw_init(&w, mem);
}

/* What was written since begin() is exactly want. */
static bool written(const char *want)
{
	bool ok;

	if (fclose(mem))
		ksft_exit_fail_perror("fclose");
	ok = len == strlen(want) && !memcmp(buf, want, len);
	if (!ok)	/* without the final newline, to stay one line each */
		ksft_print_msg("got  '%.*s'\n# want '%.*s'\n",
			       (int)strcspn(buf, "\n"), buf,
			       (int)strcspn(want, "\n"), want);
	free(buf);
	return ok;
}

/* One string as the only element of an array. */
static bool string_is(const char *s, const char *want)
{
	begin();
	jsonw_start_array(&w);
	jsonw_string(&w, s);
	jsonw_end_array(&w);
	return written(want);
}

static bool empty_object(void)
{
	begin();
	jsonw_start_object(&w);
	jsonw_end_object(&w);
	return written("{}\n");
}

static bool empty_array(void)
{
	begin();
	jsonw_start_array(&w);
	jsonw_end_array(&w);
	return written("[]\n");
}

/* closestat's layout: ", " between members, ": " after names */
static bool members(void)
{
	begin();
	jsonw_start_object(&w);
	jsonw_u64_field(&w, "version", 1);
	jsonw_name(&w, "ports");
	jsonw_start_array(&w);
	jsonw_start_object(&w);
	jsonw_string_field(&w, "side", "local");
	jsonw_u64_field(&w, "port", 80);
	jsonw_name(&w, "rate");
	jsonw_start_object(&w);
	jsonw_name(&w, "time_wait");
	jsonw_number(&w, "%.3f", 2.5);
	jsonw_end_object(&w);
	jsonw_end_object(&w);
	jsonw_start_object(&w);
	jsonw_end_object(&w);
	jsonw_end_array(&w);
	jsonw_end_object(&w);
	return written("{\"version\": 1, \"ports\": [{\"side\": \"local\", "
		       "\"port\": 80, \"rate\": {\"time_wait\": 2.500}}, {}]}\n");
}

/* Eight levels, JSONW_MAX_DEPTH, with empty ones among them. */
static bool nesting(void)
{
	begin();
	jsonw_start_array(&w);
	jsonw_start_object(&w);
	jsonw_name(&w, "a");
	jsonw_start_array(&w);
	jsonw_start_array(&w);
	jsonw_end_array(&w);
	jsonw_start_object(&w);
	jsonw_name(&w, "b");
	jsonw_start_array(&w);
	jsonw_start_object(&w);
	jsonw_name(&w, "c");
	jsonw_start_array(&w);
	jsonw_start_object(&w);
	jsonw_end_object(&w);
	jsonw_u64(&w, 0);
	jsonw_end_array(&w);
	jsonw_end_object(&w);
	jsonw_end_array(&w);
	jsonw_end_object(&w);
	jsonw_end_array(&w);
	jsonw_end_object(&w);
	jsonw_u64(&w, 1);
	jsonw_end_array(&w);
	return written("[{\"a\": [[], {\"b\": [{\"c\": [{}, 0]}]}]}, 1]\n");
}

/* -i -j: one document per line */
static bool json_lines(void)
{
	begin();
	jsonw_start_object(&w);
	jsonw_end_object(&w);
	jsonw_start_array(&w);
	jsonw_u64(&w, 7);
	jsonw_end_array(&w);
	return written("{}\n[7]\n");
}

static bool u64_limits(void)
{
	begin();
	jsonw_start_array(&w);
	jsonw_u64(&w, 0);
	jsonw_u64(&w, UINT64_MAX);
	jsonw_end_array(&w);
	return written("[0, 18446744073709551615]\n");
}

static bool null_value(void)
{
	begin();
	jsonw_start_object(&w);
	jsonw_name(&w, "name");
	jsonw_null(&w);
	jsonw_name(&w, "pid");
	jsonw_u64(&w, 1);
	jsonw_end_object(&w);
	return written("{\"name\": null, \"pid\": 1}\n");
}

static bool bools(void)
{
	begin();
	jsonw_start_object(&w);
	jsonw_name(&w, "yes");
	jsonw_bool(&w, true);
	jsonw_name(&w, "no");
	jsonw_bool(&w, false);
	jsonw_end_object(&w);
	return written("{\"yes\": true, \"no\": false}\n");
}

static bool number_fmt(void)
{
	begin();
	jsonw_start_object(&w);
	jsonw_name(&w, "time");
	jsonw_number(&w, "%lld.%03ld", 1700000000LL, 5L);
	jsonw_name(&w, "interval");
	jsonw_number(&w, "%.3f", 0.2004);
	jsonw_end_object(&w);
	return written("{\"time\": 1700000000.005, \"interval\": 0.200}\n");
}

static bool quote_backslash(void)
{
	return string_is("a\"b\\c\\\"", "[\"a\\\"b\\\\c\\\\\\\"\"]\n");
}

/* Every byte 0x01-0x1f as \u00XX, in one string. */
static bool control_chars(void)
{
	char s[32], want[sizeof("[\"\"]\n") + 31 * 6], *p = want;
	unsigned int c;

	p += sprintf(p, "[\"");
	for (c = 1; c < 0x20; c++) {
		s[c - 1] = c;
		p += sprintf(p, "\\u%04x", c);
	}
	s[31] = '\0';
	sprintf(p, "\"]\n");
	return string_is(s, want);
}

/* 0x20-0x7f but '"' and '\\', DEL included, are written as they are. */
static bool plain_ascii(void)
{
	char s[0x80], want[0x80 + 8], *p = s;
	unsigned int c;

	for (c = 0x20; c < 0x80; c++)
		if (c != '"' && c != '\\')
			*p++ = c;
	*p = '\0';
	snprintf(want, sizeof(want), "[\"%s\"]\n", s);
	return string_is(s, want);
}

static bool utf8_kept(void)
{
	/* U+00E9, U+20AC, U+FFFD, U+10FFFF, U+1F600 */
	static const char s[] = "\xc3\xa9\xe2\x82\xac\xef\xbf\xbd"
				"\xf4\x8f\xbf\xbf\xf0\x9f\x98\x80";

	return string_is(s, "[\"" "\xc3\xa9\xe2\x82\xac\xef\xbf\xbd"
			    "\xf4\x8f\xbf\xbf\xf0\x9f\x98\x80" "\"]\n");
}

/*
 * Not UTF-8, one U+FFFD per byte: a lone continuation byte, an overlong
 * '/', a surrogate, above U+10FFFF, 0xff, and a sequence cut short by the
 * end (as a 15-byte comm can cut one).
 */
static bool utf8_replaced(void)
{
	return string_is("\x80" "a" "\xc0\xaf" "\xed\xa0\x80" "\xf4\x90\x80\x80"
			 "\xff" "\xe2\x82",
			 "[\"\\ufffd" "a" "\\ufffd\\ufffd"
			 "\\ufffd\\ufffd\\ufffd" "\\ufffd\\ufffd\\ufffd\\ufffd"
			 "\\ufffd" "\\ufffd\\ufffd\"]\n");
}

static bool name_escaped(void)
{
	begin();
	jsonw_start_object(&w);
	jsonw_u64_field(&w, "a\"b", 1);
	jsonw_string_field(&w, "\\\n", "");
	jsonw_end_object(&w);
	return written("{\"a\\\"b\": 1, \"\\\\\\u000a\": \"\"}\n");
}

static const struct {
	bool (*fn)(void);
	const char *name;
} tests[] = {
	{ empty_object,		"empty_object" },
	{ empty_array,		"empty_array" },
	{ members,		"members" },
	{ nesting,		"nesting" },
	{ json_lines,		"json_lines" },
	{ u64_limits,		"u64_limits" },
	{ null_value,		"null_value" },
	{ bools,		"bools" },
	{ number_fmt,		"number_fmt" },
	{ quote_backslash,	"quote_backslash" },
	{ control_chars,	"control_chars" },
	{ plain_ascii,		"plain_ascii" },
	{ utf8_kept,		"utf8_kept" },
	{ utf8_replaced,	"utf8_replaced" },
	{ name_escaped,		"name_escaped" },
};

int main(void)
{
	unsigned int i;

	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(tests));
	for (i = 0; i < ARRAY_SIZE(tests); i++)
		ksft_test_result(tests[i].fn(), "%s\n", tests[i].name);
	ksft_finished();
}
