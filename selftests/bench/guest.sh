#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest side of selftests/bench/bench.sh: runs inside a QEMU guest booted by
# selftests/qemu/run.sh (as root, in the repository root) and prints one
# "BENCH ..." line per measurement, which bench.sh turns into tables.
#
#   guest.sh [--smoke] [--rounds N] [--conns N] [--phases "hot read mem"]
#
# hot   churn under none / floor / tcp_closestat / bpftrace, interleaved,
#       per round and variant: server-first and client-first close, one
#       process and two; times are churn's own (guest time).  tcs_notrack
#       is tcp_closestat with max_tracked=0 (no per-socket tracking).  Meant for a
#       guest booted with VM_ICOUNT=1, where guest time counts instructions.
# cold  the same runs, without the warm-up: each variant freshly loaded,
#       each run from client ports none of them has seen since (a new
#       2,000-port ephemeral range per run), so tcp_closestat pays the
#       first sight of every (side, port) of the run.
# twalive  as hot, with 10,000 TIME_WAIT sockets left alive from earlier
#       traffic (twfill, on ports of their own) and no flush between the
#       runs, as on a busy host.
# smp   the same as hot with two processes only, for a 2-vCPU guest
#       without icount (wall-clock guest time: noisy).
# read  time to get a per-port TIME_WAIT table with 5,000 and 50,000
#       TIME_WAIT sockets over 1,000 ports: closestat, cat of the module's
#       file, ss | awk, awk over /proc/net/tcp.  With VM_ICOUNT=1 the
#       times count instructions, and TIME_WAIT's 60 s are guest time, so
#       a slow host cannot let them expire before the measurement (as
#       long as the guest never waits for 9p: every program is run once
#       before the sockets are made).
# mem   the module's memory: just loaded, 1,000 and 65,532 active ports
#       (max_ports=65533), 100 namespaces that closed nothing.
# memcpu  the bytes per active (side, port) of one churn run, 2,000
#       connections closed client-first from ephemeral ports of the default
#       range (up to 4,002 entries), in a fresh namespace: run by bench.sh in
#       guests of 1, 2 and 8 vCPUs.
#
# Every step checks its result (the probes fired, the counts are right),
# so that a broken pipeline fails even in --smoke mode.

set -eu
set -o pipefail

KVER=$(uname -r)
REPO=$(pwd)
BUILD=${TCS_BUILD:-$REPO/build}
KO=$BUILD/$KVER/tcp_closestat.ko
FLOOR=$BUILD/$KVER/bench-floor/tcs_floor.ko
TWFILL=$BUILD/bench/twfill
CHURN_BIN=$BUILD/bench/churn
CLOSESTAT=$REPO/tools/closestat
WORK=/tmp/tcs-bench

ROUNDS=7
CONNS=1000
PHASES="hot read mem"
SMOKE=0
TW_SMALL=5000
TW_LARGE=50000
TW_PORTS=1000
MEM_PORTS=65532
MEMCPU_CONNS=2000
TWALIVE=10000
MEM_NETNS=100

while [ $# -gt 0 ]; do
	case $1 in
	--smoke)
		SMOKE=1 ROUNDS=1 CONNS=100 TW_SMALL=200 TW_LARGE=400
		TW_PORTS=20 MEM_PORTS=400 MEM_NETNS=3 MEMCPU_CONNS=100
		TWALIVE=200 ;;
	--rounds) ROUNDS=$2; shift ;;
	--conns) CONNS=$2; shift ;;
	--phases) PHASES=$2; shift ;;
	*) echo "guest.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done

say() { echo "# $*"; }
fail() { echo "BENCH error $*"; echo "guest.sh: $*" >&2; exit 1; }
result() { echo "BENCH $*"; }

mkdir -p $WORK
for f in "$KO" "$FLOOR" "$TWFILL" "$CHURN_BIN"; do
	[ -e "$f" ] || fail "missing $f (run make modules-all tools, bench.sh builds the rest)"
