# SPDX-License-Identifier: GPL-2.0
#
# What the kernel log says when something went wrong, for the tests that
# look at it (run_guest.sh, fault_inject.sh, stress.sh):
#
#	. "$(dirname "$0")/kernel_reports.sh"
#	marker=$(kmsg_mark test-name)
#	...
#	bad=$(kernel_reports_since "$marker")
#
# The reports: WARN ("WARNING:"), BUG ("BUG:", KASAN's "BUG: KASAN:" and
# might_sleep's "BUG: sleeping function called from invalid context"
# among them), lockdep and RCU lockdep (their headers start with
# "WARNING:"), oopses, UBSAN, debug objects (ODEBUG), kmemleak's summary
# line, list corruption, and any backtrace.  With panic_on_warn=1 most of
# them also end the guest; lockdep, might_sleep and kmemleak do not.

TCS_REPORTS='WARNING:|BUG:|Oops|general protection|Call Trace:|UBSAN:|ODEBUG:|kmemleak: [0-9]+ new suspected|list_(add|del) corruption'

# kmsg_mark NAME: write a unique line to the kernel log and print it.
kmsg_mark() {
	local marker="tcp_closestat selftest: $1 $$ $RANDOM"

	echo "$marker" >/dev/kmsg
	echo "$marker"
}

# kernel_reports_since MARKER: the report lines logged after MARKER.
kernel_reports_since() {
	dmesg | sed -n "/$1/,\$p" | sed 1d | grep -E -a "$TCS_REPORTS"
}
