// SPDX-License-Identifier: GPL-2.0
/*
 * tcs_witness: a second count, independent of tcp_closestat.ko, of the TCP
 * sockets entering TIME_WAIT, CLOSE_WAIT and FIN_WAIT2 and of the
 * timewait sockets the kernel could not make, per (network namespace,
 * side, port), with the definitions of Documentation/tcp_closestat.rst
 * ("What is counted").  The module uses kprobes and its own per-CPU
 * bookkeeping; this uses the inet_sock_set_state tracepoint and BPF
 * trampolines (fentry/fexit), with hash maps keyed by object:
 *
 *   CLOSE_WAIT, FIN_WAIT2  tp_btf/inet_sock_set_state: a TCP socket's
 *                          state changes to it from another state (a
 *                          same-state call is no transition).
 *   TIME_WAIT              fentry of the function that hashes a new
 *                          timewait socket (inet_twsk_hashdance on 6.1,
 *                          inet_twsk_hashdance_schedule later; the loader
 *                          loads the one this kernel has), for a TCP
 *                          socket, if the timewait socket is in the
 *                          TIME_WAIT substate; and
 *                          tcp_timewait_state_process() returning
 *                          TCP_TW_ACK after switching a timewait socket
 *                          from the FIN_WAIT2 substate to TIME_WAIT (the
 *                          peer's FIN reached an orphaned FIN_WAIT2), if
 *                          it stays there (the switch rearmed its timer:
 *                          it was not already ending), once per timewait
 *                          socket (copies of the FIN processed at once
 *                          on two CPUs switch it once).
 *   tw_overflow            inet_twsk_alloc() returns NULL for a TCP
 *                          socket: tcp_time_wait() closes it instead.
 *
 * Each event counts under both ends' ports, as the module's do.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tcs_witness.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCS_WITNESS_MAX_KEYS);
	__type(key, struct tcs_witness_key);
	__type(value, struct tcs_witness_counts);
} counts SEC(".maps");

/*
 * FIN_WAIT2-substate timewait sockets inside tcp_timewait_state_process(),
 * per CPU: it runs in a softirq, from entry to exit on one CPU.
 */
struct tw_call {
	__u64 tw;
	__u32 cpu;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCS_WITNESS_MAX_PENDING);
	__type(key, struct tw_call);
	__type(value, __u8);
} fin_wait2_tw SEC(".maps");

/*
 * Timewait sockets counted when they switched to TIME_WAIT, until they
 * end (inet_twsk_kill) or their memory is hashed as a new one.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCS_WITNESS_MAX_PENDING);
	__type(key, __u64);
	__type(value, __u8);
} switched SEC(".maps");

/* Events not counted because a map was full. */
__u64 lost;

static struct tcs_witness_ends ends_of(const struct sock_common *skc)
{
	struct tcs_witness_ends e = {
		.netns = BPF_CORE_READ(skc, skc_net.net, ns.inum),
		.lport = BPF_CORE_READ(skc, skc_num),
		.rport = bpf_ntohs(BPF_CORE_READ(skc, skc_dport)),
	};

	return e;
}

static void count_one(__u32 netns, __u16 side, __u16 port, int what)
{
	struct tcs_witness_key key = { .netns = netns, .side = side, .port = port };
	struct tcs_witness_counts *c, zero = {};

	c = bpf_map_lookup_elem(&counts, &key);
	if (!c) {
		bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&counts, &key);
		if (!c) {
			__sync_fetch_and_add(&lost, 1);
			return;
		}
	}
	__sync_fetch_and_add(&c->n[what], 1);
}

static void count(const struct tcs_witness_ends *e, int what)
{
	count_one(e->netns, TCS_WITNESS_LOCAL, e->lport, what);
	count_one(e->netns, TCS_WITNESS_REMOTE, e->rport, what);
}

