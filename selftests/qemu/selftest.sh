#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Check the harness itself: selftests/qemu/run.sh boots each kernel, runs a
# command from the repository with its arguments and TCS_* environment,
# passes its exit status through, and fails on an oops, a WARN or a timeout.
# Not part of `make check'; run it after changing anything under selftests/qemu.
#
#   selftests/qemu/selftest.sh [KVER...]     (default: every installed 6.1/6.12)

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
readonly REPO
readonly RUN=$REPO/selftests/qemu/run.sh
readonly WORK=$REPO/build/qemu/selftest

passed=0
failed=0

ok()   { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# expect NAME WANT_STATUS REGEX KVER CMD...: run.sh KVER CMD... must exit with
# WANT_STATUS, and its stdout (stderr, if WANT_STATUS is not 0) match REGEX.
expect() {
	local name=$1 want=$2 regex=$3 kver=$4 out rc=0 t0 t1 ds
	shift 4

	t0=${EPOCHREALTIME/[.,]/}
	out=$("$RUN" "$kver" "$@" 2>"$WORK/stderr") || rc=$?
	t1=${EPOCHREALTIME/[.,]/}
	ds=$(((t1 - t0) / 100000))
	[[ $want -eq 0 ]] || out=$(<"$WORK/stderr")

	if [[ $rc -ne $want ]]; then
		fail "$kver: $name: exit status $rc, want $want"
		sed 's/^/     | /' "$WORK/stderr" | tail -n 15
	elif [[ -n $regex ]] && ! grep -Eq -- "$regex" <<<"$out"; then
		fail "$kver: $name: output does not match /$regex/"
		sed 's/^/     | /' <<<"$out" | tail -n 15
	else
		ok "$kver: $name ($((ds / 10)).$((ds % 10)) s)"
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

main() {
	local kvers=("$@") k

	if [[ ${#kvers[@]} -eq 0 ]]; then
		for k in /lib/modules/6.1.*-amd64/build /lib/modules/6.12.*-amd64/build; do
			[[ -d $k ]] && k=${k%/build} && kvers+=("${k##*/}")
		done
	fi
	mkdir -p "$WORK"

	for k in "${kvers[@]}"; do
		build_warn_module "$k"
		expect "boots, runs from the repo" 0 "^${k//+/\\+} $REPO\$" "$k" \
			sh -c 'echo "$(uname -r) $PWD"'
		expect "exit status 3" 3 "" "$k" sh -c 'exit 3'
		expect "arguments keep their spaces" 0 '^<a  b> <\$c> <> $' "$k" \
			sh -c 'printf "<%s> " "$@"; echo' - 'a  b' '$c' ''
		TCS_PROBE="x  'y'" expect "TCS_* reaches the command" 0 "^x  'y'\$" "$k" \
			sh -c 'echo "$TCS_PROBE"'
		expect "writable /tmp, read-only /" 0 '^tmp ok, root ro$' "$k" \
			sh -c 'echo x >/tmp/x && ! touch /x-$$ 2>/dev/null && echo "tmp ok, root ro"'
		expect "ss, ip netns, veth" 0 'State' "$k" sh -c \
			'modprobe veth && ip netns add x && ip -n x link add name a type veth peer name b &&
			 ip -n x link set lo up && ss -tan && ss -tanK dst 127.0.0.9'
		expect "diag modules loaded" 0 '^inet_diag tcp_diag udp_diag veth$' "$k" sh -c \
			'for m in inet_diag tcp_diag udp_diag veth; do grep -q "^$m " /proc/modules && printf "%s " $m; done | sed "s/ \$//"; echo'
		expect "an oops fails the run" 1 "panicked" "$k" sh -c 'echo c >/proc/sysrq-trigger; sleep 30'
		expect "a WARN fails the run" 1 "panicked" "$k" \
			insmod "$WORK/$k/tcs_warn.ko"
		VM_TIMEOUT=20 expect "a timeout fails the run" 1 "timed out" "$k" sleep 600
		VM_ICOUNT=1 expect "VM_ICOUNT=1 runs on one CPU" 0 '^1$' "$k" nproc
	done

	echo "selftest: $passed passed, $failed failed"
	[[ $failed -eq 0 ]]
}

main "$@"
