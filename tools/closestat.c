// SPDX-License-Identifier: GPL-2.0
/*
 * closestat: show the per-port TIME_WAIT, CLOSE_WAIT and FIN_WAIT2
 * counters of the tcp_closestat module as a table, rates, JSON or
 * Prometheus text; the time-in-state histograms (--hist); the sockets
 * stuck in CLOSE_WAIT and their owners (--stuck); the ephemeral ports they
 * hold per destination (--exhaustion); every network namespace at once
 * (-A); whether this kernel has what the module's probes read
 * (--check-kernel, cs_kcheck.c).
 *
 * Exit status: 0 ok, 1 runtime error (module not loaded, unreadable or
 * malformed file, reset refused, with -A a namespace not read) or, with
 * --check-kernel, a mismatch, 2 usage error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "cs_kcheck.h"
#include "cs_parse.h"
#include "json_writer.h"

#define PROG		"closestat"
#define NETNS_RUN_DIR	"/run/netns"
#define SYSCTL_DIR	"/proc/sys/net/ipv4"	/* follows the netns */
#define MAX_FILE	(64 << 20)	/* refuse to read more than this */
#define JSON_VERSION	1
#ifndef CS_VERSION
#define CS_VERSION	"0.0+unknown"	/* tools/Makefile: scripts/version.sh */
#endif

/* The module is named after its file. */
#define MODULE_NAME	TCS_PROC_NAME

/*
 * What the known columns are.  Counters only grow (until a reset) and get
 * rates and a _total suffix; gauges are values now.  Columns this table
 * does not know are carried through as they are ("untyped").
 */
enum kind {
	KIND_UNTYPED,
	KIND_COUNTER,
	KIND_GAUGE,
};

static const struct {
	enum kind kind;
	const char *help;
} known[TCS_NR_COUNTERS] = {
	[TCS_TIME_WAIT]	 = { KIND_COUNTER, "TCP sockets that entered TIME_WAIT" },
	[TCS_CLOSE_WAIT] = { KIND_COUNTER, "TCP sockets that entered CLOSE_WAIT" },
	[TCS_FIN_WAIT2]	 = { KIND_COUNTER, "TCP sockets that entered FIN_WAIT2" },
	[TCS_TIME_WAIT_NOW]  = { KIND_GAUGE, "Tracked TCP sockets in TIME_WAIT now" },
	[TCS_CLOSE_WAIT_NOW] = { KIND_GAUGE, "Tracked TCP sockets in CLOSE_WAIT now" },
	[TCS_FIN_WAIT2_NOW]  = { KIND_GAUGE, "Tracked TCP sockets in FIN_WAIT2 now" },
	[TCS_TW_EXPIRED] = { KIND_COUNTER, "Tracked TIME_WAIT sockets that ended when their timer expired" },
	[TCS_TW_REUSED]	 = { KIND_COUNTER, "Tracked TIME_WAIT sockets taken over early by a new connection" },
	[TCS_TW_KILLED]	 = { KIND_COUNTER, "Tracked TIME_WAIT sockets ended early otherwise (RST, ss -K, namespace exit)" },
	[TCS_TW_OVERFLOW] = { KIND_COUNTER, "Timewait sockets the kernel could not create (tcp_max_tw_buckets, memory)" },
	[TCS_CLOSE_WAIT_OLDEST_MS] = { KIND_GAUGE, "Age of the oldest tracked CLOSE_WAIT socket" },
};

static enum kind kind_of(int k)
{
	return k < 0 ? KIND_UNTYPED : known[k].kind;
}

/* Shown by default in the table; -e shows every column. */
static bool default_column(int k)
{
	switch (k) {
	case TCS_TIME_WAIT:
	case TCS_CLOSE_WAIT:
	case TCS_FIN_WAIT2:
	case TCS_TIME_WAIT_NOW:
	case TCS_CLOSE_WAIT_NOW:
	case TCS_FIN_WAIT2_NOW:
		return true;
	default:
		return false;
	}
}

static const char *const state_names[TCS_NR_STATES] = TCS_STATE_NAMES;

enum {
	OPT_PROM = 0x100,
	OPT_RESET,
	OPT_HIST,
	OPT_STUCK,
	OPT_VERSION,
	OPT_CHECK_KERNEL,
	OPT_BTF,
	OPT_ALL_NETNS,
	OPT_TOP,
};

static struct {
	bool numeric, no_header, zeros, json, prom, stat, reset;
	bool extended, hist, stuck, check_kernel, all_netns;
	bool exhaustion, top_set;	/* -x, --top */
	bool all_ports;			/* -a, or implied by -p */
	unsigned long top;		/* --top: 0 all */
	const char *btf;		/* --btf: check this file's BTF */
	uint64_t stuck_ms;		/* --stuck: at least this old */
	bool sides[TCS_NR_SIDES];
	bool ports_set;
	uint8_t ports[CS_NR_PORTS / 8];
	unsigned int states;		/* 0: every column */
	double interval;		/* 0: read once */
	unsigned long count;		/* 0: forever */
	const char *netns;
	const char *output;		/* --output: FILE, replaced atomically */
	const char *proc_dir;		/* TCS_PROC_DIR, for testing */
} opt;

static char table_path[4096], stat_path[4096], ctl_path[4096];
static char hist_path[4096], sockets_path[4096], folded_path[4096];
static char output_tmp[4096];	/* --output's file until renamed, else "" */

/* "closestat: " and the message on stderr, without a newline. */
__attribute__((format(printf, 1, 0)))
static void vmessage(const char *fmt, va_list ap)
{
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
}

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A message that does not end the run. */
__attribute__((format(printf, 1, 2)))
static void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

__attribute__((format(printf, 1, 2), noreturn))
static void die_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	fputs("\nTry '" PROG " -h' for more information.\n", stderr);
	exit(2);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [OPTIONS]\n"
"Show how many TCP sockets entered TIME_WAIT, CLOSE_WAIT and FIN_WAIT2,\n"
"per port and side, in this network namespace (" TCS_PROC_PATH ").\n"
"\n"
"  -a, --all-ports        a row for every port: clients' ports are not folded\n"
"  -n, --numeric          show port numbers, not service names\n"
"  -H, --no-header        omit the header line\n"
"  -z, --zeros            also show rows whose shown counters are zero\n"
"                         (with -p: every listed port, even if never seen)\n"
"  -p, --port=LIST        only these ports: 8080,8443 or 8000-8100 (implies -a)\n"
"  -l, --local            only local ports (our end listens or is bound there)\n"
"  -r, --remote           only remote ports (the peer's port)\n"
"  -s, --state=LIST       only these columns, e.g. %s,%s\n"
"  -e, --extended         every column (default: entries and gauges now)\n"
"  -i, --interval=SECS    repeat every SECS (0.5 ok) and show rates per second\n"
"  -c, --count=N          with -i: stop after N intervals\n"
"  -j, --json             JSON (with -i: one object per line)\n"
"      --prom             Prometheus text format, with the module's statistics\n"
"                         and the time-in-state histograms\n"
"  -o, --output=FILE      write to FILE, atomically: a temporary file in its\n"
"                         directory, renamed to FILE when complete (mode 0644)\n"
"      --hist             time in each state (" TCS_PROC_HIST_NAME "), as bars\n"
"      --stuck=SECS       sockets in %s for at least SECS (0.5 ok), with\n"
"                         their process (pid/command)\n"
"  -x, --exhaustion       ephemeral ports (ip_local_port_range) the tracked\n"
"                         sockets hold per destination, busiest first, and\n"
"                         whether tcp_tw_reuse applies (-p: remote ports)\n"
"      --top=N            with -x: only the N busiest (default all; --prom 10;\n"
"                         0 all)\n"
"  -S, --stat             show the module's statistics (" TCS_PROC_STAT_NAME ")\n"
"  -N, --netns=NAME       read network namespace NAME (" NETNS_RUN_DIR "/NAME)\n"
"  -A, --all-netns        every network namespace on the host, named or with\n"
"                         a process in it (as lsns -t net), with a netns\n"
"                         column (its inode) and its name or pid/command;\n"
"                         needs root; exit status 1 if one could not be read\n"
"      --reset            zero this namespace's counters (needs CAP_NET_ADMIN)\n"
"      --check-kernel     whether this kernel has every function and field the\n"
"                         module's probes read (its BTF and symbols), one line\n"
"                         each; exit status 1 on any mismatch (-j: JSON)\n"
"      --btf=FILE         with --check-kernel: check the BTF of FILE (raw, or a\n"
"                         vmlinux with a .BTF section) instead\n"
"  -h, --help             show this help\n"
"      --version          show the version\n"
"\n"
"Clients' ports are one row per side (" TCS_PROC_FOLDED_PATH "): the\n"
"local ports connect() or bind() to port 0 picked from the ephemeral range,\n"
"shown as that range, and the peers' ports of the connections our services\n"
"accepted, shown as 1-65535; the ports column says how many ports a row\n"
"covers.  The events of the ports the module's caps (max_ports,\n"
"max_ports_global) refused, but for those that fold, are one row per side,\n"
"port \"" TCS_PORT_OTHER_NAME "\", its ports column how many; -p never matches it.\n"
"\n"
"Rows are sorted busiest first.  TCS_PROC_DIR=DIR reads the files from DIR\n"
"instead of /proc/net, TCS_SYSCTL_DIR=DIR -x's sysctl files instead of\n"
SYSCTL_DIR " (for testing).\n"
"\n"
"EXAMPLES:\n"
"    " PROG "                  # busiest first, clients' ports folded\n"
"    " PROG " -a               # every (side, port), clients' ports too\n"
"    " PROG " -e -p 8080       # every column of port 8080\n"
"    " PROG " -r -s time_wait  # clients' TIME_WAIT, by the service port\n"
"    " PROG " -i 1 -c 3        # rates per second, three times\n"
"    " PROG " -j               # JSON\n"
"    " PROG " --prom -o /var/lib/prometheus/node-exporter/tcp_closestat.prom\n"
"                               # for node_exporter's textfile collector\n"
"    " PROG " -N blue -l       # a server's ports in network namespace blue\n"
"    " PROG " -A -s time_wait  # which namespace (container) piles up TIME_WAIT\n"
"    " PROG " --stuck 60       # CLOSE_WAIT for a minute or more, and who holds it\n"
"    " PROG " --hist           # how long sockets stay in each state\n"
"    " PROG " -x --top 5       # the 5 destinations closest to running out of ports\n"
"    " PROG " --reset          # zero this namespace's counters\n"
"\n"
"See closestat(8) and tcp_closestat(4).\n",
		cs_counter_names[TCS_TIME_WAIT], cs_counter_names[TCS_CLOSE_WAIT],
		state_names[TCS_STATE_CLOSE_WAIT]);
}

/* ---- --output ---------------------------------------------------------- */

/* Exit before output_commit(): FILE stays as it was. */
static void output_abort(void)
{
	if (output_tmp[0])
		unlink(output_tmp);
}

/*
 * --output=FILE: standard output goes to a new file beside FILE, which
 * output_commit() renames to FILE once everything is written, so that a
 * reader (node_exporter's textfile collector) sees the old file or the
 * new one, never a part.  The temporary name, FILE.XXXXXX, does not end
 * in .prom: the collector ignores it.
 */
static void output_open(void)
{
	int fd, err;

	if ((size_t)snprintf(output_tmp, sizeof(output_tmp), "%s.XXXXXX",
			     opt.output) >= sizeof(output_tmp)) {
		output_tmp[0] = '\0';
		die("%s: name too long", opt.output);
	}
	fd = mkstemp(output_tmp);
	if (fd < 0) {
		err = errno;
		output_tmp[0] = '\0';
		die("%s: cannot create a temporary file beside it: %s",
		    opt.output, strerror(err));
	}
	if (atexit(output_abort)) {
		unlink(output_tmp);
		die("atexit failed");
	}
	/* mkstemp() makes it 0600; node_exporter runs as another user. */
	if (fchmod(fd, 0644) || dup2(fd, STDOUT_FILENO) < 0)
		die("%s: %s", output_tmp, strerror(errno));
	close(fd);
}

