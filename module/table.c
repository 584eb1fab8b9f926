// SPDX-License-Identifier: GPL-2.0
/*
 * Per-namespace, per-port counter storage.
 *
 * The probes find a port's entry with four dependent loads (directory,
 * block, id, page) and bump its shared counters: no lock, no allocation
 * once the port has been seen.  The first sight of a port, of a block of
 * ports or of the namespace takes tcs_net.lock, makes what is missing and
 * publishes it with a release store: a block of ids (1 KiB), a page of
 * entries every TCS_PORTS_PER_PAGE ports, and, once per namespace, the
 * directory, the array of pages and the per-CPU histograms.  All are
 * GFP_NOWAIT, which leaves the reserves of atomic context to the network
 * stack the module counts: a failure is counted in tcs_net.alloc_failed,
 * published in /proc/net/tcp_closestat_stat, and the event counted in its
 * side's overflow row, so no total loses it.
 *
 * Two caps bound the entries: max_ports per namespace and
 * max_ports_global over all of them.  A port first seen beyond a cap is
 * marked refused in its block and counted in its side's overflow row
 * (tcs_net.other) from then on, for good: which ports have rows does not
 * change while the namespace lives.  A refused port that would have
 * folded (see below) is marked so, and counted in the overflow row's
 * other half (tcs_net.other_fold), which bumps the fold row as its ports
 * do: the fold row of /proc/net/tcp_closestat_folded then holds every
 * client's event, however many ports the clients cycle through.
 *
 * A port is classified once, when its entry is made (tcs_folds()): a
 * client's port, or the peer's port of a service's socket, goes into its
 * side's fold row, whose per-CPU counters the probes bump beside the
 * port's own.  A read of /proc/net/tcp_closestat_folded then does not sum
 * the folded ports' counters, and the fold rows' totals only grow.
 *
 * Entries live until the namespace is dismantled: the pre_exit hook sets
 * tcs_net.dying, the core then waits for an RCU grace period, which covers
 * every probe handler (they run with preemption disabled), and only then
 * tcs_table_free() runs.  Readers of /proc are gone by then too, since the
 * proc entries are removed first.
 */

#include <linux/gfp.h>
#include <linux/math64.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <net/ip.h>

#include "tcp_closestat.h"

static unsigned int tcs_max_ports = 16384;
static unsigned long tcs_max_ports_global = 262144;
/* entries in every namespace, against tcs_max_ports_global */
static atomic_long_t tcs_ports_global = ATOMIC_LONG_INIT(0);

#define TCS_MAX_PORTS_GLOBAL_LIMIT	BIT(30)

static int tcs_max_ports_set(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int err;

	err = kstrtouint(val, 0, &n);
	if (err || n < 1 || n > TCS_MAX_IDS) {
		pr_err("max_ports must be a number from 1 to %u, not '%s'\n",
		       TCS_MAX_IDS, val);
		return -EINVAL;
	}
	*(unsigned int *)kp->arg = n;
	return 0;
}

static const struct kernel_param_ops tcs_max_ports_ops = {
	.set	= tcs_max_ports_set,
	.get	= param_get_uint,
};

module_param_cb(max_ports, &tcs_max_ports_ops, &tcs_max_ports, 0444);
MODULE_PARM_DESC(max_ports,
		 "(side, port) entries per network namespace (1 to 65533, default 16384); ports beyond count in the overflow rows");

static int tcs_max_ports_global_set(const char *val,
				    const struct kernel_param *kp)
{
	unsigned long n;
	int err;

	err = kstrtoul(val, 0, &n);
	if (err || n < 1 || n > TCS_MAX_PORTS_GLOBAL_LIMIT) {
		pr_err("max_ports_global must be a number from 1 to %lu, not '%s'\n",
		       TCS_MAX_PORTS_GLOBAL_LIMIT, val);
		return -EINVAL;
	}
	*(unsigned long *)kp->arg = n;
	return 0;
}

static const struct kernel_param_ops tcs_max_ports_global_ops = {
	.set	= tcs_max_ports_global_set,
	.get	= param_get_ulong,
};

