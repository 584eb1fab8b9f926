// SPDX-License-Identifier: GPL-2.0
/*
 * The probes.  Which kernel function each event goes through:
 *
 *   CLOSE_WAIT  tcp_set_state(sk, TCP_CLOSE_WAIT), from tcp_fin().
 *   FIN_WAIT2   tcp_set_state(sk, TCP_FIN_WAIT2).  __tcp_close() also calls
 *               it for a socket already in FIN_WAIT2: not a transition.
 *   leaving     tcp_set_state() from CLOSE_WAIT or FIN_WAIT2, or the full
 *               socket being replaced by a timewait socket.
 *   TIME_WAIT   never through tcp_set_state().  tcp_time_wait() makes a
 *               timewait socket; it exists once the hashdance function
 *               (inet_twsk_hashdance{,_schedule}) hashes it.  It counts
 *               if hashed in the TIME_WAIT substate, or when a
 *               FIN_WAIT2-substate timewait socket gets the peer's FIN:
 *               tcp_timewait_state_process() switches it with a plain
 *               store and returns TCP_TW_ACK.
 *   overflow    tcp_time_wait() could not allocate the timewait socket
 *               (tcp_max_tw_buckets, memory): inet_twsk_alloc() returned
 *               NULL to it.  DCCP's calls are filtered out.
 *   TIME_WAIT   ends in inet_twsk_kill(), exactly once per hashed timewait
 *   ends        socket: from tw_timer_handler() when it expires; after
 *               tcp_timewait_state_process() returned TCP_TW_SYN and a
 *               listener takes the SYN (tcs_tw_syn); after a connect()
 *               took its place in the established hash (TWRecycled); or
 *               otherwise (RST, ss -K, namespace exit).
 *
 * One piece of state crosses from one probe to another: tcs_tw_syn, from
 * a return of tcp_timewait_state_process() to the kill or put that its
 * caller reaches next on the same CPU, with BH off.  Nothing else is
 * carried from a probe to the next: a pair that must be seen together is
 * one kretprobe instance (one call), or a re-check of the object's state.
 *
 * All entry points start with __fentry__, so these kprobes run on ftrace.
 * A hit that arrives while another kprobe runs on the same CPU is dropped
 * by the kprobe core and counted in nmissed; those totals are published in
 * /proc/net/tcp_closestat_stat.  That happens when an interrupt ends
 * with softirqs (packets, timers) that hit a probe while a handler runs in
 * process context with BH enabled (a close(), backlog processing).  So
 * every handler runs with interrupts off, its filters included; what is
 * left open is the few instructions the kprobe core runs around a handler
 * (the entry handlers of the kretprobes only store their arguments).
 */

#include <linux/kprobes.h>
#include <linux/net.h>
#include <linux/ptrace.h>
#include <net/inet_timewait_sock.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/tcp_states.h>

#include <linux/tcp_closestat_hooks.h>

#include "compat.h"
#include "tcp_closestat.h"

/*
 * Everything the handlers read is listed in TCS_HOOK_FUNCS and
 * TCS_HOOK_FIELDS (uapi/linux/tcp_closestat_hooks.h), which closestat
 * --check-kernel compares with a running kernel.  The handlers read
 * arguments and return values only through accessors made from that list,
 * with the types it gives; every field it lists is checked against the
 * headers this module is built with.
 */
#define TCS_HOOK_FUNC(...)
#define TCS_HOOK_ARG(id, n, type)					\
	static inline void tcs_arg_##id##_##n(struct pt_regs *regs,	\
					      typeof(type) *val)	\
	{								\
		*val = (type)regs_get_kernel_argument(regs, n);		\
	}
#define TCS_HOOK_RET(id, type)						\
	static inline void tcs_ret_##id(struct pt_regs *regs,		\
					typeof(type) *val)		\
	{								\
		*val = (type)regs_return_value(regs);			\
	}
TCS_HOOK_EXPAND(TCS_HOOK_STRIP TCS_HOOK_FUNCS)
#undef TCS_HOOK_FUNC
#undef TCS_HOOK_ARG
#undef TCS_HOOK_RET

