"""The cost–violations benchmark behind bench/elasticity.sh (stdlib only).

For every trace it runs `poolscale simulate` over each policy's main knob:
the target value for the target trackers (poolscale's target, the AWS and
HPA peers, AWS predictive scaling) and for the oracle, the alert
thresholds for seed-step, the size for the fixed pool. Each family's runs
give its frontier (bench/frontier.py). poolscale, at its default config, is
then compared at equal cost with the best peer configuration: its
violations over the lowest violations any peer's frontier reaches at
poolscale's instance-hours. The oracle gives the cost limit: its
instance-hours at poolscale's violation level. docs/simulate.md explains
the method; bench/elasticity.sh is the entry point."""

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frontier as fr  # noqa: E402

TRACKER_VALUES = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
ORACLE_VALUES = [0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9]
SEED_HIGHS = [0.5, 0.6, 0.7, 0.8, 0.9]
# Peers in the order they are printed; those the binary lacks are skipped.
PEERS = ["seed-step", "aws-target", "aws-target-req", "hpa", "hpa-ext", "aws-predictive"]
TRACKER_PEERS = ["aws-target", "aws-target-req", "hpa", "hpa-ext", "aws-predictive"]


def config(a, value, policy_block=None, fixed=None, seed_high=None):
    pol = policy_block or f"policy:\n  kind: target\n  target:\n    value: {value}\n"
    extra = ""
    if fixed is not None:
        extra += f"  fixed: {fixed}\n"
    if seed_high is not None:
        extra += f"  seed_step:\n    high: {seed_high}\n    low: {seed_high / 4:.4f}\n"
    return (f"min: 1\nmax: {a.max}\ninterval: 15s\n{pol}"
            f"simulate:\n  capacity: {a.capacity}\n  boot: {a.boot}\n  slo: 500ms\n"
            f"  scrape_interval: 15s\n  rate_window: 1m\n  warm_start: true\n{extra}")


