/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCP_CLOSESTAT_H
#define _TCP_CLOSESTAT_H

#include <linux/bits.h>
#include <linux/in6.h>
#include <linux/limits.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include <linux/tcp_closestat.h>

/*
 * Counters of one row.  The first TCS_NR_RESETTABLE are cumulative and
 * zeroed by a reset; the TCS_S_NOW ones are gauges, counted up when a
 * tracked socket enters its state and down when it leaves, never reset.
 */
enum tcs_slot {
	TCS_S_ENTER,				/* + state */
	TCS_S_TW_EXPIRED = TCS_S_ENTER + TCS_NR_STATES,
	TCS_S_TW_REUSED,
	TCS_S_TW_KILLED,
	TCS_S_TW_OVERFLOW,
	TCS_NR_RESETTABLE,
	TCS_S_NOW = TCS_NR_RESETTABLE,		/* + state */
	TCS_NR_SLOTS = TCS_S_NOW + TCS_NR_STATES
};

/* The per-CPU counters of a fold row. */
struct tcs_counters {
	u64 v[TCS_NR_SLOTS];
};

/*
 * Counters of one (side, port) in one network namespace, shared by the
 * CPUs: 104 bytes whatever the number of CPUs (Documentation/
 * performance.rst measures what sharing costs).  @fold is its side's fold
 * row, whose per-CPU counters the probes bump first, or NULL.  @oldest_ns
 * and @scan_gen are filled by the reader's scan of the tracking table
 * (track.c).
 */
struct tcs_port {
	atomic64_t v[TCS_NR_SLOTS];
	struct tcs_counters __percpu *fold;
	u64 oldest_ns;
	unsigned long scan_gen;
};

#define TCS_PORTS_PER_PAGE	(PAGE_SIZE / sizeof(struct tcs_port))

/*
 * The index of a namespace's ports: a directory of TCS_NR_BLOCKS block
 * pointers per side, each block holding the ids of TCS_BLOCK_SIZE ports.
 * Id 0 is a port not seen yet, TCS_ID_REFUSED one the caps kept out,
 * TCS_ID_REFUSED_FOLD one they kept out that would have folded, and id n
 * the entry n - 1 of the array of pages tcs_net.pages.  A u16 per
 * port of a block, not a pointer, keeps the index at a quarter of what
 * pointers would take, and entries are carved from pages in order, with
 * no allocation of their own.  Nothing is freed before the namespace goes
 * away (see tcs_table_free()).
 */
#define TCS_BLOCK_BITS	9
#define TCS_BLOCK_SIZE	BIT(TCS_BLOCK_BITS)
#define TCS_BLOCK_MASK	(TCS_BLOCK_SIZE - 1)
#define TCS_NR_BLOCKS	(65536U >> TCS_BLOCK_BITS)
#define TCS_ID_REFUSED		U16_MAX
#define TCS_ID_REFUSED_FOLD	(U16_MAX - 1)
#define TCS_MAX_IDS		(U16_MAX - 2)

struct tcs_block {
	u16 id[TCS_BLOCK_SIZE];
};

struct tcs_dir {
	struct tcs_block *block[TCS_NR_SIDES][TCS_NR_BLOCKS];
};

/*
 * Per namespace, per CPU: time spent in each state by tracked sockets,
 * the counters of the two fold rows of /proc/net/tcp_closestat_folded,
 * which the probes bump beside those of each folded port (tcs_port.fold),
 * and the sockets the tracking table had no room for.
 */
struct tcs_hist {
	u64 count[TCS_NR_STATES][TCS_HIST_BUCKETS];
	u64 sum_ms[TCS_NR_STATES];
	struct tcs_counters fold[TCS_NR_SIDES];
	u64 untracked;
};

/*
 * What a fold row has besides its per-CPU counters: the totals taken out
 * of its ports by resets, as in struct tcs_port, and the number of ports
 * folded into it.
 */
struct tcs_fold {
	u64 base[TCS_NR_RESETTABLE];
	u64 oldest_ns;
	unsigned long scan_gen;
	unsigned long ports;		/* under tcs_net.lock */
};

/*
 * Per network namespace state, in net_generic().  @hist, @pages, @max_ids
 * and the fold pointers of @other_fold are set, under @lock, before @dir
 * is published.
 */
struct tcs_net {
	struct tcs_dir *dir;
	struct tcs_hist __percpu *hist;
	struct tcs_port **pages;
	unsigned int max_ids;
	unsigned int nr_ids;		/* entries made, under @lock */
	spinlock_t lock;		/* serializes the first sight of ports */
	bool dying;
	atomic_long_t alloc_failed;
	atomic_long_t memory;
	/* ports the caps refused, and those of them that do not fold */
	unsigned long refused[TCS_NR_SIDES];		/* under @lock */
	unsigned long refused_other[TCS_NR_SIDES];	/* under @lock */
	/*
	 * The overflow rows: the ports that have no entry, and, bumping the
	 * fold row too, the refused ones that fold (TCS_ID_REFUSED_FOLD)
	 */
	struct tcs_port other[TCS_NR_SIDES];
	struct tcs_port other_fold[TCS_NR_SIDES];
	struct tcs_fold fold[TCS_NR_SIDES];
	struct mutex reset_lock;	/* serializes resets */
	struct mutex scan_lock;		/* serializes tcs_track_scan() */
	unsigned long scan_gen;
};

