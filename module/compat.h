/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels tcp_closestat supports (6.1 to 6.12),
 * kept in one place.  compat.mk defines the TCS_HAVE_* symbols by looking at
 * the headers of the kernel being built against.
 */
#ifndef _TCS_COMPAT_H
#define _TCS_COMPAT_H

/*
 * The function that hashes a new timewait socket.  6.1 has
 * inet_twsk_hashdance(tw, sk, hashinfo); later kernels arm the timer in
 * the same call: inet_twsk_hashdance_schedule(tw, sk, hashinfo, timeo).
 * The first two arguments are the same in both.
 */
#ifdef TCS_HAVE_TWSK_HASHDANCE_SCHEDULE
#define TCS_TW_HASHDANCE_SYMBOL "inet_twsk_hashdance_schedule"
#else
#define TCS_TW_HASHDANCE_SYMBOL "inet_twsk_hashdance"
#endif

#endif /* _TCS_COMPAT_H */