module_param_cb(max_ports_global, &tcs_max_ports_global_ops,
		&tcs_max_ports_global, 0444);
MODULE_PARM_DESC(max_ports_global,
		 "(side, port) entries in all network namespaces together (1 to 1073741824, default 262144)");

void tcs_table_init(struct tcs_net *tn)
{
	spin_lock_init(&tn->lock);
	mutex_init(&tn->reset_lock);
	mutex_init(&tn->scan_lock);
	atomic_long_set(&tn->memory, sizeof(*tn));
}

/*
 * Whether @side's port of @skc goes into the fold row.  A socket bound to
 * its port by hand (SOCK_BINDPORT_LOCK) folds neither port.  A listener's
 * child, which keeps its listener's backlog (sk_clone_lock() copies it,
 * and a socket that never listened has 0), folds its peer's port.  Any
 * other socket is a client's if its port is in the namespace's
 * ip_local_port_range, where connect() and bind() to port 0 pick it: it
 * folds its own port; outside the range, its peer's.  A timewait socket
 * has neither the lock nor the backlog: the range alone decides.
 */
static bool tcs_folds(const struct sock_common *skc, enum tcs_side side)
{
	const struct sock *sk = (const struct sock *)skc;
	bool client;
	int lo, hi;

	if (sk_fullsock(sk)) {
		if (sk->sk_userlocks & SOCK_BINDPORT_LOCK)
			return false;
		if (READ_ONCE(sk->sk_max_ack_backlog))
			return side == TCS_SIDE_REMOTE;
	}
	inet_get_local_port_range(read_pnet(&skc->skc_net), &lo, &hi);
	client = skc->skc_num >= lo && skc->skc_num <= hi;
	return client == (side == TCS_SIDE_LOCAL);
}

/*
 * What tcs_setup() and tcs_first_sight_locked() publish, read with an
 * acquire that pairs with their release stores: the contents come before
 * the pointer or id that leads to them.
 */
static const struct tcs_dir *tcs_dir(struct tcs_net *tn)
{
	/* pairs with smp_store_release() in tcs_setup() */
	return smp_load_acquire(&tn->dir);
}

static struct tcs_hist __percpu *tcs_hist(struct tcs_net *tn)
{
	/* pairs with smp_store_release() in tcs_setup() */
	return smp_load_acquire(&tn->hist);
}

static const struct tcs_block *tcs_block(const struct tcs_dir *dir,
					 enum tcs_side side, u32 num)
{
	/* pairs with smp_store_release() in tcs_first_sight_locked() */
	return smp_load_acquire(&dir->block[side][num >> TCS_BLOCK_BITS]);
}

/*
 * The directory, the histograms and the array of pages of @tn, made on
 * its first event; NULL if one cannot be allocated.  Under tn->lock.
 */
static struct tcs_dir *tcs_setup(struct tcs_net *tn)
{
	unsigned int max = min(READ_ONCE(tcs_max_ports), TCS_MAX_IDS);
	unsigned int nr_pages = DIV_ROUND_UP(max, TCS_PORTS_PER_PAGE);
	struct tcs_hist __percpu *hist;
	struct tcs_port **pages;
	struct tcs_dir *dir;

	hist = alloc_percpu_gfp(struct tcs_hist, GFP_NOWAIT | __GFP_NOWARN);
	pages = kcalloc(nr_pages, sizeof(*pages), GFP_NOWAIT | __GFP_NOWARN);
	dir = kzalloc(sizeof(*dir), GFP_NOWAIT | __GFP_NOWARN);
	if (!hist || !pages || !dir) {
		free_percpu(hist);
		kfree(pages);
		kfree(dir);
		return NULL;
	}
	tn->max_ids = max;
	tn->pages = pages;
	tn->other_fold[TCS_SIDE_LOCAL].fold = &hist->fold[TCS_SIDE_LOCAL];
	tn->other_fold[TCS_SIDE_REMOTE].fold = &hist->fold[TCS_SIDE_REMOTE];
	atomic_long_add(sizeof(struct tcs_hist) * num_possible_cpus() +
			kmalloc_size_roundup(nr_pages * sizeof(*pages)) +
			kmalloc_size_roundup(sizeof(*dir)), &tn->memory);
	/* the zeroed histograms, then the rest: tcs_hist(), tcs_dir() */
	smp_store_release(&tn->hist, hist);
	/* and the pages' array and max_ids before the directory */
	smp_store_release(&tn->dir, dir);
	return dir;
}

