/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What tcs_witness.bpf.c counts and tcs_witness.c reads: per (network
 * namespace, side, port), the TCP sockets that entered each state.
 */
#ifndef _TCS_WITNESS_H
#define _TCS_WITNESS_H

#define TCS_WITNESS_MAX_KEYS	(1 << 18)
#define TCS_WITNESS_MAX_PENDING	(1 << 14)

enum tcs_witness_side {
	TCS_WITNESS_LOCAL,		/* the socket's own port */
	TCS_WITNESS_REMOTE,		/* its peer's */
};

enum tcs_witness_count {
	TCS_WITNESS_TIME_WAIT,
	TCS_WITNESS_CLOSE_WAIT,
	TCS_WITNESS_FIN_WAIT2,
	TCS_WITNESS_TW_OVERFLOW,	/* no timewait socket could be made */
	TCS_WITNESS_NR_COUNTS
};

struct tcs_witness_key {
	__u32 netns;			/* inode number of the namespace */
	__u16 side;			/* enum tcs_witness_side */
	__u16 port;
};

struct tcs_witness_counts {
	__u64 n[TCS_WITNESS_NR_COUNTS];
};

/* Both ends of a socket. */
struct tcs_witness_ends {
	__u32 netns;
	__u16 lport;
	__u16 rport;
};

#endif /* _TCS_WITNESS_H */
