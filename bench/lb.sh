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
# medians and the spread (max-min over median) of req/s, and of requests
# per CPU-second of the proxy (user + system time of its threads and
# workers, from /proc): that one holds steady when the host steals time,
# so it is the number to compare across runs. Every process is
# pinned to CPUs, the same way for every proxy: with 4 CPUs or more wrk
# gets CPU 0, the backends CPU 1 and each proxy CPUs 2-3 with 2 threads;
# with 2 or 3, wrk and the backends share CPU 0 and each proxy has CPU 1
# to itself with 1 thread (haproxy's and nginx's documented best: one
# thread or worker per CPU). The proxy's own CPU is then what is measured.
# Last lines: the ratios to haproxy.
# Env: DURATION (s, default 3), RUNS (default 5), CONNS (default 64),
# BIG_CONNS (default 8), ONLY (a regex of the names to run, default all),
# PIN (default 1; 0 runs unpinned with 2 threads per proxy).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

DURATION=${DURATION:-3}
RUNS=${RUNS:-5}
CONNS=${CONNS:-64}
BIG_CONNS=${BIG_CONNS:-8}
ONLY=${ONLY:-.*}
PIN=${PIN:-1}
BIN=${POOLSCALE_BIN:-build/poolscale}
require_tools bench/lb.sh wrk nginx haproxy taskset
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] ||
	{ echo "bench/lb.sh: nginx stream module missing (libnginx-mod-stream; run scripts/deps)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "bench/lb.sh: $BIN is missing (run make)" >&2; exit 1; }

ncpu=$(nproc)
pin_load=() pin_proxy=() threads=2 layout="unpinned"
if [ "$PIN" = 1 ] && [ "$ncpu" -ge 4 ]; then
	pin_load=(taskset -c 0) STATIC_PIN="taskset -c 1" pin_proxy=(taskset -c "2,3")
	layout="pinned: wrk CPU 0, backends CPU 1, proxy CPUs 2-3"
elif [ "$PIN" = 1 ] && [ "$ncpu" -ge 2 ]; then
	pin_load=(taskset -c 0) STATIC_PIN="taskset -c 0" pin_proxy=(taskset -c 1) threads=1
	layout="pinned: wrk and backends CPU 0, proxy CPU 1"
fi

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
	nbthread $threads
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
"${pin_proxy[@]}" haproxy -f "$work/haproxy.cfg" -db > "$work/haproxy.log" 2>&1 & pids+=($!)
pid_ha=$!

cat > "$work/proxy.conf" <<CONF
$(nginx_user_line)
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes $threads;
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
"${pin_proxy[@]}" nginx -c "$work/proxy.conf" -e "$work/proxy-error.log" & pids+=($!)
pid_ng=$!

"${pin_proxy[@]}" "$BIN" lb --listen "127.0.0.1:$p_lb" --target "127.0.0.1:$b1" \
	--target "127.0.0.1:$b2" --threads "$threads" --check tcp --log-level warn 2> "$work/lb.log" & pids+=($!)
pid_lb=$!
"${pin_proxy[@]}" "$BIN" lb --mode http --listen "127.0.0.1:$p_lbh" \
	--target "127.0.0.1:$b1" --target "127.0.0.1:$b2" --threads "$threads" --check tcp \
	--log-level warn 2> "$work/lbh.log" & pids+=($!)
pid_lbh=$!

for p in "$b1" "$b2" "$p_ha" "$p_ng" "$p_lb" "$p_hah" "$p_ngh" "$p_lbh"; do
	wait_http "http://127.0.0.1:$p/index.html"
done

# CPU ticks (user + system, every thread) of a process and its children
# (nginx's workers).
cpu_ticks() {
	local p t=0
	for p in "$1" $(pgrep -P "$1" || true); do
		# Fields 14 and 15, counted after the ")" that ends the name.
		t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
	done
	echo "$t"
}

# conns, url, pid of the process that does the work, extra wrk args ->
# "rps p99_ms reqs_per_cpu_s". Requests per CPU-second of the proxy is the
# steadier number on a shared machine: a stall of the host takes away
# throughput, but hardly changes what each request costs.
measure() {
	local c=$1 url=$2 pid=$3 t0 t1 hz
	shift 3
	hz=$(getconf CLK_TCK)
	t0=$(cpu_ticks "$pid")
	"${pin_load[@]}" wrk -t1 -c"$c" -d"${DURATION}s" --latency "$@" "$url" > "$work/wrk.out"
	t1=$(cpu_ticks "$pid")
	# A proxy that errs is not fast: say so beside the numbers.
	grep -E "Socket errors|Non-2xx" "$work/wrk.out" | sed "s|^|$url $* |" >> "$work/errors" || true
	echo "$(wrk_summary "$work/wrk.out") $(awk -v n="$(awk '/requests in/ { print $1 }' "$work/wrk.out")" \
		-v t=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.0f\n", (t > 0 ? n * hz / t : 0) }')"
}

# name:port:kind:pid (tcp proxies get no 1 MiB case: bytes are bytes at
# layer 4; direct's CPU is the backends'). One haproxy, one nginx and one
# poolscale lb per mode serve both modes' ports, so each mode's CPU is
# measured while only it is loaded.
pid_static=$(cat "$work/static.pid")
targets="direct:$b1:http:$pid_static poolscale-lb:$p_lb:tcp:$pid_lb haproxy:$p_ha:tcp:$pid_ha
nginx-stream:$p_ng:tcp:$pid_ng poolscale-lb-http:$p_lbh:http:$pid_lbh
haproxy-http:$p_hah:http:$pid_ha nginx-http:$p_ngh:http:$pid_ng"
targets=$(for t in $targets; do if [[ ${t%%:*} =~ ^($ONLY)$ ]]; then echo "$t"; fi; done)
echo "GET /index.html through each, wrk -t1 -c$CONNS -d${DURATION}s (1 MiB: -c$BIG_CONNS)," \
	"$RUNS interleaved runs, $ncpu CPUs, $layout, $threads thread(s) per proxy"
