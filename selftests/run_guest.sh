#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every selftest in the test guest (selftests/qemu/run.sh KVER
# selftests/run_guest.sh), printing KTAP as the kernel's kselftest runner
# does: one result per test, the test's own KTAP nested under "# ".
#
#   1      load tcp_closestat.ko (insmod $TCS_KO)
#   2..N+1 the tests in build/selftests/tests.list (or the list file
#          TCS_TEST_LIST names), in order, each run from the repository
#          root with the module loaded, under a timeout of TCS_TEST_TIMEOUT
#          seconds (default 600)
#   N+2    unload the module (rmmod)
#   N+3    the kernel log since step 1 has no report: WARNING, BUG (KASAN,
#          might_sleep), Oops, UBSAN, ODEBUG, kmemleak, a backtrace
#   N+4    only where kmemleak is built in (the debug kernel): after two
#          scans, /sys/kernel/debug/kmemleak lists no leak (before step
#          1, kmemleak's own scanning is stopped, and what a first scan
#          finds, the boot's leaks, is cleared)
#
# Exits 0 only if all passed (or were skipped).

set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly REPO
readonly LIST=${TCS_TEST_LIST:-$REPO/build/selftests/tests.list}
readonly TEST_TIMEOUT=${TCS_TEST_TIMEOUT:-600}
readonly SKIP_RC=4 TIMEOUT_RC=124
readonly KMEMLEAK=/sys/kernel/debug/kmemleak

# shellcheck source=selftests/kernel_reports.sh
. "$REPO/selftests/kernel_reports.sh"

export TCS_KO=${TCS_KO:-$REPO/build/$(uname -r)/tcp_closestat.ko}
export TCS_TOOLS=$REPO/tools
export TCS_CHURN=$REPO/build/selftests/churn

testno=0
failed=0

result() {
	local status=$1 name=$2 directive=${3:-}

	testno=$((testno + 1))
	echo "$status $testno $name${directive:+ # $directive}"
	[[ $status == ok ]] || failed=$((failed + 1))
}

# run_test PATH: one test, its output nested under "# ".
run_test() {
	local test=$1 name rc

	name="selftests: tcp_closestat: ${test##*/}"
	echo "# $name"
	if [[ ! -x $test ]]; then
		echo "# $test is missing or not executable"
		result "not ok" "$name"
		return
	fi
	# stdbuf: keep the test's stdout line-buffered in the pipe, so that
	# its stdout and stderr stay in order.
	(cd "$REPO" && timeout -k 10 "$TEST_TIMEOUT" stdbuf -oL -eL "$test" 2>&1) |
		sed -u 's/^/# /'
	rc=${PIPESTATUS[0]}
	case $rc in
	0)		result ok "$name" ;;
	"$SKIP_RC")	result ok "$name" SKIP ;;
	"$TIMEOUT_RC")	result "not ok" "$name" "TIMEOUT $TEST_TIMEOUT seconds" ;;
	*)		result "not ok" "$name" "exit=$rc" ;;
	esac
}

# kmemleak reports an object only once it is 5 s old and was found
# unreferenced by a scan; its documentation advises scanning more than once
# against false positives.  Prints the leaks, one block each.
kmemleak_leaks() {
	echo scan >"$KMEMLEAK" || return
	sleep 6
	echo scan >"$KMEMLEAK" || return
	cat "$KMEMLEAK"
}

# Before the first test: stop kmemleak's own scans (its thread would log
# its findings at a time of its choosing), scan once, and mark what that
# scan found, the boot's leaks, as not to be reported again ("clear" only
# greys objects a scan has already reported).
kmemleak_baseline() {
	echo scan=off >"$KMEMLEAK" &&
		echo scan >"$KMEMLEAK" &&
		echo clear >"$KMEMLEAK"
}

main() {
	local tests=() marker t bad out extra=3 leaks

	if [[ -r $LIST ]]; then
		while read -r t; do
			[[ -n $t ]] && tests+=("$t")
		done <"$LIST"
	fi

	[[ -w $KMEMLEAK ]] && extra=4
	echo "TAP version 13"
	echo "1..$((${#tests[@]} + extra))"
	echo "# kernel $(uname -r)"

	# before the marker: the baseline scan logs what the boot leaked
	if [[ $extra -eq 4 ]] && ! kmemleak_baseline; then
		echo "# kmemleak: no baseline scan: leaks found below may be the boot's"
	fi
	marker=$(kmsg_mark run_guest)

	if [[ ${#tests[@]} -eq 0 ]]; then
		echo "# $LIST missing or empty: run make -C selftests first"
		result "not ok" "selftests: tcp_closestat: tests.list"
		echo "Bail out! no tests to run"
		exit 1
	fi
	if ! out=$(insmod "$TCS_KO" 2>&1); then
		echo "# insmod $TCS_KO: $out"
		result "not ok" "insmod tcp_closestat.ko"
		echo "Bail out! the module did not load"
		exit 1
	fi
	result ok "insmod tcp_closestat.ko"

	for t in "${tests[@]}"; do
		run_test "$t"
	done

	if out=$(rmmod tcp_closestat 2>&1); then
		result ok "rmmod tcp_closestat"
	else
		echo "# rmmod: $out"
		result "not ok" "rmmod tcp_closestat"
	fi

	if [[ $extra -eq 4 ]]; then
		leaks=$(kmemleak_leaks 2>&1)
	fi

	# dmesg has the pr_info() lines the console's loglevel hides
	bad=$(kernel_reports_since "$marker")
	if [[ -z $bad ]]; then
		result ok "kernel log clean"
	else
		echo "$bad" | sed 's/^/# /'
		result "not ok" "kernel log clean"
	fi

	if [[ $extra -eq 4 ]]; then
		if [[ -z $leaks ]]; then
			result ok "kmemleak: no leak"
		else
			echo "# $(grep -c '^unreferenced object' <<<"$leaks") unreferenced objects:"
			echo "$leaks" | head -n 200 | sed 's/^/# /'
			result "not ok" "kmemleak: no leak"
		fi
	fi

	[[ $failed -eq 0 ]]
}

main "$@"
