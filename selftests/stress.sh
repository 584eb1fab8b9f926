#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Load and unload tcp_closestat CYCLES times (TCS_STRESS_CYCLES, default
# 10; `make stress' runs 100) while everything that can touch it runs:
#
#   namespace S (lo): churn -4 -p 24001 and churn -6 -p 24002, running
#                     through every cycle; readers of every
#                     /proc/net/tcp_closestat* file, resets and garbage
#                     writes to tcp_closestat_ctl, in a loop each
#   init namespace:   readers of every /proc/net/tcp_closestat* file
#   cycle i:          insmod max_tracked=0, 16, 65536 in turn, then
#                     A_i  made after the load, churn -p 24101 x20,
#                          deleted before the unload
#                     B_i  made after the load, churn -p 24102 x20, lives
#                          through the unload and the next load, gets
#                          churn -p 24103 x10 then, deleted while loaded
#                     C_i  made after the load, churn -p 24104 x20,
#                          deleted after the unload, before the next load
#                     rmmod
#
# Checked, exactly: every load reports the max_tracked it was given; a
# namespace's counters equal its own traffic since the load; every garbage
# write to tcp_closestat_ctl is refused; after every unload and at the end
# no kprobe of the module, no /proc/net/tcp_closestat* file and no
# tcs_track slab cache is left; nothing in the kernel log.  Slab of
# /proc/meminfo, and Percpu on a kernel with kmemleak (the debug kernel),
# must end near where they were after the first cycle (see the tolerances
# below).  Ports 24000-24999 belong to this test.
# It ends with the module loaded with its defaults, as the runner expects.

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=${HERE%/selftests}
# shellcheck source=selftests/lib.sh
. "$HERE/lib.sh"
# shellcheck source=selftests/kernel_reports.sh
. "$HERE/kernel_reports.sh"

KO=${TCS_KO:-$REPO/build/$(uname -r)/tcp_closestat.ko}
CHURN=${TCS_CHURN:-$REPO/build/selftests/churn}
CYCLES=${TCS_STRESS_CYCLES:-10}
KPROBES=/sys/kernel/debug/kprobes/list
CTL=/proc/net/tcp_closestat_ctl
MAX_TRACKED="0 16 65536"
# Slab and Percpu may end this many KiB above their level after the first
# cycle (see the checks at the end).
SLAB_TOLERANCE_KB=${TCS_STRESS_SLAB_KB:-2048}
PERCPU_TOLERANCE_KB=${TCS_STRESS_PERCPU_KB:-256}
PIDS=
TMP=

cleanup() {
	local pid

	for pid in $PIDS; do
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	cleanup_ns
	[ -n "$TMP" ] && rm -rf "$TMP"
	# leave the module loaded with its defaults, as the runner expects
	lsmod | grep -q '^tcp_closestat ' || insmod "$KO"
}
trap cleanup EXIT

bg() {
	"$@" &
	PIDS="$PIDS $!"
}

# The loops below run for the whole test, so they fork nothing: reads,
# writes and waits are bash builtins (a fork and exec costs milliseconds
# under emulation, and would starve the rest).  nap waits 0.2 s on a FIFO
# that never delivers.
nap() {
	read -r -t 0.2 -u 9
}

# reader: read every file of the module, forever (they come and go).
reader() {
	local f

	exec 9<>"$TMP/never"
	while :; do
		for f in /proc/net/tcp_closestat*; do
			read -r -d '' _ 2>/dev/null <"$f"
		done
		nap
	done
}

# resetter: reset, forever; a refused reset (the file is gone) is fine.
resetter() {
	exec 9<>"$TMP/never"
	while :; do
		echo reset 2>/dev/null >"$CTL"
		nap
	done
}

# garbage: write what is not a command, forever; count in $TMP/accepted
# each one the module took.
garbage() {
	local long i=0 w

	exec 9<>"$TMP/never"
	printf -v long '%5000s' x
	while :; do
		i=$((i + 1))
		case $((i % 6)) in
		0) w="garbage" ;;
		1) w="reset now" ;;
		2) w="" ;;
		3) w="$long" ;;
		4) w="resetreset" ;;
		# two random bytes and a number
		5) printf -v w '\\x%x\\x%x%d' $((RANDOM % 255 + 1)) \
			$((RANDOM % 255 + 1)) "$RANDOM"
		   # shellcheck disable=SC2059 # expand the escapes
		   printf -v w "$w" ;;
		esac
		# one write(2) per attempt: printf builds the whole buffer
		if [ -e "$CTL" ] && printf '%s\n' "$w" 2>/dev/null >"$CTL"; then
			echo "$i" >>"$TMP/accepted"
		fi
		nap
	done
}

# counts NETNS PORT: "time_wait fin_wait2 close_wait" of a server on PORT
# (its local row's first two, its clients' remote row's last).
counts() {
	ip netns exec "$1" awk -v p="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
		$2 == p && $1 == "local" { tw = $idx["time_wait"]; fw = $idx["fin_wait2"] }
		$2 == p && $1 == "remote" { cw = $idx["close_wait"] }
		END { print tw + 0, fw + 0, cw + 0 }' /proc/net/tcp_closestat
}

