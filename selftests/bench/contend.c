// SPDX-License-Identifier: GPL-2.0
/*
 * contend: what counters shared between CPUs cost against per-CPU ones,
 * for a hot service port (every CPU closing connections on local port
 * 443: every CPU updates that port's row).  Userspace model of the
 * module's update scheme (Documentation/performance.rst, "Shared counters
 * under contention").
 *
 * One thread per CPU 0..N-1 (sched_setaffinity), started together; each
 * does EVENTS events, an event being INCS updates of a port row laid out
 * as the module's struct tcs_port (ten u64 counters, 104 bytes): by
 * default the four of one TIME_WAIT stay on the local side, back to back
 * (enter +1, gauge +1, gauge -1, expired +1).  Modes:
 *
 *   percpu  each thread its own row, on a page of its own, updated by a
 *           plain add to memory (this_cpu_inc(): "incq %gs:...")
 *   atomic  one row shared by all threads, updated by a locked add
 *           (atomic64_inc(): "lock incq")
 *   plain   one shared row, plain adds (racy: updates are lost; for
 *           reference only)
 *   conn    a loopback connection per event, for scale: connect, accept,
 *           one byte, the server closes first, the client reads EOF and
 *           closes (each thread its own listener, a new one per run)
 *
 * GAP > 0 spins GAP iterations of an empty loop between events (the work
 * a CPU does between two events: the other CPUs take the line meanwhile),
 * and times each event alone (rdtsc, fenced); the mode "gap" times an
 * event of no update, the timer's own cost, which the other modes'
 * figures then have subtracted.  Without GAP the events run back to back,
 * the worst case for a shared line.
 *
 * Every thread stops when the first has done its EVENTS (or CONNS)
 * events, so that all run side by side to the end (a contended line is
 * not shared fairly: one CPU would finish first, and the other would then
 * run alone).  The figure of a run is the mean over the threads of their
 * time divided by the events they did; a row of the table is the median
 * over REPS runs (min and max beside).  A run in which a thread was
 * switched out (another process took its CPU), or the threads ran side by
 * side for less than 90 % of the run, is run again, up to 200 times in
 * all (column "retried"): the runs are short so that most are not.
 *
 *   contend [-jp] [-n EVENTS] [-i INCS] [-c CONNS] [-r REPS] [-g GAP]
 *           [-o OFFSET] [-t THREADS,...] [-m MODE,...]
 *
 * -o puts the shared row OFFSET bytes into its page (the module carves
 * rows from pages in order, so a row may straddle two cache lines).
 * -j adds one key=value line per row, and one for the summary.  -p runs
 * the threads in SCHED_FIFO (root), so that other processes of a busy
 * host do not preempt them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#define NR_SLOTS	10	/* TCS_NR_SLOTS */
#define MAX_THREADS	64
#define MAX_REPS	101
#define PAGE		4096
#define MAX_RETRIES	200	/* preempted runs, run again */

struct row {			/* struct tcs_port */
	uint64_t v[NR_SLOTS];
	uint64_t fold, oldest_ns, scan_gen;
};

/* The updates of one TIME_WAIT stay on one side, in the module's order. */
static const struct { unsigned int slot; int delta; } seq[] = {
	{ 0, 1 },	/* TCS_S_ENTER + TCS_STATE_TIME_WAIT */
	{ 7, 1 },	/* TCS_S_NOW + TCS_STATE_TIME_WAIT, in */
	{ 7, -1 },	/* ... and out */
	{ 3, 1 },	/* TCS_S_TW_EXPIRED */
};
#define NR_SEQ	(sizeof(seq) / sizeof(seq[0]))

enum mode { M_GAP, M_PERCPU, M_ATOMIC, M_PLAIN, M_CONN, NR_MODES };
static const char *const mode_names[NR_MODES] = {
	"gap", "percpu", "atomic", "plain", "conn"
};

static unsigned long events = 200000, conns = 500, gap, offset;
static unsigned int incs = NR_SEQ, reps = 11;
static int fifo;		/* -p: the threads in SCHED_FIFO */

struct thread {
	pthread_t tid;
	unsigned int cpu;
	enum mode mode;
	struct row *row;
	uint64_t t0, ns;
	uint64_t cycles;	/* with GAP: in the events, in TSC cycles */
	double event_ns;	/* ... and in ns */
	unsigned long done;	/* events done */
	long preempted;		/* involuntary context switches in the run */
	int err;
} __attribute__((aligned(64)));

