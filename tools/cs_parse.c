// SPDX-License-Identifier: GPL-2.0
/*
 * cs_parse: strict parsers for /proc/net/tcp_closestat and
 * /proc/net/tcp_closestat_stat, and for closestat's option values.
 *
 * The table file is a header of column names, "side port" first, then one
 * row per (side, port), and after a side's ports its overflow row, port
 * "other", if the module's caps refused ports.  Anything that is not
 * exactly that is refused with
 * the line number and the problem: a reader must never show a wrong table.
 * Columns are found by name, and unknown columns appended by later
 * versions of the module are kept.  The histogram and socket files are
 * held to the same standard.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "cs_parse.h"

const char *const cs_side_names[TCS_NR_SIDES] = TCS_SIDE_NAMES;

const char *const cs_counter_names[TCS_NR_COUNTERS] = TCS_COUNTER_NAMES;

#define MAX_FIELDS	(CS_MAX_COLS + 2)
#define SHOW_LEN	24	/* bytes of a bad field quoted in a message */

struct field {
	const char *s;
	size_t len;
};

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Quote a field for a message: at most SHOW_LEN bytes, then "...". */
static const char *show(const struct field *f, char *buf, size_t buflen)
{
	if (f->len <= SHOW_LEN)
		snprintf(buf, buflen, "%.*s", (int)f->len, f->s);
	else
		snprintf(buf, buflen, "%.*s...", SHOW_LEN, f->s);
	return buf;
}

static bool field_is(const struct field *f, const char *s)
{
	return f->len == strlen(s) && !memcmp(f->s, s, f->len);
}

