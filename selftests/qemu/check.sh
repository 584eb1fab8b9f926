#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the selftests on each kernel and sum up:
#
#   selftests/qemu/check.sh KVER...
#
# The guest runs the tests of the list file TCS_TEST_LIST names (default
# build/selftests/tests.list).  KVER "debug" is the debug kernel
# (selftests/qemu/run.sh): there the default list is
# build/selftests/tests-debug.list (the kselftest_harness test, fault
# injection, a short stress), each test under a timeout of
# TCS_TEST_TIMEOUT seconds (default 2400), the simultaneous-close test
# running TCS_SIMULTANEOUS_ROUNDS rounds (default 5, not 30).
#
# For "debug", TCS_DEBUG_PREPARE, if set, is a command run first (`make
# check' sets it to `make module-debug', which waits for the debug kernel
# it started building in the background); if it fails, the debug kernel
# counts as one failure and is not booted.
#
# For each KVER: a header line, then the KTAP that selftests/run_guest.sh
# prints in a guest booted by selftests/qemu/run.sh. Last line:
#
#   check: N passed, N failed
#
# What is counted: every leaf result, i.e. each "ok"/"not ok" line, at any
# nesting depth ("# " or four spaces per level), that has no subtests of its
# own. "ok ... # SKIP" is a skip, counted in neither number (skips are
# listed on the line before the last). A result that has subtests is
# counted only when it failed while none of its subtests did (a test that
# crashed, timed out or exited non-zero after passing everything it
# reported): then as one failure. A kernel whose run did not complete (fewer
# top-level results than planned: a panic, a WARN, a timeout) counts as one
# more failure, as does a run that exited non-zero with no failure counted.
#
# TCS_CHECK_KTAP names further KTAP logs (space-separated; `make check'
# sets it to make check-package's), counted the same way after the
# kernels; one that is missing or did not complete is one more failure.
#
# Exit status 0 only if nothing failed on any kernel or log.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
readonly REPO
# TCS_REPORTS: what a kernel prints when something is wrong
# shellcheck source=selftests/kernel_reports.sh
. "$REPO/selftests/kernel_reports.sh"

