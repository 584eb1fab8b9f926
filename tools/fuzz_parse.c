// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for cs_parse.  The first byte picks the parser ('0'
 * table, '1' stat, '2' options, '3' histogram, '4' sockets, '5' the
 * sysctl files, '6' folded table, other bytes modulo 7), the rest is its input.  Besides "no crash, no leak, no undefined behaviour"
 * it checks what a caller relies on: an accepted table has valid keys, no
 * duplicate rows, at most one overflow row per side and last of its side,
 * and survives a round trip through its /proc text; a refused input
 * leaves a one-line message.
 *
 *   clang -fsanitize=fuzzer,address,undefined -I../uapi fuzz_parse.c cs_parse.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_parse.h"

static void check_err(int r, const char *err)
{
	if (r == 0)
		return;
	if (r != -1 || !err[0] || strchr(err, '\n'))
		abort();
}

/*
 * The table as the module would print it: tcp_closestat, or with
 * t->folded tcp_closestat_folded (its four key columns after the port).
 */
static char *format_table(const struct cs_table *t, size_t *lenp)
{
	size_t cap = 128 + t->ncols * (CS_MAX_NAME + 1) +
		     t->nrows * (64 + t->ncols * 21), len;
	char *buf = malloc(cap);
	unsigned int c;
	size_t i;

	if (!buf)
		abort();
	len = snprintf(buf, cap, "%s %s", TCS_COL_SIDE, TCS_COL_PORT);
	if (t->folded)
		len += snprintf(buf + len, cap - len, " %s %s %s %s",
				TCS_FOLD_COL_FOLDED, TCS_FOLD_COL_PORTS,
				TCS_FOLD_COL_PORT_LO, TCS_FOLD_COL_PORT_HI);
	for (c = 0; c < t->ncols; c++)
		len += snprintf(buf + len, cap - len, " %s", t->cols[c]);
	len += snprintf(buf + len, cap - len, "\n");
	for (i = 0; i < t->nrows; i++) {
		const struct cs_row *r = &t->rows[i];

		if (r->other)
			len += snprintf(buf + len, cap - len, "%s %s",
					cs_side_names[r->side],
					TCS_PORT_OTHER_NAME);
		else
			len += snprintf(buf + len, cap - len, "%s %u",
					cs_side_names[r->side], r->port);
		if (t->folded)
			len += snprintf(buf + len, cap - len, " %d %u %u %u",
					r->folded, r->nports, r->port_lo,
					r->port_hi);
		for (c = 0; c < t->ncols; c++)
			len += snprintf(buf + len, cap - len, " %llu",
					(unsigned long long)cs_vals(t, i)[c]);
		len += snprintf(buf + len, cap - len, "\n");
	}
	if (len >= cap)
		abort();
	*lenp = len;
	return buf;
}

/*
 * Keys of an accepted table's rows: valid, distinct, and no row of a side
 * after its overflow row.
 */
static void check_keys(const struct cs_table *t)
{
	static uint8_t seen[(CS_NR_KEYS + 7) / 8];
	bool other[TCS_NR_SIDES] = { false };
	size_t i;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < t->nrows; i++) {
		const struct cs_row *r = &t->rows[i];
		unsigned int key;

		if (r->side >= TCS_NR_SIDES || other[r->side])
			abort();
		key = cs_row_key(r);
		if (key >= CS_NR_KEYS || (seen[key >> 3] & (1u << (key & 7))))
			abort();
		seen[key >> 3] |= 1u << (key & 7);
		if (r->other) {
			if (r->folded || r->port || r->port_lo || r->port_hi ||
			    r->nports > CS_NR_PORTS || (!t->folded && r->nports))
				abort();
			other[r->side] = true;
		}
	}
}

/*
 * An accepted table printed as the module would and parsed again by the
 * same parser comes back the same; then free it.
 */
static void round_trip(struct cs_table *t,
		       int (*parse)(const char *, size_t, struct cs_table *,
				    char *, size_t))
{
	char err[CS_ERR_LEN] = "";
	struct cs_table u;
	size_t len;
	char *text = format_table(t, &len);

	if (parse(text, len, &u, err, sizeof(err)))
		abort();
	if (u.ncols != t->ncols || u.nrows != t->nrows ||
	    memcmp(u.cols, t->cols, sizeof(t->cols)) ||
	    (t->nrows && (memcmp(u.rows, t->rows, t->nrows * sizeof(*t->rows)) ||
			  memcmp(u.vals, t->vals,
				 t->nrows * t->ncols * sizeof(*t->vals)))))
		abort();
	free(text);
	cs_table_free(&u);
	cs_table_free(t);
}

