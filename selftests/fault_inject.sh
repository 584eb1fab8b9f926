#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module's counts when its allocations fail: every count it loses is
# one it said it lost.
#
#   namespace F (lo): churn -4 -o server -p 23001 xN, then
#                     churn -6 -o server -p 23002 xN, while failslab and
#                     fail_page_alloc fail PROBABILITY % of the
#                     non-sleeping allocations made from the module's code
#
# The probes make a port's entry on its first event, with GFP_NOWAIT; a
# failure is counted in alloc_failed of /proc/net/tcp_closestat_stat, and
# that event, and those after it until an allocation succeeds, in the
# side's overflow row ("other").  So a side's columns, summed over its
# rows, equal the truth, and for every port's row 0 <= truth - count <=
# alloc_failed, where the truth is churn's connection count (checked
# against the namespace's Tcp ActiveOpens and PassiveOpens), and, for the
# gauges and fates, ss read before and after the module's
# table.  The gauges also depend on tracking, whose own allocation failures
# are counted in "untracked": their bound is alloc_failed + untracked.
#
# Needs the debug kernel (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC,
# CONFIG_FAULT_INJECTION_DEBUG_FS and, to confine the failures to the
# module, CONFIG_FAULT_INJECTION_STACKTRACE_FILTER); skipped elsewhere.
# Ports 23000-23999 belong to this test.

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=${HERE%/selftests}
# shellcheck source=selftests/lib.sh
. "$HERE/lib.sh"
# shellcheck source=selftests/kernel_reports.sh
. "$HERE/kernel_reports.sh"

CHURN=${TCS_CHURN:-$REPO/build/selftests/churn}
PROC=/proc/net/tcp_closestat
PROC_STAT=/proc/net/tcp_closestat_stat
DEBUGFS=/sys/kernel/debug
FAULTS="failslab fail_page_alloc"
ATTRS="probability interval times space verbose ignore-gfp-wait task-filter stacktrace-depth require-start require-end"
N=${TCS_FAULT_CONNECTIONS:-200}
PROBABILITY=${TCS_FAULT_PROBABILITY:-20}
P4=23001
P6=23002
SAVED=

# Put every attribute back as it was.
restore_faults() {
	local line

	while read -r line; do
		[ -n "$line" ] && echo "${line#* }" >"${line%% *}" 2>/dev/null
	done <<<"$SAVED"
	SAVED=
}

cleanup() {
	restore_faults
	cleanup_ns
}
trap cleanup EXIT

# fault_set ATTR VALUE: the same attribute of both fault types.
fault_set() {
	local f

	for f in $FAULTS; do
		echo "$2" >"$DEBUGFS/$f/$1" || return 1
	done
}

in_f() {
	ip netns exec "$F" "$@"
}

# col SIDE PORT COLUMN: a value of the snapshot of /proc/net/tcp_closestat.
col() {
	awk -v s="$1" -v p="$2" -v c="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == s && $2 == p { v = $idx[c] }
		END { print v + 0 }' "$TMP/table"
}

# col_others SIDE COLUMN: COLUMN summed over the rows of SIDE whose port is
# neither server port (the clients' ephemeral ports).
col_others() {
	awk -v s="$1" -v c="$2" -v p4=$P4 -v p6=$P6 '
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == s && $2 != p4 && $2 != p6 { v += $idx[c] }
		END { print v + 0 }' "$TMP/table"
}

# col_side SIDE COLUMN: COLUMN summed over every row of SIDE.
col_side() {
	awk -v s="$1" -v c="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == s { v += $idx[c] }
		END { print v + 0 }' "$TMP/table"
}

statval() {
	awk -v k="$1" '$1 == k { print $2 }' "$TMP/stat"
}

# snmp FILE GROUP FIELD: one counter of /proc/net/snmp or netstat in F.
snmp() {
	in_f awk -v g="$2:" -v f="$3" '
		$1 == g && !hdr { for (i = 2; i <= NF; i++) idx[$i] = i; hdr = 1; next }
		$1 == g && hdr { print $idx[f] + 0; exit }' "/proc/net/$1"
}

tw_sockets() {
	in_f ss -Htan state time-wait "( sport = :$1 )" | wc -l
}

# within NAME TRUTH COUNT BOUND: ok if 0 <= TRUTH - COUNT <= BOUND.
within() {
	local lost=$(($2 - $3))

	ktap_diag "$1: truth $2, module $3, lost $lost (at most $4)"
	ktap_result "$1" test "$lost" -ge 0 -a "$lost" -le "$4"
}

# bracket NAME BEFORE AFTER COUNT BOUND: the truth moved from BEFORE to
# AFTER (monotonically) while the module's COUNT was read; ok if COUNT
# lies between them, at most BOUND below.
bracket() {
	local lo hi

	if [ "$2" -le "$3" ]; then lo=$2 hi=$3; else lo=$3 hi=$2; fi
	ktap_diag "$1: truth $2 before, $3 after, module $4 (at most $5 lost)"
	ktap_result "$1" test "$4" -le "$hi" -a "$4" -ge $((lo - $5))
}

ktap_header
[ -d $DEBUGFS/failslab ] && [ -d $DEBUGFS/fail_page_alloc ] ||
	ktap_skip_all "no $DEBUGFS/failslab or fail_page_alloc: needs CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS (the debug kernel: make check-debug)"
