// SPDX-License-Identifier: GPL-2.0
/*
 * churn: open and close loopback TCP connections in a chosen close order.
 *
 * Every connection is made by the same process on both ends: connect(),
 * accept(), one byte from client to server, then the close sequence of
 * ORDER.  churn returns only when every close handshake it started has
 * completed on both ends: after the last close() it waits until no socket
 * of its connections is left in a state other than TIME_WAIT, so that a
 * caller can compare counters right after churn exits.  The check asks
 * sock_diag for the sockets on the server port (the kernel filters, so the
 * cost does not grow with unrelated sockets) and falls back to reading
 * /proc/net/tcp{,6} when inet_diag is not available.
 *
 * With -P, worker processes share one listening socket.  connect() and
 * accept() are serialized among the workers by a token passed through a
 * pipe, so that each worker accepts exactly the connection it just made;
 * the rest of each connection (data and close) runs in parallel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#define DEFAULT_PORT		30000
#define DEFAULT_COUNT		100
#define MAX_PROCS		256
#define STALL_SECONDS		30	/* no progress for this long: give up */
#define SETTLE_SECONDS		30	/* wait at most this long for the closes */
#ifndef SECONDS_DIGITS
#define SECONDS_DIGITS		3	/* selftests/bench builds churn with 6 */
#endif

enum order {
	ORDER_SERVER,
	ORDER_CLIENT,
	ORDER_ORPHAN,
	ORDER_RST,
	ORDER_UNREAD,
	ORDER_HOLD,
	ORDER_BOTH,
};

static const char *const order_names[] = {
	[ORDER_SERVER]	= "server",
	[ORDER_CLIENT]	= "client",
	[ORDER_ORPHAN]	= "orphan",
	[ORDER_RST]	= "rst",
	[ORDER_UNREAD]	= "unread",
	[ORDER_HOLD]	= "hold",
	[ORDER_BOTH]	= "both",
};

struct config {
	int mode;			/* 4, 6 or 'm' (v4-mapped) */
	const char *addr;
	unsigned int port;
	unsigned long count;
	double duration;		/* > 0: run for this long instead */
	unsigned int procs;
	enum order order;
	unsigned long hold_ms;
	unsigned int lport;		/* 0: ephemeral */
	unsigned int lport_hi;		/* -b LOW-HIGH: the clients cycle */
	bool quiet;
	bool bind0;			/* -B: bind() to port 0 first */
};

/* One per worker, in memory shared with the parent. */
struct result {
	unsigned long connections;
	double start;
	double end;
	int done;
};

static struct config cfg = {
	.port = DEFAULT_PORT,
	.count = DEFAULT_COUNT,
	.procs = 1,
	.order = ORDER_SERVER,
};

static struct sockaddr_storage srv_addr;	/* the listener's address */
static struct sockaddr_storage cli_dst;		/* where clients connect */
static struct sockaddr_storage cli_src;		/* -b: client bind address */
static socklen_t addr_len;
static int family;