/* Unsigned decimal, no sign, no spaces.  0 ok, -1 not a number, -2 overflow. */
static int parse_u64(const struct field *f, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!f->len)
		return -1;
	for (i = 0; i < f->len; i++) {
		unsigned int d = (unsigned char)f->s[i] - '0';

		if (d > 9)
			return -1;
		if (v > UINT64_MAX / 10 ||
		    (v == UINT64_MAX / 10 && d > UINT64_MAX % 10)) {
			/* keep scanning: "9999999999999999999999x" is not a number */
			for (; i < f->len; i++)
				if ((unsigned char)f->s[i] - '0' > 9)
					return -1;
			return -2;
		}
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* A column or stat name: [a-z][a-z0-9_]*, at most CS_MAX_NAME bytes. */
static bool valid_name(const struct field *f)
{
	size_t i;

	if (!f->len || f->len > CS_MAX_NAME || f->s[0] < 'a' || f->s[0] > 'z')
		return false;
	for (i = 1; i < f->len; i++) {
		char c = f->s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

/*
 * Cut the next line out of buf[*pos..len).  Returns 0 at end of input, 1
 * with a line, -1 (err set) for a line that is unterminated or holds a
 * byte other than printable ASCII, space or tab.
 */
static int next_line(const char *buf, size_t len, size_t *pos,
		     unsigned long lineno, struct field *line,
		     char *err, size_t errlen)
{
	size_t i;

	if (*pos >= len)
		return 0;
	line->s = buf + *pos;
	for (i = *pos; i < len && buf[i] != '\n'; i++) {
		unsigned char c = buf[i];

		if (c != '\t' && (c < 0x20 || c > 0x7e))
			return fail(err, errlen, "line %lu: invalid byte 0x%02x",
				    lineno, c);
	}
	if (i == len)
		return fail(err, errlen,
			    "line %lu: truncated (no newline at end of file)",
			    lineno);
	line->len = i - *pos;
	*pos = i + 1;
	return 1;
}

/* Split on runs of spaces and tabs; -1 if more than max fields. */
static int split(const struct field *line, struct field *f, unsigned int max)
{
	const char *p = line->s, *end = line->s + line->len;
	unsigned int n = 0;

	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			return n;
		if (n == max)
			return -1;
		f[n].s = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		f[n].len = p - f[n].s;
		n++;
	}
}

int cs_table_col(const struct cs_table *t, const char *name)
{
	unsigned int c;

	for (c = 0; c < t->ncols; c++)
		if (!strcmp(t->cols[c], name))
			return c;
	return -1;
}

int cs_table_counter_of(const struct cs_table *t, unsigned int c)
{
	int k;

	for (k = 0; k < TCS_NR_COUNTERS; k++)
		if (t->counter_col[k] == (int)c)
			return k;
	return -1;
}

void cs_table_free(struct cs_table *t)
{
	free(t->rows);
	free(t->vals);
	t->rows = NULL;
	t->vals = NULL;
	t->nrows = t->cap = 0;
}

/* A new last row, zeroed (padding too: rows compare whole); NULL if no memory. */
static struct cs_row *new_row(struct cs_table *t)
{
	struct cs_row *r;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct cs_row *rows;
		uint64_t *vals;

		rows = realloc(t->rows, cap * sizeof(*rows));
		if (!rows)
			return NULL;
		t->rows = rows;
		vals = realloc(t->vals, cap * (t->ncols ? t->ncols : 1) *
				       sizeof(*vals));
		if (!vals)
			return NULL;
		t->vals = vals;
		t->cap = cap;
	}
	r = &t->rows[t->nrows];
	memset(r, 0, sizeof(*r));
	memset(cs_vals(t, t->nrows), 0, t->ncols * sizeof(uint64_t));
	t->nrows++;
	return r;
}

int cs_table_add_row(struct cs_table *t, unsigned int side,
		      unsigned int port)
{
	struct cs_row *r = new_row(t);

	if (!r)
		return -1;
	r->side = side;
	r->port = port;
	r->port_lo = port;
	r->port_hi = port;
	r->nports = 1;
	return 0;
}

int cs_table_add_other(struct cs_table *t, unsigned int side)
{
	struct cs_row *r = new_row(t);

	if (!r)
		return -1;
	r->side = side;
	r->other = true;
	return 0;
}

static int parse_header(const struct field *line, struct cs_table *t,
			char *err, size_t errlen)
{
	struct field f[MAX_FIELDS];
	char q[SHOW_LEN + 4];
	unsigned int c, k;
	int n;

	n = split(line, f, MAX_FIELDS);
	if (n < 0)
		return fail(err, errlen, "line 1: too many columns (at most %d)",
			    CS_MAX_COLS);
	if (n < 2 || !field_is(&f[0], TCS_COL_SIDE) ||
	    !field_is(&f[1], TCS_COL_PORT))
		return fail(err, errlen,
			    "line 1: header does not start with \""
			    TCS_COL_SIDE " " TCS_COL_PORT "\"");
	t->ncols = n - 2;
	for (c = 0; c < t->ncols; c++) {
		const struct field *name = &f[c + 2];

		if (!valid_name(name))
			return fail(err, errlen, "line 1: bad column name '%s'",
				    show(name, q, sizeof(q)));
		memcpy(t->cols[c], name->s, name->len);
		t->cols[c][name->len] = '\0';
		if (!strcmp(t->cols[c], TCS_COL_SIDE) ||
		    !strcmp(t->cols[c], TCS_COL_PORT) ||
		    cs_table_col(t, t->cols[c]) != (int)c)
			return fail(err, errlen, "line 1: duplicate column '%s'",
				    t->cols[c]);
	}
	for (k = 0; k < TCS_NR_COUNTERS; k++) {
		t->counter_col[k] = cs_table_col(t, cs_counter_names[k]);
		if (t->counter_col[k] < 0 && k < CS_NR_REQUIRED)
			return fail(err, errlen, "line 1: missing column '%s'",
				    cs_counter_names[k]);
	}
	return 0;
}

static int parse_row(const struct field *line, unsigned long lineno,
		     struct cs_table *t, uint8_t *seen,
		     char *err, size_t errlen)
{
	struct field f[MAX_FIELDS];
	char q[SHOW_LEN + 4];
	unsigned int side, c, bit, last;
	struct cs_row key = { 0 };
	uint64_t port = 0, *v;
	int n, r;

	n = split(line, f, t->ncols + 2);
	if (n == 0)
		return fail(err, errlen, "line %lu: empty line", lineno);
	if (n < 0)
		return fail(err, errlen,
			    "line %lu: too many fields (header has %u)",
			    lineno, t->ncols + 2);
	if ((unsigned int)n < t->ncols + 2)
		return fail(err, errlen,
			    "line %lu: short row: %d fields, header has %u",
			    lineno, n, t->ncols + 2);

	for (side = 0; side < TCS_NR_SIDES; side++)
		if (field_is(&f[0], cs_side_names[side]))
			break;
	if (side == TCS_NR_SIDES)
		return fail(err, errlen,
			    "line %lu: bad side '%s' (want " TCS_SIDE_LOCAL_NAME
			    " or " TCS_SIDE_REMOTE_NAME ")",
			    lineno, show(&f[0], q, sizeof(q)));

	key.side = side;
	key.other = field_is(&f[1], TCS_PORT_OTHER_NAME);
	if (!key.other) {
		r = parse_u64(&f[1], &port);
		if (r == -1)
			return fail(err, errlen,
				    "line %lu: port '%s' is not a number",
				    lineno, show(&f[1], q, sizeof(q)));
		if (r == -2 || port >= CS_NR_PORTS)
			return fail(err, errlen,
				    "line %lu: port %s out of range (0-65535)",
				    lineno, show(&f[1], q, sizeof(q)));
		key.port = port;
	}

	bit = cs_row_key(&key);
	/* the side's overflow row, the last of the side */
	last = cs_row_key(&(struct cs_row){ .side = side, .other = true });
	if (seen[bit >> 3] & (1u << (bit & 7))) {
		if (key.other)
			return fail(err, errlen,
				    "line %lu: duplicate row %s " TCS_PORT_OTHER_NAME,
				    lineno, cs_side_names[side]);
		return fail(err, errlen, "line %lu: duplicate row %s %u",
			    lineno, cs_side_names[side], (unsigned int)port);
	}
	if (seen[last >> 3] & (1u << (last & 7)))
		return fail(err, errlen,
			    "line %lu: %s %u after %s " TCS_PORT_OTHER_NAME
			    ", the last row of its side",
			    lineno, cs_side_names[side], (unsigned int)port,
			    cs_side_names[side]);
	seen[bit >> 3] |= 1u << (bit & 7);

	if (key.other ? cs_table_add_other(t, side) :
			cs_table_add_row(t, side, port))
		return fail(err, errlen, "line %lu: out of memory", lineno);
	v = cs_vals(t, t->nrows - 1);
	for (c = 0; c < t->ncols; c++) {
		r = parse_u64(&f[c + 2], &v[c]);
		if (r == -1)
			return fail(err, errlen,
				    "line %lu: %s '%s' is not a number",
				    lineno, t->cols[c],
				    show(&f[c + 2], q, sizeof(q)));
		if (r == -2)
			return fail(err, errlen,
				    "line %lu: %s %s overflows 64 bits",
				    lineno, t->cols[c],
				    show(&f[c + 2], q, sizeof(q)));
	}
	return 0;
}

int cs_parse_table(const char *buf, size_t len, struct cs_table *t,
		    char *err, size_t errlen)
{
	struct field line;
	unsigned long lineno = 1;
	uint8_t *seen;
	size_t pos = 0;
	int r;

	memset(t, 0, sizeof(*t));
	r = next_line(buf, len, &pos, lineno, &line, err, errlen);
	if (r < 0)
		return -1;
	if (r == 0)
		return fail(err, errlen, "empty file (no header line)");
	if (parse_header(&line, t, err, errlen))
		return -1;

	/* one bit per row key: duplicates are an error */
	seen = calloc((CS_NR_KEYS + 7) / 8, 1);
	if (!seen)
		return fail(err, errlen, "out of memory");
	while ((r = next_line(buf, len, &pos, ++lineno, &line,
			      err, errlen)) > 0) {
		r = parse_row(&line, lineno, t, seen, err, errlen);
		if (r)
			break;
	}
	free(seen);
	if (r) {
		cs_table_free(t);
		return -1;
	}
	return 0;
}

enum { FOLD_FOLDED, FOLD_PORTS, FOLD_LO, FOLD_HI, FOLD_NR_COLS };

static const char *const fold_cols[FOLD_NR_COLS] = {
	TCS_FOLD_COL_FOLDED, TCS_FOLD_COL_PORTS, TCS_FOLD_COL_PORT_LO,
	TCS_FOLD_COL_PORT_HI,
};

/* Check the key columns of row i (line i + 2) and move them into it. */
static int fold_row(struct cs_table *t, size_t i, const int *col,
		    char *err, size_t errlen)
{
	struct cs_row *r = &t->rows[i];
	const uint64_t *v = cs_vals(t, i);
	uint64_t folded = v[col[FOLD_FOLDED]], ports = v[col[FOLD_PORTS]];
	uint64_t lo = v[col[FOLD_LO]], hi = v[col[FOLD_HI]];
	unsigned long lineno = i + 2;

	if (folded > 1)
		return fail(err, errlen, "line %lu: folded %llu is not 0 or 1",
			    lineno, (unsigned long long)folded);
	if (r->other) {
		/* refused ports: at most every port of the side */
		if (folded || ports > CS_NR_PORTS || lo || hi)
			return fail(err, errlen,
				    "line %lu: %s row: want folded 0, ports 0-%d, port_lo and port_hi 0",
				    lineno, TCS_PORT_OTHER_NAME, CS_NR_PORTS);
		r->nports = ports;
		return 0;
	}
	if (!folded) {
		if (!r->port || ports != 1 || lo != r->port || hi != r->port)
			return fail(err, errlen,
				    "line %lu: port %u: want ports 1, port_lo and port_hi %u",
				    lineno, r->port, r->port);
		return 0;
	}
	if (r->port)
		return fail(err, errlen, "line %lu: fold row with port %u, not 0",
			    lineno, r->port);
	if (!lo || lo > hi || hi >= CS_NR_PORTS)
		return fail(err, errlen, "line %lu: bad fold range %llu-%llu",
			    lineno, (unsigned long long)lo,
			    (unsigned long long)hi);
	/* ports classified under an earlier range stay folded */
	if (!ports || ports >= CS_NR_PORTS)
		return fail(err, errlen, "line %lu: fold row of %llu ports",
			    lineno, (unsigned long long)ports);
	r->folded = true;
	r->port_lo = lo;
	r->port_hi = hi;
	r->nports = ports;
	return 0;
}

/* Remove the columns marked in drop[] from t; rows move down in place. */
static void drop_cols(struct cs_table *t, const bool *drop)
{
	unsigned int c, n = 0, k;
	size_t i;

	for (c = 0; c < t->ncols; c++)
		if (!drop[c])
			n++;
	for (i = 0; i < t->nrows; i++) {
		const uint64_t *src = t->vals + i * t->ncols;
		uint64_t *dst = t->vals + i * n;

		for (c = 0, k = 0; c < t->ncols; c++)
			if (!drop[c])
				dst[k++] = src[c];
	}
	for (c = 0, k = 0; c < t->ncols; c++)
		if (!drop[c])
			memmove(t->cols[k++], t->cols[c], sizeof(t->cols[c]));
	/* no stale name past the last column: tables compare whole */
	for (c = n; c < t->ncols; c++)
		memset(t->cols[c], 0, sizeof(t->cols[c]));
	t->ncols = n;
	for (k = 0; k < TCS_NR_COUNTERS; k++)
		t->counter_col[k] = cs_table_col(t, cs_counter_names[k]);
}

int cs_parse_folded(const char *buf, size_t len, struct cs_table *t,
		     char *err, size_t errlen)
{
	bool drop[CS_MAX_COLS] = { false };
	int col[FOLD_NR_COLS];
	unsigned int k;
	size_t i;

	if (cs_parse_table(buf, len, t, err, errlen))
		return -1;
	for (k = 0; k < FOLD_NR_COLS; k++) {
		col[k] = cs_table_col(t, fold_cols[k]);
		if (col[k] < 0) {
			cs_table_free(t);
			return fail(err, errlen, "line 1: missing column '%s'",
				    fold_cols[k]);
		}
		drop[col[k]] = true;
	}
	for (i = 0; i < t->nrows; i++) {
		if (fold_row(t, i, col, err, errlen)) {
			cs_table_free(t);
			return -1;
		}
	}
	drop_cols(t, drop);
	t->folded = true;
	return 0;
}

void cs_stat_free(struct cs_stat *s)
{
	free(s->e);
	s->e = NULL;
	s->n = 0;
}

int cs_parse_stat(const char *buf, size_t len, struct cs_stat *s,
		   char *err, size_t errlen)
{
	struct field line, f[3];
	char q[SHOW_LEN + 4];
	unsigned long lineno = 0;
	size_t pos = 0, i;
	int n, r;

	memset(s, 0, sizeof(*s));
	while ((r = next_line(buf, len, &pos, ++lineno, &line,
			      err, errlen)) > 0) {
		struct cs_stat_entry *e;

		n = split(&line, f, 2);
		if (n == 0) {
			r = fail(err, errlen, "line %lu: empty line", lineno);
			break;
		}
		if (n != 2) {
			r = fail(err, errlen,
				 "line %lu: want \"name value\"", lineno);
			break;
		}
		if (!valid_name(&f[0])) {
			r = fail(err, errlen, "line %lu: bad name '%s'",
				 lineno, show(&f[0], q, sizeof(q)));
			break;
		}
		if (s->n == CS_MAX_STATS) {
			r = fail(err, errlen, "line %lu: too many lines (at most %d)",
				 lineno, CS_MAX_STATS);
			break;
		}
		if (!s->e) {
			s->e = calloc(CS_MAX_STATS, sizeof(*s->e));
			if (!s->e) {
				r = fail(err, errlen, "out of memory");
				break;
			}
		}
		e = &s->e[s->n];
		memcpy(e->name, f[0].s, f[0].len);
		e->name[f[0].len] = '\0';
		for (i = 0; i < s->n; i++)
			if (!strcmp(s->e[i].name, e->name))
				break;
		if (i < s->n) {
			r = fail(err, errlen, "line %lu: duplicate name '%s'",
				 lineno, e->name);
			break;
		}
		r = parse_u64(&f[1], &e->value);
		if (r) {
			r = fail(err, errlen, r == -1 ?
				 "line %lu: %s '%s' is not a number" :
				 "line %lu: %s %s overflows 64 bits",
				 lineno, e->name, show(&f[1], q, sizeof(q)));
			break;
		}
		s->n++;
	}
	if (r < 0) {
		cs_stat_free(s);
		return -1;
	}
	if (!s->n)
		return fail(err, errlen, "empty file");
	return 0;
}

/* ---- /proc/net/tcp_closestat_hist ------------------------------------- */

void cs_hist_bucket(unsigned int b, uint64_t *lo, uint64_t *hi,
		     char *name, size_t namelen)
{
	if (b < TCS_HIST_BUCKETS - 1) {
		*lo = b ? 1ull << (b - 1) : 0;
		*hi = 1ull << b;
		snprintf(name, namelen, TCS_HIST_COL_LT "%llu", (unsigned long long)*hi);
	} else {
		*lo = 1ull << (TCS_HIST_BUCKETS - 2);
		*hi = 0;
		snprintf(name, namelen, TCS_HIST_COL_GE "%llu", (unsigned long long)*lo);
	}
}

#define HIST_FIXED	(3 + TCS_HIST_BUCKETS)	/* state count sum_ms buckets */

/* Header: fixed names in order, then any valid, distinct names. */
static int check_header(const struct field *line, const char *const *want,
			unsigned int nwant, unsigned int *ncols,
			char *err, size_t errlen)
{
	struct field f[MAX_FIELDS];
	char q[SHOW_LEN + 4];
	unsigned int c, d;
	int n;

	n = split(line, f, MAX_FIELDS);
	if (n < 0)
		return fail(err, errlen, "line 1: too many columns (at most %d)",
			    MAX_FIELDS);
	for (c = 0; c < nwant; c++)
		if ((unsigned int)n <= c || !field_is(&f[c], want[c]))
			return fail(err, errlen,
				    "line 1: column %u is not '%s'", c + 1,
				    want[c]);
	for (c = nwant; c < (unsigned int)n; c++) {
		if (!valid_name(&f[c]))
			return fail(err, errlen, "line 1: bad column name '%s'",
				    show(&f[c], q, sizeof(q)));
		for (d = 0; d < c; d++)
			if (f[d].len == f[c].len &&
			    !memcmp(f[d].s, f[c].s, f[c].len))
				return fail(err, errlen,
					    "line 1: duplicate column '%s'",
					    show(&f[c], q, sizeof(q)));
	}
	*ncols = n;
	return 0;
}

/* Split a row that must have exactly ncols fields. */
static int split_row(const struct field *line, unsigned long lineno,
		     struct field *f, unsigned int ncols,
		     char *err, size_t errlen)
{
	int n = split(line, f, ncols);

	if (n == 0)
		return fail(err, errlen, "line %lu: empty line", lineno);
	if (n < 0)
		return fail(err, errlen,
			    "line %lu: too many fields (header has %u)",
			    lineno, ncols);
	if ((unsigned int)n < ncols)
		return fail(err, errlen,
			    "line %lu: short row: %d fields, header has %u",
			    lineno, n, ncols);
	return 0;
}

static int u64_field(const struct field *f, unsigned long lineno,
		     const char *col, uint64_t *v, char *err, size_t errlen)
{
	char q[SHOW_LEN + 4];
	int r = parse_u64(f, v);

	if (r == -1)
		return fail(err, errlen, "line %lu: %s '%s' is not a number",
			    lineno, col, show(f, q, sizeof(q)));
	if (r == -2)
		return fail(err, errlen, "line %lu: %s %s overflows 64 bits",
			    lineno, col, show(f, q, sizeof(q)));
	return 0;
}

int cs_parse_hist(const char *buf, size_t len, struct cs_hist *h,
		   char *err, size_t errlen)
{
	static char names[TCS_HIST_BUCKETS][24];
	const char *want[HIST_FIXED] = {
		TCS_HIST_COL_STATE, TCS_HIST_COL_COUNT, TCS_HIST_COL_SUM,
	};
	struct field line, f[MAX_FIELDS];
	unsigned long lineno = 1;
	unsigned int ncols, b;
	char q[SHOW_LEN + 4];
	size_t pos = 0, i;
	int r;

	memset(h, 0, sizeof(*h));
	for (b = 0; b < TCS_HIST_BUCKETS; b++) {
		uint64_t lo, hi;

		cs_hist_bucket(b, &lo, &hi, names[b], sizeof(names[b]));
		want[3 + b] = names[b];
	}
	r = next_line(buf, len, &pos, lineno, &line, err, errlen);
	if (r < 0)
		return -1;
	if (r == 0)
		return fail(err, errlen, "empty file (no header line)");
	if (check_header(&line, want, HIST_FIXED, &ncols, err, errlen))
		return -1;

	while ((r = next_line(buf, len, &pos, ++lineno, &line,
			      err, errlen)) > 0) {
		struct cs_hist_row *row = &h->row[h->n];
		uint64_t sum = 0;

		if (split_row(&line, lineno, f, ncols, err, errlen))
			return -1;
		if (!valid_name(&f[0]))
			return fail(err, errlen, "line %lu: bad state '%s'",
				    lineno, show(&f[0], q, sizeof(q)));
		for (i = 0; i < h->n; i++)
			if (field_is(&f[0], h->row[i].state))
				return fail(err, errlen,
					    "line %lu: duplicate state '%s'",
					    lineno, h->row[i].state);
		if (h->n == CS_HIST_MAX_STATES)
			return fail(err, errlen,
				    "line %lu: too many states (at most %d)",
				    lineno, CS_HIST_MAX_STATES);
		memcpy(row->state, f[0].s, f[0].len);
		row->state[f[0].len] = '\0';
		if (u64_field(&f[1], lineno, want[1], &row->count, err, errlen) ||
		    u64_field(&f[2], lineno, want[2], &row->sum_ms, err, errlen))
			return -1;
		for (b = 0; b < TCS_HIST_BUCKETS; b++) {
			if (u64_field(&f[3 + b], lineno, want[3 + b],
				      &row->bucket[b], err, errlen))
				return -1;
			if (sum + row->bucket[b] < sum)
				return fail(err, errlen,
					    "line %lu: buckets overflow 64 bits",
					    lineno);
			sum += row->bucket[b];
		}
		for (b = HIST_FIXED; b < ncols; b++) {
			uint64_t v;

			if (u64_field(&f[b], lineno, "column", &v, err, errlen))
				return -1;
		}
		if (sum != row->count)
			return fail(err, errlen,
				    "line %lu: count %llu is not the sum of the buckets (%llu)",
				    lineno, (unsigned long long)row->count,
				    (unsigned long long)sum);
		h->n++;
	}
	return r < 0 ? -1 : 0;
}

/* ---- /proc/net/tcp_closestat_sockets ---------------------------------- */

void cs_socks_free(struct cs_socks *s)
{
	free(s->s);
	s->s = NULL;
	s->n = s->cap = 0;
}

/* "1.2.3.4:80" or "[::1]:80", as the kernel's %pI4 / %pI6c print them. */
static int parse_addr(const struct field *f, char *out, uint16_t *port)
{
	char host[CS_ADDR_LEN];
	unsigned char bin[16];
	const char *colon;
	struct field pf;
	uint64_t p;
	size_t hlen;
	int family;

	if (f->len >= CS_ADDR_LEN || !f->len)
		return -1;
	colon = memrchr(f->s, ':', f->len);
	if (!colon)
		return -1;
	pf.s = colon + 1;
	pf.len = f->s + f->len - pf.s;
	if (parse_u64(&pf, &p) || p > 65535 || (pf.len > 1 && pf.s[0] == '0'))
		return -1;
	if (f->s[0] == '[') {
		if (colon - f->s < 2 || colon[-1] != ']')
			return -1;
		family = AF_INET6;
		hlen = colon - f->s - 2;
		memcpy(host, f->s + 1, hlen);
	} else {
		family = AF_INET;
		hlen = colon - f->s;
		memcpy(host, f->s, hlen);
	}
	host[hlen] = '\0';
	if (inet_pton(family, host, bin) != 1)
		return -1;
	memcpy(out, f->s, f->len);
	out[f->len] = '\0';
	*port = p;
	return 0;
}

int cs_parse_sockets(const char *buf, size_t len, struct cs_socks *s,
		      char *err, size_t errlen)
{
	static const char *const want[] = {
		TCS_SOCK_COL_STATE, TCS_SOCK_COL_LOCAL, TCS_SOCK_COL_REMOTE,
		TCS_SOCK_COL_AGE, TCS_SOCK_COL_INODE,
	};
	struct field line, f[MAX_FIELDS];
	unsigned long lineno = 1;
	char q[SHOW_LEN + 4];
	unsigned int ncols, c;
	size_t pos = 0;
	int r;

	memset(s, 0, sizeof(*s));
	r = next_line(buf, len, &pos, lineno, &line, err, errlen);
	if (r < 0)
		return -1;
	if (r == 0)
		return fail(err, errlen, "empty file (no header line)");
	if (check_header(&line, want, 5, &ncols, err, errlen))
		return -1;

	while ((r = next_line(buf, len, &pos, ++lineno, &line,
			      err, errlen)) > 0) {
		struct cs_sock *k;

		if (split_row(&line, lineno, f, ncols, err, errlen))
			break;
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			struct cs_sock *n = realloc(s->s, cap * sizeof(*n));

			if (!n) {
				fail(err, errlen, "out of memory");
				break;
			}
			s->s = n;
			s->cap = cap;
		}
		k = &s->s[s->n];
		if (!valid_name(&f[0])) {
			fail(err, errlen, "line %lu: bad state '%s'",
			     lineno, show(&f[0], q, sizeof(q)));
			break;
		}
		memcpy(k->state, f[0].s, f[0].len);
		k->state[f[0].len] = '\0';
		if (parse_addr(&f[1], k->local, &k->lport)) {
			fail(err, errlen, "line %lu: bad local address '%s'",
			     lineno, show(&f[1], q, sizeof(q)));
			break;
		}
		if (parse_addr(&f[2], k->remote, &k->rport)) {
			fail(err, errlen, "line %lu: bad remote address '%s'",
			     lineno, show(&f[2], q, sizeof(q)));
			break;
		}
		if ((k->local[0] == '[') != (k->remote[0] == '[')) {
			fail(err, errlen,
			     "line %lu: local and remote address families differ",
			     lineno);
			break;
		}
		if (u64_field(&f[3], lineno, want[3], &k->age_ms, err, errlen) ||
		    u64_field(&f[4], lineno, want[4], &k->inode, err, errlen))
			break;
		for (c = 5; c < ncols; c++) {
			uint64_t v;

			if (u64_field(&f[c], lineno, "column", &v, err, errlen))
				break;
		}
		if (c < ncols)
			break;
		s->n++;
	}
	if (r != 0) {
		cs_socks_free(s);
		return -1;
	}
	return 0;
}

