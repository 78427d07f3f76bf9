#!/usr/bin/env python3
"""Comparison table of one scripts/bench run directory (Trunkgate vs Kamailio).

Usage: bench_table.py RUN_DIR

Reads RUN_DIR/machine.txt and, per server and round, RUN_DIR/work-<server>-r<N>/{all_runs,best}.jsonl,
rss_after_warmup.txt, rss_end.txt and the ladder log RUN_DIR/<server>-r<N>.txt.

Definitions
  max sustained  highest ladder rate whose 20 s step and all its repeats passed (0 failed calls
                 (<= 0.1 %), 0 retransmissions, >= 97 % of the target achieved); ">=" = the top of the
                 ladder passed (not a knee). "achieved" = mean completed flows/s of those runs [min-max].
  CPU/flow       server CPU time per completed flow in microseconds = srv% / 100 * 1e6 / achieved
                 (srv% = server CPU in % of one core over the run); lower is better.
  probe p50/p99  whole flow latency (challenge + authenticated leg) of the 100 flows/s probe beside the
                 load, ms; median over the runs [min-max of the per-run values].
  same rate      the highest ladder rate that BOTH servers passed: CPU/flow and probe there
                 (equal load, so the figures compare directly).
  ratio          Trunkgate / Kamailio.
"""
import glob
import json
import os
import re
import statistics
import sys

TESTS = [("reg_udp", "REGISTER/UDP"), ("inv_udp", "INVITE/UDP"), ("reg_tcp", "REGISTER/TCP")]
MAX_FAIL_PCT, MIN_ACH = 0.1, 0.97


def passed(j):
    return ("error" not in j and j.get("fail_pct", 100) <= MAX_FAIL_PCT
            and (j.get("retransmissions") or 0) == 0
            and j.get("achieved_rate", 0) >= MIN_ACH * j["target_rate"])


def load_round(run_dir, server, rnd):
    work = os.path.join(run_dir, f"work-{server}-r{rnd}")
    if not os.path.isdir(work):
        return None
    runs = {}
    p = os.path.join(work, "all_runs.jsonl")
    if os.path.exists(p):
        for line in open(p):
            label, js = line.split(" ", 1)
            runs[label] = json.loads(js)
    best = {}
    p = os.path.join(work, "best.jsonl")
    if os.path.exists(p):
        for line in open(p):
            j = json.loads(line)
            best[j["test"]] = j

    def kv(name):
        p = os.path.join(work, name)
        if not os.path.exists(p):
            return {}
        return dict(x.split("=", 1) for x in open(p).read().split() if "=" in x)

    log = os.path.join(run_dir, f"{server}-r{rnd}.txt")
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    cpu_idx = [int(x) for x in re.findall(r"cpu index (\d+) ms", text)]
    lock = re.search(r"^lockout: (\w+)", text, re.M)
    return {"runs": runs, "best": best, "rss_warm": kv("rss_after_warmup.txt"), "rss_end": kv("rss_end.txt"),
            "cpu_index": cpu_idx, "lockout": lock.group(1) if lock else "-", "log": text}


def cpu_per_flow(j):
    ach = j.get("achieved_rate") or 0
    return j.get("kamailio_cpu_pct", 0) / 100.0 * 1e6 / ach if ach else None


def probe(j):
    f = j.get("probe", {}).get("flow_us", {})
    if not f.get("n"):
        return None, None
    return f["p50"] / 1000.0, f["p99"] / 1000.0


def spread(vals, fmt="{:.0f}", agg="mean"):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "-"
    c = statistics.mean(vals) if agg == "mean" else statistics.median(vals)
    s = fmt.format(c)
    if len(vals) > 1:
        s += " [" + fmt.format(min(vals)) + "-" + fmt.format(max(vals)) + "]"
    return s


def center(vals, agg="mean"):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    return statistics.mean(vals) if agg == "mean" else statistics.median(vals)


def ratio(a, b, fmt="{:.2f}"):
    if a is None or b is None or b == 0:
        return "-"
    return fmt.format(a / b)