static int token_rd = -1, token_wr = -1;	/* -P > 1: connect/accept token */
static volatile sig_atomic_t stop;
static volatile sig_atomic_t progress;
static sig_atomic_t last_progress = -1;
static pid_t workers[MAX_PROCS];
static unsigned int nworkers;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("churn: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void die_errno(const char *what)
{
	die("%s: %s", what, strerror(errno));
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: churn [-4|-6|-m] [-a ADDR] [-p PORT] [-n COUNT | -d SECONDS] [-P PROCS]\n"
		"             [-o ORDER] [-H HOLD_MS] [-b LPORT[-HIGH] | -B] [-q] [-h]\n"
		"Open and close loopback TCP connections, then wait until every close\n"
		"handshake has completed on both ends.\n"
		"\n"
		"  -4          IPv4, 127.0.0.1 (default)\n"
		"  -6          IPv6, ::1\n"
		"  -m          v4-mapped: server on ::, client to ::ffff:127.0.0.1\n"
		"  -a ADDR     address to listen on and connect to\n"
		"  -p PORT     server port (default %d)\n"
		"  -n COUNT    connections (default %d)\n"
		"  -d SECONDS  run for SECONDS instead of a count\n"
		"  -P PROCS    worker processes sharing the work (default 1)\n"
		"  -o ORDER    close order (default server):\n"
		"                server  server closes first; client reads EOF, closes\n"
		"                client  client shutdown(SHUT_WR), reads EOF after the\n"
		"                        server closed, closes\n"
		"                orphan  client close()s at once; the server holds its end\n"
		"                        HOLD_MS, then closes\n"
		"                rst     client closes with SO_LINGER {1,0}: RST, no FIN\n"
		"                unread  server closes with unread data queued: RST\n"
		"                hold    server closes first; the client keeps its end in\n"
		"                        CLOSE_WAIT for HOLD_MS or until SIGTERM/SIGINT\n"
		"                both    both ends close at once: with a delay on the\n"
		"                        path (netem), the FINs cross: a simultaneous\n"
		"                        close, CLOSING then TIME_WAIT on both ends\n"
		"  -H HOLD_MS  hold time for orphan and hold (default 0); the held ends of\n"
		"              all connections are kept open together, then closed\n"
		"  -b LPORT    bind every client to local port LPORT (SO_REUSEADDR)\n"
		"  -b LPORT-HIGH\n"
		"              bind the i-th client to LPORT + i modulo the range\n"
		"  -B          bind every client to port 0 before connect(): bind()\n"
		"              picks its port, as for a client that sets its source\n"
		"              address (curl --interface, Go's Dialer.LocalAddr)\n"
		"  -q          print nothing on success\n"
		"  -h          this help\n"
		"\n"
		"On success prints \"connections N seconds S.SSS rate R\" and exits 0;\n"
		"errors exit 1, bad usage exits 2.\n",
		DEFAULT_PORT, DEFAULT_COUNT);
}

static void bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("churn: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(2);
}

static unsigned long parse_ulong(const char *s, const char *what,
				 unsigned long min, unsigned long max)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		bad_usage("invalid %s '%s'", what, s);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		bad_usage("invalid %s '%s' (%lu..%lu)", what, s, min, max);
	return v;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* Parent: pass SIGTERM/SIGINT on to the workers. */
static void on_stop_parent(int sig)
{
	unsigned int i;

	stop = 1;
	for (i = 0; i < nworkers; i++)
		if (workers[i] > 0)
			kill(workers[i], sig);
}

/* A watchdog: a worker that makes no progress for STALL_SECONDS fails. */
static void on_alarm(int sig)
{
	static const char msg[] = "churn: no progress, giving up\n";

	(void)sig;
	if (progress == last_progress) {
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
			_exit(1);
		_exit(1);
	}
	last_progress = progress;
}

static void watchdog(bool on)
{
	struct itimerval it = {
		.it_interval = { on ? STALL_SECONDS : 0, 0 },
		.it_value = { on ? STALL_SECONDS : 0, 0 },
	};

	last_progress = -1;
	if (setitimer(ITIMER_REAL, &it, NULL))
		die_errno("setitimer");
}

static void set_signal(int sig, void (*fn)(int), bool restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL))
		die_errno("sigaction");
}

