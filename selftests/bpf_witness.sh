#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A second implementation as witness: tcs_witness (selftests/witness/, a
# BPF program on the sock:inet_sock_set_state tracepoint and on fentry/
# fexit of the timewait functions) counts the same per-port entries as
# the module, by other means.  It runs beside the module through every
# workload below, each in a fresh namespace; then, in each namespace, every
# (side, port) either of them counted must have the same time_wait,
# close_wait, fin_wait2 and tw_overflow in both.
#
#   workload            namespace      churn -p PORT ...
#   server first        SF             -o server -n 100 -p 22001
#   client first        CF             -o client -n 100 -p 22002
#   IPv6, v4-mapped     V6             -6 -o server, -6 -o client, -m -o server
#                                      -n 50 each, -p 22003..22005
#   RST closes          RS             -o rst, -o unread; -n 50, -p 22006/7
#   orphaned FIN_WAIT2  OR             -o orphan -n 50 -p 22008 (the peer's
#                                      FIN switches it to TIME_WAIT);
#                                      tcp_fin_timeout=1, -o orphan -H 3000
#                                      -n 20 -p 22009 (it expires first)
#   overflow            OV             tcp_max_tw_buckets=10, -o server
#                                      -n 40 -p 22010
#   simultaneous close  SC             netem delay 20ms on lo, -o both
#                                      -n 20 -p 22011
#   many ports          MP             -o client -n 1000 -b 40000-40999
#                                      -p 22012; -o server -n 20 on each
#                                      of 22100..22104
#   two namespaces      A, B at once   -o server in A, -o client in B, both
#                                      -n 100 -p 22020 -b 41000-41099
#
# Ports 22000-22999 and 40000-41999 belong to this test, in its own
# namespaces.  Needs the module loaded, BTF, and tcs_witness built by
# make -C selftests.

set -u

# shellcheck source=selftests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WITNESS=${TCS_WITNESS:-$REPO/build/selftests/tcs_witness}
PROC=/proc/net/tcp_closestat
PROC_STAT=/proc/net/tcp_closestat_stat
WITNESS_PID=
W_IN=
W_OUT=

# stop_witness: end its input; it exits.  Returns its exit status.
stop_witness() {
	local rc

	eval "exec $W_IN>&-"
	wait "$WITNESS_PID"
	rc=$?
	WITNESS_PID=
	return $rc
}

# Run by lib.sh at exit, before it deletes the namespaces.
cleanup() {
	[ -n "$WITNESS_PID" ] && stop_witness
	wait 2>/dev/null
}

ktap_header
require_cmd ip tc stat
[ -x "$CHURN" ] || ktap_skip_all "$CHURN missing: make -C selftests"
[ -x "$WITNESS" ] || ktap_skip_all "$WITNESS missing: make -C selftests"
[ -r /sys/kernel/btf/vmlinux ] || ktap_skip_all "no kernel BTF"
[ -r "$PROC" ] || ktap_skip_all "$PROC missing: module not loaded"
make_tmp

WORKLOADS="server_first client_first ipv6 rst orphan overflow simultaneous many_ports two_namespaces"
ktap_plan $(($(echo $WORKLOADS | wc -w) + 2))

modprobe sch_netem 2>/dev/null
setup_ns SF CF V6 RS OR OV SC MP A B || ktap_bail_out "cannot create network namespaces"

# missed SUM: the module's missed_* lines and alloc_failed, summed (global).
module_missed() {
	awk '$1 ~ /^missed_/ || $1 == "alloc_failed" { n += $2 } END { print n + 0 }' \
		"$PROC_STAT"
}
missed_before=$(module_missed)

# Start the witness; its stdin and stdout are the coprocess' pipes.
coproc WITNESS { exec "$WITNESS" 2>"$TMP/witness.err"; }
WITNESS_PID=$!
W_IN=${WITNESS[1]}
W_OUT=${WITNESS[0]}
if ! read -r -t 300 ready hashdance <&"$W_OUT" || [ "$ready" != ready ]; then
	sed 's/^/# witness: /' "$TMP/witness.err"
	ktap_bail_out "tcs_witness did not attach"
fi
ktap_diag "witness attached, TIME_WAIT entries seen at $hashdance"

churn() {
	local ns=$1
	shift

	ip netns exec "$ns" "$CHURN" -q "$@" || ktap_diag "churn $* in $ns failed"
}

# The workloads, in the order of the table above.
churn "$SF" -o server -n 100 -p 22001

churn "$CF" -o client -n 100 -p 22002

churn "$V6" -6 -o server -n 50 -p 22003
churn "$V6" -6 -o client -n 50 -p 22004
churn "$V6" -m -o server -n 50 -p 22005

churn "$RS" -o rst -n 50 -p 22006
churn "$RS" -o unread -n 50 -p 22007