static struct tcs_port *tcs_port_of(const struct tcs_net *tn, u16 id)
{
	return &tn->pages[(id - 1) / TCS_PORTS_PER_PAGE]
			 [(id - 1) % TCS_PORTS_PER_PAGE];
}

static bool tcs_id_refused(u16 id)
{
	return id >= TCS_ID_REFUSED_FOLD;
}

/* The overflow row of @side's ports marked @id, which tcs_id_refused(). */
static struct tcs_port *tcs_refused_row(struct tcs_net *tn,
					enum tcs_side side, u16 id)
{
	return id == TCS_ID_REFUSED_FOLD ? &tn->other_fold[side] :
					   &tn->other[side];
}

/*
 * Take one entry of the global cap; false if there is none left.  The
 * count never passes the cap (a parameter fixed at load): an increment
 * taken back by a CPU that found no room cannot make another CPU, which
 * there is room for, find none.
 */
static bool tcs_take_global(void)
{
	return atomic_long_add_unless(&tcs_ports_global, 1,
				      READ_ONCE(tcs_max_ports_global));
}

/*
 * Mark @side's port at @idp refused, for good, and return its overflow
 * row: the half that bumps the fold row if the port would have folded.
 * Under tn->lock.
 */
static struct tcs_port *tcs_refuse(struct tcs_net *tn, enum tcs_side side,
				   u16 *idp, const struct sock_common *skc)
{
	u16 id = TCS_ID_REFUSED;

	WRITE_ONCE(tn->refused[side], tn->refused[side] + 1);
	if (tcs_folds(skc, side)) {
		WRITE_ONCE(tn->fold[side].ports, tn->fold[side].ports + 1);
		id = TCS_ID_REFUSED_FOLD;
	} else {
		WRITE_ONCE(tn->refused_other[side],
			   tn->refused_other[side] + 1);
	}
	/*
	 * No release: the overflow rows, other_fold's fold pointer too, were
	 * published with the directory (tcs_setup()), before any id.
	 */
	WRITE_ONCE(*idp, id);
	return tcs_refused_row(tn, side, id);
}

/*
 * The entry of @side's port @num, seen in @skc for the first time: made,
 * found made by another CPU, refused by the caps or not allocated.
 * Under tn->lock.
 */
static struct tcs_port *tcs_first_sight_locked(struct tcs_net *tn,
					       enum tcs_side side, u16 num,
					       const struct sock_common *skc)
{
	struct tcs_block **bslot, *block;
	struct tcs_port *page, *port;
	struct tcs_dir *dir;
	unsigned int n;
	u16 *idp;

	dir = tn->dir ?: tcs_setup(tn);
	if (!dir)
		goto failed;
	bslot = &dir->block[side][num >> TCS_BLOCK_BITS];
	block = *bslot;
	if (!block) {
		block = kzalloc(sizeof(*block), GFP_NOWAIT | __GFP_NOWARN);
		if (!block)
			goto failed;
		atomic_long_add(kmalloc_size_roundup(sizeof(*block)),
				&tn->memory);
		/* the zeroed block before its pointer: tcs_block() */
		smp_store_release(bslot, block);
	}
	idp = &block->id[num & TCS_BLOCK_MASK];
	if (tcs_id_refused(*idp))
		return tcs_refused_row(tn, side, *idp);
	if (*idp)		/* another CPU made it */
		return tcs_port_of(tn, *idp);

	n = tn->nr_ids;
	if (n >= tn->max_ids)
		return tcs_refuse(tn, side, idp, skc);
	/*
	 * The page before the global entry: a failed allocation then holds
	 * no entry that another namespace's first sight could find missing.
	 * A page kept after a refusal serves the namespace's next entry.
	 */
	page = tn->pages[n / TCS_PORTS_PER_PAGE];
	if (!page) {
		page = (struct tcs_port *)get_zeroed_page(GFP_NOWAIT |
							  __GFP_NOWARN);
		if (!page)
			goto failed;
		atomic_long_add(PAGE_SIZE, &tn->memory);
		tn->pages[n / TCS_PORTS_PER_PAGE] = page;
	}
	if (!tcs_take_global())
		return tcs_refuse(tn, side, idp, skc);
	port = &page[n % TCS_PORTS_PER_PAGE];
	if (tcs_folds(skc, side)) {
		port->fold = &tn->hist->fold[side];
		WRITE_ONCE(tn->fold[side].ports, tn->fold[side].ports + 1);
	}
	WRITE_ONCE(tn->nr_ids, n + 1);
	/* the entry and its page before the id: pairs with tcs_id() */
	smp_store_release(idp, n + 1);
	return port;

failed:
	atomic_long_inc(&tn->alloc_failed);
	return &tn->other[side];
}

