// SPDX-License-Identifier: GPL-2.0
/*
 * Per-namespace, per-port counter storage.
 *
 * The probes look a port up with three dependent loads and bump a per-CPU
 * counter: no lock, no atomic, no allocation once the port has been seen.
 * A port's first event allocates its entry (and, if needed, the directory
 * and the chunk above it) with GFP_ATOMIC and publishes it with cmpxchg();
 * the loser of a race frees its copy.  A failed allocation is counted in
 * tcs_net.alloc_failed and published in /proc/net/tcp_closestat_stat.
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

#include <linux/math64.h>
#include <linux/slab.h>
#include <net/ip.h>

#include "tcp_closestat.h"

void tcs_table_init(struct tcs_net *tn)
{
	mutex_init(&tn->reset_lock);
	mutex_init(&tn->scan_lock);
	atomic_long_set(&tn->memory, sizeof(*tn));
}

static void tcs_port_free(struct tcs_port *port)
{
	if (!port)
		return;
	free_percpu(port->pcpu);
	kfree(port);
}

static struct tcs_port *tcs_port_alloc(void)
{
	struct tcs_port *port;

	port = kzalloc(sizeof(*port), GFP_ATOMIC | __GFP_NOWARN);
	if (!port)
		return NULL;
	port->pcpu = alloc_percpu_gfp(struct tcs_counters,
				      GFP_ATOMIC | __GFP_NOWARN);
	if (!port->pcpu) {
		kfree(port);
		return NULL;
	}
	return port;
}

/*
 * Each helper below returns the object now installed in *slot: ours if we
 * won the cmpxchg(), the other CPU's if it was faster, NULL if we could not
 * allocate.  cmpxchg() is a full barrier, so the zeroed contents are
 * visible before the pointer; readers rely on the address dependency.
 */
static struct tcs_hist __percpu *tcs_get_hist(struct tcs_net *tn)
{
	struct tcs_hist __percpu *hist = READ_ONCE(tn->hist);
	struct tcs_hist __percpu *old;

	if (likely(hist))
		return hist;
	hist = alloc_percpu_gfp(struct tcs_hist, GFP_ATOMIC | __GFP_NOWARN);
	if (!hist)
		return NULL;
	old = cmpxchg(&tn->hist, NULL, hist);
	if (old) {
		free_percpu(hist);
		return old;
	}
	atomic_long_add(sizeof(struct tcs_hist) * num_possible_cpus(),
			&tn->memory);
	return hist;
}

/* The directory; the histograms are in place before it is. */
static struct tcs_dir *tcs_get_dir(struct tcs_net *tn)
{
	struct tcs_dir *dir = READ_ONCE(tn->dir);
	struct tcs_dir *old;

	if (likely(dir))
		return dir;
	if (!tcs_get_hist(tn))
		return NULL;
	dir = kzalloc(sizeof(*dir), GFP_ATOMIC | __GFP_NOWARN);
	if (!dir)
		return NULL;
	old = cmpxchg(&tn->dir, NULL, dir);
	if (old) {
		kfree(dir);
		return old;
	}
	atomic_long_add(ksize(dir), &tn->memory);
	return dir;
}

static struct tcs_chunk *tcs_get_chunk(struct tcs_net *tn,
				       struct tcs_chunk **slot)
{
	struct tcs_chunk *chunk = READ_ONCE(*slot);
	struct tcs_chunk *old;

	if (likely(chunk))
		return chunk;
	chunk = kzalloc(sizeof(*chunk), GFP_ATOMIC | __GFP_NOWARN);
	if (!chunk)
		return NULL;
	old = cmpxchg(slot, NULL, chunk);
	if (old) {
		kfree(chunk);
		return old;
	}
	atomic_long_add(ksize(chunk), &tn->memory);
	return chunk;
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

/* Make the entry of an empty *@slot, of @side, in its fold row if @fold. */
static struct tcs_port *tcs_get_port(struct tcs_net *tn,
				     struct tcs_port **slot,
				     enum tcs_side side, bool fold)
{
	struct tcs_port *port, *old;

