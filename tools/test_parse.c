// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of cs_parse: good files parse to the right values, every
 * kind of damaged file is refused with its exact message.  Prints KTAP
 * through the kernel's kselftest.h: one result per assertion, a
 * diagnostic with what was got and what was wanted before each failure,
 * the totals, and exit status 0 only if every planned test passed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest.h"

#include "cs_parse.h"

#define NAME_LEN	128

/*
 * check(cond, name, fmt, ...): one result called name; when cond is
 * false, first a diagnostic "name: fmt" saying what was got and wanted.
 * The diagnostic's arguments are evaluated only then.
 */
#define check(cond, name, fmt, ...) do {				\
	bool ok_ = (cond);						\
									\
	if (!ok_)							\
		ksft_print_msg("%s: " fmt "\n", (name), ##__VA_ARGS__);	\
	ksft_test_result(ok_, "%s\n", (name));				\
} while (0)

/*
 * check() of what a parse filled in: cond is evaluated only if the parse
 * succeeded, else the result is a skip (the parse's own result failed).
 * So every run reports the same number of results.
 */
#define check_parsed(parsed, cond, name, fmt, ...) do {		\
	if (parsed)							\
		check(cond, name, fmt, ##__VA_ARGS__);			\
	else								\
		ksft_test_result_skip("%s: not parsed\n", (name));	\
} while (0)

/* In a diagnostic: the message of a parse that returned r, if it failed. */
#define ERR(r)	((r) ? err : "")

/* A refusal: -1 and exactly the message want. */
static void check_refused(const char *name, int r, const char *err,
			  const char *want)
{
	check(r == -1 && !strcmp(err, want), name,
	      "got %d \"%s\", want -1 \"%s\"", r, err, want);
}

#define HDR "side port time_wait close_wait fin_wait2\n"

/* A table that must parse: one result; true if it did. */
static bool table_ok(const char *what, const char *text, struct cs_table *t)
{
	char err[CS_ERR_LEN] = "", name[NAME_LEN];
	int r = cs_parse_table(text, strlen(text), t, err, sizeof(err));

	snprintf(name, sizeof(name), "table: %s parses", what);
	check(r == 0, name, "refused: %s", err);
	return r == 0;
}

static void table_bad_len(const char *what, const char *text, size_t len,
			  const char *want)
{
	char err[CS_ERR_LEN] = "", name[NAME_LEN];
	struct cs_table t;
	int r = cs_parse_table(text, len, &t, err, sizeof(err));

	snprintf(name, sizeof(name), "table: %s refused", what);
	check_refused(name, r, err, want);
	if (r == 0)
		cs_table_free(&t);
}

static void table_bad(const char *what, const char *text, const char *want)
{
	table_bad_len(what, text, strlen(text), want);
}

static void stat_bad(const char *what, const char *text, const char *want)
{
	char err[CS_ERR_LEN] = "", name[NAME_LEN];
	struct cs_stat s;
	int r = cs_parse_stat(text, strlen(text), &s, err, sizeof(err));

	snprintf(name, sizeof(name), "stat: %s refused", what);
	check_refused(name, r, err, want);
	if (r == 0)
		cs_stat_free(&s);
}

#define GOOD_TABLES_TESTS	29

