#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# closestat, the reader, against the module after real workloads: its
# table (-a and -a -e), JSON and Prometheus output equal
# /proc/net/tcp_closestat; the default view, which folds clients' ports,
# against the workload and against -a; the filters, -N, -i/-c, --reset (as root and as
# nobody), --exhaustion on made-up files, and every error path with its
# exact message and exit status.
# --hist and --stuck against the module: closestat_track.sh.  Expected numbers come from the
# workloads churn drives, never from the tool.
#
#   namespace A (lo)                        namespace B (lo)
#     churn -o server -p 20001 x50            churn -o server -p 20005 x20
#     churn -o client -p 20002 x30            --reset, as nobody then root
#     churn -o server -p 20003 -d 30 while closestat -i runs
#
#   namespace C (lo), ip_local_port_range 32768 60999
#     churn -o server -p 40000 x20            a service inside the range
#     churn -o client -p 20010 x10            one outside it
#     churn -o client -p 20011 -b 20100-20104 x5   clients bound by hand
#     churn -o client -p 20012 -B x5          clients that bind() port 0
#
#   root namespace: closestat -N A, closestat -N B --reset
#
# Server closes first (-o server): its end (local port 20001) goes through
# FIN_WAIT2 into TIME_WAIT, the client (remote port 20001) into CLOSE_WAIT.
# Client closes first (-o client): the other way round.

set -u

# shellcheck source=selftests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROC=/proc/net/tcp_closestat
PROC_STAT=/proc/net/tcp_closestat_stat
PROC_CTL=/proc/net/tcp_closestat_ctl
CNT="time_wait,close_wait,fin_wait2"	# the entry counters
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"

ktap_header
require_cmd ip setpriv "$PY"
require_tools
[ -r "$PROC" ] || ktap_skip_all "$PROC missing: module not loaded"
make_tmp
setup_ns A B C || ktap_bail_out "cannot create network namespaces"

in_a() { ip netns exec "$A" "$@"; }

# The process test_all_netns keeps a namespace with, stopped at exit.
NS_HOLDER=
cleanup() {
	[ -n "$NS_HOLDER" ] && kill "$NS_HOLDER" 2>/dev/null
	wait 2>/dev/null
}
in_b() { ip netns exec "$B" "$@"; }
in_c() { ip netns exec "$C" "$@"; }

# Collapse runs of blanks, so tables compare by content.
norm() { awk '{ $1 = $1; print }'; }


# run CMD...: stdout in $out, stderr in $err, status in $rc.
run() {
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
}

# expect_fail WHAT RC MESSAGE CMD...: exit status RC, nothing on stdout,
# MESSAGE as the first line of stderr.
expect_fail() {
	local what=$1 want_rc=$2 msg=$3
	shift 3

	run "$@"
	expect "$what: exit status" "$rc" "$want_rc"
	expect "$what: stdout" "$out" ""
	expect "$what: message" "$(printf '%s\n' "$err" | head -n 1)" "$msg"
}

# stable CMD...: run a comparison of the tool with /proc (in namespace A);
# retry while /proc itself changed under it, so that only a real
# difference fails.
read_proc_a() { in_a cat "$PROC"; }
stable() { while_still 5 read_proc_a "$@"; }
read_proc_c() { in_c cat "$PROC"; }
stable_c() { while_still 5 read_proc_c "$@"; }

# skip REASON: a test function that cannot run here says why and returns 4.
SKIP_REASON=
skip() {
	SKIP_REASON=$*
	return 4
}

# run_test NAME CMD...: ok, not ok, or SKIP with the reason CMD gave.
run_test() {
	local name=$1 rc
	shift

	SKIP_REASON=
	"$@"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ktap_ok "$name"
	elif [ "$rc" -eq 4 ] && [ -n "$SKIP_REASON" ]; then
		ktap_skip "$name" "$SKIP_REASON"
	else
		ktap_fail "$name"
	fi
}

# ---- the workloads --------------------------------------------------------

workload() {
	in_a "$CHURN" -q -n 50 -o server -p 20001 &&
	in_a "$CHURN" -q -n 30 -o client -p 20002 &&
	in_b "$CHURN" -q -n 20 -o server -p 20005 &&
	in_c sysctl -qw net.ipv4.ip_local_port_range="32768 60999" &&
	in_c "$CHURN" -q -n 20 -o server -p 40000 &&
	in_c "$CHURN" -q -n 10 -o client -p 20010 &&
	in_c "$CHURN" -q -n 5 -o client -p 20011 -b 20100-20104 &&
	in_c "$CHURN" -q -n 5 -o client -p 20012 -B
}

# ---- tests ------------------------------------------------------------------

# -a -e: every column of /proc, every row.
test_table_equals_proc() {
	in_a "$CS" -a -n -e >"$TMP/tool" || return 1
	expect "header" "$(head -n 1 "$TMP/tool" | norm)" \
		"$(in_a head -n 1 "$PROC")"
	expect "rows" "$(tail -n +2 "$TMP/tool" | norm | sort)" \
		"$(in_a tail -n +2 "$PROC" | sort)"
	finish
}

# The default columns, -a: the entry counters and the *_now gauges of
# /proc, rows where one of them is not zero.
test_default_table_equals_proc() {
	local cols="side port time_wait close_wait fin_wait2 time_wait_now close_wait_now fin_wait2_now"

	in_a "$CS" -a -n >"$TMP/tool" || return 1
	in_a cat "$PROC" >"$TMP/proc"
	expect "default header" "$(head -n 1 "$TMP/tool" | norm)" "$cols"
	expect "default rows" "$(tail -n +2 "$TMP/tool" | norm | sort)" \
		"$(awk -v want="$cols" '
			NR == 1 { n = split(want, w, " ")
				  for (i = 1; i <= NF; i++) idx[$i] = i; next }
			{ line = $1 " " $2; any = 0
			  for (j = 3; j <= n; j++) { v = $(idx[w[j]]); line = line " " v; if (v != 0) any = 1 }
			  if (any) print line }' "$TMP/proc" | sort)"
	finish
}

test_expected_counts() {
	fails=0
	# busiest first: local 20001 (50 + 50) before remote 20001 (50)
	expect "port 20001, server closes" \
		"$(in_a "$CS" -n -H -p 20001 -s "$CNT" | norm)" \
		"local 20001 50 0 50
remote 20001 0 50 0"
	expect "port 20002, client closes" \
		"$(in_a "$CS" -n -H -p 20002 -s "$CNT" | norm)" \
		"remote 20002 30 0 30
local 20002 0 30 0"
	finish
}

test_json_equals_proc() {
	in_a "$CS" -a -j >"$TMP/json" || return 1
	in_a cat "$PROC" >"$TMP/proc"
	"$PY" - "$TMP/json" "$TMP/proc" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
assert text.count("\n") == 1 and text.endswith("\n"), "not one line"
doc = json.loads(text)
lines = open(sys.argv[2]).read().splitlines()
hdr = lines[0].split()
rows = {(f[0], int(f[1])): f for f in (l.split() for l in lines[1:])}
assert doc["version"] == 1, doc["version"]
assert set(doc) == {"version", "ports"}, sorted(doc)
assert len(doc["ports"]) == len(rows), (len(doc["ports"]), len(rows))
for p in doc["ports"]:
    f = rows.pop((p["side"], p["port"]))
    assert list(p) == hdr, (list(p), hdr)
    for i, col in enumerate(hdr[2:], 2):
        assert type(p[col]) is int and p[col] == int(f[i]), (p, f)
assert not rows
EOF
}

test_json_expected() {
	local want='{"version": 1, "ports": [{"side": "local", "port": 20001, "time_wait": 50}]}'

	fails=0
	expect "-j -l -p 20001 -s time_wait" \
		"$(in_a "$CS" -j -l -p 20001 -s time_wait)" "$want"
	finish
}