done
# churn runs from tmpfs, statically linked: a page fault served over 9p
# during a timed run would leave the vCPU idle, and with icount's
# sleep=off an idle vCPU jumps guest time to the next timer.
cp $CHURN_BIN $WORK/churn
cp $TWFILL $WORK/twfill
CHURN=$WORK/churn
TWFILL=$WORK/twfill
if grep -qw inet_twsk_hashdance_schedule /proc/kallsyms; then
	HASHDANCE=inet_twsk_hashdance_schedule
else
	HASHDANCE=inet_twsk_hashdance
fi
sed "s/@HASHDANCE@/$HASHDANCE/" selftests/bench/closestat.bt > $WORK/closestat.bt

modprobe -q inet_diag 2>/dev/null || true
modprobe -q tcp_diag 2>/dev/null || true
sysctl -qw net.ipv4.tcp_max_tw_buckets=262144
sysctl -qw net.ipv4.ip_local_port_range="10000 64999"
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug

unload_all() {
	if [ -n "${BT_PID:-}" ]; then
		kill -INT $BT_PID 2>/dev/null || true
		wait $BT_PID 2>/dev/null || true
		BT_PID=
	fi
	! grep -q '^tcs_floor ' /proc/modules || rmmod tcs_floor
	! grep -q '^tcp_closestat ' /proc/modules || rmmod tcp_closestat
}
trap unload_all EXIT

# Value of column NAME in the row (SIDE, PORT) of /proc/net/tcp_closestat.
tcs_value() {
	awk -v side=$1 -v port=$2 -v col=$3 '
		NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$(c["side"]) == side && $(c["port"]) == port { v = $(c[col]) }
		END { print v + 0 }' /proc/net/tcp_closestat
}

stat_value() {
	awk -v k=$1 '$1 == k { print $2 }' /proc/net/tcp_closestat_stat
}

# bpftrace prints "Attaching N probes..." before it attaches them, in
# script order (the tracepoint first): wait until the three kprobes of the
# script are listed too.  bpftrace_stop checks that every probe counted.
bpftrace_start() {
	local log=$WORK/bpftrace.log i=0 list=/sys/kernel/debug/kprobes/list

	: > $log
	bpftrace $WORK/closestat.bt > $log 2>&1 &
	BT_PID=$!
	while ! grep -q Attaching $log ||
	      [ "$(grep -cE " (k  $HASHDANCE|[kr]  tcp_timewait_state_process)\+" $list)" -lt 3 ]; do
		kill -0 $BT_PID 2>/dev/null || fail "bpftrace died: $(cat $log)"
		i=$((i + 1)); [ $i -lt 3000 ] || fail "bpftrace did not attach"
		sleep 0.1
	done
}

# Stop bpftrace and check it counted PORT's TIME_WAIT entries.
bpftrace_stop() {
	local port=$1 want=$2 got i

	# It prints its maps and exits within seconds; if it does not, say
	# where it waits instead of hanging until the guest's timeout.  A
	# SIGINT that arrives while it is still setting up after attaching
	# can go unseen: send it again every 2 s (it only sets a flag).
	for ((i = 0; i < 600; i++)); do
		((i % 20)) || kill -INT $BT_PID 2>/dev/null
		kill -0 $BT_PID 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $BT_PID 2>/dev/null; then
		ps -eo pid,stat,wchan:32,args | grep -v ' \[' >&2 || true
		cat /proc/$BT_PID/stack >&2 2>/dev/null || true
		tail -n 5 $WORK/bpftrace.log >&2
		kill -KILL $BT_PID
		BT_PID=
		fail "bpftrace did not exit 60 s after SIGINT"
	fi
	wait $BT_PID || fail "bpftrace failed: $(cat $WORK/bpftrace.log)"
	BT_PID=
	for m in time_wait_local close_wait_remote; do
		got=$(sed -n "s/^@$m\[$port\]: //p" $WORK/bpftrace.log)
		[ "${got:-0}" = "$want" ] ||
			fail "bpftrace counted ${got:-0} in @$m[$port], want $want"
	done
}

