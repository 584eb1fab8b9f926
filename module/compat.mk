# SPDX-License-Identifier: GPL-2.0
#
# Kernel-version differences: Kbuild lines that look at the headers of the
# kernel being built against and define the TCS_HAVE_* symbols that
# compat.h, beside this file, resolves.  Included by the module's Kbuild
# and by the benchmark's floor module (selftests/bench/floor/Kbuild), so
# that both probe the same functions.

ccflags-y += $(shell grep -qs inet_twsk_hashdance_schedule \
	$(srctree)/include/net/inet_timewait_sock.h && \
	echo -DTCS_HAVE_TWSK_HASHDANCE_SCHEDULE)