static struct thread threads[MAX_THREADS];
static unsigned int nthreads;
static int ready;		/* threads at the start line */
static int stop;		/* a thread did all its events */

static void die(const char *what)
{
	fprintf(stderr, "contend: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* this_cpu_add(): one add to memory, not locked */
static inline void add_plain(uint64_t *p, int d)
{
#if defined(__x86_64__)
	asm volatile("addq %1, %0" : "+m" (*p) : "er" ((int64_t)d));
#else
	*(volatile uint64_t *)p += d;
#endif
}

/* atomic64_add(): "lock addq" on x86 */
static inline void add_atomic(uint64_t *p, int d)
{
	__atomic_fetch_add(p, (uint64_t)(int64_t)d, __ATOMIC_RELAXED);
}

static inline void spin(unsigned long n)
{
	while (n--)
		asm volatile("" ::: "memory");
}

/* A fenced timestamp, in TSC cycles (ns where there is no TSC). */
static inline uint64_t stamp(void)
{
#if defined(__x86_64__)
	uint64_t c;

	_mm_lfence();
	c = __rdtsc();
	_mm_lfence();
	return c;
#else
	return now_ns();
#endif
}

static void run_counters(struct thread *t)
{
	uint64_t *v = t->row->v, c0 = 0;
	unsigned long e;
	unsigned int i;

	for (e = 0; e < events; e++) {
		if (gap)
			c0 = stamp();
		if (!(e % 256) && __atomic_load_n(&stop, __ATOMIC_RELAXED))
			break;
		switch (t->mode) {
		case M_ATOMIC:
			for (i = 0; i < incs; i++)
				add_atomic(&v[seq[i % NR_SEQ].slot],
					   seq[i % NR_SEQ].delta);
			break;
		case M_PERCPU:
		case M_PLAIN:
			for (i = 0; i < incs; i++)
				add_plain(&v[seq[i % NR_SEQ].slot],
					  seq[i % NR_SEQ].delta);
			break;
		default:
			break;
		}
		if (gap) {
			t->cycles += stamp() - c0;
			spin(gap);
		}
	}
	t->done = e;
}

static int run_conns(struct thread *t)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	unsigned long i;
	int l, c, s;
	char b;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(l, 16) || getsockname(l, (struct sockaddr *)&sin, &len))
		return errno;
	for (i = 0; i < conns; i++) {
		if (__atomic_load_n(&stop, __ATOMIC_RELAXED))
			break;
		c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&sin, sizeof(sin)))
			return errno;
		s = accept(l, NULL, NULL);
		if (s < 0)
			return errno;
		if (write(c, "x", 1) != 1 || read(s, &b, 1) != 1 || close(s) ||
		    read(c, &b, 1) != 0 || close(c))
			return errno ? errno : EIO;
		spin(gap);
	}
	t->done = i;
	close(l);
	return 0;
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	struct rusage ru0, ru1;
	uint64_t t0, c0, c1;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) ||
	    (fifo && sched_setscheduler(0, SCHED_FIFO,
					&(struct sched_param){ 1 }))) {
		t->err = errno;
		__atomic_fetch_add(&ready, 1, __ATOMIC_SEQ_CST);
		return NULL;
	}
	/* Spin to the start line, so that every thread starts at once. */
	__atomic_fetch_add(&ready, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) < (int)nthreads)
		;
	getrusage(RUSAGE_THREAD, &ru0);
	t0 = now_ns();
	c0 = stamp();
	if (t->mode == M_CONN)
		t->err = run_conns(t);
	else
		run_counters(t);
	c1 = stamp();
	t->t0 = t0;
	t->ns = now_ns() - t0;
	/* With GAP, the time in the events only, in ns. */
	if (gap && t->mode != M_CONN && c1 > c0)
		t->event_ns = (double)t->cycles * t->ns / (c1 - c0);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	getrusage(RUSAGE_THREAD, &ru1);
	t->preempted = ru1.ru_nivcsw - ru0.ru_nivcsw;
	return NULL;
}

static void *page_alloc(void)
{
	void *p;

	if (posix_memalign(&p, PAGE, PAGE))
		die("posix_memalign");
	memset(p, 0, PAGE);
	return p;
}

