# shellcheck shell=bash
# Shared by the bench/*.sh scripts (sourced, not run).

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wrk's output file -> "rps p99_ms"
wrk_summary() {
	awk '
		/Requests\/sec:/ { rps = $2 }
		/^ +99%/ { v = $2
			if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 }
			else if (v ~ /ms$/) { sub(/ms$/, "", v) }
			else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 }
			p99 = v }
		END { printf "%.0f %.3f\n", rps, p99 }' "$1"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Exits unless every tool is on PATH. $1 names the calling script.
require_tools() {
	local me=$1 t
	shift
	for t in "$@"; do
		command -v "$t" >/dev/null || { echo "$me: $t is missing (run scripts/deps)" >&2; exit 1; }
	done
}

# A scratch directory in $work and a list $pids of processes started in the
# background; both are cleaned up when the script ends, however it ends.
start_work() {
	work=$(mktemp -d)
	pids=()
	trap stop_work EXIT INT TERM
}

stop_work() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}

# Waits up to 5 s for a 200 from a URL.
wait_http() {
	for _ in $(seq 100); do
		curl -fs -o /dev/null "$1" && return 0
		sleep 0.05
	done
	echo "$0: $1 did not come up" >&2
	for f in "$work"/*.log; do [ -f "$f" ] && { echo "== $f"; tail -n 3 "$f"; }; done >&2
	exit 1
}

# nginx refuses to drop privileges to a user it cannot switch from.
nginx_user_line() { if [ "$(id -u)" -eq 0 ]; then echo "user root;"; fi; }

# Starts one nginx (one worker, no access log, tracked in $pids) serving
# $work/html on 127.0.0.1 at each port given; $1 is keepalive_requests.
# /health answers text/plain from the file $work/html/health.
start_nginx_static() {
	local ka=$1 p servers=""
	shift
	for p in "$@"; do
		servers+="	server { listen 127.0.0.1:$p; root $work/html; location = /health { default_type text/plain; } }"$'\n'
	done
	mkdir -p "$work/html"
	cat > "$work/static.conf" <<CONF
$(nginx_user_line)
worker_processes 1;
daemon off;
pid $work/static.pid;
error_log $work/static-error.log;
events { worker_connections 8192; }
http {
	access_log off;
	client_body_temp_path $work/body; proxy_temp_path $work/proxy;
	fastcgi_temp_path $work/fcgi; uwsgi_temp_path $work/uwsgi; scgi_temp_path $work/scgi;
	keepalive_requests $ka;
	open_file_cache max=16 inactive=60s;
$servers}
CONF
	# shellcheck disable=SC2086
	${STATIC_PIN:-} nginx -c "$work/static.conf" -e "$work/static-error.log" & pids+=($!)
}
