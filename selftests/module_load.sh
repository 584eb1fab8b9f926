#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Loading and unloading tcp_closestat: under traffic, with bad and with
# small module parameters.
#
#   namespace L (lo): churn -o server -p 19000, running through 10
#                     rmmod/insmod cycles; while loaded, tw_overflow must
#                     equal the growth of TcpExt TCPTimeWaitOverflow (no
#                     probe counts anything while only some are armed)
#   namespace T (lo): churn -o server -p 19100 x200 with max_tracked=16
#   namespace Z (lo): churn -o server -p 19200 x100 with max_tracked=0
#
# Ports 19000-19999 belong to this test.  It starts and ends with the module
# loaded with default parameters.

set -u

# shellcheck source=selftests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=selftests/kernel_reports.sh
. "$(dirname "${BASH_SOURCE[0]}")/kernel_reports.sh"

PROC=/proc/net/tcp_closestat
KPROBES=/sys/kernel/debug/kprobes/list
CYCLES=10
CHURN_PID=

# Run by lib.sh at exit, before it deletes the namespaces.
cleanup() {
	[ -n "$CHURN_PID" ] && kill "$CHURN_PID" 2>/dev/null && wait "$CHURN_PID"
	# leave the module loaded with its defaults, as the runner expects
	lsmod | grep -q '^tcp_closestat ' || insmod "$KO"
}

# statval NAME NETNS: a line of /proc/net/tcp_closestat_stat.
statval() {
	ip netns exec "$2" awk -v k="$1" '$1 == k { print $2 }' \
		/proc/net/tcp_closestat_stat
}

# Nothing else registers kprobes in the test guest.
probes_left() {
	wc -l <"$KPROBES"
}

ktap_header
ktap_plan 13
[ -r "$KO" ] || ktap_bail_out "$KO missing"
[ -x "$CHURN" ] || ktap_bail_out "$CHURN missing"
[ -r "$KPROBES" ] || ktap_bail_out "debugfs not mounted"
setup_ns L T Z || ktap_bail_out "cannot create network namespaces"

# 1-2: out-of-range and malformed parameters fail to load, with a message
rmmod tcp_closestat || ktap_bail_out "cannot unload the module"
marker=$(kmsg_mark module_load)
insmod "$KO" max_tracked=16777217 2>/dev/null
msg=$(kernel_log_since "$marker" | grep -o "max_tracked must be .*")
check_eq "max_tracked=16777217 refused with a message" \
	"$(test -e $PROC && echo loaded || echo refused): $msg" \
	"refused: max_tracked must be a number from 0 to 16777216, not '16777217'"
insmod "$KO" max_tracked=lots 2>/dev/null
check_eq "max_tracked=lots refused" \
	"$(test -e $PROC && echo loaded || echo refused)" refused

# 3-6: load and unload while connections churn; nothing is left behind,
# and nothing is counted that did not happen
# room for every timewait socket: a real overflow would make the
# comparison below depend on when the probes were armed
ip netns exec "$L" sysctl -qw net.ipv4.tcp_max_tw_buckets=1000000
ip netns exec "$L" "$CHURN" -q -d 600 -o server -p 19000 &
CHURN_PID=$!
bad=0
overflow=0
tw_overflow=0
for i in $(seq "$CYCLES"); do
	ov0=$(tcpext TCPTimeWaitOverflow "$L")
	insmod "$KO" || bad=$((bad + 1))
	busywait 2000 ip netns exec "$L" test -r $PROC || bad=$((bad + 1))
	# some connections closed while loaded, the first ones during the load
	busywait 10000 test "$(tcs_col local 19000 time_wait "$L")" -ge 20 ||
		bad=$((bad + 1))
	tw_overflow=$((tw_overflow + $(tcs_total tw_overflow local "$L")))
	overflow=$((overflow + $(tcpext TCPTimeWaitOverflow "$L") - ov0))
	rmmod tcp_closestat || bad=$((bad + 1))
	if [ -e $PROC ] || [ "$(probes_left)" != 0 ]; then
		bad=$((bad + 1))
	fi
done
check_eq "$CYCLES load/unload cycles under traffic" "$bad" 0
check_eq "tw_overflow equals TCPTimeWaitOverflow growth while loaded" \
	"$tw_overflow" "$overflow"
check_eq "no kprobe left after rmmod" "$(probes_left)" 0
kill "$CHURN_PID"
wait "$CHURN_PID" 2>/dev/null
CHURN_PID=
check_eq "no /proc entry left after rmmod" \
	"$(ls /proc/net/ | grep -c tcp_closestat)" 0

# 7: a reload starts from zero (no traffic in Z yet)
insmod "$KO"
check_eq "reload starts from zero" \
	"$(ip netns exec "$Z" wc -l <$PROC)" 1

# 8-10: max_tracked=16: tracking fills up, entry counts stay exact
rmmod tcp_closestat
insmod "$KO" max_tracked=16
ip netns exec "$T" "$CHURN" -q -n 200 -o server -p 19100 ||
	ktap_diag "churn failed"
check_eq "time_wait exact with tracking full" \
	"$(tcs_col local 19100 time_wait "$T") $(tcs_col local 19100 fin_wait2 "$T") $(tcs_col remote 19100 close_wait "$T")" \
	"200 200 200"
check_ge "untracked counted" "$(statval untracked "$T")" 1
tw_now=$(tcs_col local 19100 time_wait_now "$T")
check_eq "time_wait_now is bounded by tracking" \
	"$([ "$tw_now" -lt 200 ] && [ "$(statval tracked "$T")" -ge "$tw_now" ] && echo yes)" yes

# 11-12: max_tracked=0: no tracking; every entry is counted as untracked
rmmod tcp_closestat
insmod "$KO" max_tracked=0
ip netns exec "$Z" "$CHURN" -q -n 100 -o server -p 19200 ||
	ktap_diag "churn failed"
check_eq "max_tracked=0: entries exact" \
	"$(tcs_col local 19200 time_wait "$Z") $(tcs_col local 19200 time_wait_now "$Z")" "100 0"
# each connection: CLOSE_WAIT (client), FIN_WAIT2 and TIME_WAIT (server)
check_eq "max_tracked=0: untracked = 3 x connections" "$(statval untracked "$Z")" 300

# 13: back to the defaults
rmmod tcp_closestat
insmod "$KO"
check_eq "default max_tracked" "$(statval max_tracked "$Z")" 65536

ktap_finish
