# SPDX-License-Identifier: GPL-2.0
# A doctored uapi/linux/tcp_closestat_hooks.h for selftests/check_kernel.sh:
# the hashdance function's first two arguments swapped, as if this kernel
# had reordered them.  Only closestat is built with it: the module's
# handlers, which read them as typed, do not build so.
/TCS_HOOK_ARG(hashdance, [01],/{
	s/, 0, /, @, /
	s/, 1, /, 0, /
	s/, @, /, 1, /
}
