/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCP_CLOSESTAT_H
#define _TCP_CLOSESTAT_H

#include <linux/bits.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/types.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include <linux/tcp_closestat.h>

enum tcs_side {
	TCS_SIDE_LOCAL,
	TCS_SIDE_REMOTE,
	TCS_NR_SIDES
};

struct tcs_counters {
	u64 v[TCS_NR_COUNTERS];
};

/*
 * Counters of one (side, port) in one network namespace.  The per-CPU
 * part is written by the probes; @base holds the totals at the last reset
 * and is written only under tcs_net.reset_lock.
 */
struct tcs_port {
	struct tcs_counters __percpu *pcpu;
	u64 base[TCS_NR_COUNTERS];
};

/*
 * Ports are indexed by a two-level table: a directory of TCS_NR_CHUNKS
 * chunk pointers per side, each chunk holding TCS_CHUNK_SIZE port
 * pointers.  Every level is allocated on the first event that needs it and
 * published with cmpxchg(), so the probes never take a lock.  Nothing is
 * freed before the namespace goes away (see tcs_table_free()).
 */
#define TCS_CHUNK_BITS	8
#define TCS_CHUNK_SIZE	BIT(TCS_CHUNK_BITS)
#define TCS_CHUNK_MASK	(TCS_CHUNK_SIZE - 1)
#define TCS_NR_CHUNKS	(65536U >> TCS_CHUNK_BITS)

struct tcs_chunk {
	struct tcs_port *port[TCS_CHUNK_SIZE];
};

struct tcs_dir {
	struct tcs_chunk *chunk[TCS_NR_SIDES][TCS_NR_CHUNKS];
};

/* Per network namespace state, in net_generic(). */
struct tcs_net {
	struct tcs_dir *dir;
	bool dying;
	atomic_long_t alloc_failed;
	atomic_long_t ports;
	atomic_long_t memory;
	struct mutex reset_lock;	/* serializes resets */
};

extern unsigned int tcs_net_id;

static inline struct tcs_net *tcs_net(const struct net *net)
{
	return net_generic(net, tcs_net_id);
}

/* table.c */
void tcs_table_init(struct tcs_net *tn);
void tcs_table_free(struct tcs_net *tn);
void tcs_count(const struct net *net, u16 lport, u16 rport,
	       enum tcs_counter c);
struct tcs_port *tcs_table_next(struct tcs_net *tn, u32 *key);
void tcs_port_read(const struct tcs_port *port, u64 *val);
void tcs_table_reset(struct tcs_net *tn);

static inline u32 tcs_key(enum tcs_side side, u16 port)
{
	return (u32)side << 16 | port;
}

/* probes.c */
int tcs_probes_register(void);
void tcs_probes_unregister(void);
void tcs_probes_show_missed(struct seq_file *seq);

/* proc.c */
int tcs_proc_init(struct net *net);
void tcs_proc_exit(struct net *net);

#endif /* _TCP_CLOSESTAT_H */