test_prom_equals_proc() {
	in_a "$CS" -a --prom >"$TMP/prom" || return 1
	in_a cat "$PROC" >"$TMP/proc"
	in_a cat "$PROC_STAT" >"$TMP/stat"
	"$PY" - "$TMP/prom" "$TMP/proc" "$TMP/stat" <<'EOF'
import re, sys
from decimal import Decimal
prom = open(sys.argv[1]).read().splitlines()
lines = open(sys.argv[2]).read().splitlines()
stat = dict(l.split() for l in open(sys.argv[3]).read().splitlines())
hdr = lines[0].split()
samples, types, helps = {}, {}, set()
for l in prom:
    m = re.fullmatch(r"# (HELP|TYPE) (\w+) (.+)", l)
    if m:
        if m[1] == "HELP":
            helps.add(m[2])
        else:
            assert m[2] in helps, "TYPE before HELP: " + l
            assert m[3] in ("counter", "gauge", "untyped", "histogram"), l
            types[m[2]] = m[3]
        continue
    m = re.fullmatch(r'(\w+)(\{[^}]*\})? (\d+(?:\.\d+)?)', l)
    assert m, "bad line: " + l
    base = re.sub(r"_(bucket|sum|count)$", "", m[1])
    if base in types and types[base] == "histogram":
        continue    # checked in closestat_track.sh
    assert m[1] in types, "sample before its TYPE: " + l
    if types[m[1]] == "counter":
        assert m[1].endswith("_total"), l
    key = m[1] + (m[2] or "")
    assert key not in samples, "duplicate: " + l
    samples[key] = Decimal(m[3])
# Base units: a column in milliseconds (..._ms) is exported in seconds.
def exported(col, value):
    if col.endswith("_ms"):
        return col[:-3] + "_seconds", Decimal(value) / 1000
    return col, Decimal(value)
assert not any("_ms" in k for k in samples), "a name in milliseconds"
n = 0
for l in lines[1:]:
    f = l.split()
    for i, col in enumerate(hdr[2:], 2):
        lab = '{side="%s",port="%s"}' % (f[0], f[1])
        name, want = exported(col, f[i])
        got = [samples[k] for k in ("tcp_closestat_%s_total%s" % (name, lab),
               "tcp_closestat_%s%s" % (name, lab)) if k in samples]
        assert got == [want], (col, lab, got, f[i])
        n += 1
assert n == sum(1 for k in samples if 'port="' in k), "extra samples"
assert types["tcp_closestat_time_wait_total"] == "counter"
assert types["tcp_closestat_close_wait_oldest_seconds"] == "gauge"
for name, val in stat.items():
    if name.startswith("missed_"):
        key = 'tcp_closestat_missed_total{probe="%s"}' % name[7:]
        assert samples[key] == int(val), (key, val)
    elif name.startswith("ports_refused_"):
        key = 'tcp_closestat_ports_refused{side="%s"}' % name[14:]
        assert samples[key] == int(val), (key, val)
    else:
        name, want = exported(name, val)
        got = [samples[k] for k in ("tcp_closestat_%s_total" % name,
               "tcp_closestat_%s" % name) if k in samples]
        assert got == [want], (name, got, val)
EOF
}

test_prom_expected() {
	fails=0
	expect "--prom -p 20001 samples" \
		"$(in_a "$CS" --prom -p 20001 -s "$CNT" | grep '^[^#].*,port="')" \
		'tcp_closestat_time_wait_total{side="local",port="20001"} 50
tcp_closestat_time_wait_total{side="remote",port="20001"} 0
tcp_closestat_close_wait_total{side="local",port="20001"} 0
tcp_closestat_close_wait_total{side="remote",port="20001"} 50
tcp_closestat_fin_wait2_total{side="local",port="20001"} 50
tcp_closestat_fin_wait2_total{side="remote",port="20001"} 0'
	expect "--prom HELP/TYPE" \
		"$(in_a "$CS" --prom -s time_wait | grep -E '^# (HELP|TYPE) tcp_closestat_time_wait_total ')" \
		'# HELP tcp_closestat_time_wait_total TCP sockets that entered TIME_WAIT, per side and port.
# TYPE tcp_closestat_time_wait_total counter'
	finish
}

test_stat() {
	fails=0
	expect "-S equals $PROC_STAT" "$(in_a "$CS" -S | norm)" \
		"$(in_a cat "$PROC_STAT")"
	in_a "$CS" -S -j >"$TMP/sj" || return 1
	in_a cat "$PROC_STAT" >"$TMP/stat"
	"$PY" - "$TMP/sj" "$TMP/stat" <<'EOF' || fails=$((fails + 1))
import json, sys
doc = json.load(open(sys.argv[1]))
stat = [l.split() for l in open(sys.argv[2]).read().splitlines()]
assert doc["version"] == 1
assert list(doc["stat"].items()) == [(n, int(v)) for n, v in stat], doc
EOF
	finish
}

test_filters() {
	fails=0
	expect "-p 20001,20002 (busiest first)" \
		"$(in_a "$CS" -n -H -p 20001,20002 -s "$CNT" | norm)" \
		"local 20001 50 0 50
remote 20002 30 0 30
remote 20001 0 50 0
local 20002 0 30 0"
	expect "-p 20001-20002 -l" \
		"$(in_a "$CS" -n -H -l -p 20001-20002 -s "$CNT" | norm)" \
		"local 20001 50 0 50
local 20002 0 30 0"
	expect "-p 20001-20002 -r" \
		"$(in_a "$CS" -n -H -r -p 20001-20002 -s "$CNT" | norm)" \
		"remote 20002 30 0 30
remote 20001 0 50 0"
	expect "-l -r is both sides" \
		"$(in_a "$CS" -n -H -l -r -p 20001 -s "$CNT" | norm)" \
		"local 20001 50 0 50
remote 20001 0 50 0"
	expect "-s close_wait (with header)" \
		"$(in_a "$CS" -n -p 20001-20002 -s close_wait | norm)" \
		"side port close_wait
remote 20001 50
local 20002 30"
	expect "-s CLOSE-WAIT,time_wait: /proc column order" \
		"$(in_a "$CS" -n -H -p 20002 -s CLOSE-WAIT,time_wait | norm)" \
		"local 20002 0 30
remote 20002 30 0"
	expect "-z -s close_wait: zero rows too" \
		"$(in_a "$CS" -n -H -z -p 20001-20002 -s close_wait | norm)" \
		"remote 20001 50
local 20002 30
local 20001 0
remote 20002 0"
	expect "-z -p an unused port" \
		"$(in_a "$CS" -n -H -z -p 20009 -s "$CNT" | norm)" \
		"local 20009 0 0 0
remote 20009 0 0 0"
	expect "-p an unused port" "$(in_a "$CS" -n -H -p 20009)" ""
	expect "-H drops only the header" \
		"$(in_a "$CS" -n -p 20001 | tail -n +2 | norm)" \
		"$(in_a "$CS" -n -H -p 20001 | norm)"
	finish
}

# Without -n, ports known to /etc/services are shown by name (as ss does).
test_service_names() {
	local dir=$TMP/fake-names

	[ -r /etc/services ] ||
		{ skip "no /etc/services (Debian: netbase)"; return; }
	grep -qE '^http-alt[[:space:]]+8080/tcp' /etc/services ||
		{ skip "no http-alt 8080/tcp in /etc/services"; return; }
	mkdir -p "$dir"
	printf 'side port time_wait close_wait fin_wait2\nlocal 8080 1 2 3\n' \
		>"$dir/tcp_closestat"
	fails=0
	expect "name" "$(TCS_PROC_DIR=$dir "$CS" -a -H | norm)" "local http-alt 1 2 3"
	expect "-n" "$(TCS_PROC_DIR=$dir "$CS" -a -H -n | norm)" "local 8080 1 2 3"
	finish
}

test_netns_option() {
	fails=0
	expect "-N A" "$("$CS" -N "$A" -n -H -p 20001 -s "$CNT" | norm)" \
		"local 20001 50 0 50
remote 20001 0 50 0"
	expect "-N B" "$("$CS" -N "$B" -n -H -l -p 20005 -s time_wait | norm)" \
		"local 20005 20"
	expect "root namespace has none of it" \
		"$("$CS" -n -H -p 20001-20005)" ""
	expect_fail "-N nosuch" 1 \
		'closestat: cannot open network namespace "tcs-nosuch": /run/netns/tcs-nosuch: No such file or directory' \
		"$CS" -N tcs-nosuch
	expect_fail "-N ../x" 2 "closestat: invalid network namespace name '../x'" \
		"$CS" -N ../x
	# entering a namespace needs CAP_SYS_ADMIN
	run $NOBODY "$CS" -N "$A"
	expect "-N as nobody: status" "$rc" 1
	expect "-N as nobody: message" "$(printf '%s\n' "$err" | grep -cE '^closestat: cannot (open|enter) network namespace "'"$A"'"')" 1
	finish
}