/* The slow path of tcs_get(), out of line to keep the fast one short. */
static noinline struct tcs_port *tcs_first_sight(struct tcs_net *tn,
						 enum tcs_side side, u16 num,
						 const struct sock_common *skc)
{
	struct tcs_port *port;
	unsigned long flags;

	spin_lock_irqsave(&tn->lock, flags);
	port = tcs_first_sight_locked(tn, side, num, skc);
	spin_unlock_irqrestore(&tn->lock, flags);
	return port;
}

/*
 * The id of @side's port @num in @dir, or 0: an acquire load, which
 * orders the reads of the block, the page and the entry after it.
 */
static u16 tcs_id(const struct tcs_dir *dir, enum tcs_side side, u32 num)
{
	const struct tcs_block *block = tcs_block(dir, side, num);

	if (!block)
		return 0;
	/* pairs with smp_store_release() in tcs_first_sight_locked() */
	return smp_load_acquire(&block->id[num & TCS_BLOCK_MASK]);
}

static struct tcs_port *tcs_get(struct tcs_net *tn, const struct tcs_dir *dir,
				enum tcs_side side, u16 num,
				const struct sock_common *skc)
{
	u16 id = dir ? tcs_id(dir, side, num) : 0;

	if (likely(id && !tcs_id_refused(id)))
		return tcs_port_of(tn, id);
	if (id)
		return tcs_refused_row(tn, side, id);
	return tcs_first_sight(tn, side, num, skc);
}

/*
 * Called from the probe handlers, with preemption disabled.  Finds both
 * ports of a socket, making their entries on first use; a port refused by
 * the caps, or whose entry could not be allocated, is its side's overflow
 * row (the half that bumps the fold row for a refused port that folds).
 * Returns NULL only if the namespace is going away.
 */
struct tcs_net *tcs_lookup(const struct sock_common *skc,
			   struct tcs_ports *ports)
{
	struct tcs_net *tn = tcs_net(read_pnet(&skc->skc_net));
	const struct tcs_dir *dir;

	if (unlikely(!tn || READ_ONCE(tn->dying)))
		return NULL;
	dir = tcs_dir(tn);
	ports->p[TCS_SIDE_LOCAL] = tcs_get(tn, dir, TCS_SIDE_LOCAL,
					   skc->skc_num, skc);
	if (unlikely(!dir)) {
		dir = tcs_dir(tn);
		/* the setup just failed: not a second try for this event */
		if (!dir) {
			ports->p[TCS_SIDE_REMOTE] = &tn->other[TCS_SIDE_REMOTE];
			return tn;
		}
	}
	ports->p[TCS_SIDE_REMOTE] = tcs_get(tn, dir, TCS_SIDE_REMOTE,
					    ntohs(skc->skc_dport), skc);
	return tn;
}

/*
 * The fold row first: a reset that takes the port's count (tcs_reset_row())
 * then moves the fold row's base by what the fold row has already counted.
 */
void tcs_inc(const struct tcs_ports *ports, enum tcs_slot slot)
{
	unsigned int side;

	for (side = 0; side < TCS_NR_SIDES; side++) {
		struct tcs_port *port = ports->p[side];

		if (port->fold) {
			this_cpu_inc(port->fold->v[slot]);
			/* the fold row before the port: tcs_fold_read() */
			smp_mb__before_atomic();
		}
		atomic64_inc(&port->v[slot]);
	}
}

