// SPDX-License-Identifier: GPL-2.0
/*
 * The files under /proc/net, one set per network namespace:
 *
 *   tcp_closestat          the counters, one row per (side, port)
 *   tcp_closestat_stat     events not counted, tracking, memory in use
 *   tcp_closestat_ctl      write "reset" to zero this namespace's counters
 *   tcp_closestat_hist     time spent in each state
 *   tcp_closestat_sockets  the tracked sockets
 *   tcp_closestat_folded   the counters, clients' ports folded into a row
 *
 * The formats are the ABI described in uapi/linux/tcp_closestat.h and
 * Documentation/tcp_closestat.rst.
 */

#include <linux/capability.h>
#include <linux/in6.h>
#include <linux/math64.h>
#include <linux/proc_fs.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/string.h>
#include <net/ip.h>
#include <net/net_namespace.h>

#include "tcp_closestat.h"

static const char *const tcs_counter_names[] = TCS_COUNTER_NAMES;
static_assert(ARRAY_SIZE(tcs_counter_names) == TCS_NR_COUNTERS);

static const char *const tcs_state_names[] = TCS_STATE_NAMES;
static_assert(ARRAY_SIZE(tcs_state_names) == TCS_NR_STATES);

static const char *const tcs_side_names[] = TCS_SIDE_NAMES;
static_assert(ARRAY_SIZE(tcs_side_names) == TCS_NR_SIDES);

/*
 * Iterator position: 0 is the header, key + 1 a row.  Rows come in key
 * order, which is "local" before "remote", ports ascending, then the
 * side's overflow row.  The first
 * start() of an open file scans the tracking table for close_wait_oldest_ms
 * under scan_lock, which every start() holds until stop().
 */
struct tcs_iter {
	struct seq_net_private p;
	unsigned long gen;
	u64 now;
};

#define TCS_POS_END	((loff_t)tcs_key(TCS_NR_SIDES, 0) + 1)

static void *tcs_seq_find(struct seq_file *seq, loff_t *pos)
{
	struct tcs_net *tn = tcs_net(seq_file_net(seq));
	struct tcs_port *port;
	u32 key;

	if (*pos >= TCS_POS_END)
		return NULL;
	key = *pos - 1;
	port = tcs_table_next(tn, &key);
	if (!port) {
		*pos = TCS_POS_END;
		return NULL;
	}
	*pos = (loff_t)key + 1;
	return port;
}

/* Takes scan_lock, which the seq_file's stop() releases. */
static void tcs_iter_begin(struct seq_file *seq, struct tcs_iter *it)
{
	struct tcs_net *tn = tcs_net(seq_file_net(seq));

	/* scan once per open, again only if another reader scanned since */
	mutex_lock(&tn->scan_lock);
	if (!it->gen || it->gen != tn->scan_gen) {
		it->gen = tcs_track_scan(tn);
		it->now = ktime_get_ns();
	}
}

static void *tcs_seq_start(struct seq_file *seq, loff_t *pos)
{
	tcs_iter_begin(seq, seq->private);
	if (*pos == 0)
		return SEQ_START_TOKEN;
	return tcs_seq_find(seq, pos);
}

static void *tcs_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	++*pos;
	return tcs_seq_find(seq, pos);
}

static void tcs_seq_stop(struct seq_file *seq, void *v)
{
	mutex_unlock(&tcs_net(seq_file_net(seq))->scan_lock);
}

/* seq_put_decimal_ull(): a third of seq_printf()'s cost per row */
static void tcs_show_key(struct seq_file *seq, u32 key)
{
	seq_puts(seq, tcs_side_names[tcs_key_side(key)]);
	if (tcs_key_port(key) == TCS_PORT_OTHER)
		seq_puts(seq, " " TCS_PORT_OTHER_NAME);
	else
		seq_put_decimal_ull(seq, " ", tcs_key_port(key));
}

static void tcs_show_values(struct seq_file *seq, const u64 *val)
{
	unsigned int c;

	for (c = 0; c < TCS_NR_COUNTERS; c++)
		seq_put_decimal_ull(seq, " ", val[c]);
	seq_putc(seq, '\n');
}

static void tcs_show_counter_names(struct seq_file *seq)
{
	unsigned int c;

	for (c = 0; c < TCS_NR_COUNTERS; c++)
		seq_printf(seq, " %s", tcs_counter_names[c]);
	seq_putc(seq, '\n');
}

static bool tcs_any(const u64 *val)
{
	unsigned int c;

	for (c = 0; c < TCS_NR_COUNTERS; c++)
		if (val[c])
			return true;
	return false;
}

