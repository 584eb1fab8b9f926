// SPDX-License-Identifier: GPL-2.0
/*
 * Per-socket tracking: which sockets are in TIME_WAIT, CLOSE_WAIT or
 * FIN_WAIT2 now, and since when.  It feeds the *_now gauges, the TIME_WAIT
 * fates, the time-in-state histograms, close_wait_oldest_ms and
 * /proc/net/tcp_closestat_sockets.
 *
 * A tracked socket has one entry, keyed by the address of its struct sock
 * or, once it became a timewait socket, of its struct inet_timewait_sock.
 * Entries sit in a hash table of max_tracked / 4 buckets, each with its own
 * spinlock; a socket's entry is touched about four times in its life, under
 * a lock that other CPUs only contend for when they touch a socket hashing
 * to the same bucket.  The locks are taken with interrupts off: the probes
 * run in process and softirq context, and must not end a softirq-disabled
 * section from inside a probe handler.
 *
 * The number of entries is bounded by the max_tracked module parameter
 * (plus the slack of a percpu_counter: at most percpu_counter_batch per
 * CPU).  A socket that cannot be tracked, because the table is full or an
 * entry cannot be allocated, is counted in its namespace's "untracked" (a
 * per-CPU count of the namespace, summed when read); the entry counters
 * do not depend on tracking and stay exact.
 *
 * An entry never points into the socket: everything /proc shows is copied
 * when the entry is made, so an exit the probes missed leaves a stale entry
 * (replaced when its address is reused), never a dangling read.
 */

#include <linux/hash.h>
#include <linux/in6.h>
#include <linux/log2.h>
#include <linux/moduleparam.h>
#include <linux/net.h>
#include <linux/percpu_counter.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <net/inet_timewait_sock.h>
#include <net/sock.h>

#include "tcp_closestat.h"

#define TCS_MAX_TRACKED_LIMIT	BIT(24)

unsigned int tcs_max_tracked = 65536;

static int tcs_max_tracked_set(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int err;

	err = kstrtouint(val, 0, &n);
	if (err || n > TCS_MAX_TRACKED_LIMIT) {
		pr_err("max_tracked must be a number from 0 to %lu, not '%s'\n",
		       TCS_MAX_TRACKED_LIMIT, val);
		return -EINVAL;
	}
	*(unsigned int *)kp->arg = n;
	return 0;
}

static const struct kernel_param_ops tcs_max_tracked_ops = {
	.set	= tcs_max_tracked_set,
	.get	= param_get_uint,
};

module_param_cb(max_tracked, &tcs_max_tracked_ops, &tcs_max_tracked, 0444);
MODULE_PARM_DESC(max_tracked,
		 "sockets tracked at once for gauges, fates and times (0 to 16777216, default 65536; 0 disables tracking)");

struct tcs_track {
	struct hlist_node node;
	const void *obj;		/* struct sock or inet_timewait_sock */
	struct tcs_net *tn;
	struct tcs_ports ports;
	struct tcs_sock_info info;	/* what /proc shows */
};

struct tcs_bucket {
	spinlock_t lock;		/* protects head */
	struct hlist_head head;
};

/*
 * Each CPU keeps up to TCS_STASH freed entries for its next allocations:
 * a kmem_cache_alloc() and kmem_cache_free() pair costs about 400
 * instructions (init_on_alloc zeroes the object), a stash hit about 20.
 * An entry is made and ended about twice per connection.
 */
#define TCS_STASH	16

struct tcs_stash {
	unsigned int n;
	struct tcs_track *t[TCS_STASH];
};

static DEFINE_PER_CPU(struct tcs_stash, tcs_stash);
static struct kmem_cache *tcs_track_cache;
static struct tcs_bucket *tcs_buckets;
static unsigned int tcs_bucket_bits;
static struct percpu_counter tcs_nr_tracked;

int tcs_track_init(void)
{
	unsigned int i, n;
	int err;

	n = roundup_pow_of_two(max(tcs_max_tracked / 4, 64U));
	tcs_bucket_bits = ilog2(n);
	tcs_buckets = kvcalloc(n, sizeof(*tcs_buckets), GFP_KERNEL);
	if (!tcs_buckets)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		spin_lock_init(&tcs_buckets[i].lock);
		INIT_HLIST_HEAD(&tcs_buckets[i].head);
	}
	err = percpu_counter_init(&tcs_nr_tracked, 0, GFP_KERNEL);
	if (err)
		goto err_buckets;
	tcs_track_cache = KMEM_CACHE(tcs_track, 0);
	if (!tcs_track_cache) {
		err = -ENOMEM;
		goto err_counter;
	}
	return 0;

