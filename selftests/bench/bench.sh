#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: what tcp_closestat costs, side by side with a bare kprobe
# module, bpftrace and ss (issue 5; see Documentation/performance.rst).
#
#   selftests/bench/bench.sh [--smoke] KVER...
#
# Needs build/<kver>/tcp_closestat.ko (make modules-all) and tools/closestat
# (make tools); builds the floor module into build/<kver>/bench-floor/ and
# a static churn, twfill and contend into build/bench/.  Before any guest,
# on the host (it is userspace), contend measures shared counters against
# per-CPU ones on two CPUs (build/bench/contend.txt, in the summary).
# Per kernel it boots these guests with selftests/qemu/run.sh:
#   VM_ICOUNT=1  the hot path (guest time counts instructions);
#   VM_ICOUNT=1  read cost and memory (a second guest, to run in parallel);
#   VM_ICOUNT=1  the cold start, and the hot path with TIME_WAIT sockets
#                alive (a guest each);
#   VM_SMP=1, 2, 8  the bytes per (side, port) of one churn run.
# Guests of different kernels run in parallel (BENCH_JOBS, default: the
# number of host CPUs).  Logs and the summary go to build/bench/.
#
# --smoke: one small guest per kernel running every phase with tiny
# sizes; fails if any step of the pipeline breaks.  No timing is judged.
#
# Environment: BENCH_ROUNDS (7), BENCH_CONNS (1000 connections per run),
# BENCH_CONTEND (1; 0 skips contend),
# BENCH_TIMEOUT (3600 s per guest), BENCH_JOBS, BENCH_BOOTS ("icount cold
# twalive read memcpu": which guests to boot; the summary
# is made from whatever logs build/bench/ holds for the kernels).

set -eu
set -o pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)
BUILD=${BUILD:-$REPO/build}
OUT=$BUILD/bench
SMOKE=0
ROUNDS=${BENCH_ROUNDS:-7}
CONNS=${BENCH_CONNS:-1000}
JOBS=${BENCH_JOBS:-$(nproc)}
BOOTS=${BENCH_BOOTS-icount cold twalive read memcpu}

die() { echo "bench: $*" >&2; exit 1; }

if [ "${1:-}" = --smoke ]; then
	SMOKE=1
	shift