/*
 * One run: ns per event, the mean over the threads; checks the counts.
 * Sets *preempted if a thread was switched out during the run (another
 * process took its CPU: the run does not measure what it should).
 */
static double run_once(enum mode mode, unsigned int n, long *lost,
		       int *preempted)
{
	uint64_t slow = 0, first_end = UINT64_MAX, last_start = 0, done = 0;
	char *shared = page_alloc();
	struct row *rows[MAX_THREADS];
	double sum_ns = 0;
	unsigned int i;

	nthreads = n;
	ready = 0;
	stop = 0;
	for (i = 0; i < n; i++) {
		struct thread *t = &threads[i];

		rows[i] = mode == M_PERCPU ? page_alloc() : NULL;
		memset(t, 0, sizeof(*t));
		t->cpu = i;
		t->mode = mode;
		t->row = rows[i] ? rows[i] : (struct row *)(shared + offset);
		errno = pthread_create(&t->tid, NULL, thread_main, t);
		if (errno)
			die("pthread_create");
	}
	*lost = 0;
	*preempted = 0;
	for (i = 0; i < n; i++) {
		struct thread *t = &threads[i];

		pthread_join(t->tid, NULL);
		if (t->preempted)
			*preempted = 1;
		if (t->err) {
			errno = t->err;
			die(mode == M_CONN ? "loopback connection" :
			    fifo ? "sched_setaffinity/SCHED_FIFO" :
			    "sched_setaffinity");
		}
		if (!t->done)	/* it started after another had finished */
			*preempted = 1;
		else
			sum_ns += (gap && mode != M_CONN ? t->event_ns :
				   (double)t->ns) / t->done;
		done += t->done;
		if (t->ns > slow)
			slow = t->ns;
		if (t->t0 > last_start)
			last_start = t->t0;
		if (t->t0 + t->ns < first_end)
			first_end = t->t0 + t->ns;
	}
	/* The threads must have run side by side for 90 % of the run. */
	if (first_end < last_start || (first_end - last_start) * 10 < slow * 9)
		*preempted = 1;
	/* The enter counter: one per event, if the updates reach slot 0. */
	if (mode == M_PERCPU || mode == M_ATOMIC || mode == M_PLAIN) {
		uint64_t sum = 0;

		for (i = 0; i < n; i++)
			sum += mode == M_PERCPU ? rows[i]->v[0] :
				i ? 0 : ((struct row *)(shared + offset))->v[0];
		*lost = (long)(done - sum);
		if (mode != M_PLAIN && *lost) {
			fprintf(stderr, "contend: %s: %ld updates lost\n",
				mode_names[mode], *lost);
			exit(1);
		}
	}
	for (i = 0; i < n; i++)
		free(rows[i]);
	free(shared);
	return sum_ns / n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double med, min, max;
	long lost;
	unsigned int retried;	/* runs preempted, and run again */
	int done;
};

static struct result results[NR_MODES][MAX_THREADS + 1];

static void measure(enum mode mode, unsigned int n)
{
	struct result *r = &results[mode][n];
	double x[MAX_REPS];
	unsigned int i, tries = 0;
	int preempted;
	long lost;

	r->lost = 0;
	r->retried = 0;
	for (i = 0; i < reps; i++) {
		for (;;) {
			x[i] = run_once(mode, n, &lost, &preempted);
			/* A busy host: stop being picky after MAX_RETRIES. */
			if (!preempted || tries == MAX_RETRIES)
				break;
			tries++;
			r->retried++;
		}
		r->lost += lost;
	}
	qsort(x, reps, sizeof(x[0]), cmp_double);
	r->med = x[reps / 2];
	r->min = x[0];
	r->max = x[reps - 1];
	r->done = 1;
}

static unsigned long arg(const char *s, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "contend: invalid number '%s'\n", s);
		exit(2);
	}
	return v;
}