err_counter:
	percpu_counter_destroy(&tcs_nr_tracked);
err_buckets:
	kvfree(tcs_buckets);
	return err;
}

/* After every namespace was purged and the probes are gone. */
void tcs_track_exit(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		struct tcs_stash *st = per_cpu_ptr(&tcs_stash, cpu);

		while (st->n)
			kmem_cache_free(tcs_track_cache, st->t[--st->n]);
	}
	kmem_cache_destroy(tcs_track_cache);
	percpu_counter_destroy(&tcs_nr_tracked);
	kvfree(tcs_buckets);
}

long tcs_tracked(void)
{
	return percpu_counter_sum(&tcs_nr_tracked);
}

static struct tcs_bucket *tcs_bucket(const void *obj)
{
	return &tcs_buckets[hash_ptr(obj, tcs_bucket_bits)];
}

static struct tcs_track *tcs_find(struct tcs_bucket *b, const void *obj)
{
	struct tcs_track *t;

	hlist_for_each_entry(t, &b->head, node)
		if (t->obj == obj)
			return t;
	return NULL;
}

/*
 * Find and unhash the entry of @obj, unless its namespace is going away:
 * then tcs_track_purge() owns it.
 */
static struct tcs_track *tcs_take(const void *obj)
{
	struct tcs_bucket *b = tcs_bucket(obj);
	struct tcs_track *t;
	unsigned long flags;

	spin_lock_irqsave(&b->lock, flags);
	t = tcs_find(b, obj);
	if (t && !READ_ONCE(t->tn->dying))
		hlist_del(&t->node);
	else
		t = NULL;
	spin_unlock_irqrestore(&b->lock, flags);
	return t;
}

/* Account the end of @t's stay in its state at @now. */
static void tcs_leave(struct tcs_track *t, u64 now)
{
	tcs_dec(&t->ports, TCS_S_NOW + t->info.state);
	tcs_hist_add(t->tn, t->info.state, now - t->info.since);
}

/* @t's FIN_WAIT2 stay ends now, and its TIME_WAIT stay starts. */
static void tcs_to_time_wait(struct tcs_track *t)
{
	u64 now = ktime_get_ns();

	tcs_leave(t, now);
	t->info.state = TCS_STATE_TIME_WAIT;
	t->info.since = now;
	tcs_inc(&t->ports, TCS_S_NOW + TCS_STATE_TIME_WAIT);
}

static struct tcs_track *tcs_alloc(void)
{
	struct tcs_track *t = NULL;
	struct tcs_stash *st;
	unsigned long flags;

	local_irq_save(flags);
	st = this_cpu_ptr(&tcs_stash);
	if (st->n)
		t = st->t[--st->n];
	local_irq_restore(flags);
	if (!t)
		t = kmem_cache_alloc(tcs_track_cache, GFP_NOWAIT | __GFP_NOWARN);
	return t;
}

static void tcs_free(struct tcs_track *t)
{
	struct tcs_stash *st;
	unsigned long flags;

	percpu_counter_dec(&tcs_nr_tracked);
	local_irq_save(flags);
	st = this_cpu_ptr(&tcs_stash);
	if (st->n < TCS_STASH) {
		st->t[st->n++] = t;
		t = NULL;
	}
	local_irq_restore(flags);
	if (t)
		kmem_cache_free(tcs_track_cache, t);
}

static void tcs_copy_addrs(struct tcs_sock_info *info,
			   const struct sock_common *skc)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (skc->skc_family == AF_INET6) {
		info->saddr = skc->skc_v6_rcv_saddr;
		info->daddr = skc->skc_v6_daddr;
		return;
	}
#endif
	memset(&info->saddr, 0, sizeof(info->saddr));
	memset(&info->daddr, 0, sizeof(info->daddr));
	info->saddr.s6_addr32[0] = skc->skc_rcv_saddr;
	info->daddr.s6_addr32[0] = skc->skc_daddr;
}

