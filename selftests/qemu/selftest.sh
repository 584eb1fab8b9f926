#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Check the harness itself: selftests/qemu/run.sh boots each kernel, runs a
# command from the repository with its arguments and TCS_* environment,
# passes its exit status through, and fails on an oops, a WARN or a timeout.
# Not part of `make check'; run it after changing anything under selftests/qemu.
# Prints KTAP (selftests/lib.sh): one result per check and kernel.
#
#   selftests/qemu/selftest.sh [KVER...]     (default: every installed 6.1/6.12)

set -euo pipefail

# shellcheck source=selftests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

readonly RUN=$REPO/selftests/qemu/run.sh
readonly WORK=$REPO/build/qemu/selftest
readonly CHECKS_PER_KERNEL=11	# the check_run calls in check_kernel

# check_run NAME WANT_STATUS REGEX KVER CMD...: one result, "KVER: NAME":
# run.sh KVER CMD... must exit with WANT_STATUS, and its stdout (stderr, if
# WANT_STATUS is not 0) match REGEX. On failure the end of that output
# follows as diagnostics; either way, how long the run took.
check_run() {
	local name="$4: $1" want=$2 regex=$3 kver=$4 out rc=0 t0 t1 ds
	shift 4

	t0=${EPOCHREALTIME/[.,]/}
	out=$("$RUN" "$kver" "$@" 2>"$WORK/stderr") || rc=$?
	t1=${EPOCHREALTIME/[.,]/}
	ds=$(((t1 - t0) / 100000))
	[[ $want -eq 0 ]] || out=$(<"$WORK/stderr")

	ktap_diag "$name: $((ds / 10)).$((ds % 10)) s"
	if [[ $rc -ne $want ]]; then
		ktap_diag "$name: exit status $rc, want $want"
		sed 's/^/#   | /' "$WORK/stderr" | tail -n 15
		ktap_fail "$name"
	elif [[ -n $regex ]] && ! grep -Eq -- "$regex" <<<"$out"; then
		ktap_diag "$name: output does not match /$regex/"
		sed 's/^/#   | /' <<<"$out" | tail -n 15
		ktap_fail "$name"
	else
		ktap_ok "$name"
	fi
}

# A module whose init WARNs, built on the host like tcp_closestat.ko.
build_warn_module() {
	local kver=$1 dir

	dir=$WORK/$kver

	mkdir -p "$dir"
	cat >"$dir/tcs_warn.c" <<-'EOF'
		// SPDX-License-Identifier: GPL-2.0
		#include <linux/module.h>
		#include <linux/bug.h>

		static int __init tcs_warn_init(void)
		{
			WARN(1, "tcs_warn: deliberate warning\n");
			return 0;
		}
		module_init(tcs_warn_init);
		MODULE_LICENSE("GPL");
		MODULE_DESCRIPTION("Emit one WARN on load");
	EOF
	echo 'obj-m := tcs_warn.o' >"$dir/Kbuild"
	make -s -C "/lib/modules/$kver/build" M="$dir" modules >"$WORK/build.log" 2>&1 ||
		{ cat "$WORK/build.log" >&2; return 1; }
}

# check_kernel KVER: the CHECKS_PER_KERNEL results of one kernel.
check_kernel() {
	local k=$1

	build_warn_module "$k" || ktap_bail_out "$k: cannot build tcs_warn.ko"
	check_run "boots, runs from the repo" 0 "^${k//+/\\+} $REPO\$" "$k" \
		sh -c 'echo "$(uname -r) $PWD"'
	check_run "exit status 3" 3 "" "$k" sh -c 'exit 3'
	check_run "arguments keep their spaces" 0 '^<a  b> <\$c> <> $' "$k" \
		sh -c 'printf "<%s> " "$@"; echo' - 'a  b' '$c' ''
	TCS_PROBE="x  'y'" check_run "TCS_* reaches the command" 0 "^x  'y'\$" "$k" \
		sh -c 'echo "$TCS_PROBE"'
	check_run "writable /tmp, read-only /" 0 '^tmp ok, root ro$' "$k" \
		sh -c 'echo x >/tmp/x && ! touch /x-$$ 2>/dev/null && echo "tmp ok, root ro"'
	check_run "ss, ip netns, veth" 0 'State' "$k" sh -c \
		'modprobe veth && ip netns add x && ip -n x link add name a type veth peer name b &&
		 ip -n x link set lo up && ss -tan && ss -tanK dst 127.0.0.9'
	check_run "diag modules loaded" 0 '^inet_diag tcp_diag udp_diag veth$' "$k" sh -c \
		'for m in inet_diag tcp_diag udp_diag veth; do grep -q "^$m " /proc/modules && printf "%s " $m; done | sed "s/ \$//"; echo'
	check_run "an oops fails the run" 1 "panicked" "$k" sh -c 'echo c >/proc/sysrq-trigger; sleep 30'
	check_run "a WARN fails the run" 1 "panicked" "$k" \
		insmod "$WORK/$k/tcs_warn.ko"
	VM_TIMEOUT=20 check_run "a timeout fails the run" 1 "timed out" "$k" sleep 600
	VM_ICOUNT=1 check_run "VM_ICOUNT=1 runs on one CPU" 0 '^1$' "$k" nproc
}

main() {
	local kvers=("$@") k

	if [[ ${#kvers[@]} -eq 0 ]]; then
		for k in /lib/modules/6.1.*-amd64/build /lib/modules/6.12.*-amd64/build; do
			[[ -d $k ]] && k=${k%/build} && kvers+=("${k##*/}")
		done
	fi
	mkdir -p "$WORK"

	ktap_header
	[[ ${#kvers[@]} -gt 0 ]] || ktap_skip_all "no 6.1 or 6.12 kernel installed"
	ktap_plan $((CHECKS_PER_KERNEL * ${#kvers[@]}))
	for k in "${kvers[@]}"; do
		check_kernel "$k"
	done
	ktap_finish
}

main "$@"
