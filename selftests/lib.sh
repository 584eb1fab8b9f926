# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the shell selftests: KTAP output in the format of the kernel's
# tools/testing/selftests/kselftest/ktap_helpers.sh, a few checks, where
# the programs under test are, and the cleanup at exit.
#
#	. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#	ktap_header
#	require_tools
#	make_tmp
#	setup_ns A || ktap_bail_out "cannot create a network namespace"
#	ktap_plan 2
#	check_eq "time_wait on port 20001" "$got" 100
#	ktap_skip "ipv6" "no ::1"
#	ktap_finish
#
# Exit codes as in kselftest.h: 0 all passed, 1 a failure, 4 all skipped.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

KTAP_TESTNO=1
KTAP_PLAN=0
KTAP_CNT_PASS=0
KTAP_CNT_FAIL=0
KTAP_CNT_SKIP=0

ktap_header() {
	echo "TAP version 13"
}

# ktap_plan N
ktap_plan() {
	KTAP_PLAN=$1
	echo "1..$KTAP_PLAN"
}

# ktap_diag MESSAGE...: a diagnostic line.
ktap_diag() {
	echo "# $*"
}

__ktap_result() {
	echo "$1 $KTAP_TESTNO $2${3:+ # $3}"
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
}

# ktap_ok NAME
ktap_ok() {
	__ktap_result ok "$1"
	KTAP_CNT_PASS=$((KTAP_CNT_PASS + 1))
}

# ktap_fail NAME
ktap_fail() {
	__ktap_result "not ok" "$1"
	KTAP_CNT_FAIL=$((KTAP_CNT_FAIL + 1))
}

# ktap_skip NAME REASON
ktap_skip() {
	__ktap_result ok "$1" "SKIP${2:+ $2}"
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
}

# ktap_skip_all REASON: nothing can run here; exits.
ktap_skip_all() {
	echo "1..0 # SKIP $*"
	exit "$KSFT_SKIP"
}

# ktap_bail_out REASON: stop, counting the tests not run as failed; exits.
ktap_bail_out() {
	echo "Bail out! $*"
	ktap_totals
	exit "$KSFT_FAIL"
}

ktap_totals() {
	echo "# Totals: pass:$KTAP_CNT_PASS fail:$KTAP_CNT_FAIL xfail:0 xpass:0 skip:$KTAP_CNT_SKIP error:0"
}

# ktap_finish: print the totals and exit 0 if every planned test passed or
# was skipped (4 if all were skipped), 1 otherwise, including when the
# number of results differs from the plan.
ktap_finish() {
	local done=$((KTAP_TESTNO - 1))

	if [ "$done" -ne "$KTAP_PLAN" ]; then
		echo "# planned $KTAP_PLAN tests, ran $done"
	fi
	ktap_totals
	if [ "$KTAP_CNT_FAIL" -ne 0 ] || [ "$done" -ne "$KTAP_PLAN" ]; then
		exit "$KSFT_FAIL"
	elif [ "$KTAP_CNT_SKIP" -eq "$KTAP_PLAN" ] && [ "$KTAP_PLAN" -gt 0 ]; then
		exit "$KSFT_SKIP"
	fi
	exit "$KSFT_PASS"
}

# ktap_result NAME CMD...: ok if CMD succeeds, not ok otherwise.
ktap_result() {
	local name=$1
	shift

	if "$@"; then
		ktap_ok "$name"
	else
		ktap_fail "$name"
	fi
}

# check_eq NAME GOT WANT: one result; on mismatch a diagnostic says why.
# Returns 0 if equal, 1 otherwise.
check_eq() {
	if [ "$2" = "$3" ]; then
		ktap_ok "$1"
		return 0
	fi
	ktap_diag "$1: got '$2', want '$3'"
	ktap_fail "$1"
	return 1
}

# check_ge NAME GOT MIN: like check_eq for a lower bound (integers).
check_ge() {
	if [ "$2" -ge "$3" ] 2>/dev/null; then
		ktap_ok "$1"
		return 0
	fi
	ktap_diag "$1: got '$2', want at least '$3'"
	ktap_fail "$1"
	return 1
}

# Tests made of several checks: expect() records each mismatch, with the
# two values, and finish() gives the test's result.
#
#	fails=0
#	expect "rows" "$(wc -l <file)" 3
#	finish

# expect WHAT GOT WANT: one check inside a test; says why on mismatch.
expect() {
	[ "$2" = "$3" ] && return 0
	ktap_diag "$1: got:"
	printf '%s\n' "$2" | sed 's/^/#   | /'
	ktap_diag "$1: want:"
	printf '%s\n' "$3" | sed 's/^/#   | /'
	fails=$((fails + 1))
	return 1
}

fails=0

# finish: the result of a test from its expect()s.
finish() {
	[ "$fails" -eq 0 ]
}

