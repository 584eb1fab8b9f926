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
 * Entries live until the namespace is dismantled: the pre_exit hook sets
 * tcs_net.dying, the core then waits for an RCU grace period, which covers
 * every probe handler (they run with preemption disabled), and only then
 * tcs_table_free() runs.  Readers of /proc are gone by then too, since the
 * proc entries are removed first.
 */

#include <linux/slab.h>

#include "tcp_closestat.h"

void tcs_table_init(struct tcs_net *tn)
{
	mutex_init(&tn->reset_lock);
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
static struct tcs_dir *tcs_get_dir(struct tcs_net *tn)
{
	struct tcs_dir *dir = READ_ONCE(tn->dir);
	struct tcs_dir *old;

	if (likely(dir))
		return dir;
	dir = kzalloc(sizeof(*dir), GFP_ATOMIC | __GFP_NOWARN);
	if (!dir)
		return NULL;
	old = cmpxchg(&tn->dir, NULL, dir);
	if (old) {
		kfree(dir);
		return old;
	}
	atomic_long_add(sizeof(*dir), &tn->memory);
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
	atomic_long_add(sizeof(*chunk), &tn->memory);
	return chunk;
}

static struct tcs_port *tcs_get_port(struct tcs_net *tn,
				     struct tcs_port **slot)
{
	struct tcs_port *port = READ_ONCE(*slot);
	struct tcs_port *old;

	if (likely(port))
		return port;
	port = tcs_port_alloc();
	if (!port)
		return NULL;
	old = cmpxchg(slot, NULL, port);
	if (old) {
		tcs_port_free(port);
		return old;
	}
	atomic_long_inc(&tn->ports);
	atomic_long_add(sizeof(*port) +
			sizeof(struct tcs_counters) * num_possible_cpus(),
			&tn->memory);
	return port;
}

static void tcs_inc(struct tcs_net *tn, enum tcs_side side, u16 num,
		    enum tcs_counter c)
{
	struct tcs_chunk *chunk;
	struct tcs_port *port;
	struct tcs_dir *dir;

	dir = tcs_get_dir(tn);
	if (unlikely(!dir))
		goto fail;
	chunk = tcs_get_chunk(tn, &dir->chunk[side][num >> TCS_CHUNK_BITS]);
	if (unlikely(!chunk))
		goto fail;
	port = tcs_get_port(tn, &chunk->port[num & TCS_CHUNK_MASK]);
	if (unlikely(!port))
		goto fail;
	this_cpu_inc(port->pcpu->v[c]);
	return;
fail:
	atomic_long_inc(&tn->alloc_failed);
}

/* Called from the probe handlers, with preemption disabled. */
void tcs_count(const struct net *net, u16 lport, u16 rport,
	       enum tcs_counter c)
{
	struct tcs_net *tn = tcs_net(net);

	if (unlikely(!tn || READ_ONCE(tn->dying)))
		return;
	tcs_inc(tn, TCS_SIDE_LOCAL, lport, c);
	tcs_inc(tn, TCS_SIDE_REMOTE, rport, c);
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

/*
 * The counters of @port since the last reset.  @base is read before the
 * per-CPU values, each of which only grows, so the sum is never below it.
 */
void tcs_port_read(const struct tcs_port *port, u64 *val)
{
	unsigned int c, cpu;

	for (c = 0; c < TCS_NR_COUNTERS; c++)
		val[c] = READ_ONCE(port->base[c]);
	smp_rmb();	/* pairs with smp_wmb() in tcs_table_reset() */
	for (c = 0; c < TCS_NR_COUNTERS; c++) {
		u64 sum = 0;

		for_each_possible_cpu(cpu)
			sum += READ_ONCE(per_cpu_ptr(port->pcpu, cpu)->v[c]);
		val[c] = sum - val[c];
	}
}

/*
 * Reset moves each port's base to its current totals instead of writing
 * other CPUs' counters, which would race with their increments.
 */
void tcs_table_reset(struct tcs_net *tn)
{
	struct tcs_port *port;
	u32 key = 0;

	mutex_lock(&tn->reset_lock);
	while ((port = tcs_table_next(tn, &key))) {
		unsigned int c, cpu;

		for (c = 0; c < TCS_NR_COUNTERS; c++) {
			u64 sum = 0;

			for_each_possible_cpu(cpu)
				sum += READ_ONCE(per_cpu_ptr(port->pcpu, cpu)->v[c]);
			WRITE_ONCE(port->base[c], sum);
		}
		smp_wmb();	/* pairs with smp_rmb() in tcs_port_read() */
		key++;
		cond_resched();
	}
	mutex_unlock(&tn->reset_lock);
}

void tcs_table_free(struct tcs_net *tn)
{
	struct tcs_dir *dir = tn->dir;
	unsigned int side, i, j;

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
