// SPDX-License-Identifier: GPL-2.0
/*
 * tcp_closestat: count, per network namespace and per port, the TCP
 * sockets entering TIME_WAIT, CLOSE_WAIT and FIN_WAIT2.
 *
 * Order matters: the per-namespace state exists before the first probe can
 * fire, and the probes are gone before it is freed.
 */

#include <linux/module.h>

#include "tcp_closestat.h"

unsigned int tcs_net_id __read_mostly;

static int __net_init tcs_net_init(struct net *net)
{
	tcs_table_init(tcs_net(net));
	return tcs_proc_init(net);
}

/* The core runs synchronize_rcu() between pre_exit and exit. */
static void __net_exit tcs_net_pre_exit(struct net *net)
{
	WRITE_ONCE(tcs_net(net)->dying, true);
}

static void __net_exit tcs_net_exit(struct net *net)
{
	tcs_proc_exit(net);
	tcs_track_purge(tcs_net(net));
	tcs_table_free(tcs_net(net));
}

static struct pernet_operations tcs_net_ops = {
	.init		= tcs_net_init,
	.pre_exit	= tcs_net_pre_exit,
	.exit		= tcs_net_exit,
	.id		= &tcs_net_id,
	.size		= sizeof(struct tcs_net),
};

static int __init tcs_init(void)
{
	int err;

	err = tcs_track_init();
	if (err)
		return err;
	err = register_pernet_subsys(&tcs_net_ops);
	if (err)
		goto err_track;
	err = tcs_probes_register();
	if (err)
		goto err_pernet;
	return 0;

err_pernet:
	unregister_pernet_subsys(&tcs_net_ops);
err_track:
	tcs_track_exit();
	return err;
}

static void __exit tcs_exit(void)
{
	tcs_probes_unregister();
	unregister_pernet_subsys(&tcs_net_ops);
	tcs_track_exit();
}

module_init(tcs_init);
module_exit(tcs_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(TCS_VERSION);
MODULE_DESCRIPTION("Per-port counts of TCP sockets entering TIME_WAIT, CLOSE_WAIT and FIN_WAIT2");