static void fuzz_table(const char *data, size_t size)
{
	char err[CS_ERR_LEN] = "";
	struct cs_table t;
	size_t i;
	unsigned int k;
	int r;

	r = cs_parse_table(data, size, &t, err, sizeof(err));
	check_err(r, err);
	if (r)
		return;
	if (t.ncols < CS_NR_REQUIRED || t.ncols > CS_MAX_COLS)
		abort();
	for (k = 0; k < CS_NR_REQUIRED; k++)
		if (t.counter_col[k] < 0 || t.counter_col[k] >= (int)t.ncols)
			abort();
	for (i = 0; i < t.nrows; i++)
		if (t.rows[i].side >= TCS_NR_SIDES)
			abort();
	check_keys(&t);

	round_trip(&t, cs_parse_table);
}

/*
 * An accepted folded table: fold rows are port 0 with a range and at
 * least one port, overflow rows no port, port rows one port; the key
 * columns are gone; it survives a round trip.
 */
static void fuzz_folded(const char *data, size_t size)
{
	char err[CS_ERR_LEN] = "";
	struct cs_table t;
	unsigned int c;
	size_t i;
	int r;

	r = cs_parse_folded(data, size, &t, err, sizeof(err));
	check_err(r, err);
	if (r)
		return;
	if (!t.folded || t.ncols < CS_NR_REQUIRED)
		abort();
	for (c = 0; c < t.ncols; c++)
		if (!strcmp(t.cols[c], TCS_FOLD_COL_FOLDED) ||
		    !strcmp(t.cols[c], TCS_FOLD_COL_PORT_LO))
			abort();
	for (i = 0; i < t.nrows; i++) {
		const struct cs_row *row = &t.rows[i];

		if (row->side >= TCS_NR_SIDES)
			abort();
		if (row->other)
			continue;	/* check_keys() */
		if (!row->folded) {
			if (!row->port || row->nports != 1 ||
			    row->port_lo != row->port || row->port_hi != row->port)
				abort();
			continue;
		}
		if (row->port || !row->port_lo || row->port_lo > row->port_hi ||
		    !row->nports || row->nports >= CS_NR_PORTS)
			abort();
	}
	check_keys(&t);

	round_trip(&t, cs_parse_folded);
}

static void fuzz_stat(const char *data, size_t size)
{
	char err[CS_ERR_LEN] = "";
	struct cs_stat s;
	size_t i, j;
	int r;

	r = cs_parse_stat(data, size, &s, err, sizeof(err));
	check_err(r, err);
	if (r)
		return;
	for (i = 0; i < s.n; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(s.e[i].name, s.e[j].name))
				abort();
	cs_stat_free(&s);
}

/* An accepted histogram: counts add up, and it survives a round trip. */
static void fuzz_hist(const char *data, size_t size)
{
	char err[CS_ERR_LEN] = "", name[32], *buf;
	struct cs_hist h, u;
	size_t i, j, len, cap;
	uint64_t lo, hi, sum;
	unsigned int b;
	int r;

	r = cs_parse_hist(data, size, &h, err, sizeof(err));
	check_err(r, err);
	if (r)
		return;
	if (h.n > CS_HIST_MAX_STATES)
		abort();
	cap = 4096 + h.n * (CS_MAX_NAME + (TCS_HIST_BUCKETS + 2) * 21);
	buf = malloc(cap);
	if (!buf)
		abort();
	len = snprintf(buf, cap, "%s %s %s", TCS_HIST_COL_STATE,
		       TCS_HIST_COL_COUNT, TCS_HIST_COL_SUM);
	for (b = 0; b < TCS_HIST_BUCKETS; b++) {
		cs_hist_bucket(b, &lo, &hi, name, sizeof(name));
		if (hi && (hi != 2 * lo && !(b == 0 && lo == 0)))
			abort();
		len += snprintf(buf + len, cap - len, " %s", name);
	}
	len += snprintf(buf + len, cap - len, "\n");
	for (i = 0; i < h.n; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(h.row[i].state, h.row[j].state))
				abort();
		sum = 0;
		len += snprintf(buf + len, cap - len, "%s %llu %llu",
				h.row[i].state,
				(unsigned long long)h.row[i].count,
				(unsigned long long)h.row[i].sum_ms);
		for (b = 0; b < TCS_HIST_BUCKETS; b++) {
			sum += h.row[i].bucket[b];
			len += snprintf(buf + len, cap - len, " %llu",
					(unsigned long long)h.row[i].bucket[b]);
		}
		len += snprintf(buf + len, cap - len, "\n");
		if (sum != h.row[i].count)
			abort();
	}
	if (len >= cap)
		abort();
	if (cs_parse_hist(buf, len, &u, err, sizeof(err)) ||
	    memcmp(&u, &h, sizeof(h)))
		abort();
	free(buf);
}

