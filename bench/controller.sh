#!/usr/bin/env bash
# Footprint of `poolscale controller`, from /proc: resident memory (peak)
# and CPU over a quiet stretch of DURATION seconds (default 60) once every
# member is published, for three sizes:
#   1 pool of 5 members, 1 s interval, health checks every 1 s
#     (goal: under 10 MB and 1% of a core);
#   10 pools x 10 members and 20 pools x 50 members, 5 s interval, health
#     checks every 5 s (goal: cost per member flat from 100 to 1,000, and
#     1,000 members under 50 MB and 5% of a core).
# Members are `poolscale app` processes (light: idle, no load is sent);
# they are not counted. SIZES="5 100" runs only some.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-60}
SIZES=${SIZES:-5 100 1000}
BIN=${POOLSCALE_BIN:-build/poolscale}
[ -x "$BIN" ] || { echo "bench/controller.sh: $BIN is missing (run make)" >&2; exit 1; }
work=$(mktemp -d)
ctl_pid=""
cleanup() {
	if [ -n "$ctl_pid" ]; then
		kill "$ctl_pid" 2>/dev/null || true
		wait "$ctl_pid" 2>/dev/null || true
	fi
	for f in "$work"/*/bench.yml; do
		if [ -e "$f" ]; then
			"$BIN" pool destroy --config "$f" >/dev/null 2>&1 || true
		fi
	done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
published() { cat "$work/$1"/state/targets-*web.json 2>/dev/null | grep -o '"127\.' | wc -l; }

# One pool's entry: its own /24 (127.3+P.x.1), the default app command.
pool_yaml() {	# name index members interval health
	cat <<POOL
  - name: $1
    min: $3
    max: $3
    interval: $4
    health:
      interval: $5
      timeout: 500ms
    provider:
      local:
        address_base: 127.$((30 + $2)).0.1
        vcpu: 0.05
        max_instances: $3
POOL
}

# Runs one size: name, pools, members per pool, interval, health interval.
measure() {
	local name=$1 npools=$2 per=$3 interval=$4 health=$5 total=$(($2 * $3)) i c0 c1 t0 t1 hwm
	mkdir -p "$work/$name"
	{
		echo "state_dir: state"
		echo "log_level: warn"
		echo "api:"
		echo "  listen: 127.0.0.1:0"
		echo "pools:"
		for i in $(seq 0 $((npools - 1))); do
			pool_yaml "p$i" "$i" "$per" "$interval" "$health"
		done
	} > "$work/$name/bench.yml"
	"$BIN" controller --config "$work/$name/bench.yml" 2> "$work/$name/ctl.log" &
	ctl_pid=$!
	# Every member up and published (a member a few ms), then a quiet stretch.
	for _ in $(seq $((600 + total))); do
		[ "$(published "$name")" -ge "$total" ] && break
		kill -0 "$ctl_pid" 2>/dev/null || break
		sleep 0.2
	done
	[ "$(published "$name")" -ge "$total" ] ||
		{ echo "bench/controller.sh: $name: $(published "$name") of $total published" >&2
		  cat "$work/$name/ctl.log" >&2; exit 1; }
	sleep 2
	c0=$(cpu_ticks "$ctl_pid")
	t0=$(date +%s.%N)
	sleep "$DURATION"
	c1=$(cpu_ticks "$ctl_pid")
	t1=$(date +%s.%N)
	hwm=$(hwm_kb "$ctl_pid")
	kill "$ctl_pid"
	wait "$ctl_pid" || true
	ctl_pid=""
	"$BIN" pool destroy --config "$work/$name/bench.yml" >/dev/null
	awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$ticks" -v hwm="$hwm" \
	    -v d="$DURATION" -v np="$npools" -v per="$per" -v n="$total" -v iv="$interval" \
	    -v name="$name" 'BEGIN {
		cpu = (c1 - c0) / hz / (t1 - t0) * 100
		printf "controller, %d pool(s) x %d = %d members, %s interval, %d s: RSS peak %.1f MB, CPU %.2f%% of a core; per member %.1f KB, %.4f%%\n",
		    np, per, n, iv, d, hwm / 1024, cpu, hwm / n, cpu / n
		printf "%s_rss_mb=%.1f\n%s_cpu_pct=%.2f\n%s_rss_kb_per_member=%.1f\n%s_cpu_pct_per_member=%.4f\n",
		    name, hwm / 1024, name, cpu, name, hwm / n, name, cpu / n
	}' | tee -a "$work/results"
}

for size in $SIZES; do
	case $size in
	5) measure m5 1 5 1s 1s ;;
	100) measure m100 10 10 5s 5s ;;
	1000) measure m1000 20 50 5s 5s ;;
	*) echo "bench/controller.sh: SIZES: $size is not 5, 100 or 1000" >&2; exit 2 ;;
	esac
done
awk -F= '
	/^m5_rss_mb=/ { r5 = $2 } /^m5_cpu_pct=/ { c5 = $2; s5 = 1 }
	/^m100_rss_kb_per_member=/ { k100 = $2 } /^m100_cpu_pct_per_member=/ { p100 = $2; s100 = 1 }
	/^m1000_rss_mb=/ { r1000 = $2 } /^m1000_cpu_pct=/ { c1000 = $2 }
	/^m1000_rss_kb_per_member=/ { k1000 = $2 } /^m1000_cpu_pct_per_member=/ { p1000 = $2; s1000 = 1 }
	END {
		if (s5) printf "goal, 5 members (RSS < 10 MB, CPU < 1%%): %s\n", (r5 < 10 && c5 < 1) ? "met" : "NOT met"
		if (s1000) printf "goal, 1,000 members (RSS < 50 MB, CPU < 5%%): %s\n", (r1000 < 50 && c1000 < 5) ? "met" : "NOT met"
		if (s100 && s1000) printf "per-member cost, 1,000 over 100: RSS x%.2f, CPU x%.2f (linear: about 1 or below)\n", k1000 / k100, (p100 > 0 ? p1000 / p100 : 0)
	}' "$work/results"
