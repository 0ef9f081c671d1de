#!/usr/bin/env bash
# poolscale lb against haproxy and nginx, all in front of the same two
# nginx backends serving a small static page (and a 1 MiB file), with the
# backends measured directly as the ceiling.
#   TCP (layer 4): poolscale lb, haproxy mode tcp (roundrobin), nginx stream.
#   HTTP: poolscale lb --mode http, haproxy mode http (option http-keep-alive,
#   http-reuse always, balance leastconn), nginx proxy_pass with an upstream
#   keepalive pool (least_conn).
# wrk with keep-alive (-c$CONNS) and with a new connection per request
# ("Connection: close"), plus a 1 MiB response over keep-alive for the HTTP
# proxies. Runs are interleaved (run 1 of every proxy, then run 2, ...) so
# that a slow moment of the machine hits all of them alike; the table gives
# medians and the spread (max-min over median) of req/s. Every proxy gets
# 2 worker threads/processes. Last lines: the ratios to haproxy.
# Env: DURATION (s, default 5), RUNS (default 3), CONNS (default 64),
# BIG_CONNS (default 8), ONLY (a regex of the names to run, default all).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

DURATION=${DURATION:-5}
RUNS=${RUNS:-3}
CONNS=${CONNS:-64}
BIG_CONNS=${BIG_CONNS:-8}
ONLY=${ONLY:-.*}
BIN=${POOLSCALE_BIN:-build/poolscale}
require_tools bench/lb.sh wrk nginx haproxy
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] ||
	{ echo "bench/lb.sh: nginx stream module missing (libnginx-mod-stream; run scripts/deps)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "bench/lb.sh: $BIN is missing (run make)" >&2; exit 1; }

start_work
b1=$(free_port); b2=$(free_port)
p_lb=$(free_port); p_ha=$(free_port); p_ng=$(free_port)
p_lbh=$(free_port); p_hah=$(free_port); p_ngh=$(free_port)
mkdir -p "$work/html"
printf 'poolscale bench page\n' > "$work/html/index.html"
head -c 1048576 /dev/zero > "$work/html/big.bin"

# The two backends: one nginx, one worker, two servers.
start_nginx_static 100000 "$b1" "$b2"

cat > "$work/haproxy.cfg" <<CONF
global
	nbthread 2
	maxconn 8000
defaults
	timeout connect 3s
	timeout client 60s
	timeout server 60s
	timeout http-keep-alive 60s
listen bench_tcp
	mode tcp
	bind 127.0.0.1:$p_ha
	balance roundrobin
	server b1 127.0.0.1:$b1
	server b2 127.0.0.1:$b2
listen bench_http
	mode http
	option http-keep-alive
	http-reuse always
	bind 127.0.0.1:$p_hah
	balance leastconn
	server b1 127.0.0.1:$b1
	server b2 127.0.0.1:$b2
CONF
haproxy -f "$work/haproxy.cfg" -db > "$work/haproxy.log" 2>&1 & pids+=($!)

cat > "$work/proxy.conf" <<CONF
$(nginx_user_line)
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 2;
daemon off;
pid $work/proxy.pid;
error_log $work/proxy-error.log;
events { worker_connections 8192; }
stream {
	upstream backends { server 127.0.0.1:$b1; server 127.0.0.1:$b2; }
	server { listen 127.0.0.1:$p_ng; proxy_pass backends; }
}
http {
	access_log off;
	client_body_temp_path $work/pbody; proxy_temp_path $work/pproxy;
	fastcgi_temp_path $work/pfcgi; uwsgi_temp_path $work/puwsgi; scgi_temp_path $work/pscgi;
	keepalive_requests 100000;
	upstream http_backends {
		least_conn;
		server 127.0.0.1:$b1;
		server 127.0.0.1:$b2;
		keepalive 128;
		keepalive_requests 100000;
	}
	server {
		listen 127.0.0.1:$p_ngh;
		location / {
			proxy_pass http://http_backends;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_max_temp_file_size 0;
		}
	}
}
CONF
nginx -c "$work/proxy.conf" -e "$work/proxy-error.log" & pids+=($!)

"$BIN" lb --listen "127.0.0.1:$p_lb" --target "127.0.0.1:$b1" --target "127.0.0.1:$b2" \
	--threads 2 --check tcp --log-level warn 2> "$work/lb.log" & pids+=($!)
"$BIN" lb --mode http --listen "127.0.0.1:$p_lbh" --target "127.0.0.1:$b1" \
	--target "127.0.0.1:$b2" --threads 2 --check tcp --log-level warn 2> "$work/lbh.log" & pids+=($!)

for p in "$b1" "$b2" "$p_ha" "$p_ng" "$p_lb" "$p_hah" "$p_ngh" "$p_lbh"; do
	wait_http "http://127.0.0.1:$p/index.html"
done

measure() {	# conns, url, extra wrk args -> "rps p99_ms"
	local c=$1 url=$2
	shift 2
	wrk -t1 -c"$c" -d"${DURATION}s" --latency "$@" "$url" > "$work/wrk.out"
	# A proxy that errs is not fast: say so beside the numbers.
	grep -E "Socket errors|Non-2xx" "$work/wrk.out" | sed "s|^|$url $* |" >> "$work/errors" || true
	wrk_summary "$work/wrk.out"
}

# name:port:kind (tcp proxies get no 1 MiB case: bytes are bytes at layer 4)
targets="direct:$b1:http poolscale-lb:$p_lb:tcp haproxy:$p_ha:tcp nginx-stream:$p_ng:tcp
poolscale-lb-http:$p_lbh:http haproxy-http:$p_hah:http nginx-http:$p_ngh:http"
targets=$(for t in $targets; do if [[ ${t%%:*} =~ ^($ONLY)$ ]]; then echo "$t"; fi; done)
echo "GET /index.html through each, wrk -t1 -c$CONNS -d${DURATION}s (1 MiB: -c$BIG_CONNS)," \
	"$RUNS interleaved runs, $(nproc) CPUs"
for run in $(seq "$RUNS"); do
	for t in $targets; do
		IFS=: read -r name port kind <<< "$t"
		url="http://127.0.0.1:$port"
		echo "$name $(measure "$CONNS" "$url/index.html")" >> "$work/ka"
		echo "$name $(measure "$CONNS" "$url/index.html" -H "Connection: close")" >> "$work/nc"
		if [ "$kind" = http ]; then
			echo "$name $(measure "$BIG_CONNS" "$url/big.bin")" >> "$work/big"
		fi
	done
	echo "run $run of $RUNS done" >&2
done

# file, name, field (2 rps, 3 p99) -> median
med() { awk -v n="$2" -v f="$3" '$1 == n { print $f }' "$1" | median; }
# file, name -> spread of req/s in percent of the median
spread() {
	awk -v n="$2" '$1 == n { print $2 }' "$1" | sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		m = v[int((NR + 1) / 2)]; printf "%.0f%%\n", m ? 100 * (v[NR] - v[1]) / m : 0 }'
}
printf '%-18s %10s %8s %6s  %10s %8s %6s  %10s %8s %6s\n' "" "keep-alive" "p99 ms" "spread" \
	"new conn" "p99 ms" "spread" "1 MiB r/s" "p99 ms" "spread"