# -A: every namespace, named (A, B) or only held by a process (C, made by
# unshare here), each row under its namespace's inode, equal to a read of
# that namespace alone; as nobody, what could not be entered is named.
test_all_netns() {
	local pid ino_a ino_b ino_c ino_self ns ino how alone
	local sel=(-n -H -p 20001-20007 -s "$CNT")

	fails=0
	unshare -n bash -c 'ip link set lo up &&
		"$1" -q -n 7 -o server -p 20007 && exec sleep 300' - "$CHURN" &
	pid=$!
	NS_HOLDER=$pid
	busywait 30000 grep -qx sleep "/proc/$pid/comm" || {
		ktap_diag "churn in the unnamed namespace did not finish"
		kill "$pid" 2>/dev/null
		return 1
	}
	ino_a=$(stat -L -c %i "/run/netns/$A")
	ino_b=$(stat -L -c %i "/run/netns/$B")
	ino_c=$(stat -L -c %i "/proc/$pid/ns/net")
	ino_self=$(stat -L -c %i /proc/self/ns/net)

	run "$CS" -A "${sel[@]}"
	expect "-A: status" "$rc" 0
	expect "-A: stderr" "$err" ""
	printf '%s\n' "$out" | norm >"$TMP/all"
	expect "-A: A, B and C, busiest first, by inode and name" \
		"$(grep -E "^($ino_a|$ino_b|$ino_c) " "$TMP/all")" \
		"$ino_a $A local 20001 50 0 50
$ino_a $A remote 20002 30 0 30
$ino_a $A remote 20001 0 50 0
$ino_b $B local 20005 20 0 20
$ino_a $A local 20002 0 30 0
$ino_b $B remote 20005 0 20 0
$ino_c $pid/sleep local 20007 7 0 7
$ino_c $pid/sleep remote 20007 0 7 0"
	# each namespace's rows are what reading it alone shows
	"$CS" -A -e -n -H -s "$CNT" | norm >"$TMP/all-e"
	for ns in "$ino_a:-N $A" "$ino_b:-N $B" "$ino_c:nsenter -t $pid -n" \
		  "$ino_self:"; do
		ino=${ns%%:*}
		how=${ns#*:}
		case $how in
		-N*)	  alone=$("$CS" $how -n -H -s "$CNT" | norm | sort) ;;
		nsenter*) alone=$($how "$CS" -n -H -s "$CNT" | norm | sort) ;;
		*)	  alone=$("$CS" -n -H -s "$CNT" | norm | sort) ;;
		esac
		expect "-A: namespace $ino as read alone" \
			"$(awk -v i="$ino" '$1 == i' "$TMP/all-e" |
			   cut -d' ' -f3- | sort)" "$alone"
	done

	"$CS" -A -j -s "$CNT" >"$TMP/all.json" || fails=$((fails + 1))
	"$CS" -N "$A" -j -s "$CNT" >"$TMP/a.json"
	expect "-A -j" "$("$PY" - "$TMP/all.json" "$TMP/a.json" "$ino_a" "$A" \
			   "$ino_c" "$pid" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
assert text.count("\n") == 1, "not one line"
doc = json.loads(text)
assert list(doc) == ["version", "netns"], list(doc)
ns = {n["inode"]: n for n in doc["netns"]}
assert len(ns) == len(doc["netns"]), "an inode twice"
a, c = ns[int(sys.argv[3])], ns[int(sys.argv[5])]
assert list(a) == ["inode", "name", "pid", "command", "ports"], list(a)
assert a["name"] == sys.argv[4] and a["pid"] is None, a
assert a["ports"] == json.load(open(sys.argv[2]))["ports"], a["ports"]
assert c["name"] is None and c["pid"] == int(sys.argv[6]), c
assert c["command"] == "sleep", c
assert [(p["side"], p["port"], p["time_wait"], p["close_wait"],
         p["fin_wait2"]) for p in c["ports"] if p["port"] == 20007] == \
       [("local", 20007, 7, 0, 7), ("remote", 20007, 0, 7, 0)], c["ports"]
print("ok")
EOF
)" ok

	# nobody (in A) reads its own namespace, and names those it cannot enter
	run in_a $NOBODY "$CS" -A "${sel[@]}"
	expect "-A as nobody: status" "$rc" 1
	expect "-A as nobody: B named" \
		"$(printf '%s\n' "$err" | grep -c "^closestat: cannot enter network namespace $B ($ino_b): Operation not permitted")" 1
	expect "-A as nobody: processes it cannot see" \
		"$(printf '%s\n' "$err" | grep -cE '^closestat: cannot see the network namespace of [0-9]+ process(es)?: Permission denied')" 1
	expect "-A as nobody: A's rows only" "$(printf '%s\n' "$out" | norm)" \
		"$(grep "^$ino_a " "$TMP/all")"
	expect_fail "-A -N" 2 \
		"closestat: -A cannot be combined with -N, --prom, -i, -S, --reset, --hist, --stuck or -x" \
		"$CS" -A -N "$A"
	expect_fail "-A, TCS_PROC_DIR" 2 \
		"closestat: -A reads each namespace's /proc/net: TCS_PROC_DIR cannot be set" \
		env TCS_PROC_DIR="$TMP" "$CS" -A
	kill "$pid"
	wait "$pid" 2>/dev/null
	NS_HOLDER=
	finish
}

test_interval_lines() {
	fails=0
	# piped: plain lines, one block per interval, no screen control
	in_a "$CS" -i 0.3 -c 3 -n -H -l -p 20001 -s time_wait >"$TMP/i1" || return 1
	expect "-i 0.3 -c 3 -H: 3 lines" "$(norm <"$TMP/i1")" \
		"local 20001 0.0
local 20001 0.0
local 20001 0.0"
	in_a "$CS" -i 0.2 -c 2 -n -p 20001 -s "$CNT" >"$TMP/i2" || return 1
	expect "-i 0.2 -c 2: 2 x (header + 2 rows)" "$(norm <"$TMP/i2")" \
		"side port time_wait/s close_wait/s fin_wait2/s
local 20001 0.0 0.0 0.0
remote 20001 0.0 0.0 0.0
side port time_wait/s close_wait/s fin_wait2/s
local 20001 0.0 0.0 0.0
remote 20001 0.0 0.0 0.0"
	expect "no escape sequences when piped" \
		"$(grep -c $'\033' "$TMP/i2")" 0
	in_a "$CS" -i 0.2 -c 3 -j >"$TMP/i3" || return 1
	"$PY" - "$TMP/i3" <<'EOF' || fails=$((fails + 1))
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 3, len(lines)
for l in lines:
    d = json.loads(l)
    assert d["version"] == 1 and 0.15 < d["interval"] < 5, d
    assert d["ports"], d
    for p in d["ports"]:
        assert set(p["rate"]) >= {"time_wait", "close_wait", "fin_wait2"}, p
        assert all(p["rate"][c] == 0 for c in ("time_wait", "close_wait", "fin_wait2")), p
EOF
	# on a terminal: the screen is cleared and redrawn
	if command -v script >/dev/null; then
		in_a script -qec "$CS -i 0.2 -c 2 -n -p 20001" /dev/null >"$TMP/i4"
		expect "redraw on a terminal" "$(grep -c $'\033\\[H\033\\[2J' "$TMP/i4")" 2
	fi
	finish
}

