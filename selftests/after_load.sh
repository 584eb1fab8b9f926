#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Nothing missed right after load: the module freshly loaded (no port seen
# yet, in any namespace), four workloads at once in one fresh namespace,
# every connection on ports the module has never seen, on both vCPUs:
#
#   churn -o server -4 -p 23001 -n 50   the server closes first
#   churn -o server -6 -p 23002 -n 50
#   churn -o client -4 -p 23003 -n 50   the client closes first
#   churn -o client -6 -p 23004 -n 50
#
# Each connection enters FIN_WAIT2 and TIME_WAIT on the end that closes
# first and CLOSE_WAIT on the other, so each server port's local and remote
# rows hold exactly 50 of the states of its end and of its peers, and each
# side's column sums exactly 200 of each state.  No probe hit may be
# missed (every missed_* line of tcp_closestat_stat is 0): the first sight
# of a port is in the probes' path, and a long one loses other events
# that land on the same CPU meanwhile.
#
# Ports 23000-23099 belong to this test.  It reloads the module and leaves
# it loaded with its defaults.

set -u

# shellcheck source=selftests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROC=/proc/net/tcp_closestat
STAT=/proc/net/tcp_closestat_stat
N=50
PIDS=

# Run by lib.sh at exit, before it deletes the namespaces.
cleanup() {
	local pid

	for pid in $PIDS; do
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	# leave the module loaded with its defaults, as the runner expects
	lsmod | grep -q '^tcp_closestat ' || insmod "$KO"
}

ktap_header
require_cmd ip
[ -r "$KO" ] || ktap_bail_out "$KO missing"
[ -x "$CHURN" ] || ktap_bail_out "$CHURN missing"
make_tmp
# the namespace exists before the load: nothing in it has been seen
setup_ns F || ktap_bail_out "cannot create a network namespace"
ktap_plan 11

# 1: a fresh module
rmmod tcp_closestat 2>/dev/null
if insmod "$KO" && ip netns exec "$F" test -r "$PROC" &&
   [ "$(ip netns exec "$F" wc -l <"$PROC")" = 1 ]; then
	ktap_ok "fresh module, no row"
else
	ktap_bail_out "cannot load a fresh module"
fi

# 2: the four workloads at once, right after the load
rcs=
for w in "server -4 23001" "server -6 23002" "client -4 23003" "client -6 23004"; do
	# shellcheck disable=SC2086
	set -- $w
	ip netns exec "$F" "$CHURN" -q -o "$1" "$2" -p "$3" -n "$N" \
		>"$TMP/churn.$3" 2>&1 &
	PIDS="$PIDS $!"
done
for pid in $PIDS; do
	wait "$pid"
	rcs="$rcs $?"
done
PIDS=
cat "$TMP"/churn.* | sed 's/^/# churn: /'
check_eq "four workloads of $N connections, every close completed" "$rcs" " 0 0 0 0"

ip netns exec "$F" cat "$PROC" >"$TMP/table"
ip netns exec "$F" cat "$STAT" >"$TMP/stat"

# row SIDE PORT: "time_wait close_wait fin_wait2" of a row of the table
row() {
	awk -v s="$1" -v p="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == s && $2 == p { tw = $idx["time_wait"]; cw = $idx["close_wait"]
				     fw = $idx["fin_wait2"] }
		END { print tw + 0, cw + 0, fw + 0 }' "$TMP/table"
}

# sums SIDE: the same columns summed over every row of SIDE
sums() {
	awk -v s="$1" '
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == s { tw += $idx["time_wait"]; cw += $idx["close_wait"]
			  fw += $idx["fin_wait2"] }
		END { print tw + 0, cw + 0, fw + 0 }' "$TMP/table"
}

# 3-6: each server port: its own end's states on the local side, its
# peers' on the remote side ("time_wait close_wait fin_wait2")
check_eq "server-first IPv4: local, remote 23001" \
	"$(row local 23001), $(row remote 23001)" "$N 0 $N, 0 $N 0"
check_eq "server-first IPv6: local, remote 23002" \
	"$(row local 23002), $(row remote 23002)" "$N 0 $N, 0 $N 0"
check_eq "client-first IPv4: local, remote 23003" \
	"$(row local 23003), $(row remote 23003)" "0 $N 0, $N 0 $N"
check_eq "client-first IPv6: local, remote 23004" \
	"$(row local 23004), $(row remote 23004)" "0 $N 0, $N 0 $N"

# 7-8: every side sums to the four workloads' 4 x N of each state, the
# clients' ports included
check_eq "local sums of time_wait close_wait fin_wait2" "$(sums local)" \
	"$((4 * N)) $((4 * N)) $((4 * N))"
check_eq "remote sums of time_wait close_wait fin_wait2" "$(sums remote)" \
	"$((4 * N)) $((4 * N)) $((4 * N))"

# 9: nothing refused: every row a port's
check_eq "no overflow row" "$(awk 'NR > 1 && $2 == "other"' "$TMP/table")" ""

# 10-11: no probe hit missed, no allocation failed
missed=$(awk '/^missed_/ && $2 != 0' "$TMP/stat")
[ -n "$missed" ] && ktap_diag "missed: $(tr '\n' ' ' <<<"$missed")"
check_eq "every missed_* line is 0" \
	"$(awk '/^missed_/ { n++; s += $2 } END { print (n > 0 ? s : "no missed_ line") }' "$TMP/stat")" 0
check_eq "alloc_failed 0" "$(awk '$1 == "alloc_failed" { print $2 }' "$TMP/stat")" 0

ktap_finish
