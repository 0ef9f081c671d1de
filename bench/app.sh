#!/usr/bin/env bash
# Requests/s and p99 of `poolscale app`'s GET /health against nginx serving
# a static 3-byte page, both on loopback, both with one serving thread
# (app --io-threads 1, nginx worker_processes 1) and the same keep-alive
# limit (1000 requests per connection); nginx caches the open file.
# wrk, keep-alive, three runs each, medians. The last line is app_vs_nginx_rps=X.XX (app over nginx).
# Env: DURATION (s, default 5), CONNS (default 50), RUNS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

DURATION=${DURATION:-5}
CONNS=${CONNS:-50}
RUNS=${RUNS:-3}
BIN=${POOLSCALE_BIN:-build/poolscale}
require_tools bench/app.sh wrk nginx
[ -x "$BIN" ] || { echo "bench/app.sh: $BIN is missing (run make)" >&2; exit 1; }

start_work

# wrk's output -> "rps p99_ms"
measure() {
	wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$1" > "$work/wrk.out"
	wrk_summary "$work/wrk.out"
}


# nginx: a static page, one worker, logs off.
nginx_port=$(free_port)
mkdir -p "$work/html"
printf 'OK\n' > "$work/html/health"
start_nginx_static 1000 "$nginx_port"

app_port=$(free_port)
"$BIN" app --listen "127.0.0.1:$app_port" --metrics-listen off --io-threads 1 \
	--max-requests-per-conn 1000 --log-level warn &
pids+=($!)

wait_http "http://127.0.0.1:$nginx_port/health"
wait_http "http://127.0.0.1:$app_port/health"

echo "GET /health, wrk -t1 -c$CONNS -d${DURATION}s, $RUNS runs each, $(nproc) CPUs"
for name in nginx app; do
	port=nginx_port
	[ "$name" = app ] && port=app_port
	url="http://127.0.0.1:${!port}/health"
	: > "$work/$name.runs"
	for i in $(seq "$RUNS"); do
		m=$(measure "$url")
		echo "$m" >> "$work/$name.runs"
		printf '  %-6s run %d: %8s req/s  p99 %s ms\n' "$name" "$i" "${m% *}" "${m#* }"
	done
done
nginx_rps=$(cut -d' ' -f1 "$work/nginx.runs" | median)
nginx_p99=$(cut -d' ' -f2 "$work/nginx.runs" | median)
app_rps=$(cut -d' ' -f1 "$work/app.runs" | median)
app_p99=$(cut -d' ' -f2 "$work/app.runs" | median)
printf 'median nginx: %s req/s, p99 %s ms\n' "$nginx_rps" "$nginx_p99"
printf 'median app:   %s req/s, p99 %s ms\n' "$app_rps" "$app_p99"
awk -v a="$app_p99" -v n="$nginx_p99" 'BEGIN { printf "app_vs_nginx_p99=%.2f\n", a / n }'
awk -v a="$app_rps" -v n="$nginx_rps" 'BEGIN { printf "app_vs_nginx_rps=%.2f\n", a / n }'