fi
[ $# -gt 0 ] || die "usage: bench.sh [--smoke] KVER..."

mkdir -p "$OUT"
# Build into temporary names and rename: a guest of a concurrent run may
# be reading the previous files.
cc -static -O2 -Wall -Wextra -Werror -DSECONDS_DIGITS=6 -o "$OUT/churn.$$" selftests/churn.c ||
	die "cannot build a static churn (libc6-dev has libc.a)"
mv -f "$OUT/churn.$$" "$OUT/churn"
cc -O2 -Wall -Wextra -Werror -o "$OUT/twfill.$$" selftests/bench/twfill.c
mv -f "$OUT/twfill.$$" "$OUT/twfill"
cc -O2 -Wall -Wextra -Werror -pthread -o "$OUT/contend.$$" selftests/bench/contend.c
mv -f "$OUT/contend.$$" "$OUT/contend"
[ -x tools/closestat ] || die "tools/closestat missing: run make tools"
for k in "$@"; do
	[ -f "$BUILD/$k/tcp_closestat.ko" ] ||
		die "$BUILD/$k/tcp_closestat.ko missing: run make modules-all"
	d=$BUILD/$k/bench-floor
	mkdir -p "$d"
	for f in selftests/bench/floor/Kbuild selftests/bench/floor/tcs_floor.c \
		 module/compat.h module/compat.mk \
		 uapi/linux/tcp_closestat_hooks.h; do
		cmp -s "$f" "$d/${f##*/}" || cp "$f" "$d/"
	done
	make -s -C "/lib/modules/$k/build" M="$d" W=1 modules ||
		die "cannot build the floor module for $k"
done

export TCS_BUILD=$BUILD
# The guests run a copy: editing selftests/bench/guest.sh while a guest's bash
# reads it would change the script under its feet.
cp selftests/bench/guest.sh "$OUT/guest.sh.$$"
mv -f "$OUT/guest.sh.$$" "$OUT/guest.sh"
GUEST=${OUT#$REPO/}/guest.sh

# run_guest LOG ENV... -- ARGS...: one guest, output to LOG.
run_guest() {
	local log=$1; shift
	local envs=()

	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	if env "${envs[@]}" selftests/qemu/run.sh "$@" > "$log" 2>&1; then
		return 0
	fi
	echo "bench: guest run failed, see $log" >&2
	tail -n 20 "$log" >&2
	return 1
}

# Run the queued guest jobs, at most $JOBS at a time.
jobs_run() {
	local pids=() failed=0 pid

	for job in "${JOBLIST[@]}"; do
		while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
			wait -n || failed=1
		done
		eval "$job" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || failed=1
	done
	return $failed
}

start=$(date +%s)
# Shared counters against per-CPU ones, on the host before the guests load
# it: events back to back (the worst case), then spaced by about a
# microsecond of other work and timed one by one.  As root its threads run
# in SCHED_FIFO (-p, a few seconds), so that other processes of a busy host
# do not preempt them.
if [ "${BENCH_CONTEND:-1}" != 0 ]; then
	fifo=
	[ "$(id -u)" != 0 ] || fifo=-p
	if [ $SMOKE = 1 ]; then
		{ "$OUT/contend" -n 1000 -c 10 -r 1 &&
		  "$OUT/contend" -n 100 -c 10 -r 1 -g 100 -m percpu,atomic; } \
			> "$OUT/contend.txt" || die "contend failed"
	else
		{ "$OUT/contend" $fifo -j &&
		  "$OUT/contend" $fifo -j -n 20000 -g 2000 -m percpu,atomic; } \
			> "$OUT/contend.txt" || die "contend failed"
	fi
	cat "$OUT/contend.txt"
fi

JOBLIST=()
LOGS=()
# The long icount runs first, so that they overlap.
for k in "$@"; do
	if [ $SMOKE = 1 ]; then
		LOGS+=("$OUT/$k.smoke.log")
		JOBLIST+=("run_guest '$OUT/$k.smoke.log' VM_SMP=2 VM_TIMEOUT=600 -- $k $GUEST --smoke --phases 'hot cold twalive read mem memcpu'")
	else
		[[ " $BOOTS " == *" icount "* ]] || continue
		LOGS+=("$OUT/$k.icount.log")
		JOBLIST+=("run_guest '$OUT/$k.icount.log' VM_ICOUNT=1 VM_TIMEOUT=${BENCH_TIMEOUT:-3600} -- $k $GUEST --rounds $ROUNDS --conns $CONNS --phases hot")
	fi
done
for k in "$@"; do
	[ $SMOKE = 0 ] || break
	for b in cold twalive; do
		[[ " $BOOTS " == *" $b "* ]] || continue
		LOGS+=("$OUT/$k.$b.log")
		JOBLIST+=("run_guest '$OUT/$k.$b.log' VM_ICOUNT=1 VM_TIMEOUT=${BENCH_TIMEOUT:-3600} -- $k $GUEST --rounds $ROUNDS --conns $CONNS --phases $b")
	done
done
for k in "$@"; do
	[ $SMOKE = 0 ] || break
	[[ " $BOOTS " == *" read "* ]] || continue
	LOGS+=("$OUT/$k.read.log")
	JOBLIST+=("run_guest '$OUT/$k.read.log' VM_ICOUNT=1 VM_TIMEOUT=${BENCH_TIMEOUT:-3600} -- $k $GUEST --phases 'read mem'")
done
for k in "$@"; do
	[ $SMOKE = 0 ] || break
	[[ " $BOOTS " == *" memcpu "* ]] || continue
	for n in 1 2 8; do
		LOGS+=("$OUT/$k.memcpu$n.log")
		JOBLIST+=("run_guest '$OUT/$k.memcpu$n.log' VM_SMP=$n VM_TIMEOUT=${BENCH_TIMEOUT:-3600} -- $k $GUEST --phases memcpu")
	done
done
echo "bench: ${#JOBLIST[@]} guest runs on $# kernel(s), $JOBS at a time; logs in $OUT"
jobs_run || die "a guest run failed"

if [ $SMOKE = 1 ]; then
	python3 selftests/bench/report.py --smoke "${LOGS[@]}" > "$OUT/smoke.txt" ||
		{ cat "$OUT/smoke.txt"; die "smoke: report failed"; }
	cat "$OUT/smoke.txt"
	echo "bench: smoke passed in $(( $(date +%s) - start )) s"
	exit 0
fi

{
	echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "Host: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs;" \
	     "QEMU $(qemu-system-x86_64 --version | sed -n 's/.*version \([^ ]*\).*/\1/p' | head -1) TCG"
	echo "Kernels: $*"
	echo "Rounds: $ROUNDS; $CONNS connections per run"
	echo "Module: $(git log -1 --format='%h %s' -- module)"
	echo
	python3 selftests/bench/report.py "${LOGS[@]}"
	if [ "${BENCH_CONTEND:-1}" != 0 ]; then
		echo
		echo "Shared counters under contention (contend, on the host):"
		grep -v '^contend ' "$OUT/contend.txt"
	fi
} > "$OUT/summary.txt" || { cat "$OUT/summary.txt"; die "report failed"; }
cat "$OUT/summary.txt"
echo "bench: done in $(( $(date +%s) - start )) s; summary in $OUT/summary.txt"
