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
 *               timewait socket; it exists once TCS_TW_HASHDANCE_SYMBOL
 *               hashes it.  It counts if hashed in the TIME_WAIT substate,
 *               or when a FIN_WAIT2-substate timewait socket gets the
 *               peer's FIN: tcp_timewait_state_process() switches it with a
 *               plain store and returns TCP_TW_ACK.
 *   overflow    tcp_time_wait() could not allocate the timewait socket
 *               (tcp_max_tw_buckets, memory): inet_twsk_alloc() returned
 *               NULL to it.  DCCP's calls are filtered out.
 *   TIME_WAIT   ends in inet_twsk_kill(), exactly once per hashed timewait
 *   ends        socket: from tw_timer_handler() when it expires; after
 *               tcp_timewait_state_process() returned TCP_TW_SYN (a new
 *               SYN takes the 4-tuple) or tcp_twsk_unique() returned 1 (a
 *               connect() reuses it), both of which kill it right away on
 *               the same CPU; or otherwise (RST, ss -K, namespace exit).
 *
 * The per-CPU pointers below carry "what is this CPU in the middle of"
 * from one probe to the next; each pair of probes runs on one CPU with
 * softirqs off in between, so nothing else can run there meanwhile.
 *
 * All entry points start with __fentry__, so these kprobes run on ftrace.
 * A hit that arrives while another kprobe runs on the same CPU is dropped
 * by the kprobe core and counted in nmissed; those totals are published in
 * /proc/net/tcp_closestat_stat.
 */

#include <linux/kprobes.h>
#include <linux/net.h>
#include <linux/ptrace.h>
#include <net/inet_timewait_sock.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/tcp_states.h>

#include "compat.h"
#include "tcp_closestat.h"

static DEFINE_PER_CPU(const struct inet_timewait_sock *, tcs_tw_reusing);

static void *tcs_arg(struct pt_regs *regs, unsigned int n)
{
	return (void *)regs_get_kernel_argument(regs, n);
}

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
	struct tcs_net *tn;

	tn = tcs_lookup(read_pnet(&skc->skc_net), skc->skc_num,
			ntohs(skc->skc_dport), ports);
	if (tn)
		tcs_inc(ports, slot);
	return tn;
}

/* A timewait socket entered TIME_WAIT. */
static void tcs_tw_enter(const struct inet_timewait_sock *tw, bool tracked)
{
	struct tcs_ports ports;
	struct tcs_net *tn;

	tn = tcs_count(&tw->__tw_common, &ports, TCS_S_ENTER + TCS_STATE_TIME_WAIT);
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

/* tcp_set_state(struct sock *sk, int state) */
static int tcs_set_state_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *sk = tcs_arg(regs, 0);
	int state = (int)regs_get_kernel_argument(regs, 1);
	int old = READ_ONCE(sk->sk_state);
	int enter = tcs_tcp_state(state);
	struct tcs_ports ports;
	struct tcs_net *tn;

	if ((enter < 0 && tcs_tcp_state(old) < 0) || state == old ||
	    sk->sk_protocol != IPPROTO_TCP)
		return 0;

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
	const struct sock *sk = tcs_arg(regs, 0);

	if (sk->sk_protocol != IPPROTO_TCP)	/* DCCP */
		return 1;
	*(const struct sock **)ri->data = sk;
	return 0;
}

static int tcs_twsk_alloc_ret(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	const struct sock *sk = *(const struct sock **)ri->data;
	struct tcs_ports ports;

	if (!regs_return_value(regs))
		tcs_count(&sk->__sk_common, &ports, TCS_S_TW_OVERFLOW);
	return 0;
}

/* inet_twsk_hashdance{,_schedule}(struct inet_timewait_sock *tw,
 *				   struct sock *sk, ...)
 */
static int tcs_hashdance_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct inet_timewait_sock *tw = tcs_arg(regs, 0);
	struct sock *sk = tcs_arg(regs, 1);
	bool time_wait = tw->tw_substate == TCP_TIME_WAIT;
	struct tcs_ports ports;
	struct tcs_net *tn;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	tn = tcs_track_hashdance(sk, tw, time_wait ? TCS_STATE_TIME_WAIT :
						     TCS_STATE_FIN_WAIT2, &ports);
	if (!time_wait)
		return 0;
	/* @sk's FIN_WAIT2 entry tracks the TIME_WAIT now: count on its ports */
	if (tn && ports.p[TCS_SIDE_LOCAL] && ports.p[TCS_SIDE_REMOTE])
		tcs_inc(&ports, TCS_S_ENTER + TCS_STATE_TIME_WAIT);
	else
		tcs_tw_enter(tw, !!tn);
	return 0;
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

	d->tw = tcs_arg(regs, 0);
	d->substate = READ_ONCE(d->tw->tw_substate);
	return 0;
}

static int tcs_tw_process_ret(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	struct tcs_tw_process *d = (struct tcs_tw_process *)ri->data;
	unsigned long ret = regs_return_value(regs);

	if (ret == TCP_TW_SYN) {
		this_cpu_write(tcs_tw_reusing, d->tw);
	} else if (ret == TCP_TW_ACK && d->substate == TCP_FIN_WAIT2 &&
		   READ_ONCE(d->tw->tw_substate) == TCP_TIME_WAIT) {
		tcs_tw_enter(d->tw, tcs_track_tw_switch(d->tw));
	}
	return 0;
}

