// SPDX-License-Identifier: GPL-2.0
/*
 * tcs_floor: the floor of tcp_closestat's probe design, for the benchmark.
 *
 * The same hook points as tcp_closestat, taken from the same table
 * (uapi/linux/tcp_closestat_hooks.h): kprobes on tw_timer_handler,
 * inet_twsk_kill, inet_twsk_put, the function that hashes a new timewait
 * socket, tcp_set_state and __inet_accept; kretprobes with an entry
 * handler on inet_twsk_alloc and tcp_timewait_state_process.  Each
 * handler does one per-CPU increment and nothing else.  The totals are
 * printed when the module is removed, so that the benchmark can check the
 * probes fired.
 */

#include <linux/build_bug.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/percpu.h>

/* copied here by bench.sh from module/ and uapi/linux/ */
#include "compat.h"
#include "tcp_closestat_hooks.h"

#define TCS_HOOK_ARG(...)
#define TCS_HOOK_RET(...)
#define FLOOR_kprobe(sym, older_sym)	TCS_SYMBOL(sym, older_sym),
#define FLOOR_kretprobe(...)
static const char *const floor_kp_names[] = {
#define TCS_HOOK_FUNC(id, kind, sym, older_sym)	FLOOR_##kind(sym, older_sym)
	TCS_HOOK_EXPAND(TCS_HOOK_STRIP TCS_HOOK_FUNCS)
#undef TCS_HOOK_FUNC
};

#undef FLOOR_kprobe
#undef FLOOR_kretprobe
#define FLOOR_kprobe(...)
#define FLOOR_kretprobe(sym, older_sym)	TCS_SYMBOL(sym, older_sym),
static const char *const floor_rp_names[] = {
#define TCS_HOOK_FUNC(id, kind, sym, older_sym)	FLOOR_##kind(sym, older_sym)
	TCS_HOOK_EXPAND(TCS_HOOK_STRIP TCS_HOOK_FUNCS)
#undef TCS_HOOK_FUNC
};

#define FLOOR_NR_KPROBES	ARRAY_SIZE(floor_kp_names)
#define FLOOR_NR_KRETPROBES	2	/* one handler pair each, below */
static_assert(ARRAY_SIZE(floor_rp_names) == FLOOR_NR_KRETPROBES);

/* hits: one per kprobe, then entries and returns of each kretprobe */
#define FLOOR_NR_HITS		(FLOOR_NR_KPROBES + 2 * FLOOR_NR_KRETPROBES)
#define FLOOR_RP_ENTRY(i)	(FLOOR_NR_KPROBES + 2 * (i))
#define FLOOR_RP_RETURN(i)	(FLOOR_NR_KPROBES + 2 * (i) + 1)

static DEFINE_PER_CPU(unsigned long [FLOOR_NR_HITS], floor_hits);

static struct kprobe floor_kp[FLOOR_NR_KPROBES];
static struct kprobe *floor_kprobes[FLOOR_NR_KPROBES];

static int floor_pre(struct kprobe *p, struct pt_regs *regs)
{
	this_cpu_inc(floor_hits[p - floor_kp]);
	return 0;
}

static int floor_rp0_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	this_cpu_inc(floor_hits[FLOOR_RP_ENTRY(0)]);
	return 0;
}

static int floor_rp0_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	this_cpu_inc(floor_hits[FLOOR_RP_RETURN(0)]);
	return 0;
}

static int floor_rp1_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	this_cpu_inc(floor_hits[FLOOR_RP_ENTRY(1)]);
	return 0;
}

static int floor_rp1_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	this_cpu_inc(floor_hits[FLOOR_RP_RETURN(1)]);
	return 0;
}

static struct kretprobe floor_rp[FLOOR_NR_KRETPROBES] = {
	{ .entry_handler = floor_rp0_entry, .handler = floor_rp0_ret },
	{ .entry_handler = floor_rp1_entry, .handler = floor_rp1_ret },
};

static struct kretprobe *floor_kretprobes[FLOOR_NR_KRETPROBES];

static int __init floor_init(void)
{
	int err, i;

	for (i = 0; i < FLOOR_NR_KPROBES; i++) {
		floor_kp[i].symbol_name = floor_kp_names[i];
		floor_kp[i].pre_handler = floor_pre;
		floor_kprobes[i] = &floor_kp[i];
	}
	for (i = 0; i < FLOOR_NR_KRETPROBES; i++) {
		floor_rp[i].kp.symbol_name = floor_rp_names[i];
		floor_kretprobes[i] = &floor_rp[i];
	}
	err = register_kprobes(floor_kprobes, FLOOR_NR_KPROBES);
	if (err) {
		pr_err("cannot register kprobes: %d\n", err);
		return err;
	}
	err = register_kretprobes(floor_kretprobes, FLOOR_NR_KRETPROBES);
	if (err) {
		pr_err("cannot register kretprobes: %d\n", err);
		unregister_kprobes(floor_kprobes, FLOOR_NR_KPROBES);
		return err;
	}
	return 0;
}

/*
 * "hits tw_timer_handler N ... __inet_accept N inet_twsk_alloc N/N
 * tcp_timewait_state_process N/N missed N": the kprobes, then the
 * kretprobes' entries and returns, in table order
 */
static void __exit floor_exit(void)
{
	unsigned long sum[FLOOR_NR_HITS] = { 0 };
	unsigned long missed = 0;
	char line[512];
	int cpu, i, n = 0;

	unregister_kretprobes(floor_kretprobes, FLOOR_NR_KRETPROBES);
	unregister_kprobes(floor_kprobes, FLOOR_NR_KPROBES);

	for_each_possible_cpu(cpu)
		for (i = 0; i < FLOOR_NR_HITS; i++)
			sum[i] += per_cpu(floor_hits, cpu)[i];
	for (i = 0; i < FLOOR_NR_KPROBES; i++) {
		missed += floor_kp[i].nmissed;
		n += scnprintf(line + n, sizeof(line) - n, " %s %lu",
			       floor_kp_names[i], sum[i]);
	}
	for (i = 0; i < FLOOR_NR_KRETPROBES; i++) {
		missed += floor_rp[i].kp.nmissed + floor_rp[i].nmissed;
		n += scnprintf(line + n, sizeof(line) - n, " %s %lu/%lu",
			       floor_rp_names[i], sum[FLOOR_RP_ENTRY(i)],
			       sum[FLOOR_RP_RETURN(i)]);
	}
	pr_info("hits%s missed %lu\n", line, missed);
}

module_init(floor_init);
module_exit(floor_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Benchmark floor: tcp_closestat's probes, one per-CPU increment each");
