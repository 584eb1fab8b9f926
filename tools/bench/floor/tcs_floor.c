// SPDX-License-Identifier: GPL-2.0
/*
 * tcs_floor: the floor of tcp_closestat's probe design, for the benchmark.
 *
 * The same hook points as tcp_closestat (a kprobe on tcp_set_state, a
 * kprobe on the function that hashes a new timewait socket, a kretprobe
 * with an entry handler on tcp_timewait_state_process), each handler doing
 * one per-CPU increment and nothing else.  The totals are printed when the
 * module is removed, so that the benchmark can check the probes fired.
 */

#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/percpu.h>

#ifdef FLOOR_HAVE_TWSK_HASHDANCE_SCHEDULE
#define FLOOR_HASHDANCE_SYMBOL "inet_twsk_hashdance_schedule"
#else
#define FLOOR_HASHDANCE_SYMBOL "inet_twsk_hashdance"
#endif

enum floor_hook {
	FLOOR_SET_STATE,
	FLOOR_HASHDANCE,
	FLOOR_TW_ENTRY,
	FLOOR_TW_RETURN,
	FLOOR_NR_HOOKS
};

struct floor_hits {
	unsigned long n[FLOOR_NR_HOOKS];
};

static DEFINE_PER_CPU(struct floor_hits, floor_hits);

static int floor_set_state(struct kprobe *p, struct pt_regs *regs)
{
	this_cpu_inc(floor_hits.n[FLOOR_SET_STATE]);
	return 0;
}

static int floor_hashdance(struct kprobe *p, struct pt_regs *regs)
{
	this_cpu_inc(floor_hits.n[FLOOR_HASHDANCE]);
	return 0;
}

static int floor_tw_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	this_cpu_inc(floor_hits.n[FLOOR_TW_ENTRY]);
	return 0;
}

static int floor_tw_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	this_cpu_inc(floor_hits.n[FLOOR_TW_RETURN]);
	return 0;
}

static struct kprobe floor_set_state_kp = {
	.symbol_name	= "tcp_set_state",
	.pre_handler	= floor_set_state,
};

static struct kprobe floor_hashdance_kp = {
	.symbol_name	= FLOOR_HASHDANCE_SYMBOL,
	.pre_handler	= floor_hashdance,
};

static struct kretprobe floor_tw_rp = {
	.kp.symbol_name	= "tcp_timewait_state_process",
	.entry_handler	= floor_tw_entry,
	.handler	= floor_tw_return,
};

static struct kprobe *floor_kprobes[] = {
	&floor_set_state_kp,
	&floor_hashdance_kp,
};

static int __init floor_init(void)
{
	int err;

	err = register_kprobes(floor_kprobes, ARRAY_SIZE(floor_kprobes));
	if (err) {
		pr_err("cannot register kprobes: %d\n", err);
		return err;
	}
	err = register_kretprobe(&floor_tw_rp);
	if (err) {
		pr_err("cannot register kretprobe: %d\n", err);
		unregister_kprobes(floor_kprobes, ARRAY_SIZE(floor_kprobes));
		return err;
	}
	return 0;
}

static void __exit floor_exit(void)
{
	unsigned long sum[FLOOR_NR_HOOKS] = { 0 };
	int cpu, i;

	unregister_kretprobe(&floor_tw_rp);
	unregister_kprobes(floor_kprobes, ARRAY_SIZE(floor_kprobes));

	for_each_possible_cpu(cpu)
		for (i = 0; i < FLOOR_NR_HOOKS; i++)
			sum[i] += per_cpu(floor_hits, cpu).n[i];
	pr_info("hits tcp_set_state %lu %s %lu tcp_timewait_state_process %lu return %lu missed %lu %lu %lu %d\n",
		sum[FLOOR_SET_STATE], FLOOR_HASHDANCE_SYMBOL,
		sum[FLOOR_HASHDANCE], sum[FLOOR_TW_ENTRY],
		sum[FLOOR_TW_RETURN], floor_set_state_kp.nmissed,
		floor_hashdance_kp.nmissed, floor_tw_rp.kp.nmissed,
		floor_tw_rp.nmissed);
}

module_init(floor_init);
module_exit(floor_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Benchmark floor: tcp_closestat's kprobes, one per-CPU increment each");
