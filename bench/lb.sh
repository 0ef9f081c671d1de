#!/usr/bin/env bash
# poolscale lb against haproxy (mode tcp, roundrobin) and nginx stream, all
# in front of the same two nginx backends serving a small static page, with
# the backends measured directly as the ceiling. wrk with keep-alive
# (-c64) and with a new connection per request; three runs each, medians of
# req/s and p99. Every proxy gets 2 worker threads/processes, the number of
# CPUs here. Last line: lb_vs_haproxy_rps=X.XX (keep-alive run).
# Env: DURATION (s, default 5), RUNS (default 3), CONNS (default 64).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

DURATION=${DURATION:-5}
RUNS=${RUNS:-3}
CONNS=${CONNS:-64}
BIN=${POOLSCALE_BIN:-build/poolscale}
require_tools bench/lb.sh wrk nginx haproxy
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] ||
	{ echo "bench/lb.sh: nginx stream module missing (libnginx-mod-stream; run scripts/deps)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "bench/lb.sh: $BIN is missing (run make)" >&2; exit 1; }

start_work
b1=$(free_port); b2=$(free_port); p_lb=$(free_port); p_ha=$(free_port); p_ng=$(free_port)
mkdir -p "$work/html"
printf 'poolscale bench page\n' > "$work/html/index.html"

# The two backends: one nginx, one worker, two servers.
start_nginx_static 100000 "$b1" "$b2"

cat > "$work/haproxy.cfg" <<CONF
global
	nbthread 2
	maxconn 8000
defaults
	mode tcp
	timeout connect 3s
	timeout client 60s
	timeout server 60s
listen bench
	bind 127.0.0.1:$p_ha
	balance roundrobin
	server b1 127.0.0.1:$b1
	server b2 127.0.0.1:$b2
CONF
haproxy -f "$work/haproxy.cfg" -db > "$work/haproxy.log" 2>&1 & pids+=($!)

cat > "$work/stream.conf" <<CONF
$(nginx_user_line)
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 2;
daemon off;
pid $work/stream.pid;
error_log $work/stream-error.log;
events { worker_connections 8192; }
stream {
	upstream backends { server 127.0.0.1:$b1; server 127.0.0.1:$b2; }
	server { listen 127.0.0.1:$p_ng; proxy_pass backends; }
}
CONF
nginx -c "$work/stream.conf" -e "$work/stream-error.log" & pids+=($!)

"$BIN" lb --listen "127.0.0.1:$p_lb" --target "127.0.0.1:$b1" --target "127.0.0.1:$b2" \
	--threads 2 --check tcp --log-level warn 2> "$work/lb.log" & pids+=($!)

for p in "$b1" "$b2" "$p_ha" "$p_ng" "$p_lb"; do wait_http "http://127.0.0.1:$p/index.html"; done

measure() {	# url, extra wrk args -> "rps p99_ms"
	local url=$1
	shift
	wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$@" "$url" > "$work/wrk.out"
	wrk_summary "$work/wrk.out"
}

echo "GET /index.html through each, wrk -t1 -c$CONNS -d${DURATION}s, $RUNS runs, $(nproc) CPUs"
printf '%-22s %12s %10s %12s %10s\n' "" "keep-alive" "p99 ms" "new conn" "p99 ms"
for t in "direct:$b1" "poolscale-lb:$p_lb" "haproxy:$p_ha" "nginx-stream:$p_ng"; do
	name=${t%%:*}
	port=${t#*:}
	url="http://127.0.0.1:$port/index.html"
	: > "$work/ka"; : > "$work/nc"
	for _ in $(seq "$RUNS"); do
		measure "$url" >> "$work/ka"
		measure "$url" -H "Connection: close" >> "$work/nc"
	done
	ka_rps=$(cut -d' ' -f1 "$work/ka" | median); ka_p99=$(cut -d' ' -f2 "$work/ka" | median)
	nc_rps=$(cut -d' ' -f1 "$work/nc" | median); nc_p99=$(cut -d' ' -f2 "$work/nc" | median)
	printf '%-22s %12s %10s %12s %10s\n' "$name" "$ka_rps" "$ka_p99" "$nc_rps" "$nc_p99"
	echo "$name $ka_rps $ka_p99 $nc_rps $nc_p99" >> "$work/summary"
done
awk '
	$1 == "poolscale-lb" { lk = $2; lp = $3; ln = $4 }
	$1 == "haproxy" { hk = $2; hp = $3; hn = $4 }
	END {
		printf "lb_vs_haproxy_p99=%.2f\n", lp / hp
		printf "lb_vs_haproxy_newconn_rps=%.2f\n", ln / hn
		printf "lb_vs_haproxy_rps=%.2f\n", lk / hk
	}' "$work/summary"
