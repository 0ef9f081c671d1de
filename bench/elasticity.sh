#!/usr/bin/env bash
# Every policy on every trace in ../shared/traces, through `poolscale
# simulate` with one world for all (bench config below): a pool of 1..MAX
# instances of CAPACITY req/s each that boot in BOOT, Prometheus scraping
# every 15 s with a 1m rate window, an SLO of p95 <= 500 ms. Each trace's
# rate is scaled (--fit-peak) so that its busiest row needs exactly MAX
# instances at the SLO (the row's rate = MAX × CAPACITY × 0.88, the
# highest utilisation at which an M/M/1 instance keeps p95 within 500 ms).
# The target trackers (poolscale's target, aws-target, hpa) all aim at the
# same TARGET utilisation; seed-step has the seeds' fixed 80%/20%. Every
# policy starts from the same warm pool: the size TARGET needs for the
# trace's first minute (simulate.warm_start), so a cold start at 1 instance
# does not count against the slower policies.
#
# Prints a table (policy × trace: SLO violation %, instance-hours, θU, θO,
# adaptations) and ends with:
#   slo_violation_vs_best_peer=X.XX  poolscale's target over the best peer's
#                                    SLO violation %, summed over the traces
#                                    (the best peer: the lowest sum); < 1 wins
#   cost_vs_best_peer=X.XX           instance-hours, same peer
#   week_1s_simulate_seconds=X.XXX   wall time of `poolscale simulate` on one
#                                    week of trace at 1 s resolution (the
#                                    WorldCup 1 s trace, 28 times over), parse
#                                    included; the goal is < 1
# Env: TRACES (the folder, default ../shared/traces, else data/traces), MAX (20), CAPACITY (50),
# BOOT (60s), TARGET (0.6).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

# The shared traces when they are there, else the copy in data/traces.
if [ -z "${TRACES:-}" ]; then
	TRACES=../shared/traces
	[ -d "$TRACES" ] || TRACES=data/traces
fi
MAX=${MAX:-20}
CAPACITY=${CAPACITY:-50}
BOOT=${BOOT:-60s}
TARGET=${TARGET:-0.6}
BIN=${POOLSCALE_BIN:-build/poolscale}
PEERS="seed-step aws-target hpa"
require_tools bench/elasticity.sh /usr/bin/python3
[ -x "$BIN" ] || { echo "bench/elasticity.sh: $BIN is missing (run make)" >&2; exit 1; }
ls "$TRACES"/*.csv > /dev/null 2>&1 || { echo "bench/elasticity.sh: no traces in $TRACES" >&2; exit 1; }

start_work
cat > "$work/bench.yml" <<YAML
min: 1
max: $MAX
interval: 15s
policy:
  kind: target
  target:
    value: $TARGET
simulate:
  capacity: $CAPACITY
  boot: $BOOT
  slo: 500ms
  scrape_interval: 15s
  rate_window: 1m
  warm_start: true
YAML

for t in "$TRACES"/*.csv; do
	name=$(basename "$t" .csv)
	"$BIN" simulate --config "$work/bench.yml" --trace "$t" --fit-peak \
		--policy "target,${PEERS// /,}" --out "$work/out/$name" -q > "$work/$name.table"
done

/usr/bin/python3 - "$work/out" "$PEERS" <<'PY'
import json, os, sys
out, peers = sys.argv[1], sys.argv[2].split()
pols = ["target"] + peers
rows = {}
for trace in sorted(os.listdir(out)):
    for p in pols:
        with open(os.path.join(out, trace, p, "summary.json")) as f:
            rows[trace, p] = json.load(f)
traces = sorted({t for t, _ in rows})
print(f"{'trace':<32} {'policy':<11} {'slo_viol%':>9} {'inst_h':>10} {'θU%':>7} {'θO%':>8} {'adapt':>6}")
for t in traces:
    for p in pols:
        r = rows[t, p]
        print(f"{t:<32} {p:<11} {r['slo_violations_pct']:9.3f} {r['instance_hours']:10.1f} "
              f"{r['elasticity']['theta_u_pct']:7.2f} {r['elasticity']['theta_o_pct']:8.2f} "
              f"{r['ups'] + r['downs']:6d}")
viol = {p: sum(rows[t, p]["slo_violations_pct"] for t in traces) for p in pols}
cost = {p: sum(rows[t, p]["instance_hours"] for t in traces) for p in pols}
print()
for p in pols:
    print(f"sum over traces: {p:<11} slo_viol% {viol[p]:8.3f}  instance-hours {cost[p]:10.1f}")
best = min(peers, key=lambda p: (viol[p], cost[p]))
print(f"best peer: {best}")
print(f"slo_violation_vs_best_peer={viol['target'] / viol[best]:.2f}")
print(f"cost_vs_best_peer={cost['target'] / cost[best]:.2f}")
PY

# One week at 1 s: the real 1 s WorldCup trace, 28 times over.
burst="$TRACES/worldcup98_jun26_burst_1s.csv"
if [ -f "$burst" ]; then
	awk -F, 'NR == 1 { print; next } { v[NR - 1] = $2; n = NR - 1 }
		END { for (k = 0; k < 28; k++) for (i = 1; i <= n; i++) print (k * n + i - 1) "," v[i] }' \
		"$burst" > "$work/week_1s.csv"
	rows=$(($(wc -l < "$work/week_1s.csv") - 1))
	t0=$(date +%s.%N)
	"$BIN" simulate --config "$work/bench.yml" --trace "$work/week_1s.csv" --fit-peak \
		--policy target -q > /dev/null
	t1=$(date +%s.%N)
	echo "week_1s_rows=$rows"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "week_1s_simulate_seconds=%.3f\n", b - a }'
fi
