#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the "BENCH ..." lines of selftests/bench/guest.sh into tables.

    report.py [--smoke] LOG...

Prints one table per kernel and the targets of issue 5 with their
verdicts.  Exits 1 if a log is incomplete or malformed (a missing
"BENCH done" line, a "BENCH error" line, no measurements), never because
of a timing: timings do not decide pass or fail.
"""
import statistics
import sys
from collections import defaultdict

VARIANTS = ["none", "floor", "tcp_closestat", "tcs_notrack", "bpftrace"]


def parse(paths):
    recs = []
    errors = []
    done = set()
    for path in paths:
        with open(path, errors="replace") as f:
            for line in f:
                if not line.startswith("BENCH "):
                    continue
                words = line.split()
                kind = words[1]
                kv = dict(w.split("=", 1) for w in words[2:] if "=" in w)
                if kind == "error":
                    errors.append(f"{path}: {line.strip()}")
                elif kind == "done":
                    done.add((path, kv.get("kver")))
                recs.append((kind, kv))
        if not any(p == path for p, _ in done):
            errors.append(f"{path}: no 'BENCH done' line (guest run incomplete)")
    return recs, errors


def pct(x):
    return f"{x:+.2f}%"


def hot_table(kind, recs, kver, out):
    """Paired ratios against 'none' in the same round."""
    runs = defaultdict(dict)  # (order, procs, round) -> variant -> (secs, conns)
    for k, kv in recs:
        if k != kind or kv["kver"] != kver:
            continue
        key = (kv["order"], int(kv["procs"]), int(kv["round"]))
        runs[key][kv["variant"]] = (float(kv["seconds"]), int(kv["conns"]))
    if not runs:
        return {}
    title = {
        "hot": "Hot path, icount guest (1 vCPU; guest time = instructions)",
        "smp": "Hot path, 2 vCPUs, plain TCG (wall clock: noisy)",
        "cold": "Cold start, icount guest: freshly loaded, new client ports every run",
        "twalive": "Hot path with 10,000 TIME_WAIT sockets alive, icount guest",
    }[kind]
    out.append(f"  {title}")
    out.append(f"    {'order':7} {'procs':>5} {'variant':14} {'conn/s':>8} "
               f"{'overhead median':>15} {'min':>8} {'max':>8} {'rounds':>6}")
    summary = {}
    for order, procs in sorted({(o, p) for o, p, _ in runs},
                               key=lambda x: (x[1], x[0] != "server")):
        rounds = sorted(r for o, p, r in runs if (o, p) == (order, procs))
        for v in VARIANTS:
            ratios, secs, conns = [], [], 0
            for r in rounds:
                row = runs[(order, procs, r)]
                if v in row and "none" in row and row["none"][0] > 0:
                    ratios.append(row[v][0] / row["none"][0])
                    secs.append(row[v][0])
                    conns = row[v][1]
            if not ratios:
                continue
            med = (statistics.median(ratios) - 1) * 100
            rate = conns / statistics.median(secs) if statistics.median(secs) else 0
            summary[(order, procs, v)] = med
            if v == "none":
                out.append(f"    {order:7} {procs:>5} {v:14} {rate:8.0f} "
                           f"{'(baseline)':>15} {'':>8} {'':>8} {len(ratios):>6}")
            else:
                out.append(f"    {order:7} {procs:>5} {v:14} {rate:8.0f} "
                           f"{pct(med):>15} {pct((min(ratios) - 1) * 100):>8} "
                           f"{pct((max(ratios) - 1) * 100):>8} {len(ratios):>6}")
    return summary


def targets_hot(summary, out):
    verdicts = []
    for (order, procs, v), med in sorted(summary.items()):
        if v != "tcp_closestat":
            continue
        floor = summary.get((order, procs, "floor"))
        bpft = summary.get((order, procs, "bpftrace"))
        if floor is None or bpft is None:
            continue
        a = med / floor if floor > 0 else float("inf")
        b = med / bpft if bpft > 0 else float("inf")
        ok_a = med <= 1.25 * floor
        ok_b = med <= 0.5 * bpft
        out.append(f"    {order}-first, {procs} proc: tcp_closestat {pct(med)} = "
                   f"{a:.2f} x floor ({'met' if ok_a else 'MISSED'}: <= 1.25), "
                   f"{b:.2f} x bpftrace ({'met' if ok_b else 'MISSED'}: <= 0.5)")
        verdicts += [ok_a, ok_b]
    return verdicts


def runs_secs(kind, recs, kver):
    """(order, procs, variant) -> median seconds per connection."""
    t = defaultdict(list)
    for k, kv in recs:
        if k == kind and kv["kver"] == kver:
            t[(kv["order"], int(kv["procs"]), kv["variant"])].append(
                float(kv["seconds"]) / int(kv["conns"]))
    return {key: statistics.median(v) for key, v in t.items()}


def targets_cold(cold, warm, recs, kver, out):
    """Cold against bpftrace and against its own warm figure; and the
    first sight of a (side, port) in instructions: under icount (shift
    0) a guest nanosecond is one instruction, and each connection of a
    cold run brings two new (side, port) pairs, its client port seen
    from each end."""
    verdicts = []
    hot_s, cold_s = runs_secs("hot", recs, kver), runs_secs("cold", recs, kver)
    for (order, procs, v), med in sorted(cold.items()):
        if v != "tcp_closestat":
            continue
        bpft = cold.get((order, procs, "bpftrace"))
        own = warm.get((order, procs, v))
        if bpft is None or own is None:
            continue
        ok_a = med <= 0.5 * bpft
        ok_b = med <= 1.5 * max(own, 0.01)
        line = (f"    cold {order}-first, {procs} proc: tcp_closestat {pct(med)} = "
                f"{med / bpft if bpft > 0 else float('inf'):.2f} x bpftrace "
                f"({'met' if ok_a else 'MISSED'}: <= 0.5), "
                f"{med / own if own > 0 else float('inf'):.2f} x its warm {pct(own)} "
                f"({'met' if ok_b else 'MISSED'}: <= 1.5)")
        verdicts += [ok_a, ok_b]
        keys = [(order, procs, x) for x in ("tcp_closestat", "none")]
        if all(k in hot_s and k in cold_s for k in keys):
            extra = ((cold_s[keys[0]] - cold_s[keys[1]]) -
                     (hot_s[keys[0]] - hot_s[keys[1]])) * 1e9 / 2
            ok_c = extra <= 1000
            line += (f"; first sight {extra:.0f} instructions "
                     f"({'met' if ok_c else 'MISSED'}: <= 1000)")
            verdicts.append(ok_c)
        out.append(line)
    return verdicts


def targets_twalive(alive, warm, out):
    verdicts = []
    for (order, procs, v), med in sorted(alive.items()):
        if v != "tcp_closestat":
            continue
        bpft = alive.get((order, procs, "bpftrace"))
        if bpft is None:
            continue
        ok = med <= 0.5 * bpft
        own = warm.get((order, procs, v))
        out.append(f"    TIME_WAIT alive {order}-first, {procs} proc: tcp_closestat "
                   f"{pct(med)} (flushed: {pct(own) if own is not None else '?'}), "
                   f"{med / bpft if bpft > 0 else float('inf'):.2f} x bpftrace "
                   f"({'met' if ok else 'MISSED'}: <= 0.5)")
        verdicts.append(ok)
    return verdicts


def memcpu_table(recs, out):
    rows = {}
    for k, kv in recs:
        if k == "memcpu":
            rows[(kv["kver"], int(kv["possible_cpus"]))] = kv
    if not rows:
        return []
    out.append("Memory per active (side, port), one churn run of the default range")
    out.append(f"    {'kernel':24} {'CPUs':>4} {'ports':>6} {'memory_bytes':>12} {'bytes/port':>10}")
    verdicts = []
    for kver in sorted({k for k, _ in rows}):
        per = []
        for (kv_, cpus), kv in sorted(rows.items()):
            if kv_ != kver:
                continue
            b = int(kv["memory_bytes"]) / int(kv["ports"])
            per.append(b)
            out.append(f"    {kver:24} {cpus:>4} {kv['ports']:>6} "
                       f"{int(kv['memory_bytes']):>12} {b:>10.1f}")
        if len(per) >= 2:
            ok_a = max(per) / min(per) < 1.10
            ok_b = max(per) <= 160
            out.append(f"    {kver}: moves {(max(per) / min(per) - 1) * 100:.1f} % "
                       f"({'met' if ok_a else 'MISSED'}: < 10 %), at most "
                       f"{max(per):.1f} bytes ({'met' if ok_b else 'MISSED'}: <= 160)")
            verdicts += [ok_a, ok_b]
    out.append("")
    return verdicts


def read_table(recs, kver, out):
    t = {}
    have = {}
    rows = {}
    for k, kv in recs:
        if k != "read" or kv["kver"] != kver:
            continue
        key = (kv.get("mode", "ephemeral"), int(kv["tw"]))
        if "rows" in kv:
            rows[key] = int(kv["rows"])
            continue
        t[key + (kv["reader"],)] = float(kv["seconds"])
        have[key] = int(kv["have"])
    if not t:
        return []
    out.append("  Read cost: per-port TIME_WAIT table (CPU time, median of 3; icount)")
    out.append(f"    {'peers':9} {'TIME_WAIT':>9} {'rows':>7} {'closestat':>10} "
               f"{'cat /proc':>10} {'ss | awk':>10} {'awk /proc':>10} {'ss/closestat':>12}")
    verdicts = []
    for mode in sorted({m for m, _ in have}):
        tws = sorted(tw for m, tw in have if m == mode)
        for tw in tws:
            g = lambda r: t.get((mode, tw, r), float("nan"))
            c, k, s, p = g("closestat"), g("cat"), g("ss"), g("proc")
            out.append(f"    {mode:9} {have[(mode, tw)]:>9} {rows.get((mode, tw), 0):>7} "
                       f"{c * 1000:>8.1f}ms {k * 1000:>8.1f}ms {s * 1000:>8.1f}ms "
                       f"{p * 1000:>8.1f}ms {s / c:>11.1f}x")
        if len(tws) >= 2:
            lo, hi = tws[0], tws[-1]
            c_lo, c_hi = t[(mode, lo, "closestat")], t[(mode, hi, "closestat")]
            s_hi = t[(mode, hi, "ss")]
            ok_a = s_hi / c_hi >= 50
            ok_b = c_hi / c_lo <= 2
            out.append(f"    {mode} peers: closestat vs ss at {hi}: {s_hi / c_hi:.1f}x "
                       f"({'met' if ok_a else 'MISSED'}: >= 50x); closestat {hi} vs {lo}: "
                       f"{c_hi / c_lo:.2f}x ({'met' if ok_b else 'MISSED'}: <= 2x)")
            verdicts += [ok_a, ok_b]
    return verdicts


def mem_table(recs, kver, out):
    rows = [kv for k, kv in recs if k == "mem" and kv["kver"] == kver]
    if not rows:
        return
    out.append("  Memory")
    for kv in rows:
        case = kv["case"]
        if case.startswith("track_"):
            out.append(f"    {case:12} tcs_track slab: {kv['objects']} objects of "
                       f"{kv['objsize']} bytes")
            continue
        if case == "module":
            out.append(f"    module text+data (coresize): {kv['coresize']} bytes; "
                       f"{kv['possible_cpus']} possible CPUs")
            continue
        extra = f", {kv['netns']} namespaces" if "netns" in kv else ""
        ports = f"ports {kv['ports']:>6}, " if "ports" in kv else ""
        out.append(f"    {case:12} {ports}memory_bytes {int(kv['memory_bytes']):>9}"
                   f"{extra}; meminfo delta Percpu {int(kv['percpu_delta']):>9}, "
                   f"SUnreclaim {int(kv['sunreclaim_delta']):>9}")


def main():
    args = sys.argv[1:]
    smoke = False
    if args and args[0] == "--smoke":
        smoke = True
        args = args[1:]
    recs, errors = parse(args)
    kvers = []
    for k, kv in recs:
        if k == "info" and kv["kver"] not in kvers:
            kvers.append(kv["kver"])
    out = []
    for kver in kvers:
        out.append(f"Kernel {kver}")
        verdicts = []
        if smoke:
            out.append("  (smoke run: sizes too small and no icount; the numbers mean nothing)")
        summary = hot_table("hot", recs, kver, out)
        if summary and not smoke:
            out.append("  Targets")
            verdicts += targets_hot(summary, out)
        cold = hot_table("cold", recs, kver, out)
        if cold and summary and not smoke:
            out.append("  Targets, cold start")
            verdicts += targets_cold(cold, summary, recs, kver, out)
        alive = hot_table("twalive", recs, kver, out)
        if alive and not smoke:
            out.append("  Targets, TIME_WAIT alive")
            verdicts += targets_twalive(alive, summary, out)
        hot_table("smp", recs, kver, out)
        v = read_table(recs, kver, out)
        if not smoke:
            verdicts += v
        mem_table(recs, kver, out)
        for k, kv in recs:
            if k == "warn" and kv.get("kver") == kver:
                out.append("  warning: " + " ".join(f"{a}={b}" for a, b in kv.items()))
        if not smoke:
            out.append(f"  targets met: {sum(verdicts)} of {len(verdicts)}")
        out.append("")
    v = memcpu_table(recs, out)
    if not smoke and v:
        out.append(f"memory targets met: {sum(v)} of {len(v)}")
    if not any(k in ("hot", "smp") for k, _ in recs):
        errors.append("no hot-path measurements")
    print("\n".join(out))
    for e in errors:
        print("bench: " + e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
