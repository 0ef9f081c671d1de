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
