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
    if not any(k in ("hot", "smp") for k, _ in recs):
        errors.append("no hot-path measurements")
    print("\n".join(out))
    for e in errors:
        print("bench: " + e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