/*
 * Hash @t under its object's address.  An entry already there is stale (an
 * exit the probes missed left it, and the address was reused): end it.
 *
 * Whether the stale entry's namespace is going away is read under the
 * lock: while the entry is in a bucket, tcs_track_purge() of its namespace
 * has not passed that bucket, so the namespace and its ports still exist.
 * Once unhashed here, the purge no longer waits for it, and the namespace
 * may be freed as soon as the purge is done.  If it was not dying when read,
 * its pre_exit had not run yet, and the synchronize_rcu() that follows
 * pre_exit waits for this handler, which runs with preemption disabled:
 * its ports stay valid until we return.
 */
static void tcs_insert(struct tcs_track *t)
{
	struct tcs_bucket *b = tcs_bucket(t->obj);
	struct tcs_track *old;
	unsigned long flags;
	bool count = false;

	spin_lock_irqsave(&b->lock, flags);
	old = tcs_find(b, t->obj);
	if (old) {
		hlist_del(&old->node);
		count = !READ_ONCE(old->tn->dying);
	}
	hlist_add_head(&t->node, &b->head);
	spin_unlock_irqrestore(&b->lock, flags);

	if (old) {
		if (count)
			tcs_dec(&old->ports, TCS_S_NOW + old->info.state);
		tcs_free(old);
	}
}

/*
 * A new entry for @skc in @state, counted in the gauges, not hashed yet;
 * NULL, counted in untracked, if the table is full or has no memory.
 */
static struct tcs_track *tcs_new(struct tcs_net *tn,
				 const struct tcs_ports *ports,
				 const struct sock_common *skc, unsigned long ino,
				 enum tcs_state state)
{
	struct tcs_track *t;

	if (percpu_counter_read_positive(&tcs_nr_tracked) >= tcs_max_tracked)
		goto untracked;
	t = tcs_alloc();
	if (!t)
		goto untracked;

	t->obj = skc;
	t->tn = tn;
	t->ports = *ports;
	t->info.since = ktime_get_ns();
	t->info.state = state;
	t->info.family = skc->skc_family;
	t->info.sport = skc->skc_num;
	t->info.dport = ntohs(skc->skc_dport);
	t->info.ino = ino;
	tcs_copy_addrs(&t->info, skc);

	percpu_counter_inc(&tcs_nr_tracked);
	/* before the entry is hashed: an end may count out right after */
	tcs_inc(ports, TCS_S_NOW + state);
	return t;

untracked:
	tcs_untracked_inc(tn);
	return NULL;
}

/* Undo tcs_new() of an entry that was not, or is no longer, hashed. */
static void tcs_cancel(struct tcs_track *t)
{
	tcs_dec(&t->ports, TCS_S_NOW + t->info.state);
	tcs_free(t);
}

/*
 * The socket or timewait socket whose common part is @skc entered @state.
 * @ino is its file's inode number, 0 if it has none.
 */
void tcs_track_enter(struct tcs_net *tn, const struct tcs_ports *ports,
		     const struct sock_common *skc, unsigned long ino,
		     enum tcs_state state)
{
	struct tcs_track *t = tcs_new(tn, ports, skc, ino, state);

	if (t)
		tcs_insert(t);
}

/*
 * Full socket @obj, which entered CLOSE_WAIT before it had a file, is
 * being accepted: its file's inode is @ino.
 */
void tcs_track_set_ino(const void *obj, unsigned long ino)
{
	struct tcs_bucket *b = tcs_bucket(obj);
	struct tcs_track *t;
	unsigned long flags;

	if (!tcs_max_tracked)
		return;
	spin_lock_irqsave(&b->lock, flags);
	t = tcs_find(b, obj);
	if (t && t->info.state == TCS_STATE_CLOSE_WAIT)
		t->info.ino = ino;
	spin_unlock_irqrestore(&b->lock, flags);
}

/* A full socket left CLOSE_WAIT or FIN_WAIT2. */
void tcs_track_leave_sk(const void *obj)
{
	struct tcs_track *t;

	if (!tcs_max_tracked)
		return;
	t = tcs_take(obj);
	if (!t)
		return;
	tcs_leave(t, ktime_get_ns());
	tcs_free(t);
}

/*
 * Full socket @sk was replaced by timewait socket @tw, hashed in substate
 * @state.  A tracked FIN_WAIT2 stay goes on in @tw, or ends if @tw starts
 * TIME_WAIT: then the same entry tracks the TIME_WAIT stay.  Returns the
 * namespace if the entry moved to @tw, with its ports in @ports; NULL if
 * @sk was not tracked.
 */