static void output_commit(void)
{
	if (fflush(stdout) || ferror(stdout) || fsync(STDOUT_FILENO))
		die("%s: %s", output_tmp, strerror(errno));
	if (rename(output_tmp, opt.output))
		die("%s: %s", opt.output, strerror(errno));
	output_tmp[0] = '\0';
}

/* ---- reading files ---------------------------------------------------- */

static void set_paths(void)
{
	const char *dir = getenv("TCS_PROC_DIR");

	opt.proc_dir = dir && *dir ? dir : NULL;
	if (opt.proc_dir) {
		snprintf(table_path, sizeof(table_path), "%s/%s", dir, TCS_PROC_NAME);
		snprintf(stat_path, sizeof(stat_path), "%s/%s", dir, TCS_PROC_STAT_NAME);
		snprintf(ctl_path, sizeof(ctl_path), "%s/%s", dir, TCS_PROC_CTL_NAME);
		snprintf(hist_path, sizeof(hist_path), "%s/%s", dir, TCS_PROC_HIST_NAME);
		snprintf(sockets_path, sizeof(sockets_path), "%s/%s", dir,
			 TCS_PROC_SOCKETS_NAME);
		snprintf(folded_path, sizeof(folded_path), "%s/%s", dir,
			 TCS_PROC_FOLDED_NAME);
	} else {
		snprintf(table_path, sizeof(table_path), "%s", TCS_PROC_PATH);
		snprintf(stat_path, sizeof(stat_path), "%s", TCS_PROC_STAT_PATH);
		snprintf(ctl_path, sizeof(ctl_path), "%s", TCS_PROC_CTL_PATH);
		snprintf(hist_path, sizeof(hist_path), "%s", TCS_PROC_HIST_PATH);
		snprintf(sockets_path, sizeof(sockets_path), "%s", TCS_PROC_SOCKETS_PATH);
		snprintf(folded_path, sizeof(folded_path), "%s", TCS_PROC_FOLDED_PATH);
	}
}

static void die_open(const char *path)
{
	if (errno == ENOENT)
		die("%s: %s (is the " MODULE_NAME " module loaded?)",
		    path, strerror(errno));
	die("%s: %s", path, strerror(errno));
}

/*
 * The whole file in a NUL-terminated buffer.  With optional, a file that
 * does not exist is NULL (an older module), not an error.
 */
static char *read_file_opt(const char *path, size_t *lenp, bool optional)
{
	size_t len = 0, cap = 16384;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && optional && errno == ENOENT)
		return NULL;
	if (fd < 0)
		die_open(path);
	buf = malloc(cap);
	if (!buf)
		die("out of memory");
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			cap *= 2;
			if (cap > MAX_FILE)
				die("%s: file larger than %d MiB", path,
				    MAX_FILE >> 20);
			buf = realloc(buf, cap);
			if (!buf)
				die("out of memory");
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("%s: %s", path, strerror(errno));
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

static char *read_file(const char *path, size_t *lenp)
{
	return read_file_opt(path, lenp, false);
}

/* Set when a module without tcp_closestat_folded gave every port. */
static bool not_folded;

/*
 * The counters: folded by the module (tcp_closestat_folded) unless -a, or
 * every port.  A module older than the folded file gives every port, said
 * on stderr once the output is complete (main()): closestat never folds
 * by itself, so it never folds a service port away.
 */
static void read_table(struct cs_table *t)
{
	char err[CS_ERR_LEN];
	char *buf = NULL;
	size_t len;

	if (!opt.all_ports) {
		buf = read_file_opt(folded_path, &len, true);
		if (buf) {
			if (cs_parse_folded(buf, len, t, err, sizeof(err)))
				die("%s: %s", folded_path, err);
			free(buf);
			return;
		}
	}
	buf = read_file(table_path, &len);
	not_folded = !opt.all_ports;
	if (cs_parse_table(buf, len, t, err, sizeof(err)))
		die("%s: %s", table_path, err);
	free(buf);
}

static void read_stat(struct cs_stat *s)
{
	char err[CS_ERR_LEN];
	size_t len;
	char *buf = read_file(stat_path, &len);

	if (cs_parse_stat(buf, len, s, err, sizeof(err)))
		die("%s: %s", stat_path, err);
	free(buf);
}

/* false if the file does not exist and optional is set */
static bool read_hist(struct cs_hist *h, bool optional)
{
	char err[CS_ERR_LEN];
	size_t len;
	char *buf = read_file_opt(hist_path, &len, optional);

	if (!buf)
		return false;
	if (cs_parse_hist(buf, len, h, err, sizeof(err)))
		die("%s: %s", hist_path, err);
	free(buf);
	return true;
}

static void read_sockets(struct cs_socks *s)
{
	char err[CS_ERR_LEN];
	size_t len;
	char *buf = read_file(sockets_path, &len);

	if (cs_parse_sockets(buf, len, s, err, sizeof(err)))
		die("%s: %s", sockets_path, err);
	free(buf);
}

/* ---- namespaces and reset --------------------------------------------- */

static void enter_netns(const char *name)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("cannot open network namespace \"%s\": %s: %s",
		    name, path, strerror(errno));
	if (setns(fd, CLONE_NEWNET))
		die("cannot enter network namespace \"%s\": %s",
		    name, strerror(errno));
	close(fd);
}

static void do_reset(void)
{
	static const char word[] = TCS_CTL_RESET "\n";
	ssize_t n;
	int fd;

	fd = open(ctl_path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == EACCES || errno == EPERM)
			die("%s: %s (resetting needs CAP_NET_ADMIN)",
			    ctl_path, strerror(errno));
		die_open(ctl_path);
	}
	n = write(fd, word, sizeof(word) - 1);
	if (n < 0) {
		if (errno == EPERM || errno == EACCES)
			die("%s: %s (resetting needs CAP_NET_ADMIN in the network namespace)",
			    ctl_path, strerror(errno));
		if (errno == EINVAL)
			die("%s: %s (the module refused \"" TCS_CTL_RESET "\")",
			    ctl_path, strerror(errno));
		die("%s: %s", ctl_path, strerror(errno));
	}
	if ((size_t)n != sizeof(word) - 1)
		die("%s: short write", ctl_path);
	if (close(fd))
		die("%s: %s", ctl_path, strerror(errno));
}

/* ---- selecting rows and columns --------------------------------------- */

struct view {
	struct cs_table t;
	unsigned int ncols;		/* shown columns */
	unsigned int col[CS_MAX_COLS];	/* their index in t */
	int counter[CS_MAX_COLS];	/* enum tcs_counter, or -1 if unknown */
	size_t nrows;
	size_t *row;			/* shown rows, index in t */
	double *rate;			/* with -i: nrows * ncols, -1 if none */
};

/*
 * Set when -p left out an overflow row with events: a listed port may be
 * one the caps refused, counted there.  Said on stderr at the end (main()).
 */
static bool other_not_shown;

/* -p lists ports: a side's overflow row (ports the caps refused) is none. */
static bool row_selected(const struct cs_row *r)
{
	if (!opt.sides[r->side])
		return false;
	return !opt.ports_set || (!r->other && cs_port_isset(opt.ports, r->port));
}

/* With -z -p: rows for listed ports that the module never saw. */
static void add_zero_rows(struct cs_table *t)
{
	uint8_t *have = calloc(TCS_NR_SIDES * CS_NR_PORTS / 8, 1);
	unsigned int side, port, bit;
	size_t i;

	if (!have)
		die("out of memory");
	for (i = 0; i < t->nrows; i++) {
		if (t->rows[i].other)
			continue;
		bit = t->rows[i].side * CS_NR_PORTS + t->rows[i].port;
		have[bit >> 3] |= 1u << (bit & 7);
	}
	for (side = 0; side < TCS_NR_SIDES; side++) {
		if (!opt.sides[side])
			continue;
		for (port = 1; port < CS_NR_PORTS; port++) {
			bit = side * CS_NR_PORTS + port;
			if (!cs_port_isset(opt.ports, port) ||
			    (have[bit >> 3] & (1u << (bit & 7))))
				continue;
			if (cs_table_add_row(t, side, port))
				die("out of memory");
		}
	}
	free(have);
}

/* side, then port, a side's overflow row last */
static int cmp_key(const struct cs_row *a, const struct cs_row *b)
{
	unsigned int x = cs_row_key(a), y = cs_row_key(b);

	return (x > y) - (x < y);
}

static const struct view *sort_view;

/* /proc order: local before remote, ports ascending, then "other" */
static int cmp_proc(const void *a, const void *b)
{
	const struct cs_table *t = &sort_view->t;

	return cmp_key(&t->rows[*(const size_t *)a], &t->rows[*(const size_t *)b]);
}

struct busy {
	size_t i;		/* index in the view */
	double rate;		/* sum of the shown counters' rates */
	double total;		/* sum of the shown counters */
	const struct cs_row *key;
};

static int cmp_busy(const void *a, const void *b)
{
	const struct busy *x = a, *y = b;

	if (x->rate != y->rate)
		return x->rate < y->rate ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return cmp_key(x->key, y->key);
}

/* Whether one of the columns v shows is not zero in a row's values. */
static bool any_shown(const struct view *v, const uint64_t *val)
{
	unsigned int c;

	for (c = 0; c < v->ncols; c++)
		if (val[v->col[c]])
			return true;
	return false;
}

/* Build the view: which columns and rows to show, in /proc order. */
static void make_view(struct view *v)
{
	struct cs_table *t = &v->t;
	unsigned int c;
	size_t i;

	v->ncols = 0;
	for (c = 0; c < t->ncols; c++) {
		int k = cs_table_counter_of(t, c);

		if (opt.states && (k < 0 || !(opt.states & (1u << k))))
			continue;
		/* the plain table: entries and gauges; JSON, --prom, -e: all */
		if (!opt.states && !opt.extended && !opt.json && !opt.prom &&
		    !default_column(k))
			continue;
		v->col[v->ncols] = c;
		v->counter[v->ncols] = k;
		v->ncols++;
	}

	if (opt.zeros && opt.ports_set)
		add_zero_rows(t);

	v->row = malloc((t->nrows ? t->nrows : 1) * sizeof(*v->row));
	if (!v->row)
		die("out of memory");
	v->nrows = 0;
	for (i = 0; i < t->nrows; i++) {
		const struct cs_row *r = &t->rows[i];

		if (!row_selected(r)) {
			if (r->other && opt.sides[r->side] &&
			    any_shown(v, cs_vals(t, i)))
				other_not_shown = true;
			continue;
		}
		if (opt.zeros || any_shown(v, cs_vals(t, i)))
			v->row[v->nrows++] = i;
	}
	/* the module writes rows in this order: sort only if it did not */
	sort_view = v;
	for (i = 1; i < v->nrows; i++)
		if (cmp_proc(&v->row[i - 1], &v->row[i]) > 0)
			break;
	if (i < v->nrows)
		qsort(v->row, v->nrows, sizeof(*v->row), cmp_proc);
}

static void free_view(struct view *v)
{
	cs_table_free(&v->t);
	free(v->row);
	free(v->rate);
	v->row = NULL;
	v->rate = NULL;
}