static void setup_addresses(void)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&srv_addr;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&srv_addr;
	struct sockaddr_in *d4 = (struct sockaddr_in *)&cli_dst;
	struct sockaddr_in6 *d6 = (struct sockaddr_in6 *)&cli_dst;
	struct in_addr a4;
	struct in6_addr a6;
	const char *addr = cfg.addr;

	if (!cfg.mode)
		cfg.mode = addr && strchr(addr, ':') ? 6 : 4;

	switch (cfg.mode) {
	case 4:
		if (!addr)
			addr = "127.0.0.1";
		if (inet_pton(AF_INET, addr, &a4) != 1)
			bad_usage("invalid IPv4 address '%s'", addr);
		family = AF_INET;
		addr_len = sizeof(*s4);
		s4->sin_family = AF_INET;
		s4->sin_port = htons(cfg.port);
		s4->sin_addr = a4;
		*d4 = *s4;
		break;
	case 6:
		if (!addr)
			addr = "::1";
		if (inet_pton(AF_INET6, addr, &a6) != 1)
			bad_usage("invalid IPv6 address '%s'", addr);
		family = AF_INET6;
		addr_len = sizeof(*s6);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(cfg.port);
		s6->sin6_addr = a6;
		*d6 = *s6;
		break;
	default: /* 'm': server on ::, client to ::ffff:ADDR */
		if (!addr)
			addr = "127.0.0.1";
		memset(&a6, 0, sizeof(a6));
		if (inet_pton(AF_INET, addr, &a4) == 1) {
			a6.s6_addr[10] = 0xff;
			a6.s6_addr[11] = 0xff;
			memcpy(&a6.s6_addr[12], &a4, 4);
		} else if (inet_pton(AF_INET6, addr, &a6) != 1 ||
			   !IN6_IS_ADDR_V4MAPPED(&a6)) {
			bad_usage("invalid address for -m '%s'", addr);
		}
		family = AF_INET6;
		addr_len = sizeof(*s6);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(cfg.port);
		s6->sin6_addr = in6addr_any;
		d6->sin6_family = AF_INET6;
		d6->sin6_port = htons(cfg.port);
		d6->sin6_addr = a6;
		break;
	}

	/* -b binds clients to the wildcard address of their family. */
	memset(&cli_src, 0, sizeof(cli_src));
	if (family == AF_INET) {
		struct sockaddr_in *b4 = (struct sockaddr_in *)&cli_src;

		b4->sin_family = AF_INET;
		b4->sin_port = htons(cfg.lport);
		b4->sin_addr.s_addr = htonl(INADDR_ANY);
	} else {
		struct sockaddr_in6 *b6 = (struct sockaddr_in6 *)&cli_src;

		b6->sin6_family = AF_INET6;
		b6->sin6_port = htons(cfg.lport);
		b6->sin6_addr = in6addr_any;
	}
}

static int listener(void)
{
	int fd, one = 1, zero = 0;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die_errno("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die_errno("setsockopt SO_REUSEADDR");
	if (cfg.mode == 'm' &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)))
		die_errno("setsockopt IPV6_V6ONLY");
	if (bind(fd, (struct sockaddr *)&srv_addr, addr_len))
		die("bind port %u: %s", cfg.port, strerror(errno));
	if (listen(fd, 4096))
		die_errno("listen");
	return fd;
}

static void token_take(void)
{
	char c;
	ssize_t n;

	if (token_rd < 0)
		return;
	do {
		n = read(token_rd, &c, 1);
	} while (n < 0 && errno == EINTR);
	if (n != 1)
		die("worker token: %s", n < 0 ? strerror(errno) : "pipe closed");
}

static void token_give(void)
{
	ssize_t n;

	if (token_wr < 0)
		return;
	do {
		n = write(token_wr, "t", 1);
	} while (n < 0 && errno == EINTR);
	if (n != 1)
		die_errno("worker token");
}

