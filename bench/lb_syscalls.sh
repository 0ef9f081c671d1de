#!/usr/bin/env bash
# System calls per request of poolscale lb and haproxy, each mode, with
# keep-alive and with a new connection per request: what a change to the
# balancer's I/O path buys, counted rather than timed. Throughput on a
# shared 2-CPU machine swings by 10 to 50% from run to run (bench/lb.sh);
# a count hardly moves. Each proxy runs one thread in front of one nginx
# backend; `poolscale load` sends a fixed rate (the same schedule to every
# proxy) while strace -c -f counts the proxy's calls. strace slows each
# call, so the counts of epoll_wait (how many events one wait returns) and
# of reads that find nothing depend on timing; they are printed, but the
# ratio lines leave epoll_wait out.
# Env: RATE (req/s, default 1000), SECONDS_EACH (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RATE=${RATE:-1000}
SECONDS_EACH=${SECONDS_EACH:-3}
BIN=${POOLSCALE_BIN:-build/poolscale}
require_tools bench/lb_syscalls.sh nginx haproxy strace
[ -x "$BIN" ] || { echo "bench/lb_syscalls.sh: $BIN is missing (run make)" >&2; exit 1; }

start_work
b=$(free_port)
p_lb=$(free_port); p_lbh=$(free_port); p_ha=$(free_port); p_hah=$(free_port)
mkdir -p "$work/html"
printf 'poolscale bench page\n' > "$work/html/index.html"
start_nginx_static 100000 "$b"

cat > "$work/haproxy.cfg" <<CONF
global
	nbthread 1
	maxconn 4000
defaults
	timeout connect 3s
	timeout client 60s
	timeout server 60s
	timeout http-keep-alive 60s
listen tcp
	mode tcp
	bind 127.0.0.1:$p_ha
	server b 127.0.0.1:$b
listen http
	mode http
	option http-keep-alive
	http-reuse always
	bind 127.0.0.1:$p_hah
	server b 127.0.0.1:$b
CONF
haproxy -f "$work/haproxy.cfg" -db > "$work/haproxy.log" 2>&1 & pids+=($!)
pid_ha=$!
"$BIN" lb --listen "127.0.0.1:$p_lb" --target "127.0.0.1:$b" --threads 1 --check none \
	--log-level warn 2> "$work/lb.log" & pids+=($!)
pid_lb=$!
"$BIN" lb --mode http --listen "127.0.0.1:$p_lbh" --target "127.0.0.1:$b" --threads 1 \
	--check none --log-level warn 2> "$work/lbh.log" & pids+=($!)
pid_lbh=$!
for p in "$b" "$p_lb" "$p_lbh" "$p_ha" "$p_hah"; do
	wait_http "http://127.0.0.1:$p/index.html"
done

# name port pid keepalive(0: no cap, 1: a new connection each) ->
# "calls_per_request calls_but_epoll_wait_per_request", and the calls by
# name in $work/NAME-KA.calls
count() {
	local name=$1 port=$2 pid=$3 ka=$4 out="$work/$1-$4" st sent
	strace -c -f -q -p "$pid" -o "$out.strace" & st=$!
	sleep 0.5	# attached to every thread
	"$BIN" load --url "http://127.0.0.1:$port/index.html" --rate "$RATE" \
		--duration "${SECONDS_EACH}s" --keepalive "$ka" --conns 64 --quiet > "$out.load" 2>&1
	kill -INT "$st"
	wait "$st" 2>/dev/null || true
	sent=$(sed -n 's/.* ok=\([0-9]*\) .*/\1/p' "$out.load" | head -n 1)
	[ "${sent:-0}" -gt 0 ] || { echo "bench/lb_syscalls.sh: no answer through $name" >&2; cat "$out.load" >&2; exit 1; }
	# strace -c rows: % time, seconds, usecs/call, calls, [errors,] name.
	awk '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { print $NF, $4 }' "$out.strace" | sort -k2,2nr > "$out.calls"
	awk -v n="$sent" '{ all += $2; if ($1 != "epoll_wait") io += $2 }
		END { printf "%.2f %.2f\n", all / n, io / n }' "$out.calls"
}

printf '%-18s %-9s %8s %13s   %s\n' "" "" "calls" "but epoll_wait" "per request, by call"
for t in "poolscale-lb:$p_lb:$pid_lb" "haproxy:$p_ha:$pid_ha" \
	"poolscale-lb-http:$p_lbh:$pid_lbh" "haproxy-http:$p_hah:$pid_ha"; do
	IFS=: read -r name port pid <<< "$t"
	for ka in 0 1; do
		read -r all io <<< "$(count "$name" "$port" "$pid" "$ka")"
		echo "$name $ka $io" >> "$work/io"
		by=$(awk -v n="$(sed -n 's/.* ok=\([0-9]*\) .*/\1/p' "$work/$name-$ka.load" | head -n 1)" \
			'{ printf "%s %.2f  ", $1, $2 / n }' "$work/$name-$ka.calls")
		printf '%-18s %-9s %8s %13s   %s\n' "$name" "$([ "$ka" = 1 ] && echo new-conn || echo keep-alv)" \
			"$all" "$io" "$by"
	done
done
# Ratios of the calls but epoll_wait: below 1, poolscale lb makes fewer.
ratio() { awk -v a="$1" -v k="$2" -v b="$3" '$1 == a && $2 == k { x = $3 } $1 == b && $2 == k { y = $3 }
	END { printf "%.2f\n", (y > 0 ? x / y : 0) }' "$work/io"; }
echo "lb_vs_haproxy_syscalls_per_req=$(ratio poolscale-lb 0 haproxy)"
echo "lb_vs_haproxy_newconn_syscalls_per_req=$(ratio poolscale-lb 1 haproxy)"
echo "lb_http_vs_haproxy_syscalls_per_req=$(ratio poolscale-lb-http 0 haproxy-http)"
echo "lb_http_vs_haproxy_newconn_syscalls_per_req=$(ratio poolscale-lb-http 1 haproxy-http)"
