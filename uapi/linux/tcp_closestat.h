/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * tcp_closestat: the ABI shared by the kernel module and its readers.
 *
 * /proc/net/tcp_closestat (per network namespace, read-only):
 *   a header line of whitespace-separated column names, then one row per
 *   (side, port) that has a non-zero counter, "local" rows first, then
 *   "remote" rows, ports ascending within a side.  After a side's ports,
 *   its overflow row, port TCS_PORT_OTHER_NAME ("other"), if non-zero:
 *   the events of the ports that the caps (module parameters max_ports,
 *   max_ports_global) kept out of the table, so that every column's sum
 *   over a side's rows is the side's total.  Columns are found by name:
 *   later versions only append columns.
 *
 * /proc/net/tcp_closestat_stat (per network namespace, read-only):
 *   "name value" lines: events the module could not count, and its memory.
 *
 * /proc/net/tcp_closestat_ctl (per network namespace, write-only):
 *   write TCS_CTL_RESET ("reset", optionally newline-terminated) to zero
 *   this namespace's counters.  Needs CAP_NET_ADMIN in the namespace's
 *   user namespace; anything else written fails with EINVAL.
 */
#ifndef _UAPI_LINUX_TCP_CLOSESTAT_H
#define _UAPI_LINUX_TCP_CLOSESTAT_H

#define TCS_PROC_NAME		"tcp_closestat"
#define TCS_PROC_STAT_NAME	"tcp_closestat_stat"
#define TCS_PROC_CTL_NAME	"tcp_closestat_ctl"

#define TCS_PROC_PATH		"/proc/net/" TCS_PROC_NAME
#define TCS_PROC_STAT_PATH	"/proc/net/" TCS_PROC_STAT_NAME
#define TCS_PROC_CTL_PATH	"/proc/net/" TCS_PROC_CTL_NAME

#define TCS_CTL_RESET		"reset"

/*
 * Values of the "side" column: a row counts sockets by their own port
 * (local) or by their peer's (remote).
 */
enum tcs_side {
	TCS_SIDE_LOCAL,
	TCS_SIDE_REMOTE,
	TCS_NR_SIDES
};

#define TCS_SIDE_LOCAL_NAME	"local"
#define TCS_SIDE_REMOTE_NAME	"remote"
#define TCS_SIDE_NAMES		{ TCS_SIDE_LOCAL_NAME, TCS_SIDE_REMOTE_NAME }

/* Leading key columns of every row. */
#define TCS_COL_SIDE		"side"
#define TCS_COL_PORT		"port"

/* The "port" of a side's overflow row. */
#define TCS_PORT_OTHER_NAME	"other"

/*
 * Value columns, in /proc order after "side port".  Documentation/
 * tcp_closestat.rst gives the exact meaning of each:
 *   time_wait, close_wait, fin_wait2	entries into the state (cumulative)
 *   *_now				tracked sockets in the state now (gauges)
 *   tw_expired, tw_reused, tw_killed	how tracked TIME_WAIT sockets ended
 *   tw_overflow			timewait sockets the kernel could not
 *					create (tcp_max_tw_buckets, memory)
 *   close_wait_oldest_ms		age of the oldest tracked CLOSE_WAIT
 * Cumulative columns count since load or the last reset; gauges and ages
 * are not affected by a reset.
 */
enum tcs_counter {
	TCS_TIME_WAIT,
	TCS_CLOSE_WAIT,
	TCS_FIN_WAIT2,
	TCS_TIME_WAIT_NOW,
	TCS_CLOSE_WAIT_NOW,
	TCS_FIN_WAIT2_NOW,
	TCS_TW_EXPIRED,
	TCS_TW_REUSED,
	TCS_TW_KILLED,
	TCS_TW_OVERFLOW,
	TCS_CLOSE_WAIT_OLDEST_MS,
	TCS_NR_COUNTERS
};

#define TCS_COUNTER_NAMES {						\
	"time_wait", "close_wait", "fin_wait2",				\
	"time_wait_now", "close_wait_now", "fin_wait2_now",		\
	"tw_expired", "tw_reused", "tw_killed", "tw_overflow",		\
	"close_wait_oldest_ms"						\
}

/*
 * /proc/net/tcp_closestat_hist (per network namespace, read-only): how long
 * tracked sockets stayed in each state.  A header line
 *	state count sum_ms lt_1 lt_2 lt_4 ... lt_4194304 ge_4194304
 * then one line per state (time_wait, close_wait, fin_wait2).  Bucket
 * lt_1 holds stays under 1 ms, lt_N (N = 2^k) stays in [N/2, N) ms, and
 * ge_4194304 stays of 4194304 ms (about 70 minutes) or more.
 */
#define TCS_PROC_HIST_NAME	"tcp_closestat_hist"
#define TCS_PROC_HIST_PATH	"/proc/net/" TCS_PROC_HIST_NAME
#define TCS_HIST_BUCKETS	24	/* lt_1 ... lt_4194304, ge_4194304 */