for t in $targets; do
	IFS=: read -r name _ kind <<< "$t"
	big="- - -"
	[ "$kind" = http ] && big="$(med "$work/big" "$name" 2) $(med "$work/big" "$name" 3) $(spread "$work/big" "$name")"
	# shellcheck disable=SC2086
	printf '%-18s %10s %8s %6s  %10s %8s %6s  %10s %8s %6s\n' "$name" \
		"$(med "$work/ka" "$name" 2)" "$(med "$work/ka" "$name" 3)" "$(spread "$work/ka" "$name")" \
		"$(med "$work/nc" "$name" 2)" "$(med "$work/nc" "$name" 3)" "$(spread "$work/nc" "$name")" \
		$big
	echo "$name $(med "$work/ka" "$name" 2) $(med "$work/ka" "$name" 3)" \
		"$(med "$work/nc" "$name" 2) $(med "$work/nc" "$name" 3)" \
		"$( [ "$kind" = http ] && echo "$(med "$work/big" "$name" 2) $(med "$work/big" "$name" 3)" || echo "0 0")" \
		>> "$work/summary"
done
[ -s "$work/errors" ] && { echo "wrk reported errors:"; sort "$work/errors" | uniq -c; }
awk '
	$1 == "poolscale-lb" { lk = $2; lp = $3; ln = $4 }
	$1 == "haproxy" { hk = $2; hp = $3; hn = $4 }
	$1 == "poolscale-lb-http" { Lk = $2; Lp = $3; Ln = $4; Lnp = $5; Lb = $6; Lbp = $7 }
	$1 == "haproxy-http" { Hk = $2; Hp = $3; Hn = $4; Hnp = $5; Hb = $6; Hbp = $7 }
	$1 == "nginx-http" { Nk = $2; Np = $3 }
	function r(a, b) { return b > 0 ? a / b : 0 }
	END {
		printf "lb_http_vs_nginx_rps=%.2f\n", r(Lk, Nk)
		printf "lb_http_vs_haproxy_1mib_rps=%.2f\n", r(Lb, Hb)
		printf "lb_http_vs_haproxy_1mib_p99=%.2f\n", r(Lbp, Hbp)
		printf "lb_http_vs_haproxy_newconn_rps=%.2f\n", r(Ln, Hn)
		printf "lb_http_vs_haproxy_newconn_p99=%.2f\n", r(Lnp, Hnp)
		printf "lb_http_vs_haproxy_p99=%.2f\n", r(Lp, Hp)
		printf "lb_http_vs_haproxy_rps=%.2f\n", r(Lk, Hk)
		printf "lb_vs_haproxy_p99=%.2f\n", r(lp, hp)
		printf "lb_vs_haproxy_newconn_rps=%.2f\n", r(ln, hn)
		printf "lb_vs_haproxy_rps=%.2f\n", r(lk, hk)
	}' "$work/summary"