struct tcs_net *tcs_track_hashdance(const struct sock *sk, const void *tw,
				    enum tcs_state state,
				    struct tcs_ports *ports)
{
	struct tcs_track *t;
	struct tcs_net *tn;

	if (!tcs_max_tracked)
		return NULL;
	t = tcs_take(sk);
	if (!t)
		return NULL;
	if (t->info.state != TCS_STATE_FIN_WAIT2) {
		/* not reached: only FIN_WAIT2 of the three precedes a timewait */
		tcs_leave(t, ktime_get_ns());
		tcs_free(t);
		return NULL;
	}
	if (state == TCS_STATE_TIME_WAIT)
		tcs_to_time_wait(t);
	t->obj = tw;
	t->info.ino = 0;
	*ports = t->ports;
	tn = t->tn;
	tcs_insert(t);		/* another CPU may end @t from here on */
	return tn;
}

/*
 * A FIN_WAIT2-substate timewait socket switched to TIME_WAIT.  If it is
 * tracked, its FIN_WAIT2 stay ends and its TIME_WAIT stay starts, in the
 * same entry.  An entry already in TIME_WAIT means that another copy of
 * the peer's FIN, processed on another CPU at the same time, switched it.
 */
enum tcs_switch tcs_track_tw_switch(const void *tw)
{
	struct tcs_bucket *b = tcs_bucket(tw);
	enum tcs_switch ret = TCS_SWITCH_UNTRACKED;
	struct tcs_track *t;
	unsigned long flags;

	if (!tcs_max_tracked)
		return ret;
	spin_lock_irqsave(&b->lock, flags);
	t = tcs_find(b, tw);
	if (t && !READ_ONCE(t->tn->dying)) {
		if (t->info.state == TCS_STATE_FIN_WAIT2) {
			tcs_to_time_wait(t);
			ret = TCS_SWITCH_TRACKED;
		} else {
			ret = TCS_SWITCH_DONE;
		}
	}
	spin_unlock_irqrestore(&b->lock, flags);
	return ret;
}

/*
 * Untracked timewait socket @tw switched from FIN_WAIT2 to TIME_WAIT, in
 * namespace @tn on @ports: track it, unless it is ending.  Returns whether
 * its TIME_WAIT counts.
 *
 * It may be ending on another CPU right now: its FIN_WAIT2 timeout fired,
 * or a kill descheduled it, and that end's probe already looked for an
 * entry and found none.  Both take the timer off its queue before they
 * look, under the bucket lock.  So: hash the entry, then look at the timer.
 * Still pending: the end is yet to come, and will find the entry.  Not
 * pending: take the entry back; if the end took it first, the end counted
 * the stay, so the caller counts the entry into TIME_WAIT too.  Either the
 * end locked the bucket after us and found the entry, or before us, and
 * its unlock made the timer's removal visible to us.
 */
bool tcs_track_tw_enter(struct tcs_net *tn, const struct tcs_ports *ports,
			const struct inet_timewait_sock *tw)
{
	struct tcs_bucket *b = tcs_bucket(tw);
	struct tcs_track *t, *old;
	unsigned long flags;

	t = tcs_new(tn, ports, &tw->__tw_common, 0, TCS_STATE_TIME_WAIT);
	if (!t)
		return true;
	spin_lock_irqsave(&b->lock, flags);
	old = tcs_find(b, tw);
	if (!old)
		hlist_add_head(&t->node, &b->head);
	spin_unlock_irqrestore(&b->lock, flags);
	if (old) {
		/* another copy of the FIN tracked it first */
		tcs_cancel(t);
		return false;
	}
	if (timer_pending(&tw->tw_timer))
		return true;

	spin_lock_irqsave(&b->lock, flags);
	old = tcs_find(b, tw);
	if (old == t)
		hlist_del(&t->node);
	spin_unlock_irqrestore(&b->lock, flags);
	if (old != t)
		return true;
	tcs_cancel(t);
	return false;
}

