#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# closestat --check-kernel against the running kernel, and what happens
# when the module's hooks table (uapi/linux/tcp_closestat_hooks.h) does
# not match the kernel:
#
#   1-3  closestat --check-kernel: exit 0, one "ok" line per function and
#        field of the table, "all ok"; -j the same as JSON; --btf with a
#        vmlinux file (an ELF .BTF section) the same
#   4    closestat built from a doctored table (selftests/doctor/:
#        __inet_accept renamed, the hashdance function's first two
#        arguments swapped): exit 1, a FAIL line for exactly those two
#        functions, saying what differs, every other line ok
#   5-6  the module built from the doctored table (the rename only)
#        refuses to load: dmesg names the function, and no kprobe, /proc
#        file or module is left; the real module loads again after it
#
# It starts and ends with the module loaded, as the runner expects.

set -u

# shellcheck source=selftests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=selftests/kernel_reports.sh
. "$(dirname "${BASH_SOURCE[0]}")/kernel_reports.sh"

DOCTORED_CS=$REPO/build/selftests/doctored/closestat
DOCTORED_KO=$REPO/build/$(uname -r)/doctored/tcp_closestat.ko
KPROBES=/sys/kernel/debug/kprobes/list
PROC=/proc/net/tcp_closestat

# Run by lib.sh at exit: leave the real module loaded.
cleanup() {
	lsmod | grep -q '^tcp_closestat ' || insmod "$KO"
}

# The table's functions and fields, from the header the tools are built with.
nr_funcs=$(grep -c '^[[:space:]]*TCS_HOOK_FUNC(' "$REPO/uapi/linux/tcp_closestat_hooks.h")
nr_fields=$(grep -c '^[[:space:]]*TCS_HOOK_FIELD(' "$REPO/uapi/linux/tcp_closestat_hooks.h")
nr_checks=$((nr_funcs + nr_fields))

ktap_header
require_tools
require_cmd "$PY"
[ -r /sys/kernel/btf/vmlinux ] || ktap_skip_all "no kernel BTF"
make_tmp
ktap_plan 6

# 1: the running kernel
"$CS" --check-kernel >"$TMP/out" 2>"$TMP/err"
rc=$?
sed 's/^/# /' "$TMP/out" "$TMP/err"
fails=0
expect "exit status" "$rc" 0
expect "ok lines" "$(grep -c '^ok ' "$TMP/out")" "$nr_checks"
expect "summary" "$(tail -n 1 "$TMP/out")" \
	"closestat: $(uname -r): $nr_funcs functions, $nr_fields fields: all ok"
ktap_result "check-kernel: every function and field ok" finish

# 2: the same as JSON
fails=0
"$CS" --check-kernel -j >"$TMP/json" 2>"$TMP/err"
expect "-j exit status" "$?" 0
expect "-j" "$("$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["version"], d["kernel"], d["checked"], d["failed"],
      sorted(set(c["status"] for c in d["checks"])),
      sum(c["kind"] == "function" for c in d["checks"]))
' "$TMP/json" 2>&1)" "1 $(uname -r) $nr_checks 0 ['ok'] $nr_funcs"
ktap_result "check-kernel -j: the same as JSON" finish

# 3: BTF from a vmlinux file, as Debian's 6.12 headers package has one
vmlinux=$(ls /lib/modules/*/build/vmlinux 2>/dev/null | head -n 1)
if [ -z "$vmlinux" ]; then
	ktap_skip "check-kernel --btf vmlinux" "no /lib/modules/*/build/vmlinux"
else
	fails=0
	"$CS" --check-kernel --btf "$vmlinux" >"$TMP/out" 2>"$TMP/err"
	expect "--btf exit status" "$?" 0
	expect "--btf summary" "$(cat "$TMP/err"; tail -n 1 "$TMP/out")" \
		"closestat: $vmlinux: $nr_funcs functions, $nr_fields fields: all ok (BTF only: symbols not checked)"
	ktap_result "check-kernel --btf $vmlinux: all ok" finish
fi

# 4: a doctored table: a renamed function, two swapped arguments
if grep -q inet_twsk_hashdance_schedule /proc/kallsyms; then
	hashdance=inet_twsk_hashdance_schedule
else
	hashdance=inet_twsk_hashdance
fi
"$DOCTORED_CS" --check-kernel >"$TMP/out" 2>"$TMP/err"
rc=$?
sed 's/^/# /' "$TMP/err"
grep -v '^ok ' "$TMP/out" | sed 's/^/# /'
fails=0
expect "doctored: exit status" "$rc" 1
expect "doctored: FAIL lines" "$(grep '^FAIL' "$TMP/out")" \
"FAIL  function $hashdance: arg 1 is struct sock *, expected struct inet_timewait_sock *; arg 0 is struct inet_timewait_sock *, expected struct sock *
FAIL  function __inet_accept_renamed: not a function in the kernel's BTF; not in /proc/kallsyms (renamed, or inlined into every caller)"
expect "doctored: ok lines" "$(grep -c '^ok ' "$TMP/out")" $((nr_checks - 2))
expect "doctored: summary" "$(tail -n 1 "$TMP/out")" \
	"closestat: $(uname -r): $nr_funcs functions, $nr_fields fields: 2 of $nr_checks do not match"
ktap_result "check-kernel reports a doctored table by name, exit 1" finish

# 5: the module built from the doctored table does not load
[ -r "$DOCTORED_KO" ] || ktap_bail_out "$DOCTORED_KO missing: run make selftests"
rmmod tcp_closestat || ktap_bail_out "cannot unload the module"
marker=$(kmsg_mark check_kernel)
fails=0
if insmod "$DOCTORED_KO" 2>"$TMP/err"; then
	expect "doctored module" loaded refused
	rmmod tcp_closestat
fi
ktap_diag "insmod: $(cat "$TMP/err")"
kernel_log_since "$marker" >"$TMP/dmesg"
sed 's/^/# dmesg: /' "$TMP/dmesg"
expect "dmesg" "$(grep -o 'tcp_closestat: .*' "$TMP/dmesg")" \
	"tcp_closestat: cannot probe __inet_accept_renamed: -ENOENT (no such function in this kernel: renamed, or inlined into its callers)"
expect "kprobes left" "$(wc -l <"$KPROBES")" 0
expect "/proc left" "$(ls /proc/net | grep -c tcp_closestat)" 0
expect "module left" "$(lsmod | grep -c '^tcp_closestat ')" 0
ktap_result "a doctored module refuses to load, naming the function, leaving nothing" finish

# 6: and the real one loads again
fails=0
insmod "$KO"
expect "insmod" "$?" 0
expect "/proc" "$(test -r "$PROC" && echo readable)" readable
expect "kprobes" "$(wc -l <"$KPROBES")" "$nr_funcs"
ktap_result "the module loads again" finish

ktap_finish