/* Only for the gauges, which no reset touches. */
void tcs_dec(const struct tcs_ports *ports, enum tcs_slot slot)
{
	unsigned int side;

	for (side = 0; side < TCS_NR_SIDES; side++) {
		struct tcs_port *port = ports->p[side];

		if (port->fold)
			this_cpu_dec(port->fold->v[slot]);
		atomic64_dec(&port->v[slot]);
	}
}

/*
 * A socket the tracking table had no room for.  Without histograms (the
 * namespace's first allocation failed) it is counted in alloc_failed.
 */
void tcs_untracked_inc(struct tcs_net *tn)
{
	struct tcs_hist __percpu *hist = tcs_hist(tn);

	if (likely(hist))
		this_cpu_inc(hist->untracked);
	else
		atomic_long_inc(&tn->alloc_failed);
}

/* Record a stay of @ns nanoseconds in @state, as tcs_untracked_inc(). */
void tcs_hist_add(struct tcs_net *tn, enum tcs_state state, u64 ns)
{
	struct tcs_hist __percpu *hist = tcs_hist(tn);
	u64 ms = div_u64(ns, NSEC_PER_MSEC);
	unsigned int b = min_t(unsigned int, fls64(ms), TCS_HIST_BUCKETS - 1);

	if (unlikely(!hist)) {
		atomic_long_inc(&tn->alloc_failed);
		return;
	}
	this_cpu_inc(hist->count[state][b]);
	this_cpu_add(hist->sum_ms[state], ms);
}

/*
 * Find the first row whose key (tcs_key()) is >= *key, and store its key
 * in *key.  Returns NULL when there is none.  A side's overflow row is
 * always found, after its ports, as its half that does not fold,
 * tcs_net.other (tcs_other_read() reads both halves); the caller skips
 * rows that are all 0.
 */
struct tcs_port *tcs_table_next(struct tcs_net *tn, u32 *key)
{
	const struct tcs_dir *dir = tcs_dir(tn);
	u32 k = *key;

	while (k < tcs_key(TCS_NR_SIDES, 0)) {
		enum tcs_side side = tcs_key_side(k);
		u32 num = tcs_key_port(k);
		u16 id;

		if (num > TCS_PORT_OTHER) {	/* past the overflow row */
			k = tcs_key(side + 1, 0);
			continue;
		}
		if (num == TCS_PORT_OTHER) {
			*key = k;
			return &tn->other[side];
		}
		if (!dir) {
			k = tcs_key(side, TCS_PORT_OTHER);
			continue;
		}
		if (!tcs_block(dir, side, num)) {
			k = (k | TCS_BLOCK_MASK) + 1;
			continue;
		}
		id = tcs_id(dir, side, num);
		if (id && !tcs_id_refused(id)) {
			*key = k;
			return tcs_port_of(tn, id);
		}
		k++;
	}
	return NULL;
}

/* The fate columns and slots are in the same order. */
static_assert(TCS_TW_OVERFLOW - TCS_TW_EXPIRED ==
	      TCS_S_TW_OVERFLOW - TCS_S_TW_EXPIRED);

/* A gauge, whose parts may be read at different times: never below 0. */
static u64 tcs_gauge(u64 v)
{
	return (s64)v < 0 ? 0 : v;
}

/* The columns of a row from its counters @sum (enum tcs_slot). */
static void tcs_row_val(const u64 *sum, u64 oldest_ns, u64 now, u64 *val)
{
	unsigned int i;

	for (i = 0; i < TCS_NR_STATES; i++) {
		val[TCS_TIME_WAIT + i] = sum[TCS_S_ENTER + i];
		val[TCS_TIME_WAIT_NOW + i] = tcs_gauge(sum[TCS_S_NOW + i]);
	}
	for (i = 0; i <= TCS_TW_OVERFLOW - TCS_TW_EXPIRED; i++)
		val[TCS_TW_EXPIRED + i] = sum[TCS_S_TW_EXPIRED + i];
	val[TCS_CLOSE_WAIT_OLDEST_MS] = 0;
	if (oldest_ns && now > oldest_ns)
		val[TCS_CLOSE_WAIT_OLDEST_MS] = div_u64(now - oldest_ns,
							NSEC_PER_MSEC);
}

