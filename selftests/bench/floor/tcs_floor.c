// SPDX-License-Identifier: GPL-2.0
/*
 * tcs_floor: the floor of tcp_closestat's probe design, for the benchmark.
 *
 * The same hook points as tcp_closestat (module/probes.c): kprobes on
 * tcp_set_state, the function that hashes a new timewait socket,
 * tw_timer_handler, inet_twsk_kill, inet_twsk_put and __inet_accept;
 * kretprobes with an entry handler on inet_twsk_alloc and
 * tcp_timewait_state_process.  Each handler does one per-CPU increment
 * and nothing else.  The totals are printed when
 * the module is removed, so that the benchmark can check the probes fired.
 */

#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/percpu.h>

#include "compat.h"		/* module/compat.h, copied here by bench.sh */

enum floor_hook {
	FLOOR_SET_STATE,
	FLOOR_HASHDANCE,
	FLOOR_TW_TIMER,
	FLOOR_TW_KILL,
	FLOOR_TW_PUT,
	FLOOR_ACCEPT,
	FLOOR_NR_KPROBES,
	FLOOR_TW_PROCESS = FLOOR_NR_KPROBES,
	FLOOR_TWSK_ALLOC,
	FLOOR_NR_PROBES,
	FLOOR_NR_HITS = FLOOR_NR_PROBES + 2	/* two return handlers */
};

static DEFINE_PER_CPU(unsigned long [FLOOR_NR_HITS], floor_hits);

static int floor_pre(struct kprobe *p, struct pt_regs *regs);

static struct kprobe floor_kp[FLOOR_NR_KPROBES] = {
	[FLOOR_SET_STATE] = { .symbol_name = "tcp_set_state" },
	[FLOOR_HASHDANCE] = { .symbol_name = TCS_TW_HASHDANCE_SYMBOL },
	[FLOOR_TW_TIMER]  = { .symbol_name = "tw_timer_handler" },
	[FLOOR_TW_KILL]   = { .symbol_name = "inet_twsk_kill" },
	[FLOOR_TW_PUT]    = { .symbol_name = "inet_twsk_put" },
	[FLOOR_ACCEPT]    = { .symbol_name = "__inet_accept" },
};

static struct kprobe *floor_kprobes[FLOOR_NR_KPROBES];

static int floor_pre(struct kprobe *p, struct pt_regs *regs)
{
	this_cpu_inc(floor_hits[p - floor_kp]);
	return 0;
}

static int floor_tw_process_entry(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	this_cpu_inc(floor_hits[FLOOR_TW_PROCESS]);
	return 0;
}

static int floor_tw_process_ret(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	this_cpu_inc(floor_hits[FLOOR_NR_PROBES]);
	return 0;
}

static int floor_twsk_alloc_entry(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	this_cpu_inc(floor_hits[FLOOR_TWSK_ALLOC]);
	return 0;
}

static int floor_twsk_alloc_ret(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	this_cpu_inc(floor_hits[FLOOR_NR_PROBES + 1]);
	return 0;
}

static struct kretprobe floor_tw_process_rp = {
	.kp.symbol_name	= "tcp_timewait_state_process",
	.entry_handler	= floor_tw_process_entry,
	.handler	= floor_tw_process_ret,
};

static struct kretprobe floor_twsk_alloc_rp = {
	.kp.symbol_name	= "inet_twsk_alloc",
	.entry_handler	= floor_twsk_alloc_entry,
	.handler	= floor_twsk_alloc_ret,
};

static struct kretprobe *floor_kretprobes[] = {
	&floor_tw_process_rp,
	&floor_twsk_alloc_rp,
};

static int __init floor_init(void)
{
	int err, i;

	for (i = 0; i < FLOOR_NR_KPROBES; i++) {
		floor_kp[i].pre_handler = floor_pre;
		floor_kprobes[i] = &floor_kp[i];
	}
	err = register_kprobes(floor_kprobes, FLOOR_NR_KPROBES);
	if (err) {
		pr_err("cannot register kprobes: %d\n", err);
		return err;
	}
	err = register_kretprobes(floor_kretprobes,
				  ARRAY_SIZE(floor_kretprobes));
	if (err) {
		pr_err("cannot register kretprobes: %d\n", err);
		unregister_kprobes(floor_kprobes, FLOOR_NR_KPROBES);
		return err;
	}
	return 0;
}

static void __exit floor_exit(void)
{
	unsigned long sum[FLOOR_NR_HITS] = { 0 };
	unsigned long missed = 0;
	int cpu, i;

	unregister_kretprobes(floor_kretprobes, ARRAY_SIZE(floor_kretprobes));
	unregister_kprobes(floor_kprobes, FLOOR_NR_KPROBES);

	for_each_possible_cpu(cpu)
		for (i = 0; i < FLOOR_NR_HITS; i++)
			sum[i] += per_cpu(floor_hits, cpu)[i];
	for (i = 0; i < FLOOR_NR_KPROBES; i++)
		missed += floor_kp[i].nmissed;
	for (i = 0; i < ARRAY_SIZE(floor_kretprobes); i++)
		missed += floor_kretprobes[i]->kp.nmissed +
			  floor_kretprobes[i]->nmissed;
	pr_info("hits tcp_set_state %lu %s %lu tw_timer_handler %lu inet_twsk_kill %lu inet_twsk_put %lu __inet_accept %lu tcp_timewait_state_process %lu/%lu inet_twsk_alloc %lu/%lu missed %lu\n",
		sum[FLOOR_SET_STATE],
		TCS_TW_HASHDANCE_SYMBOL, sum[FLOOR_HASHDANCE],
		sum[FLOOR_TW_TIMER], sum[FLOOR_TW_KILL], sum[FLOOR_TW_PUT],
		sum[FLOOR_ACCEPT],
		sum[FLOOR_TW_PROCESS], sum[FLOOR_NR_PROBES],
		sum[FLOOR_TWSK_ALLOC], sum[FLOOR_NR_PROBES + 1], missed);
}

module_init(floor_init);
module_exit(floor_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Benchmark floor: tcp_closestat's probes, one per-CPU increment each");