[ -e $DEBUGFS/failslab/require-start ] ||
	ktap_skip_all "no $DEBUGFS/failslab/require-start: needs CONFIG_FAULT_INJECTION_STACKTRACE_FILTER to fail the module's allocations only"
require_cmd ip ss awk
[ -x "$CHURN" ] || ktap_skip_all "$CHURN missing: make -C selftests"
read -r _ size _ _ _ base _ < <(grep '^tcp_closestat ' /proc/modules)
[ -n "${base:-}" ] || ktap_skip_all "tcp_closestat is not loaded"

ktap_plan 22
TMP=$(mktemp -d /tmp/fault_inject.XXXXXX)
trap 'cleanup; rm -rf "$TMP"' EXIT
setup_ns F || ktap_bail_out "cannot create a network namespace"
marker=$(kmsg_mark fault_inject)

# The module's core (text, then its data) starts at /proc/modules' address
# and spans coresize bytes.  Nothing else runs from there but the kprobe
# trampolines that call the module's handlers.
end=$(printf '0x%x' $((base + size)))
for f in $FAULTS; do
	for a in $ATTRS; do
		SAVED="$SAVED$DEBUGFS/$f/$a $(cat "$DEBUGFS/$f/$a")
"
	done
done
ktap_diag "failing $PROBABILITY % of the atomic allocations made from $base-$end"
ok=1
fault_set verbose 0 &&			# a failure logs nothing
fault_set ignore-gfp-wait Y &&		# only non-sleeping allocations
fault_set task-filter N &&		# softirq context too
fault_set interval 1 &&
fault_set times -1 &&
fault_set space 0 &&
fault_set stacktrace-depth 32 &&
fault_set require-start "$base" &&
fault_set require-end "$end" &&
fault_set probability "$PROBABILITY" || ok=0
ktap_result "fault injection armed" test $ok -eq 1

in_f "$CHURN" -q -4 -n "$N" -o server -p $P4
ktap_result "churn -4 x$N completes under fault injection" test $? -eq 0
in_f "$CHURN" -q -6 -n "$N" -o server -p $P6
ktap_result "churn -6 x$N completes under fault injection" test $? -eq 0
fault_set probability 0

# The truth before and after the module's files are read.
tw4_b=$(tw_sockets $P4) tw6_b=$(tw_sockets $P6)
in_f cat $PROC >"$TMP/table"
in_f cat $PROC_STAT >"$TMP/stat"
tw4_a=$(tw_sockets $P4) tw6_a=$(tw_sockets $P6)
active=$(snmp snmp Tcp ActiveOpens)
passive=$(snmp snmp Tcp PassiveOpens)

failed=$(statval alloc_failed)
untracked=$(statval untracked)
ktap_diag "alloc_failed $failed, untracked $untracked, ports $(statval ports)"
check_ge "alloc_failed > 0" "${failed:-0}" 1
failed=${failed:-0}
check_eq "Tcp ActiveOpens and PassiveOpens = churn's connections" \
	"$active $passive" "$((2 * N)) $((2 * N))"

# The server's sockets: local port P4/P6, FIN_WAIT2 then TIME_WAIT; the
# clients': remote port P4/P6, CLOSE_WAIT.
within "local $P4 time_wait" "$N" "$(col local $P4 time_wait)" "$failed"
within "local $P4 fin_wait2" "$N" "$(col local $P4 fin_wait2)" "$failed"
within "remote $P4 close_wait" "$N" "$(col remote $P4 close_wait)" "$failed"
within "local $P6 time_wait" "$N" "$(col local $P6 time_wait)" "$failed"
within "local $P6 fin_wait2" "$N" "$(col local $P6 fin_wait2)" "$failed"
within "remote $P6 close_wait" "$N" "$(col remote $P6 close_wait)" "$failed"
# ... and seen from their ephemeral ports, one row each
within "local ephemeral ports close_wait" "$((2 * N))" \
	"$(col_others local close_wait)" "$failed"
within "remote ephemeral ports time_wait" "$((2 * N))" \
	"$(col_others remote time_wait)" "$failed"

# ... and no count lost: what a port's row misses is in "other"
for side in local remote; do
	for c in time_wait close_wait fin_wait2; do
		check_eq "$side $c summed over the side's rows = churn's" \
			"$(col_side $side $c)" "$((2 * N))"
	done
done

bracket "local $P4 + $P6 time_wait_now = ss" "$((tw4_b + tw6_b))" \
	"$((tw4_a + tw6_a))" \
	"$(($(col local $P4 time_wait_now) + $(col local $P6 time_wait_now)))" \
	"$((failed + ${untracked:-0}))"
# Every tracked TIME_WAIT entry has one fate or is still there; the
# entries not tracked (untracked, or lost with their port) have none.
tw=$(($(col local $P4 time_wait) + $(col local $P6 time_wait)))
ends=0
for c in tw_expired tw_reused tw_killed time_wait_now; do
	ends=$((ends + $(col local $P4 $c) + $(col local $P6 $c)))
done
within "time_wait = tw_expired + tw_reused + tw_killed + time_wait_now" \
	"$tw" "$ends" "$((failed + ${untracked:-0}))"

bad=$(kernel_reports_since "$marker")
[ -z "$bad" ] || printf '%s\n' "$bad" | sed 's/^/# /'
check_eq "no kernel report" "$(printf '%s' "$bad" | grep -c .)" 0

ktap_finish
