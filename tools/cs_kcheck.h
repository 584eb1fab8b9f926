/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cs_kcheck: closestat --check-kernel, whether a kernel has what the
 * module's probes read (uapi/linux/tcp_closestat_hooks.h).
 */
#ifndef CS_KCHECK_H
#define CS_KCHECK_H

#include <stdbool.h>
#include <stdio.h>

struct cs_kcheck_opts {
	/* BTF to check; NULL: the running kernel's, /sys/kernel/btf/vmlinux */
	const char *btf;
	bool json;
};

/*
 * Check every function and field of the table, one line (or JSON object)
 * each on @out.  With opts->btf given, the symbol checks are skipped: they
 * describe the running kernel.  Returns the number of mismatches, or -1
 * (with a message on stderr) if the BTF cannot be read.
 */
int cs_kcheck(FILE *out, const struct cs_kcheck_opts *opts);

#endif /* CS_KCHECK_H */