/* tcp_twsk_unique(struct sock *sk, struct sock *sktw, void *twp) */
static int tcs_twsk_unique_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	*(void **)ri->data = tcs_arg(regs, 1);
	return 0;
}

static int tcs_twsk_unique_ret(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	if (regs_return_value(regs) == 1)
		this_cpu_write(tcs_tw_reusing, *(void **)ri->data);
	return 0;
}

/*
 * tw_timer_handler(struct timer_list *t), whose one statement is
 * inet_twsk_kill(tw) on both kernels: the timewait socket expires, and
 * its entry ends here.  The kill that follows finds none.
 */
static int tcs_tw_timer_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct timer_list *t = tcs_arg(regs, 0);

	tcs_track_tw_kill(container_of(t, struct inet_timewait_sock, tw_timer),
			  TCS_S_TW_EXPIRED);
	return 0;
}

/* inet_twsk_kill(struct inet_timewait_sock *tw) */
static int tcs_tw_kill_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct inet_timewait_sock *tw = tcs_arg(regs, 0);
	enum tcs_slot fate = TCS_S_TW_KILLED;

	if (this_cpu_read(tcs_tw_reusing) == tw) {
		this_cpu_write(tcs_tw_reusing, NULL);
		fate = TCS_S_TW_REUSED;
	}
	tcs_track_tw_kill(tw, fate);
	return 0;
}

static struct kprobe tcs_set_state_kp = {
	.symbol_name	= "tcp_set_state",
	.pre_handler	= tcs_set_state_pre,
};

static struct kprobe tcs_hashdance_kp = {
	.symbol_name	= TCS_TW_HASHDANCE_SYMBOL,
	.pre_handler	= tcs_hashdance_pre,
};

static struct kprobe tcs_tw_timer_kp = {
	.symbol_name	= "tw_timer_handler",
	.pre_handler	= tcs_tw_timer_pre,
};

static struct kprobe tcs_tw_kill_kp = {
	.symbol_name	= "inet_twsk_kill",
	.pre_handler	= tcs_tw_kill_pre,
};

static struct kretprobe tcs_twsk_alloc_rp = {
	.kp.symbol_name	= "inet_twsk_alloc",
	.entry_handler	= tcs_twsk_alloc_entry,
	.handler	= tcs_twsk_alloc_ret,
	.data_size	= sizeof(void *),
};

static struct kretprobe tcs_tw_process_rp = {
	.kp.symbol_name	= "tcp_timewait_state_process",
	.entry_handler	= tcs_tw_process_entry,
	.handler	= tcs_tw_process_ret,
	.data_size	= sizeof(struct tcs_tw_process),
};

static struct kretprobe tcs_twsk_unique_rp = {
	.kp.symbol_name	= "tcp_twsk_unique",
	.entry_handler	= tcs_twsk_unique_entry,
	.handler	= tcs_twsk_unique_ret,
	.data_size	= sizeof(void *),
};

static struct kprobe *tcs_kprobes[] = {
	&tcs_set_state_kp,
	&tcs_hashdance_kp,
	&tcs_tw_timer_kp,
	&tcs_tw_kill_kp,
};

static struct kretprobe *tcs_kretprobes[] = {
	&tcs_twsk_alloc_rp,
	&tcs_tw_process_rp,
	&tcs_twsk_unique_rp,
};

int tcs_probes_register(void)
{
	int err;

	err = register_kprobes(tcs_kprobes, ARRAY_SIZE(tcs_kprobes));
	if (err) {
		pr_err("cannot register the kprobes: %d\n", err);
		return err;
	}
	err = register_kretprobes(tcs_kretprobes, ARRAY_SIZE(tcs_kretprobes));
	if (err) {
		pr_err("cannot register the kretprobes: %d\n", err);
		unregister_kprobes(tcs_kprobes, ARRAY_SIZE(tcs_kprobes));
		return err;
	}
	return 0;
}

void tcs_probes_unregister(void)
{
	unregister_kretprobes(tcs_kretprobes, ARRAY_SIZE(tcs_kretprobes));
	unregister_kprobes(tcs_kprobes, ARRAY_SIZE(tcs_kprobes));
}

void tcs_probes_show_missed(struct seq_file *seq)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tcs_kprobes); i++)
		seq_printf(seq, TCS_STAT_MISSED_PREFIX "%s %lu\n",
			   tcs_kprobes[i]->symbol_name,
			   tcs_kprobes[i]->nmissed);
	for (i = 0; i < ARRAY_SIZE(tcs_kretprobes); i++)
		seq_printf(seq, TCS_STAT_MISSED_PREFIX "%s %lu\n",
			   tcs_kretprobes[i]->kp.symbol_name,
			   tcs_kretprobes[i]->kp.nmissed +
			   (unsigned long)tcs_kretprobes[i]->nmissed);
}