/* *@val = argument @n of function @id, or its return value */
#define tcs_arg(regs, id, n, val)	tcs_arg_##id##_##n(regs, val)
#define tcs_ret(regs, id, val)		tcs_ret_##id(regs, val)

/* An element of tcs_field_checks[] that asserts @cond at build time */
#define TCS_ASSERT(cond, msg) \
	sizeof(struct { static_assert(cond, msg); int ok; }),

#define TCS_TYPE_any(s, m, type)					\
	TCS_ASSERT(__same_type(typeof_member(struct s, m), type),	\
		   "struct " #s " member " #m " is not " #type)
#define TCS_TYPE_first(s, m, type)	TCS_TYPE_any(s, m, type)
#if IS_ENABLED(CONFIG_IPV6)
#define TCS_TYPE_ipv6(s, m, type)	TCS_TYPE_any(s, m, type)
#else
#define TCS_TYPE_ipv6(...)
#endif
#define TCS_OFFSET_first(s, m)						\
	TCS_ASSERT(offsetof(struct s, m) == 0,				\
		   "struct " #s " member " #m " is not the first")
#define TCS_OFFSET_any(...)
#define TCS_OFFSET_ipv6(...)

static const size_t tcs_field_checks[] __maybe_unused = {
#define TCS_HOOK_FIELD(s, m, type, where)	TCS_TYPE_##where(s, m, type)
	TCS_HOOK_EXPAND(TCS_HOOK_STRIP TCS_HOOK_FIELDS)
#undef TCS_HOOK_FIELD
#define TCS_HOOK_FIELD(s, m, type, where)	TCS_OFFSET_##where(s, m)
	TCS_HOOK_EXPAND(TCS_HOOK_STRIP TCS_HOOK_FIELDS)
#undef TCS_HOOK_FIELD
};

/*
 * The timewait socket a new SYN is about to take over, on this CPU: set
 * when tcp_timewait_state_process() returns TCP_TW_SYN.  Its caller
 * (tcp_v4_rcv(), tcp_v6_rcv(), with BH off) then looks for a listener and
 * either hands the SYN to it after inet_twsk_deschedule_put(tw), which
 * kills @tw unless its timer already runs on another CPU and puts it, or
 * answers with an ACK and puts @tw: in every case inet_twsk_kill(tw) or
 * inet_twsk_put(tw) comes next on this CPU, in straight-line code, and
 * clears it.  Nothing else runs on this CPU in between.
 */
static DEFINE_PER_CPU(const struct inet_timewait_sock *, tcs_tw_syn);

static int tcs_tcp_state(int state)
{
	switch (state) {
	case TCP_CLOSE_WAIT:
		return TCS_STATE_CLOSE_WAIT;
	case TCP_FIN_WAIT2:
		return TCS_STATE_FIN_WAIT2;
	default:
		return -1;
	}
}

/* Count @slot for both ports of @skc; returns the namespace, if counting. */
static struct tcs_net *tcs_count(const struct sock_common *skc,
				 struct tcs_ports *ports, enum tcs_slot slot)
{
	struct tcs_net *tn = tcs_lookup(skc, ports);

	if (tn)
		tcs_inc(ports, slot);
	return tn;
}

/*
 * Timewait socket @tw, which replaces @sk, entered TIME_WAIT.  Both have
 * the same ports; @sk still says how its port was bound (tcs_lookup()).
 */
static void tcs_tw_enter(const struct inet_timewait_sock *tw,
			 const struct sock *sk, bool tracked)
{
	struct tcs_ports ports;
	struct tcs_net *tn;

	tn = tcs_count(&sk->__sk_common, &ports,
		       TCS_S_ENTER + TCS_STATE_TIME_WAIT);
	if (tn && !tracked)
		tcs_track_enter(tn, &ports, &tw->__tw_common, 0,
				TCS_STATE_TIME_WAIT);
}

/*
 * The inode of @sk's file.  TCP changes state under the socket lock, and
 * the file cannot be released before __tcp_close() has that lock.
 */
static unsigned long tcs_sock_ino(const struct sock *sk)
{
	const struct socket *sock = READ_ONCE(sk->sk_socket);

	if (sock_flag(sk, SOCK_DEAD) || !sock)
		return 0;
	return SOCK_INODE((struct socket *)sock)->i_ino;
}

/*
 * __inet_accept(struct socket *sock, struct socket *newsock,
 *		 struct sock *newsk), with @newsk locked, before it grafts
 * @newsk to @newsock, whose file and inode exist already.  A connection
 * whose peer closed before the application accepted it entered
 * CLOSE_WAIT without a file: its entry gets the inode now.  Every later
 * state change of @newsk, in backlog processing included, happens after
 * the graft and finds its file itself.
 */
static int tcs_inet_accept_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct socket *newsock;
	unsigned long flags;
	struct sock *newsk;

	tcs_arg(regs, inet_accept, 1, &newsock);
	tcs_arg(regs, inet_accept, 2, &newsk);
	local_irq_save(flags);
	if (READ_ONCE(newsk->sk_state) == TCP_CLOSE_WAIT &&
	    newsk->sk_protocol == IPPROTO_TCP)
		tcs_track_set_ino(newsk, SOCK_INODE(newsock)->i_ino);
	local_irq_restore(flags);
	return 0;
}

/* Full socket @sk goes from TCP state @old to @state, one of them tracked. */
static void tcs_set_state(struct sock *sk, int old, int state)
{
	int enter = tcs_tcp_state(state);
	struct tcs_ports ports;
	struct tcs_net *tn;

	/*
	 * After a hashdance the entry is the timewait socket's, under its
	 * address: looking up @sk then finds nothing.
	 */
	if (tcs_tcp_state(old) >= 0)
		tcs_track_leave_sk(sk);

	if (enter >= 0) {
		tn = tcs_count(&sk->__sk_common, &ports, TCS_S_ENTER + enter);
		if (tn)
			tcs_track_enter(tn, &ports, &sk->__sk_common,
					tcs_sock_ino(sk), enter);
	}
}

/* tcp_set_state(struct sock *sk, int state) */
static int tcs_set_state_pre(struct kprobe *p, struct pt_regs *regs)
{
	unsigned long flags;
	int state, old;
	struct sock *sk;

	tcs_arg(regs, set_state, 0, &sk);
	tcs_arg(regs, set_state, 1, &state);
	local_irq_save(flags);
	old = READ_ONCE(sk->sk_state);
	if ((tcs_tcp_state(state) >= 0 || tcs_tcp_state(old) >= 0) &&
	    state != old && sk->sk_protocol == IPPROTO_TCP)
		tcs_set_state(sk, old, state);
	local_irq_restore(flags);
	return 0;
}

/*
 * inet_twsk_alloc(const struct sock *sk, ...) returns the timewait socket
 * tcp_time_wait() will hash, or NULL: then tcp_time_wait() counts TcpExt
 * TCPTimeWaitOverflow and closes @sk.  A kretprobe instance belongs to one
 * call: it nests and migrates with it, and no other call can see it.  @sk
 * is valid on return: tcp_time_wait()'s caller holds a reference.
 */
static int tcs_twsk_alloc_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	const struct sock *sk;

	tcs_arg(regs, twsk_alloc, 0, &sk);
	if (sk->sk_protocol != IPPROTO_TCP)	/* DCCP */
		return 1;
	*(const struct sock **)ri->data = sk;
	return 0;
}