	port = tcs_port_alloc();
	if (!port)
		return NULL;
	if (fold) {
		smp_rmb();	/* tn->hist before tn->dir, which we found */
		port->fold = &READ_ONCE(tn->hist)->fold[side];
	}
	old = cmpxchg(slot, NULL, port);
	if (old) {
		tcs_port_free(port);
		return old;
	}
	atomic_long_inc(&tn->ports);
	if (fold)
		atomic_long_inc(&tn->fold[side].ports);
	atomic_long_add(ksize(port) +
			sizeof(struct tcs_counters) * num_possible_cpus(),
			&tn->memory);
	return port;
}

static struct tcs_port *tcs_get(struct tcs_net *tn, struct tcs_dir *dir,
				enum tcs_side side, u16 num,
				const struct sock_common *skc)
{
	struct tcs_chunk **cslot = &dir->chunk[side][num >> TCS_CHUNK_BITS];
	struct tcs_chunk *chunk;
	struct tcs_port *port = NULL;
	struct tcs_port **pslot;

	chunk = tcs_get_chunk(tn, cslot);
	if (likely(chunk)) {
		pslot = &chunk->port[num & TCS_CHUNK_MASK];
		port = READ_ONCE(*pslot);
		if (unlikely(!port))
			port = tcs_get_port(tn, pslot, side,
					    tcs_folds(skc, side));
	}
	if (unlikely(!port))
		atomic_long_inc(&tn->alloc_failed);
	return port;
}

/*
 * Called from the probe handlers, with preemption disabled.  Finds both
 * ports of a socket, allocating them on first use.  Returns NULL if the
 * namespace is going away, or if its directory (and with it its
 * histograms) cannot be allocated: both ports are then counted in
 * alloc_failed, and the caller makes no tracking entry, whose end would
 * add to histograms that do not exist.  A port that cannot be allocated
 * is left NULL, and counted in alloc_failed.
 */
struct tcs_net *tcs_lookup(const struct sock_common *skc,
			   struct tcs_ports *ports)
{
	struct tcs_net *tn = tcs_net(read_pnet(&skc->skc_net));
	struct tcs_dir *dir;

	if (unlikely(!tn || READ_ONCE(tn->dying)))
		return NULL;
	dir = tcs_get_dir(tn);
	if (unlikely(!dir)) {
		atomic_long_add(TCS_NR_SIDES, &tn->alloc_failed);
		return NULL;
	}
	ports->p[TCS_SIDE_LOCAL] = tcs_get(tn, dir, TCS_SIDE_LOCAL,
					   skc->skc_num, skc);
	ports->p[TCS_SIDE_REMOTE] = tcs_get(tn, dir, TCS_SIDE_REMOTE,
					    ntohs(skc->skc_dport), skc);
	return tn;
}

static void tcs_port_inc(const struct tcs_port *port, enum tcs_slot slot)
{
	this_cpu_inc(port->pcpu->v[slot]);
	if (port->fold)
		this_cpu_inc(port->fold->v[slot]);
}

void tcs_inc(const struct tcs_ports *ports, enum tcs_slot slot)
{
	unsigned int side;

	for (side = 0; side < TCS_NR_SIDES; side++)
		if (likely(ports->p[side]))
			tcs_port_inc(ports->p[side], slot);
}

/* Count an event of the socket, not of each end: on its local port. */
void tcs_inc_once(const struct tcs_ports *ports, enum tcs_slot slot)
{
	struct tcs_port *port = ports->p[TCS_SIDE_LOCAL];

	if (unlikely(!port))
		port = ports->p[TCS_SIDE_REMOTE];
	if (likely(port))
		tcs_port_inc(port, slot);
}

/* Record a stay of @ns nanoseconds in @state (tn->dir, so tn->hist, exists). */
void tcs_hist_add(struct tcs_net *tn, enum tcs_state state, u64 ns)
{
	struct tcs_hist __percpu *hist = tn->hist;
	u64 ms = div_u64(ns, NSEC_PER_MSEC);
	unsigned int b = min_t(unsigned int, fls64(ms), TCS_HIST_BUCKETS - 1);

	this_cpu_inc(hist->count[state][b]);
	this_cpu_add(hist->sum_ms[state], ms);
}

/*
 * Find the first entry whose key (tcs_key()) is >= *key, and store its key
 * in *key.  Returns NULL when there is none.
 */
struct tcs_port *tcs_table_next(struct tcs_net *tn, u32 *key)
{
	struct tcs_dir *dir = READ_ONCE(tn->dir);
	u32 k = *key;

