/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TCP_CLOSESTAT_H
#define _TCP_CLOSESTAT_H

#include <linux/bits.h>
#include <linux/in6.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/types.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include <linux/tcp_closestat.h>

/*
 * Per-CPU slots of one (side, port).  The first TCS_NR_RESETTABLE are
 * cumulative and zeroed by a reset; the tracked entries and exits, whose
 * difference is the *_now gauge, are never reset.
 */
enum tcs_slot {
	TCS_S_ENTER,				/* + state */
	TCS_S_TW_EXPIRED = TCS_S_ENTER + TCS_NR_STATES,
	TCS_S_TW_REUSED,
	TCS_S_TW_KILLED,
	TCS_S_TW_OVERFLOW,
	TCS_NR_RESETTABLE,
	TCS_S_TRACK_IN = TCS_NR_RESETTABLE,	/* + state */
	TCS_S_TRACK_OUT = TCS_S_TRACK_IN + TCS_NR_STATES, /* + state */
	TCS_S_UNTRACKED = TCS_S_TRACK_OUT + TCS_NR_STATES, /* local side */
	TCS_NR_SLOTS
};

struct tcs_counters {
	u64 v[TCS_NR_SLOTS];
};

/*
 * Counters of one (side, port) in one network namespace.  The per-CPU
 * part is written by the probes; @base holds the totals at the last reset
 * and is written only under tcs_net.reset_lock.  @oldest_ns and @scan_gen
 * are filled by the reader's scan of the tracking table (track.c).
 */
struct tcs_port {
	struct tcs_counters __percpu *pcpu;
	struct tcs_counters __percpu *fold;	/* its side's fold row, or NULL */
	u64 base[TCS_NR_RESETTABLE];
	u64 oldest_ns;
	unsigned long scan_gen;
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

/*
 * Time spent in each state by tracked sockets, per CPU; and the counters
 * of the two fold rows of /proc/net/tcp_closestat_folded, which the
 * probes bump beside those of each folded port (tcs_port.fold).
 */
struct tcs_hist {
	u64 count[TCS_NR_STATES][TCS_HIST_BUCKETS];
	u64 sum_ms[TCS_NR_STATES];
	struct tcs_counters fold[TCS_NR_SIDES];
};

/*
 * What a fold row has besides its per-CPU counters: as in struct tcs_port,
 * and the number of ports folded into it.
 */
struct tcs_fold {
	u64 base[TCS_NR_RESETTABLE];
	u64 oldest_ns;
	unsigned long scan_gen;
	atomic_long_t ports;
};

struct tcs_dir {
	struct tcs_chunk *chunk[TCS_NR_SIDES][TCS_NR_CHUNKS];
};

/* Per network namespace state, in net_generic(). */
struct tcs_net {
	struct tcs_dir *dir;
	struct tcs_hist __percpu *hist;	/* set before dir */
	bool dying;
	atomic_long_t alloc_failed;
	atomic_long_t ports;
	atomic_long_t memory;
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

static inline u32 tcs_key(enum tcs_side side, u16 port)
{
	return (u32)side << 16 | port;
}

/* Both ends of a socket, as found (or created) in the table. */
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
void tcs_inc_once(const struct tcs_ports *ports, enum tcs_slot slot);
u64 tcs_table_sum(struct tcs_net *tn, enum tcs_slot slot);
void tcs_hist_add(struct tcs_net *tn, enum tcs_state state, u64 ns);
struct tcs_port *tcs_table_next(struct tcs_net *tn, u32 *key);
void tcs_port_read(const struct tcs_port *port, unsigned long gen, u64 now,
		   u64 *val);
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