static int tcs_twsk_alloc_ret(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	const struct sock *sk = *(const struct sock **)ri->data;
	struct inet_timewait_sock *tw;
	struct tcs_ports ports;
	unsigned long flags;

	tcs_ret(regs, twsk_alloc, &tw);
	local_irq_save(flags);
	if (!tw)
		tcs_count(&sk->__sk_common, &ports, TCS_S_TW_OVERFLOW);
	local_irq_restore(flags);
	return 0;
}

/* Timewait socket @tw replaces full socket @sk in the hash tables. */
static void tcs_hashdance(struct inet_timewait_sock *tw, struct sock *sk)
{
	bool time_wait = tw->tw_substate == TCP_TIME_WAIT;
	struct tcs_ports ports;
	struct tcs_net *tn;

	tn = tcs_track_hashdance(sk, tw, time_wait ? TCS_STATE_TIME_WAIT :
						     TCS_STATE_FIN_WAIT2, &ports);
	if (!time_wait)
		return;
	/* @sk's FIN_WAIT2 entry tracks the TIME_WAIT now: count on its ports */
	if (tn)
		tcs_inc(&ports, TCS_S_ENTER + TCS_STATE_TIME_WAIT);
	else
		tcs_tw_enter(tw, sk, false);
}

/* inet_twsk_hashdance{,_schedule}(struct inet_timewait_sock *tw,
 *				   struct sock *sk, ...)
 */
