#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The port caps against an unprivileged user.  The module is loaded with
# max_ports=64 max_ports_global=100; user nobody, in namespaces of its own
# (unshare -Urn, no privilege outside them), opens connections from more
# ports than the caps allow:
#
#   namespace A (unshare -Urn)   churn -o server -p 8080 -n 300, the
#                                clients bound to 40000-40299: 301 local
#                                and 301 remote ports
#                                -> 64 entries, the other 538 (side, port)
#                                   refused and counted in the stat file,
#                                   their events in "local other" and
#                                   "remote other"
#   namespace B (unshare -n,     churn -o client -p 9090 -n 100, clients
#   inside A, while A is full)   bound to 41000-41099: 202 (side, port)
#                                -> 100 - 64 = 36 entries (all that
#                                   max_ports_global leaves), 166 refused
#
# In each namespace: every numbered row holds its port's exact counts,
# every column's sum over a side's rows (the overflow row included) is the
# workload's (each connection enters FIN_WAIT2 and TIME_WAIT on the end
# that closes first, CLOSE_WAIT on the other), TIME-WAIT sockets as ss
# sees them, and in /proc/net/tcp_closestat_folded the fold row holds the
# clients' ports, the refused ones too, with their exact counts.
#
# It reloads the module and leaves it loaded with its defaults.

set -u

# shellcheck source=selftests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STAT=/proc/net/tcp_closestat_stat
PARAMS=/sys/module/tcp_closestat/parameters
MAX_PORTS=64
MAX_PORTS_GLOBAL=100
NOBODY=65534
# namespace: close order, server port, first client port, connections
A_WORK="server 8080 40000 300"
B_WORK="client 9090 41000 100"
# the checks of check_ns(), per namespace
NS_CHECKS=19

# Run by lib.sh at exit.
cleanup() {
	# leave the module loaded with its defaults, as the runner expects
	if [ -r "$PARAMS/max_ports" ] &&
	   [ "$(cat "$PARAMS/max_ports")" != 16384 ]; then
		rmmod tcp_closestat
	fi
	lsmod | grep -q '^tcp_closestat ' || insmod "$KO"
}

ktap_header
require_cmd ip ss setpriv unshare "$PY"
[ -r "$KO" ] || ktap_bail_out "$KO missing"
[ -x "$CHURN" ] || ktap_bail_out "$CHURN missing"
make_tmp
ktap_plan $((3 + 2 * NS_CHECKS + 2))

# 1: the caps as parameters, read-only
rmmod tcp_closestat 2>/dev/null
insmod "$KO" max_ports=$MAX_PORTS max_ports_global=$MAX_PORTS_GLOBAL ||
	ktap_bail_out "insmod max_ports=$MAX_PORTS max_ports_global=$MAX_PORTS_GLOBAL failed"
check_eq "parameters max_ports, max_ports_global (mode, value)" \
	"$(stat -c %a "$PARAMS/max_ports" "$PARAMS/max_ports_global" | xargs) $(cat "$PARAMS/max_ports" "$PARAMS/max_ports_global" | xargs)" \
	"444 444 $MAX_PORTS $MAX_PORTS_GLOBAL"

# The unprivileged part: $OUT is nobody's, the script is run by bash as
# nobody in a new user and network namespace (A), and runs itself again
# in a new network namespace (B) while A is full.
OUT=$TMP/out
chmod 0755 "$TMP"
install -d -o "$NOBODY" -g "$NOBODY" "$OUT"
cat >"$TMP/unpriv.sh" <<'EOF'
# unpriv.sh NAME OUT CHURN ORDER SERVER_PORT CLIENT_LO N [NAME ...]: the
# workload of namespace NAME, its files in OUT/NAME.*, then the next
# namespace's, in a namespace of its own, inside this one.
name=$1 out=$2 churn=$3 order=$4 port=$5 lo=$6 n=$7
shift 7
cat /proc/self/uid_map >"$out/$name.uid_map"
ip link set lo up || exit 1
"$churn" -q -o "$order" -p "$port" -b "$lo-$((lo + n - 1))" -n "$n" \
	>"$out/$name.churn" 2>&1
