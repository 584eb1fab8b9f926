/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cs_parse: parsers for the text files of tcp_closestat and for
 * closestat's command-line values.  No I/O, no global state: each
 * function takes a buffer and either fills its result or returns -1 with
 * a one-line message in err ("line 3: short row: ...").
 */
#ifndef CS_PARSE_H
#define CS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/tcp_closestat.h>

#define CS_MAX_COLS	64	/* value columns after "side port" */
#define CS_MAX_NAME	64	/* bytes of a column or stat name */
#define CS_MAX_STATS	1024	/* lines of the stat file */
#define CS_NR_PORTS	65536
#define CS_ERR_LEN	320

/*
 * The columns every version of the module has: the first ones of
 * TCS_COUNTER_NAMES.  Later ones may be absent (counter_col[] is -1).
 */
#define CS_NR_REQUIRED	(TCS_FIN_WAIT2 + 1)

extern const char *const cs_side_names[TCS_NR_SIDES];
extern const char *const cs_counter_names[TCS_NR_COUNTERS];

/*
 * A row of either file.  A fold row of tcp_closestat_folded has port 0,
 * folded set, and covers nports ports of port_lo..port_hi.  A side's
 * overflow row (port TCS_PORT_OTHER_NAME, the events of the ports the
 * module's caps refused) has other set, port, port_lo and port_hi 0, and
 * nports the number of ports refused (from tcp_closestat_folded; 0, not
 * known, from tcp_closestat): it is no port, never look its port up.
 * Every other row is one port: nports 1, port_lo = port_hi = port.
 */
struct cs_row {
	uint8_t side;		/* TCS_SIDE_LOCAL or TCS_SIDE_REMOTE */
	bool folded;
	bool other;
	uint16_t port;
	uint16_t port_lo, port_hi;
	uint32_t nports;
};

/*
 * A row's (side, port) as one number below CS_NR_KEYS, for arrays indexed
 * by row: a side's overflow row after its port 65535.
 */
#define CS_NR_KEYS	(TCS_NR_SIDES * (CS_NR_PORTS + 1))

static inline unsigned int cs_row_key(const struct cs_row *r)
{
	return r->side * (CS_NR_PORTS + 1) + (r->other ? CS_NR_PORTS : r->port);
}

/* /proc/net/tcp_closestat or /proc/net/tcp_closestat_folded */
struct cs_table {
	bool folded;				/* from tcp_closestat_folded */
	unsigned int ncols;			/* value columns */
	char cols[CS_MAX_COLS][CS_MAX_NAME + 1];
	int counter_col[TCS_NR_COUNTERS];	/* column of each known name, or -1 */
	size_t nrows;
	size_t cap;
	struct cs_row *rows;
	uint64_t *vals;				/* nrows * ncols, row-major */
};

static inline uint64_t *cs_vals(const struct cs_table *t, size_t row)
{
	return t->vals + row * t->ncols;
}

/* /proc/net/tcp_closestat_stat */
struct cs_stat_entry {
	char name[CS_MAX_NAME + 1];
	uint64_t value;
};

struct cs_stat {
	size_t n;
	struct cs_stat_entry *e;
};

/*
 * /proc/net/tcp_closestat_hist: one row per state, "state count sum_ms"
 * then TCS_HIST_BUCKETS bucket counts (lt_1, lt_2, ... lt_4194304,
 * ge_4194304).  Columns a later module appends after the buckets are
 * skipped.  count must equal the sum of the buckets.
 */
#define CS_HIST_MAX_STATES	16

struct cs_hist_row {
	char state[CS_MAX_NAME + 1];
	uint64_t count;
	uint64_t sum_ms;
	uint64_t bucket[TCS_HIST_BUCKETS];
};

struct cs_hist {
	size_t n;
	struct cs_hist_row row[CS_HIST_MAX_STATES];
};

/*
 * Bucket b holds stays in [lo, hi) ms, hi 0 for the last (open) bucket.
 * Its column name ("lt_4", "ge_4194304") goes into name.
 */
void cs_hist_bucket(unsigned int b, uint64_t *lo, uint64_t *hi,
		     char *name, size_t namelen);

/*
 * /proc/net/tcp_closestat_sockets: "state local remote age_ms inode", then
 * one row per tracked socket; addresses are 127.0.0.1:80 or [::1]:80.
 * Columns a later module appends are skipped.
 */
#define CS_ADDR_LEN		64	/* "[" INET6_ADDRSTRLEN "]" ":65535" */