variant_start() {
	case $1 in
	none) ;;
	floor) insmod $FLOOR ;;
	tcp_closestat) insmod $KO ;;
	tcs_notrack) insmod $KO max_tracked=0 ;;
	bpftrace) bpftrace_start ;;
	esac
}

# Stop variant $1 and check it saw the TIME_WAIT entries of port $2.
variant_stop() {
	local v=$1 port=$2 want=$3 got

	case $v in
	none) ;;
	floor)
		rmmod tcs_floor
		got=$(dmesg | sed -n 's/.*tcs_floor: hits.* tcp_set_state \([0-9]*\) .*/\1/p' | tail -1)
		[ "${got:-0}" -gt 0 ] || fail "floor probes did not fire" ;;
	tcp_closestat|tcs_notrack)
		got=$(tcs_value local $port time_wait)
		[ "$got" = "$want" ] ||
			fail "tcp_closestat counted $got TIME_WAIT on port $port, want $want"
		for m in $(awk '/^missed_/ && $2 != 0 { print $1 "=" $2 }' /proc/net/tcp_closestat_stat); do
			result "warn kver=$KVER $m"
		done
		rmmod tcp_closestat ;;
	bpftrace) bpftrace_stop $port $want ;;
	esac
}

# Drop the TIME_WAIT sockets left by a run so that every run starts from
# the same table (ss -K needs CONFIG_INET_DIAG_DESTROY; best effort).
tw_flush() {
	ss -K -tan state time-wait > /dev/null 2>&1 || true
}

phase_hot() {
	run_hot hot "1 2"
}

phase_cold() {
	run_hot cold "1 2"
}

phase_twalive() {
	run_hot twalive "1 2"
}

phase_smp() {
	run_hot smp 2
}

# run_hot TAG PROCS: TAG is hot, smp, cold (no warm-up, new ports per run)
# or twalive (hot with TIME_WAIT sockets alive).
run_hot() {
	local tag=$1 procs_list=$2
	local variants="none floor tcp_closestat tcs_notrack bpftrace" r v i port out
	local order procs lo

	# Ephemeral ports from a range of 2,000 (connect() takes the even ones
	# first), and after each load a warm-up: 1,000 connections from
	# ephemeral ports (after any kprobe module is loaded, the floor's too,
	# the first such run costs about 5 % more than the next ones), then one
	# server-first and one client-first connection from every port of the
	# range (churn -b), so that every client port has its entries before
	# the measured runs: they then measure the steady state, not the first
	# sight of a port (see Documentation/performance.rst for that cost).
	sysctl -qw net.ipv4.ip_local_port_range="50000 51999"
	for r in $(seq 1 $ROUNDS); do
		# Rotate the order of the variants from round to round.
		for v in $(rotate $(( (r - 1) % 5 )) $variants); do
			tw_flush
			variant_start $v
			i=0
			# (a client port the last run left in TIME_WAIT, without
			# SO_REUSEADDR, would refuse the bind; connect() skips
			# ports left in TIME_WAIT by a bind(), so -b goes last)
			if [ $tag != cold ]; then
				$CHURN -q -n 1000 -o server -p 39996 &&
				$CHURN -q -n 2000 -o server -p 39998 -b 50000-51999 &&
				$CHURN -q -n 2000 -o client -p 39997 -b 50000-51999 ||
					fail "warm-up failed"
			fi
			if [ $tag = twalive ]; then
				# 10 server ports of TWALIVE / 10 sockets, from
				# client ports 20000-...: outside the range
				tw_flush
				$TWFILL 41000 10 $((TWALIVE / 10)) 20000 ||
					fail "twfill failed"
			fi
			for procs in $procs_list; do
				for order in server client; do
					i=$((i + 1))
					port=$((30000 + (r * 16 + i) % 1000))
					if [ $tag = cold ]; then
						# ports no variant has seen since its load
						lo=$((40000 + (i - 1) * 2500))
						sysctl -qw net.ipv4.ip_local_port_range="$lo $((lo + 1999))"
					fi
					[ $tag = twalive ] || tw_flush
					out=$($CHURN -n $CONNS -P $procs -o $order -p $port) ||
						fail "churn failed ($v $order P$procs)"
					set -- $out
					[ "$2" = "$CONNS" ] || fail "churn made $2 connections"
					result "$tag kver=$KVER round=$r variant=$v order=$order procs=$procs conns=$2 seconds=$4"
				done
			done
			# Check that the variant saw a known workload.
			sysctl -qw net.ipv4.ip_local_port_range="50000 51999"
			port=$((39000 + r))
			$CHURN -q -n 10 -o server -p $port || fail "churn failed"
			variant_stop $v $port 10
		done
		tw_flush
	done
	sysctl -qw net.ipv4.ip_local_port_range="10000 64999"
}