static void test_good_tables(void)
{
	const struct cs_row *r;
	struct cs_table t;
	bool ok;

	ok = table_ok("contract example",
		      HDR "local 8080 200 0 200\nlocal 41234 0 1 0\n"
		      "remote 8080 0 200 0\n", &t);
	check_parsed(ok, t.ncols == 3, "table: contract example: 3 value columns",
		     "got %u", t.ncols);
	check_parsed(ok, t.nrows == 3, "table: contract example: 3 rows",
		     "got %zu", t.nrows);
	check_parsed(ok, t.rows[0].side == TCS_SIDE_LOCAL && t.rows[0].port == 8080,
		     "table: contract example: row 0 is local 8080",
		     "got side %u port %u", t.rows[0].side, t.rows[0].port);
	check_parsed(ok, cs_vals(&t, 0)[0] == 200 && cs_vals(&t, 0)[1] == 0 &&
		     cs_vals(&t, 0)[2] == 200,
		     "table: contract example: row 0 values",
		     "got %llu %llu %llu, want 200 0 200",
		     (unsigned long long)cs_vals(&t, 0)[0],
		     (unsigned long long)cs_vals(&t, 0)[1],
		     (unsigned long long)cs_vals(&t, 0)[2]);
	check_parsed(ok, t.rows[2].side == TCS_SIDE_REMOTE && cs_vals(&t, 2)[1] == 200,
		     "table: contract example: row 2 is remote, close_wait 200",
		     "got side %u close_wait %llu", t.rows[2].side,
		     (unsigned long long)cs_vals(&t, 2)[1]);
	check_parsed(ok, t.counter_col[TCS_TIME_WAIT] == 0 &&
		     t.counter_col[TCS_FIN_WAIT2] == 2,
		     "table: contract example: counter columns",
		     "got time_wait %d fin_wait2 %d, want 0 2",
		     t.counter_col[TCS_TIME_WAIT], t.counter_col[TCS_FIN_WAIT2]);
	if (ok)
		cs_table_free(&t);

	ok = table_ok("header only", HDR, &t);
	check_parsed(ok, t.nrows == 0, "table: header only: no rows",
		     "got %zu rows", t.nrows);
	if (ok)
		cs_table_free(&t);

	/* columns are found by name, unknown ones are kept */
	ok = table_ok("reordered and extra columns",
		      "side port fin_wait2 future_col time_wait close_wait\n"
		      "remote 443 1 77 2 3\n", &t);
	check_parsed(ok, t.ncols == 4, "table: extra column: 4 value columns",
		     "got %u", t.ncols);
	check_parsed(ok, t.counter_col[TCS_TIME_WAIT] == 2 &&
		     t.counter_col[TCS_CLOSE_WAIT] == 3 &&
		     t.counter_col[TCS_FIN_WAIT2] == 0,
		     "table: extra column: counter columns found by name",
		     "got time_wait %d close_wait %d fin_wait2 %d, want 2 3 0",
		     t.counter_col[TCS_TIME_WAIT], t.counter_col[TCS_CLOSE_WAIT],
		     t.counter_col[TCS_FIN_WAIT2]);
	check_parsed(ok, cs_table_col(&t, "future_col") == 1 &&
		     cs_vals(&t, 0)[1] == 77,
		     "table: extra column: future_col kept",
		     "got column %d value %llu, want 1 77",
		     cs_table_col(&t, "future_col"),
		     (unsigned long long)cs_vals(&t, 0)[1]);
	check_parsed(ok, cs_table_counter_of(&t, 1) == -1,
		     "table: extra column: not a known counter",
		     "got %d, want -1", cs_table_counter_of(&t, 1));
	if (ok)
		cs_table_free(&t);

	ok = table_ok("u64 max and port bounds",
		      HDR "local 0 18446744073709551615 0 0\n"
		      "local 65535 0 0 1\n", &t);
	check_parsed(ok, cs_vals(&t, 0)[0] == UINT64_MAX, "table: u64 max value",
		     "got %llu", (unsigned long long)cs_vals(&t, 0)[0]);
	check_parsed(ok, t.rows[1].port == 65535, "table: port 65535",
		     "got %u", t.rows[1].port);
	if (ok)
		cs_table_free(&t);

	/* the overflow rows: port "other", after their side's ports */
	ok = table_ok("overflow rows",
		      HDR "local 80 1 2 3\nlocal other 4 5 6\n"
		      "remote other 7 8 9\n", &t);
	check_parsed(ok, t.nrows == 3, "table: overflow rows: 3 rows",
		     "got %zu", t.nrows);
	check_parsed(ok, !t.rows[0].other && t.rows[0].port == 80,
		     "table: overflow rows: row 0 is port 80",
		     "got other %d port %u", t.rows[0].other, t.rows[0].port);
	r = ok ? &t.rows[1] : NULL;
	check_parsed(ok, r->other && r->side == TCS_SIDE_LOCAL && !r->folded &&
		     !r->port && !r->port_lo && !r->port_hi && !r->nports,
		     "table: overflow rows: row 1 is local other, no port",
		     "got other %d side %u folded %d port %u %u-%u ports %u",
		     r->other, r->side, r->folded, r->port, r->port_lo,
		     r->port_hi, r->nports);
	check_parsed(ok, cs_vals(&t, 1)[0] == 4 && cs_vals(&t, 1)[2] == 6,
		     "table: overflow rows: row 1 values", "got %llu %llu",
		     (unsigned long long)cs_vals(&t, 1)[0],
		     (unsigned long long)cs_vals(&t, 1)[2]);
	r = ok ? &t.rows[2] : NULL;
	check_parsed(ok, r->other && r->side == TCS_SIDE_REMOTE &&
		     cs_vals(&t, 2)[1] == 8,
		     "table: overflow rows: row 2 is remote other",
		     "got other %d side %u close_wait %llu", r->other, r->side,
		     (unsigned long long)cs_vals(&t, 2)[1]);
	check_parsed(ok, cs_row_key(&t.rows[1]) != cs_row_key(&t.rows[0]) &&
		     cs_row_key(&t.rows[1]) < CS_NR_KEYS &&
		     cs_row_key(&t.rows[2]) == CS_NR_KEYS - 1,
		     "table: overflow rows: keys of their own",
		     "got %u %u %u", cs_row_key(&t.rows[0]),
		     cs_row_key(&t.rows[1]), cs_row_key(&t.rows[2]));
	if (ok)
		cs_table_free(&t);

	ok = table_ok("tabs and repeated spaces",
		      "side  port\ttime_wait close_wait fin_wait2 \n"
		      "local\t80  1 2 3\n", &t);
	check_parsed(ok, cs_vals(&t, 0)[2] == 3, "table: tabs: last value",
		     "got %llu, want 3", (unsigned long long)cs_vals(&t, 0)[2]);
	if (ok)
		cs_table_free(&t);

	/* every (side, port) and both overflow rows: the largest legal file */
	{
		size_t cap = 2 * 65537 * 32 + 100, len;
		char *buf = malloc(cap);
		unsigned int side, port;

		if (!buf)
			ksft_exit_fail_msg("out of memory\n");
		len = sprintf(buf, HDR);
		for (side = 0; side < 2; side++) {
			for (port = 0; port < 65536; port++)
				len += sprintf(buf + len, "%s %u %u 1 2\n",
					       side ? "remote" : "local", port,
					       port);
			len += sprintf(buf + len, "%s other 9 1 2\n",
				       side ? "remote" : "local");
		}
		ok = table_ok("all 131074 rows", buf, &t);
		check_parsed(ok, t.nrows == 131074, "table: all rows: 131074 rows",
			     "got %zu", t.nrows);
		check_parsed(ok, cs_vals(&t, 131072)[0] == 65535 &&
			     cs_vals(&t, 131073)[0] == 9 && t.rows[131073].other,
			     "table: all rows: last port's value, then remote other",
			     "got %llu, other %d %llu, want 65535, 1 9",
			     (unsigned long long)cs_vals(&t, 131072)[0],
			     t.rows[131073].other,
			     (unsigned long long)cs_vals(&t, 131073)[0]);
		if (ok)
			cs_table_free(&t);
		free(buf);
	}
}

#define BAD_TABLES_TESTS	38