# traffic NETNS PORT COUNT: churn there; its counters must then be exactly
# COUNT (the namespace saw no other traffic on PORT since the load).
traffic() {
	local got

	ip netns exec "$1" "$CHURN" -q -n "$3" -o server -p "$2" || {
		echo "cycle $cycle: churn in $1 failed" >>"$TMP/bad"
		return
	}
	got=$(counts "$1" "$2")
	[ "$got" = "$3 $3 $3" ] ||
		echo "cycle $cycle: $1 port $2: time_wait fin_wait2 close_wait $got, want $3 $3 $3" >>"$TMP/bad"
}

# Nothing of the module is left: no kprobe, no file, no slab cache.
leftovers() {
	local left=""

	[ "$(wc -l <$KPROBES)" -eq "$probes0" ] || left="$left kprobes"
	ls /proc/net/ | grep -q '^tcp_closestat' && left="$left /proc/net"
	ip netns exec "$S" ls /proc/net/ | grep -q '^tcp_closestat' &&
		left="$left /proc/net-in-S"
	grep -q '^tcs_track ' /proc/slabinfo && left="$left slabinfo"
	[ -e /sys/kernel/slab/tcs_track ] && left="$left /sys/kernel/slab"
	echo "${left# }"
}

meminfo() {
	awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

# Give back what is only cached: dentries and inodes (not the page cache:
# the guest's programs come over 9p), SLUB's per-CPU and partial slabs, and
# under KASAN the quarantine of freed objects (a cache's shrink empties its
# part of it), which holds up to 1/32 of the memory.
settle_memory() {
	local f

	echo 2 >/proc/sys/vm/drop_caches
	for f in /sys/kernel/slab/*/shrink; do
		echo 1 >"$f" 2>/dev/null
	done
}

# near KEY BASELINE_KB TOLERANCE_KB: is KEY of /proc/meminfo near it?
near() {
	[ "$(meminfo "$1")" -le $(($2 + $3)) ]
}

# settle_near KEY BASELINE_KB TOLERANCE_KB: the namespaces deleted last are
# freed by a workqueue (their TIME_WAIT sockets with them): give them up to
# a minute.
settle_near() {
	local i

	for i in $(seq 12); do
		settle_memory
		near "$@" && return 0
		sleep 5
	done
	return 1
}

ktap_header
ktap_plan 10
[ -r "$KO" ] || ktap_bail_out "$KO missing"
[ -x "$CHURN" ] || ktap_bail_out "$CHURN missing"
[ -r "$KPROBES" ] || ktap_bail_out "debugfs not mounted"
[ -r /proc/slabinfo ] || ktap_bail_out "no /proc/slabinfo"
TMP=$(mktemp -d /tmp/stress.XXXXXX)
: >"$TMP/bad"
: >"$TMP/accepted"
: >"$TMP/left"
: >"$TMP/max_tracked"
marker=$(kmsg_mark stress)

rmmod tcp_closestat || ktap_bail_out "cannot unload the module"
probes0=$(wc -l <$KPROBES)
setup_ns S || ktap_bail_out "cannot create a network namespace"
# At the lowest priority: they take what the rest leaves of the CPUs,
# which under emulation is little enough.
ip netns exec "$S" nice -n 19 "$CHURN" -q -4 -d 86400 -o server -p 24001 &
churn4=$!
ip netns exec "$S" nice -n 19 "$CHURN" -q -6 -d 86400 -o server -p 24002 &
churn6=$!
PIDS="$churn4 $churn6"
mkfifo "$TMP/never"
fns="TMP=$TMP CTL=$CTL; $(declare -f nap reader resetter garbage)"
bg ip netns exec "$S" bash -c "$fns; reader"
bg reader
bg ip netns exec "$S" bash -c "$fns; resetter"
bg ip netns exec "$S" bash -c "$fns; garbage"
ktap_diag "$CYCLES cycles, max_tracked in turn: $MAX_TRACKED"

B_prev=
t0=$SECONDS
read -r -a mts <<<"$MAX_TRACKED"
# the memory baseline, after the first cycle that loaded (0: none did,
# and the memory checks below fail)
slab0=0 percpu0=0
for cycle in $(seq "$CYCLES"); do
	mt=${mts[$(((cycle - 1) % ${#mts[@]}))]}
	if ! insmod "$KO" max_tracked="$mt"; then
		echo "cycle $cycle: insmod max_tracked=$mt failed" >>"$TMP/bad"
		continue
	fi
	got=$(ip netns exec "$S" awk '$1 == "max_tracked" { print $2 }' \
		/proc/net/tcp_closestat_stat)
	[ "$got" = "$mt" ] || echo "cycle $cycle: max_tracked $got, want $mt" >>"$TMP/max_tracked"

	A='' B='' C=''
	setup_ns A B C || echo "cycle $cycle: setup_ns failed" >>"$TMP/bad"
	traffic "$A" 24101 20
	traffic "$B" 24102 20
	traffic "$C" 24104 20
	if [ -n "$B_prev" ]; then
		# made before this load: its counters start at zero now
		traffic "$B_prev" 24103 10
		ip netns del "$B_prev"
	fi
	ip netns del "$A"
	rmmod tcp_closestat || echo "cycle $cycle: rmmod failed" >>"$TMP/bad"
	left=$(leftovers)
	[ -z "$left" ] || echo "cycle $cycle: left after rmmod: $left" >>"$TMP/left"
	ip netns del "$C"
	B_prev=$B
	# only S and B_prev stay: cleanup_ns needs no more
	TCS_NAMESPACES="$S $B_prev"

	if [ "$CYCLES" -le 20 ] || [ $((cycle % 10)) -eq 0 ]; then
		ktap_diag "cycle $cycle/$CYCLES (max_tracked=$mt) done at $((SECONDS - t0)) s"
	fi
	if [ "$slab0" -eq 0 ]; then
		settle_memory
		slab0=$(meminfo Slab)
		percpu0=$(meminfo Percpu)
	fi
done

kill $churn4 $churn6 2>/dev/null
wait $churn4 $churn6 2>/dev/null
for pid in $PIDS; do
	kill "$pid" 2>/dev/null
done
wait 2>/dev/null
PIDS=
[ -n "$B_prev" ] && ip netns del "$B_prev"
TCS_NAMESPACES="$S"

if [ -s "$TMP/bad" ]; then
	sed 's/^/# /' "$TMP/bad" | head -n 30
fi
check_eq "$CYCLES load/unload cycles: every load, traffic count and unload as expected" \
	"$(wc -l <"$TMP/bad")" 0
[ -s "$TMP/max_tracked" ] && sed 's/^/# /' "$TMP/max_tracked" | head -n 10
check_eq "every load reports its max_tracked" "$(wc -l <"$TMP/max_tracked")" 0
check_eq "no garbage write to tcp_closestat_ctl accepted" \
	"$(wc -l <"$TMP/accepted")" 0
[ -s "$TMP/left" ] && sed 's/^/# /' "$TMP/left" | head -n 10
check_eq "nothing left after any unload" "$(wc -l <"$TMP/left")" 0

# After the last unload.
check_eq "no kprobe of the module left" "$(wc -l <$KPROBES)" "$probes0"
check_eq "no /proc/net/tcp_closestat* left" \
	"$(ls /proc/net/ | grep -c '^tcp_closestat')" 0
check_eq "no tcs_track slab cache left" \
	"$(grep -c '^tcs_track ' /proc/slabinfo)" 0

# Slab against its level after the first cycle, once caches were warm.
# A leak of one cycle's tables would be at least a directory (4 KiB) and
# the chunks of the ~40 ephemeral ports of each namespace's traffic (2 KiB
# each, most in chunks of their own) per side: about 150 KiB per namespace
# per cycle, over 3 namespaces and CYCLES cycles, above the tolerance of
# 2 MiB (Slab also moves with unrelated activity).
settle_near Slab "$slab0" "$SLAB_TOLERANCE_KB"
ktap_diag "Slab: $slab0 KiB after cycle 1, $(meminfo Slab) KiB now (tolerance $SLAB_TOLERANCE_KB KiB)"
ktap_result "Slab back near its level after the first cycle" \
	near Slab "$slab0" "$SLAB_TOLERANCE_KB"
# Percpu counts populated pages, not allocations: the allocator keeps
# freed pages populated (a spare empty chunk, chunks it does not judge
# worth depopulating), and on the distributions' kernels every namespace
# holds its own per-CPU MIBs, so there Percpu moves by megabytes with the
# namespaces alone (seen on 6.1: 704 KiB after cycle 1, 2128 KiB at the
# end; in other runs 2272 then 840).  It is a measure only where the
# kernel is small and kmemleak watches every per-CPU allocation: the
# debug kernel, where run_guest.sh's kmemleak scans after the last unload
# find any per-CPU object of the module that was not freed.
if [ -e /sys/kernel/debug/kmemleak ]; then
	settle_near Percpu "$percpu0" "$PERCPU_TOLERANCE_KB"
	ktap_diag "Percpu: $percpu0 KiB after cycle 1, $(meminfo Percpu) KiB now (tolerance $PERCPU_TOLERANCE_KB KiB)"
	ktap_result "Percpu back near its level after the first cycle" \
		near Percpu "$percpu0" "$PERCPU_TOLERANCE_KB"
else
	ktap_diag "Percpu: $percpu0 KiB after cycle 1, $(meminfo Percpu) KiB now"
	ktap_skip "Percpu back near its level after the first cycle" \
		"no kmemleak: per-CPU leaks are checked on the debug kernel"
fi

bad=$(kernel_reports_since "$marker")
[ -z "$bad" ] || printf '%s\n' "$bad" | sed 's/^/# /'
check_eq "no kernel report" "$(printf '%s' "$bad" | grep -c .)" 0

ktap_finish
