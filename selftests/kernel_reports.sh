# SPDX-License-Identifier: GPL-2.0
#
# What the kernel log says when something went wrong, for the guest's
# tests that look at it (run_guest.sh, fault_inject.sh, stress.sh,
# module_load.sh, check_kernel.sh) and for selftests/qemu/run.sh, which
# scans the console with the same patterns:
#
#	. "$(dirname "$0")/kernel_reports.sh"
#	marker=$(kmsg_mark test-name)
#	...
#	bad=$(kernel_reports_since "$marker")
#	msgs=$(kernel_log_since "$marker")
#
# The reports: WARN ("WARNING:"), BUG ("BUG:", KASAN's "BUG: KASAN:" and
# might_sleep's "BUG: sleeping function called from invalid context"
# among them), lockdep and RCU lockdep (their headers start with
# "WARNING:"), oopses, panics, UBSAN, debug objects (ODEBUG), kmemleak's
# summary line, hung tasks (where DETECT_HUNG_TASK is built in: Debian's
# kernels), list corruption, and any backtrace.  With panic_on_warn=1 most
# of them also end the guest; lockdep, might_sleep and kmemleak do not.
#
# Nothing may clear the kernel log (dmesg -C) while a marker is in use:
# a marker no longer in the log is reported as a problem, since nothing
# after it could be checked.  run.sh boots every guest with log_buf_len=4M
# so that a run does not wrap the log around.

TCS_REPORTS='WARNING:|BUG:|Oops|general protection fault|Kernel panic|---\[ end trace|Call Trace:|UBSAN:|ODEBUG:|kmemleak: [0-9]+ new suspected|INFO: task .* blocked|list_(add|del) corruption'

# kmsg_mark NAME: write a unique line to the kernel log and print it.
kmsg_mark() {
	local marker="tcp_closestat selftest: $1 $$ $RANDOM"

	echo "$marker" >/dev/kmsg
	echo "$marker"
}

# kernel_log_since MARKER: the kernel log's lines after MARKER.  If MARKER
# is no longer in the log, one line saying so instead, and status 1.
kernel_log_since() {
	local log

	log=$(dmesg)
	if ! grep -q -F -- "$1" <<<"$log"; then
		echo "the kernel log lost the line '$1' (cleared, or wrapped around): what followed it cannot be checked"
		return 1
	fi
	awk -v m="$1" 'seen { print } index($0, m) { seen = 1 }' <<<"$log"
}

# kernel_reports_since MARKER: the report lines logged after MARKER (or
# the line saying that MARKER was lost).
kernel_reports_since() {
	local log

	if ! log=$(kernel_log_since "$1"); then
		echo "$log"
		return
	fi
	grep -E -a -- "$TCS_REPORTS" <<<"$log"
}
