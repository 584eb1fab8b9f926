/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * tcp_closestat: what the module needs from the kernel it runs on.
 *
 * kprobes bind to function names, not prototypes: a kernel that reorders
 * a function's arguments, or inlines it away, makes the counts silently
 * wrong.  This table is the one list of everything the probe handlers
 * rely on.  It is not an ABI of the module; it is read by:
 *
 *   module/probes.c  defines its probes from it (a probe missing here, or
 *                    here but not defined there, does not build), reads
 *                    each argument with the type given here, and checks
 *                    every field against the kernel headers it is built
 *                    with (static_assert);
 *   closestat        --check-kernel compares it with a kernel's BTF.
 *
 * A change to what a handler reads is a change here.
 *
 * The includer defines TCS_HOOK_FUNC, TCS_HOOK_ARG, TCS_HOOK_RET and
 * TCS_HOOK_FIELD, then expands the lists.
 *
 * TCS_HOOK_FUNCS, in registration order: the probes that end tracking
 * entries, then the kretprobes, then the probes that make entries (see
 * module/probes.c: while the module loads, an entry must not be made
 * before its end can be seen); unloading goes the opposite way.
 *   TCS_HOOK_FUNC(id, kind, name, older_name)
 *	a probed function; kind is kprobe or kretprobe; older_name is its
 *	name in older supported kernels ("" if it was never renamed)
 *   TCS_HOOK_ARG(id, index, type)
 *	argument @index (0 is the first) has type @type: a handler reads it,
 *	or (__inet_accept's sock) it places the ones a handler reads
 *   TCS_HOOK_RET(id, type)
 *	a kretprobe handler reads the return value as @type
 *
 * TCS_HOOK_FIELDS:
 *   TCS_HOOK_FIELD(struct, member, type, where)
 *	a handler reads member @member of struct @struct as @type; where is
 *	any, first (the member must be at offset 0: the module keys the
 *	socket and the timewait socket by the address of their sock_common)
 *	or ipv6 (exists only with CONFIG_IPV6).  Members of anonymous
 *	structs and unions are named as C names them.  A type given as a
 *	typedef must be spelled as the kernel declares the member (skc_num
 *	is a __u16, sk_protocol a u16).
 */
#ifndef _UAPI_LINUX_TCP_CLOSESTAT_HOOKS_H
#define _UAPI_LINUX_TCP_CLOSESTAT_HOOKS_H

#define TCS_HOOK_FUNCS (							\
	TCS_HOOK_FUNC(tw_timer, kprobe, "tw_timer_handler", "")			\
	TCS_HOOK_ARG(tw_timer, 0, struct timer_list *)				\
	TCS_HOOK_FUNC(tw_kill, kprobe, "inet_twsk_kill", "")			\
	TCS_HOOK_ARG(tw_kill, 0, struct inet_timewait_sock *)			\
	TCS_HOOK_FUNC(tw_put, kprobe, "inet_twsk_put", "")			\
	TCS_HOOK_ARG(tw_put, 0, struct inet_timewait_sock *)			\
	TCS_HOOK_FUNC(twsk_alloc, kretprobe, "inet_twsk_alloc", "")		\
	TCS_HOOK_ARG(twsk_alloc, 0, const struct sock *)			\
	TCS_HOOK_RET(twsk_alloc, struct inet_timewait_sock *)			\
	TCS_HOOK_FUNC(tw_process, kretprobe, "tcp_timewait_state_process", "")	\
	TCS_HOOK_ARG(tw_process, 0, struct inet_timewait_sock *)		\
	TCS_HOOK_RET(tw_process, enum tcp_tw_status)				\
	TCS_HOOK_FUNC(hashdance, kprobe, "inet_twsk_hashdance_schedule",	\
		      "inet_twsk_hashdance")					\
	TCS_HOOK_ARG(hashdance, 0, struct inet_timewait_sock *)			\
	TCS_HOOK_ARG(hashdance, 1, struct sock *)				\
	TCS_HOOK_FUNC(set_state, kprobe, "tcp_set_state", "")			\
	TCS_HOOK_ARG(set_state, 0, struct sock *)				\
	TCS_HOOK_ARG(set_state, 1, int)						\
	TCS_HOOK_FUNC(inet_accept, kprobe, "__inet_accept", "")			\
	TCS_HOOK_ARG(inet_accept, 0, struct socket *)				\
	TCS_HOOK_ARG(inet_accept, 1, struct socket *)				\
	TCS_HOOK_ARG(inet_accept, 2, struct sock *)				\
)

#define TCS_HOOK_FIELDS (							\
	TCS_HOOK_FIELD(sock, __sk_common, struct sock_common, first)		\
	TCS_HOOK_FIELD(sock, sk_protocol, u16, any)				\
	TCS_HOOK_FIELD(sock, sk_socket, struct socket *, any)			\
	TCS_HOOK_FIELD(inet_timewait_sock, __tw_common, struct sock_common, first) \
	TCS_HOOK_FIELD(inet_timewait_sock, tw_substate, unsigned char, any)	\
	TCS_HOOK_FIELD(inet_timewait_sock, tw_timer, struct timer_list, any)	\
	TCS_HOOK_FIELD(sock_common, skc_family, unsigned short, any)		\
	TCS_HOOK_FIELD(sock_common, skc_state, unsigned char, any)		\
	TCS_HOOK_FIELD(sock_common, skc_flags, unsigned long, any)		\
	TCS_HOOK_FIELD(sock_common, skc_net, possible_net_t, any)		\
	TCS_HOOK_FIELD(sock_common, skc_num, __u16, any)			\
	TCS_HOOK_FIELD(sock_common, skc_dport, __be16, any)			\
	TCS_HOOK_FIELD(sock_common, skc_nulls_node, struct hlist_nulls_node, any) \
	TCS_HOOK_FIELD(sock_common, skc_rcv_saddr, __be32, any)			\
	TCS_HOOK_FIELD(sock_common, skc_daddr, __be32, any)			\
	TCS_HOOK_FIELD(sock_common, skc_v6_rcv_saddr, struct in6_addr, ipv6)	\
	TCS_HOOK_FIELD(sock_common, skc_v6_daddr, struct in6_addr, ipv6)	\
	TCS_HOOK_FIELD(hlist_nulls_node, pprev, struct hlist_nulls_node **, any) \
	TCS_HOOK_FIELD(socket_alloc, socket, struct socket, any)		\
	TCS_HOOK_FIELD(socket_alloc, vfs_inode, struct inode, any)		\
	TCS_HOOK_FIELD(inode, i_ino, unsigned long, any)			\
)

/*
 * Each list is in parentheses, to be one macro value; its entries, as
 * they are: TCS_HOOK_EXPAND(TCS_HOOK_STRIP TCS_HOOK_FIELDS).
 */
#define TCS_HOOK_EXPAND(...)	__VA_ARGS__
#define TCS_HOOK_STRIP(...)	__VA_ARGS__

#endif /* _UAPI_LINUX_TCP_CLOSESTAT_HOOKS_H */
