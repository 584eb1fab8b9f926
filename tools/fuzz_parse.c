// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for tcs_parse.  The first byte picks the parser, the
 * rest is its input.  Besides "no crash, no leak, no undefined behaviour"
 * it checks what a caller relies on: an accepted table has valid keys, no
 * duplicate rows and survives a round trip through its /proc text; a
 * refused input leaves a one-line message.
 *
 *   clang -fsanitize=fuzzer,address,undefined -I../uapi fuzz_parse.c tcs_parse.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcs_parse.h"

static void check_err(int r, const char *err)
{
	if (r == 0)
		return;
	if (r != -1 || !err[0] || strchr(err, '\n'))
		abort();
}

/* The table as the module would print it. */
static char *format_table(const struct tcs_table *t, size_t *lenp)
{
	size_t cap = 64 + t->ncols * (TCS_MAX_NAME + 1) +
		     t->nrows * (16 + t->ncols * 21), len;
	char *buf = malloc(cap);
	unsigned int c;
	size_t i;

	if (!buf)
		abort();
	len = snprintf(buf, cap, "%s %s", TCS_COL_SIDE, TCS_COL_PORT);
	for (c = 0; c < t->ncols; c++)
		len += snprintf(buf + len, cap - len, " %s", t->cols[c]);
	len += snprintf(buf + len, cap - len, "\n");
	for (i = 0; i < t->nrows; i++) {
		len += snprintf(buf + len, cap - len, "%s %u",
				tcs_side_names[t->rows[i].side], t->rows[i].port);
		for (c = 0; c < t->ncols; c++)
			len += snprintf(buf + len, cap - len, " %llu",
					(unsigned long long)tcs_vals(t, i)[c]);
		len += snprintf(buf + len, cap - len, "\n");
	}
	if (len >= cap)
		abort();
	*lenp = len;
	return buf;
}

static void fuzz_table(const char *data, size_t size)
{
	char err[TCS_ERR_LEN] = "";
	struct tcs_table t, u;
	size_t i, len;
	unsigned int k;
	char *text;
	int r;

	r = tcs_parse_table(data, size, &t, err, sizeof(err));
	check_err(r, err);
	if (r)
		return;
	if (t.ncols < TCS_NR_REQUIRED || t.ncols > TCS_MAX_COLS)
		abort();
	for (k = 0; k < TCS_NR_REQUIRED; k++)
		if (t.counter_col[k] < 0 || t.counter_col[k] >= (int)t.ncols)
			abort();
	for (i = 0; i < t.nrows; i++)
		if (t.rows[i].side >= TCS_SIDES)
			abort();

	text = format_table(&t, &len);
	if (tcs_parse_table(text, len, &u, err, sizeof(err)))
		abort();
	if (u.ncols != t.ncols || u.nrows != t.nrows ||
	    memcmp(u.cols, t.cols, sizeof(t.cols)) ||
	    (t.nrows && (memcmp(u.rows, t.rows, t.nrows * sizeof(*t.rows)) ||
			 memcmp(u.vals, t.vals,
				t.nrows * t.ncols * sizeof(*t.vals)))))
		abort();
	free(text);
	tcs_table_free(&u);
	tcs_table_free(&t);
}

static void fuzz_stat(const char *data, size_t size)
{
	char err[TCS_ERR_LEN] = "";
	struct tcs_stat s;
	size_t i, j;
	int r;

	r = tcs_parse_stat(data, size, &s, err, sizeof(err));
	check_err(r, err);
	if (r)
		return;
	for (i = 0; i < s.n; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(s.e[i].name, s.e[j].name))
				abort();
	tcs_stat_free(&s);
}

/* Option values are C strings: cut at the first NUL. */
static void fuzz_options(const char *data, size_t size)
{
	static uint8_t map[TCS_NR_PORTS / 8];
	char err[TCS_ERR_LEN] = "";
	char *s = strndup(data, size);
	unsigned int mask = 0;
	unsigned long n;
	double d;
	int r;

	if (!s)
		abort();
	memset(map, 0, sizeof(map));
	r = tcs_parse_ports(s, map, err, sizeof(err));
	check_err(r, err);
	if (map[0] & 1)			/* port 0 is never accepted */
		abort();
	r = tcs_parse_states(s, &mask, err, sizeof(err));
	check_err(r, err);
	if (mask >> TCS_NR_COUNTERS)
		abort();
	r = tcs_parse_interval(s, &d, err, sizeof(err));
	check_err(r, err);
	if (!r && !(d > 0 && d <= 86400))
		abort();
	r = tcs_parse_count(s, &n, err, sizeof(err));
	check_err(r, err);
	if (!r && !n)
		abort();
	free(s);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *text = (const char *)data + 1;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_table(text, size - 1);
		break;
	case 1:
		fuzz_stat(text, size - 1);
		break;
	default:
		fuzz_options(text, size - 1);
		break;
	}
	return 0;
}