static ssize_t xread(int fd, void *buf, size_t len)
{
	ssize_t n;

	do {
		n = read(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n;
}

static void send_byte(int fd)
{
	ssize_t n;

	do {
		n = write(fd, "x", 1);
	} while (n < 0 && errno == EINTR);
	if (n != 1)
		die("client write: %s", n < 0 ? strerror(errno) : "short write");
}

static void read_byte(int fd, const char *who)
{
	char c;
	ssize_t n = xread(fd, &c, 1);

	if (n != 1)
		die("%s read: %s", who, n < 0 ? strerror(errno) : "unexpected EOF");
}

static void read_eof(int fd, const char *who)
{
	char c;
	ssize_t n = xread(fd, &c, 1);

	if (n != 0)
		die("%s read: %s", who, n < 0 ? strerror(errno) : "data instead of EOF");
}

/* Wait for the peer's RST: read() fails with ECONNRESET (or sees EOF). */
static void read_reset(int fd, const char *who)
{
	char c;
	ssize_t n = xread(fd, &c, 1);

	if (n > 0 || (n < 0 && errno != ECONNRESET && errno != EPIPE))
		die("%s read: %s", who, n < 0 ? strerror(errno) : "data instead of RST");
}

/* Wait until data is queued on fd without reading it. */
static void wait_readable(int fd, const char *who)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do {
		r = poll(&p, 1, -1);
	} while (r < 0 && errno == EINTR);
	if (r != 1)
		die("%s poll: %s", who, strerror(errno));
}

static void xclose(int fd)
{
	if (close(fd))
		die_errno("close");
}

static void connect_accept(int lfd, int *cfd, int *sfd, uint8_t *ports)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int one = 1, c, s;
	static unsigned long nth;
	unsigned int p = 0;

	c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0)
		die_errno("socket");
	if (cfg.lport) {
		p = cfg.lport + nth++ % (cfg.lport_hi - cfg.lport + 1);
		if (family == AF_INET)
			((struct sockaddr_in *)&cli_src)->sin_port = htons(p);
		else
			((struct sockaddr_in6 *)&cli_src)->sin6_port = htons(p);
		if (setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
			die_errno("setsockopt SO_REUSEADDR");
		if (bind(c, (struct sockaddr *)&cli_src, addr_len))
			die("bind local port %u: %s", p, strerror(errno));
	} else if (cfg.bind0 && bind(c, (struct sockaddr *)&cli_src, addr_len)) {
		die_errno("bind local port 0");
	}
	token_take();
	while (connect(c, (struct sockaddr *)&cli_dst, addr_len)) {
		if (errno != EINTR)
			die_errno("connect");
	}
	do {
		s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	} while (s < 0 && errno == EINTR);
	if (s < 0)
		die_errno("accept");
	token_give();

	if (!cfg.lport) {
		if (getsockname(c, (struct sockaddr *)&ss, &len))
			die_errno("getsockname");
		p = ntohs(family == AF_INET ?
			  ((struct sockaddr_in *)&ss)->sin_port :
			  ((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	ports[p / 8] |= 1 << (p % 8);
	*cfd = c;
	*sfd = s;
}

/*
 * One connection in the requested order.  Returns the fd left open for a
 * hold (orphan: the server's end, hold: the client's end), or -1.
 */
static int one_connection(int lfd, uint8_t *ports)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	bool keep = cfg.hold_ms > 0;
	int c, s;

	connect_accept(lfd, &c, &s, ports);
	send_byte(c);

	switch (cfg.order) {
	case ORDER_SERVER:
		read_byte(s, "server");
		xclose(s);
		read_eof(c, "client");
		xclose(c);
		break;
	case ORDER_CLIENT:
		if (shutdown(c, SHUT_WR))
			die_errno("shutdown");
		read_byte(s, "server");
		read_eof(s, "server");
		xclose(s);
		read_eof(c, "client");
		xclose(c);
		break;
	case ORDER_ORPHAN:
		xclose(c);
		read_byte(s, "server");
		read_eof(s, "server");
		if (keep)
			return s;
		xclose(s);
		break;
	case ORDER_RST:
		read_byte(s, "server");
		if (setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
			die_errno("setsockopt SO_LINGER");
		xclose(c);
		read_reset(s, "server");
		xclose(s);
		break;
	case ORDER_UNREAD:
		wait_readable(s, "server");
		xclose(s);
		read_reset(c, "client");
		xclose(c);
		break;
	case ORDER_HOLD:
		read_byte(s, "server");
		xclose(s);
		read_eof(c, "client");
		if (keep)
			return c;
		xclose(c);
		break;
	case ORDER_BOTH:
		read_byte(s, "server");
		xclose(c);
		xclose(s);
		break;
	}
	return -1;
}

static void hold_wait(void)
{
	double end = now() + cfg.hold_ms / 1000.0;
	double left;

	while (!stop && (left = end - now()) > 0)
		poll(NULL, 0, left > 0.1 ? 100 : (int)(left * 1000) + 1);
}

/*
 * A socket of one of our connections that has not finished closing: one
 * end on the server port, the other on one of our client ports, no owner
 * (inode 0: closed or orphaned), in any state but TIME_WAIT.  A timewait
 * socket reports its substate, so one still waiting in FIN_WAIT2 counts.
 */
static bool pending(unsigned int lp, unsigned int rp, unsigned int state,
		    unsigned long ino, const uint8_t *ports)
{
	unsigned int other;

	if (lp == cfg.port)
		other = rp;
	else if (rp == cfg.port)
		other = lp;
	else
		return false;
	if (other > 65535 || !(ports[other / 8] & (1 << (other % 8))))
		return false;
	return ino == 0 && state != 6 /* TCP_TIME_WAIT */;
}

/* Count pending sockets in /proc/net/tcp or tcp6. */
static unsigned long unsettled_proc(const uint8_t *ports)
{
	const char *path = family == AF_INET ? "/proc/net/tcp" : "/proc/net/tcp6";
	unsigned int lp, rp, st;
	unsigned long ino, n = 0;
	char line[512];
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		die("%s: %s", path, strerror(errno));
	if (!fgets(line, sizeof(line), f)) {	/* header */
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
			   &lp, &rp, &st, &ino) != 4)
			die("%s: cannot parse '%s'", path, line);
		n += pending(lp, rp, st, ino, ports);
	}
	if (ferror(f))
		die("%s: %s", path, strerror(errno));
	fclose(f);
	return n;
}

/*
 * Count pending sockets through sock_diag: dump the TCP sockets of our
 * family with "sport == PORT or dport == PORT" as the kernel-side filter.
 * Returns -1 if inet_diag cannot answer.
 */
static long unsettled_diag(const uint8_t *ports)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
		struct nlattr nla;
		struct inet_diag_bc_op ops[5];
	} msg;
	struct sockaddr_nl nladdr = { .nl_family = AF_NETLINK };
	static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	long n = 0;
	int fd;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.req.sdiag_family = family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = ~(1U << 10);	/* all but TCP_LISTEN */
	msg.nla.nla_len = sizeof(msg.nla) + sizeof(msg.ops);
	msg.nla.nla_type = INET_DIAG_REQ_BYTECODE;
	/* sport == P ? accept : (dport == P ? accept : reject) */
	msg.ops[0] = (struct inet_diag_bc_op){ INET_DIAG_BC_S_EQ, 8, 12 };
	msg.ops[1] = (struct inet_diag_bc_op){ 0, 0, cfg.port };
	msg.ops[2] = (struct inet_diag_bc_op){ INET_DIAG_BC_JMP, 4, 12 };
	msg.ops[3] = (struct inet_diag_bc_op){ INET_DIAG_BC_D_EQ, 8, 12 };
	msg.ops[4] = (struct inet_diag_bc_op){ 0, 0, cfg.port };

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -1;
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&nladdr,
		   sizeof(nladdr)) != sizeof(msg))
		goto fail;

	for (;;) {
		struct nlmsghdr *h;
		ssize_t len;

		do {
			len = recv(fd, buf, sizeof(buf), 0);
		} while (len < 0 && errno == EINTR);
		if (len <= 0)
			goto fail;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len)) {
			struct inet_diag_msg *m = NLMSG_DATA(h);

			if (h->nlmsg_type == NLMSG_DONE)
				goto done;
			if (h->nlmsg_type == NLMSG_ERROR)
				goto fail;
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				continue;
			n += pending(ntohs(m->id.idiag_sport),
				     ntohs(m->id.idiag_dport), m->idiag_state,
				     m->idiag_inode, ports);
		}
	}
