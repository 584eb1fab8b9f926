#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# profile.sh: where the hot path's instructions go, for one variant of the
# benchmark.  Runs in a guest booted with VM_ICOUNT=1 (guest time counts
# instructions, so perf's cpu-clock samples are an instruction profile):
#
#   VM_ICOUNT=1 selftests/qemu/run.sh KVER selftests/bench/profile.sh [none|floor|tcp_closestat]
#
# Needs build/bench/churn (selftests/bench/bench.sh builds it) and perf.

set -eu
KVER=$(uname -r)
BUILD=${TCS_BUILD:-$(pwd)/build}
VARIANT=${1:-tcp_closestat}
N=${PROFILE_CONNS:-3000}
W=/tmp/tcs-profile
mkdir -p $W
cp $BUILD/bench/churn $W/churn
sysctl -qw net.ipv4.ip_local_port_range="50000 51999"
case $VARIANT in
floor) insmod $BUILD/$KVER/bench-floor/tcs_floor.ko ;;
tcp_closestat) insmod $BUILD/$KVER/tcp_closestat.ko ;;
none) ;;
*) echo "profile.sh: unknown variant $VARIANT" >&2; exit 2 ;;
esac
$W/churn -q -n 1100 -p 39998		# every client port seen once
ss -K -tan state time-wait > /dev/null 2>&1 || true
perf record -q -e cpu-clock -F 20000 -a -g -o $W/perf.data -- \
	$W/churn -n $N -p 39997 2>&1 | grep -v '^\[' || true
perf report -i $W/perf.data --stdio --no-children --sort sym -g none \
	--percent-limit 0.7 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60
echo "--- by module"
perf report -i $W/perf.data --stdio --no-children --sort dso -g none 2>/dev/null |
	grep -v '^#' | grep -v '^$' | head -8
echo "--- probe machinery and module functions (self)"
perf report -i $W/perf.data --stdio --no-children --sort sym -g none 2>/dev/null |
	grep -E 'tcs_|floor_|kprobe|kretprobe|rethook|ftrace|percpu|pcpu' | head -30
echo "--- callers of memset_erms"
perf report -i $W/perf.data --stdio --no-children --sort sym -S memset_erms \
	-g caller,0.5,callee --percent-limit 1 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40