rotate() {
	local k=$1; shift
	local a=("$@") n=$# i
	for ((i = 0; i < n; i++)); do echo "${a[(i + k) % n]}"; done
}

# Median of 3 runs of a command: CPU time (user + system) of its processes,
# in seconds, after one untimed run (which brings the programs into the
# page cache: they are read over 9p).  Not elapsed time: under icount a
# task that sleeps (a mutex, cond_resched(), 9p) lets guest time jump to
# the next timer, which says nothing about the reader's cost.
time_cmd() {
	local i ts=()

	"$@" > $WORK/out || fail "'$*' failed"
	for i in 1 2 3; do
		{ TIMEFORMAT='%6U %6S'; time "$@" > $WORK/out 2> $WORK/err; } 2> $WORK/time ||
			fail "'$*' failed: $(cat $WORK/err)"
		ts+=("$(awk '{ printf "%.6f", $1 + $2 }' $WORK/time)")
	done
	printf '%s\n' "${ts[@]}" | sort -n | sed -n 2p
}

reader_closestat() {
	if [ -x "$CLOSESTAT" ]; then
		"$CLOSESTAT" -n -s time_wait
	else
		cat /proc/net/tcp_closestat
	fi
}

reader_cat() {
	cat /proc/net/tcp_closestat
}

reader_ss() {
	ss -Htan state time-wait |
		awk '{ n = split($3, a, ":"); c[a[n]]++ } END { for (p in c) print p, c[p] }'
}

reader_proc() {
	awk 'function hex(s,  i, v) { v = 0; for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1; return v }
	     FNR > 1 && $4 == "06" { split($2, a, ":"); c[a[2]]++ }
	     END { for (p in c) print hex(p), c[p] }' /proc/net/tcp /proc/net/tcp6
}

measure_readers() {
	local tw=$1 mode=$2 have after t col got r

	# A new connection can take over an old TIME_WAIT of the same
	# 4-tuple (the kernel's port choice may repeat): allow a few fewer.
	have=$(ss -Htan state time-wait | wc -l)
	[ "$have" -ge $((tw * 95 / 100)) ] || fail "only $have TIME_WAIT sockets, want $tw"
	for r in ss proc closestat cat; do
		t=$(time_cmd reader_$r)
		result "read kver=$KVER mode=$mode tw=$tw have=$have reader=$r seconds=$t"
	done
	after=$(ss -Htan state time-wait | wc -l)
	[ "$after" -ge $((tw * 95 / 100)) ] ||
		result "warn kver=$KVER read_tw=$tw mode=$mode time_wait_before=$have after=$after"
	result "read kver=$KVER mode=$mode tw=$tw rows=$(wc -l < /proc/net/tcp_closestat)"
	# All three must agree on one port's count.
	reader_ss | awk -v p=$READ_PORT '$1 == p { print $2 }' > $WORK/a
	reader_proc | awk -v p=$READ_PORT '$1 == p { print $2 }' > $WORK/b
	# They can only disagree if sockets ended between the two walks (the
	# guest clock jumps while a vCPU idles): then warn, otherwise fail.
	if ! cmp -s $WORK/a $WORK/b; then
		[ "$(ss -Htan state time-wait | wc -l)" != "$after" ] ||
			fail "ss and /proc/net/tcp disagree on port $READ_PORT"
		result "warn kver=$KVER read_tw=$tw mode=$mode sockets ended while ss and /proc/net/tcp were compared"
	fi
	# The module's gauge (time_wait_now, if this version has it) should
	# agree with ss; a difference is reported, it does not stop the run.
	col=time_wait
	head -1 /proc/net/tcp_closestat | grep -qw time_wait_now && col=time_wait_now
	got=$(tcs_value local $READ_PORT $col)
	[ "$got" = "$(cat $WORK/a)" ] ||
		result "warn kver=$KVER read_tw=$tw port=$READ_PORT $col=$got ss=$(cat $WORK/a)"
}

