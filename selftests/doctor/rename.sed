# SPDX-License-Identifier: GPL-2.0
# A doctored uapi/linux/tcp_closestat_hooks.h for selftests/check_kernel.sh:
# __inet_accept, the last function registered, as if this kernel had
# renamed it.  Both closestat and the module are built with it.
s/"__inet_accept"/"__inet_accept_renamed"/