static void test_bad_tables(void)
{
	char big[200];

	table_bad("empty", "", "empty file (no header line)");
	table_bad("blank header", "\n",
		  "line 1: header does not start with \"side port\"");
	table_bad("wrong first column", "port side time_wait close_wait fin_wait2\n",
		  "line 1: header does not start with \"side port\"");
	table_bad("no port column", "side time_wait close_wait fin_wait2\n",
		  "line 1: header does not start with \"side port\"");
	table_bad("missing counter", "side port time_wait close_wait\n",
		  "line 1: missing column 'fin_wait2'");
	table_bad("bad column name", "side port time_wait Close_wait fin_wait2\n",
		  "line 1: bad column name 'Close_wait'");
	table_bad("duplicate column",
		  "side port time_wait close_wait fin_wait2 time_wait\n",
		  "line 1: duplicate column 'time_wait'");
	table_bad("port as value column",
		  "side port time_wait close_wait fin_wait2 port\n",
		  "line 1: duplicate column 'port'");
	table_bad("header not terminated", "side port time_wait close_wait fin_wait2",
		  "line 1: truncated (no newline at end of file)");
	table_bad("truncated row", HDR "local 8080 200 0 20",
		  "line 2: truncated (no newline at end of file)");
	table_bad("short row", HDR "local 8080 200 0\n",
		  "line 2: short row: 4 fields, header has 5");
	table_bad("long row", HDR "local 8080 200 0 1 9\n",
		  "line 2: too many fields (header has 5)");
	table_bad("empty line", HDR "local 8080 200 0 1\n\nremote 1 1 1 1\n",
		  "line 3: empty line");
	table_bad("bad side", HDR "lokal 8080 1 2 3\n",
		  "line 2: bad side 'lokal' (want local or remote)");
	table_bad("side case", HDR "LOCAL 8080 1 2 3\n",
		  "line 2: bad side 'LOCAL' (want local or remote)");
	table_bad("port not a number", HDR "local 80a 1 2 3\n",
		  "line 2: port '80a' is not a number");
	table_bad("negative port", HDR "local -1 1 2 3\n",
		  "line 2: port '-1' is not a number");
	table_bad("port 65536", HDR "local 65536 1 2 3\n",
		  "line 2: port 65536 out of range (0-65535)");
	table_bad("huge port", HDR "local 99999999999999999999999 1 2 3\n",
		  "line 2: port 99999999999999999999999 out of range (0-65535)");
	table_bad("value not a number", HDR "local 80 1 x 3\n",
		  "line 2: close_wait 'x' is not a number");
	table_bad("signed value", HDR "local 80 +1 2 3\n",
		  "line 2: time_wait '+1' is not a number");
	table_bad("hex value", HDR "local 80 0x10 2 3\n",
		  "line 2: time_wait '0x10' is not a number");
	table_bad("u64 overflow", HDR "local 80 18446744073709551616 2 3\n",
		  "line 2: time_wait 18446744073709551616 overflows 64 bits");
	table_bad("overflow then garbage", HDR "local 80 99999999999999999999x 2 3\n",
		  "line 2: time_wait '99999999999999999999x' is not a number");
	table_bad("duplicate row", HDR "local 80 1 2 3\nremote 80 1 1 1\n"
		  "local 80 0 0 1\n", "line 4: duplicate row local 80");
	table_bad("duplicate overflow row",
		  HDR "local other 1 2 3\nlocal other 1 1 1\n",
		  "line 3: duplicate row local other");
	table_bad("port after the overflow row",
		  HDR "local 80 1 2 3\nlocal other 1 2 3\nlocal 81 1 1 1\n",
		  "line 4: local 81 after local other, the last row of its side");
	table_bad("port after the overflow row, sides mixed",
		  HDR "remote other 1 2 3\nlocal 80 1 2 3\nremote 9 1 1 1\n",
		  "line 4: remote 9 after remote other, the last row of its side");
	table_bad("other as side", HDR "other 80 1 2 3\n",
		  "line 2: bad side 'other' (want local or remote)");
	table_bad("other as value", HDR "local 80 1 other 3\n",
		  "line 2: close_wait 'other' is not a number");
	table_bad("other, case", HDR "local Other 1 2 3\n",
		  "line 2: port 'Other' is not a number");
	table_bad("other, longer", HDR "local others 1 2 3\n",
		  "line 2: port 'others' is not a number");
	table_bad("other and a number", HDR "local other80 1 2 3\n",
		  "line 2: port 'other80' is not a number");
	table_bad("CR line end", HDR "local 80 1 2 3\r\n",
		  "line 2: invalid byte 0x0d");
	table_bad_len("NUL byte", HDR "local 80 1\0 2 3\n", sizeof(HDR) + 15,
		      "line 2: invalid byte 0x00");
	table_bad("high byte", HDR "local 80 1 2 \xff\n",
		  "line 2: invalid byte 0xff");

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	{
		char text[400];

		snprintf(text, sizeof(text), HDR "local 80 1 2 %s\n", big);
		table_bad("long field is cut in the message", text,
			  "line 2: fin_wait2 'xxxxxxxxxxxxxxxxxxxxxxxx...' is not a number");
	}
	{
		char text[2000] = "side port time_wait close_wait fin_wait2";
		int i;

		for (i = 0; i < CS_MAX_COLS; i++)
			sprintf(text + strlen(text), " c%d", i);
		strcat(text, "\n");
		table_bad("too many columns", text,
			  "line 1: too many columns (at most 64)");
	}
}

#define STAT_TESTS		13

static void test_stat(void)
{
	const char *good = "missed_tcp_set_state 0\nmissed_inet_twsk_hashdance 3\n"
			   "alloc_failed 0\nports 3\nmemory_bytes 1234\n";
	char err[CS_ERR_LEN] = "";
	struct cs_stat s;
	bool ok;

	ok = !cs_parse_stat(good, strlen(good), &s, err, sizeof(err));
	check(ok, "stat: good file parses", "refused: %s", err);
	check_parsed(ok, s.n == 5, "stat: 5 entries", "got %zu", s.n);
	check_parsed(ok, !strcmp(s.e[1].name, "missed_inet_twsk_hashdance") &&
		     s.e[1].value == 3, "stat: entry 1",
		     "got %s %llu, want missed_inet_twsk_hashdance 3",
		     s.e[1].name, (unsigned long long)s.e[1].value);
	check_parsed(ok, !strcmp(s.e[4].name, "memory_bytes") &&
		     s.e[4].value == 1234, "stat: entry 4",
		     "got %s %llu, want memory_bytes 1234",
		     s.e[4].name, (unsigned long long)s.e[4].value);
	if (ok)
		cs_stat_free(&s);

	stat_bad("empty", "", "empty file");
	stat_bad("one field", "ports\n", "line 1: want \"name value\"");
	stat_bad("three fields", "ports 1 2\n", "line 1: want \"name value\"");
	stat_bad("negative", "ports -1\n", "line 1: ports '-1' is not a number");
	stat_bad("overflow", "ports 18446744073709551616\n",
		 "line 1: ports 18446744073709551616 overflows 64 bits");
	stat_bad("bad name", "Ports 1\n", "line 1: bad name 'Ports'");
	stat_bad("duplicate", "ports 1\nalloc_failed 0\nports 2\n",
		 "line 3: duplicate name 'ports'");
	stat_bad("truncated", "ports 1\nalloc_failed 0",
		 "line 2: truncated (no newline at end of file)");
	stat_bad("empty line", "ports 1\n\n", "line 2: empty line");
}

/* The histogram header and a row with the given buckets (others 0). */
static char *hist_text(const char *rows)
{
	static char buf[8192];
	size_t len = sprintf(buf, "state count sum_ms");
	unsigned int b;

	for (b = 0; b < TCS_HIST_BUCKETS - 1; b++)
		len += sprintf(buf + len, " lt_%u", 1u << b);
	len += sprintf(buf + len, " ge_%u\n%s", 1u << (TCS_HIST_BUCKETS - 2),
		       rows);
	return buf;
}

/* "STATE COUNT SUM" then 24 buckets: bucket b0 = n0, b1 = n1, others 0 */
static char *hist_row(char *buf, const char *state, unsigned long long count,
		      unsigned long long sum, unsigned int b0,
		      unsigned long long n0, unsigned int b1,
		      unsigned long long n1)
{
	size_t len = sprintf(buf, "%s %llu %llu", state, count, sum);
	unsigned int b;

	for (b = 0; b < TCS_HIST_BUCKETS; b++)
		len += sprintf(buf + len, " %llu",
			       b == b0 ? n0 : b == b1 ? n1 : 0ull);
	sprintf(buf + len, "\n");
	return buf;
}

static void hist_bad(const char *what, const char *text, const char *want)
{
	char err[CS_ERR_LEN] = "", name[NAME_LEN];
	struct cs_hist h;
	int r = cs_parse_hist(text, strlen(text), &h, err, sizeof(err));

	snprintf(name, sizeof(name), "hist: %s refused", what);
	check_refused(name, r, err, want);
}

/* "lo hi name" of a bucket, for diagnostics */
static const char *bucket_str(uint64_t lo, uint64_t hi, const char *name)
{
	static char buf[NAME_LEN];

	snprintf(buf, sizeof(buf), "%llu %llu %s", (unsigned long long)lo,
		 (unsigned long long)hi, name);
	return buf;
}

#define HIST_TESTS		22