/*
 * Add @port's counters to @sum, and keep in *@oldest_ns the oldest
 * tracked CLOSE_WAIT that tcs_track_scan() @gen found on it (0: none).
 */
static void tcs_port_sum(const struct tcs_port *port, unsigned long gen,
			 u64 *sum, u64 *oldest_ns)
{
	unsigned int i;

	if (READ_ONCE(port->scan_gen) == gen &&
	    (!*oldest_ns || port->oldest_ns < *oldest_ns))
		*oldest_ns = port->oldest_ns;
	for (i = 0; i < TCS_NR_SLOTS; i++)
		sum[i] += atomic64_read(&port->v[i]);
}

/*
 * The columns of @port (a port's row or one half of an overflow row);
 * @gen and @now come from the last tcs_track_scan().
 */
void tcs_port_read(const struct tcs_port *port, unsigned long gen, u64 now,
		   u64 *val)
{
	u64 sum[TCS_NR_SLOTS] = {}, oldest = 0;

	tcs_port_sum(port, gen, sum, &oldest);
	tcs_row_val(sum, oldest, now, val);
}

/* The columns of @side's whole overflow row, both halves, as above. */
void tcs_other_read(struct tcs_net *tn, enum tcs_side side,
		    unsigned long gen, u64 now, u64 *val)
{
	u64 sum[TCS_NR_SLOTS] = {}, oldest = 0;

	tcs_port_sum(&tn->other[side], gen, sum, &oldest);
	tcs_port_sum(&tn->other_fold[side], gen, sum, &oldest);
	tcs_row_val(sum, oldest, now, val);
}

/*
 * The columns of @side's fold row, as tcs_port_read(): its per-CPU
 * counters less what resets took out of its ports.  The base is read
 * first: it only holds counts the per-CPU counters had before it grew
 * (tcs_inc(), tcs_reset_row()), so no column goes negative.  False if
 * the namespace has had no event yet.
 */
bool tcs_fold_read(struct tcs_net *tn, enum tcs_side side, unsigned long gen,
		   u64 now, u64 *val)
{
	struct tcs_hist __percpu *hist = tcs_hist(tn);
	const struct tcs_fold *f = &tn->fold[side];
	u64 oldest = f->scan_gen == gen ? f->oldest_ns : 0;
	u64 sum[TCS_NR_SLOTS] = {}, base[TCS_NR_RESETTABLE];
	unsigned int cpu, i;

	if (!hist)
		return false;
	for (i = 0; i < TCS_NR_RESETTABLE; i++)
		base[i] = READ_ONCE(f->base[i]);
	/* pairs with tcs_inc()'s barrier and tcs_reset_row()'s xchg() */
	smp_rmb();
	for_each_possible_cpu(cpu) {
		const struct tcs_counters *c = &per_cpu_ptr(hist, cpu)->fold[side];

		for (i = 0; i < TCS_NR_SLOTS; i++)
			sum[i] += READ_ONCE(c->v[i]);
	}
	for (i = 0; i < TCS_NR_RESETTABLE; i++)
		sum[i] -= base[i];
	tcs_row_val(sum, oldest, now, val);
	return true;
}

u64 tcs_untracked_read(struct tcs_net *tn)
{
	struct tcs_hist __percpu *hist = tcs_hist(tn);
	unsigned int cpu;
	u64 sum = 0;

	if (!hist)
		return 0;
	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(hist, cpu)->untracked);
	return sum;
}

void tcs_hist_read(struct tcs_net *tn, struct tcs_hist *sum)
{
	struct tcs_hist __percpu *hist = tcs_hist(tn);
	unsigned int cpu, s, b;

	memset(sum, 0, sizeof(*sum));
	if (!hist)
		return;
	for_each_possible_cpu(cpu) {
		const struct tcs_hist *h = per_cpu_ptr(hist, cpu);

		for (s = 0; s < TCS_NR_STATES; s++) {
			for (b = 0; b < TCS_HIST_BUCKETS; b++)
				sum->count[s][b] += READ_ONCE(h->count[s][b]);
			sum->sum_ms[s] += READ_ONCE(h->sum_ms[s]);
		}
	}
}