/* A timewait socket ended; @fate applies if it was in TIME_WAIT. */
void tcs_track_tw_kill(const void *tw, enum tcs_slot fate)
{
	struct tcs_track *t;

	if (!tcs_max_tracked)
		return;
	t = tcs_take(tw);
	if (!t)
		return;
	if (t->info.state == TCS_STATE_TIME_WAIT)
		tcs_inc(&t->ports, fate);
	tcs_leave(t, ktime_get_ns());
	tcs_free(t);
}

/* Drop every entry of a namespace that is going away. */
void tcs_track_purge(struct tcs_net *tn)
{
	unsigned int i;

	for (i = 0; i < BIT(tcs_bucket_bits); i++) {
		struct tcs_bucket *b = &tcs_buckets[i];
		struct tcs_track *t;
		struct hlist_node *tmp;
		HLIST_HEAD(dead);
		unsigned long flags;

		spin_lock_irqsave(&b->lock, flags);
		hlist_for_each_entry_safe(t, tmp, &b->head, node) {
			if (t->tn != tn)
				continue;
			hlist_del(&t->node);
			hlist_add_head(&t->node, &dead);
		}
		spin_unlock_irqrestore(&b->lock, flags);
		hlist_for_each_entry_safe(t, tmp, &dead, node)
			tcs_free(t);
		cond_resched();
	}
}

/* Keep in *@oldest_ns the oldest @since seen in scan @gen. */
static void tcs_oldest(u64 *oldest_ns, unsigned long *scan_gen,
		       unsigned long gen, u64 since)
{
	if (*scan_gen != gen || since < *oldest_ns)
		*oldest_ns = since;
	WRITE_ONCE(*scan_gen, gen);
}

/*
 * Find the oldest tracked CLOSE_WAIT of every port of @tn, and of each
 * fold row: afterwards port->oldest_ns is valid where port->scan_gen
 * equals the returned generation, and so is tn->fold[side].oldest_ns.
 * Called with tn->scan_lock held.
 */
unsigned long tcs_track_scan(struct tcs_net *tn)
{
	unsigned long gen = ++tn->scan_gen;
	unsigned int i, side;

	lockdep_assert_held(&tn->scan_lock);
	for (i = 0; i < BIT(tcs_bucket_bits); i++) {
		struct tcs_bucket *b = &tcs_buckets[i];
		struct tcs_track *t;
		unsigned long flags;

		if (hlist_empty(&b->head))
			continue;
		spin_lock_irqsave(&b->lock, flags);
		hlist_for_each_entry(t, &b->head, node) {
			if (t->tn != tn || t->info.state != TCS_STATE_CLOSE_WAIT)
				continue;
			for (side = 0; side < TCS_NR_SIDES; side++) {
				struct tcs_port *port = t->ports.p[side];

				tcs_oldest(&port->oldest_ns, &port->scan_gen,
					   gen, t->info.since);
				if (port->fold)
					tcs_oldest(&tn->fold[side].oldest_ns,
						   &tn->fold[side].scan_gen,
						   gen, t->info.since);
			}
		}
		spin_unlock_irqrestore(&b->lock, flags);
	}
	return gen;
}

/*
 * The tracked entries of @tn, one at a time, for
 * /proc/net/tcp_closestat_sockets: copy into @info the first entry of @tn
 * at a position >= *@pos, and store its position in *@pos.  Position
 * (bucket << 16 | n) is the n-th entry of @tn in a bucket.  The copy is
 * made under the bucket's lock.  Returns false, with *@pos past the last
 * bucket, when there is none.
 */
bool tcs_track_next(struct tcs_net *tn, u64 *pos, struct tcs_sock_info *info)
{
	u64 bucket = *pos >> 16, n = *pos & 0xffff;

	for (; bucket < BIT(tcs_bucket_bits); bucket++, n = 0) {
		struct tcs_bucket *b = &tcs_buckets[bucket];
		struct tcs_track *t;
		unsigned long flags;
		u64 i = 0;

		if (hlist_empty(&b->head))
			continue;
		spin_lock_irqsave(&b->lock, flags);
		hlist_for_each_entry(t, &b->head, node) {
			if (t->tn != tn || i++ < n)
				continue;
			*info = t->info;
			spin_unlock_irqrestore(&b->lock, flags);
			*pos = bucket << 16 | (i - 1);
			return true;
		}
		spin_unlock_irqrestore(&b->lock, flags);
		cond_resched();
	}
	*pos = (u64)BIT(tcs_bucket_bits) << 16;
	return false;
}