# Two shapes of peer: "ephemeral", every connection from a new client port
# (the module then also has a row for each client port, so its table grows
# with the sockets until the port space is covered), and "bound", the i-th
# connection to each server port from client port 60000 + i (the peers use
# 5 or 50 ports: the table stays at about 2,100 rows).
phase_read() {
	local tw per mode base

	insmod $KO
	READ_PORT=41000
	export -f measure_readers time_cmd reader_closestat reader_cat reader_ss \
		reader_proc tcs_value result fail
	export KVER WORK CLOSESTAT READ_PORT
	for mode in bound ephemeral; do
		# A namespace of its own (TIME_WAIT buckets and the module's
		# table are per namespace); each size starts from none and is
		# measured right after it is made: TIME_WAIT lasts 60 s.
		ip netns add tcsbench-read
		ip -n tcsbench-read link set lo up
		ip netns exec tcsbench-read sysctl -qw net.ipv4.tcp_max_tw_buckets=262144
		ip netns exec tcsbench-read $TWFILL 41000 1 1 59000
		ip netns exec tcsbench-read bash -c "set -eu -o pipefail
			for r in closestat cat ss proc; do reader_\$r > /dev/null; done
			ss -Htan state time-wait | wc -l > /dev/null
			tcs_value local 1 time_wait > /dev/null
			wc -l < /proc/net/tcp_closestat > /dev/null"
		for tw in $TW_SMALL $TW_LARGE; do
			per=$((tw / TW_PORTS))
			base=
			[ $mode = ephemeral ] || base=60000
			ip netns exec tcsbench-read ss -K -tan state time-wait > /dev/null 2>&1 || true
			ip netns exec tcsbench-read $TWFILL 41000 $TW_PORTS $per $base
			ip netns exec tcsbench-read bash -c "set -eu -o pipefail; measure_readers $tw $mode"
		done
		ip netns del tcsbench-read
	done
	rmmod tcp_closestat
}

meminfo() {
	awk -v k="$1:" '$1 == k { print $2 * 1024 }' /proc/meminfo
}

mem_snapshot() {
	echo "$(meminfo Percpu) $(meminfo SUnreclaim)"
}

mem_result() {
	local case=$1 before=$2 ns=${3:-} bytes ports

	sync
	set -- $before $(mem_snapshot)
	if [ -n "$ns" ]; then
		bytes=$(ip netns exec $ns awk '$1 == "memory_bytes" { print $2 }' /proc/net/tcp_closestat_stat)
		ports=$(ip netns exec $ns awk '$1 == "ports" { print $2 }' /proc/net/tcp_closestat_stat)
	else
		bytes=$(stat_value memory_bytes)
		ports=$(stat_value ports)
	fi
	result "mem kver=$KVER case=$case ports=$ports memory_bytes=$bytes percpu_delta=$(($3 - $1)) sunreclaim_delta=$(($4 - $2))"
}