static int tcs_hashdance_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct inet_timewait_sock *tw;
	unsigned long flags;
	struct sock *sk;

	tcs_arg(regs, hashdance, 0, &tw);
	tcs_arg(regs, hashdance, 1, &sk);
	local_irq_save(flags);
	if (sk->sk_protocol == IPPROTO_TCP)
		tcs_hashdance(tw, sk);
	local_irq_restore(flags);
	return 0;
}

/* Timewait socket @tw switched from FIN_WAIT2 to TIME_WAIT. */
static void tcs_tw_switched(const struct inet_timewait_sock *tw)
{
	enum tcs_switch sw = tcs_track_tw_switch(tw);
	struct tcs_ports ports;
	struct tcs_net *tn;

	if (sw == TCS_SWITCH_DONE)
		return;
	/*
	 * The switch rearms the timer only if it is pending: if it is not,
	 * the FIN_WAIT2 timeout fired, or a kill took it, before the peer's
	 * FIN was processed, and the socket ends without staying in
	 * TIME_WAIT.
	 */
	if (sw == TCS_SWITCH_UNTRACKED && !timer_pending(&tw->tw_timer))
		return;
	tn = tcs_lookup(&tw->__tw_common, &ports);
	if (!tn)
		return;
	if (sw == TCS_SWITCH_UNTRACKED && !tcs_track_tw_enter(tn, &ports, tw))
		return;
	tcs_inc(&ports, TCS_S_ENTER + TCS_STATE_TIME_WAIT);
}

/*
 * tcp_timewait_state_process(struct inet_timewait_sock *tw, ...).  On
 * TCP_TW_ACK and TCP_TW_SYN the caller still holds its reference, so tw is
 * valid on return.  A switch to TIME_WAIT happened in this call iff the
 * substate went from FIN_WAIT2 to TIME_WAIT.
 */
struct tcs_tw_process {
	struct inet_timewait_sock *tw;
	u8 substate;
};

static int tcs_tw_process_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct tcs_tw_process *d = (struct tcs_tw_process *)ri->data;

	tcs_arg(regs, tw_process, 0, &d->tw);
	d->substate = READ_ONCE(d->tw->tw_substate);
	return 0;
}

static int tcs_tw_process_ret(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	struct tcs_tw_process *d = (struct tcs_tw_process *)ri->data;
	enum tcp_tw_status ret;
	unsigned long flags;

	tcs_ret(regs, tw_process, &ret);
	local_irq_save(flags);
	if (ret == TCP_TW_SYN)
		this_cpu_write(tcs_tw_syn, d->tw);
	else if (ret == TCP_TW_ACK && d->substate == TCP_FIN_WAIT2 &&
		 READ_ONCE(d->tw->tw_substate) == TCP_TIME_WAIT)
		tcs_tw_switched(d->tw);
	local_irq_restore(flags);
	return 0;
}