# While churn runs, each rate times its interval is exactly the growth of
# the counter between two consecutive lines: no assumption about timing.
test_interval_rate() {
	local pid

	in_a "$CHURN" -q -d 30 -o server -p 20003 &
	pid=$!
	# measure only once churn is closing connections
	busywait 20000 in_a awk '$1 == "local" && $2 == 20003 { f = 1 }
		END { exit !f }' "$PROC" || { kill "$pid"; wait "$pid"; return 1; }
	in_a "$CS" -i 0.5 -c 4 -j -l -p 20003 -s time_wait -z >"$TMP/rate"
	kill "$pid" 2>/dev/null
	wait "$pid"
	"$PY" - "$TMP/rate" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
assert len(lines) == 4, lines
prev = None
for d in lines:
    p, = d["ports"]
    assert (p["side"], p["port"]) == ("local", 20003), p
    assert d["interval"] > 0, d
    if prev is not None:
        grew = p["time_wait"] - prev
        # interval and rate are printed to 3 decimals
        slack = 0.0005 * p["rate"]["time_wait"] + 0.0005 * d["interval"] + 0.01
        assert abs(p["rate"]["time_wait"] * d["interval"] - grew) <= slack, (p, d, prev)
    prev = p["time_wait"]
assert prev > lines[0]["ports"][0]["time_wait"], "no connection closed while measuring"
EOF
}

test_reset() {
	local msg

	fails=0
	expect "B before" "$(in_b "$CS" -n -H -p 20005 -s "$CNT" | norm)" \
		"local 20005 20 0 20
remote 20005 0 20 0"

	# garbage is refused with EINVAL and changes nothing
	in_b "$PY" - "$PROC_CTL" <<'EOF' || fails=$((fails + 1))
import errno, os, sys
for junk in (b"garbage", b"resetx", b"reset now", b"\n", b"RESET"):
    fd = os.open(sys.argv[1], os.O_WRONLY)
    try:
        os.write(fd, junk)
    except OSError as e:
        assert e.errno == errno.EINVAL, (junk, e)
    else:
        raise SystemExit("accepted %r" % junk)
    finally:
        os.close(fd)
EOF
	expect "B after garbage" "$(in_b "$CS" -n -H -p 20005 -s "$CNT" | norm)" \
		"local 20005 20 0 20
remote 20005 0 20 0"

	# an unprivileged user is refused
	msg="closestat: $PROC_CTL: Operation not permitted (resetting needs CAP_NET_ADMIN in the network namespace)"
	expect_fail "--reset as nobody" 1 "$msg" in_b $NOBODY "$CS" --reset
	expect "B after nobody" "$(in_b "$CS" -n -H -p 20005 -s "$CNT" | norm)" \
		"local 20005 20 0 20
remote 20005 0 20 0"

	# root, through -N from the root namespace
	run "$CS" -N "$B" --reset
	expect "--reset as root: status" "$rc" 0
	expect "--reset as root: output" "$out$err" ""
	expect "B after reset" "$(in_b "$CS" -n -H -s "$CNT")" ""
	expect "B JSON after reset" "$(in_b "$CS" -j -s "$CNT")" \
		'{"version": 1, "ports": []}'
	expect "A untouched" "$(in_a "$CS" -n -H -l -p 20001 -s time_wait | norm)" \
		"local 20001 50"
	finish
}