#define TCS_HIST_COL_STATE	"state"
#define TCS_HIST_COL_COUNT	"count"
#define TCS_HIST_COL_SUM	"sum_ms"
#define TCS_HIST_COL_LT		"lt_"	/* + upper bound in ms */
#define TCS_HIST_COL_GE		"ge_"	/* + lower bound of the last bucket */

/*
 * The states counted, in the order of the rows of the hist file, indexed
 * like their entry columns.
 */
enum tcs_state {
	TCS_STATE_TIME_WAIT = TCS_TIME_WAIT,
	TCS_STATE_CLOSE_WAIT = TCS_CLOSE_WAIT,
	TCS_STATE_FIN_WAIT2 = TCS_FIN_WAIT2,
	TCS_NR_STATES
};

#define TCS_STATE_NAMES		{ "time_wait", "close_wait", "fin_wait2" }

/*
 * /proc/net/tcp_closestat_sockets (per network namespace, read-only): the
 * tracked sockets now in TIME_WAIT, CLOSE_WAIT or FIN_WAIT2, one per line:
 *	state local remote age_ms inode
 * with addresses as 127.0.0.1:80 or [::1]:80 and inode 0 for sockets that
 * no longer have a file (timewait and orphaned sockets).
 */
#define TCS_PROC_SOCKETS_NAME	"tcp_closestat_sockets"
#define TCS_PROC_SOCKETS_PATH	"/proc/net/" TCS_PROC_SOCKETS_NAME

#define TCS_SOCK_COL_STATE	"state"		/* a TCS_STATE_NAMES value */
#define TCS_SOCK_COL_LOCAL	"local"
#define TCS_SOCK_COL_REMOTE	"remote"
#define TCS_SOCK_COL_AGE	"age_ms"
#define TCS_SOCK_COL_INODE	"inode"

/*
 * /proc/net/tcp_closestat_folded (per network namespace, read-only): the
 * rows of tcp_closestat with the ports of clients folded.  The header
 *	side port folded ports port_lo port_hi <the tcp_closestat columns>
 * then, per side ("local" rows first), at most one fold row, then one row
 * per port that is not folded, ports ascending.  Each port is classified
 * once, by the first socket the module counts on it:
 *   a socket bound to its port by hand (bind() to a port): neither port
 *	is folded;
 *   a listener's child: its peer's port is folded, its own is not;
 *   any other socket whose port is in net.ipv4.ip_local_port_range, a
 *	client's (connect() or bind() to port 0 picked the port): its own
 *	port is folded, its peer's is not; outside the range, its peer's.
 * A timewait socket seen before its full socket (the module loaded while
 * it was in FIN_WAIT2) is classified by the range alone.
 *   fold row	port 0, folded 1, ports the number of distinct ports
 *		folded into it since the namespace's first event, port_lo
 *		port_hi the range when the read began (local) or 1 65535
 *		(remote);
 *		each column the sum over those ports (close_wait_oldest_ms
 *		their maximum), counted by the probes as they count the
 *		ports, so totals only grow and equal tcp_closestat's sums
 *   port rows	folded 0, ports 1, port_lo = port_hi = port, and the
 *		columns of the port's row in tcp_closestat
 *   overflow row	port "other", last of its side: folded 0, ports the
 *		number of the side's ports refused by the caps, port_lo
 *		port_hi 0 0, and the columns of tcp_closestat's row
 * Columns are found by name: later versions only append columns.
 */
#define TCS_PROC_FOLDED_NAME	"tcp_closestat_folded"
#define TCS_PROC_FOLDED_PATH	"/proc/net/" TCS_PROC_FOLDED_NAME

#define TCS_FOLD_COL_FOLDED	"folded"
#define TCS_FOLD_COL_PORTS	"ports"
#define TCS_FOLD_COL_PORT_LO	"port_lo"
#define TCS_FOLD_COL_PORT_HI	"port_hi"

/* Lines of /proc/net/tcp_closestat_stat. */
#define TCS_STAT_ALLOC_FAILED	"alloc_failed"
#define TCS_STAT_PORTS		"ports"
#define TCS_STAT_MEMORY		"memory_bytes"
#define TCS_STAT_MISSED_PREFIX	"missed_"
#define TCS_STAT_UNTRACKED	"untracked"
#define TCS_STAT_TRACKED	"tracked"
#define TCS_STAT_MAX_TRACKED	"max_tracked"
/* ports_refused_local, ports_refused_remote: kept out by the caps */
#define TCS_STAT_PORTS_REFUSED	"ports_refused_"	/* + side name */
#define TCS_STAT_MAX_PORTS	"max_ports"
#define TCS_STAT_PORTS_GLOBAL	"ports_global"
#define TCS_STAT_MAX_PORTS_GLOBAL "max_ports_global"

#endif /* _UAPI_LINUX_TCP_CLOSESTAT_H */