static void test_hist(void)
{
	char err[CS_ERR_LEN] = "", rows[3000], r1[1000], r2[1000], r3[1000];
	char name[32];
	struct cs_hist h;
	uint64_t lo, hi;
	char *text;
	bool ok;
	int r;

	cs_hist_bucket(0, &lo, &hi, name, sizeof(name));
	check(lo == 0 && hi == 1 && !strcmp(name, "lt_1"), "hist: bucket 0",
	      "got %s, want 0 1 lt_1", bucket_str(lo, hi, name));
	cs_hist_bucket(5, &lo, &hi, name, sizeof(name));
	check(lo == 16 && hi == 32 && !strcmp(name, "lt_32"), "hist: bucket 5",
	      "got %s, want 16 32 lt_32", bucket_str(lo, hi, name));
	cs_hist_bucket(TCS_HIST_BUCKETS - 2, &lo, &hi, name, sizeof(name));
	check(lo == 2097152 && hi == 4194304 && !strcmp(name, "lt_4194304"),
	      "hist: bucket 22", "got %s, want 2097152 4194304 lt_4194304",
	      bucket_str(lo, hi, name));
	cs_hist_bucket(TCS_HIST_BUCKETS - 1, &lo, &hi, name, sizeof(name));
	check(lo == 4194304 && hi == 0 && !strcmp(name, "ge_4194304"),
	      "hist: last bucket", "got %s, want 4194304 0 ge_4194304",
	      bucket_str(lo, hi, name));

	snprintf(rows, sizeof(rows), "%s%s%s",
		 hist_row(r1, "time_wait", 10, 600123, 16, 10, 99, 0),
		 hist_row(r2, "close_wait", 60, 1111, 0, 40, 23, 20),
		 hist_row(r3, "fin_wait2", 0, 0, 99, 0, 99, 0));
	text = hist_text(rows);
	ok = !cs_parse_hist(text, strlen(text), &h, err, sizeof(err));
	check(ok, "hist: good file parses", "refused: %s", err);
	check_parsed(ok, h.n == 3, "hist: 3 rows", "got %zu", h.n);
	check_parsed(ok, !strcmp(h.row[0].state, "time_wait") &&
		     h.row[0].count == 10 && h.row[0].sum_ms == 600123 &&
		     h.row[0].bucket[16] == 10, "hist: time_wait row",
		     "got %s count %llu sum_ms %llu bucket 16 %llu, want time_wait 10 600123 10",
		     h.row[0].state, (unsigned long long)h.row[0].count,
		     (unsigned long long)h.row[0].sum_ms,
		     (unsigned long long)h.row[0].bucket[16]);
	check_parsed(ok, h.row[1].bucket[0] == 40 && h.row[1].bucket[23] == 20,
		     "hist: close_wait buckets",
		     "got bucket 0 %llu bucket 23 %llu, want 40 20",
		     (unsigned long long)h.row[1].bucket[0],
		     (unsigned long long)h.row[1].bucket[23]);
	check_parsed(ok, h.row[2].count == 0, "hist: fin_wait2 empty",
		     "got count %llu", (unsigned long long)h.row[2].count);

	text = hist_text("");
	r = cs_parse_hist(text, strlen(text), &h, err, sizeof(err));
	check(!r && h.n == 0, "hist: header only",
	      "got %d \"%s\" with %zu rows, want 0 and no rows", r, ERR(r), h.n);

	/* a column appended after the buckets is skipped */
	{
		char buf[8192];

		text = hist_text("");
		snprintf(buf, sizeof(buf), "%.*s future\n%s", (int)strlen(text) - 1,
			 text, "time_wait 1 5 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 7\n");
		r = cs_parse_hist(buf, strlen(buf), &h, err, sizeof(err));
		check(!r && h.n == 1 && h.row[0].bucket[1] == 1,
		      "hist: extra column skipped",
		      "got %d \"%s\" with %zu rows, bucket 1 %llu, want 0, 1 row, 1",
		      r, ERR(r), h.n, (unsigned long long)h.row[0].bucket[1]);
	}

	hist_bad("empty", "", "empty file (no header line)");
	hist_bad("bad header", "state count\n", "line 1: column 3 is not 'sum_ms'");
	hist_bad("wrong bucket", "state count sum_ms lt_2\n",
		 "line 1: column 4 is not 'lt_1'");
	text = hist_text(hist_row(r1, "time_wait", 11, 0, 0, 10, 99, 0));
	hist_bad("count not the sum", text,
		 "line 2: count 11 is not the sum of the buckets (10)");
	snprintf(rows, sizeof(rows), "%s%s",
		 hist_row(r1, "time_wait", 1, 0, 0, 1, 99, 0),
		 hist_row(r2, "time_wait", 1, 0, 0, 1, 99, 0));
	hist_bad("duplicate state", hist_text(rows),
		 "line 3: duplicate state 'time_wait'");
	hist_bad("bad state", hist_text(hist_row(r1, "TIME", 0, 0, 99, 0, 99, 0)),
		 "line 2: bad state 'TIME'");
	hist_bad("short row", hist_text("time_wait 0 0 0\n"),
		 "line 2: short row: 4 fields, header has 27");
	hist_row(r1, "time_wait", 0, 0, 99, 0, 99, 0);
	r1[strlen(r1) - 1] = 'x';		/* last bucket "0x" */
	strcat(r1, "\n");
	hist_bad("not a number", hist_text(r1),
		 "line 2: ge_4194304 '0x' is not a number");
	hist_bad("overflow",
		 hist_text("time_wait 0 18446744073709551616 0 0 0 0 0 0 0 0 0 0"
			   " 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"),
		 "line 2: sum_ms 18446744073709551616 overflows 64 bits");
	hist_bad("truncated", hist_text("time_wait 0 0"),
		 "line 2: truncated (no newline at end of file)");
	snprintf(rows, sizeof(rows), "%s",
		 hist_row(r1, "time_wait", 0, 0, 0, 18446744073709551615ull, 1, 1));
	hist_bad("buckets overflow", hist_text(rows),
		 "line 2: buckets overflow 64 bits");
}

static void socks_bad(const char *what, const char *text, const char *want)
{
	char err[CS_ERR_LEN] = "", name[NAME_LEN];
	struct cs_socks s;
	int r = cs_parse_sockets(text, strlen(text), &s, err, sizeof(err));

	snprintf(name, sizeof(name), "sockets: %s refused", what);
	check_refused(name, r, err, want);
	if (r == 0)
		cs_socks_free(&s);
}

#define SHDR "state local remote age_ms inode\n"

#define SOCKETS_TESTS		20