# Damaged or missing files (TCS_PROC_DIR points the tool at them): one
# line naming the file, the line and the problem, exit 1, never a table.
test_bad_files() {
	local d=$TMP/fake hdr="side port time_wait close_wait fin_wait2" mode
	local -a cases=(
		""						"empty file (no header line)"
		"side port\\n"					"line 1: missing column 'time_wait'"
		"bogus header\\n"				'line 1: header does not start with "side port"'
		"$hdr extra extra\\n"				"line 1: duplicate column 'extra'"
		"$hdr\\nlocal 8080 1 2\\n"			"line 2: short row: 4 fields, header has 5"
		"$hdr\\nlocal 8080 1 2 3 4\\n"			"line 2: too many fields (header has 5)"
		"$hdr\\nlocal 8080 1 x 3\\n"			"line 2: close_wait 'x' is not a number"
		"$hdr\\nlocal 8080 1 -2 3\\n"			"line 2: close_wait '-2' is not a number"
		"$hdr\\nlocal 8080 18446744073709551616 0 0\\n"	"line 2: time_wait 18446744073709551616 overflows 64 bits"
		"$hdr\\nmiddle 8080 1 2 3\\n"			"line 2: bad side 'middle' (want local or remote)"
		"$hdr\\nlocal 65536 1 2 3\\n"			"line 2: port 65536 out of range (0-65535)"
		"$hdr\\nlocal http 1 2 3\\n"			"line 2: port 'http' is not a number"
		"$hdr\\nlocal 80 1 2 3\\nlocal 80 1 2 3\\n"	"line 3: duplicate row local 80"
		"$hdr\\nlocal 80 1 2 3\\n\\nlocal 81 1 2 3\\n"	"line 3: empty line"
		"$hdr\\nlocal 80 1 2 3"				"line 2: truncated (no newline at end of file)"
		"$hdr\\nlocal 80 1 2 3\\r\\n"			"line 2: invalid byte 0x0d"
	)
	local i

	fails=0
	mkdir -p "$d"
	printf 'ports 1\n' >"$d/tcp_closestat_stat"
	for ((i = 0; i < ${#cases[@]}; i += 2)); do
		printf "${cases[i]}" >"$d/tcp_closestat"
		for mode in "" -j --prom; do
			expect_fail "file $((i / 2)) ${mode:-table}" 1 \
				"closestat: $d/tcp_closestat: ${cases[i + 1]}" \
				env TCS_PROC_DIR="$d" "$CS" $mode
		done
	done

	printf '%s\nlocal 80 1 2 3\n' "$hdr" >"$d/tcp_closestat"
	printf 'ports x\n' >"$d/tcp_closestat_stat"
	expect_fail "stat file, -S" 1 \
		"closestat: $d/tcp_closestat_stat: line 1: ports 'x' is not a number" \
		env TCS_PROC_DIR="$d" "$CS" -S
	expect_fail "stat file, --prom" 1 \
		"closestat: $d/tcp_closestat_stat: line 1: ports 'x' is not a number" \
		env TCS_PROC_DIR="$d" "$CS" --prom

	# the histogram and socket files are held to the same standard
	printf 'ports 1\n' >"$d/tcp_closestat_stat"
	printf 'state count sum_ms lt_2\n' >"$d/tcp_closestat_hist"
	for mode in --hist "--hist -j" --prom; do
		expect_fail "hist file, $mode" 1 \
			"closestat: $d/tcp_closestat_hist: line 1: column 4 is not 'lt_1'" \
			env TCS_PROC_DIR="$d" "$CS" $mode
	done
	printf 'state local remote age_ms inode\nclose_wait 1.2.3.4:1 1.2.3:2 5 6\n' \
		>"$d/tcp_closestat_sockets"
	for mode in "--stuck 0" "--stuck 0 -j"; do
		expect_fail "sockets file, $mode" 1 \
			"closestat: $d/tcp_closestat_sockets: line 2: bad remote address '1.2.3:2'" \
			env TCS_PROC_DIR="$d" "$CS" $mode
	done
	expect_fail "no hist file" 1 \
		"closestat: $TMP/none/tcp_closestat_hist: No such file or directory (is the tcp_closestat module loaded?)" \
		env TCS_PROC_DIR="$TMP/none" "$CS" --hist

	expect_fail "no such directory" 1 \
		"closestat: $TMP/none/tcp_closestat: No such file or directory (is the tcp_closestat module loaded?)" \
		env TCS_PROC_DIR="$TMP/none" "$CS"
	expect_fail "no ctl file" 1 \
		"closestat: $TMP/none/tcp_closestat_ctl: No such file or directory (is the tcp_closestat module loaded?)" \
		env TCS_PROC_DIR="$TMP/none" "$CS" --reset
	mkdir -p "$TMP/isdir/tcp_closestat"
	expect_fail "unreadable (a directory)" 1 \
		"closestat: $TMP/isdir/tcp_closestat: Is a directory" \
		env TCS_PROC_DIR="$TMP/isdir" "$CS"
	finish
}

# --exhaustion from made-up files: the range without its reserved ports,
# grouping by (local address, remote address, remote port), IPv6, the
# states, tcp_tw_reuse 2's loopback test, -p; then every damaged input.
test_exhaustion_files() {
	local p=$TMP/exh-proc s=$TMP/exh-sys
	local -a x=(env TCS_PROC_DIR="$p" TCS_SYSCTL_DIR="$s" "$CS" -x)

	fails=0
	mkdir -p "$p" "$s"
	printf 'ports 1\nuntracked 0\n' >"$p/tcp_closestat_stat"
	{ echo "state local remote age_ms inode"; printf '%s\n' \
		"time_wait 127.0.0.1:40001 127.0.0.1:8001 5 0" \
		"time_wait 127.0.0.1:40002 127.0.0.1:8001 5 0" \
		"close_wait 127.0.0.1:40003 127.0.0.1:8001 5 7" \
		"time_wait 127.0.0.2:40001 127.0.0.1:8001 5 0" \
		"time_wait 127.0.0.1:40060 127.0.0.1:8001 5 0" \
		"time_wait 127.0.0.1:39999 127.0.0.1:8001 5 0" \
		"time_wait 127.0.0.1:8001 127.0.0.1:40005 5 0" \
		"fin_wait2 [::1]:40010 [2001:db8::1]:443 5 0" \
		"fin_wait2 [2001:db8::2]:40011 [2001:db8::1]:443 5 0" \
		"time_wait 10.0.0.1:40001 10.0.0.2:80 1 0" \
		"time_wait [::ffff:10.0.0.1]:40001 [::ffff:127.0.0.9]:80 1 0"
	} >"$p/tcp_closestat_sockets"
	printf '40000\t40063\n' >"$s/ip_local_port_range"
	printf '40060-40061,50000\n' >"$s/ip_local_reserved_ports"
	printf '2\n' >"$s/tcp_tw_reuse"
	run "${x[@]}"
	expect "table: status, stderr" "$rc:$err" "0:"
	expect "table" "$(printf '%s\n' "$out" | norm)" \
"ephemeral range 40000-40063, 62 ports (2 reserved), tcp_tw_reuse 2
local remote time_wait close_wait fin_wait2 held range percent tw_reuse
127.0.0.1 127.0.0.1:8001 2 1 0 3 62 4.8% yes
10.0.0.1 10.0.0.2:80 1 0 0 1 62 1.6% no
127.0.0.2 127.0.0.1:8001 1 0 0 1 62 1.6% yes
2001:db8::2 [2001:db8::1]:443 0 0 1 1 62 1.6% no
::1 [2001:db8::1]:443 0 0 1 1 62 1.6% yes
::ffff:10.0.0.1 [::ffff:127.0.0.9]:80 1 0 0 1 62 1.6% yes"
	expect "-p 443 -H" "$("${x[@]}" -p 443 -H | norm)" \
"2001:db8::2 [2001:db8::1]:443 0 0 1 1 62 1.6% no
::1 [2001:db8::1]:443 0 0 1 1 62 1.6% yes"
	printf '1\n' >"$s/tcp_tw_reuse"
	expect "tcp_tw_reuse 1" "$("${x[@]}" -H | awk '{ print $NF }' | sort | uniq -c | norm)" "6 yes"
	printf '0\n' >"$s/tcp_tw_reuse"
	expect "tcp_tw_reuse 0" "$("${x[@]}" -H | awk '{ print $NF }' | sort | uniq -c | norm)" "6 no"
	expect "JSON" "$("${x[@]}" -j --top 1)" \
'{"version": 1, "range": {"lo": 40000, "hi": 40063, "ports": 62, "reserved": 2}, "tcp_tw_reuse": 0, "untracked": 0, "destinations": [{"local": "127.0.0.1", "remote": "127.0.0.1", "remote_port": 8001, "time_wait": 2, "close_wait": 1, "fin_wait2": 0, "held": 3, "range": 62, "percent": 4.8, "tw_reuse": false}]}'
	expect "--prom: default --top 10, series" "$("${x[@]}" --prom | grep -vc '^#')" $((1 + 6 * 5))

	# untracked sockets: a note on stderr, a field in JSON
	printf 'ports 1\nuntracked 3\n' >"$p/tcp_closestat_stat"
	run "${x[@]}" -H --top 1
	expect "untracked: note" "$rc:$err" \
		"0:closestat: note: 3 sockets were not tracked (untracked in $p/tcp_closestat_stat): the counts may be low"
	expect "untracked: JSON" "$("${x[@]}" -j | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["untracked"])')" 3
	printf 'ports 1\nuntracked 0\n' >"$p/tcp_closestat_stat"

	# damaged or missing files: one line, exit status 1, in every mode
	local -a cases=(
		ip_local_port_range	'5\t2\n'	"line 1: low end 5 above high end 2"
		ip_local_port_range	'x\t40063\n'	"line 1: port 'x' is not a number 1-65535"
		ip_local_port_range	'40000\n'	"line 1: want two ports 'LOW HIGH', got 1 field"
		ip_local_port_range	''		"empty file"
		ip_local_reserved_ports	'1,x\n'		"line 1: bad port or range 'x' (want 0-65535 or A-B)"
		tcp_tw_reuse		'3\n'		"line 1: '3' is not a number 0-2"
		tcp_tw_reuse		'no\n'		"line 1: 'no' is not a number 0-2"
	)
	local i mode good
	for ((i = 0; i < ${#cases[@]}; i += 3)); do
		good=$(cat "$s/${cases[i]}")
		printf "${cases[i + 1]}" >"$s/${cases[i]}"
		for mode in "" -j --prom; do
			expect_fail "${cases[i]} $((i / 3)) ${mode:-table}" 1 \
				"closestat: $s/${cases[i]}: ${cases[i + 2]}" "${x[@]}" $mode
		done
		printf '%s\n' "$good" >"$s/${cases[i]}"
		rm "$s/${cases[i]}"
		expect_fail "${cases[i]} missing" 1 \
			"closestat: $s/${cases[i]}: No such file or directory" "${x[@]}"
		printf '%s\n' "$good" >"$s/${cases[i]}"
	done
	printf 'state local remote age_ms inode\ntime_wait 1.2.3.4:40001 1.2.3:2 5 6\n' \
		>"$p/tcp_closestat_sockets"
	expect_fail "sockets file" 1 \
		"closestat: $p/tcp_closestat_sockets: line 2: bad remote address '1.2.3:2'" "${x[@]}"
	rm "$p/tcp_closestat_sockets"
	expect_fail "no sockets file" 1 \
		"closestat: $p/tcp_closestat_sockets: No such file or directory (is the tcp_closestat module loaded?)" \
		"${x[@]}" -j
	finish
}

# Columns a later module appends are carried through to every output.
test_unknown_columns() {
	local d=$TMP/future

	mkdir -p "$d"
	printf 'side port time_wait close_wait fin_wait2 future_col\nlocal 8080 1 2 3 4\nremote 443 0 0 0 9\n' \
		>"$d/tcp_closestat"
	printf 'ports 2\nfuture_stat 7\n' >"$d/tcp_closestat_stat"
	fails=0
	expect "table -e" "$(TCS_PROC_DIR=$d "$CS" -a -n -e | norm)" \
		"side port time_wait close_wait fin_wait2 future_col
local 8080 1 2 3 4
remote 443 0 0 0 9"
	expect "table, default columns" "$(TCS_PROC_DIR=$d "$CS" -a -n | norm)" \
		"side port time_wait close_wait fin_wait2
local 8080 1 2 3"
	expect "json" "$(TCS_PROC_DIR=$d "$CS" -a -j)" \
		'{"version": 1, "ports": [{"side": "local", "port": 8080, "time_wait": 1, "close_wait": 2, "fin_wait2": 3, "future_col": 4}, {"side": "remote", "port": 443, "time_wait": 0, "close_wait": 0, "fin_wait2": 0, "future_col": 9}]}'
	expect "prom" "$(TCS_PROC_DIR=$d "$CS" -a --prom | grep future)" \
		'# HELP tcp_closestat_future_col Column future_col of /proc/net/tcp_closestat.
# TYPE tcp_closestat_future_col untyped
tcp_closestat_future_col{side="local",port="8080"} 4
tcp_closestat_future_col{side="remote",port="443"} 9
# HELP tcp_closestat_future_stat Line future_stat of /proc/net/tcp_closestat_stat.
# TYPE tcp_closestat_future_stat untyped
tcp_closestat_future_stat 7'
	finish
}

# --output: the bytes stdout would get, in a file readable by everyone
# whatever the umask, put in place by renaming a temporary file; a failed
# run leaves the file as it was and no temporary file behind.
test_output() {
	local d=$TMP/output f

	mkdir -p "$d/proc" "$d/out"
	printf 'side port time_wait close_wait fin_wait2 close_wait_oldest_ms\nlocal 8080 1 2 3 1500\n' \
		>"$d/proc/tcp_closestat"
	printf 'ports 1\n' >"$d/proc/tcp_closestat_stat"
	f=$d/out/tcp_closestat.prom
	echo old >"$f"
	fails=0
	run env TCS_PROC_DIR="$d/proc" sh -c 'umask 077; exec "$0" -a --prom -o "$1"' "$CS" "$f"
	expect "--prom -o: status" "$rc" 0
	expect "--prom -o: stdout, stderr" "$out$err" ""
	expect "--prom -o: the file" "$(cat "$f")" "$(TCS_PROC_DIR=$d/proc "$CS" -a --prom)"
	expect "--prom -o: mode" "$(stat -c %a "$f")" 644
	expect "--prom -o: directory" "$(ls -A "$d/out")" tcp_closestat.prom
	run env TCS_PROC_DIR="$d/proc" "$CS" -a -j --output="$d/out/j"
	expect "-j --output" "$rc:$out:$(cat "$d/out/j")" "0::$(TCS_PROC_DIR=$d/proc "$CS" -a -j)"
	rm -f "$d/out/j"

	cp "$f" "$d/before"
	printf 'ports x\n' >"$d/proc/tcp_closestat_stat"
	expect_fail "--prom -o, bad stat file" 1 \
		"closestat: $d/proc/tcp_closestat_stat: line 1: ports 'x' is not a number" \
		env TCS_PROC_DIR="$d/proc" "$CS" --prom -o "$f"
	expect "--prom -o failed: the file" "$(cat "$f")" "$(cat "$d/before")"
	expect "--prom -o failed: directory" "$(ls -A "$d/out")" tcp_closestat.prom
	expect_fail "-o, missing directory" 1 \
		"closestat: $d/none/x.prom: cannot create a temporary file beside it: No such file or directory" \
		"$CS" --prom -o "$d/none/x.prom"
	expect_fail "-o -i" 2 "closestat: --output cannot be combined with -i" \
		"$CS" -i 1 -o "$f"
	finish
}

# promtool check metrics (Debian's prometheus package) accepts --prom:
# after the workloads in namespace A, and for a module with columns and
# statistics it does not know, one in milliseconds, which goes out in
# seconds.
test_promtool() {
	local d=$TMP/promtool

	command -v promtool >/dev/null || { skip "promtool not installed"; return; }
	mkdir -p "$d"
	fails=0
	in_a "$CS" -a --prom >"$d/a.prom" || return 1
	promtool check metrics <"$d/a.prom" >"$d/out" 2>&1
	expect "promtool check metrics, namespace A" "$?:$(cat "$d/out")" "0:"
	printf 'side port time_wait close_wait fin_wait2 close_wait_oldest_ms later_ms\nlocal 8080 1 2 3 1500 7\n' \
		>"$d/tcp_closestat"
	printf 'ports 1\nlater_stat_ms 2001\n' >"$d/tcp_closestat_stat"
	TCS_PROC_DIR=$d "$CS" -a --prom >"$d/b.prom" || return 1
	promtool check metrics <"$d/b.prom" >"$d/out" 2>&1
	expect "promtool check metrics, unknown columns" "$?:$(cat "$d/out")" "0:"
	expect "milliseconds as seconds" \
		"$(grep -E '^tcp_closestat_(close_wait_oldest|later|later_stat)_seconds' "$d/b.prom")" \
		'tcp_closestat_close_wait_oldest_seconds{side="local",port="8080"} 1.5
tcp_closestat_later_seconds{side="local",port="8080"} 0.007
tcp_closestat_later_stat_seconds 2.001'
	expect "HELP in seconds" "$(grep -c '^# HELP tcp_closestat_.*_seconds .*, in seconds' "$d/b.prom")" 3
	finish
}

test_usage_errors() {
	local states

	fails=0
	states=$(head -n 1 "$PROC" | cut -d ' ' -f 3- | sed 's/ /, /g')
	expect_fail "-p 0" 2 "closestat: invalid port '0' (want 1-65535 or a range A-B)" \
		"$CS" -p 0
	expect_fail "-p 65536" 2 "closestat: invalid port '65536' (want 1-65535 or a range A-B)" \
		"$CS" -p 65536
	expect_fail "-p http" 2 "closestat: invalid port 'http' (want 1-65535 or a range A-B)" \
		"$CS" -p http
	expect_fail "-p 80,x" 2 "closestat: invalid port 'x' (want 1-65535 or a range A-B)" \
		"$CS" -p 80,x
	expect_fail "-p 9000-8000" 2 "closestat: invalid port '9000-8000' (want 1-65535 or a range A-B)" \
		"$CS" -p 9000-8000
	expect_fail "-s established" 2 "closestat: unknown state 'established' (want $states, all)" \
		"$CS" -s established
	expect_fail "-i 0" 2 "closestat: invalid interval '0' (want seconds, 0.001-86400)" \
		"$CS" -i 0
	expect_fail "-i 1s" 2 "closestat: invalid interval '1s' (want seconds, 0.001-86400)" \
		"$CS" -i 1s
	expect_fail "-c 0" 2 "closestat: invalid count '0' (want a positive integer)" \
		"$CS" -i 1 -c 0
	expect_fail "-c without -i" 2 "closestat: -c needs -i" "$CS" -c 3
	expect_fail "--prom -j" 2 "closestat: --prom cannot be combined with -j, -i or -S" \
		"$CS" --prom -j
	expect_fail "--reset -j" 2 "closestat: --reset cannot be combined with output options" \
		"$CS" --reset -j
	expect_fail "extra argument" 2 "closestat: unexpected argument 'foo'" "$CS" foo
	expect_fail "--stuck x" 2 \
		"closestat: invalid age 'x' (want seconds, 0 or more, decimals allowed)" \
		"$CS" --stuck x
	expect_fail "--stuck -1" 2 \
		"closestat: invalid age '-1' (want seconds, 0 or more, decimals allowed)" \
		"$CS" --stuck -1
	expect_fail "--hist --stuck" 2 "closestat: --hist cannot be combined with --stuck" \
		"$CS" --hist --stuck 1
	expect_fail "--hist --prom" 2 \
		"closestat: --hist and --stuck cannot be combined with --prom, -i or -S" \
		"$CS" --hist --prom
	expect_fail "--stuck -i" 2 \
		"closestat: --hist and --stuck cannot be combined with --prom, -i or -S" \
		"$CS" --stuck 1 -i 1
	expect_fail "--top without -x" 2 "closestat: --top needs --exhaustion" \
		"$CS" --top 3
	expect_fail "--top x" 2 \
		"closestat: invalid --top 'x' (want 0 for all, or a positive integer)" \
		"$CS" -x --top x
	expect_fail "-x -i" 2 \
		"closestat: --exhaustion cannot be combined with -i, -S, --hist, --stuck or --reset" \
		"$CS" -x -i 1
	expect_fail "-x --stuck" 2 \
		"closestat: --exhaustion cannot be combined with -i, -S, --hist, --stuck or --reset" \
		"$CS" -x --stuck 1
	expect_fail "-x -l" 2 \
		"closestat: -l, -r, -z, -s and -e do not apply to --exhaustion (-p: remote ports)" \
		"$CS" -x -l
	expect_fail "-x --prom -j" 2 "closestat: --prom cannot be combined with -j, -i or -S" \
		"$CS" -x --prom -j
	run "$CS" -y
	expect "-y: status" "$rc" 2
	expect "-y: usage on stderr" "$(printf '%s\n' "$err" | grep -c '^Usage: closestat')" 1
	run "$CS" --version
	expect "--version: status" "$rc" 0
	expect "--version: stderr" "$err" ""
	printf '%s\n' "$out" | grep -Eqx 'closestat [0-9]+\.[0-9]+(\+[0-9a-z.]+)?' ||
		expect "--version: closestat VERSION" "$out" "closestat X.Y[+...]"
	run "$CS" -h
	expect "-h: status" "$rc" 0
	expect "-h: usage on stdout" "$(printf '%s\n' "$out" | head -n 1)" \
		"Usage: closestat [OPTIONS]"
	expect "-h: stderr" "$err" ""
	expect "-h: EXAMPLES" "$(printf '%s\n' "$out" | grep -c '^EXAMPLES:$')" 1
	finish
}

# Every closestat command README.md shows runs and prints something
# (NAME is namespace A; the reset runs in B, already reset above).
test_readme_commands() {
	local line cmd n=0

	fails=0
	while IFS= read -r line; do
		cmd=${line#    }
		cmd=${cmd%%#*}
		cmd=${cmd//NAME/$A}
		set -- $cmd
		[ "$1" = sudo ] && shift
		shift			# tools/closestat
		n=$((n + 1))
		case "$*" in
		*--reset*)
			run in_b "$CS" "$@"
			expect "README: closestat $*" "$rc:$out$err" "0:" ;;
		*--check-kernel*)
			run in_a "$CS" "$@"
			if [ -r /sys/kernel/btf/vmlinux ]; then
				expect "README: closestat $*: status" "$rc" 0
				[ -n "$out" ] || expect "README: closestat $*: output" "" "something"
			else
				# the debug kernel: no BTF, which it must say
				expect "README: closestat $* without BTF" \
					"$rc:$(printf '%s' "$err" | grep -c 'without CONFIG_DEBUG_INFO_BTF cannot be checked')" "1:1"
			fi ;;
		*)
			run in_a "$CS" "$@"
			expect "README: closestat $*: status" "$rc" 0
			[ -n "$out" ] || expect "README: closestat $*: output" "" "something" ;;
		esac
	done < <(grep -E '^    (sudo )?tools/closestat' "$REPO/README.md")
	[ "$n" -ge 5 ] || expect "README commands found" "$n" "at least 5"
	finish
}

# The real thing: with the module unloaded the tool says so.  Reloads it.
test_module_not_loaded() {
	[ -n "${TCS_KO:-}" ] && [ -r "$TCS_KO" ] ||
		{ skip "TCS_KO not set: the module cannot be reloaded"; return; }
	fails=0
	cleanup_ns			# a namespace's files go with the module
	rmmod tcp_closestat || return 1
	expect_fail "table" 1 \
		"closestat: $PROC: No such file or directory (is the tcp_closestat module loaded?)" \
		"$CS"
	expect_fail "--reset" 1 \
		"closestat: $PROC_CTL: No such file or directory (is the tcp_closestat module loaded?)" \
		"$CS" --reset
	insmod "$TCS_KO" || { ktap_diag "insmod $TCS_KO failed"; return 1; }
	expect "loaded again" "$("$CS" -j -p 1)" '{"version": 1, "ports": []}'
	finish
}

# ---- the fold of clients' ports (namespace C) ------------------------------

FOLD_RANGE="32768-60999"
BOUND="20100 20101 20102 20103 20104"

# fold_ports SIDE: how many ports the fold row of SIDE covers, from
# /proc/net/tcp_closestat itself: the clients' ports of the range (every
# port in it but the service on 40000), and on the remote side also the
# ports the bound clients connected from (the peers of service 20011).
fold_ports() {
	in_c awk -v side="$1" 'NR > 1 && $1 == side && (($2 >= 32768 &&
		$2 <= 60999 && $2 != 40000) || (side == "remote" && $2 >= 20100 &&
		$2 <= 20104)) { n++ } END { print n + 0 }' "$PROC"
}

# The default table in C.  One row per side for clients' ports, shown as
# the range with the number of ports it covers:
#   local   the ports connect() or bind() to port 0 picked: client ends
#           of 40000 (CLOSE_WAIT, the server closes first), of 20010 and
#           20012 (TIME_WAIT, FIN_WAIT2)
#   remote  the peers' ports of the services' ends: 40000's (TIME_WAIT,
#           FIN_WAIT2), 20010's, 20011's and 20012's (CLOSE_WAIT)
# Port 40000, a listener inside the range, stays a row; so do the ports
# the clients bound by hand (20100-20104) and the port they connected to.
# Busiest first (entries summed), ties in /proc order: the fold row
# (port 0) first in its side.
test_fold_rows() {
	local nl nr p bound=

	nl=$(fold_ports local)
	nr=$(fold_ports remote)
	for p in $BOUND; do
		bound="$bound
local $p 1 1 0 1"
	done
	fails=0
	# 35 client connections, 30 served; a port can serve two destinations
	expect "ports under the fold (from -a)" \
		"$([ "$nl" -ge 1 ] && [ "$nl" -le 35 ] && [ "$nr" -ge 5 ] && [ "$nr" -le 40 ] && echo yes)" yes
	expect "folded table" "$(in_c "$CS" -n -s "$CNT" | norm)" \
		"side port ports time_wait close_wait fin_wait2
remote 1-65535 $nr 20 20 20
local $FOLD_RANGE $nl 15 20 15
local 40000 1 20 0 20
remote 20010 1 10 0 10
remote 40000 1 0 20 0
local 20010 1 0 10 0
remote 20011 1 5 0 5
remote 20012 1 5 0 5
local 20011 1 0 5 0
local 20012 1 0 5 0$bound"
	expect "the module's fold rows" \
		"$(in_c awk 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
			$c["folded"] == 1 { print $1, $2, $c["ports"], $c["port_lo"], $c["port_hi"] }' \
			/proc/net/tcp_closestat_folded)" \
		"local 0 $nl 32768 60999
remote 0 $nr 1 65535"
	expect "-a: every port" "$(in_c "$CS" -a -n -H -s "$CNT" | wc -l)" \
		"$((nl + nr + 13))"
	finish
}

# Every column of the folded view sums to the -a sums, per side (the
# oldest CLOSE_WAIT: the maximum), and each fold row to the -a rows of
# its ports; JSON parsed by Python.
test_fold_totals() {
	in_c "$CS" -j >"$TMP/fj" || return 1
	in_c "$CS" -a -j >"$TMP/aj" || return 1
	"$PY" - "$TMP/fj" "$TMP/aj" <<'EOF'
import json, sys
fold = json.load(open(sys.argv[1]))["ports"]
every = json.load(open(sys.argv[2]))["ports"]
keys = ("side", "port", "folded", "ports", "port_lo", "port_hi")
cols = [k for k in every[0] if k not in keys]
assert len(cols) == 11, cols
assert all("folded" not in p for p in every), "-a has no fold"
bound = range(20100, 20105)
for side in ("local", "remote"):
    f = [p for p in fold if p["side"] == side]
    a = [p for p in every if p["side"] == side]
    assert all(type(p["folded"]) is bool for p in f), f
    for c in cols:
        agg = max if c == "close_wait_oldest_ms" else sum
        assert agg(p[c] for p in f) == agg(p[c] for p in a), (side, c)
    row, = [p for p in f if p["folded"]]
    want = (0, 32768, 60999) if side == "local" else (0, 1, 65535)
    assert (row["port"], row["port_lo"], row["port_hi"]) == want, row
    inside = [p for p in a if (32768 <= p["port"] <= 60999 and p["port"] != 40000)
              or (side == "remote" and p["port"] in bound)]
    assert row["ports"] == len(inside), (row, len(inside))
    for c in cols:
        agg = max if c == "close_wait_oldest_ms" else sum
        assert row[c] == agg(p[c] for p in inside), (side, c)
    rest = sorted(p["port"] for p in f if not p["folded"])
    want = [20010, 20011, 20012, 40000] + (list(bound) if side == "local" else [])
    assert rest == sorted(want), rest
    assert all((p["ports"], p["port_lo"], p["port_hi"]) == (1, p["port"], p["port"])
               for p in f if not p["folded"]), f
EOF
}

# --prom: a series per row of the folded view, clients' ports as
# port="ephemeral"; 100 more clients add no series; promtool accepts it.
test_fold_prom() {
	local series=$((15 * 11))

	fails=0
	in_c "$CS" --prom >"$TMP/p1" || return 1
	expect "fold samples" \
		"$(grep -E '^tcp_closestat_(time_wait|close_wait|fin_wait2)_total\{side="[a-z]*",port="ephemeral"\}' "$TMP/p1")" \
		'tcp_closestat_time_wait_total{side="local",port="ephemeral"} 15
tcp_closestat_time_wait_total{side="remote",port="ephemeral"} 20
tcp_closestat_close_wait_total{side="local",port="ephemeral"} 20
tcp_closestat_close_wait_total{side="remote",port="ephemeral"} 20
tcp_closestat_fin_wait2_total{side="local",port="ephemeral"} 15
tcp_closestat_fin_wait2_total{side="remote",port="ephemeral"} 20'
	expect "every per-port series" "$(grep -c '^[^#].*,port="' "$TMP/p1")" "$series"
	in_c "$CHURN" -q -n 100 -o client -p 20010 || return 1
	in_c "$CS" --prom >"$TMP/p2" || return 1
	expect "series after 100 more clients" \
		"$(grep -c '^[^#].*,port="' "$TMP/p2")" "$series"
	expect "the fold counted them" \
		"$(grep -E '^tcp_closestat_time_wait_total\{side="(local",port="ephemeral|remote",port="20010)"\}' "$TMP/p2")" \
		'tcp_closestat_time_wait_total{side="local",port="ephemeral"} 115
tcp_closestat_time_wait_total{side="remote",port="20010"} 110'
	expect "-a: a series per client port" \
		"$([ "$(in_c "$CS" -a --prom | grep -c '^tcp_closestat_time_wait_total{')" -gt 100 ] && echo yes)" yes
	if command -v promtool >/dev/null; then
		promtool check metrics <"$TMP/p2" >"$TMP/pt" 2>&1
		expect "promtool check metrics" "$?:$(cat "$TMP/pt")" "0:"
	fi
	finish
}

# -i with clients running: every line has both fold rows, with rates; the
# fold's count never goes down, and ends 40 higher than it began.
test_fold_interval() {
	local before after

	before=$(in_c awk '$1 == "local" && $2 == 0 { print $7 }' /proc/net/tcp_closestat_folded)
	in_c "$CHURN" -q -n 40 -o client -p 20010 &
	in_c "$CS" -i 0.3 -c 4 -j >"$TMP/fi" || { wait; return 1; }
	wait $! || return 1
	after=$(in_c awk '$1 == "local" && $2 == 0 { print $7 }' /proc/net/tcp_closestat_folded)
	fails=0
	expect "time_wait column" "$(in_c awk 'NR == 1 { print $7 }' /proc/net/tcp_closestat_folded)" time_wait
	expect "40 more in the fold" "$((after - before))" 40
	"$PY" - "$TMP/fi" "$before" <<'EOF' || fails=$((fails + 1))
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
assert len(lines) == 4, lines
last = int(sys.argv[2])
for d in lines:
    fold = [p for p in d["ports"] if p["folded"]]
    assert sorted(p["side"] for p in fold) == ["local", "remote"], fold
    for p in d["ports"]:
        assert all(p["rate"][c] >= 0 for c in ("time_wait", "close_wait", "fin_wait2")), p
    tw, = [p["time_wait"] for p in fold if p["side"] == "local"]
    assert tw >= last, (tw, last)
    last = tw
EOF
	finish
}

# The fold row shows the range now; a port keeps the class its first
# socket gave it.  Widened to 1024-65000, the same rows, the local fold
# row showing the new range; the clients that follow fold as before.
test_fold_range() {
	local before got

	before=$(in_c "$CS" -n -H -s "$CNT" | norm | sed "s/^local $FOLD_RANGE /local 1024-65000 /")
	in_c sysctl -qw net.ipv4.ip_local_port_range="1024 65000" || return 1
	got=$(in_c "$CS" -n -H -s "$CNT" | norm)
	in_c sysctl -qw net.ipv4.ip_local_port_range="32768 60999" || return 1
	fails=0
	expect "widened range: the same rows" "$got" "$before"
	expect "a local fold row" "$(printf '%s\n' "$got" | grep -c '^local 1024-65000 ')" 1
	finish
}

# Resets while clients run: afterwards each fold row still equals the
# sum of its ports' rows in -a, column by column (a reset that took the
# fold's base apart from its ports' would leave it short for good).
test_fold_reset() {
	local i

	in_c "$CHURN" -q -n 200 -o client -p 20010 &
	for i in 1 2 3 4 5; do
		in_c "$CS" --reset || { wait; return 1; }
		sleep 0.2
	done
	wait $! || return 1
	# and 20 after the last reset, so that the fold has counts to compare
	in_c "$CHURN" -q -n 20 -o client -p 20010 || return 1
	while_still 5 read_proc_c fold_sums_equal
}

fold_sums_equal() {
	in_c "$CS" -j >"$TMP/rj" || return 1
	in_c "$CS" -a -j >"$TMP/raj" || return 1
	"$PY" - "$TMP/rj" "$TMP/raj" <<'EOF'
import json, sys
fold = json.load(open(sys.argv[1]))["ports"]
every = {(p["side"], p["port"]): p for p in json.load(open(sys.argv[2]))["ports"]}
apart = {(p["side"], p["port"]) for p in fold if not p["folded"]}
cols = [k for k in next(iter(every.values())) if k not in ("side", "port")]
for side in ("local", "remote"):
    row, = [p for p in fold if p["folded"] and p["side"] == side]
    inside = [p for k, p in every.items() if k[0] == side and k not in apart]
    for c in cols:
        agg = max if c == "close_wait_oldest_ms" else sum
        assert row[c] == agg([p[c] for p in inside] + [0]), (side, c, row[c])
    if side == "local":
        assert row["time_wait"] >= 20, row
EOF
}

# An older module, without tcp_closestat_folded: every port, said once.
test_fold_missing() {
	local d=$TMP/old

	mkdir -p "$d"
	printf 'side port time_wait close_wait fin_wait2\nlocal 40000 1 0 0\n' >"$d/tcp_closestat"
	fails=0
	run env TCS_PROC_DIR="$d" "$CS" -n -H
	expect "older module: table" "$rc:$(printf '%s\n' "$out" | norm)" "0:local 40000 1 0 0"
	expect "older module: said" "$err" \
		"closestat: $d/tcp_closestat_folded: No such file or directory: this module does not fold clients' ports; showing every port"
	run env TCS_PROC_DIR="$d" "$CS" -a -n -H
	expect "older module, -a: nothing said" "$rc:$err" "0:"
	printf 'side port folded ports port_lo port_hi time_wait close_wait fin_wait2\nlocal 0 2 1 1 2 0 0 0\n' \
		>"$d/tcp_closestat_folded"
	expect_fail "bad folded file" 1 \
		"closestat: $d/tcp_closestat_folded: line 2: folded 2 is not 0 or 1" \
		env TCS_PROC_DIR="$d" "$CS"
	expect_fail "-a with -x" 2 \
		"closestat: -a does not apply to -x, --hist, --stuck, -S or --reset" \
		"$CS" -a -x
	finish
}

TESTS="
test_table_equals_proc
test_default_table_equals_proc
test_expected_counts
test_json_equals_proc
test_json_expected
test_prom_equals_proc
test_prom_expected
test_stat
test_filters
test_service_names
test_netns_option
test_all_netns
test_interval_lines
test_interval_rate
test_reset
test_bad_files
test_exhaustion_files
test_unknown_columns
test_output
test_promtool
test_usage_errors
test_readme_commands
test_fold_rows
test_fold_totals
test_fold_prom
test_fold_interval
test_fold_range
test_fold_reset
test_fold_missing
test_module_not_loaded
"

set -- $TESTS
ktap_plan $#
workload || ktap_bail_out "churn failed"
for t in $TESTS; do
	case $t in
	test_table_equals_proc|test_default_table_equals_proc|test_json_equals_proc|test_prom_equals_proc|test_stat)
		run_test "${t#test_}" stable "$t" ;;
	test_fold_rows|test_fold_totals)
		run_test "${t#test_}" stable_c "$t" ;;
	*)
		fails=0
		run_test "${t#test_}" "$t" ;;
	esac
done
ktap_finish