	if (!dir)
		return NULL;
	while (k < tcs_key(TCS_NR_SIDES, 0)) {
		struct tcs_chunk *chunk;
		struct tcs_port *port;

		chunk = READ_ONCE(dir->chunk[k >> 16][(k & 0xffff) >> TCS_CHUNK_BITS]);
		if (!chunk) {
			k = (k | TCS_CHUNK_MASK) + 1;
			continue;
		}
		port = READ_ONCE(chunk->port[k & TCS_CHUNK_MASK]);
		if (port) {
			*key = k;
			return port;
		}
		k++;
	}
	return NULL;
}

/* The fate columns and slots are in the same order. */
static_assert(TCS_TW_OVERFLOW - TCS_TW_EXPIRED ==
	      TCS_S_TW_OVERFLOW - TCS_S_TW_EXPIRED);

static u64 tcs_sum(const struct tcs_port *port, enum tcs_slot slot)
{
	unsigned int cpu;
	u64 sum = 0;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(port->pcpu, cpu)->v[slot]);
	return sum;
}

/* Slots [@first, @last) of @pcpu, summed over the CPUs into @sum. */
static void tcs_sum_range(const struct tcs_counters __percpu *pcpu,
			  unsigned int first, unsigned int last, u64 *sum)
{
	unsigned int cpu, i;

	for (i = first; i < last; i++)
		sum[i] = 0;
	for_each_possible_cpu(cpu) {
		const struct tcs_counters *c = per_cpu_ptr(pcpu, cpu);

		for (i = first; i < last; i++)
			sum[i] += READ_ONCE(c->v[i]);
	}
}

/*
 * The columns of a row (enum tcs_counter) from its per-CPU counters and
 * its @base at the last reset.  Reads are ordered so that no value goes
 * negative: each base before the per-CPU values (which only grow), the
 * exit counts before the entry counts.  @oldest_ns is 0 if the row has no
 * tracked CLOSE_WAIT.
 */
static void tcs_row_read(const struct tcs_counters __percpu *pcpu,
			 const u64 *base_now, u64 oldest_ns, u64 now, u64 *val)
{
	u64 base[TCS_NR_RESETTABLE], sum[TCS_NR_SLOTS];
	unsigned int i;

	for (i = 0; i < TCS_NR_RESETTABLE; i++)
		base[i] = READ_ONCE(base_now[i]);
	tcs_sum_range(pcpu, TCS_S_TRACK_OUT, TCS_S_TRACK_OUT + TCS_NR_STATES,
		      sum);
	smp_rmb();	/* pairs with smp_wmb() in tcs_table_reset() */
	tcs_sum_range(pcpu, TCS_S_ENTER, TCS_S_TRACK_OUT, sum);
	for (i = 0; i < TCS_NR_STATES; i++) {
		val[TCS_TIME_WAIT + i] = sum[TCS_S_ENTER + i] - base[TCS_S_ENTER + i];
		val[TCS_TIME_WAIT_NOW + i] = sum[TCS_S_TRACK_IN + i] -
					     sum[TCS_S_TRACK_OUT + i];
	}
	for (i = 0; i <= TCS_TW_OVERFLOW - TCS_TW_EXPIRED; i++)
		val[TCS_TW_EXPIRED + i] = sum[TCS_S_TW_EXPIRED + i] -
					  base[TCS_S_TW_EXPIRED + i];
	val[TCS_CLOSE_WAIT_OLDEST_MS] = 0;
	if (oldest_ns && now > oldest_ns)
		val[TCS_CLOSE_WAIT_OLDEST_MS] = div_u64(now - oldest_ns,
							NSEC_PER_MSEC);
}