static void test_sockets(void)
{
	const char *good = SHDR
		"close_wait 127.0.0.1:41234 127.0.0.1:8080 8123 52345\n"
		"time_wait [::1]:8080 [::1]:50312 412 0\n"
		"fin_wait2 [::ffff:127.0.0.1]:1 [2001:db8::1]:65535 0 18446744073709551615\n";
	char err[CS_ERR_LEN] = "";
	struct cs_socks s;
	bool ok;
	int r;

	ok = !cs_parse_sockets(good, strlen(good), &s, err, sizeof(err));
	check(ok, "sockets: good file parses", "refused: %s", err);
	check_parsed(ok, s.n == 3, "sockets: 3 rows", "got %zu", s.n);
	check_parsed(ok, !strcmp(s.s[0].state, "close_wait") &&
		     !strcmp(s.s[0].local, "127.0.0.1:41234") &&
		     s.s[0].lport == 41234 && s.s[0].rport == 8080 &&
		     s.s[0].age_ms == 8123 && s.s[0].inode == 52345,
		     "sockets: row 0",
		     "got %s %s lport %u rport %u age_ms %llu inode %llu, want close_wait 127.0.0.1:41234 41234 8080 8123 52345",
		     s.s[0].state, s.s[0].local, s.s[0].lport, s.s[0].rport,
		     (unsigned long long)s.s[0].age_ms,
		     (unsigned long long)s.s[0].inode);
	check_parsed(ok, !strcmp(s.s[1].remote, "[::1]:50312") &&
		     s.s[1].rport == 50312, "sockets: row 1",
		     "got remote %s rport %u, want [::1]:50312 50312",
		     s.s[1].remote, s.s[1].rport);
	check_parsed(ok, s.s[2].inode == UINT64_MAX && s.s[2].rport == 65535,
		     "sockets: row 2",
		     "got inode %llu rport %u, want 18446744073709551615 65535",
		     (unsigned long long)s.s[2].inode, s.s[2].rport);
	if (ok)
		cs_socks_free(&s);

	r = cs_parse_sockets(SHDR, strlen(SHDR), &s, err, sizeof(err));
	check(!r && s.n == 0, "sockets: header only",
	      "got %d \"%s\" with %zu rows, want 0 and no rows", r, ERR(r), s.n);
	cs_socks_free(&s);

	socks_bad("empty", "", "empty file (no header line)");
	socks_bad("bad header", "state local remote age inode\n",
		  "line 1: column 4 is not 'age_ms'");
	socks_bad("short", SHDR "close_wait 1.2.3.4:1 1.2.3.4:2 5\n",
		  "line 2: short row: 4 fields, header has 5");
	socks_bad("long", SHDR "close_wait 1.2.3.4:1 1.2.3.4:2 5 6 7\n",
		  "line 2: too many fields (header has 5)");
	socks_bad("no port", SHDR "close_wait 1.2.3.4 1.2.3.4:2 5 6\n",
		  "line 2: bad local address '1.2.3.4'");
	socks_bad("port 65536", SHDR "close_wait 1.2.3.4:65536 1.2.3.4:2 5 6\n",
		  "line 2: bad local address '1.2.3.4:65536'");
	socks_bad("bad v4", SHDR "close_wait 1.2.3.4:1 1.2.3:2 5 6\n",
		  "line 2: bad remote address '1.2.3:2'");
	socks_bad("v6 without brackets", SHDR "close_wait ::1:80 [::1]:2 5 6\n",
		  "line 2: bad local address '::1:80'");
	socks_bad("families differ", SHDR "close_wait 1.2.3.4:1 [::1]:2 5 6\n",
		  "line 2: local and remote address families differ");
	socks_bad("port with zero", SHDR "close_wait 1.2.3.4:01 1.2.3.4:2 5 6\n",
		  "line 2: bad local address '1.2.3.4:01'");
	socks_bad("age", SHDR "close_wait 1.2.3.4:1 1.2.3.4:2 -5 6\n",
		  "line 2: age_ms '-5' is not a number");
	socks_bad("inode", SHDR "close_wait 1.2.3.4:1 1.2.3.4:2 5 18446744073709551616\n",
		  "line 2: inode 18446744073709551616 overflows 64 bits");
	socks_bad("bad state", SHDR "Close 1.2.3.4:1 1.2.3.4:2 5 6\n",
		  "line 2: bad state 'Close'");
	socks_bad("truncated", SHDR "close_wait 1.2.3.4:1 1.2.3.4:2 5 6",
		  "line 2: truncated (no newline at end of file)");
}

/*
 * One port list: refused with want_err, or accepted (one result) with
 * exactly lo-hi set around its bounds, or (lo 0) something set (a second).
 */
static void ports_case(const char *s, const char *want_err,
		       unsigned int lo, unsigned int hi)
{
	static uint8_t map[CS_NR_PORTS / 8];
	char err[CS_ERR_LEN] = "", name[NAME_LEN];
	unsigned int p, n = 0;
	int r;

	memset(map, 0, sizeof(map));
	r = cs_parse_ports(s, map, err, sizeof(err));
	if (want_err) {
		snprintf(name, sizeof(name), "ports '%s' refused", s);
		check_refused(name, r, err, want_err);
		return;
	}
	snprintf(name, sizeof(name), "ports '%s' accepted", s);
	check(r == 0, name, "refused: %s", err);
	for (p = 0; p < CS_NR_PORTS; p++)
		n += cs_port_isset(map, p);
	if (lo) {
		snprintf(name, sizeof(name), "ports '%s': bounds %u-%u", s, lo, hi);
		check(cs_port_isset(map, lo) && cs_port_isset(map, hi) &&
		      !cs_port_isset(map, lo - 1) &&
		      (hi == 65535 || !cs_port_isset(map, hi + 1)), name,
		      "got set(%u) %d set(%u) %d set(%u) %d set(%u) %d, want 1 1 0 0",
		      lo, cs_port_isset(map, lo), hi, cs_port_isset(map, hi),
		      lo - 1, cs_port_isset(map, lo - 1), hi + 1,
		      hi < 65535 && cs_port_isset(map, hi + 1));
	} else {
		snprintf(name, sizeof(name), "ports '%s': something set", s);
		check(n > 0, name, "got %u ports set", n);
	}
}

#define OPTIONS_TESTS		50