phase_mem() {
	local before n i sum

	tw_flush
	before=$(mem_snapshot)
	insmod $KO max_ports=65533
	result "mem kver=$KVER case=module coresize=$(cat /sys/module/tcp_closestat/coresize) ncpus=$(nproc) possible_cpus=$(ls -d /sys/devices/system/cpu/cpu[0-9]* | wc -l)"
	mem_result loaded "$before"

	# Each connection closed client-first makes 2 (side, port) entries
	# on its client port (local TIME_WAIT/FIN_WAIT2, remote CLOSE_WAIT),
	# plus the server port's two: n = ports / 2 connections.
	for target in 1000 $MEM_PORTS; do
		[ $target -le $MEM_PORTS ] || continue
		ip netns add tcsbench-mem
		ip -n tcsbench-mem link set lo up
		ip netns exec tcsbench-mem sysctl -qw net.ipv4.tcp_max_tw_buckets=262144 \
			net.ipv4.tcp_tw_reuse=0 net.ipv4.ip_local_port_range="1024 65535"
		before=$(mem_snapshot)
		n=$(( (target - 1) / 2 ))
		ip netns exec tcsbench-mem $CHURN -q -n $n -o client -p 1023 ||
			fail "churn failed"
		# Per tracked socket: the tcs_track slab cache, if tracking.
		awk -v kver=$KVER -v c=$target '$1 == "tcs_track" {
			print "BENCH mem kver=" kver " case=track_" c " objects=" $2 " objsize=" $4 }' /proc/slabinfo
		# Count the module's memory with the sockets themselves gone.
		ip netns exec tcsbench-mem ss -K -tan state time-wait > /dev/null 2>&1 || true
		mem_result ports_$target "$before" tcsbench-mem
		ip netns del tcsbench-mem
		[ $target -lt $MEM_PORTS ] || break
	done

	before=$(mem_snapshot)
	for i in $(seq 1 $MEM_NETNS); do
		ip netns add tcsbench-ns$i
	done
	sum=0
	for i in $(seq 1 $MEM_NETNS); do
		n=$(ip netns exec tcsbench-ns$i awk '$1 == "memory_bytes" { print $2 }' /proc/net/tcp_closestat_stat)
		sum=$((sum + n))
	done
	set -- $before $(mem_snapshot)
	result "mem kver=$KVER case=netns_$MEM_NETNS netns=$MEM_NETNS memory_bytes=$sum percpu_delta=$(($3 - $1)) sunreclaim_delta=$(($4 - $2))"
	for i in $(seq 1 $MEM_NETNS); do
		ip netns del tcsbench-ns$i
	done
	rmmod tcp_closestat
}

# Bytes per (side, port) of one run from the default ephemeral range, at
# this guest's number of CPUs (bench.sh boots 1, 2 and 8).
phase_memcpu() {
	local bytes ports

	tw_flush
	insmod $KO
	ip netns add tcsbench-memcpu
	ip -n tcsbench-memcpu link set lo up
	ip netns exec tcsbench-memcpu $CHURN -q -n $MEMCPU_CONNS -o client -p 23001 ||
		fail "churn failed"
	bytes=$(ip netns exec tcsbench-memcpu awk '$1 == "memory_bytes" { print $2 }' /proc/net/tcp_closestat_stat)
	ports=$(ip netns exec tcsbench-memcpu awk '$1 == "ports" { print $2 }' /proc/net/tcp_closestat_stat)
	# tcp_tw_reuse (2: loopback) lets connect() take a client port again:
	# at most 2 entries per connection and the server port's 2
	[ "$ports" -gt 2 ] && [ "$ports" -le $((2 * MEMCPU_CONNS + 2)) ] ||
		fail "memcpu: $ports entries, want 3 to $((2 * MEMCPU_CONNS + 2))"
	result "memcpu kver=$KVER possible_cpus=$(ls -d /sys/devices/system/cpu/cpu[0-9]* | wc -l) ports=$ports memory_bytes=$bytes"
	ip netns del tcsbench-memcpu
	rmmod tcp_closestat
}

say "kernel $KVER, $(nproc) CPU(s), rounds $ROUNDS, $CONNS connections per run"
result "info kver=$KVER cpus=$(nproc) rounds=$ROUNDS conns=$CONNS smoke=$SMOKE"
for p in $PHASES; do
	say "phase $p"
	phase_$p
done
result "done kver=$KVER"