extern unsigned int tcs_net_id;

static inline struct tcs_net *tcs_net(const struct net *net)
{
	return net_generic(net, tcs_net_id);
}

/*
 * Rows are walked in the order of their keys: a side's ports, then its
 * overflow row, port TCS_PORT_OTHER.
 */
#define TCS_PORT_OTHER	65536U

static inline u32 tcs_key(enum tcs_side side, u32 port)
{
	return (u32)side << 17 | port;
}

static inline enum tcs_side tcs_key_side(u32 key)
{
	return key >> 17;
}

static inline u32 tcs_key_port(u32 key)
{
	return key & (BIT(17) - 1);
}

/*
 * Both ends of a socket, as found (or created) in the table: never NULL,
 * a port without an entry of its own counts in its side's overflow row.
 */
struct tcs_ports {
	struct tcs_port *p[TCS_NR_SIDES];
};

/*
 * What /proc/net/tcp_closestat_sockets shows of a tracked socket, copied
 * from the socket when its entry is made (track.c).
 */
struct tcs_sock_info {
	u64 since;			/* ktime_get_ns() at entry */
	unsigned long ino;
	struct in6_addr saddr, daddr;	/* v4 in the first word */
	u16 sport, dport;
	u8 family;
	u8 state;			/* enum tcs_state */
};

/* table.c */
void tcs_table_init(struct tcs_net *tn);
void tcs_table_free(struct tcs_net *tn);
struct tcs_net *tcs_lookup(const struct sock_common *skc,
			   struct tcs_ports *ports);
void tcs_inc(const struct tcs_ports *ports, enum tcs_slot slot);
void tcs_dec(const struct tcs_ports *ports, enum tcs_slot slot);
void tcs_untracked_inc(struct tcs_net *tn);
u64 tcs_untracked_read(struct tcs_net *tn);
void tcs_hist_add(struct tcs_net *tn, enum tcs_state state, u64 ns);
void tcs_table_show_stat(struct seq_file *seq, struct tcs_net *tn);
struct tcs_port *tcs_table_next(struct tcs_net *tn, u32 *key);
void tcs_port_read(const struct tcs_port *port, unsigned long gen, u64 now,
		   u64 *val);
void tcs_other_read(struct tcs_net *tn, enum tcs_side side,
		    unsigned long gen, u64 now, u64 *val);
bool tcs_fold_read(struct tcs_net *tn, enum tcs_side side, unsigned long gen,
		   u64 now, u64 *val);
void tcs_hist_read(struct tcs_net *tn, struct tcs_hist *sum);
void tcs_table_reset(struct tcs_net *tn);

/* track.c */
extern unsigned int tcs_max_tracked;
int tcs_track_init(void);
void tcs_track_exit(void);
long tcs_tracked(void);
void tcs_track_enter(struct tcs_net *tn, const struct tcs_ports *ports,
		     const struct sock_common *skc, unsigned long ino,
		     enum tcs_state state);
void tcs_track_set_ino(const void *obj, unsigned long ino);
void tcs_track_leave_sk(const void *obj);
struct tcs_net *tcs_track_hashdance(const struct sock *sk, const void *tw,
				    enum tcs_state state,
				    struct tcs_ports *ports);
enum tcs_switch {
	TCS_SWITCH_UNTRACKED,	/* no entry */
	TCS_SWITCH_TRACKED,	/* its entry switched to TIME_WAIT */
	TCS_SWITCH_DONE,	/* its entry was in TIME_WAIT already */
};

enum tcs_switch tcs_track_tw_switch(const void *tw);
struct inet_timewait_sock;
bool tcs_track_tw_enter(struct tcs_net *tn, const struct tcs_ports *ports,
			const struct inet_timewait_sock *tw);
void tcs_track_tw_kill(const void *tw, enum tcs_slot fate);
void tcs_track_purge(struct tcs_net *tn);
unsigned long tcs_track_scan(struct tcs_net *tn);
bool tcs_track_next(struct tcs_net *tn, u64 *pos, struct tcs_sock_info *info);

/* probes.c */
int tcs_probes_register(void);
void tcs_probes_unregister(void);
void tcs_probes_show_missed(struct seq_file *seq);

/* proc.c */
int tcs_proc_init(struct net *net);
void tcs_proc_exit(struct net *net);

#endif /* _TCP_CLOSESTAT_H */