static void test_options(void)
{
	char err[CS_ERR_LEN] = "";
	unsigned int mask = 0;
	unsigned long n = 0;
	double d = 0;
	int r;

	ports_case("8080", NULL, 8080, 8080);
	ports_case("1", NULL, 1, 1);
	ports_case("65535", NULL, 65535, 65535);
	ports_case("8000-8100", NULL, 8000, 8100);
	ports_case("1-65535", NULL, 1, 65535);
	ports_case("80,443,8000-8001", NULL, 0, 0);
	ports_case("0", "invalid port '0' (want 1-65535 or a range A-B)", 0, 0);
	ports_case("65536", "invalid port '65536' (want 1-65535 or a range A-B)", 0, 0);
	ports_case("99999999999", "invalid port '99999999999' (want 1-65535 or a range A-B)", 0, 0);
	ports_case("http", "invalid port 'http' (want 1-65535 or a range A-B)", 0, 0);
	ports_case("", "invalid port '' (want 1-65535 or a range A-B)", 0, 0);
	ports_case("80,", "invalid port '' (want 1-65535 or a range A-B)", 0, 0);
	ports_case("80,x,90", "invalid port 'x' (want 1-65535 or a range A-B)", 0, 0);
	ports_case("9000-8000", "invalid port '9000-8000' (want 1-65535 or a range A-B)", 0, 0);
	ports_case("1-65536", "invalid port '1-65536' (want 1-65535 or a range A-B)", 0, 0);
	ports_case("-5", "invalid port '-5' (want 1-65535 or a range A-B)", 0, 0);
	ports_case("5-", "invalid port '5-' (want 1-65535 or a range A-B)", 0, 0);
	ports_case("+80", "invalid port '+80' (want 1-65535 or a range A-B)", 0, 0);
	ports_case(" 80", "invalid port ' 80' (want 1-65535 or a range A-B)", 0, 0);

	r = cs_parse_states("time_wait", &mask, err, sizeof(err));
	check(!r && mask == 1u << TCS_TIME_WAIT, "states time_wait",
	      "got %d \"%s\" mask %#x, want mask %#x", r, ERR(r), mask,
	      1u << TCS_TIME_WAIT);
	mask = 0;
	r = cs_parse_states("CLOSE-WAIT,fin_wait2", &mask, err, sizeof(err));
	check(!r && mask == (1u << TCS_CLOSE_WAIT | 1u << TCS_FIN_WAIT2),
	      "states CLOSE-WAIT,fin_wait2",
	      "got %d \"%s\" mask %#x, want mask %#x", r, ERR(r), mask,
	      1u << TCS_CLOSE_WAIT | 1u << TCS_FIN_WAIT2);
	mask = 0;
	r = cs_parse_states("all", &mask, err, sizeof(err));
	check(!r && mask == (1u << TCS_NR_COUNTERS) - 1, "states all",
	      "got %d \"%s\" mask %#x, want mask %#x", r, ERR(r), mask,
	      (1u << TCS_NR_COUNTERS) - 1);
	check(cs_parse_states("established", &mask, err, sizeof(err)) == -1 &&
	      !strncmp(err, "unknown state 'established' (want time_wait, ", 44),
	      "states established refused",
	      "got \"%s\", want \"unknown state 'established' (want time_wait, ...\"",
	      err);
	check(cs_parse_states("time_wait,", &mask, err, sizeof(err)) == -1 &&
	      !strncmp(err, "unknown state '' (want ", 23),
	      "states trailing comma refused",
	      "got \"%s\", want \"unknown state '' (want ...\"", err);

	r = cs_parse_interval("0.5", &d, err, sizeof(err));
	check(!r && d == 0.5, "interval 0.5",
	      "got %d \"%s\" %g, want 0.5", r, ERR(r), d);
	r = cs_parse_interval("2", &d, err, sizeof(err));
	check(!r && d == 2, "interval 2",
	      "got %d \"%s\" %g, want 2", r, ERR(r), d);
	check(cs_parse_interval("0", &d, err, sizeof(err)) == -1 &&
	      !strcmp(err, "invalid interval '0' (want seconds, 0.001-86400)"),
	      "interval 0 refused", "got \"%s\"", err);
	check(cs_parse_interval("-1", &d, err, sizeof(err)) == -1,
	      "interval -1 refused", "accepted as %g", d);
	check(cs_parse_interval("1s", &d, err, sizeof(err)) == -1,
	      "interval 1s refused", "accepted as %g", d);
	check(cs_parse_interval("nan", &d, err, sizeof(err)) == -1,
	      "interval nan refused", "accepted as %g", d);
	check(cs_parse_interval("0x1p1", &d, err, sizeof(err)) == -1,
	      "interval hex refused", "accepted as %g", d);
	check(cs_parse_interval("", &d, err, sizeof(err)) == -1,
	      "interval empty refused", "accepted as %g", d);

	r = cs_parse_count("3", &n, err, sizeof(err));
	check(!r && n == 3, "count 3",
	      "got %d \"%s\" %lu, want 3", r, ERR(r), n);
	check(cs_parse_count("0", &n, err, sizeof(err)) == -1 &&
	      !strcmp(err, "invalid count '0' (want a positive integer)"),
	      "count 0 refused", "got \"%s\"", err);
	check(cs_parse_count("-2", &n, err, sizeof(err)) == -1,
	      "count -2 refused", "accepted as %lu", n);
	check(cs_parse_count("1.5", &n, err, sizeof(err)) == -1,
	      "count 1.5 refused", "accepted as %lu", n);

	{
		uint64_t ms = 0;

		r = cs_parse_age("0", &ms, err, sizeof(err));
		check(!r && ms == 0, "age 0", "got %d \"%s\" %llu ms, want 0",
		      r, ERR(r), (unsigned long long)ms);
		r = cs_parse_age("2.5", &ms, err, sizeof(err));
		check(!r && ms == 2500, "age 2.5",
		      "got %d \"%s\" %llu ms, want 2500", r, ERR(r),
		      (unsigned long long)ms);
		r = cs_parse_age("3600", &ms, err, sizeof(err));
		check(!r && ms == 3600000, "age 3600",
		      "got %d \"%s\" %llu ms, want 3600000", r, ERR(r),
		      (unsigned long long)ms);
		check(cs_parse_age("-1", &ms, err, sizeof(err)) == -1 &&
		      !strcmp(err, "invalid age '-1' (want seconds, 0 or more, decimals allowed)"),
		      "age -1 refused", "got \"%s\"", err);
		check(cs_parse_age("1m", &ms, err, sizeof(err)) == -1,
		      "age 1m refused", "accepted as %llu ms", (unsigned long long)ms);
		check(cs_parse_age("inf", &ms, err, sizeof(err)) == -1,
		      "age inf refused", "accepted as %llu ms", (unsigned long long)ms);
		check(cs_parse_age("1e99", &ms, err, sizeof(err)) == -1,
		      "age 1e99 refused", "accepted as %llu ms", (unsigned long long)ms);
		check(cs_parse_age("", &ms, err, sizeof(err)) == -1,
		      "age empty refused", "accepted as %llu ms", (unsigned long long)ms);
	}
}

#define SYSCTL_TESTS		36