done:
	close(fd);
	return n;
fail:
	close(fd);
	return -1;
}

static unsigned long unsettled(const uint8_t *ports)
{
	static bool no_diag;
	long n;

	if (!no_diag) {
		n = unsettled_diag(ports);
		if (n >= 0)
			return n;
		no_diag = true;
	}
	return unsettled_proc(ports);
}

static void settle(const uint8_t *ports)
{
	double deadline = now() + SETTLE_SECONDS;
	unsigned long ms = 1, n;

	while ((n = unsettled(ports))) {
		if (now() > deadline)
			die("%lu sockets on port %u still closing after %d s",
			    n, cfg.port, SETTLE_SECONDS);
		sleep_ms(ms);
		if (ms < 64)
			ms *= 2;
	}
}

static void worker(int lfd, unsigned long count, struct result *res)
{
	uint8_t *ports;
	int *held = NULL, fd;
	size_t nheld = 0, cap = 0;
	unsigned long done = 0;
	double deadline = 0;

	ports = calloc(65536 / 8, 1);
	if (!ports)
		die("out of memory");

	res->start = now();
	if (cfg.duration > 0)
		deadline = res->start + cfg.duration;
	watchdog(true);
	while (!stop && (deadline ? now() < deadline : done < count)) {
		fd = one_connection(lfd, ports);
		if (fd >= 0) {
			if (nheld == cap) {
				cap = cap ? 2 * cap : 1024;
				held = realloc(held, cap * sizeof(*held));
				if (!held)
					die("out of memory");
			}
			held[nheld++] = fd;
		}
		done++;
		progress++;
	}
	watchdog(false);
	if (nheld) {
		hold_wait();
		while (nheld)
			xclose(held[--nheld]);
	}
	res->end = now();
	res->connections = done;

	settle(ports);
	res->done = 1;
	free(held);
	free(ports);
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void report(unsigned long n, double seconds)
{
	if (cfg.quiet)
		return;
	printf("connections %lu seconds %.*f rate %.0f\n", n, SECONDS_DIGITS, seconds,
	       seconds > 0 ? n / seconds : 0.0);
	if (fflush(stdout) || ferror(stdout))
		die("stdout: %s", strerror(errno));
}

static int run_workers(int lfd)
{
	struct result *res;
	int pfd[2], status, failed = 0;
	unsigned long total = 0;
	double start = 0, end = 0;
	unsigned int i, left;
	pid_t pid;

	res = mmap(NULL, cfg.procs * sizeof(*res), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		die_errno("mmap");
	if (pipe2(pfd, O_CLOEXEC))
		die_errno("pipe");
	token_rd = pfd[0];
	token_wr = pfd[1];
	token_give();

	set_signal(SIGTERM, on_stop_parent, true);
	set_signal(SIGINT, on_stop_parent, true);
	fflush(NULL);
	for (i = 0; i < cfg.procs; i++) {
		unsigned long share = cfg.count / cfg.procs +
				      (i < cfg.count % cfg.procs);

		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "churn: fork: %s\n", strerror(errno));
			failed = 1;
			break;
		}
		if (pid == 0) {
			set_signal(SIGTERM, on_stop, true);
			set_signal(SIGINT, on_stop, true);
			if (stop)
				_exit(1);
			worker(lfd, share, &res[i]);
			fflush(NULL);
			_exit(0);
		}
		workers[i] = pid;
		nworkers = i + 1;
	}

	for (left = nworkers; left; left--) {
		do {
			pid = wait(&status);
		} while (pid < 0 && errno == EINTR);
		if (pid < 0)
			die_errno("wait");
		for (i = 0; i < nworkers; i++)
			if (workers[i] == pid)
				workers[i] = 0;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			/* A worker failed: the others may wait for its token. */
			if (!failed)
				for (i = 0; i < nworkers; i++)
					if (workers[i] > 0)
						kill(workers[i], SIGKILL);
			failed = 1;
		}
	}
	if (failed)
		return 1;

	for (i = 0; i < nworkers; i++) {
		if (!res[i].done)
			die("worker %u did not finish", i);
		total += res[i].connections;
		if (i == 0 || res[i].start < start)
			start = res[i].start;
		if (res[i].end > end)
			end = res[i].end;
	}
	report(total, end - start);
	return 0;
}