churn "$OR" -o orphan -n 50 -p 22008
ip netns exec "$OR" sysctl -qw net.ipv4.tcp_fin_timeout=1
churn "$OR" -o orphan -H 3000 -n 20 -p 22009

ip netns exec "$OV" sysctl -qw net.ipv4.tcp_max_tw_buckets=10
churn "$OV" -o server -n 40 -p 22010

ip netns exec "$SC" tc qdisc add dev lo root netem delay 20ms ||
	ktap_diag "no netem: the closes in $SC will not cross"
churn "$SC" -o both -n 20 -p 22011

churn "$MP" -o client -n 1000 -b 40000-40999 -p 22012
for port in $(seq 22100 22104); do
	churn "$MP" -o server -n 20 -p "$port"
done

churn "$A" -o server -n 100 -p 22020 -b 41000-41099 &
pid_a=$!
churn "$B" -o client -n 100 -p 22020 -b 41000-41099 &
wait "$pid_a" $!

echo dump >&"$W_IN"
while read -r -t 300 line <&"$W_OUT"; do
	[ "$line" = end ] && break
	echo "$line"
done >"$TMP/dump"
[ "$line" = end ] || ktap_bail_out "no dump from the witness"

# rows: "side port time_wait close_wait fin_wait2 tw_overflow" for every
# (side, port) with one of them non-zero, sorted.
module_rows() {
	ip netns exec "$1" awk '
		NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{
			v = $c["time_wait"] " " $c["close_wait"] " " \
			    $c["fin_wait2"] " " $c["tw_overflow"]
			if (v != "0 0 0 0")
				print $1, $2, v
		}' "$PROC" | sort
}

witness_rows() {
	awk -v ns="$1" '$1 == "row" && $2 == ns && $5 $6 $7 $8 != "0000" {
		print $3, $4, $5, $6, $7, $8 }' "$TMP/dump" | sort
}

# sum ROWS COLUMN: the sum of one column (3 time_wait ... 6 tw_overflow).
sum() {
	awk -v c="$2" '{ n += $c } END { print n + 0 }' "$1"
}

# agree NAME NS...: one result: the module and the witness agree on every
# (side, port) of each namespace, and counted something (except in RS:
# a socket reset instead of closed enters none of the states).
agree() {
	local name=$1 ns inum label pairs=0 bad=0
	shift

	for ns in "$@"; do
		label=${ns#tcs-}
		label=${label%%-*}
		inum=$(ip netns exec "$ns" stat -L -c %i /proc/self/ns/net)
		module_rows "$ns" >"$TMP/module.$ns"
		witness_rows "$inum" >"$TMP/witness.$ns"
		pairs=$((pairs + $(cut -d' ' -f1,2 "$TMP/module.$ns" "$TMP/witness.$ns" |
				   sort -u | wc -l)))
		if ! diff -u --label module --label witness "$TMP/module.$ns" \
			"$TMP/witness.$ns" >"$TMP/diff"; then
			ktap_diag "$name: namespace $label (side port time_wait close_wait fin_wait2 tw_overflow):"
			sed -n 's/^\([-+][^-+]\)/#   \1/p' "$TMP/diff"
			bad=1
		fi
		ktap_diag "$name: $label: time_wait $(sum "$TMP/module.$ns" 3)," \
			"close_wait $(sum "$TMP/module.$ns" 4)," \
			"fin_wait2 $(sum "$TMP/module.$ns" 5)," \
			"tw_overflow $(sum "$TMP/module.$ns" 6) (both sides)"
	done
	if [ "$pairs" -eq 0 ] && [ "$name" != rst ]; then
		ktap_diag "$name: nothing counted"
		bad=1
	fi
	ktap_diag "$name: $pairs (side, port) pairs compared, $([ $bad -eq 0 ] && echo "all equal" || echo "NOT all equal")"
	if [ "$bad" -eq 0 ]; then
		ktap_ok "witness agrees: $name"
	else
		ktap_fail "witness agrees: $name"
	fi
}

agree server_first "$SF"
agree client_first "$CF"
agree ipv6 "$V6"
agree rst "$RS"
agree orphan "$OR"
agree overflow "$OV"
agree simultaneous "$SC"
agree many_ports "$MP"
agree two_namespaces "$A" "$B"

# Nothing was lost on either side, so the counts above are complete.
lost=$(awk '$1 == "lost" { print $2 }' "$TMP/dump")
wmissed=$(awk '$1 == "missed" { n += $3 } END { print n + 0 }' "$TMP/dump")
check_eq "no event lost: module missed/alloc_failed, witness lost/missed" \
	"$(($(module_missed) - missed_before)) $lost $wmissed" "0 0 0"

stop_witness
check_eq "witness exits cleanly" "$?" 0

ktap_finish