# while_still TRIES READ CMD...: run CMD, a test made of expect()s
# comparing a tool with a file the module writes, until it passes.  A
# failure counts only if READ (a command printing that file) gave the same
# output before and after CMD: a file that moved under the comparison (a
# gauge changing as a TIME_WAIT socket expires) is compared again, up to
# TRIES times.  Needs $TMP.
while_still() {
	local tries=$1 read=$2 i
	shift 2

	for i in $(seq "$tries"); do
		$read >"$TMP/still.before"
		fails=0
		"$@" && [ "$fails" -eq 0 ] && return 0
		$read >"$TMP/still.after"
		cmp -s "$TMP/still.before" "$TMP/still.after" && return 1
		ktap_diag "the module's file changed during the comparison, again"
	done
	return 1
}

# busywait TIMEOUT_MS CMD...: poll CMD every 10 ms until it succeeds or
# TIMEOUT_MS have passed; returns CMD's last status. Use instead of sleep.
busywait() {
	local timeout_ms=$1 start now
	shift

	start=$(date +%s%3N)
	while true; do
		"$@" && return 0
		now=$(date +%s%3N)
		if [ $((now - start)) -ge "$timeout_ms" ]; then
			"$@"
			return
		fi
		sleep 0.01
	done
}

# tcs_col SIDE PORT COLUMN NETNS: a value of /proc/net/tcp_closestat in
# NETNS, the column found by its name; 0 if there is no such row.
tcs_col() {
	ip netns exec "$4" awk -v s="$1" -v p="$2" -v c="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == s && $2 == p { v = $idx[c] }
		END { print v + 0 }' /proc/net/tcp_closestat
}

# tcs_total COLUMN SIDE NETNS: a column of /proc/net/tcp_closestat in NETNS,
# summed over the rows of SIDE.
tcs_total() {
	ip netns exec "$3" awk -v c="$1" -v side="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$1 == side { s += $idx[c] }
		END { print s + 0 }' /proc/net/tcp_closestat
}

# tcpext NAME NETNS: a TcpExt counter of /proc/net/netstat in NETNS.
tcpext() {
	ip netns exec "$2" awk -v k="$1" '$1 == "TcpExt:" {
		if (!n) { for (i = 2; i <= NF; i++) idx[$i] = i; n = 1; next }
		print $idx[k] }' /proc/net/netstat
}

# require_cmd CMD...: skip the whole test unless every CMD is available.
require_cmd() {
	local cmd

	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 ||
			ktap_skip_all "$cmd not available"
	done
}

# Network namespaces made by setup_ns are deleted by cleanup_ns, at exit
# (see below) or earlier if a test calls it.
TCS_NAMESPACES=""

# setup_ns VAR...: create a namespace per VAR, named after it with a unique
# suffix, with lo up; the name is stored in VAR.
setup_ns() {
	local var name

	for var in "$@"; do
		name="tcs-$var-$$-$RANDOM"
		ip netns add "$name" || return 1
		ip -n "$name" link set lo up || return 1
		TCS_NAMESPACES="$TCS_NAMESPACES $name"
		eval "$var=\$name"
	done
}

cleanup_ns() {
	local ns

	for ns in $TCS_NAMESPACES; do
		ip netns del "$ns" 2>/dev/null
	done
	TCS_NAMESPACES=""
}

# The programs the tests drive, from the TCS_* variables run_guest.sh sets,
# with the same defaults for a test run by hand in a built tree:
#
#	REPO	the repository (above selftests/)
#	KO	tcp_closestat.ko for the running kernel (TCS_KO)
#	CS	closestat, in the directory TCS_TOOLS (tools/)
#	CHURN	the workload driver, selftests/churn.c (TCS_CHURN)
#	PY	the Python that runs the tests' checks of JSON and the like
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck disable=SC2034
KO=${TCS_KO:-$REPO/build/$(uname -r)/tcp_closestat.ko}
CS=${TCS_TOOLS:-$REPO/tools}/closestat
CHURN=${TCS_CHURN:-$REPO/build/selftests/churn}
# shellcheck disable=SC2034
PY=/usr/bin/python3

# require_tools: skip the whole test unless closestat and churn are built.
require_tools() {
	if [ ! -x "$CS" ] || [ ! -x "$CHURN" ]; then
		ktap_skip_all "build tools/closestat and selftests/churn first (make tools; make -C selftests)"
	fi
}

# make_tmp: a fresh directory for the test's files, in TMP, named after the
# test (/tmp/closestat_tool.XXXXXX); removed at exit.
TMP=
make_tmp() {
	local name=${0##*/}

	TMP=$(mktemp -d "/tmp/${name%.sh}.XXXXXX") ||
		ktap_bail_out "cannot create a temporary directory"
}

# At exit, however the test ends: its own cleanup() first, if it defines
# one (to stop what it started, in the namespaces too), then the
# namespaces setup_ns made and the directory make_tmp made.
__tcs_exit() {
	if declare -F cleanup >/dev/null; then
		cleanup
	fi
	cleanup_ns
	if [ -n "$TMP" ]; then
		rm -rf "$TMP"
	fi
}
trap __tcs_exit EXIT