def run(a, trace, tag, cfg, policies):
    """One simulate run; {policy: (instance_hours, violations_pct)}."""
    name = os.path.basename(trace)[:-4]
    out = os.path.join(a.work, "out", name, tag)
    path = os.path.join(a.work, "cfg", f"{name}.{tag}.yml")
    with open(path, "w") as f:
        f.write(cfg)
    cmd = [a.bin, "simulate", "--config", path, "--trace", trace, f"--fit-peak={a.fit}",
           "--policy", ",".join(policies), "--out", out, "-q"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    res = {}
    for p in policies:
        d = out if len(policies) == 1 else os.path.join(out, p)
        with open(os.path.join(d, "summary.json")) as f:
            s = json.load(f)
        res[p] = (s["instance_hours"], s["slo_violations_pct"])
    return res


def available(a, names):
    """The policies this binary knows (an unknown one exits 2 at once)."""
    ok = []
    path = os.path.join(a.work, "cfg", "probe.yml")
    with open(path, "w") as f:
        f.write(config(a, a.target))
    for p in names:
        r = subprocess.run([a.bin, "simulate", "--profile", "0:1", "--duration", "1s",
                            "--policy", p, "-q", "--config", path],
                           capture_output=True, text=True)
        if "is not" not in r.stderr:
            ok.append(p)
    return ok


def jobs_for(a, trace, peers):
    trackers = [p for p in peers if p in TRACKER_PEERS]
    jobs = []
    for v in sorted(set(TRACKER_VALUES) | set(ORACLE_VALUES)):
        pols = (["target"] + trackers if v in TRACKER_VALUES else []) + ["oracle"]
        jobs.append((trace, f"v{v}", config(a, v), pols, v))
    if "seed-step" in peers:
        for h in SEED_HIGHS:
            jobs.append((trace, f"seed{h}", config(a, a.target, seed_high=h), ["seed-step"], h))
    step = max(1, a.max // 12)
    for n in sorted(set(range(step, a.max + 1, step)) | {a.max}):
        jobs.append((trace, f"fixed{n}", config(a, a.target, fixed=n), ["fixed"], n))
    jobs.append((trace, "default", config(a, a.target, a.policy_block), ["target"], "default"))
    return jobs


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--max", type=int, default=30, help="the pool's max")
    ap.add_argument("--fit", type=int, default=20,
                    help="instances the trace's busiest row needs at the SLO")
    ap.add_argument("--capacity", type=float, default=50)
    ap.add_argument("--boot", default="60s")
    ap.add_argument("--target", type=float, default=0.6, help="poolscale's default knob")
    ap.add_argument("--policy-file", help="a YAML file whose `policy:` block is poolscale's "
                    "default config (default: kind target at --target)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--chart", help="write the frontiers as an SVG here")
    ap.add_argument("--save", help="write every run's (knob, hours, violations) as JSON "
                    "here (bench/chart.py redraws the chart from it)")
    ap.add_argument("traces", nargs="+")
    a = ap.parse_args()
    a.policy_block = None
    if a.policy_file:
        with open(a.policy_file) as f:
            a.policy_block = f.read()
    os.makedirs(os.path.join(a.work, "cfg"), exist_ok=True)
    peers = available(a, PEERS)
    missing = [p for p in PEERS if p not in peers]
    if missing:
        print(f"peers this binary lacks, skipped: {', '.join(missing)}")

    # pts[trace][family] = [(knob, hours, viol)]
    pts = {os.path.basename(t)[:-4]: {} for t in a.traces}
    jobs = [j for t in a.traces for j in jobs_for(a, t, peers)]
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        futs = {ex.submit(run, a, t, tag, cfg, pols): (t, tag, pols, knob)
                for t, tag, cfg, pols, knob in jobs}
        for f in concurrent.futures.as_completed(futs):
            t, tag, pols, knob = futs[f]
            for p, (h, v) in f.result().items():
                fam = "poolscale" if tag == "default" else p
                pts[os.path.basename(t)[:-4]].setdefault(fam, []).append((knob, h, v))
    report(a, pts, peers)
    if a.save:
        with open(a.save, "w") as f:
            json.dump({"peers": peers, "points": pts}, f, indent=1)
    if a.chart:
        import chart
        chart.write(a.chart, pts, peers)
        print(f"chart: {a.chart}")


def hull(points):
    return fr.lower_hull([(h, v) for _, h, v in points])


def report(a, pts, peers):
    per = []
    print(f"{'trace':<28} {'policy':<15} {'knob':>7} {'slo_viol%':>9} {'inst_h':>10}")
    for t in sorted(pts):
        for fam in ["poolscale", "target"] + peers + ["fixed", "oracle"]:
            for knob, h, v in sorted(pts[t].get(fam, []), key=lambda x: str(x[0])):
                print(f"{t:<28} {fam:<15} {str(knob):>7} {v:9.3f} {h:10.1f}")
    print()
    print("At equal cost, per trace: poolscale (default config) against each family's")
    print("frontier at poolscale's instance-hours; the oracle's instance-hours at")
    print("poolscale's violations.")
    print(f"{'trace':<28} {'family':<15} {'slo_viol%':>9} {'inst_h':>10} {'ratio':>7}")
    for t in sorted(pts):
        (_, h0, v0), = pts[t]["poolscale"]
        print(f"{t:<28} {'poolscale':<15} {v0:9.3f} {h0:10.1f}")
        best = None
        for fam in peers + ["fixed"]:
            if fam not in pts[t]:
                continue
            v = fr.violations_at(hull(pts[t][fam]), h0)
            r = fr.ratio(v0, v)
            print(f"{'':<28} {fam:<15} {v:9.3f} {h0:10.1f} {r:7.2f}")
            if fam != "fixed" and (best is None or v < best[1]):
                best = (fam, v)
        oh = fr.cost_at(hull(pts[t]["oracle"]), v0)
        print(f"{'':<28} {'oracle':<15} {v0:9.3f} {oh:10.1f} {h0 / oh:7.2f}  (cost)")
        rb = fr.ratio(v0, best[1])
        print(f"{'':<28} best peer at equal cost: {best[0]}, slo ratio {rb:.2f}")
        per.append((t, rb, h0 / oh))

    # the old lines: every policy at the default knob, summed over the traces
    def at_default(t, fam):
        for knob, h, v in pts[t].get(fam, []):
            if knob == a.target or (fam == "seed-step" and knob == 0.8):
                return h, v
        return None
    print()
    sums = {}
    for fam in ["poolscale"] + peers:
        rows = [pts[t]["poolscale"][0][1:] if fam == "poolscale" else at_default(t, fam)
                for t in pts]
        if all(rows):
            sums[fam] = (sum(h for h, _ in rows), sum(v for _, v in rows))
            print(f"sum over traces at the default knob: {fam:<15} slo_viol% "
                  f"{sums[fam][1]:8.3f}  instance-hours {sums[fam][0]:10.1f}")
    bp = min((p for p in sums if p != "poolscale"), key=lambda p: (sums[p][1], sums[p][0]))
    print(f"best peer at the default knob: {bp}")
    print(f"slo_violation_vs_best_peer={fr.ratio(sums['poolscale'][1], sums[bp][1]):.2f}")
    print(f"cost_vs_best_peer={sums['poolscale'][0] / sums[bp][0]:.2f}")
    print(f"slo_at_equal_cost_vs_best_peer_worst={max(r for _, r, _ in per):.2f}")
    print(f"slo_at_equal_cost_vs_best_peer_median={fr.median([r for _, r, _ in per]):.2f}")
    print(f"cost_vs_oracle_median={fr.median([c for _, _, c in per]):.2f}")


if __name__ == "__main__":
    main()