/*
 * Quote len bytes of an option value for a message: at most 40, bytes
 * other than printable ASCII shown as '?', so the message stays one line.
 */
static const char *quote(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t i, n = len > 40 ? 40 : len;

	if (n >= buflen)
		n = buflen - 1;
	for (i = 0; i < n; i++)
		buf[i] = s[i] >= 0x20 && s[i] <= 0x7e ? s[i] : '?';
	buf[n] = '\0';
	return buf;
}

/* A port 1-65535 at *p, advancing *p past its digits; -1 if none. */
static long port_at(const char **p)
{
	long v = 0;
	int n = 0;

	while (**p >= '0' && **p <= '9') {
		if (v < 100000)
			v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	if (!n || v < 1 || v > 65535)
		return -1;
	return v;
}

int cs_parse_ports(const char *s, uint8_t *map, char *err, size_t errlen)
{
	const char *p = s;
	char q[48];

	for (;;) {
		const char *start = p, *end;
		long lo, hi;

		lo = port_at(&p);
		hi = lo;
		if (lo > 0 && *p == '-') {
			p++;
			hi = port_at(&p);
		}
		if (lo < 0 || hi < 0 || hi < lo || (*p && *p != ',')) {
			end = strchr(start, ',');
			if (!end)
				end = start + strlen(start);
			return fail(err, errlen,
				    "invalid port '%s' (want 1-65535 or a range A-B)",
				    quote(start, end - start, q, sizeof(q)));
		}
		for (; lo <= hi; lo++)
			map[lo >> 3] |= 1u << (lo & 7);
		if (!*p)
			return 0;
		p++;
	}
}

int cs_parse_states(const char *s, unsigned int *mask, char *err,
		     size_t errlen)
{
	const char *p = s;

	for (;;) {
		size_t len = strcspn(p, ","), i;
		char name[CS_MAX_NAME + 1], q[48];
		int k = -1;

		if (len <= CS_MAX_NAME) {
			for (i = 0; i < len; i++)
				name[i] = p[i] == '-' ? '_' :
					  (p[i] >= 'A' && p[i] <= 'Z') ?
					  p[i] - 'A' + 'a' : p[i];
			name[len] = '\0';
			if (!strcmp(name, "all")) {
				*mask |= (1u << TCS_NR_COUNTERS) - 1;
				k = TCS_NR_COUNTERS;
			}
			for (i = 0; k < 0 && i < TCS_NR_COUNTERS; i++)
				if (!strcmp(name, cs_counter_names[i]))
					k = i;
		}
		if (k < 0) {
			char want[TCS_NR_COUNTERS * (CS_MAX_NAME + 2)] = "";

			for (i = 0; i < TCS_NR_COUNTERS; i++) {
				strcat(want, cs_counter_names[i]);
				strcat(want, ", ");
			}
			return fail(err, errlen,
				    "unknown state '%s' (want %sall)",
				    quote(p, len, q, sizeof(q)), want);
		}
		if (k < TCS_NR_COUNTERS)
			*mask |= 1u << k;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

int cs_parse_interval(const char *s, double *sec, char *err, size_t errlen)
{
	char *end, q[48];
	double v;

	errno = 0;
	v = strtod(s, &end);
	/* decimal only: no hex, inf or nan, no leading space or sign */
	if (end == s || *end || errno || !(s[0] >= '0' && s[0] <= '9') ||
	    strpbrk(s, "xXpP") || !isfinite(v) || v < 0.001 || v > 86400)
		return fail(err, errlen,
			    "invalid interval '%s' (want seconds, 0.001-86400)",
			    quote(s, strlen(s), q, sizeof(q)));
	*sec = v;
	return 0;
}

int cs_parse_age(const char *s, uint64_t *ms, char *err, size_t errlen)
{
	char *end, q[48];
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !(s[0] >= '0' && s[0] <= '9') ||
	    strpbrk(s, "xXpP") || !isfinite(v) || v < 0 || v > 315576000)
		return fail(err, errlen,
			    "invalid age '%s' (want seconds, 0 or more, decimals allowed)",
			    quote(s, strlen(s), q, sizeof(q)));
	*ms = (uint64_t)(v * 1000 + 0.5);
	return 0;
}

int cs_parse_count(const char *s, unsigned long *n, char *err, size_t errlen)
{
	struct field f = { s, strlen(s) };
	char q[48];
	uint64_t v;

	if (parse_u64(&f, &v) || v == 0 || v > (unsigned long)-1)
		return fail(err, errlen,
			    "invalid count '%s' (want a positive integer)",
			    quote(s, strlen(s), q, sizeof(q)));
	*n = v;
	return 0;
}

/* ---- sysctl files ------------------------------------------------------ */

/*
 * The one line of a sysctl file, split into at most max fields: the
 * kernel writes its numbers separated by tabs, then a newline.
 */
static int sysctl_line(const char *buf, size_t len, struct field *f,
		       unsigned int max, int *nf, char *err, size_t errlen)
{
	struct field line;
	size_t pos = 0;
	int r;

	r = next_line(buf, len, &pos, 1, &line, err, errlen);
	if (r < 0)
		return -1;
	if (r == 0)
		return fail(err, errlen, "empty file");
	if (pos < len)
		return fail(err, errlen, "line 2: more than one line");
	*nf = split(&line, f, max);
	if (*nf < 0)
		return fail(err, errlen, "line 1: too many fields");
	return 0;
}

int cs_parse_port_range(const char *buf, size_t len, unsigned int *lo,
			unsigned int *hi, char *err, size_t errlen)
{
	struct field f[2];
	uint64_t v[2];
	char q[SHOW_LEN + 4];
	int nf, i;

	if (sysctl_line(buf, len, f, 2, &nf, err, errlen))
		return -1;
	if (nf != 2)
		return fail(err, errlen, "line 1: want two ports 'LOW HIGH', got %d field%s",
			    nf, nf == 1 ? "" : "s");
	for (i = 0; i < 2; i++) {
		if (parse_u64(&f[i], &v[i]) || v[i] < 1 || v[i] > 65535)
			return fail(err, errlen,
				    "line 1: port '%s' is not a number 1-65535",
				    show(&f[i], q, sizeof(q)));
	}
	if (v[0] > v[1])
		return fail(err, errlen, "line 1: low end %u above high end %u",
			    (unsigned int)v[0], (unsigned int)v[1]);
	*lo = v[0];
	*hi = v[1];
	return 0;
}

int cs_parse_sysctl_int(const char *buf, size_t len, unsigned int max,
			unsigned int *val, char *err, size_t errlen)
{
	char q[SHOW_LEN + 4];
	struct field f[1];
	uint64_t v;
	int nf;

	if (sysctl_line(buf, len, f, 1, &nf, err, errlen))
		return -1;
	if (nf != 1)
		return fail(err, errlen, "line 1: no value");
	if (parse_u64(&f[0], &v) || v > max)
		return fail(err, errlen, "line 1: '%s' is not a number 0-%u",
			    show(&f[0], q, sizeof(q)), max);
	*val = v;
	return 0;
}

int cs_parse_reserved_ports(const char *buf, size_t len, uint8_t *map,
			    char *err, size_t errlen)
{
	char q[SHOW_LEN + 4];
	struct field f[1], item;
	const char *p, *end;
	uint64_t lo, hi;
	int nf;

	memset(map, 0, CS_NR_PORTS / 8);
	if (sysctl_line(buf, len, f, 1, &nf, err, errlen))
		return -1;
	if (nf == 0)
		return 0;		/* none reserved: an empty line */
	p = f[0].s;
	end = f[0].s + f[0].len;
	for (;;) {
		const char *comma = memchr(p, ',', end - p), *dash;

		item.s = p;
		item.len = (comma ? comma : end) - p;
		dash = memchr(item.s, '-', item.len);
		if (dash) {
			struct field a = { item.s, dash - item.s };
			struct field b = { dash + 1, item.s + item.len - dash - 1 };

			if (parse_u64(&a, &lo) || parse_u64(&b, &hi))
				lo = hi = CS_NR_PORTS;
		} else if (parse_u64(&item, &lo)) {
			lo = hi = CS_NR_PORTS;
		} else {
			hi = lo;
		}
		if (lo >= CS_NR_PORTS || hi >= CS_NR_PORTS || lo > hi)
			return fail(err, errlen,
				    "line 1: bad port or range '%s' (want 0-65535 or A-B)",
				    show(&item, q, sizeof(q)));
		for (; lo <= hi; lo++)
			map[lo >> 3] |= 1u << (lo & 7);
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/*
 * tcp_twsk_unique() (net/ipv4/tcp_ipv4.c, 6.1 and 6.12 alike) with
 * tcp_tw_reuse 2: an IPv4 address in 127.0.0.0/8, or an IPv6 ::1 or
 * ::ffff:127.x.y.z.
 */
bool cs_addr_is_loopback(const char *addr)
{
	char host[CS_ADDR_LEN];
	const char *colon = strrchr(addr, ':');
	unsigned char a[16];
	size_t n;

	if (!colon)
		return false;
	n = colon - addr;
	if (addr[0] == '[') {
		if (n < 2 || n - 2 >= sizeof(host) || colon[-1] != ']')
			return false;
		memcpy(host, addr + 1, n - 2);
		host[n - 2] = '\0';
		if (inet_pton(AF_INET6, host, a) != 1)
			return false;
		if (!memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16))
			return true;
		return !memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) &&
		       a[12] == 127;
	}
	if (n >= sizeof(host))
		return false;
	memcpy(host, addr, n);
	host[n] = '\0';
	return inet_pton(AF_INET, host, a) == 1 && a[0] == 127;
}

int cs_parse_top(const char *s, unsigned long *n, char *err, size_t errlen)
{
	struct field f = { s, strlen(s) };
	char q[48];
	uint64_t v;

	if (parse_u64(&f, &v) || v > (unsigned long)-1)
		return fail(err, errlen,
			    "invalid --top '%s' (want 0 for all, or a positive integer)",
			    quote(s, strlen(s), q, sizeof(q)));
	*n = v;
	return 0;
}