echo $? >"$out/$name.rc"
# TIME-WAIT sockets as ss sees them before and after the module's files
ss -Htan state time-wait >"$out/$name.ss"
cat /proc/net/tcp_closestat >"$out/$name.table"
cat /proc/net/tcp_closestat_stat >"$out/$name.stat"
cat /proc/net/tcp_closestat_folded >"$out/$name.folded"
ss -Htan state time-wait >"$out/$name.ss2"
[ $# -eq 0 ] || unshare -n bash "$0" "$1" "$out" "$churn" "$2" "$3" "$4" "$5" "${@:6}"
EOF

# 2-3: the workloads, as nobody
# shellcheck disable=SC2086
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups --inh-caps=-all \
	unshare -Urn bash "$TMP/unpriv.sh" A "$OUT" "$CHURN" $A_WORK B $B_WORK \
	>"$TMP/unpriv.log" 2>&1
rc=$?
sed 's/^/# /' "$TMP/unpriv.log"
check_eq "as nobody: unshare -Urn, then unshare -n inside" \
	"$rc $(cat "$OUT/A.uid_map" "$OUT/B.uid_map" 2>/dev/null | xargs)" \
	"0 0 $NOBODY 1 0 $NOBODY 1"
check_eq "workloads completed (churn exit status in A, B)" \
	"$(cat "$OUT/A.rc" "$OUT/B.rc" 2>/dev/null | xargs)" "0 0"
cat "$OUT/A.churn" "$OUT/B.churn" 2>/dev/null | sed 's/^/# churn: /'

# check_ns NAME ORDER PORT LO N ENTRIES PORTS_GLOBAL: NS_CHECKS results
# from namespace NAME's files, which churn -o ORDER -p PORT -n N from
# clients bound to LO... made, with ENTRIES (side, port) entries and
# PORTS_GLOBAL entries in all namespaces when it was read.
check_ns() {
	local name=$1 line

	# the checker prints "name<TAB>got<TAB>want" lines
	"$PY" - "$OUT/$name" "$@" $MAX_PORTS $MAX_PORTS_GLOBAL <<'EOF' >"$TMP/$name.checks" || return 1
import sys

prefix, name, order, port, lo, n, entries, ports_global, cap, cap_global = sys.argv[1:]
port, lo, n, entries = int(port), int(lo), int(n), int(entries)
clients = set(range(lo, lo + n))
SIDES = ("local", "remote")

def check(what, got, want):
    print("%s: %s\t%s\t%s" % (name, what, got, want))

def table(path):
    lines = open(path).read().split("\n")
    head = lines[0].split()
    rows = [l.split() for l in lines[1:] if l.strip()]
    return head, rows

head, rows = table(prefix + ".table")
cols = head[2:]
stat = {}
for l in open(prefix + ".stat"):
    f = l.split()
    if len(f) == 2:
        stat[f[0]] = f[1]

# What each (side, port) of the workload counts: the end that closes
# first enters FIN_WAIT2 then TIME_WAIT, the other CLOSE_WAIT; a socket
# counts on the local side by its own port, on the remote side by its
# peer's.
first = {"server": "server", "client": "client"}[order]
def truth(side, p):
    server_end = (side == "local") == (p == port)
    k = n if p == port else 1
    if (first == "server") == server_end:
        return {"time_wait": k, "fin_wait2": k}
    return {"close_wait": k}

numbered = {s: [] for s in SIDES}
other = {}
seq = []
for r in rows:
    side, p, vals = r[0], r[1], dict(zip(cols, map(int, r[2:])))
    if p == "other":
        other[side] = vals
        seq.append(side + " other")
    else:
        numbered[side].append((int(p), vals))
        if not seq or seq[-1] != side:
            seq.append(side)

nrows = len(numbered["local"]) + len(numbered["remote"])
check("numbered rows, stat ports", "%d %s" % (nrows, stat.get("ports")),
      "%d %d" % (entries, entries))
check("stat max_ports, max_ports_global, ports_global",
      "%s %s %s" % (stat.get("max_ports"), stat.get("max_ports_global"),
                    stat.get("ports_global")),
      "%s %s %s" % (cap, cap_global, ports_global))
check("no probe hit missed, no allocation failed",
      sum(int(v) for k, v in stat.items() if k.startswith("missed_") or k == "alloc_failed"), 0)
# the workload's distinct (side, port): the server's and the n clients'
distinct = n + 1
refused = {}
for s in SIDES:
    got = stat.get("ports_refused_" + s)
    refused[s] = got
    check("ports_refused_%s = %d ports - %d numbered rows" % (s, distinct, len(numbered[s])),
          got, distinct - len(numbered[s]))
check("ports refused = %d (side, port) - %d entries" % (2 * distinct, entries),
      sum(int(refused[s] or 0) for s in SIDES), 2 * distinct - entries)
check("row order", " ".join(seq), "local local other remote remote other")

bad = []
for s in SIDES:
    for p, vals in numbered[s]:
        if p != port and p not in clients:
            bad.append("%s %d: not a port of the workload" % (s, p))
            continue
        t = truth(s, p)
        want = {c: t.get(c, 0) for c in ("time_wait", "close_wait", "fin_wait2",
                                          "tw_overflow")}
        got = {c: vals.get(c) for c in want}
        if got != want:
            bad.append("%s %d: %s, want %s" % (s, p, got, want))
check("numbered rows hold their ports' exact counts", "; ".join(bad) or "yes", "yes")

ss = [l.split() for l in open(prefix + ".ss") if l.strip()]
ss2 = [l.split() for l in open(prefix + ".ss2") if l.strip()]
# ss -Htan state time-wait: Recv-Q Send-Q Local:Port Peer:Port
tw_clients = set()
for f in ss:
    lp, rp = int(f[2].rsplit(":", 1)[1]), int(f[3].rsplit(":", 1)[1])
    tw_clients.add(rp if lp == port else lp)
check("ss: TIME-WAIT sockets, distinct client ports among them",
      "%d %d" % (len(ss), len(tw_clients & clients)), "%d %d" % (n, n))

for s in SIDES:
    allrows = [v for _, v in numbered[s]] + ([other[s]] if s in other else [])
    sums = {c: sum(v[c] for v in allrows) for c in cols}
    names = ("time_wait", "close_wait", "fin_wait2", "close_wait_now",
             "fin_wait2_now", "tw_overflow", "close_wait_oldest_ms")
    check("%s sums of %s" % (s, " ".join(names)),
          " ".join(str(sums[c]) for c in names), "%d %d %d 0 0 0 0" % (n, n, n))
    # each TIME_WAIT entry is still there or ended one way; still there:
    # between what ss showed just before and just after the read
    ended = sums["tw_expired"] + sums["tw_reused"] + sums["tw_killed"]
    now = sums["time_wait_now"]
    check("%s time_wait_now + tw_expired + tw_reused + tw_killed, "
          "time_wait_now within ss's TIME-WAIT before and after" % s,
          "%d %s" % (now + ended, "yes" if len(ss2) <= now <= len(ss) else
                     "no: %d, ss %d then %d" % (now, len(ss), len(ss2))),
          "%d yes" % n)

# The folded view.  The ports that fold: the clients' ports on the remote
# side, first seen on the server's accepted sockets (a listener's child
# folds its peer's port); the clients bind their ports by hand, so none
# folds on the local side.  The fold row holds every port that folds,
# refused by the caps or not, and its counts are the clients' exact ones;
# the overflow row holds the refused ports that do not fold; the numbered
# rows are tcp_closestat's that do not fold.
def folds(s, p):
    return s == "remote" and p in clients

CUM = ("time_wait", "close_wait", "fin_wait2", "tw_overflow")
def cum(ports, s):
    return " ".join("%s %d" % (c, sum(truth(s, p).get(c, 0) for p in ports))
                    for c in CUM)

fhead, frows = table(prefix + ".folded")
fcols = fhead[6:]
for s in SIDES:
    fr = [r for r in frows if r[0] == s]
    vals = lambda r: dict(zip(fcols, map(int, r[6:])))
    num = [(int(r[1]), vals(r)) for r in fr if r[2] == "0" and r[1] != "other"]
    want = [(p, v) for p, v in numbered[s] if not folds(s, p)]
    check("%s: folded: numbered rows are tcp_closestat's that do not fold" % s,
          "yes" if num == want else "ports %s, want %s" %
          ([p for p, _ in num], [p for p, _ in want]), "yes")
    every = clients | {port}
    for what, rows, ports in (
            ("fold row (port 0)", [r for r in fr if r[2] == "1"],
             [p for p in every if folds(s, p)]),
            ("overflow row", [r for r in fr if r[1] == "other"],
             [p for p in every if not folds(s, p) and p not in dict(numbered[s])])):
        got = ["ports %s %s" % (r[3], " ".join("%s %d" % (c, vals(r)[c]) for c in CUM))
               for r in rows]
        check("%s: folded: %s: ports, counts" % (s, what), " | ".join(got) or "none",
              "ports %d %s" % (len(ports), cum(ports, s)) if ports else "none")
EOF
	while IFS=$'\t' read -r line got want; do
		check_eq "$line" "$got" "$want"
	done <"$TMP/$name.checks"
	return 0
}

# 4-17: A, full at max_ports; 18-31: B, at the global cap's remainder
# shellcheck disable=SC2086
set -- $A_WORK
check_ns A "$1" "$2" "$3" "$4" $MAX_PORTS $MAX_PORTS ||
	ktap_diag "A: cannot check the namespace's files"
# shellcheck disable=SC2086
set -- $B_WORK
check_ns B "$1" "$2" "$3" "$4" $((MAX_PORTS_GLOBAL - MAX_PORTS)) $MAX_PORTS_GLOBAL ||
	ktap_diag "B: cannot check the namespace's files"

# 32: both namespaces gone, the global count falls back to the root
# namespace's (no entry: nothing on TCP in it)
busywait 10000 test "$(awk '$1 == "ports_global" { print $2 }' "$STAT")" = 0
check_eq "ports_global once A and B are gone" \
	"$(awk '$1 == "ports_global" || $1 == "ports" { print $2 }' "$STAT" | xargs)" "0 0"

# 33: the defaults
rmmod tcp_closestat && insmod "$KO"
check_eq "default max_ports, max_ports_global" \
	"$(awk '$1 == "max_ports" || $1 == "max_ports_global" { print $2 }' "$STAT" | xargs)" \
	"16384 262144"

ktap_finish
