/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels tcp_closestat supports (6.1 to 6.12),
 * kept in one place.  compat.mk defines the TCS_HAVE_* symbols by looking at
 * the headers of the kernel being built against.
 */
#ifndef _TCS_COMPAT_H
#define _TCS_COMPAT_H

/*
 * The name a probed function has in the kernel being built against.  The
 * hooks table (uapi/linux/tcp_closestat_hooks.h) gives each function's
 * name and, if it was renamed, its name in older kernels.  The one rename
 * so far: 6.1 hashes a new timewait socket with inet_twsk_hashdance(tw,
 * sk, hashinfo); later kernels arm its timer in the same call:
 * inet_twsk_hashdance_schedule(tw, sk, hashinfo, timeo), with the same
 * first two arguments.
 */
#ifdef TCS_HAVE_TWSK_HASHDANCE_SCHEDULE
#define TCS_OLDER_NAMES	0
#else
#define TCS_OLDER_NAMES	1
#endif
#define TCS_SYMBOL(name, older) \
	(TCS_OLDER_NAMES && sizeof(older) > 1 ? (older) : (name))

#endif /* _TCS_COMPAT_H */
