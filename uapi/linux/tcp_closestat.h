/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * tcp_closestat: the ABI shared by the kernel module and its readers.
 *
 * /proc/net/tcp_closestat (per network namespace, read-only):
 *   a header line of whitespace-separated column names, then one row per
 *   (side, port) that has a non-zero counter, "local" rows first, then
 *   "remote" rows, ports ascending within a side.  Columns are found by
 *   name: later versions only append columns.
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

/* Values of the "side" column. */
#define TCS_SIDE_LOCAL_NAME	"local"
#define TCS_SIDE_REMOTE_NAME	"remote"

/* Leading key columns of every row. */
#define TCS_COL_SIDE		"side"
#define TCS_COL_PORT		"port"

/*
 * Counter columns, in /proc order after "side port".  Each is the number
 * of sockets that entered the state since the module was loaded (or since
 * the last reset) in this network namespace.
 */
enum tcs_counter {
	TCS_TIME_WAIT,
	TCS_CLOSE_WAIT,
	TCS_FIN_WAIT2,
	TCS_NR_COUNTERS
};

#define TCS_COUNTER_NAMES { "time_wait", "close_wait", "fin_wait2" }

/* Lines of /proc/net/tcp_closestat_stat. */
#define TCS_STAT_ALLOC_FAILED	"alloc_failed"
#define TCS_STAT_PORTS		"ports"
#define TCS_STAT_MEMORY		"memory_bytes"
#define TCS_STAT_MISSED_PREFIX	"missed_"

#endif /* _UAPI_LINUX_TCP_CLOSESTAT_H */
