#!/usr/bin/env bash
# poolscale load against nginx serving a small static page (one worker):
#  1. rate accuracy: --rate R for DURATION s at rising R, keep-alive. A
#     generator keeps up when every request leaves on time, not when the
#     totals match at the end (one that falls behind mid-run and catches up
#     has the right total): so each run reports its lateness (sent minus
#     scheduled: p50, p99, max) and its sent/due in every 1 s window; a rate
#     is kept when every window is within 1% and the p99 lateness is under
#     LATE_P99_MS (the goal is up to at least 20,000 req/s here);
#  2. latency against wrk's on the same server: wrk -t1 -c1 (closed loop,
#     one request at a time, so its latency is the bare service time) and
#     poolscale load at LOW_RATE req/s, far below capacity, so ours is the
#     same service time plus how late the sending thread wakes: measured
#     both sleeping (the default) and with --spin-us 100. Medians of RUNS
#     runs; the ratios use the --spin-us run. Lines to read:
#     load_window_min_at_20000=X.XXXX, load_late_p99_ms_at_20000=X.XXX,
#     load_max_rate_kept=N, load_vs_wrk_p50=X.XX and load_vs_wrk_p99=X.XX.
# Env: DURATION (s, default 5), RUNS (default 3), RATES, LOW_RATE (1000),
# LATE_P99_MS (1).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

DURATION=${DURATION:-5}
RUNS=${RUNS:-3}
RATES=${RATES:-"1000 5000 10000 20000 30000 40000"}
LOW_RATE=${LOW_RATE:-1000}
LATE_P99_MS=${LATE_P99_MS:-1}
BIN=${POOLSCALE_BIN:-build/poolscale}
require_tools bench/load.sh wrk nginx
[ -x "$BIN" ] || { echo "bench/load.sh: $BIN is missing (run make)" >&2; exit 1; }

start_work
port=$(free_port)
mkdir -p "$work/html"
printf 'OK\n' > "$work/html/health"
start_nginx_static 1000000 "$port"
url="http://127.0.0.1:$port/health"
wait_http "$url"

# poolscale load's summary -> "achieved_rps p50_ms p99_ms failed late_p50_ms
# late_p99_ms late_max_ms window_min window_max"
load_summary() {
	awk '
		/^  requests/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "failed") f = kv[2] } }
		/^  rate/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "achieved") { a = kv[2]; sub(/\/s/, "", a) } } }
		/^  windows/ { for (i = 2; i <= NF; i++) { split($i, kv, "=")
			if (kv[1] == "low") wmin = kv[2]; if (kv[1] == "high") wmax = kv[2] } }
		/^  latency/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v = kv[2]; sub(/ms/, "", v)
			if (kv[1] == "p50") p50 = v; if (kv[1] == "p99") p99 = v } }
		/^  send lag/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); v = kv[2]; sub(/ms/, "", v)
			if (kv[1] == "p50") l50 = v; if (kv[1] == "p99") l99 = v; if (kv[1] == "max") lmax = v } }
		END { printf "%s %s %s %s %s %s %s %s %s\n", a, p50, p99, f, l50, l99, lmax, wmin, wmax }' "$1"
}

# wrk's output -> "p50_ms p99_ms"
wrk_p50_p99() {
	awk '
		function ms(v) {
			if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
			if (v ~ /ms$/) { sub(/ms$/, "", v); return v }
			sub(/s$/, "", v); return v * 1000 }
		/^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
		END { printf "%.3f %.3f\n", p50, p99 }' "$1"
}

echo "poolscale load against nginx (1 worker) on $(nproc) CPUs, ${DURATION}s a run, $RUNS runs, medians"
printf '%8s %10s %9s %9s %8s %8s %9s %9s %9s %6s\n' "rate" "achieved" "win min" "win max" \
	"p50 ms" "p99 ms" "late p50" "late p99" "late max" "failed"