/* Busiest first: by rate (with -i), then total, then /proc order. */
static void sort_busiest(struct view *v)
{
	size_t n = v->nrows ? v->nrows : 1, i;
	struct busy *b = calloc(n, sizeof(*b));
	size_t *row = malloc(n * sizeof(*row));
	double *rate = v->rate ? malloc(n * v->ncols * sizeof(*rate) + 1) : NULL;
	unsigned int c;

	if (!b || !row || (v->rate && !rate))
		die("out of memory");
	for (i = 0; i < v->nrows; i++) {
		const uint64_t *val = cs_vals(&v->t, v->row[i]);

		b[i].i = i;
		b[i].key = &v->t.rows[v->row[i]];
		for (c = 0; c < v->ncols; c++) {
			if (kind_of(v->counter[c]) != KIND_COUNTER)
				continue;
			b[i].total += val[v->col[c]];
			if (v->rate)
				b[i].rate += v->rate[i * v->ncols + c];
		}
	}
	qsort(b, v->nrows, sizeof(*b), cmp_busy);
	for (i = 0; i < v->nrows; i++) {
		row[i] = v->row[b[i].i];
		if (rate)
			memcpy(rate + i * v->ncols, v->rate + b[i].i * v->ncols,
			       v->ncols * sizeof(*rate));
	}
	free(v->row);
	v->row = row;
	if (rate) {
		free(v->rate);
		v->rate = rate;
	}
	free(b);
}

/* Per-second rates of the known counters between two reads. */
static void compute_rates(struct view *v, const struct view *prev,
			  double elapsed)
{
	int32_t *idx = malloc(CS_NR_KEYS * sizeof(*idx));
	unsigned int c;
	size_t i;

	if (!idx)
		die("out of memory");
	memset(idx, 0xff, CS_NR_KEYS * sizeof(*idx));
	for (i = 0; i < prev->t.nrows; i++)
		idx[cs_row_key(&prev->t.rows[i])] = i;

	v->rate = malloc((v->nrows ? v->nrows : 1) * v->ncols * sizeof(*v->rate) + 1);
	if (!v->rate)
		die("out of memory");
	for (i = 0; i < v->nrows; i++) {
		const struct cs_row *r = &v->t.rows[v->row[i]];
		const uint64_t *cur = cs_vals(&v->t, v->row[i]);
		int32_t p = idx[cs_row_key(r)];

		for (c = 0; c < v->ncols; c++) {
			int k = v->counter[c];
			uint64_t now = cur[v->col[c]], before = 0;

			if (kind_of(k) != KIND_COUNTER) {
				v->rate[i * v->ncols + c] = -1;
				continue;
			}
			if (p >= 0 && prev->t.counter_col[k] >= 0)
				before = cs_vals(&prev->t, p)[prev->t.counter_col[k]];
			/* a counter that went down was reset: count from zero */
			v->rate[i * v->ncols + c] =
				(double)(now >= before ? now - before : now) / elapsed;
		}
	}
	free(idx);
}

/* ---- output ------------------------------------------------------------ */

/*
 * The decimal digits of @v and a NUL in @buf, which has room for 21 bytes;
 * returns their number.  A table can have 10^5 rows of 13 numbers:
 * snprintf() would be most of closestat's time.
 */
