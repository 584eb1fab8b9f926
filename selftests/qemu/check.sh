#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the selftests on each kernel and sum up:
#
#   selftests/qemu/check.sh KVER...
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

main() {
	local kver log rc passed failed skipped complete
	local total_passed=0 total_failed=0 total_skipped=0

	[[ $# -ge 1 ]] || { echo "usage: ${0##*/} KVER..." >&2; exit 2; }

	for kver in "$@"; do
		log=$REPO/build/qemu/$kver/check.ktap
		mkdir -p "${log%/*}"
		echo "=== selftests on $kver ==="
		rc=0
		"$REPO/selftests/qemu/run.sh" "$kver" selftests/run_guest.sh |
			tee "$log" || rc=$?
		read -r passed failed skipped complete < <(count_ktap <"$log")
		if [[ $complete -eq 0 ]]; then
			echo "=== $kver: the run did not complete (exit status $rc) ==="
			failed=$((failed + 1))
		elif [[ $rc -ne 0 && $failed -eq 0 ]]; then
			echo "=== $kver: exit status $rc ==="
			failed=$((failed + 1))
		fi
		echo "=== $kver: $passed passed, $failed failed, $skipped skipped ==="
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

	[[ $total_skipped -eq 0 ]] || echo "check: $total_skipped skipped"
	echo "check: $total_passed passed, $total_failed failed"
	[[ $total_failed -eq 0 ]]
}

main "$@"
