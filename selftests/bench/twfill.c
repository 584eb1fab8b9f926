// SPDX-License-Identifier: GPL-2.0
/*
 * twfill: leave COUNT TIME_WAIT sockets on each of NPORTS loopback server
 * ports, FIRST to FIRST + NPORTS - 1, in one process (the benchmark needs
 * tens of thousands of them within TIME_WAIT's 60 s, and starting one
 * churn per port costs more than the connections themselves).
 *
 * Each connection: connect, accept, one byte client->server, the server
 * closes first, the client reads EOF and closes; the server's end stays in
 * TIME_WAIT on its port.  With CLIENT_BASE, the i-th connection to each
 * server port is made from client port CLIENT_BASE + i (so that the peers
 * use COUNT ports in all), otherwise from an ephemeral port.
 *
 *   twfill FIRST NPORTS COUNT [CLIENT_BASE]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static void die(const char *what)
{
	fprintf(stderr, "twfill: %s: %s\n", what, strerror(errno));
	exit(1);
}

static unsigned long arg(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v > max) {
		fprintf(stderr, "twfill: invalid number '%s'\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in cin = { .sin_family = AF_INET };
	unsigned long first, nports, count, base = 0, p, i;
	int one = 1, l, c, s;
	char b;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: twfill FIRST NPORTS COUNT [CLIENT_BASE]\n");
		return 2;
	}
	first = arg(argv[1], 65535);
	nports = arg(argv[2], 65536 - first);
	count = arg(argv[3], 1000000);
	if (argc == 5) {
		base = arg(argv[4], 65535);
		if (!base || base + count > 65536) {
			fprintf(stderr, "twfill: client ports out of range\n");
			return 2;
		}
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	for (p = first; p < first + nports; p++) {
		sin.sin_port = htons(p);
		l = socket(AF_INET, SOCK_STREAM, 0);
		if (l < 0)
			die("socket");
		if (setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
			die("setsockopt");
		if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) || listen(l, 16))
			die("bind/listen");
		for (i = 0; i < count; i++) {
			c = socket(AF_INET, SOCK_STREAM, 0);
			if (c < 0)
				die("socket");
			if (base) {
				cin.sin_port = htons(base + i);
				if (setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one,
					       sizeof(one)) ||
				    bind(c, (struct sockaddr *)&cin, sizeof(cin)))
					die("bind client port");
			}
			if (connect(c, (struct sockaddr *)&sin, sizeof(sin)))
				die("connect");
			s = accept(l, NULL, NULL);
			if (s < 0)
				die("accept");
			if (write(c, "x", 1) != 1 || read(s, &b, 1) != 1)
				die("write/read");
			if (close(s))
				die("close");
			if (read(c, &b, 1) != 0)
				die("read EOF");
			if (close(c))
				die("close");
		}
		if (close(l))
			die("close");
	}
	return 0;
}
