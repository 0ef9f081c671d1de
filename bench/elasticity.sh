#!/usr/bin/env bash
# Every policy on every trace in ../shared/traces, through `poolscale
# simulate` with one world for all: a pool of 1..MAX instances of CAPACITY
# req/s each that boot in BOOT, Prometheus scraping every 15 s with a 1m
# rate window, an SLO of p95 <= 500 ms, a warm start. Each trace's rate is
# scaled (--fit-peak=FIT) so that its busiest row needs exactly FIT
# instances at the SLO, its counts read as a rate (--smooth auto,
# docs/simulate.md). MAX leaves room above that (a tracker at 0.6 wants
# FIT × 0.88 / 0.6 at the peak): with MAX = FIT every policy, the oracle
# included, would share a violation floor at the peak that measures the
# cap, not the policy.
#
# bench/elasticity.py sweeps each policy's main knob (the target value of
# the trackers and of the oracle, seed-step's alert thresholds, the fixed
# pool's size), draws each policy's cost–violations frontier per trace and
# compares poolscale (the recommended config below, or the `policy:` block
# of POLICY_FILE) at equal cost. It prints every run,
# then per trace poolscale against each family's frontier at poolscale's
# instance-hours and the oracle's instance-hours at poolscale's
# violations, and ends with:
#   slo_violation_vs_best_peer=X.XX      the old lines: every policy at the
#   cost_vs_best_peer=X.XX               default knob, summed over traces
#   slo_at_equal_cost_vs_best_peer_worst=X.XX   poolscale's violations over
#   slo_at_equal_cost_vs_best_peer_median=X.XX  the best peer frontier's at
#                                        its instance-hours: worst trace,
#                                        median trace; < 1 wins
#   cost_vs_oracle_median=X.XX           poolscale's instance-hours over the
#                                        oracle frontier's at poolscale's
#                                        violations (median trace)
#   week_1s_simulate_seconds=X.XXX       wall time of `poolscale simulate` on
#                                        one week at 1 s resolution (the
#                                        WorldCup 1 s trace 28 times over)
# Env: TRACES (the folder, default ../shared/traces, else data/traces), MAX
# (30), FIT (20), CAPACITY (50), BOOT (60s), TARGET (0.6), POLICY_FILE, JOBS (2
# simulate runs at a time), CHART (write the frontiers as an SVG there),
# SAVE (every run's numbers as JSON there; bench/chart.py redraws from it).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

# The shared traces when they are there, else the copy in data/traces.
if [ -z "${TRACES:-}" ]; then
	TRACES=../shared/traces
	[ -d "$TRACES" ] || TRACES=data/traces
fi
MAX=${MAX:-30}
FIT=${FIT:-20}
CAPACITY=${CAPACITY:-50}
BOOT=${BOOT:-60s}
TARGET=${TARGET:-0.6}
BIN=${POOLSCALE_BIN:-build/poolscale}
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

# poolscale's default here is the configuration docs/policies.md
# recommends: the requests received as a pool total at TARGET of an
# instance's capacity, the CPU at TARGET as a second opinion, the backlog
# drained within 10 s, and the forecaster. POLICY_FILE replaces it;
# POLICY_FILE=none compares the one-metric CPU shorthand instead.
if [ -z "${POLICY_FILE:-}" ]; then
	POLICY_FILE=$work/policy.yml
	value=$(awk -v t="$TARGET" -v c="$CAPACITY" 'BEGIN { print t * c }')
	cat > "$POLICY_FILE" <<YAML
policy:
  kind: target
  target:
    metrics:
      - query: sum by (instance) (rate(poolscale_app_requests_received_total{pool="{pool}",job="pool-app"}[1m]))
        type: total
        value: $value
      - query: sum by (instance) (rate(node_cpu_seconds_total{pool="{pool}",mode!="idle"}[1m])) / sum by (instance) (rate(node_cpu_seconds_total{pool="{pool}"}[1m]))
        type: average
        value: $TARGET
    backlog:
      query: sum(poolscale_app_queue_length{pool="{pool}",job="pool-app"})
      drain: 10s
    forecast:
      enabled: true
YAML
elif [ "$POLICY_FILE" = none ]; then
	POLICY_FILE=
fi

/usr/bin/python3 bench/elasticity.py --bin "$BIN" --work "$work" --max "$MAX" --fit "$FIT" \
	--capacity "$CAPACITY" --boot "$BOOT" --target "$TARGET" --jobs "${JOBS:-2}" \
	${POLICY_FILE:+--policy-file "$POLICY_FILE"} ${CHART:+--chart "$CHART"} \
	${SAVE:+--save "$SAVE"} "$TRACES"/*.csv

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
