/* SPDX-License-Identifier: GPL-2.0 */
/*
 * json_writer: a small streaming JSON writer, after iproute2's
 * lib/json_writer.c.  It places the separators, checks the nesting and
 * escapes strings; the caller says what comes next.  The layout is
 * closestat's: a whole document on one line, ", " between members and
 * elements, ": " after a name, and a newline once the outermost object or
 * array is closed (so that -i -j prints JSON Lines).
 */
#ifndef JSON_WRITER_H
#define JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSONW_MAX_DEPTH	8

struct jsonw {
	FILE *out;
	unsigned int depth;
	bool named;			/* a name is written, its value is next */
	bool empty[JSONW_MAX_DEPTH];	/* nothing in this object/array yet */
	char close[JSONW_MAX_DEPTH];	/* '}' or ']' */
};

void jsonw_init(struct jsonw *w, FILE *out);

void jsonw_start_object(struct jsonw *w);
void jsonw_end_object(struct jsonw *w);
void jsonw_start_array(struct jsonw *w);
void jsonw_end_array(struct jsonw *w);

/* The name of the next member of the current object. */
void jsonw_name(struct jsonw *w, const char *name);

/*
 * A string value.  '"', '\\' and the control characters are escaped
 * ("\u000a"), bytes that are not UTF-8 become "\ufffd"; the rest is
 * written as it is.
 */
void jsonw_string(struct jsonw *w, const char *s);
void jsonw_u64(struct jsonw *w, uint64_t v);
void jsonw_null(struct jsonw *w);
void jsonw_bool(struct jsonw *w, bool v);

/* A number as fmt prints it ("%.3f"); fmt must make a JSON number. */
__attribute__((format(printf, 2, 3)))
void jsonw_number(struct jsonw *w, const char *fmt, ...);

/* name, then value */
void jsonw_string_field(struct jsonw *w, const char *name, const char *s);
void jsonw_u64_field(struct jsonw *w, const char *name, uint64_t v);

#endif /* JSON_WRITER_H */