def summarize(rd, test):
    """-> dict for one server/round/test at its max sustained rate."""
    b = rd["best"].get(test)
    if not b:
        return None
    rows = [rd["runs"][l] for l in b["labels"] if l in rd["runs"]]
    out = {"best": b["best"], "bounded": b["bounded"], "rows": rows,
           "noisy": sum(1 for r in rows if r.get("noisy"))}
    out["ach"] = [r["achieved_rate"] for r in rows]
    out["cpf"] = [cpu_per_flow(r) for r in rows]
    out["srv"] = [r.get("kamailio_cpu_pct") for r in rows]
    out["p50"] = [probe(r)[0] for r in rows]
    out["p99"] = [probe(r)[1] for r in rows]
    return out


def passing_by_rate(rd, test):
    res = {}
    for label, j in rd["runs"].items():
        if label.startswith(test + "_") and passed(j):
            res.setdefault(int(j["target_rate"]), []).append(j)
    return res


def main():
    run_dir = sys.argv[1]
    machine = {}
    p = os.path.join(run_dir, "machine.txt")
    if os.path.exists(p):
        for line in open(p):
            if line.startswith("step_s="):
                machine.update(x.split("=", 1) for x in line.split() if "=" in x)
            elif "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                machine[k] = v
    rounds = sorted({int(m.group(1)) for d in glob.glob(os.path.join(run_dir, "work-*-r*"))
                     for m in [re.search(r"work-(?:trunkgate|kamailio)-r(\d+)$", d)] if m})
    data = {(s, r): load_round(run_dir, s, r) for s in ("trunkgate", "kamailio") for r in rounds}

    print(f"# Trunkgate vs Kamailio, SIP digest-auth edge benchmark (scripts/bench) - {machine.get('date_utc', '?')} UTC")
    print(f"# machine: {machine.get('host', '?')}, nproc {machine.get('nproc', '?')}, {machine.get('cpu_model', '?')}, "
          f"{machine.get('mem', '?')}, kernel {machine.get('kernel', '?')}, net.core.rmem_max {machine.get('rmem_max', '?')}")
    print(f"# software: trunkgate git {machine.get('git', '?')} (release build), kamailio {machine.get('kamailio', '?')}, "
          f"SIPp {machine.get('sipp', '?')}, {machine.get('swift', '?')}")
    print(f"# load: kit copy of /work/shared/bench (benchmarks/kit): {machine.get('step_s', '?')} s steps, top passing rate "
          f"run {machine.get('confirm_runs', '?')}x; ladders: {machine.get('ladders', '')}")
    print("# INVITE scenario: Request-URI sip:bench.local (To = callee), final 486/404/501 accepted, for BOTH servers;")
    print("#   Trunkgate requires digest uri == Request-URI and SIPp sends uri=sip:bench.local. Kamailio answers 404")
    print("#   (location lookup of the user-less R-URI), Trunkgate 501 (calls not routed in this build).")
    for (s, r), rd in data.items():
        if rd:
            noisy = sum(1 for j in rd["runs"].values() if j.get("noisy"))
            print(f"# {s} round {r}: cpu index {rd['cpu_index']} ms/200k md5 (lower = faster host), "
                  f"{len(rd['runs'])} runs, {noisy} noisy (other processes > 20 % of a core), lockout self-test {rd['lockout']}")
    print()

    for r in rounds:
        tg, km = data.get(("trunkgate", r)), data.get(("kamailio", r))
        print(f"## round {r}  (ratio = Trunkgate / Kamailio; value [min-max] over the {machine.get('confirm_runs', '?')} runs at the max rate)")
        hdr = (f"{'scenario':<13} {'':>2}{'Kamailio max':>13} {'Trunkgate max':>14} {'ratio':>6} | "
               f"{'K achieved/s':>20} {'T achieved/s':>20} | {'K CPU us/flow':>17} {'T CPU us/flow':>17} {'ratio':>6} | "
               f"{'K probe p50/p99 ms':>19} {'T probe p50/p99 ms':>19} | noisy K/T")
        print(hdr)
        print("-" * len(hdr))
        same_rows = []
        for test, name in TESTS:
            k = summarize(km, test) if km else None
            t = summarize(tg, test) if tg else None
            if not k and not t:
                continue

            def mx(x):
                if not x:
                    return "-"
                return (">=" if x["bounded"] else "") + str(x["best"])

            def pr(x):
                if not x:
                    return "-"
                a, b = center(x["p50"], "median"), center(x["p99"], "median")
                return "-" if a is None else f"{a:.2f}/{b:.2f}"

            rr = ratio(t["best"] if t else None, k["best"] if k else None)
            if t and t["bounded"] and rr != "-":
                rr = ">=" + rr
            print(f"{name:<13}   {mx(k):>13} {mx(t):>14} {rr:>6} | "
                  f"{spread(k['ach']) if k else '-':>20} {spread(t['ach']) if t else '-':>20} | "
                  f"{spread(k['cpf'], '{:.1f}') if k else '-':>17} {spread(t['cpf'], '{:.1f}') if t else '-':>17} "
                  f"{ratio(center(t['cpf']) if t else None, center(k['cpf']) if k else None):>6} | "
                  f"{pr(k):>19} {pr(t):>19} | {k['noisy'] if k else '-'}/{t['noisy'] if t else '-'}")
            # same-rate comparison
            if km and tg:
                pk, pt = passing_by_rate(km, test), passing_by_rate(tg, test)
                common = sorted(set(pk) & set(pt))
                if common:
                    rate = common[-1]
                    kc = center([cpu_per_flow(j) for j in pk[rate]])
                    tc = center([cpu_per_flow(j) for j in pt[rate]])
                    kp = [probe(j) for j in pk[rate]]
                    tp = [probe(j) for j in pt[rate]]
                    kps = f"{center([x[0] for x in kp], 'median') or 0:.2f}/{center([x[1] for x in kp], 'median') or 0:.2f}"
                    tps = f"{center([x[0] for x in tp], 'median') or 0:.2f}/{center([x[1] for x in tp], 'median') or 0:.2f}"
                    ks = center([j.get('kamailio_cpu_pct') for j in pk[rate]])
                    ts = center([j.get('kamailio_cpu_pct') for j in pt[rate]])
                    same_rows.append(f"{name:<13} {rate:>6}/s  runs {len(pk[rate])}/{len(pt[rate])}  "
                                     f"srv% {ks:.0f}/{ts:.0f}  CPU us/flow {kc:.1f}/{tc:.1f} ratio {ratio(tc, kc)}  "
                                     f"probe p50/p99 ms {kps} / {tps}")
        print()
        if same_rows:
            print(f"same rate (highest ladder rate both passed; K/T = Kamailio/Trunkgate):")
            for s in same_rows:
                print("  " + s)
            print()
        if tg:
            w, e = tg["rss_warm"], tg["rss_end"]
            print(f"Trunkgate memory: VmRSS after the warm-up (10,000 registrations) "
                  f"{int(w.get('vmrss_kb', 0)) / 1024:.1f} MiB; at the end VmRSS {int(e.get('vmrss_kb', 0)) / 1024:.1f} MiB, "
                  f"VmHWM (peak) {int(e.get('vmhwm_kb', 0)) / 1024:.1f} MiB")
        if km:
            w = km["rss_warm"]
            print(f"Kamailio memory (reference): Pss summed over its {w.get('processes', '?')} processes after the warm-up "
                  f"{int(w.get('pss_sum_kb', 0)) / 1024:.1f} MiB (VmRSS of the main process {int(w.get('vmrss_kb', 0)) / 1024:.1f} MiB; "
                  f"-m 256 -M 16 shared/private pools are preallocated)")
        print()

    if len(rounds) > 1:
        print("## all rounds: max sustained rate (flows/s), Kamailio / Trunkgate / ratio")
        for test, name in TESTS:
            cells = []
            for r in rounds:
                k = summarize(data[("kamailio", r)], test) if data.get(("kamailio", r)) else None
                t = summarize(data[("trunkgate", r)], test) if data.get(("trunkgate", r)) else None
                cells.append(f"r{r}: {k['best'] if k else '-'} / {('>=' if t and t['bounded'] else '') + str(t['best']) if t else '-'}"
                             f" / {ratio(t['best'] if t else None, k['best'] if k else None)}")
            print(f"  {name:<13} " + "   ".join(cells))
        print()
    print("columns: max = highest ladder rate passing 3 x 20 s (0 retransmissions, <= 0.1 % failed, >= 97 % achieved);")
    print("CPU us/flow = server CPU time per completed flow (srv% / 100 * 1e6 / achieved rate), lower is better;")
    print("probe = 100 flows/s latency probe beside the load (whole 2-step flow), median of the per-run p50/p99;")
    print("full per-step tables: benchmarks/results/bench-<stamp>-<server>-r<round>.log")


if __name__ == "__main__":
    main()