struct cs_sock {
	char state[CS_MAX_NAME + 1];
	char local[CS_ADDR_LEN];	/* as in the file, normalised */
	char remote[CS_ADDR_LEN];
	uint16_t lport, rport;
	uint64_t age_ms;
	uint64_t inode;
};

struct cs_socks {
	size_t n, cap;
	struct cs_sock *s;
};

int cs_parse_hist(const char *buf, size_t len, struct cs_hist *h,
		   char *err, size_t errlen);
int cs_parse_sockets(const char *buf, size_t len, struct cs_socks *s,
		      char *err, size_t errlen);
void cs_socks_free(struct cs_socks *s);

/* Parse a whole file; on success the caller frees with cs_table_free(). */
int cs_parse_table(const char *buf, size_t len, struct cs_table *t,
		    char *err, size_t errlen);
void cs_table_free(struct cs_table *t);
/*
 * /proc/net/tcp_closestat_folded: parsed as a table, then its folded,
 * ports, port_lo and port_hi columns are checked, moved into each row's
 * fields and removed, so that the value columns are tcp_closestat's.
 */
int cs_parse_folded(const char *buf, size_t len, struct cs_table *t,
		     char *err, size_t errlen);
/* Append a row (zero values); -1 on allocation failure. */
int cs_table_add_row(struct cs_table *t, unsigned int side,
		      unsigned int port);
/* Append side's overflow row (zero values, nports 0); -1 likewise. */
int cs_table_add_other(struct cs_table *t, unsigned int side);
/* Column index of name, or -1. */
int cs_table_col(const struct cs_table *t, const char *name);
/* Which known counter (enum tcs_counter) column c is, or -1. */
int cs_table_counter_of(const struct cs_table *t, unsigned int c);

int cs_parse_stat(const char *buf, size_t len, struct cs_stat *s,
		   char *err, size_t errlen);
void cs_stat_free(struct cs_stat *s);

/*
 * "80", "80,443", "8000-8100,9000": set one bit per port in map
 * (CS_NR_PORTS bits).  Ports are 1-65535.
 */
int cs_parse_ports(const char *s, uint8_t *map, char *err, size_t errlen);

/*
 * "time_wait,close-wait", case-insensitive, '-' for '_', "all": set bit
 * (1 << enum tcs_counter) in *mask for each.
 */
int cs_parse_states(const char *s, unsigned int *mask, char *err,
		     size_t errlen);

/* A positive decimal number of seconds ("1", "0.5"), at most a day. */
int cs_parse_interval(const char *s, double *sec, char *err, size_t errlen);

/* Seconds, 0 or more, decimals allowed ("0", "2.5"), at most 10 years: ms. */
int cs_parse_age(const char *s, uint64_t *ms, char *err, size_t errlen);

/* A positive integer that fits unsigned long. */
int cs_parse_count(const char *s, unsigned long *n, char *err, size_t errlen);

/*
 * The sysctl files closestat --exhaustion reads from /proc/sys/net/ipv4,
 * one line each as the kernel writes it (numbers separated by tabs, a
 * newline at the end).  ip_local_port_range: "LOW HIGH", 1-65535, LOW <=
 * HIGH.  tcp_tw_reuse and the like: one number 0-max.
 * ip_local_reserved_ports: "" or "8000-8100,9000" (ports 0-65535), one
 * bit per port in map (CS_NR_PORTS bits, cleared first).
 */
int cs_parse_port_range(const char *buf, size_t len, unsigned int *lo,
			unsigned int *hi, char *err, size_t errlen);
int cs_parse_sysctl_int(const char *buf, size_t len, unsigned int max,
			unsigned int *val, char *err, size_t errlen);
int cs_parse_reserved_ports(const char *buf, size_t len, uint8_t *map,
			    char *err, size_t errlen);

/*
 * Whether the address of "1.2.3.4:80" or "[::1]:80" (as in struct
 * cs_sock) is loopback as tcp_twsk_unique() decides for tcp_tw_reuse 2:
 * 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104.
 */
bool cs_addr_is_loopback(const char *addr);

/* --top: 0 (all) or a positive integer that fits unsigned long. */
int cs_parse_top(const char *s, unsigned long *n, char *err, size_t errlen);

static inline bool cs_port_isset(const uint8_t *map, unsigned int port)
{
	return map[port >> 3] & (1u << (port & 7));
}

#endif /* CS_PARSE_H */