static void count_skc(const struct sock_common *skc, int what)
{
	struct tcs_witness_ends e = ends_of(skc);

	count(&e, what);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcs_w_set_state, const struct sock *sk, const int oldstate,
	     const int newstate)
{
	if (oldstate == newstate ||
	    BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_CLOSE_WAIT)
		count_skc(&sk->__sk_common, TCS_WITNESS_CLOSE_WAIT);
	else if (newstate == TCP_FIN_WAIT2)
		count_skc(&sk->__sk_common, TCS_WITNESS_FIN_WAIT2);
	return 0;
}

/*
 * The return value is read with bpf_get_func_ret(), which does not depend
 * on the number of arguments.  @sk is valid: tcp_time_wait()'s caller
 * holds a reference.
 */
SEC("fexit/inet_twsk_alloc")
int BPF_PROG(tcs_w_twsk_alloc_exit, const struct sock *sk)
{
	__u64 ret = 0;

	bpf_get_func_ret(ctx, &ret);
	if (!ret && BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP)
		count_skc(&sk->__sk_common, TCS_WITNESS_TW_OVERFLOW);
	return 0;
}

static int hashdance(struct inet_timewait_sock *tw, struct sock *sk)
{
	__u64 key = (__u64)tw;

	bpf_map_delete_elem(&switched, &key);
	if (BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP &&
	    BPF_CORE_READ(tw, tw_substate) == TCP_TIME_WAIT)
		count_skc(&tw->__tw_common, TCS_WITNESS_TIME_WAIT);
	return 0;
}

SEC("fentry/inet_twsk_hashdance_schedule")
int BPF_PROG(tcs_w_hashdance_schedule, struct inet_timewait_sock *tw,
	     struct sock *sk)
{
	return hashdance(tw, sk);
}

SEC("fentry/inet_twsk_hashdance")
int BPF_PROG(tcs_w_hashdance, struct inet_timewait_sock *tw, struct sock *sk)
{
	return hashdance(tw, sk);
}

SEC("fentry/inet_twsk_kill")
int BPF_PROG(tcs_w_tw_kill, struct inet_timewait_sock *tw)
{
	__u64 key = (__u64)tw;

	bpf_map_delete_elem(&switched, &key);
	return 0;
}

SEC("fentry/tcp_timewait_state_process")
int BPF_PROG(tcs_w_tw_process, struct inet_timewait_sock *tw)
{
	struct tw_call key = { .tw = (__u64)tw, .cpu = bpf_get_smp_processor_id() };
	__u8 one = 1;

	if (BPF_CORE_READ(tw, tw_substate) == TCP_FIN_WAIT2 &&
	    bpf_map_update_elem(&fin_wait2_tw, &key, &one, BPF_ANY))
		__sync_fetch_and_add(&lost, 1);
	return 0;
}

/*
 * On TCP_TW_ACK the caller still holds its reference: tw can be read.
 * The return value is read with bpf_get_func_ret(), which does not depend
 * on the number of arguments (6.12 added one).  The switch rearms the
 * timer only if it is pending: if it is not, the FIN_WAIT2 timeout fired,
 * or a kill took it, and the socket ends without staying in TIME_WAIT.
 */
SEC("fexit/tcp_timewait_state_process")
int BPF_PROG(tcs_w_tw_process_exit, struct inet_timewait_sock *tw)
{
	struct tw_call key = { .tw = (__u64)tw, .cpu = bpf_get_smp_processor_id() };
	__u64 ret = 0, twkey = (__u64)tw;
	__u8 one = 1;

	if (bpf_map_delete_elem(&fin_wait2_tw, &key))
		return 0;		/* was not in FIN_WAIT2 */
	bpf_get_func_ret(ctx, &ret);
	if (ret != TCP_TW_ACK ||
	    BPF_CORE_READ(tw, tw_substate) != TCP_TIME_WAIT ||
	    !BPF_CORE_READ(tw, tw_timer.entry.pprev))
		return 0;
	if (bpf_map_update_elem(&switched, &twkey, &one, BPF_NOEXIST)) {
		if (!bpf_map_lookup_elem(&switched, &twkey))
			__sync_fetch_and_add(&lost, 1);
		return 0;		/* switched already, or lost */
	}
	count_skc(&tw->__tw_common, TCS_WITNESS_TIME_WAIT);
	return 0;
}
