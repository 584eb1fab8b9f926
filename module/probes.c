// SPDX-License-Identifier: GPL-2.0
/*
 * The probes.  Which kernel function each state entry goes through:
 *
 *   CLOSE_WAIT  tcp_set_state(sk, TCP_CLOSE_WAIT), from tcp_fin().
 *   FIN_WAIT2   tcp_set_state(sk, TCP_FIN_WAIT2).  __tcp_close() also calls
 *               it for a socket already in FIN_WAIT2: not a transition.
 *   TIME_WAIT   never through tcp_set_state().  A timewait socket is made
 *               by tcp_time_wait(), which may fail (tcp_max_tw_buckets,
 *               memory) and then only bumps TCPTimeWaitOverflow; it exists
 *               once it is hashed, by TCS_TW_HASHDANCE_SYMBOL.  It counts
 *               if it is hashed in the TIME_WAIT substate, or later, when a
 *               FIN_WAIT2-substate timewait socket gets the peer's FIN and
 *               tcp_timewait_state_process() switches it to TIME_WAIT with
 *               a plain store and returns TCP_TW_ACK.
 *
 * All entry points start with __fentry__, so these kprobes run on ftrace.
 * A hit that arrives while another kprobe runs on the same CPU is dropped
 * by the kprobe core and counted in nmissed; those totals are published in
 * /proc/net/tcp_closestat_stat.
 */

#include <linux/kprobes.h>
#include <linux/ptrace.h>
#include <net/inet_timewait_sock.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/tcp_states.h>

#include "compat.h"
#include "tcp_closestat.h"

static void *tcs_arg(struct pt_regs *regs, unsigned int n)
{
	return (void *)regs_get_kernel_argument(regs, n);
}

/* tcp_set_state(struct sock *sk, int state) */
static int tcs_set_state_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct sock *sk = tcs_arg(regs, 0);
	int state = (int)regs_get_kernel_argument(regs, 1);
	enum tcs_counter c;

	if (state == TCP_CLOSE_WAIT)
		c = TCS_CLOSE_WAIT;
	else if (state == TCP_FIN_WAIT2)
		c = TCS_FIN_WAIT2;
	else
		return 0;
	if (READ_ONCE(sk->sk_state) == state ||
	    sk->sk_protocol != IPPROTO_TCP)
		return 0;
	tcs_count(sock_net(sk), sk->sk_num, ntohs(sk->sk_dport), c);
	return 0;
}

/* inet_twsk_hashdance{,_schedule}(struct inet_timewait_sock *tw,
 *				   struct sock *sk, ...)
 */
static int tcs_hashdance_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct inet_timewait_sock *tw = tcs_arg(regs, 0);
	struct sock *sk = tcs_arg(regs, 1);

	if (tw->tw_substate != TCP_TIME_WAIT ||
	    sk->sk_protocol != IPPROTO_TCP)
		return 0;
	tcs_count(twsk_net(tw), tw->tw_num, ntohs(tw->tw_dport),
		  TCS_TIME_WAIT);
	return 0;
}

/*
 * tcp_timewait_state_process(struct inet_timewait_sock *tw, ...): arm the
 * return probe only for a FIN_WAIT2-substate socket.  On TCP_TW_ACK the
 * caller still holds its reference, so tw is valid on return; a switch to
 * TIME_WAIT happened in this call iff the substate is now TIME_WAIT.
 */
static int tcs_tw_process_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct inet_timewait_sock *tw = tcs_arg(regs, 0);

	if (READ_ONCE(tw->tw_substate) != TCP_FIN_WAIT2)
		return 1;
	*(struct inet_timewait_sock **)ri->data = tw;
	return 0;
}

static int tcs_tw_process_ret(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	struct inet_timewait_sock *tw = *(struct inet_timewait_sock **)ri->data;

	if (regs_return_value(regs) != TCP_TW_ACK ||
	    READ_ONCE(tw->tw_substate) != TCP_TIME_WAIT)
		return 0;
	tcs_count(twsk_net(tw), tw->tw_num, ntohs(tw->tw_dport),
		  TCS_TIME_WAIT);
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

static struct kretprobe tcs_tw_process_rp = {
	.kp.symbol_name	= "tcp_timewait_state_process",
	.entry_handler	= tcs_tw_process_entry,
	.handler	= tcs_tw_process_ret,
	.data_size	= sizeof(struct inet_timewait_sock *),
};

static struct kprobe *tcs_kprobes[] = {
	&tcs_set_state_kp,
	&tcs_hashdance_kp,
};

int tcs_probes_register(void)
{
	int err;

	err = register_kprobes(tcs_kprobes, ARRAY_SIZE(tcs_kprobes));
	if (err) {
		pr_err("cannot register kprobes on tcp_set_state and %s: %d\n",
		       TCS_TW_HASHDANCE_SYMBOL, err);
		return err;
	}
	err = register_kretprobe(&tcs_tw_process_rp);
	if (err) {
		pr_err("cannot register kretprobe on %s: %d\n",
		       tcs_tw_process_rp.kp.symbol_name, err);
		unregister_kprobes(tcs_kprobes, ARRAY_SIZE(tcs_kprobes));
		return err;
	}
	return 0;
}

void tcs_probes_unregister(void)
{
	unregister_kretprobe(&tcs_tw_process_rp);
	unregister_kprobes(tcs_kprobes, ARRAY_SIZE(tcs_kprobes));
}

void tcs_probes_show_missed(struct seq_file *seq)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tcs_kprobes); i++)
		seq_printf(seq, TCS_STAT_MISSED_PREFIX "%s %lu\n",
			   tcs_kprobes[i]->symbol_name,
			   tcs_kprobes[i]->nmissed);
	seq_printf(seq, TCS_STAT_MISSED_PREFIX "%s %lu\n",
		   tcs_tw_process_rp.kp.symbol_name,
		   tcs_tw_process_rp.kp.nmissed +
		   (unsigned long)tcs_tw_process_rp.nmissed);
}