# count_ktap < KTAP: print "PASSED FAILED SKIPPED COMPLETE".
count_ktap() {
	awk '
	{
		line = $0
		depth = 0
		while (sub(/^(# |    )/, "", line))
			depth++
	}
	depth == 0 && plan == "" && match(line, /^1\.\.[0-9]+/) {
		plan = substr(line, 4, RLENGTH - 3) + 0
		next
	}
	line ~ /^(not )?ok [0-9]+([ \t]|$)/ {
		bad = (line ~ /^not /)
		skip = (line ~ /#[ \t]*[Ss][Kk][Ii][Pp]/)
		if (!kids[depth]) {
			# A leaf.
			if (skip)
				skipped++
			else if (bad)
				failed++
			else
				passed++
			mine = bad && !skip
		} else if (bad && !skip && kidfail[depth] == 0) {
			failed++
			mine = 1
		} else {
			mine = kidfail[depth]
		}
		# Subtests deeper than this result belonged to it.
		for (d in kids)
			if (d + 0 >= depth) {
				kids[d] = 0
				kidfail[d] = 0
			}
		if (depth > 0) {
			kids[depth - 1] = 1
			kidfail[depth - 1] += mine
		} else
			top++
	}
	END {
		complete = (plan != "" && top >= plan) ? 1 : 0
		printf "%d %d %d %d\n", passed, failed, skipped, complete
	}'
}

# show_failures LOG...: each failed result of the KTAP LOGs with the
# diagnostic lines just before it, and the first lines of any kernel
# report (TCS_REPORTS), so that the end of the output (all that a CI log
# may keep) says what failed and why.
show_failures() {
	local log

	for log in "$@"; do
		[[ -r $log ]] || continue
		REPORTS=$TCS_REPORTS awk -v name="$log" '
		function flush() { n = 0 }
		/(^|[ #])not ok [0-9]+/ && !/#[ \t]*[Ss][Kk][Ii][Pp]/ {
			if (!shown++)
				print "--- failed in " name ":"
			for (i = 0; i < n; i++)
				print ctx[i]
			print
			flush()
			next
		}
		/(^|[ #])ok [0-9]+/ { flush(); next }
		$0 ~ ENVIRON["REPORTS"] && reports < 3 {
			if (!shown++)
				print "--- failed in " name ":"
			print
			reports++
			next
		}
		{
			if (n == 8) {
				for (i = 1; i < n; i++)
					ctx[i - 1] = ctx[i]
				n--
			}
			ctx[n++] = $0
		}' "$log" | head -n 80
	done
}

main() {
	local kver log rc passed failed skipped complete t0 logs=""
	local total_passed=0 total_failed=0 total_skipped=0

	[[ $# -ge 1 ]] || { echo "usage: ${0##*/} KVER..." >&2; exit 2; }

	for kver in "$@"; do
		log=$REPO/build/qemu/$kver/check.ktap
		mkdir -p "${log%/*}"
		echo "=== selftests on $kver ==="
		rc=0
		t0=$SECONDS
		[[ $kver != debug || -z ${TCS_DEBUG_PREPARE:-} ]] ||
			echo "=== $kver: $TCS_DEBUG_PREPARE (waits for the debug kernel's build; log: ${log%/*}/prepare.log) ==="
		if [[ $kver == debug && -n ${TCS_DEBUG_PREPARE:-} ]] &&
		   ! bash -c "$TCS_DEBUG_PREPARE" >"${log%/*}/prepare.log" 2>&1; then
			tail -n 20 "${log%/*}/prepare.log"
			echo "=== $kver: '$TCS_DEBUG_PREPARE' failed (${log%/*}/prepare.log) ==="
			echo "=== $kver: 0 passed, 1 failed, 0 skipped ($((SECONDS - t0)) s) ==="
			total_failed=$((total_failed + 1))
			continue
		fi
		logs+=" $log"
		if [[ $kver == debug ]]; then
			TCS_TEST_LIST=${TCS_TEST_LIST:-$REPO/build/selftests/tests-debug.list} \
			TCS_SIMULTANEOUS_ROUNDS=${TCS_SIMULTANEOUS_ROUNDS:-5} \
			TCS_TEST_TIMEOUT=${TCS_TEST_TIMEOUT:-2400} \
				"$REPO/selftests/qemu/run.sh" "$kver" selftests/run_guest.sh |
				tee "$log" || rc=$?
		else
			"$REPO/selftests/qemu/run.sh" "$kver" selftests/run_guest.sh |
				tee "$log" || rc=$?
		fi
		read -r passed failed skipped complete < <(count_ktap <"$log")
		if [[ $complete -eq 0 ]]; then
			echo "=== $kver: the run did not complete (exit status $rc) ==="
			failed=$((failed + 1))
		elif [[ $rc -ne 0 && $failed -eq 0 ]]; then
			echo "=== $kver: exit status $rc ==="
			failed=$((failed + 1))
		fi
		echo "=== $kver: $passed passed, $failed failed, $skipped skipped ($((SECONDS - t0)) s) ==="
		total_passed=$((total_passed + passed))
		total_failed=$((total_failed + failed))
		total_skipped=$((total_skipped + skipped))
	done

	for log in ${TCS_CHECK_KTAP:-}; do
		passed=0 failed=0 skipped=0 complete=0
		[[ -r $log ]] &&
			read -r passed failed skipped complete < <(count_ktap <"$log")
		if [[ $complete -eq 0 ]]; then
			echo "=== $log: missing or did not complete ==="
			failed=$((failed + 1))
		fi
		echo "=== $log: $passed passed, $failed failed, $skipped skipped ==="
		total_passed=$((total_passed + passed))
		total_failed=$((total_failed + failed))
		total_skipped=$((total_skipped + skipped))
	done

	# shellcheck disable=SC2086
	[[ $total_failed -eq 0 ]] || show_failures $logs ${TCS_CHECK_KTAP:-}
	[[ $total_skipped -eq 0 ]] || echo "check: $total_skipped skipped"
	echo "check: $total_passed passed, $total_failed failed"
	[[ $total_failed -eq 0 ]]
}

main "$@"
