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