/* The columns of @port; @gen and @now come from the last tcs_track_scan(). */
void tcs_port_read(const struct tcs_port *port, unsigned long gen, u64 now,
		   u64 *val)
{
	u64 oldest = READ_ONCE(port->scan_gen) == gen ? port->oldest_ns : 0;

	tcs_row_read(port->pcpu, port->base, oldest, now, val);
}

/*
 * The columns of @side's fold row, as tcs_port_read(); false if the
 * namespace has had no event yet.
 */
bool tcs_fold_read(struct tcs_net *tn, enum tcs_side side, unsigned long gen,
		   u64 now, u64 *val)
{
	struct tcs_hist __percpu *hist;
	const struct tcs_fold *f = &tn->fold[side];
	u64 oldest = f->scan_gen == gen ? f->oldest_ns : 0;

	if (!READ_ONCE(tn->dir))
		return false;
	smp_rmb();	/* tn->hist before tn->dir */
	hist = READ_ONCE(tn->hist);
	tcs_row_read(&hist->fold[side], f->base, oldest, now, val);
	return true;
}

/* The total of one slot over every port of @tn. */
u64 tcs_table_sum(struct tcs_net *tn, enum tcs_slot slot)
{
	struct tcs_port *port;
	u32 key = 0;
	u64 sum = 0;

	while ((port = tcs_table_next(tn, &key))) {
		sum += tcs_sum(port, slot);
		key++;
	}
	return sum;
}

void tcs_hist_read(struct tcs_net *tn, struct tcs_hist *sum)
{
	struct tcs_hist __percpu *hist = READ_ONCE(tn->hist);
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

static void tcs_set_base(u64 *base, const u64 *sum)
{
	unsigned int i;

	for (i = 0; i < TCS_NR_RESETTABLE; i++)
		WRITE_ONCE(base[i], sum[i]);
	smp_wmb();	/* pairs with smp_rmb() in tcs_row_read() */
}

/*
 * Reset moves each port's base to its current totals instead of writing
 * other CPUs' counters, which would race with their increments.
 *
 * A fold row's base is the sum of its ports' new bases, not a snapshot of
 * its own counters: events between two ports' snapshots, and ports made
 * behind the walk (base 0), then count in the fold row as in their ports'
 * rows, and the fold row stays the sum of its ports.
 */
void tcs_table_reset(struct tcs_net *tn)
{
	u64 sum[TCS_NR_RESETTABLE], fold[TCS_NR_SIDES][TCS_NR_RESETTABLE] = {};
	struct tcs_port *port;
	unsigned int side, i;
	u32 key = 0;

	mutex_lock(&tn->reset_lock);
	while ((port = tcs_table_next(tn, &key))) {
		tcs_sum_range(port->pcpu, 0, TCS_NR_RESETTABLE, sum);
		tcs_set_base(port->base, sum);
		for (i = 0; port->fold && i < TCS_NR_RESETTABLE; i++)
			fold[key >> 16][i] += sum[i];
		key++;
		cond_resched();
	}
	for (side = 0; side < TCS_NR_SIDES; side++)
		tcs_set_base(tn->fold[side].base, fold[side]);
	mutex_unlock(&tn->reset_lock);
}

void tcs_table_free(struct tcs_net *tn)
{
	struct tcs_dir *dir = tn->dir;
	unsigned int side, i, j;

	free_percpu(tn->hist);
	tn->hist = NULL;
	if (!dir)
		return;
	for (side = 0; side < TCS_NR_SIDES; side++) {
		for (i = 0; i < TCS_NR_CHUNKS; i++) {
			struct tcs_chunk *chunk = dir->chunk[side][i];

			if (!chunk)
				continue;
			for (j = 0; j < TCS_CHUNK_SIZE; j++)
				tcs_port_free(chunk->port[j]);
			kfree(chunk);
		}
	}
	kfree(dir);
	tn->dir = NULL;
}