/* An accepted socket list survives a round trip. */
static void fuzz_sockets(const char *data, size_t size)
{
	char err[CS_ERR_LEN] = "", *buf;
	struct cs_socks s, u;
	size_t i, len, cap;
	int r;

	r = cs_parse_sockets(data, size, &s, err, sizeof(err));
	check_err(r, err);
	if (r)
		return;
	cap = 64 + s.n * (CS_MAX_NAME + 2 * CS_ADDR_LEN + 48);
	buf = malloc(cap);
	if (!buf)
		abort();
	len = snprintf(buf, cap, "%s %s %s %s %s\n", TCS_SOCK_COL_STATE,
		       TCS_SOCK_COL_LOCAL, TCS_SOCK_COL_REMOTE,
		       TCS_SOCK_COL_AGE, TCS_SOCK_COL_INODE);
	for (i = 0; i < s.n; i++)
		len += snprintf(buf + len, cap - len, "%s %s %s %llu %llu\n",
				s.s[i].state, s.s[i].local, s.s[i].remote,
				(unsigned long long)s.s[i].age_ms,
				(unsigned long long)s.s[i].inode);
	if (len >= cap)
		abort();
	if (cs_parse_sockets(buf, len, &u, err, sizeof(err)) || u.n != s.n)
		abort();
	for (i = 0; i < s.n; i++)
		if (strcmp(u.s[i].state, s.s[i].state) ||
		    strcmp(u.s[i].local, s.s[i].local) ||
		    strcmp(u.s[i].remote, s.s[i].remote) ||
		    u.s[i].lport != s.s[i].lport || u.s[i].rport != s.s[i].rport ||
		    u.s[i].age_ms != s.s[i].age_ms || u.s[i].inode != s.s[i].inode)
			abort();
	free(buf);
	cs_socks_free(&u);
	cs_socks_free(&s);
}

/* Option values are C strings: cut at the first NUL. */
static void fuzz_options(const char *data, size_t size)
{
	static uint8_t map[CS_NR_PORTS / 8];
	char err[CS_ERR_LEN] = "";
	char *s = strndup(data, size);
	unsigned int mask = 0;
	unsigned long n;
	uint64_t ms;
	double d;
	int r;

	if (!s)
		abort();
	memset(map, 0, sizeof(map));
	r = cs_parse_ports(s, map, err, sizeof(err));
	check_err(r, err);
	if (map[0] & 1)			/* port 0 is never accepted */
		abort();
	r = cs_parse_states(s, &mask, err, sizeof(err));
	check_err(r, err);
	if (mask >> TCS_NR_COUNTERS)
		abort();
	r = cs_parse_interval(s, &d, err, sizeof(err));
	check_err(r, err);
	if (!r && !(d > 0 && d <= 86400))
		abort();
	r = cs_parse_count(s, &n, err, sizeof(err));
	check_err(r, err);
	if (!r && !n)
		abort();
	r = cs_parse_age(s, &ms, err, sizeof(err));
	check_err(r, err);
	free(s);
}

/* The sysctl files --exhaustion reads, and the loopback test on their text. */
static void fuzz_sysctl(const char *data, size_t size)
{
	static uint8_t map[CS_NR_PORTS / 8];
	char err[CS_ERR_LEN] = "";
	unsigned int lo, hi, v;
	char *s;
	int r;

	r = cs_parse_port_range(data, size, &lo, &hi, err, sizeof(err));
	check_err(r, err);
	if (!r && (lo < 1 || lo > hi || hi > 65535))
		abort();
	r = cs_parse_sysctl_int(data, size, 2, &v, err, sizeof(err));
	check_err(r, err);
	if (!r && v > 2)
		abort();
	r = cs_parse_reserved_ports(data, size, map, err, sizeof(err));
	check_err(r, err);
	s = strndup(data, size);
	if (!s)
		abort();
	cs_addr_is_loopback(s);
	free(s);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *text = (const char *)data + 1;

	if (size < 1)
		return 0;
	switch ((unsigned char)(data[0] - '0') % 7) {
	case 0:
		fuzz_table(text, size - 1);
		break;
	case 1:
		fuzz_stat(text, size - 1);
		break;
	case 2:
		fuzz_options(text, size - 1);
		break;
	case 3:
		fuzz_hist(text, size - 1);
		break;
	case 4:
		fuzz_sockets(text, size - 1);
		break;
	case 5:
		fuzz_sysctl(text, size - 1);
		break;
	default:
		fuzz_folded(text, size - 1);
		break;
	}
	return 0;
}