for rate in $RATES; do
	: > "$work/runs"
	for _ in $(seq "$RUNS"); do
		"$BIN" load --url "$url" --rate "$rate" --duration "${DURATION}s" --conns 256 \
			--quiet > "$work/load.out"
		load_summary "$work/load.out" >> "$work/runs"
	done
	ach=$(cut -d' ' -f1 "$work/runs" | median)
	p50=$(cut -d' ' -f2 "$work/runs" | median)
	p99=$(cut -d' ' -f3 "$work/runs" | median)
	failed=$(cut -d' ' -f4 "$work/runs" | median)
	l50=$(cut -d' ' -f5 "$work/runs" | median)
	l99=$(cut -d' ' -f6 "$work/runs" | median)
	lmax=$(cut -d' ' -f7 "$work/runs" | median)
	# The worst run's worst window, not a median: one bad second is a miss.
	wmin=$(cut -d' ' -f8 "$work/runs" | sort -g | head -n1)
	wmax=$(cut -d' ' -f9 "$work/runs" | sort -g | tail -n1)
	printf '%8s %10s %9s %9s %8s %8s %9s %9s %9s %6s\n' "$rate" "$ach" "$wmin" "$wmax" \
		"$p50" "$p99" "$l50" "$l99" "$lmax" "$failed"
	echo "$rate $wmin $wmax $l99" >> "$work/ratios"
done

: > "$work/wrk.runs"; : > "$work/low.runs"; : > "$work/spin.runs"
for _ in $(seq "$RUNS"); do
	wrk -t1 -c1 -d"${DURATION}s" --latency "$url" > "$work/wrk.out"
	wrk_p50_p99 "$work/wrk.out" >> "$work/wrk.runs"
	"$BIN" load --url "$url" --rate "$LOW_RATE" --duration "${DURATION}s" --quiet > "$work/load.out"
	load_summary "$work/load.out" | cut -d' ' -f2,3 >> "$work/low.runs"
	"$BIN" load --url "$url" --rate "$LOW_RATE" --duration "${DURATION}s" --spin-us 100 \
		--quiet > "$work/load.out"
	load_summary "$work/load.out" | cut -d' ' -f2,3 >> "$work/spin.runs"
done
w50=$(cut -d' ' -f1 "$work/wrk.runs" | median); w99=$(cut -d' ' -f2 "$work/wrk.runs" | median)
s50=$(cut -d' ' -f1 "$work/low.runs" | median); s99=$(cut -d' ' -f2 "$work/low.runs" | median)
l50=$(cut -d' ' -f1 "$work/spin.runs" | median); l99=$(cut -d' ' -f2 "$work/spin.runs" | median)
echo
echo "latency of GET /health on the same server, ms:"
printf '  %-42s p50 %7s  p99 %7s\n' "wrk -t1 -c1 (closed loop)" "$w50" "$w99" \
	"poolscale load --rate $LOW_RATE (sleeping)" "$s50" "$s99" \
	"poolscale load --rate $LOW_RATE --spin-us 100" "$l50" "$l99"
awk -v late="$LATE_P99_MS" '
	{ kept = $2 >= 0.99 && $3 <= 1.01 && $4 <= late }
	$1 <= 20000 && !kept { bad = bad " " $1 }
	$1 == 20000 { printf "load_window_min_at_20000=%.4f\nload_late_p99_ms_at_20000=%.3f\n", $2, $4 }
	kept && $1 > best { best = $1 }
	END { printf "load_max_rate_kept=%d\n", best
		if (bad != "") printf "load: a 1 s window off by more than 1%% or p99 lateness over %s ms at%s req/s\n", late, bad }' "$work/ratios"
awk -v a="$l50" -v b="$w50" -v c="$l99" -v d="$w99" \
	'BEGIN { printf "load_vs_wrk_p50=%.2f\nload_vs_wrk_p99=%.2f\n", a / b, c / d }'