touch "$work/ka" "$work/nc" "$work/big"
for run in $(seq "$RUNS"); do
	# Every other run in reverse: no proxy always follows the same one.
	order=$targets
	[ $((run % 2)) = 0 ] && order=$(tac <<< "$targets")
	for t in $order; do
		IFS=: read -r name port kind pid <<< "$t"
		url="http://127.0.0.1:$port"
		echo "$name $run $(measure "$CONNS" "$url/index.html" "$pid")" >> "$work/ka"
		echo "$name $run $(measure "$CONNS" "$url/index.html" "$pid" \
			-H "Connection: close")" >> "$work/nc"
		if [ "$kind" = http ]; then
			echo "$name $run $(measure "$BIG_CONNS" "$url/big.bin" "$pid")" >> "$work/big"
		fi
	done
	echo "run $run of $RUNS done" >&2
done

# Lines are "name run rps p99_ms reqs_per_cpu_s".
# file, name, field (3 rps, 4 p99, 5 requests per CPU-s) -> median
med() { awk -v n="$2" -v f="$3" '$1 == n { print $f }' "$1" | median; }
# file, name, field -> its spread (max - min) in percent of the median
spread() {
	awk -v n="$2" -v f="$3" '$1 == n { print $f }' "$1" | sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		m = v[int((NR + 1) / 2)]; printf "%.0f%%\n", m ? 100 * (v[NR] - v[1]) / m : 0 }'
}
cols() { echo "$(med "$1" "$2" 3) $(med "$1" "$2" 4) $(spread "$1" "$2" 3)"; }
cpu_cols() { echo "$(med "$1" "$2" 5) $(spread "$1" "$2" 5)"; }
fmt='%-18s %9s %7s %5s %9s %5s  %9s %7s %5s %9s %5s  %7s %7s %5s\n'
# shellcheck disable=SC2059
printf "$fmt" "" "keep-alv" "p99 ms" "sprd" "req/CPU-s" "sprd" "new conn" "p99 ms" "sprd" \
	"req/CPU-s" "sprd" "1 MiB" "p99 ms" "sprd"
for t in $targets; do
	IFS=: read -r name _ kind _ <<< "$t"
	big="- - -"
	[ "$kind" = http ] && big=$(cols "$work/big" "$name")
	# shellcheck disable=SC2046,SC2059,SC2086
	printf "$fmt" "$name" $(cols "$work/ka" "$name") $(cpu_cols "$work/ka" "$name") \
		$(cols "$work/nc" "$name") $(cpu_cols "$work/nc" "$name") $big
done
[ -s "$work/errors" ] && { echo "wrk reported errors:"; sort "$work/errors" | uniq -c; }

# The ratios are paired: in each run a proxy and its peer were measured
# seconds apart, so a slow spell of the machine hits both; the ratio is
# the median over runs of the run's own ratio, with the range beside it.
# file, name, peer, field -> "median min max" of name/peer over the runs
pair() {
	awk -v a="$2" -v b="$3" -v f="$4" '$1 == a { x[$2] = $f } $1 == b { y[$2] = $f }
		END { for (r in x) if (r in y && y[r] > 0) print x[r] / y[r] }' "$1" |
		sort -n | awk '{ v[NR] = $1 } END {
			if (NR == 0) { print "0 0 0"; exit }
			printf "%.2f %.2f %.2f\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
echo "paired ratios (median over runs, min..max):"
while read -r key file a b f; do
	read -r m lo hi <<< "$(pair "$work/$file" "$a" "$b" "$f")"
	printf '  %-40s %s..%s\n' "$key=$m" "$lo" "$hi" >&2
	echo "$key=$m" >> "$work/ratios"
done <<LIST
lb_http_vs_haproxy_newconn_per_cpu nc poolscale-lb-http haproxy-http 5
lb_http_vs_haproxy_per_cpu ka poolscale-lb-http haproxy-http 5
lb_vs_haproxy_newconn_per_cpu nc poolscale-lb haproxy 5
lb_vs_haproxy_per_cpu ka poolscale-lb haproxy 5
lb_http_vs_nginx_rps ka poolscale-lb-http nginx-http 3
lb_http_vs_haproxy_1mib_rps big poolscale-lb-http haproxy-http 3
lb_http_vs_haproxy_1mib_p99 big poolscale-lb-http haproxy-http 4
lb_http_vs_haproxy_newconn_rps nc poolscale-lb-http haproxy-http 3
lb_http_vs_haproxy_newconn_p99 nc poolscale-lb-http haproxy-http 4
lb_http_vs_haproxy_p99 ka poolscale-lb-http haproxy-http 4
lb_http_vs_haproxy_rps ka poolscale-lb-http haproxy-http 3
lb_vs_haproxy_p99 ka poolscale-lb haproxy 4
lb_vs_haproxy_newconn_rps nc poolscale-lb haproxy 3
lb_vs_haproxy_rps ka poolscale-lb haproxy 3
LIST
cat "$work/ratios"
