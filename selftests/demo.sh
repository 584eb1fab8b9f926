#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo `make demo' runs in a test guest (selftests/qemu/run.sh KVER
# selftests/demo.sh): load the module, serve HTTP with nginx with keep-alive
# off (the server closes every connection: TIME_WAIT on local port 8080)
# under wrk, run a client that closes first against port 80 (TIME_WAIT on
# remote port 80), and show what closestat sees, next to ss and sockstat.
#
# Needs root, nginx, wrk, ss; writes only under /tmp.

set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
CS=$REPO/tools/closestat
CHURN=${TCS_CHURN:-$REPO/build/selftests/churn}
KO=${TCS_KO:-$REPO/build/$(uname -r)/tcp_closestat.ko}
DIR=
NGINX_PID=
LOAD_PID=
LOADED=

heading() {
	printf '\n== %s\n' "$*"
}

# Show a command, then run it.
show() {
	echo "\$ ${*/#$REPO\//}"
	"$@"
}

die() {
	echo "demo: $*" >&2
	exit 1
}

cleanup() {
	[ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null
	[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null
	wait 2>/dev/null
	[ -n "$LOADED" ] && rmmod tcp_closestat
	[ -n "$DIR" ] && rm -rf "$DIR"
}
trap cleanup EXIT

for cmd in nginx wrk ss; do
	command -v "$cmd" >/dev/null || die "$cmd not installed (make deps)"
done
[ -x "$CS" ] && [ -x "$CHURN" ] || die "build the tools first (make tools; make -C selftests drivers)"
[ -r "$KO" ] || die "$KO missing (make modules-all)"

heading "tcp_closestat demo on Linux $(uname -r)"
if [ -r /proc/net/tcp_closestat ]; then
	echo "tcp_closestat is already loaded"
else
	show insmod "$KO" || die "insmod failed"
	LOADED=1
fi

# nginx from a read-only root: every path it writes is under /tmp.
DIR=$(mktemp -d /tmp/tcs-demo.XXXXXX)
mkdir -p "$DIR/temp"
cat >"$DIR/nginx.conf" <<EOF
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $DIR/temp/body;
	proxy_temp_path $DIR/temp/proxy;
	fastcgi_temp_path $DIR/temp/fastcgi;
	uwsgi_temp_path $DIR/temp/uwsgi;
	scgi_temp_path $DIR/temp/scgi;
	keepalive_timeout 0;		# close after every response
	server {
		listen 127.0.0.1:8080;
		location / {
			default_type text/plain;
			return 200 "hello\n";
		}
	}
}
EOF
heading "nginx on 127.0.0.1:8080, keepalive_timeout 0"
nginx -p "$DIR" -e "$DIR/error.log" -c "$DIR/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
for i in $(seq 100); do
	ss -Hltn 'sport = :8080' | grep -q . && break
	kill -0 "$NGINX_PID" 2>/dev/null || { cat "$DIR/error.log"; die "nginx failed"; }
	sleep 0.1
done
ss -Hltn 'sport = :8080' | grep -q . || die "nginx is not listening"
echo "listening, pid $NGINX_PID"

heading "load: wrk, 8 connections for 5 s; nginx closes each one first"
show wrk -t1 -c8 -d5s --latency http://127.0.0.1:8080/

heading "load: a client that closes first, 300 connections to port 80"
show "$CHURN" -n 300 -o client -p 80

heading "closestat: busiest ports first, clients' ports folded into one row per side"
show "$CS"
echo "closestat -a shows every port instead: $("$CS" -a -H | wc -l) rows, each client port is a row too"

heading "the two services, entry counters only"
show "$CS" -p 80,8080 -s time_wait,close_wait,fin_wait2

heading "closestat -x: the ephemeral ports the closing sockets hold, per destination"
show "$CS" -x
echo "(ESTABLISHED sockets hold ports too and are not counted: see closestat(8))"

heading "rates per second: closestat -i 1 -c 3 while wrk runs again (piped: plain lines)"
wrk -t1 -c8 -d5s http://127.0.0.1:8080/ >/dev/null &
LOAD_PID=$!
sleep 0.5
show "$CS" -i 1 -c 3 -p 80,8080 -s time_wait,close_wait,fin_wait2,time_wait_now | cat
wait "$LOAD_PID"
LOAD_PID=

heading "TIME_WAIT sockets now: closestat against ss and sockstat"
cs_now=$("$CS" -a -n -H -l -s time_wait_now | awk '{ s += $3 } END { print s + 0 }')
ss_now=$(ss -Htan state time-wait | wc -l)
ss_fw2=$(ss -Htan state fin-wait-2 | wc -l)
tw=$(awk '/^TCP:/ { for (i = 2; i < NF; i++) if ($i == "tw") print $(i + 1) }' /proc/net/sockstat)
printf '%-52s %s\n' \
	"closestat, sum of local time_wait_now:" "$cs_now" \
	"ss -tan state time-wait | wc -l (less its header):" "$ss_now" \
	"/proc/net/sockstat tw (TIME_WAIT + FIN_WAIT2 kind):" "$tw" \
	"  of which ss shows in FIN-WAIT-2:" "$ss_fw2"
echo "/proc/net/sockstat:"
sed 's/^/  /' /proc/net/sockstat | head -n 2

heading "closestat -j -p 8080 -l (JSON)"
show "$CS" -j -p 8080 -l -s time_wait,close_wait,fin_wait2

heading "closestat --prom -p 8080 -l -s time_wait (Prometheus, with the module's statistics)"
show "$CS" --prom -p 8080 -l -s time_wait

heading "every network namespace: closestat -A (a second one, held only by its process, as a container's)"
unshare -n bash -c 'ip link set lo up && "$1" -q -n 40 -o server -p 9000 &&
	exec sleep 600' - "$CHURN" &
LOAD_PID=$!
for i in $(seq 300); do
	grep -qx sleep "/proc/$LOAD_PID/comm" 2>/dev/null && break
	sleep 0.1
done
grep -qx sleep "/proc/$LOAD_PID/comm" || die "churn in the second namespace failed"
show "$CS" -A -p 80,8080,9000 -s time_wait,close_wait,fin_wait2
kill "$LOAD_PID" && wait "$LOAD_PID" 2>/dev/null
LOAD_PID=

heading "closestat -S: what the module could not count, and its memory"
show "$CS" -S

kill "$NGINX_PID" && wait "$NGINX_PID" 2>/dev/null
NGINX_PID=
heading "done"