static int tcs_seq_show(struct seq_file *seq, void *v)
{
	struct tcs_iter *it = seq->private;
	u64 val[TCS_NR_COUNTERS];
	u32 key;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, TCS_COL_SIDE " " TCS_COL_PORT);
		tcs_show_counter_names(seq);
		return 0;
	}

	key = seq->index - 1;
	if (tcs_key_port(key) == TCS_PORT_OTHER)
		tcs_other_read(tcs_net(seq_file_net(seq)), tcs_key_side(key),
			       it->gen, it->now, val);
	else
		tcs_port_read(v, it->gen, it->now, val);
	if (!tcs_any(val))
		return SEQ_SKIP;
	tcs_show_key(seq, key);
	tcs_show_values(seq, val);
	return 0;
}

static const struct seq_operations tcs_seq_ops = {
	.start	= tcs_seq_start,
	.next	= tcs_seq_next,
	.stop	= tcs_seq_stop,
	.show	= tcs_seq_show,
};

/*
 * /proc/net/tcp_closestat_folded: the rows of tcp_closestat, except that
 * the ports classified as folded (tcs_port.fold) are one row per side,
 * port 0, before the side's other rows; the fold row holds the refused
 * ports that fold too (tcs_net.other_fold), and the overflow row the
 * others, with their number.  The fold row's counters are kept by the
 * probes: a read does not sum the folded ports' counters, it only walks
 * over their entries.
 *
 * Positions: 0 is the header, 2 * tcs_key(side, 0) + 1 the fold row of
 * side, 2 * key + 2 the row of key; other odd positions, which next()
 * reaches from a row, stand for the row after.  The fold row is read in
 * find() into the iterator, and shown from there.
 */
struct tcs_fold_iter {
	struct tcs_iter it;	/* first: its seq_net_private is */
	int lo, hi;		/* the local range, read by each start() */
	enum tcs_side side;	/* of the fold row in @val */
	u64 val[TCS_NR_COUNTERS];
};

#define TCS_FOLD_END	(2 * (loff_t)tcs_key(TCS_NR_SIDES, 0) + 1)

static bool tcs_fold_row(struct tcs_net *tn, struct tcs_fold_iter *f,
			 enum tcs_side side)
{
	f->side = side;
	return tcs_fold_read(tn, side, f->it.gen, f->it.now, f->val) &&
	       tcs_any(f->val);
}

static void *tcs_fold_find(struct seq_file *seq, loff_t *pos)
{
	struct tcs_net *tn = tcs_net(seq_file_net(seq));
	struct tcs_fold_iter *f = seq->private;
	struct tcs_port *port;
	loff_t fold_pos;
	u32 key;

	while (*pos < TCS_FOLD_END) {
		if (*pos & 1) {
			/* only the first of a side is a fold row's position */
			key = (*pos - 1) / 2;
			if (!tcs_key_port(key) &&
			    tcs_fold_row(tn, f, tcs_key_side(key)))
				return f;
			++*pos;
		}
		key = (*pos - 2) / 2;
		for (;;) {
			port = tcs_table_next(tn, &key);
			if (!port) {
				*pos = TCS_FOLD_END;
				return NULL;
			}
			/* a side's fold row comes before its first row */
			fold_pos = 2 * (loff_t)tcs_key(tcs_key_side(key), 0) + 1;
			if (fold_pos >= *pos) {
				*pos = fold_pos;
				break;
			}
			if (!port->fold) {
				*pos = 2 * (loff_t)key + 2;
				return port;
			}
			key++;
		}
	}
	return NULL;
}

static void *tcs_fold_start(struct seq_file *seq, loff_t *pos)
{
	struct tcs_fold_iter *f = seq->private;

	tcs_iter_begin(seq, &f->it);
	inet_get_local_port_range(seq_file_net(seq), &f->lo, &f->hi);
	if (*pos == 0)
		return SEQ_START_TOKEN;
	return tcs_fold_find(seq, pos);
}

static void *tcs_fold_next(struct seq_file *seq, void *v, loff_t *pos)
{
	++*pos;
	return tcs_fold_find(seq, pos);
}

static void tcs_fold_show_cols(struct seq_file *seq, u64 folded, u64 ports,
			       u64 lo, u64 hi)
{
	seq_put_decimal_ull(seq, " ", folded);
	seq_put_decimal_ull(seq, " ", ports);
	seq_put_decimal_ull(seq, " ", lo);
	seq_put_decimal_ull(seq, " ", hi);
}