/* Zero @port's cumulative counts, adding a folded one's to @f's base. */
static void tcs_reset_row(struct tcs_fold *f, struct tcs_port *port)
{
	unsigned int i;

	for (i = 0; i < TCS_NR_RESETTABLE; i++) {
		u64 v = atomic64_xchg(&port->v[i], 0);

		/* after the xchg(), a full barrier: tcs_fold_read() */
		if (port->fold && v)
			WRITE_ONCE(f->base[i], f->base[i] + v);
	}
}

/*
 * A reset takes each row's cumulative counts with atomic64_xchg(), so no
 * event is lost to it, both halves of the overflow rows too.  What a
 * folded port's counts were is added to its fold row's base right away:
 * the fold row, whose per-CPU counters cannot be written from here, then
 * stays the sum of its ports.
 */
void tcs_table_reset(struct tcs_net *tn)
{
	struct tcs_port *port;
	u32 key = 0;

	mutex_lock(&tn->reset_lock);
	while ((port = tcs_table_next(tn, &key))) {
		enum tcs_side side = tcs_key_side(key);

		tcs_reset_row(&tn->fold[side], port);
		if (tcs_key_port(key) == TCS_PORT_OTHER)
			tcs_reset_row(&tn->fold[side], &tn->other_fold[side]);
		key++;
		cond_resched();
	}
	mutex_unlock(&tn->reset_lock);
}

/* The lines of /proc/net/tcp_closestat_stat about the table. */
void tcs_table_show_stat(struct seq_file *seq, struct tcs_net *tn)
{
	static const char *const side_names[] = TCS_SIDE_NAMES;
	unsigned int side;

	seq_printf(seq, TCS_STAT_ALLOC_FAILED " %ld\n",
		   atomic_long_read(&tn->alloc_failed));
	seq_printf(seq, TCS_STAT_UNTRACKED " %llu\n", tcs_untracked_read(tn));
	seq_printf(seq, TCS_STAT_TRACKED " %ld\n", tcs_tracked());
	seq_printf(seq, TCS_STAT_MAX_TRACKED " %u\n", tcs_max_tracked);
	seq_printf(seq, TCS_STAT_PORTS " %u\n", READ_ONCE(tn->nr_ids));
	for (side = 0; side < TCS_NR_SIDES; side++)
		seq_printf(seq, TCS_STAT_PORTS_REFUSED "%s %lu\n",
			   side_names[side], READ_ONCE(tn->refused[side]));
	seq_printf(seq, TCS_STAT_MAX_PORTS " %u\n",
		   READ_ONCE(tn->max_ids) ?: READ_ONCE(tcs_max_ports));
	seq_printf(seq, TCS_STAT_PORTS_GLOBAL " %ld\n",
		   atomic_long_read(&tcs_ports_global));
	seq_printf(seq, TCS_STAT_MAX_PORTS_GLOBAL " %lu\n",
		   READ_ONCE(tcs_max_ports_global));
	seq_printf(seq, TCS_STAT_MEMORY " %ld\n", atomic_long_read(&tn->memory));
}

void tcs_table_free(struct tcs_net *tn)
{
	struct tcs_dir *dir = tn->dir;
	unsigned int side, i;

	atomic_long_sub(tn->nr_ids, &tcs_ports_global);
	tn->nr_ids = 0;
	free_percpu(tn->hist);
	tn->hist = NULL;
	if (!dir)
		return;
	for (i = 0; i < DIV_ROUND_UP(tn->max_ids, TCS_PORTS_PER_PAGE); i++)
		free_page((unsigned long)tn->pages[i]);
	kfree(tn->pages);
	tn->pages = NULL;
	for (side = 0; side < TCS_NR_SIDES; side++)
		for (i = 0; i < TCS_NR_BLOCKS; i++)
			kfree(dir->block[side][i]);
	kfree(dir);
	tn->dir = NULL;
}
