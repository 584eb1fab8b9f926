#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every selftest in the test guest (selftests/qemu/run.sh KVER
# selftests/run_guest.sh), printing KTAP as the kernel's kselftest runner
# does: one result per test, the test's own KTAP nested under "# ".
#
#   1      load tcp_closestat.ko (insmod $TCS_KO)
#   2..N+1 the tests in build/selftests/tests.list, in order, each run from
#          the repository root with the module loaded, under a timeout of
#          TCS_TEST_TIMEOUT seconds (default 600)
#   N+2    unload the module (rmmod)
#   N+3    the kernel log since step 1 has no WARNING, BUG or Oops
#
# Exits 0 only if all passed (or were skipped).

set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly REPO
readonly LIST=$REPO/build/selftests/tests.list
readonly TEST_TIMEOUT=${TCS_TEST_TIMEOUT:-600}
readonly SKIP_RC=4 TIMEOUT_RC=124

export TCS_KO=$REPO/build/$(uname -r)/tcp_closestat.ko
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

# The kernel log written since the marker, without the marker line.
kmsg_since() {
	dmesg | sed -n "/$1/,\$p" | sed 1d
}

main() {
	local tests=() marker t bad out

	if [[ -r $LIST ]]; then
		while read -r t; do
			[[ -n $t ]] && tests+=("$t")
		done <"$LIST"
	fi

	echo "TAP version 13"
	echo "1..$((${#tests[@]} + 3))"
	echo "# kernel $(uname -r)"

	marker="run_guest: start $$ $RANDOM"
	echo "$marker" >/dev/kmsg

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

	bad=$(kmsg_since "$marker" | grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace:' || true)
	if [[ -z $bad ]]; then
		result ok "kernel log clean"
	else
		echo "$bad" | sed 's/^/# /'
		result "not ok" "kernel log clean"
	fi

	[[ $failed -eq 0 ]]
}

main "$@"