static void usage(void)
{
	fprintf(stderr, "usage: contend [-jp] [-n EVENTS] [-i INCS] [-c CONNS] "
		"[-r REPS] [-g GAP] [-o OFFSET] [-t THREADS,...] [-m MODE,...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned int tlist[MAX_THREADS], nt = 0, i, n;
	int want[NR_MODES] = { 0 }, json = 0, opt, m, any = 0;
	char *s, *tok, *save;

	while ((opt = getopt(argc, argv, "jpn:i:c:r:g:o:t:m:")) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'p':
			fifo = 1;
			break;
		case 'n':
			events = arg(optarg, 1, 1UL << 40);
			break;
		case 'i':
			incs = arg(optarg, 0, 1000);
			break;
		case 'c':
			conns = arg(optarg, 1, 1000000);
			break;
		case 'r':
			reps = arg(optarg, 1, MAX_REPS);
			break;
		case 'g':
			gap = arg(optarg, 0, 1UL << 30);
			break;
		case 'o':
			offset = arg(optarg, 0, PAGE - sizeof(struct row));
			if (offset % 8) {
				fprintf(stderr, "contend: -o: a multiple of 8\n");
				return 2;
			}
			break;
		case 't':
			for (s = optarg; (tok = strtok_r(s, ",", &save)); s = NULL) {
				if (nt == MAX_THREADS)
					usage();
				tlist[nt++] = arg(tok, 1, MAX_THREADS);
			}
			break;
		case 'm':
			for (s = optarg; (tok = strtok_r(s, ",", &save)); s = NULL) {
				for (m = 0; m < NR_MODES; m++)
					if (!strcmp(tok, mode_names[m]))
						break;
				if (m == NR_MODES || m == M_GAP)
					usage();
				want[m] = any = 1;
			}
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (!nt) {
		tlist[nt++] = 1;
		tlist[nt++] = 2;
	}
	if (!any)
		for (m = M_PERCPU; m < NR_MODES; m++)
			want[m] = 1;
	want[M_GAP] = gap > 0;

	printf("contend: %lu events per thread, %u updates per event, "
	       "%lu connections per thread, gap %lu, row at offset %lu, "
	       "median of %u%s\n", events, incs, conns, gap, offset, reps,
	       fifo ? ", SCHED_FIFO" : "");
	printf("%-7s %7s %10s %10s %10s %10s %8s %7s\n", "mode", "threads",
	       "ns/event", "ns/update", "min", "max", "lost", "retried");
	for (m = 0; m < NR_MODES; m++) {
		if (!want[m])
			continue;
		for (i = 0; i < nt; i++) {
			struct result *r = &results[m][tlist[i]];
			double base = 0, per = 0;
			char pbuf[32] = "-";

			n = tlist[i];
			measure(m, n);
			/* the spin between events is not the mode's cost */
			if (m != M_GAP && m != M_CONN && want[M_GAP])
				base = results[M_GAP][n].med;
			r->med -= base;
			r->min -= base;
			r->max -= base;
			if (m != M_GAP && m != M_CONN && incs) {
				per = r->med / incs;
				snprintf(pbuf, sizeof(pbuf), "%.2f", per);
			}
			printf("%-7s %7u %10.2f %10s %10.2f %10.2f %8ld %7u\n",
			       mode_names[m], n, r->med, pbuf, r->min, r->max,
			       r->lost, r->retried);
			if (json)
				printf("contend mode=%s threads=%u ns_event=%.2f "
				       "ns_update=%.2f min=%.2f max=%.2f lost=%ld "
				       "retried=%u\n", mode_names[m], n, r->med,
				       per, r->min, r->max, r->lost, r->retried);
			fflush(stdout);
		}
	}
	/* At the largest thread count measured: what sharing adds. */
	n = tlist[0];
	for (i = 1; i < nt; i++)
		if (tlist[i] > n)
			n = tlist[i];
	if (results[M_ATOMIC][n].done && results[M_PERCPU][n].done) {
		double extra = results[M_ATOMIC][n].med - results[M_PERCPU][n].med;

		printf("shared atomic at %u threads: %+.2f ns per event against "
		       "percpu", n, extra);
		if (results[M_CONN][n].done)
			printf(", %.3f %% of a loopback connection (%.0f ns)",
			       100 * extra / results[M_CONN][n].med,
			       results[M_CONN][n].med);
		printf("\n");
		if (json)
			printf("contend summary threads=%u extra_ns_event=%.2f "
			       "conn_ns=%.0f extra_pct_conn=%.4f\n", n, extra,
			       results[M_CONN][n].done ? results[M_CONN][n].med : 0,
			       results[M_CONN][n].done ?
			       100 * extra / results[M_CONN][n].med : 0);
	}
	return 0;
}
