#!/usr/bin/env bash
# Footprint of `poolscale controller` holding a local pool of 5 instances at
# a 1 s interval (health checks every 1 s) for DURATION seconds (default 60):
# its resident memory (peak and at the end) and CPU, from /proc. The goal is
# under 10 MB and under 1% of one core. Instances are not counted.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-60}
BIN=${POOLSCALE_BIN:-build/poolscale}
[ -x "$BIN" ] || { echo "bench/controller.sh: $BIN is missing (run make)" >&2; exit 1; }
work=$(mktemp -d)
ctl_pid=""
cleanup() {
	[ -n "$ctl_pid" ] && kill "$ctl_pid" 2>/dev/null && wait "$ctl_pid" 2>/dev/null
	"$BIN" pool destroy --config "$work/bench.yml" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

cat > "$work/bench.yml" <<CONF
min: 5
max: 5
interval: 1s
state_dir: state
health:
  interval: 1s
  timeout: 500ms
provider:
  local:
    address_base: 127.0.3.1
    vcpu: 0.1
api:
  listen: 127.0.0.1:0
CONF

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

"$BIN" controller --config "$work/bench.yml" --log-level warn 2> "$work/ctl.log" &
ctl_pid=$!
# Wait until the 5 instances are up (published), then measure a quiet stretch.
for _ in $(seq 300); do
	[ "$(grep -o '"targets"' "$work/state/targets-web.json" 2>/dev/null | wc -l)" -eq 5 ] && break
	sleep 0.1
done
[ "$(grep -o '"targets"' "$work/state/targets-web.json" | wc -l)" -eq 5 ] ||
	{ echo "bench/controller.sh: the pool did not reach 5" >&2; cat "$work/ctl.log" >&2; exit 1; }
c0=$(cpu_ticks "$ctl_pid")
t0=$(date +%s.%N)
sleep "$DURATION"
c1=$(cpu_ticks "$ctl_pid")
t1=$(date +%s.%N)
rss=$(rss_kb "$ctl_pid")
hwm=$(hwm_kb "$ctl_pid")
awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$ticks" -v rss="$rss" -v hwm="$hwm" \
    -v d="$DURATION" 'BEGIN {
	cpu = (c1 - c0) / hz / (t1 - t0) * 100
	printf "controller, pool of 5, 1 s interval, %d s: RSS %.1f MB (peak %.1f MB), CPU %.2f%% of a core\n", d, rss / 1024, hwm / 1024, cpu
	printf "controller_rss_mb=%.1f\ncontroller_cpu_pct=%.2f\n", hwm / 1024, cpu
	printf "goal (RSS < 10 MB, CPU < 1%%): %s\n", (hwm < 10240 && cpu < 1) ? "met" : "NOT met"
}'