int main(int argc, char **argv)
{
	bool have_n = false, have_d = false;
	struct result res;
	int opt, lfd;
	unsigned int i;

	while ((opt = getopt(argc, argv, "46ma:p:n:d:P:o:H:b:Bqh")) != -1) {
		switch (opt) {
		case '4':
		case '6':
		case 'm':
			if (cfg.mode && cfg.mode != (opt == 'm' ? 'm' : opt - '0'))
				bad_usage("-4, -6 and -m are exclusive");
			cfg.mode = opt == 'm' ? 'm' : opt - '0';
			break;
		case 'a':
			cfg.addr = optarg;
			break;
		case 'p':
			cfg.port = parse_ulong(optarg, "port", 1, 65535);
			break;
		case 'n':
			cfg.count = parse_ulong(optarg, "count", 0, ULONG_MAX);
			have_n = true;
			break;
		case 'd': {
			char *end;

			errno = 0;
			cfg.duration = strtod(optarg, &end);
			if (errno || *end || end == optarg ||
			    !(cfg.duration > 0 && cfg.duration < 1e6))
				bad_usage("invalid duration '%s'", optarg);
			have_d = true;
			break;
		}
		case 'P':
			cfg.procs = parse_ulong(optarg, "process count", 1, MAX_PROCS);
			break;
		case 'o':
			for (i = 0; i < sizeof(order_names) / sizeof(order_names[0]); i++)
				if (!strcmp(optarg, order_names[i]))
					break;
			if (i == sizeof(order_names) / sizeof(order_names[0]))
				bad_usage("unknown order '%s'", optarg);
			cfg.order = i;
			break;
		case 'H':
			cfg.hold_ms = parse_ulong(optarg, "hold time", 0, 86400000UL);
			break;
		case 'b': {
			char *dash = strchr(optarg, '-');

			if (dash)
				*dash = '\0';
			cfg.lport = parse_ulong(optarg, "local port", 1, 65535);
			cfg.lport_hi = dash ? parse_ulong(dash + 1, "local port", 1, 65535) :
					      cfg.lport;
			if (cfg.lport_hi < cfg.lport)
				bad_usage("-b %u-%u: an empty range", cfg.lport, cfg.lport_hi);
			break;
		}
		case 'B':
			cfg.bind0 = true;
			break;
		case 'q':
			cfg.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	if (have_n && have_d)
		bad_usage("-n and -d are exclusive");
	if (cfg.lport && cfg.bind0)
		bad_usage("-b and -B are exclusive");
	if (cfg.lport && cfg.procs > 1)
		bad_usage("-b needs a single process (-P 1)");
	if (cfg.lport && cfg.lport <= cfg.port && cfg.port <= cfg.lport_hi)
		bad_usage("-b LPORT must differ from the server port");
	if (cfg.hold_ms && cfg.order != ORDER_ORPHAN && cfg.order != ORDER_HOLD)
		bad_usage("-H applies to -o orphan and -o hold only");

	setup_addresses();
	signal(SIGPIPE, SIG_IGN);
	set_signal(SIGALRM, on_alarm, true);
	raise_nofile();
	lfd = listener();

	if (cfg.procs > 1)
		return run_workers(lfd);

	set_signal(SIGTERM, on_stop, true);
	set_signal(SIGINT, on_stop, true);
	memset(&res, 0, sizeof(res));
	worker(lfd, cfg.count, &res);
	xclose(lfd);
	report(res.connections, res.end - res.start);
	return 0;
}