/*
 * tw_timer_handler(struct timer_list *t), whose one statement is
 * inet_twsk_kill(tw) on both kernels: the timewait socket expires, and
 * its entry ends here.  The kill that follows finds none.
 */
static int tcs_tw_timer_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct timer_list *t;
	unsigned long flags;

	tcs_arg(regs, tw_timer, 0, &t);
	local_irq_save(flags);
	tcs_track_tw_kill(container_of(t, struct inet_timewait_sock, tw_timer),
			  TCS_S_TW_EXPIRED);
	local_irq_restore(flags);
	return 0;
}

/*
 * inet_twsk_kill(struct inet_timewait_sock *tw): a timewait socket ends
 * early (an expiry's entry ended in tcs_tw_timer_pre()).  It was reused:
 * - by a new SYN, if the caller is the one tcs_tw_syn names;
 * - by a connect(), if @tw is no longer in the established hash: the
 *   connecting socket took its place there (__inet_check_established(),
 *   which also counts TcpExt TWRecycled) before inet_twsk_deschedule_put();
 *   every other path reaches the kill with @tw hashed, and the kill
 *   unhashes it.
 * Otherwise it was killed (an RST, ss -K, the namespace going away).
 */
static int tcs_tw_kill_pre(struct kprobe *p, struct pt_regs *regs)
{
	enum tcs_slot fate = TCS_S_TW_KILLED;
	struct inet_timewait_sock *tw;
	unsigned long flags;

	tcs_arg(regs, tw_kill, 0, &tw);
	local_irq_save(flags);
	if (this_cpu_cmpxchg(tcs_tw_syn, tw, NULL) == tw ||
	    hlist_nulls_unhashed_lockless(&tw->tw_node))
		fate = TCS_S_TW_REUSED;
	tcs_track_tw_kill(tw, fate);
	local_irq_restore(flags);
	return 0;
}

/* inet_twsk_put(struct inet_timewait_sock *tw): see tcs_tw_syn. */
static int tcs_tw_put_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct inet_timewait_sock *tw;

	tcs_arg(regs, tw_put, 0, &tw);
	this_cpu_cmpxchg(tcs_tw_syn, tw, NULL);
	return 0;
}

/* The probes, one per TCS_HOOK_FUNCS entry: tcs_<id>_kp or tcs_<id>_rp. */
static struct kprobe tcs_tw_timer_kp = {
	.pre_handler	= tcs_tw_timer_pre,
};

static struct kprobe tcs_tw_kill_kp = {
	.pre_handler	= tcs_tw_kill_pre,
};

static struct kprobe tcs_tw_put_kp = {
	.pre_handler	= tcs_tw_put_pre,
};

static struct kretprobe tcs_twsk_alloc_rp = {
	.entry_handler	= tcs_twsk_alloc_entry,
	.handler	= tcs_twsk_alloc_ret,
	.data_size	= sizeof(const struct sock *),
};

static struct kretprobe tcs_tw_process_rp = {
	.entry_handler	= tcs_tw_process_entry,
	.handler	= tcs_tw_process_ret,
	.data_size	= sizeof(struct tcs_tw_process),
};

static struct kprobe tcs_hashdance_kp = {
	.pre_handler	= tcs_hashdance_pre,
};

static struct kprobe tcs_set_state_kp = {
	.pre_handler	= tcs_set_state_pre,
};

static struct kprobe tcs_inet_accept_kp = {
	.pre_handler	= tcs_inet_accept_pre,	/* no pair: it completes an entry */
};

struct tcs_hook {
	const char *name;
	struct kprobe *kp;	/* the kprobe, or the kretprobe's */
	struct kretprobe *rp;	/* NULL for a kprobe */
};

#define TCS_KIND_kprobe(id)	.kp = &tcs_##id##_kp
#define TCS_KIND_kretprobe(id)	.kp = &tcs_##id##_rp.kp, .rp = &tcs_##id##_rp