static unsigned int fmt_u64(char *buf, uint64_t v)
{
	char tmp[20];
	unsigned int n = 0, i;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

/*
 * The TCP service names, by port, read in one pass of the services
 * database.  getservbyport() reads /etc/services from its start on every
 * call: for a table of 30,000 rows that was 15 times the rest of
 * closestat's work.  The first entry for a port wins, as in
 * getservbyport().
 */
static char **service_names(void)
{
	static char **names;
	struct servent *se;
	unsigned int port;

	if (names)
		return names;
	names = calloc(CS_NR_PORTS, sizeof(*names));
	if (!names)
		die("out of memory");
	setservent(0);
	while ((se = getservent())) {
		port = ntohs((uint16_t)se->s_port);
		if (strcmp(se->s_proto, "tcp") || port >= CS_NR_PORTS ||
		    names[port])
			continue;
		names[port] = strdup(se->s_name);
		if (!names[port])
			die("out of memory");
	}
	endservent();
	return names;
}

static const char *port_name(unsigned int port, char *buf, size_t len)
{
	const char *name = NULL;

	if (!opt.numeric && port < CS_NR_PORTS)
		name = service_names()[port];
	if (name)
		snprintf(buf, len, "%s", name);
	else if (len > 5)
		fmt_u64(buf, port);
	else
		snprintf(buf, len, "%u", port);
	return buf;
}

struct cell {
	char s[48];
	unsigned int len;
};

/* A cell from a string; longer ones are cut to fit. */
static void set_cell(struct cell *cell, const char *s)
{
	size_t n = strlen(s);

	if (n >= sizeof(cell->s))
		n = sizeof(cell->s) - 1;
	memcpy(cell->s, s, n);
	cell->s[n] = '\0';
	cell->len = n;
}

/* Fill cells[0 .. v->ncols) with row i of v (i < 0: the header). */
static void counter_cells(struct cell *cells, const struct view *v, ssize_t i)
{
	const uint64_t *val = i < 0 ? NULL : cs_vals(&v->t, v->row[i]);
	unsigned int c;

	for (c = 0; c < v->ncols; c++) {
		struct cell *cell = &cells[c];
		bool rate = v->rate && kind_of(v->counter[c]) == KIND_COUNTER;

		if (i < 0 && rate) {
			snprintf(cell->s, sizeof(cell->s), "%s/s",
				 v->t.cols[v->col[c]]);
			cell->len = strlen(cell->s);
		} else if (i < 0) {
			set_cell(cell, v->t.cols[v->col[c]]);
		} else if (rate) {
			snprintf(cell->s, sizeof(cell->s), "%.1f",
				 v->rate[i * v->ncols + c]);
			cell->len = strlen(cell->s);
		} else {
			cell->len = fmt_u64(cell->s, val[v->col[c]]);
		}
	}
}

/*
 * Print nrows + 1 lines of ncells cells (the first line is the header,
 * left out with -H): the first nleft cells left-aligned, the numbers
 * right-aligned, two spaces apart.
 */
static void print_cells(const struct cell *cells, size_t nrows,
			unsigned int ncells, unsigned int nleft)
{
	unsigned int *width = calloc(ncells, sizeof(*width)), k;
	char *line = malloc(ncells * (sizeof(cells->s) + 2) + 1), *p;
	size_t i;

	if (!width || !line)
		die("out of memory");
	for (k = 0; k < ncells; k++)
		for (i = opt.no_header ? 1 : 0; i <= nrows; i++)
			if (cells[i * ncells + k].len > width[k])
				width[k] = cells[i * ncells + k].len;
	for (i = opt.no_header ? 1 : 0; i <= nrows; i++) {
		p = line;
		for (k = 0; k < ncells; k++) {
			const struct cell *cell = &cells[i * ncells + k];
			unsigned int pad = width[k] - cell->len;
			bool left = k < nleft, last = k == ncells - 1;

			if (!left) {
				memset(p, ' ', pad);
				p += pad;
			}
			memcpy(p, cell->s, cell->len);
			p += cell->len;
			if (left && !last) {
				memset(p, ' ', pad);
				p += pad;
			}
			if (!last) {
				memcpy(p, "  ", 2);
				p += 2;
			}
		}
		*p++ = '\n';
		fwrite(line, 1, p - line, stdout);
	}
	free(line);
	free(width);
}

/* side and port, and in a folded table the ports a row covers */
static unsigned int key_ncells(const struct view *v)
{
	return v->t.folded ? 3 : 2;
}

/*
 * The key_ncells() cells of row i of v (i < 0: the header): side, port
 * (a fold row's range, "other" for the overflow row), and with the fold
 * how many ports the row covers (the overflow row: how many were refused
 * and do not fold).
 */
static void key_cells(struct cell *cells, const struct view *v, ssize_t i)
{
	const struct cs_row *r;

	if (i < 0) {
		set_cell(&cells[0], TCS_COL_SIDE);
		set_cell(&cells[1], TCS_COL_PORT);
		if (v->t.folded)
			set_cell(&cells[2], TCS_FOLD_COL_PORTS);
		return;
	}
	r = &v->t.rows[v->row[i]];
	set_cell(&cells[0], cs_side_names[r->side]);
	/* no port: never a service name, with -n too */
	if (r->other)
		snprintf(cells[1].s, sizeof(cells[1].s), TCS_PORT_OTHER_NAME);
	else if (r->folded)
		snprintf(cells[1].s, sizeof(cells[1].s), "%u-%u", r->port_lo,
			 r->port_hi);
	else
		port_name(r->port, cells[1].s, sizeof(cells[1].s));
	cells[1].len = strlen(cells[1].s);
	if (v->t.folded)
		cells[2].len = fmt_u64(cells[2].s, r->nports);
}

static void print_table(const struct view *v)
{
	unsigned int nkey = key_ncells(v), ncells = nkey + v->ncols;
	struct cell *cells = calloc((v->nrows + 1) * ncells, sizeof(*cells));
	ssize_t i;

	if (!cells)
		die("out of memory");
	for (i = -1; i < (ssize_t)v->nrows; i++) {
		key_cells(cells + (i + 1) * ncells, v, i);
		counter_cells(cells + (i + 1) * ncells + nkey, v, i);
	}
	print_cells(cells, v->nrows, ncells, nkey);
	free(cells);
}

/* Every JSON document is an object that starts with its "version". */
static void json_begin(struct jsonw *w)
{
	jsonw_init(w, stdout);
	jsonw_start_object(w);
	jsonw_u64_field(w, "version", JSON_VERSION);
}

/*
 * The "ports" array of v: its rows, with their rates.  "port" is a number,
 * except in a side's overflow row: the string "other", as in /proc.
 */
static void json_ports(struct jsonw *w, const struct view *v)
{
	unsigned int c;
	size_t i;

	jsonw_name(w, "ports");
	jsonw_start_array(w);
	for (i = 0; i < v->nrows; i++) {
		const struct cs_row *r = &v->t.rows[v->row[i]];
		const uint64_t *val = cs_vals(&v->t, v->row[i]);

		jsonw_start_object(w);
		jsonw_string_field(w, TCS_COL_SIDE, cs_side_names[r->side]);
		if (r->other)
			jsonw_string_field(w, TCS_COL_PORT, TCS_PORT_OTHER_NAME);
		else
			jsonw_u64_field(w, TCS_COL_PORT, r->port);
		if (v->t.folded) {
			jsonw_name(w, TCS_FOLD_COL_FOLDED);
			jsonw_bool(w, r->folded);
			jsonw_u64_field(w, TCS_FOLD_COL_PORTS, r->nports);
			jsonw_u64_field(w, TCS_FOLD_COL_PORT_LO, r->port_lo);
			jsonw_u64_field(w, TCS_FOLD_COL_PORT_HI, r->port_hi);
		}
		for (c = 0; c < v->ncols; c++)
			jsonw_u64_field(w, v->t.cols[v->col[c]], val[v->col[c]]);
		if (v->rate) {
			jsonw_name(w, "rate");
			jsonw_start_object(w);
			for (c = 0; c < v->ncols; c++) {
				if (kind_of(v->counter[c]) != KIND_COUNTER)
					continue;
				jsonw_name(w, v->t.cols[v->col[c]]);
				jsonw_number(w, "%.3f", v->rate[i * v->ncols + c]);
			}
			jsonw_end_object(w);
		}
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

static void print_json(const struct view *v, double interval)
{
	struct timespec now;
	struct jsonw w;

	json_begin(&w);
	if (interval > 0) {
		clock_gettime(CLOCK_REALTIME, &now);
		jsonw_name(&w, "time");
		jsonw_number(&w, "%lld.%03ld", (long long)now.tv_sec,
			     now.tv_nsec / 1000000);
		jsonw_name(&w, "interval");
		jsonw_number(&w, "%.3f", interval);
	}
	json_ports(&w, v);
	jsonw_end_object(&w);
}

static void print_stat(const struct cs_stat *s)
{
	size_t i, w = 0;

	if (opt.json) {
		struct jsonw j;

		json_begin(&j);
		jsonw_name(&j, "stat");
		jsonw_start_object(&j);
		for (i = 0; i < s->n; i++)
			jsonw_u64_field(&j, s->e[i].name, s->e[i].value);
		jsonw_end_object(&j);
		jsonw_end_object(&j);
		return;
	}
	for (i = 0; i < s->n; i++)
		if (strlen(s->e[i].name) > w)
			w = strlen(s->e[i].name);
	for (i = 0; i < s->n; i++)
		printf("%-*s  %llu\n", (int)w, s->e[i].name,
		       (unsigned long long)s->e[i].value);
}

/* Milliseconds as exact decimal seconds: 1 -> 0.001, 4194304 -> 4194.304 */
static const char *ms_to_s(uint64_t ms, char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%llu.%03llu", (unsigned long long)(ms / 1000),
		 (unsigned long long)(ms % 1000));
	n = strlen(buf);
	while (buf[n - 1] == '0')
		buf[--n] = '\0';
	if (buf[n - 1] == '.')
		buf[--n] = '\0';
	return buf;
}

/*
 * Prometheus wants base units: a column or statistics line counted in
 * milliseconds (its name ends in _ms) is exported in seconds, under the
 * name with _seconds for _ms.  name: tcp_closestat_<that><suffix>.
 */
static bool prom_name(char *name, size_t len, const char *col,
		      const char *suffix)
{
	size_t n = strlen(col);
	bool ms = n > 3 && !strcmp(col + n - 3, "_ms");

	snprintf(name, len, "tcp_closestat_%.*s%s%s", (int)(ms ? n - 3 : n), col,
		 ms ? "_seconds" : "", suffix);
	return ms;
}

/* A sample's value: v, or v milliseconds in seconds. */
static const char *prom_value(char *buf, size_t len, uint64_t v, bool ms)
{
	if (ms)
		return ms_to_s(v, buf, len);
	fmt_u64(buf, v);
	return buf;
}

/*
 * Text for the Prometheus exposition format: '\\' and newline escaped in
 * HELP texts, and '"' too in label values.
 */
static void prom_escaped(const char *s, bool label)
{
	for (; *s; s++) {
		if (*s == '\\' || (label && *s == '"')) {
			putchar('\\');
			putchar(*s);
		} else if (*s == '\n') {
			fputs("\\n", stdout);
		} else {
			putchar(*s);
		}
	}
}

static void prom_family(const char *name, const char *help, const char *type)
{
	printf("# HELP %s ", name);
	prom_escaped(help, false);
	printf("\n# TYPE %s %s\n", name, type);
}

/*
 * One sample line, name{label="value",...} value: after value come the
 * labels' names and values in pairs, then NULL.
 */
__attribute__((sentinel))
static void prom_sample(const char *name, const char *value, ...)
{
	const char *label;
	char sep = '{';
	va_list ap;

	fputs(name, stdout);
	va_start(ap, value);
	while ((label = va_arg(ap, const char *))) {
		putchar(sep);
		fputs(label, stdout);
		fputs("=\"", stdout);
		prom_escaped(va_arg(ap, const char *), true);
		putchar('"');
		sep = ',';
	}
	va_end(ap);
	if (sep == ',')
		putchar('}');
	putchar(' ');
	fputs(value, stdout);
	putchar('\n');
}

/* Lines of the stat file other than missed_<probe>. */
static const struct {
	const char *name;
	enum kind kind;
	const char *help;
} stat_kinds[] = {
	{ TCS_STAT_ALLOC_FAILED, KIND_COUNTER,
	  "Memory allocations the module could not make; the events of a port left without an entry are counted under port=\"" TCS_PORT_OTHER_NAME "\"." },
	{ TCS_STAT_PORTS, KIND_GAUGE, "(side, port) entries the module holds." },
	{ TCS_STAT_MEMORY, KIND_GAUGE,
	  "Memory in bytes the module uses for this network namespace." },
	{ TCS_STAT_UNTRACKED, KIND_COUNTER,
	  "Sockets not tracked for the _now columns and ages (max_tracked reached or no memory)." },
	{ TCS_STAT_TRACKED, KIND_GAUGE, "Sockets tracked now." },
	{ TCS_STAT_MAX_TRACKED, KIND_GAUGE,
	  "The max_tracked module parameter: most sockets tracked at once." },
	{ TCS_STAT_MAX_PORTS, KIND_GAUGE,
	  "The max_ports module parameter: most (side, port) entries in a network namespace." },
	{ TCS_STAT_PORTS_GLOBAL, KIND_GAUGE,
	  "(side, port) entries the module holds in all network namespaces." },
	{ TCS_STAT_MAX_PORTS_GLOBAL, KIND_GAUGE,
	  "The max_ports_global module parameter: most (side, port) entries in all network namespaces." },
};

/*
 * ports_refused_<side>: one family, labelled by side.  A side's refused
 * ports have no series of their own: their events are the port="other"
 * series.
 */
#define PROM_REFUSED		"tcp_closestat_ports_refused"

/* The side of a ports_refused_<side> line, or NULL. */
static const char *refused_side(const char *name)
{
	size_t n = strlen(TCS_STAT_PORTS_REFUSED);
	unsigned int side;

	if (strncmp(name, TCS_STAT_PORTS_REFUSED, n))
		return NULL;
	for (side = 0; side < TCS_NR_SIDES; side++)
		if (!strcmp(name + n, cs_side_names[side]))
			return cs_side_names[side];
	return NULL;
}

/*
 * The port label of a fold row: one series per side for clients' ports.
 * A side's overflow row is port="other" (TCS_PORT_OTHER_NAME): the number
 * of series stays bounded whatever the caps refuse.
 */
#define PROM_FOLDED_PORT	"ephemeral"

static void print_prom(const struct view *v, const struct cs_stat *s)
{
	size_t missed = strlen(TCS_STAT_MISSED_PREFIX);
	bool seen_missed = false, seen_refused = false;
	unsigned int c;
	size_t i, k;

	for (c = 0; c < v->ncols; c++) {
		const char *col = v->t.cols[v->col[c]];
		int k = v->counter[c];
		char name[CS_MAX_NAME + 32], help[CS_MAX_NAME + 128];
		char port[21], val[32];
		bool ms;

		ms = prom_name(name, sizeof(name), col,
			       kind_of(k) == KIND_COUNTER ? "_total" : "");
		if (kind_of(k) == KIND_UNTYPED)
			snprintf(help, sizeof(help), "Column %s of %s%s.", col,
				 TCS_PROC_PATH, ms ? ", in seconds" : "");
		else
			snprintf(help, sizeof(help), "%s%s, per side and port.",
				 known[k].help, ms ? ", in seconds" : "");
		prom_family(name, help, kind_of(k) == KIND_COUNTER ? "counter" :
			    kind_of(k) == KIND_GAUGE ? "gauge" : "untyped");
		for (i = 0; i < v->nrows; i++) {
			const struct cs_row *r = &v->t.rows[v->row[i]];

			if (r->folded)
				snprintf(port, sizeof(port), PROM_FOLDED_PORT);
			else if (r->other)
				snprintf(port, sizeof(port), TCS_PORT_OTHER_NAME);
			else
				fmt_u64(port, r->port);
			prom_sample(name, prom_value(val, sizeof(val),
				    cs_vals(&v->t, v->row[i])[v->col[c]], ms),
				    TCS_COL_SIDE, cs_side_names[r->side],
				    TCS_COL_PORT, port, NULL);
		}
	}

	for (i = 0; i < s->n; i++) {
		const char *n = s->e[i].name;
		char val[21];

		if (!strncmp(n, TCS_STAT_MISSED_PREFIX, missed) && n[missed]) {
			if (!seen_missed)
				prom_family("tcp_closestat_missed_total",
					    "Probe hits the kernel dropped: events not counted, per probed function.",
					    "counter");
			seen_missed = true;
			fmt_u64(val, s->e[i].value);
			prom_sample("tcp_closestat_missed_total", val,
				    "probe", n + missed, NULL);
		}
	}
	for (i = 0; i < s->n; i++) {
		const char *side = refused_side(s->e[i].name);
		char val[21];

		if (!side)
			continue;
		if (!seen_refused)
			prom_family(PROM_REFUSED,
				    "Ports the caps (max_ports, max_ports_global) kept out of the table, per side; their events are counted under port=\"" TCS_PORT_OTHER_NAME "\".",
				    "gauge");
		seen_refused = true;
		fmt_u64(val, s->e[i].value);
		prom_sample(PROM_REFUSED, val, TCS_COL_SIDE, side, NULL);
	}
	for (i = 0; i < s->n; i++) {
		const char *n = s->e[i].name;
		char name[CS_MAX_NAME + 32], val[32];
		bool ms;

		if ((!strncmp(n, TCS_STAT_MISSED_PREFIX, missed) && n[missed]) ||
		    refused_side(n))
			continue;
		for (k = 0; k < sizeof(stat_kinds) / sizeof(stat_kinds[0]); k++)
			if (!strcmp(n, stat_kinds[k].name))
				break;
		if (k < sizeof(stat_kinds) / sizeof(stat_kinds[0])) {
			bool counter = stat_kinds[k].kind == KIND_COUNTER;

			ms = prom_name(name, sizeof(name), n,
				       counter ? "_total" : "");
			prom_family(name, stat_kinds[k].help,
				    counter ? "counter" : "gauge");
		} else {
			char help[CS_MAX_NAME + 64];

			ms = prom_name(name, sizeof(name), n, "");
			snprintf(help, sizeof(help), "Line %s of %s%s.", n,
				 TCS_PROC_STAT_PATH, ms ? ", in seconds" : "");
			prom_family(name, help, "untyped");
		}
		prom_sample(name, prom_value(val, sizeof(val), s->e[i].value, ms),
			    NULL);
	}
}

/* ---- histograms ---------------------------------------------------------- */

#define BAR_WIDTH	40

/* A number for a label: "0.5", "4.1", "16", "512" (never "1.0"). */
static void fmt_num(char *buf, size_t len, double v)
{
	size_t n;

	snprintf(buf, len, v < 10 ? "%.1f" : "%.0f", v);
	n = strlen(buf);
	if (n > 2 && !strcmp(buf + n - 2, ".0"))
		buf[n - 2] = '\0';
}

/* Unit of a duration in ms: ms, s below a minute, min below two hours, h. */
static double unit_of(double ms, const char **unit)
{
	if (ms < 1000) {
		*unit = "ms";
		return 1;
	}
	if (ms < 60000) {
		*unit = "s";
		return 1000;
	}
	if (ms < 7200000) {
		*unit = "min";
		return 60000;
	}
	*unit = "h";
	return 3600000;
}

/* "< 1 ms", "1-2 ms", "512-1024 ms", "1-2 s", "35-70 min", ">= 70 min" */
static void bucket_label(unsigned int b, char *buf, size_t len)
{
	char name[32], a[24], z[24];
	uint64_t lo, hi;
	const char *unit;
	double div;

	cs_hist_bucket(b, &lo, &hi, name, sizeof(name));
	div = unit_of(lo ? lo : hi, &unit);
	if (!lo) {
		fmt_num(z, sizeof(z), hi / div);
		snprintf(buf, len, "< %s %s", z, unit);
	} else if (!hi) {
		fmt_num(a, sizeof(a), lo / div);
		snprintf(buf, len, ">= %s %s", a, unit);
	} else {
		fmt_num(a, sizeof(a), lo / div);
		fmt_num(z, sizeof(z), hi / div);
		snprintf(buf, len, "%s-%s %s", a, z, unit);
	}
}

/*
 * A duration for people: "0.4 ms", "60.0 s" (seconds up to 10 minutes,
 * so that TIME_WAIT's 60 s reads as such), "57.3 min", "2.1 h".
 */
static void fmt_duration(char *buf, size_t len, double ms)
{
	const char *unit = "s";
	double div = 1000;

	if (ms < 1000 || ms >= 600000)
		div = unit_of(ms, &unit);
	snprintf(buf, len, "%.1f %s", ms / div, unit);
}

static void print_hist_bars(const struct cs_hist *h)
{
	char label[64], mean[32];
	unsigned int b, n;
	size_t i;

	for (i = 0; i < h->n; i++) {
		const struct cs_hist_row *r = &h->row[i];
		uint64_t max = 0;

		for (b = 0; b < TCS_HIST_BUCKETS; b++)
			if (r->bucket[b] > max)
				max = r->bucket[b];
		if (!r->count) {
			printf("%s: 0 stays\n", r->state);
			continue;
		}
		fmt_duration(mean, sizeof(mean), (double)r->sum_ms / r->count);
		printf("%s: %llu stay%s, mean %s\n", r->state,
		       (unsigned long long)r->count, r->count == 1 ? "" : "s",
		       mean);
		for (b = 0; b < TCS_HIST_BUCKETS; b++) {
			if (!r->bucket[b])
				continue;
			bucket_label(b, label, sizeof(label));
			n = (unsigned int)((double)r->bucket[b] * BAR_WIDTH / max + 0.5);
			printf("  %-12s %10llu  ", label,
			       (unsigned long long)r->bucket[b]);
			for (n = n ? n : 1; n; n--)
				putchar('#');
			putchar('\n');
		}
	}
}

static void print_hist_json(const struct cs_hist *h)
{
	char name[32];
	unsigned int b;
	uint64_t lo, hi;
	struct jsonw w;
	size_t i;

	json_begin(&w);
	jsonw_name(&w, "hist");
	jsonw_start_array(&w);
	for (i = 0; i < h->n; i++) {
		const struct cs_hist_row *r = &h->row[i];

		jsonw_start_object(&w);
		jsonw_string_field(&w, TCS_HIST_COL_STATE, r->state);
		jsonw_u64_field(&w, TCS_HIST_COL_COUNT, r->count);
		jsonw_u64_field(&w, TCS_HIST_COL_SUM, r->sum_ms);
		jsonw_name(&w, "buckets");
		jsonw_start_object(&w);
		for (b = 0; b < TCS_HIST_BUCKETS; b++) {
			cs_hist_bucket(b, &lo, &hi, name, sizeof(name));
			jsonw_u64_field(&w, name, r->bucket[b]);
		}
		jsonw_end_object(&w);
		jsonw_end_object(&w);
	}
	jsonw_end_array(&w);
	jsonw_end_object(&w);
}

#define PROM_HIST "tcp_closestat_state_duration_seconds"

static void print_hist_prom(const struct cs_hist *h)
{
	char name[32], le[32], val[21];
	uint64_t lo, hi, cum;
	unsigned int b;
	size_t i;

	if (!h->n)
		return;
	prom_family(PROM_HIST,
		    "Time tracked sockets stayed in a state, counted when they left it.",
		    "histogram");
	for (i = 0; i < h->n; i++) {
		const struct cs_hist_row *r = &h->row[i];

		cum = 0;
		for (b = 0; b < TCS_HIST_BUCKETS; b++) {
			cs_hist_bucket(b, &lo, &hi, name, sizeof(name));
			cum += r->bucket[b];
			fmt_u64(val, cum);
			prom_sample(PROM_HIST "_bucket", val,
				    TCS_HIST_COL_STATE, r->state, "le",
				    hi ? ms_to_s(hi, le, sizeof(le)) : "+Inf", NULL);
		}
		prom_sample(PROM_HIST "_sum", ms_to_s(r->sum_ms, le, sizeof(le)),
			    TCS_HIST_COL_STATE, r->state, NULL);
		fmt_u64(val, r->count);
		prom_sample(PROM_HIST "_count", val, TCS_HIST_COL_STATE, r->state,
			    NULL);
	}
}

static void run_hist(void)
{
	struct cs_hist h;

	read_hist(&h, false);
	if (opt.json)
		print_hist_json(&h);
	else
		print_hist_bars(&h);
}

/* ---- stuck CLOSE_WAIT ------------------------------------------------------ */

struct owner {
	uint64_t inode;
	pid_t pid;
	char comm[20];
};

static int cmp_inode(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Find the processes holding the inodes[] (sorted) as ss -p does: every
 * /proc/PID/fd/N that links to "socket:[INODE]".  Processes we may not
 * look into are skipped.
 */
static struct owner *find_owners(const uint64_t *inodes, size_t n,
				 size_t *nowners)
{
	struct owner *o = NULL;
	size_t no = 0, cap = 0;
	struct dirent *pe, *fe;
	DIR *proc, *fds;

	*nowners = 0;
	if (!n)
		return NULL;
	proc = opendir("/proc");
	if (!proc)
		die("/proc: %s", strerror(errno));
	while ((pe = readdir(proc))) {
		char path[600], link[64], comm[20] = "-";
		bool have_comm = false;
		char *end;
		long pid = strtol(pe->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", pe->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds))) {
			unsigned long long ino;
			char close, extra;
			ssize_t l;

			if (fe->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fd/%s",
				 pe->d_name, fe->d_name);
			l = readlink(path, link, sizeof(link) - 1);
			if (l <= 0)
				continue;
			link[l] = '\0';
			/* exactly "socket:[DIGITS]" */
			if (strncmp(link, "socket:[", 8) || link[8] < '0' ||
			    link[8] > '9' ||
			    sscanf(link + 8, "%llu%c%c", &ino, &close, &extra) != 2 ||
			    close != ']' || !ino)
				continue;
			if (!bsearch(&(uint64_t){ ino }, inodes, n,
				     sizeof(*inodes), cmp_inode))
				continue;
			if (!have_comm) {
				FILE *f;

				snprintf(path, sizeof(path), "/proc/%s/comm",
					 pe->d_name);
				f = fopen(path, "re");
				if (f) {
					if (fgets(comm, sizeof(comm), f))
						comm[strcspn(comm, "\n")] = '\0';
					fclose(f);
				}
				have_comm = true;
			}
			if (no == cap) {
				cap = cap ? cap * 2 : 64;
				o = realloc(o, cap * sizeof(*o));
				if (!o)
					die("out of memory");
			}
			o[no].inode = ino;
			o[no].pid = pid;
			snprintf(o[no].comm, sizeof(o[no].comm), "%s", comm);
			no++;
		}
		closedir(fds);
	}
	closedir(proc);
	*nowners = no;
	return o;
}

static int cmp_owner(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_age(const void *a, const void *b)
{
	const struct cs_sock *x = a, *y = b;

	if (x->age_ms != y->age_ms)
		return x->age_ms < y->age_ms ? 1 : -1;
	return strcmp(x->local, y->local);
}

static bool sock_selected(const struct cs_sock *k)
{
	bool l, r;

	if (strcmp(k->state, state_names[TCS_STATE_CLOSE_WAIT]) ||
	    k->age_ms < opt.stuck_ms)
		return false;
	if (!opt.ports_set)
		return true;
	l = opt.sides[TCS_SIDE_LOCAL] && cs_port_isset(opt.ports, k->lport);
	r = opt.sides[TCS_SIDE_REMOTE] && cs_port_isset(opt.ports, k->rport);
	return l || r;
}

/* Owners of inode, one entry per distinct pid, into the range [*b, *e). */
static void owners_of(const struct owner *o, size_t no, uint64_t inode,
		      size_t *b, size_t *e)
{
	size_t lo = 0, hi = no;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (o[mid].inode < inode)
			lo = mid + 1;
		else
			hi = mid;
	}
	*b = lo;
	while (lo < no && o[lo].inode == inode)
		lo++;
	*e = lo;
}

static void run_stuck(void)
{
	struct cs_socks all;
	struct cs_sock *k;
	struct owner *o;
	uint64_t *inodes;
	size_t n = 0, ni = 0, no, i, j, b, e;
	unsigned int wl = strlen(TCS_SOCK_COL_LOCAL), wr = strlen(TCS_SOCK_COL_REMOTE);
	struct jsonw w;
	char age[32];

	read_sockets(&all);
	k = all.s;
	for (i = 0; i < all.n; i++)
		if (sock_selected(&all.s[i]))
			k[n++] = all.s[i];
	/* qsort()'s base must be valid even for no element: k, o may be NULL */
	if (n)
		qsort(k, n, sizeof(*k), cmp_age);

	inodes = malloc((n ? n : 1) * sizeof(*inodes));
	if (!inodes)
		die("out of memory");
	for (i = 0; i < n; i++)
		if (k[i].inode)
			inodes[ni++] = k[i].inode;
	qsort(inodes, ni, sizeof(*inodes), cmp_inode);
	o = find_owners(inodes, ni, &no);
	if (no)
		qsort(o, no, sizeof(*o), cmp_owner);

	if (opt.json) {
		json_begin(&w);
		jsonw_name(&w, "stuck");
		jsonw_start_array(&w);
		for (i = 0; i < n; i++) {
			jsonw_start_object(&w);
			jsonw_string_field(&w, TCS_SOCK_COL_LOCAL, k[i].local);
			jsonw_string_field(&w, TCS_SOCK_COL_REMOTE, k[i].remote);
			jsonw_u64_field(&w, TCS_SOCK_COL_AGE, k[i].age_ms);
			jsonw_u64_field(&w, TCS_SOCK_COL_INODE, k[i].inode);
			jsonw_name(&w, "processes");
			jsonw_start_array(&w);
			owners_of(o, no, k[i].inode, &b, &e);
			for (j = b; k[i].inode && j < e; j++) {
				jsonw_start_object(&w);
				jsonw_u64_field(&w, "pid", o[j].pid);
				/* comm is at most 15 bytes of anything */
				jsonw_string_field(&w, "command", o[j].comm);
				jsonw_end_object(&w);
			}
			jsonw_end_array(&w);
			jsonw_end_object(&w);
		}
		jsonw_end_array(&w);
		jsonw_end_object(&w);
	} else {
		for (i = 0; i < n; i++) {
			if (strlen(k[i].local) > wl)
				wl = strlen(k[i].local);
			if (strlen(k[i].remote) > wr)
				wr = strlen(k[i].remote);
		}
		if (!opt.no_header)
			printf("%-*s  %-*s  %10s  %s\n", (int)wl, TCS_SOCK_COL_LOCAL,
			       (int)wr, TCS_SOCK_COL_REMOTE, "age", "pid/command");
		for (i = 0; i < n; i++) {
			fmt_duration(age, sizeof(age), k[i].age_ms);
			printf("%-*s  %-*s  %10s  ", (int)wl, k[i].local,
			       (int)wr, k[i].remote, age);
			owners_of(o, no, k[i].inode, &b, &e);
			if (!k[i].inode || b == e)
				putchar('-');
			for (j = b; k[i].inode && j < e; j++) {
				printf("%s%d/", j > b ? "," : "", (int)o[j].pid);
				for (const char *c = o[j].comm; *c; c++)
					putchar((unsigned char)*c < 0x20 ||
						*c == 0x7f ? '?' : *c);
			}
			putchar('\n');
		}
	}
	free(o);
	free(inodes);
	cs_socks_free(&all);
}

/* ---- every network namespace (-A) --------------------------------------- */

/*
 * A network namespace found by -A: by its nsfs inode, as lsns and
 * /proc/PID/ns/net ("net:[INODE]") name it; through its name in
 * /run/netns, the lowest-numbered process in it, or both.  The file it
 * was found through stays open until it is read: the namespace cannot go
 * away, nor its inode be given to another one, in between.
 */
struct netns {
	uint64_t inode;
	int fd;			/* the namespace, open; -1 once read */
	char name[256];		/* in /run/netns, or "" */
	pid_t pid;		/* lowest pid in it, or 0 */
	char comm[20];		/* that process's command */
	struct view v;
	bool read;
};

struct netns_list {
	struct netns *ns;
	size_t n, cap;
	unsigned long denied;	/* processes whose namespace we may not see */
	int denied_errno;
};

/*
 * The entry of the namespace fd is open on: a new one keeps fd, a known
 * one closes it.
 */
static struct netns *netns_find(struct netns_list *l, uint64_t inode, int fd)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (l->ns[i].inode == inode) {
			close(fd);
			return &l->ns[i];
		}
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->ns = realloc(l->ns, l->cap * sizeof(*l->ns));
		if (!l->ns)
			die("out of memory");
	}
	memset(&l->ns[l->n], 0, sizeof(l->ns[l->n]));
	l->ns[l->n].inode = inode;
	l->ns[l->n].fd = fd;
	return &l->ns[l->n++];
}

/* An open file that is a network namespace: its inode, else 0. */
static uint64_t netns_inode(int fd)
{
	struct stat st;

	if (fstat(fd, &st) || ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		return 0;
	return st.st_ino;
}

static int cmp_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every name in /run/netns (as ip netns list), in name order. */
static void find_named_netns(struct netns_list *l)
{
	struct dirent **names;
	int n, i;

	n = scandir(NETNS_RUN_DIR, &names, NULL, cmp_name);
	if (n < 0) {
		if (errno != ENOENT)
			warn(NETNS_RUN_DIR ": %s", strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		char path[4096];
		struct netns *ns;
		uint64_t inode;
		int fd;

		if (names[i]->d_name[0] == '.')
			goto next;
		snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", names[i]->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			warn("%s: %s", path, strerror(errno));
			goto next;
		}
		/* a leftover file of a namespace that is gone: not one */
		inode = netns_inode(fd);
		if (!inode) {
			close(fd);
			goto next;
		}
		ns = netns_find(l, inode, fd);
		if (!ns->name[0])
			snprintf(ns->name, sizeof(ns->name), "%s", names[i]->d_name);
next:
		free(names[i]);
	}
	free(names);
}

/* The namespace of every process we may look into (as lsns -t net). */
static void find_process_netns(struct netns_list *l)
{
	struct dirent *de;
	DIR *proc = opendir("/proc");

	if (!proc)
		die("/proc: %s", strerror(errno));
	while ((de = readdir(proc))) {
		char path[300], *end;
		long pid = strtol(de->d_name, &end, 10);
		struct netns *ns;
		uint64_t inode;
		FILE *f;
		int fd;

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			/* ENOENT: exited meanwhile, or a zombie */
			if (errno == EACCES || errno == EPERM) {
				l->denied++;
				l->denied_errno = errno;
			} else if (errno == EMFILE || errno == ENFILE) {
				die("%s: %s (one open file per network namespace)",
				    path, strerror(errno));
			}
			continue;
		}
		inode = netns_inode(fd);
		if (!inode) {
			close(fd);
			continue;
		}
		ns = netns_find(l, inode, fd);
		if (ns->pid && ns->pid < pid)
			continue;
		ns->pid = pid;
		snprintf(ns->comm, sizeof(ns->comm), "?");
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		f = fopen(path, "re");
		if (f) {
			if (fgets(ns->comm, sizeof(ns->comm), f))
				ns->comm[strcspn(ns->comm, "\n")] = '\0';
			fclose(f);
		}
	}
	closedir(proc);
}

/* How -A names ns for people: "blue", "1234/nginx", or its inode. */
static const char *netns_label(const struct netns *ns, char *buf, size_t len)
{
	char *p;

	if (ns->name[0])
		snprintf(buf, len, "%s", ns->name);
	else if (ns->pid)
		snprintf(buf, len, "%d/%s", (int)ns->pid, ns->comm);
	else
		snprintf(buf, len, "%llu", (unsigned long long)ns->inode);
	/* names and commands are any bytes: no control characters shown */
	for (p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return buf;
}

/* Enter ns, through the file it was found by.  false, with a message. */
static bool enter_found_netns(struct netns *ns)
{
	char buf[300];
	int err = 0;

	if (setns(ns->fd, CLONE_NEWNET))
		err = errno;
	close(ns->fd);
	ns->fd = -1;
	if (!err)
		return true;
	warn("cannot enter network namespace %s (%llu): %s%s",
	     netns_label(ns, buf, sizeof(buf)), (unsigned long long)ns->inode,
	     strerror(err),
	     err == EPERM ? " (-A needs CAP_SYS_ADMIN, as ip netns exec)" : "");
	return false;
}

static int cmp_netns(const void *a, const void *b)
{
	const struct netns *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/*
 * Find every network namespace and read its table: ours first, without
 * entering it, then the others.  Returns how many could not be read.
 */
static size_t read_all_netns(struct netns_list *l)
{
	uint64_t self = 0;
	size_t i, failed = 0;
	struct rlimit rl;
	int fd;

	/* an open file per namespace: as many as the hard limit allows */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		self = netns_inode(fd);
		if (self)
			netns_find(l, self, fd);
		else
			close(fd);
	}
	find_named_netns(l);
	find_process_netns(l);
	if (l->n)
		qsort(l->ns, l->n, sizeof(*l->ns), cmp_netns);
	/* ours first, without entering it: no privilege needed */
	for (i = 0; i < l->n; i++) {
		if (l->ns[i].inode != self)
			continue;
		close(l->ns[i].fd);
		l->ns[i].fd = -1;
		read_table(&l->ns[i].v.t);
		make_view(&l->ns[i].v);
		l->ns[i].read = true;
	}
	for (i = 0; i < l->n; i++) {
		if (l->ns[i].read)
			continue;
		if (!enter_found_netns(&l->ns[i])) {
			failed++;
			continue;
		}
		read_table(&l->ns[i].v.t);
		make_view(&l->ns[i].v);
		l->ns[i].read = true;
	}
	if (l->denied) {
		warn("cannot see the network namespace of %lu process%s: %s%s",
		     l->denied, l->denied == 1 ? "" : "es",
		     strerror(l->denied_errno), " (-A needs root, as lsns)");
		failed++;
	}
	return failed;
}

struct ns_row {
	const struct netns *ns;
	size_t i;		/* row in ns->v */
	double total;		/* sum of its shown counters */
};

static int cmp_ns_row(const void *a, const void *b)
{
	const struct ns_row *x = a, *y = b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	if (x->ns != y->ns)
		return cmp_netns(x->ns, y->ns);
	return cmp_key(&x->ns->v.t.rows[x->ns->v.row[x->i]],
		       &y->ns->v.t.rows[y->ns->v.row[y->i]]);
}

/* Every namespace's rows in one table, busiest first. */
static void print_table_all(const struct netns_list *l)
{
	const struct netns *ns0 = NULL;
	const struct view *v0 = NULL;
	struct ns_row *rows;
	struct cell *cells;
	unsigned int nkey, ncells, c;
	size_t n = 0, i, j;
	char label[300];

	for (i = 0; i < l->n; i++) {
		if (!l->ns[i].read)
			continue;
		if (!v0) {
			ns0 = &l->ns[i];
			v0 = &ns0->v;
		}
		n += l->ns[i].v.nrows;
	}
	if (!v0)
		return;
	rows = calloc(n ? n : 1, sizeof(*rows));
	nkey = key_ncells(v0);
	ncells = 2 + nkey + v0->ncols;
	cells = calloc((n + 1) * ncells, sizeof(*cells));
	if (!rows || !cells)
		die("out of memory");
	n = 0;
	for (i = 0; i < l->n; i++) {
		const struct view *v = &l->ns[i].v;

		if (!l->ns[i].read)
			continue;
		/* one module writes every namespace's file: the same columns */
		if (v->ncols != v0->ncols || v->t.folded != v0->t.folded)
			die("network namespaces %llu and %llu: different columns",
			    (unsigned long long)l->ns[i].inode,
			    (unsigned long long)ns0->inode);
		for (c = 0; c < v->ncols; c++)
			if (strcmp(v->t.cols[v->col[c]], v0->t.cols[v0->col[c]]))
				die("network namespaces %llu and %llu: different columns",
				    (unsigned long long)l->ns[i].inode,
				    (unsigned long long)ns0->inode);
		for (j = 0; j < v->nrows; j++) {
			const uint64_t *val = cs_vals(&v->t, v->row[j]);

			rows[n].ns = &l->ns[i];
			rows[n].i = j;
			for (c = 0; c < v->ncols; c++)
				if (kind_of(v->counter[c]) == KIND_COUNTER)
					rows[n].total += val[v->col[c]];
			n++;
		}
	}
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_ns_row);

	set_cell(&cells[0], "netns");
	set_cell(&cells[1], "name");
	key_cells(cells + 2, v0, -1);
	counter_cells(cells + 2 + nkey, v0, -1);
	for (i = 0; i < n; i++) {
		struct cell *row = cells + (i + 1) * ncells;

		row[0].len = fmt_u64(row[0].s, rows[i].ns->inode);
		set_cell(&row[1], netns_label(rows[i].ns, label, sizeof(label)));
		key_cells(row + 2, &rows[i].ns->v, rows[i].i);
		counter_cells(row + 2 + nkey, &rows[i].ns->v, rows[i].i);
	}
	print_cells(cells, n, ncells, 2 + nkey);
	free(cells);
	free(rows);
}

/* {"version", "netns": [{"inode", "name", "pid", "command", "ports"}]} */
static void print_json_all(const struct netns_list *l)
{
	struct jsonw w;
	size_t i;

	json_begin(&w);
	jsonw_name(&w, "netns");
	jsonw_start_array(&w);
	for (i = 0; i < l->n; i++) {
		const struct netns *ns = &l->ns[i];

		if (!ns->read)
			continue;
		jsonw_start_object(&w);
		jsonw_u64_field(&w, "inode", ns->inode);
		jsonw_name(&w, "name");
		if (ns->name[0])
			jsonw_string(&w, ns->name);
		else
			jsonw_null(&w);
		jsonw_name(&w, "pid");
		if (ns->pid)
			jsonw_u64(&w, ns->pid);
		else
			jsonw_null(&w);
		jsonw_name(&w, "command");
		if (ns->pid)
			jsonw_string(&w, ns->comm);
		else
			jsonw_null(&w);
		json_ports(&w, &ns->v);
		jsonw_end_object(&w);
	}
	jsonw_end_array(&w);
	jsonw_end_object(&w);
}

/* ---- port exhaustion --------------------------------------------------- */

/*
 * --exhaustion: how many of the namespace's ephemeral ports the tracked
 * sockets tie up towards each destination.  connect() needs a local port
 * unique per (local address, local port, remote address, remote port), so
 * a client runs out per destination: when every usable port of
 * ip_local_port_range is held towards it (EADDRNOTAVAIL).
 */
#define PROM_DEST	"tcp_closestat_destination_"
#define EXH_PROM_TOP	10	/* --prom's default --top: bounded cardinality */

struct dest {
	char local[CS_ADDR_LEN];	/* the address, without brackets */
	char remote[CS_ADDR_LEN];	/* the address, without brackets */
	char remote_ep[CS_ADDR_LEN];	/* as in the file: 1.2.3.4:80, [::1]:80 */
	uint16_t rport;
	uint64_t state[TCS_NR_STATES];
	unsigned int held;		/* distinct local ports */
	bool tw_reuse;
};

struct exh {
	unsigned int lo, hi, usable, reserved;	/* reserved: inside lo-hi */
	unsigned int tw_reuse;			/* the sysctl's value */
	uint64_t untracked;
	size_t n;
	struct dest *d;
};

/* DIR/name: TCS_SYSCTL_DIR or /proc/sys/net/ipv4 (follows our netns). */
static char *read_sysctl(const char *name, char *path, size_t pathlen,
			 size_t *lenp)
{
	const char *dir = getenv("TCS_SYSCTL_DIR");
	char *buf;

	snprintf(path, pathlen, "%s/%s", dir && *dir ? dir : SYSCTL_DIR, name);
	buf = read_file_opt(path, lenp, true);
	if (!buf)
		die("%s: %s", path, strerror(ENOENT));
	return buf;
}

static void read_exh_sysctls(struct exh *x, uint8_t *reserved)
{
	char path[4096], err[CS_ERR_LEN];
	unsigned int p;
	size_t len;
	char *buf;

	buf = read_sysctl("ip_local_port_range", path, sizeof(path), &len);
	if (cs_parse_port_range(buf, len, &x->lo, &x->hi, err, sizeof(err)))
		die("%s: %s", path, err);
	free(buf);
	buf = read_sysctl("ip_local_reserved_ports", path, sizeof(path), &len);
	if (cs_parse_reserved_ports(buf, len, reserved, err, sizeof(err)))
		die("%s: %s", path, err);
	free(buf);
	buf = read_sysctl("tcp_tw_reuse", path, sizeof(path), &len);
	if (cs_parse_sysctl_int(buf, len, 2, &x->tw_reuse, err, sizeof(err)))
		die("%s: %s", path, err);
	free(buf);
	for (p = x->lo; p <= x->hi; p++)
		x->reserved += cs_port_isset(reserved, p);
	x->usable = x->hi - x->lo + 1 - x->reserved;
}

/* The address of "1.2.3.4:80" or "[::1]:80" into out, without brackets. */
static void addr_of(const char *ep, char *out)
{
	size_t n = strrchr(ep, ':') - ep;

	if (ep[0] == '[') {
		memcpy(out, ep + 1, n - 2);
		out[n - 2] = '\0';
	} else {
		memcpy(out, ep, n);
		out[n] = '\0';
	}
}

static int state_index(const char *name)
{
	int i;

	for (i = 0; i < TCS_NR_STATES; i++)
		if (!strcmp(name, state_names[i]))
			return i;
	return -1;
}

/* Destination key order: local address, remote address, remote port. */
static int cmp_dest_key(const char *la, const char *ra, unsigned int rpa,
			const char *lb, const char *rb, unsigned int rpb)
{
	int c = strcmp(la, lb);

	if (c)
		return c;
	c = strcmp(ra, rb);
	if (c)
		return c;
	return (rpa > rpb) - (rpa < rpb);
}

/* Sockets by destination key, then local port. */
static int cmp_sock_dest(const void *a, const void *b)
{
	const struct cs_sock *x = a, *y = b;
	char xl[CS_ADDR_LEN], yl[CS_ADDR_LEN], xr[CS_ADDR_LEN], yr[CS_ADDR_LEN];
	int c;

	addr_of(x->local, xl);
	addr_of(y->local, yl);
	addr_of(x->remote, xr);
	addr_of(y->remote, yr);
	c = cmp_dest_key(xl, xr, x->rport, yl, yr, y->rport);
	if (c)
		return c;
	return (x->lport > y->lport) - (x->lport < y->lport);
}

/* Busiest first: most ports held, then by key. */
static int cmp_dest_busy(const void *a, const void *b)
{
	const struct dest *x = a, *y = b;

	if (x->held != y->held)
		return x->held < y->held ? 1 : -1;
	return cmp_dest_key(x->local, x->remote, x->rport,
			    y->local, y->remote, y->rport);
}

static void build_exh(struct exh *x)
{
	static uint8_t reserved[CS_NR_PORTS / 8];
	struct cs_socks all;
	struct cs_stat st;
	size_t i, n = 0;

	memset(x, 0, sizeof(*x));
	read_exh_sysctls(x, reserved);
	read_stat(&st);
	for (i = 0; i < st.n; i++)
		if (!strcmp(st.e[i].name, TCS_STAT_UNTRACKED))
			x->untracked = st.e[i].value;
	cs_stat_free(&st);

	read_sockets(&all);
	for (i = 0; i < all.n; i++) {
		const struct cs_sock *k = &all.s[i];

		if (k->lport < x->lo || k->lport > x->hi ||
		    cs_port_isset(reserved, k->lport) || state_index(k->state) < 0 ||
		    (opt.ports_set && !cs_port_isset(opt.ports, k->rport)))
			continue;
		all.s[n++] = *k;
	}
	if (n)
		qsort(all.s, n, sizeof(*all.s), cmp_sock_dest);
	x->d = calloc(n ? n : 1, sizeof(*x->d));
	if (!x->d)
		die("out of memory");
	for (i = 0; i < n; i++) {
		const struct cs_sock *k = &all.s[i];
		struct dest *d = x->n ? &x->d[x->n - 1] : NULL;
		char l[CS_ADDR_LEN], r[CS_ADDR_LEN];
		bool first = !d;

		addr_of(k->local, l);
		addr_of(k->remote, r);
		if (d && cmp_dest_key(l, r, k->rport, d->local, d->remote,
				      d->rport))
			first = true;
		if (first) {
			d = &x->d[x->n++];
			memcpy(d->local, l, sizeof(l));
			memcpy(d->remote, r, sizeof(r));
			snprintf(d->remote_ep, sizeof(d->remote_ep), "%s", k->remote);
			d->rport = k->rport;
			d->tw_reuse = x->tw_reuse == 1 ||
				      (x->tw_reuse == 2 &&
				       (cs_addr_is_loopback(k->local) ||
					cs_addr_is_loopback(k->remote)));
		}
		d->state[state_index(k->state)]++;
		/* sorted by local port within the key: count each port once */
		if (first || all.s[i - 1].lport != k->lport)
			d->held++;
	}
	cs_socks_free(&all);
	if (x->n)
		qsort(x->d, x->n, sizeof(*x->d), cmp_dest_busy);
}

static double exh_percent(const struct exh *x, const struct dest *d)
{
	return x->usable ? 100.0 * d->held / x->usable : 0;
}

static void untracked_note(const struct exh *x)
{
	if (x->untracked)
		fprintf(stderr, PROG ": note: %llu sockets were not tracked (%s in %s): the counts may be low\n",
			(unsigned long long)x->untracked, TCS_STAT_UNTRACKED,
			stat_path);
}

static void print_exh_table(const struct exh *x, size_t rows)
{
	static const char *const hdr[] = {
		TCS_SOCK_COL_LOCAL, TCS_SOCK_COL_REMOTE, "time_wait", "close_wait",
		"fin_wait2", "held", "range", "percent", "tw_reuse",
	};
	enum { NCELLS = sizeof(hdr) / sizeof(hdr[0]) };
	unsigned int width[NCELLS], k, s;
	struct cell *cells;
	size_t i;

	cells = calloc((rows + 1) * NCELLS, sizeof(*cells));
	if (!cells)
		die("out of memory");
	for (k = 0; k < NCELLS; k++)
		set_cell(&cells[k], hdr[k]);
	for (i = 0; i < rows; i++) {
		const struct dest *d = &x->d[i];
		struct cell *row = cells + (i + 1) * NCELLS;

		set_cell(&row[0], d->local);
		set_cell(&row[1], d->remote_ep);
		for (s = 0; s < TCS_NR_STATES; s++)
			row[2 + s].len = fmt_u64(row[2 + s].s, d->state[s]);
		row[5].len = fmt_u64(row[5].s, d->held);
		row[6].len = fmt_u64(row[6].s, x->usable);
		snprintf(row[7].s, sizeof(row[7].s), "%.1f%%", exh_percent(x, d));
		row[7].len = strlen(row[7].s);
		set_cell(&row[8], d->tw_reuse ? "yes" : "no");
	}
	for (k = 0; k < NCELLS; k++) {
		width[k] = 0;
		for (i = opt.no_header ? 1 : 0; i <= rows; i++)
			if (cells[i * NCELLS + k].len > width[k])
				width[k] = cells[i * NCELLS + k].len;
	}
	if (!opt.no_header) {
		printf("ephemeral range %u-%u, %u ports", x->lo, x->hi, x->usable);
		if (x->reserved)
			printf(" (%u reserved)", x->reserved);
		printf(", tcp_tw_reuse %u\n", x->tw_reuse);
	}
	/* addresses left-aligned, numbers right-aligned */
	for (i = opt.no_header ? 1 : 0; i <= rows; i++) {
		for (k = 0; k < NCELLS; k++) {
			const struct cell *c = &cells[i * NCELLS + k];

			if (k < 2)
				printf("%-*s  ", (int)width[k], c->s);
			else if (k < NCELLS - 1)
				printf("%*s  ", (int)width[k], c->s);
			else
				printf("%s\n", c->s);
		}
	}
	free(cells);
}

static void print_exh_json(const struct exh *x, size_t rows)
{
	struct jsonw w;
	unsigned int s;
	size_t i;

	json_begin(&w);
	jsonw_name(&w, "range");
	jsonw_start_object(&w);
	jsonw_u64_field(&w, "lo", x->lo);
	jsonw_u64_field(&w, "hi", x->hi);
	jsonw_u64_field(&w, "ports", x->usable);
	jsonw_u64_field(&w, "reserved", x->reserved);
	jsonw_end_object(&w);
	jsonw_u64_field(&w, "tcp_tw_reuse", x->tw_reuse);
	jsonw_u64_field(&w, TCS_STAT_UNTRACKED, x->untracked);
	jsonw_name(&w, "destinations");
	jsonw_start_array(&w);
	for (i = 0; i < rows; i++) {
		const struct dest *d = &x->d[i];

		jsonw_start_object(&w);
		jsonw_string_field(&w, TCS_SOCK_COL_LOCAL, d->local);
		jsonw_string_field(&w, TCS_SOCK_COL_REMOTE, d->remote);
		jsonw_u64_field(&w, "remote_port", d->rport);
		for (s = 0; s < TCS_NR_STATES; s++)
			jsonw_u64_field(&w, state_names[s], d->state[s]);
		jsonw_u64_field(&w, "held", d->held);
		jsonw_u64_field(&w, "range", x->usable);
		jsonw_name(&w, "percent");
		jsonw_number(&w, "%.1f", exh_percent(x, d));
		jsonw_name(&w, "tw_reuse");
		jsonw_bool(&w, d->tw_reuse);
		jsonw_end_object(&w);
	}
	jsonw_end_array(&w);
	jsonw_end_object(&w);
}

/* -A: exit status 1 if any namespace could not be read. */
static int run_all_netns(void)
{
	struct netns_list l = { 0 };
	size_t failed, i;

	failed = read_all_netns(&l);
	if (opt.json)
		print_json_all(&l);
	else
		print_table_all(&l);
	for (i = 0; i < l.n; i++)
		free_view(&l.ns[i].v);
	free(l.ns);
	return failed ? 1 : 0;
}

static void print_exh_prom(const struct exh *x, size_t rows)
{
	char val[21], rport[21];
	unsigned int s;
	size_t i;

	prom_family("tcp_closestat_ephemeral_ports",
		    "Usable ports of ip_local_port_range (reserved ones excluded).",
		    "gauge");
	fmt_u64(val, x->usable);
	prom_sample("tcp_closestat_ephemeral_ports", val, NULL);
	prom_family(PROM_DEST "ports_held",
		    "Ephemeral ports tracked sockets hold towards a destination (local address, remote address and port).",
		    "gauge");
	for (i = 0; i < rows; i++) {
		fmt_u64(val, x->d[i].held);
		fmt_u64(rport, x->d[i].rport);
		prom_sample(PROM_DEST "ports_held", val, "local", x->d[i].local,
			    "remote", x->d[i].remote, "remote_port", rport, NULL);
	}
	prom_family(PROM_DEST "sockets",
		    "Tracked sockets on an ephemeral port towards a destination, per state.",
		    "gauge");
	for (i = 0; i < rows; i++) {
		fmt_u64(rport, x->d[i].rport);
		for (s = 0; s < TCS_NR_STATES; s++) {
			fmt_u64(val, x->d[i].state[s]);
			prom_sample(PROM_DEST "sockets", val, "local", x->d[i].local,
				    "remote", x->d[i].remote, "remote_port", rport,
				    "state", state_names[s], NULL);
		}
	}
	prom_family(PROM_DEST "tw_reuse",
		    "1 if tcp_tw_reuse lets connect() take over this destination's TIME_WAIT ports.",
		    "gauge");
	for (i = 0; i < rows; i++) {
		fmt_u64(rport, x->d[i].rport);
		prom_sample(PROM_DEST "tw_reuse", x->d[i].tw_reuse ? "1" : "0",
			    "local", x->d[i].local, "remote", x->d[i].remote,
			    "remote_port", rport, NULL);
	}
}

static void run_exhaustion(void)
{
	struct exh x;
	size_t rows;
	unsigned long top = opt.top_set ? opt.top : opt.prom ? EXH_PROM_TOP : 0;

	build_exh(&x);
	rows = top && top < x.n ? top : x.n;
	if (opt.json) {
		print_exh_json(&x, rows);
	} else {
		untracked_note(&x);
		if (opt.prom)
			print_exh_prom(&x, rows);
		else
			print_exh_table(&x, rows);
	}
	free(x.d);
}

/* ---- main loops -------------------------------------------------------- */

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void run_interval(void)
{
	bool tty = !opt.json && isatty(STDOUT_FILENO);
	struct view prev = { 0 }, cur = { 0 };
	double t0, t1, start;
	unsigned long n;

	read_table(&prev.t);
	make_view(&prev);
	start = t0 = now_mono();
	for (n = 1; !opt.count || n <= opt.count; n++) {
		sleep_until(start + n * opt.interval);
		read_table(&cur.t);
		t1 = now_mono();
		make_view(&cur);
		compute_rates(&cur, &prev, t1 - t0);
		if (opt.json) {
			print_json(&cur, t1 - t0);
		} else {
			if (tty) {
				char stamp[32];
				time_t wall = time(NULL);

				strftime(stamp, sizeof(stamp), "%H:%M:%S",
					 localtime(&wall));
				printf("\033[H\033[2J" PROG ": every %gs, %s\n\n",
				       opt.interval, stamp);
			}
			sort_busiest(&cur);
			print_table(&cur);
		}
		if (fflush(stdout))
			die("stdout: %s", strerror(errno));
		free_view(&prev);
		prev = cur;
		memset(&cur, 0, sizeof(cur));
		t0 = t1;
	}
	free_view(&prev);
}

static void run_once(void)
{
	struct view v = { 0 };
	struct cs_stat s = { 0 };

	read_table(&v.t);
	make_view(&v);
	if (opt.prom) {
		struct cs_hist h;

		read_stat(&s);
		/* a module without the histogram file: no histograms */
		if (!read_hist(&h, true))
			h.n = 0;
		print_prom(&v, &s);
		print_hist_prom(&h);
		cs_stat_free(&s);
	} else if (opt.json) {
		print_json(&v, 0);
	} else {
		sort_busiest(&v);
		print_table(&v);
	}
	free_view(&v);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all-ports",	no_argument,		NULL, 'a' },
		{ "numeric",	no_argument,		NULL, 'n' },
		{ "no-header",	no_argument,		NULL, 'H' },
		{ "zeros",	no_argument,		NULL, 'z' },
		{ "port",	required_argument,	NULL, 'p' },
		{ "local",	no_argument,		NULL, 'l' },
		{ "remote",	no_argument,		NULL, 'r' },
		{ "state",	required_argument,	NULL, 's' },
		{ "interval",	required_argument,	NULL, 'i' },
		{ "count",	required_argument,	NULL, 'c' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "prom",	no_argument,		NULL, OPT_PROM },
		{ "output",	required_argument,	NULL, 'o' },
		{ "stat",	no_argument,		NULL, 'S' },
		{ "netns",	required_argument,	NULL, 'N' },
		{ "all-netns",	no_argument,		NULL, 'A' },
		{ "reset",	no_argument,		NULL, OPT_RESET },
		{ "extended",	no_argument,		NULL, 'e' },
		{ "hist",	no_argument,		NULL, OPT_HIST },
		{ "stuck",	required_argument,	NULL, OPT_STUCK },
		{ "check-kernel", no_argument,		NULL, OPT_CHECK_KERNEL },
		{ "btf",	required_argument,	NULL, OPT_BTF },
		{ "exhaustion",	no_argument,		NULL, 'x' },
		{ "top",	required_argument,	NULL, OPT_TOP },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	char err[CS_ERR_LEN];
	bool local = false, remote = false;
	unsigned int others = 0;	/* options --check-kernel does not take */
	int ch, status = 0;

	while ((ch = getopt_long(argc, argv, "anHzp:lrs:ei:c:jo:SN:Axh", longopts,
				 NULL)) != -1) {
		if (ch != 'j' && ch != OPT_CHECK_KERNEL && ch != OPT_BTF)
			others++;
		switch (ch) {
		case 'a':
			opt.all_ports = true;
			break;
		case 'n':
			opt.numeric = true;
			break;
		case 'H':
			opt.no_header = true;
			break;
		case 'z':
			opt.zeros = true;
			break;
		case 'p':
			if (cs_parse_ports(optarg, opt.ports, err, sizeof(err)))
				die_usage("%s", err);
			opt.ports_set = true;
			break;
		case 'l':
			local = true;
			break;
		case 'r':
			remote = true;
			break;
		case 's':
			if (cs_parse_states(optarg, &opt.states, err, sizeof(err)))
				die_usage("%s", err);
			break;
		case 'i':
			if (cs_parse_interval(optarg, &opt.interval, err,
					       sizeof(err)))
				die_usage("%s", err);
			break;
		case 'c':
			if (cs_parse_count(optarg, &opt.count, err, sizeof(err)))
				die_usage("%s", err);
			break;
		case 'j':
			opt.json = true;
			break;
		case OPT_PROM:
			opt.prom = true;
			break;
		case 'o':
			if (!*optarg)
				die_usage("--output needs a file name");
			opt.output = optarg;
			break;
		case 'S':
			opt.stat = true;
			break;
		case 'N':
			if (!*optarg || strchr(optarg, '/') ||
			    !strcmp(optarg, ".") || !strcmp(optarg, ".."))
				die_usage("invalid network namespace name '%s'",
					  optarg);
			opt.netns = optarg;
			break;
		case 'A':
			opt.all_netns = true;
			break;
		case OPT_RESET:
			opt.reset = true;
			break;
		case 'e':
			opt.extended = true;
			break;
		case OPT_HIST:
			opt.hist = true;
			break;
		case OPT_STUCK:
			if (cs_parse_age(optarg, &opt.stuck_ms, err, sizeof(err)))
				die_usage("%s", err);
			opt.stuck = true;
			break;
		case OPT_CHECK_KERNEL:
			opt.check_kernel = true;
			break;
		case OPT_BTF:
			opt.btf = optarg;
			break;
		case 'x':
			opt.exhaustion = true;
			break;
		case OPT_TOP:
			if (cs_parse_top(optarg, &opt.top, err, sizeof(err)))
				die_usage("%s", err);
			opt.top_set = true;
			break;
		case 'h':
			usage(stdout);
			if (fflush(stdout) || ferror(stdout))
				die("stdout: %s", strerror(errno));
			return 0;
		case OPT_VERSION:
			printf(PROG " " CS_VERSION "\n");
			if (fflush(stdout) || ferror(stdout))
				die("stdout: %s", strerror(errno));
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (opt.count && !opt.interval)
		die_usage("-c needs -i");
	if (opt.prom && (opt.json || opt.interval || opt.stat))
		die_usage("--prom cannot be combined with -j, -i or -S");
	if (opt.stat && opt.interval)
		die_usage("-S cannot be combined with -i");
	if (opt.output && opt.interval)
		die_usage("--output cannot be combined with -i");
	if (opt.reset && (opt.prom || opt.json || opt.interval || opt.stat ||
			  opt.hist || opt.stuck || opt.output))
		die_usage("--reset cannot be combined with output options");
	if (opt.hist && opt.stuck)
		die_usage("--hist cannot be combined with --stuck");
	if ((opt.hist || opt.stuck) && (opt.prom || opt.interval || opt.stat))
		die_usage("--hist and --stuck cannot be combined with --prom, -i or -S");
	if (opt.all_netns && (opt.netns || opt.prom || opt.interval ||
			      opt.stat || opt.reset || opt.hist || opt.stuck ||
			      opt.exhaustion))
		die_usage("-A cannot be combined with -N, --prom, -i, -S, --reset, --hist, --stuck or -x");
	if (opt.top_set && !opt.exhaustion)
		die_usage("--top needs --exhaustion");
	if (opt.exhaustion && (opt.interval || opt.stat || opt.hist ||
			       opt.stuck || opt.reset))
		die_usage("--exhaustion cannot be combined with -i, -S, --hist, --stuck or --reset");
	if (opt.exhaustion && (local || remote || opt.zeros || opt.states ||
			       opt.extended))
		die_usage("-l, -r, -z, -s and -e do not apply to --exhaustion (-p: remote ports)");
	if (opt.all_ports && (opt.exhaustion || opt.hist || opt.stuck ||
			      opt.stat || opt.reset))
		die_usage("-a does not apply to -x, --hist, --stuck, -S or --reset");
	/* the ports asked for by name are shown by name, never folded */
	if (opt.ports_set)
		opt.all_ports = true;
	if (opt.btf && !opt.check_kernel)
		die_usage("--btf needs --check-kernel");
	if (opt.check_kernel) {
		struct cs_kcheck_opts kc = { .btf = opt.btf, .json = opt.json };
		int failed;

		if (others)
			die_usage("--check-kernel can only be combined with -j and --btf");
		failed = cs_kcheck(stdout, &kc);
		if (fflush(stdout) || ferror(stdout))
			die("stdout: %s", strerror(errno));
		return failed ? 1 : 0;
	}
	opt.sides[TCS_SIDE_LOCAL] = local || !remote;
	opt.sides[TCS_SIDE_REMOTE] = remote || !local;

	set_paths();
	if (opt.all_netns && opt.proc_dir)
		die_usage("-A reads each namespace's /proc/net: TCS_PROC_DIR cannot be set");
	if (opt.netns)
		enter_netns(opt.netns);
	if (opt.output)
		output_open();

	if (opt.reset) {
		do_reset();
	} else if (opt.all_netns) {
		status = run_all_netns();
	} else if (opt.hist) {
		run_hist();
	} else if (opt.stuck) {
		run_stuck();
	} else if (opt.exhaustion) {
		run_exhaustion();
	} else if (opt.stat) {
		struct cs_stat s;

		read_stat(&s);
		print_stat(&s);
		cs_stat_free(&s);
	} else if (opt.interval) {
		run_interval();
	} else {
		run_once();
	}
	if (opt.output)
		output_commit();
	else if (fflush(stdout) || ferror(stdout))
		die("stdout: %s", strerror(errno));
	if (not_folded)
		warn("%s: %s: this module does not fold clients' ports; showing every port",
		     folded_path, strerror(ENOENT));
	if (other_not_shown)
		warn("note: -p does not match the \"" TCS_PORT_OTHER_NAME "\" rows, which count the ports the module's caps refused: a listed port may be one of them (ports_refused_* in -S)");
	return status;
}