static void test_sysctl(void)
{
	static const struct {
		const char *text, *want;
	} bad_range[] = {
		{ "",			"empty file" },
		{ "40000\t40063",	"line 1: truncated (no newline at end of file)" },
		{ "5\t2\n",		"line 1: low end 5 above high end 2" },
		{ "40000\n",		"line 1: want two ports 'LOW HIGH', got 1 field" },
		{ "1 2 3\n",		"line 1: too many fields" },
		{ "x\t40063\n",		"line 1: port 'x' is not a number 1-65535" },
		{ "0\t40063\n",		"line 1: port '0' is not a number 1-65535" },
		{ "40000\t65536\n",	"line 1: port '65536' is not a number 1-65535" },
		{ "40000\t40063\n1\n",	"line 2: more than one line" },
		{ "40000\t4006\x01\n",	"line 1: invalid byte 0x01" },
	};
	static uint8_t map[CS_NR_PORTS / 8];
	char err[CS_ERR_LEN] = "", name[NAME_LEN];
	unsigned int lo = 0, hi = 0, v = 9, i, n;
	unsigned long top = 7;
	int r;

	r = cs_parse_port_range("40000\t40063\n", 12, &lo, &hi, err, sizeof(err));
	check(!r && lo == 40000 && hi == 40063, "range 40000-40063",
	      "got %d \"%s\" %u-%u", r, ERR(r), lo, hi);
	r = cs_parse_port_range("1 65535\n", 8, &lo, &hi, err, sizeof(err));
	check(!r && lo == 1 && hi == 65535, "range 1-65535 with a space",
	      "got %d \"%s\" %u-%u", r, ERR(r), lo, hi);
	r = cs_parse_port_range("7\t7\n", 4, &lo, &hi, err, sizeof(err));
	check(!r && lo == 7 && hi == 7, "range of one port",
	      "got %d \"%s\" %u-%u", r, ERR(r), lo, hi);
	for (i = 0; i < ARRAY_SIZE(bad_range); i++) {
		snprintf(name, sizeof(name), "range '%s' refused", bad_range[i].want);
		r = cs_parse_port_range(bad_range[i].text, strlen(bad_range[i].text),
					&lo, &hi, err, sizeof(err));
		check_refused(name, r, err, bad_range[i].want);
	}

	r = cs_parse_sysctl_int("2\n", 2, 2, &v, err, sizeof(err));
	check(!r && v == 2, "tcp_tw_reuse 2", "got %d \"%s\" %u", r, ERR(r), v);
	r = cs_parse_sysctl_int("0\n", 2, 2, &v, err, sizeof(err));
	check(!r && v == 0, "tcp_tw_reuse 0", "got %d \"%s\" %u", r, ERR(r), v);
	r = cs_parse_sysctl_int("3\n", 2, 2, &v, err, sizeof(err));
	check_refused("tcp_tw_reuse 3 refused", r, err, "line 1: '3' is not a number 0-2");
	r = cs_parse_sysctl_int("yes\n", 4, 2, &v, err, sizeof(err));
	check_refused("tcp_tw_reuse yes refused", r, err, "line 1: 'yes' is not a number 0-2");
	r = cs_parse_sysctl_int("\n", 1, 2, &v, err, sizeof(err));
	check_refused("tcp_tw_reuse empty line refused", r, err, "line 1: no value");

	memset(map, 0xff, sizeof(map));
	r = cs_parse_reserved_ports("\n", 1, map, err, sizeof(err));
	for (i = n = 0; i < CS_NR_PORTS; i++)
		n += cs_port_isset(map, i);
	check(!r && n == 0, "reserved ports: none", "got %d \"%s\", %u set", r, ERR(r), n);
	r = cs_parse_reserved_ports("0,40001-40002,65535\n", 20, map, err, sizeof(err));
	for (i = n = 0; i < CS_NR_PORTS; i++)
		n += cs_port_isset(map, i);
	check(!r && n == 4 && cs_port_isset(map, 0) && cs_port_isset(map, 40001) &&
	      cs_port_isset(map, 40002) && cs_port_isset(map, 65535),
	      "reserved ports: 0,40001-40002,65535", "got %d \"%s\", %u set", r, ERR(r), n);
	r = cs_parse_reserved_ports("5-2\n", 4, map, err, sizeof(err));
	check_refused("reserved ports 5-2 refused", r, err,
		      "line 1: bad port or range '5-2' (want 0-65535 or A-B)");
	r = cs_parse_reserved_ports("1,,2\n", 5, map, err, sizeof(err));
	check_refused("reserved ports 1,,2 refused", r, err,
		      "line 1: bad port or range '' (want 0-65535 or A-B)");
	r = cs_parse_reserved_ports("65536\n", 6, map, err, sizeof(err));
	check_refused("reserved ports 65536 refused", r, err,
		      "line 1: bad port or range '65536' (want 0-65535 or A-B)");
	r = cs_parse_reserved_ports("", 0, map, err, sizeof(err));
	check_refused("reserved ports: empty file refused", r, err, "empty file");

	check(cs_addr_is_loopback("127.0.0.1:80"), "loopback 127.0.0.1", "no");
	check(cs_addr_is_loopback("127.255.0.9:1"), "loopback 127.255.0.9", "no");
	check(!cs_addr_is_loopback("128.0.0.1:80"), "not loopback 128.0.0.1", "yes");
	check(!cs_addr_is_loopback("10.9.9.1:80"), "not loopback 10.9.9.1", "yes");
	check(cs_addr_is_loopback("[::1]:80"), "loopback ::1", "no");
	check(cs_addr_is_loopback("[::ffff:127.0.0.2]:80"), "loopback ::ffff:127.0.0.2", "no");
	check(!cs_addr_is_loopback("[::ffff:10.0.0.1]:80"), "not loopback ::ffff:10.0.0.1", "yes");
	check(!cs_addr_is_loopback("[::2]:80"), "not loopback ::2", "yes");
	check(!cs_addr_is_loopback("[::127.0.0.1]:80"), "not loopback ::127.0.0.1 (v4-compatible)", "yes");

	r = cs_parse_top("0", &top, err, sizeof(err));
	check(!r && top == 0, "--top 0", "got %d \"%s\" %lu", r, ERR(r), top);
	r = cs_parse_top("10", &top, err, sizeof(err));
	check(!r && top == 10, "--top 10", "got %d \"%s\" %lu", r, ERR(r), top);
	r = cs_parse_top("-1", &top, err, sizeof(err));
	check_refused("--top -1 refused", r, err,
		      "invalid --top '-1' (want 0 for all, or a positive integer)");
}

/* ---- tcp_closestat_folded -------------------------------------------- */

#define FHDR "side port folded ports port_lo port_hi time_wait close_wait fin_wait2\n"

static void folded_bad(const char *what, const char *text, const char *want)
{
	char err[CS_ERR_LEN] = "", name[NAME_LEN];
	struct cs_table t;
	int r = cs_parse_folded(text, strlen(text), &t, err, sizeof(err));

	snprintf(name, sizeof(name), "folded: %s refused", what);
	check_refused(name, r, err, want);
	if (r == 0)
		cs_table_free(&t);
}

#define FOLDED_TESTS	26