/*
 * Registration order.  Probes are armed one at a time, so while the
 * module loads, some probes run and others do not yet: a probe that makes
 * tracking entries (a beginning) must not run before those that end them,
 * or an entry made in between outlives its socket; and tcs_tw_syn must not
 * be set before its kill and put probes run.  So TCS_HOOK_FUNCS lists the
 * ends first, then the kretprobes, then the beginnings, and they are
 * registered in that order; unloading disarms in the opposite order.
 * Nothing pairs within a group.
 */
static const struct tcs_hook tcs_hooks[] = {
#define TCS_HOOK_FUNC(id, kind, sym, older_sym) \
	{ .name = TCS_SYMBOL(sym, older_sym), TCS_KIND_##kind(id) },
#define TCS_HOOK_ARG(...)
#define TCS_HOOK_RET(...)
	TCS_HOOK_EXPAND(TCS_HOOK_STRIP TCS_HOOK_FUNCS)
#undef TCS_HOOK_FUNC
#undef TCS_HOOK_ARG
#undef TCS_HOOK_RET
};

/* For unregister_k{,ret}probes(): one run of tcs_hooks[] at a time */
static struct kprobe *tcs_kprobes[ARRAY_SIZE(tcs_hooks)];
static struct kretprobe *tcs_kretprobes[ARRAY_SIZE(tcs_hooks)];

/*
 * Unregister the first @n hooks, last first.  Each run of hooks of one
 * kind is unregistered in one call, which waits for running handlers once
 * (synchronize_rcu()) and disarms its array in order: the run goes in
 * reversed.
 */
static void tcs_unregister(unsigned int n)
{
	unsigned int start, i;

	for (; n; n = start) {
		bool ret = tcs_hooks[n - 1].rp;

		for (start = n - 1; start && !!tcs_hooks[start - 1].rp == ret;)
			start--;
		for (i = 0; i < n - start; i++) {
			tcs_kprobes[i] = tcs_hooks[n - 1 - i].kp;
			tcs_kretprobes[i] = tcs_hooks[n - 1 - i].rp;
		}
		if (ret)
			unregister_kretprobes(tcs_kretprobes, n - start);
		else
			unregister_kprobes(tcs_kprobes, n - start);
	}
}

#define TCS_NO_SUCH_FUNCTION \
	" (no such function in this kernel: renamed, or inlined into its callers)"

/*
 * Register every probe, in table order, or none: on the first failure,
 * say which function could not be probed and remove the probes already
 * registered.
 */
int tcs_probes_register(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(tcs_hooks); i++) {
		const struct tcs_hook *h = &tcs_hooks[i];

		h->kp->symbol_name = h->name;
		if (h->rp) {
			/*
			 * Kretprobe instances in use at once: per CPU, a call
			 * in process context and one in a softirq interrupting
			 * it, and one for each task preempted inside
			 * inet_twsk_alloc() (process context runs it with BH
			 * enabled).  A call that finds none free is not seen;
			 * the kretprobe's nmissed counts it.
			 */
			h->rp->maxactive = max(16U, 4 * num_possible_cpus());
			err = register_kretprobe(h->rp);
		} else {
			err = register_kprobe(h->kp);
		}
		if (err) {
			pr_err("cannot probe %s: %pe%s\n", h->name, ERR_PTR(err),
			       err == -ENOENT ? TCS_NO_SUCH_FUNCTION : "");
			tcs_unregister(i);
			return err;
		}
	}
	return 0;
}

void tcs_probes_unregister(void)
{
	tcs_unregister(ARRAY_SIZE(tcs_hooks));
}

/*
 * A kretprobe misses a call when its entry kprobe is dropped (kp.nmissed)
 * or when no instance is free (nmissed).
 */
void tcs_probes_show_missed(struct seq_file *seq)
{
	const struct tcs_hook *h;

	for (h = tcs_hooks; h < tcs_hooks + ARRAY_SIZE(tcs_hooks); h++)
		seq_printf(seq, TCS_STAT_MISSED_PREFIX "%s %lu\n", h->name,
			   h->kp->nmissed +
			   (h->rp ? (unsigned long)h->rp->nmissed : 0));
}