static int tcs_fold_show(struct seq_file *seq, void *v)
{
	struct tcs_net *tn = tcs_net(seq_file_net(seq));
	struct tcs_fold_iter *f = seq->private;
	u64 val[TCS_NR_COUNTERS];
	u32 key;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, TCS_COL_SIDE " " TCS_COL_PORT " "
			 TCS_FOLD_COL_FOLDED " " TCS_FOLD_COL_PORTS " "
			 TCS_FOLD_COL_PORT_LO " " TCS_FOLD_COL_PORT_HI);
		tcs_show_counter_names(seq);
		return 0;
	}
	if (v == f) {
		bool local = f->side == TCS_SIDE_LOCAL;

		/* a peer's port is folded wherever it is */
		tcs_show_key(seq, tcs_key(f->side, 0));
		tcs_fold_show_cols(seq, 1, READ_ONCE(tn->fold[f->side].ports),
				   local ? f->lo : 1, local ? f->hi : 65535);
		tcs_show_values(seq, f->val);
		return 0;
	}

	tcs_port_read(v, f->it.gen, f->it.now, val);
	if (!tcs_any(val))
		return SEQ_SKIP;
	key = (seq->index - 2) / 2;
	tcs_show_key(seq, key);
	if (tcs_key_port(key) == TCS_PORT_OTHER)
		tcs_fold_show_cols(seq, 0,
				   READ_ONCE(tn->refused_other[tcs_key_side(key)]),
				   0, 0);
	else
		tcs_fold_show_cols(seq, 0, 1, tcs_key_port(key),
				   tcs_key_port(key));
	tcs_show_values(seq, val);
	return 0;
}

static const struct seq_operations tcs_fold_seq_ops = {
	.start	= tcs_fold_start,
	.next	= tcs_fold_next,
	.stop	= tcs_seq_stop,
	.show	= tcs_fold_show,
};

static int tcs_stat_show(struct seq_file *seq, void *v)
{
	struct tcs_net *tn = tcs_net(seq_file_single_net(seq));

	tcs_probes_show_missed(seq);
	tcs_table_show_stat(seq, tn);
	return 0;
}

static int tcs_hist_show(struct seq_file *seq, void *v)
{
	struct tcs_net *tn = tcs_net(seq_file_single_net(seq));
	struct tcs_hist *h;
	unsigned int s, b;

	h = kmalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	tcs_hist_read(tn, h);

	seq_puts(seq, TCS_HIST_COL_STATE " " TCS_HIST_COL_COUNT " "
		 TCS_HIST_COL_SUM);
	for (b = 0; b < TCS_HIST_BUCKETS - 1; b++)
		seq_printf(seq, " " TCS_HIST_COL_LT "%lu", BIT(b));
	seq_printf(seq, " " TCS_HIST_COL_GE "%lu\n", BIT(TCS_HIST_BUCKETS - 2));

	for (s = 0; s < TCS_NR_STATES; s++) {
		u64 count = 0;

		for (b = 0; b < TCS_HIST_BUCKETS; b++)
			count += h->count[s][b];
		seq_printf(seq, "%s %llu %llu", tcs_state_names[s], count,
			   h->sum_ms[s]);
		for (b = 0; b < TCS_HIST_BUCKETS; b++)
			seq_printf(seq, " %llu", h->count[s][b]);
		seq_putc(seq, '\n');
	}
	kfree(h);
	return 0;
}

static int tcs_ctl_show(struct seq_file *seq, void *v)
{
	return 0;
}

/*
 * The file is writable by anyone, like a socket is creatable by anyone:
 * the check is CAP_NET_ADMIN over the namespace, with the credentials of
 * whoever opened the file.
 */