static void test_folded(void)
{
	static const char example[] = FHDR
		"local 0 1 300 32768 60999 300 0 1\n"
		"local 40000 0 1 40000 40000 5 0 0\n"
		"remote 0 1 5 1 65535 5 0 0\n"
		"remote 8080 0 1 8080 8080 300 2 0\n";
	static const char overflow[] = FHDR
		"local 0 1 3 32768 60999 3 0 0\n"
		"local other 0 17 0 0 40 0 2\n"
		"remote other 0 0 0 0 0 1 0\n";
	char err[CS_ERR_LEN] = "";
	const struct cs_row *r;
	struct cs_table t;
	bool ok;
	int rc;

	rc = cs_parse_folded(example, strlen(example), &t, err, sizeof(err));
	ok = rc == 0;
	check(ok, "folded: example parses", "refused: %s", err);
	check_parsed(ok, t.folded && t.ncols == 3 && t.nrows == 4,
		     "folded: key columns removed, 4 rows",
		     "got folded %d, %u columns, %zu rows", t.folded, t.ncols,
		     t.nrows);
	check_parsed(ok, !strcmp(t.cols[0], "time_wait") &&
		     !strcmp(t.cols[2], "fin_wait2") &&
		     t.counter_col[TCS_TIME_WAIT] == 0 &&
		     t.counter_col[TCS_FIN_WAIT2] == 2,
		     "folded: value columns are tcp_closestat's",
		     "got %s.. %s, time_wait %d fin_wait2 %d", t.cols[0],
		     t.cols[2], t.counter_col[TCS_TIME_WAIT],
		     t.counter_col[TCS_FIN_WAIT2]);
	r = ok ? &t.rows[0] : NULL;
	check_parsed(ok, r->folded && r->side == TCS_SIDE_LOCAL && !r->port &&
		     r->port_lo == 32768 && r->port_hi == 60999 &&
		     r->nports == 300,
		     "folded: row 0 is the local fold of 300 ports",
		     "got folded %d side %u port %u %u-%u ports %u", r->folded,
		     r->side, r->port, r->port_lo, r->port_hi, r->nports);
	check_parsed(ok, cs_vals(&t, 0)[0] == 300 && cs_vals(&t, 0)[2] == 1,
		     "folded: row 0 values", "got %llu %llu",
		     (unsigned long long)cs_vals(&t, 0)[0],
		     (unsigned long long)cs_vals(&t, 0)[2]);
	r = ok ? &t.rows[1] : NULL;
	check_parsed(ok, !r->folded && r->port == 40000 && r->nports == 1 &&
		     r->port_lo == 40000 && r->port_hi == 40000,
		     "folded: row 1 is port 40000 alone",
		     "got folded %d port %u ports %u", r->folded, r->port,
		     r->nports);
	check_parsed(ok, cs_vals(&t, 3)[0] == 300 && cs_vals(&t, 3)[1] == 2,
		     "folded: row 3 values", "got %llu %llu",
		     (unsigned long long)cs_vals(&t, 3)[0],
		     (unsigned long long)cs_vals(&t, 3)[1]);
	if (ok)
		cs_table_free(&t);

	/* the overflow rows: folded 0, ports refused, port_lo port_hi 0 0 */
	rc = cs_parse_folded(overflow, strlen(overflow), &t, err, sizeof(err));
	ok = rc == 0;
	check(ok, "folded: overflow rows parse", "refused: %s", err);
	r = ok ? &t.rows[1] : NULL;
	check_parsed(ok, r->other && !r->folded && r->side == TCS_SIDE_LOCAL &&
		     !r->port && !r->port_lo && !r->port_hi && r->nports == 17,
		     "folded: local other: 17 ports refused, no port",
		     "got other %d folded %d side %u port %u %u-%u ports %u",
		     r->other, r->folded, r->side, r->port, r->port_lo,
		     r->port_hi, r->nports);
	check_parsed(ok, cs_vals(&t, 1)[0] == 40 && cs_vals(&t, 1)[2] == 2,
		     "folded: local other: values", "got %llu %llu",
		     (unsigned long long)cs_vals(&t, 1)[0],
		     (unsigned long long)cs_vals(&t, 1)[2]);
	/* events of ports whose entry could not be allocated: none refused */
	r = ok ? &t.rows[2] : NULL;
	check_parsed(ok, r->other && r->side == TCS_SIDE_REMOTE && !r->nports,
		     "folded: remote other: 0 ports refused",
		     "got other %d side %u ports %u", r->other, r->side,
		     r->nports);
	if (ok)
		cs_table_free(&t);

	folded_bad("overflow row folded", FHDR "local other 1 1 1 9 0 0 0\n",
		   "line 2: other row: want folded 0, ports 0-65536, port_lo and port_hi 0");
	folded_bad("overflow row with a range", FHDR "local other 0 1 1 1 0 0 0\n",
		   "line 2: other row: want folded 0, ports 0-65536, port_lo and port_hi 0");
	folded_bad("overflow row of 65537 ports",
		   FHDR "remote other 0 65537 0 0 0 0 0\n",
		   "line 2: other row: want folded 0, ports 0-65536, port_lo and port_hi 0");
	folded_bad("fold row after the overflow row",
		   FHDR "local other 0 1 0 0 0 0 0\nlocal 0 1 1 1 9 0 0 0\n",
		   "line 3: local 0 after local other, the last row of its side");

	folded_bad("no folded column",
		   "side port ports port_lo port_hi time_wait close_wait fin_wait2\n",
		   "line 1: missing column 'folded'");
	folded_bad("no port_hi column",
		   "side port folded ports port_lo time_wait close_wait fin_wait2\n",
		   "line 1: missing column 'port_hi'");
	folded_bad("folded 2", FHDR "local 0 2 1 1 2 0 0 0\n",
		   "line 2: folded 2 is not 0 or 1");
	folded_bad("port row with a range", FHDR "local 80 0 1 80 81 0 0 0\n",
		   "line 2: port 80: want ports 1, port_lo and port_hi 80");
	folded_bad("port row of 2 ports", FHDR "local 80 0 2 80 80 0 0 0\n",
		   "line 2: port 80: want ports 1, port_lo and port_hi 80");
	folded_bad("port 0 not folded", FHDR "local 0 0 1 0 0 0 0 0\n",
		   "line 2: port 0: want ports 1, port_lo and port_hi 0");
	folded_bad("fold row with a port", FHDR "local 5 1 1 1 9 0 0 0\n",
		   "line 2: fold row with port 5, not 0");
	folded_bad("fold range reversed", FHDR "local 0 1 1 9 1 0 0 0\n",
		   "line 2: bad fold range 9-1");
	folded_bad("fold range past 65535", FHDR "local 0 1 1 1 65536 0 0 0\n",
		   "line 2: bad fold range 1-65536");
	folded_bad("fold of 65536 ports",
		   FHDR "local 0 1 65536 1 65535 0 0 0\n",
		   "line 2: fold row of 65536 ports");
	folded_bad("fold of no port", FHDR "local 0 1 0 1 10 1 0 0\n",
		   "line 2: fold row of 0 ports");
}

/* Each group with the number of results it reports: the plan is their sum. */
static const struct {
	const char *name;
	void (*run)(void);
	unsigned int tests;
} groups[] = {
	{ "good tables",	test_good_tables,	GOOD_TABLES_TESTS },
	{ "bad tables",		test_bad_tables,	BAD_TABLES_TESTS },
	{ "stat",		test_stat,		STAT_TESTS },
	{ "hist",		test_hist,		HIST_TESTS },
	{ "sockets",		test_sockets,		SOCKETS_TESTS },
	{ "folded",		test_folded,		FOLDED_TESTS },
	{ "options",		test_options,		OPTIONS_TESTS },
	{ "sysctl",		test_sysctl,		SYSCTL_TESTS },
};

int main(void)
{
	unsigned int i, plan = 0, before;

	for (i = 0; i < ARRAY_SIZE(groups); i++)
		plan += groups[i].tests;

	ksft_print_header();
	ksft_set_plan(plan);
	for (i = 0; i < ARRAY_SIZE(groups); i++) {
		before = ksft_test_num();
		groups[i].run();
		if (ksft_test_num() - before != groups[i].tests)
			ksft_print_msg("%s: %u results, planned %u\n",
				       groups[i].name, ksft_test_num() - before,
				       groups[i].tests);
	}
	ksft_finished();
}