static int tcs_ctl_write(struct file *file, char *buf, size_t size)
{
	struct seq_file *seq = file->private_data;
	struct net *net = seq_file_single_net(seq);

	if (!file_ns_capable(file, net->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	if (strcmp(strim(buf), TCS_CTL_RESET))
		return -EINVAL;
	tcs_table_reset(tcs_net(net));
	return 0;
}

/*
 * /proc/net/tcp_closestat_sockets.  Position 0 is the header, p + 1 the
 * tracked entry at position p of tcs_track_next().  Each entry is copied
 * out under its bucket's lock and shown from the copy.
 */
struct tcs_sockets_iter {
	struct seq_net_private p;
	struct tcs_sock_info info;
	u64 now;
};

static void *tcs_sockets_find(struct seq_file *seq, loff_t *pos)
{
	struct tcs_sockets_iter *it = seq->private;
	u64 tpos = *pos - 1;
	bool found;

	found = tcs_track_next(tcs_net(seq_file_net(seq)), &tpos, &it->info);
	*pos = tpos + 1;
	return found ? &it->info : NULL;
}

static void *tcs_sockets_start(struct seq_file *seq, loff_t *pos)
{
	struct tcs_sockets_iter *it = seq->private;

	it->now = ktime_get_ns();
	if (*pos == 0)
		return SEQ_START_TOKEN;
	return tcs_sockets_find(seq, pos);
}

static void *tcs_sockets_next(struct seq_file *seq, void *v, loff_t *pos)
{
	++*pos;
	return tcs_sockets_find(seq, pos);
}

static void tcs_sockets_stop(struct seq_file *seq, void *v)
{
}

static void tcs_show_addr(struct seq_file *seq, u8 family,
			  const struct in6_addr *addr, u16 port)
{
	if (family == AF_INET6)
		seq_printf(seq, " [%pI6c]:%u", addr, port);
	else
		seq_printf(seq, " %pI4:%u", &addr->s6_addr32[0], port);
}

static int tcs_sockets_show(struct seq_file *seq, void *v)
{
	struct tcs_sockets_iter *it = seq->private;
	const struct tcs_sock_info *info = v;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, TCS_SOCK_COL_STATE " " TCS_SOCK_COL_LOCAL " "
			 TCS_SOCK_COL_REMOTE " " TCS_SOCK_COL_AGE " "
			 TCS_SOCK_COL_INODE "\n");
		return 0;
	}
	seq_puts(seq, tcs_state_names[info->state]);
	tcs_show_addr(seq, info->family, &info->saddr, info->sport);
	tcs_show_addr(seq, info->family, &info->daddr, info->dport);
	seq_printf(seq, " %llu %lu\n",
		   it->now > info->since ?
		   div_u64(it->now - info->since, NSEC_PER_MSEC) : 0,
		   info->ino);
	return 0;
}

static const struct seq_operations tcs_sockets_seq_ops = {
	.start	= tcs_sockets_start,
	.next	= tcs_sockets_next,
	.stop	= tcs_sockets_stop,
	.show	= tcs_sockets_show,
};

int tcs_proc_init(struct net *net)
{
	if (!proc_create_net(TCS_PROC_NAME, 0444, net->proc_net, &tcs_seq_ops,
			     sizeof(struct tcs_iter)))
		goto err;
	if (!proc_create_net_single(TCS_PROC_STAT_NAME, 0444, net->proc_net,
				    tcs_stat_show, NULL))
		goto err_stat;
	if (!proc_create_net_single_write(TCS_PROC_CTL_NAME, 0222,
					  net->proc_net, tcs_ctl_show,
					  tcs_ctl_write, NULL))
		goto err_ctl;
	if (!proc_create_net_single(TCS_PROC_HIST_NAME, 0444, net->proc_net,
				    tcs_hist_show, NULL))
		goto err_hist;
	if (!proc_create_net(TCS_PROC_SOCKETS_NAME, 0444, net->proc_net,
			     &tcs_sockets_seq_ops,
			     sizeof(struct tcs_sockets_iter)))
		goto err_sockets;
	if (!proc_create_net(TCS_PROC_FOLDED_NAME, 0444, net->proc_net,
			     &tcs_fold_seq_ops, sizeof(struct tcs_fold_iter)))
		goto err_folded;
	return 0;

err_folded:
	remove_proc_entry(TCS_PROC_SOCKETS_NAME, net->proc_net);
err_sockets:
	remove_proc_entry(TCS_PROC_HIST_NAME, net->proc_net);
err_hist:
	remove_proc_entry(TCS_PROC_CTL_NAME, net->proc_net);
err_ctl:
	remove_proc_entry(TCS_PROC_STAT_NAME, net->proc_net);
err_stat:
	remove_proc_entry(TCS_PROC_NAME, net->proc_net);
err:
	return -ENOMEM;
}

void tcs_proc_exit(struct net *net)
{
	remove_proc_entry(TCS_PROC_FOLDED_NAME, net->proc_net);
	remove_proc_entry(TCS_PROC_SOCKETS_NAME, net->proc_net);
	remove_proc_entry(TCS_PROC_HIST_NAME, net->proc_net);
	remove_proc_entry(TCS_PROC_CTL_NAME, net->proc_net);
	remove_proc_entry(TCS_PROC_STAT_NAME, net->proc_net);
	remove_proc_entry(TCS_PROC_NAME, net->proc_net);
}
