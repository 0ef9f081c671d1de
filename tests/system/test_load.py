"""poolscale load against real servers: the schedule is kept whatever the
server does, latency counts from the scheduled time, errors are sorted by
kind, and bad input is refused before anything is sent."""
import http.server
import re
import subprocess
import threading
import time

import pytest

from conftest import BIN, free_port, get, metric


def run_load(*args, timeout=60):
    r = subprocess.run([BIN, "load", *args], capture_output=True, text=True, timeout=timeout)
    return r


def summary(out):
    """The summary's key=value pairs; latencies in ms as floats."""
    text = out[out.index("summary"):]
    vals = {}
    for k, v in re.findall(r"([a-z0-9.]+)=([0-9.]+)", text):
        vals.setdefault(k, float(v))
    for line in text.splitlines():
        if line.strip().startswith("send lag"):
            vals["lag_p99"] = float(re.search(r"p99=([0-9.]+)", line).group(1))
            vals["lag_max"] = float(re.search(r"max=([0-9.]+)", line).group(1))
    return vals


class CountingServer:
    """A keep-alive HTTP/1.1 server that counts connections and requests and
    can be told to stall: the real behaviour under test is the client's."""

    def __init__(self):
        self.conns = 0
        self.requests = 0
        self.stall_until = 0.0
        self.stall_first_s = 0.0	# stall this long from the first request on
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                with outer.lock:
                    outer.conns += 1
                super().setup()

            def do_GET(self):
                with outer.lock:
                    outer.requests += 1
                    if outer.stall_first_s and outer.stall_until == 0.0:
                        outer.stall_until = time.monotonic() + outer.stall_first_s
                    until = outer.stall_until
                delay = until - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                status = b"404 Not Found" if self.path == "/missing" else b"200 OK"
                # One write: separate small writes would meet Nagle and
                # delayed ACKs, and measure those instead.
                self.wfile.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 3\r\n\r\nok\n")

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def server():
    s = CountingServer()
    yield s
    s.stop()


def test_constant_rate_is_kept(start_app, tmp_path):
    app = start_app("--work-ms", "1")
    csv = tmp_path / "load.csv"
    t0 = time.monotonic()
    r = run_load("--url", f"http://127.0.0.1:{app.addr[1]}/load", "--rate", "400",
                 "--duration", "3s", "--csv", str(csv))
    wall_ms = (time.monotonic() - t0) * 1000
    assert r.returncode == 0, r.stderr
    s = summary(r.stdout)
    assert s["due"] == 1200 and s["sent"] == 1200 and s["ok"] == 1200, r.stdout
    assert s["failed"] == 0
    # The rate is the sends over the schedule's 3 s, or up to the last send
    # when it was late: on a loaded machine the generator itself can lag,
    # by at most its own largest send lag, which it reports.
    floor = 1200 / (3 + s["lag_max"] / 1000)
    assert floor - 1 <= s["achieved"] <= 404, r.stdout
    # Latency is bounded by what happened, not by how much CPU the machine
    # gave the app (400 x 1 ms is 0.4 core; under load the app queues and
    # p50 reached 1.9 s while the schedule was kept): no answer is faster
    # than the 1 ms of CPU it burned, none can take longer than the whole
    # run, and each one's time contains the server's own time for it.
    assert 1.0 <= s["min"] <= s["p50"] <= s["max"] < wall_ms, (wall_ms, r.stdout)
    text = get(app.maddr, "/metrics").body.decode()
    lb = {"path": "/load"}
    n = metric(text, "poolscale_app_http_request_duration_seconds_count", lb)
    server_mean_ms = metric(text, "poolscale_app_http_request_duration_seconds_sum", lb) / n * 1000
    assert n == 1200 and s["mean"] >= server_mean_ms - 0.001, (server_mean_ms, r.stdout)
    rows = csv.read_text().splitlines()
    assert rows[0].startswith("t_s,target_rps,sent,ok,retried,err_connect,err_timeout")
    assert len(rows) >= 4   # a row a second, and the last partial one
    assert sum(int(x.split(",")[3]) for x in rows[1:]) == 1200


def test_profile_follows_its_points(server, tmp_path):
    csv = tmp_path / "p.csv"
    r = run_load("--url", server.url + "/", "--profile", "0:0,2:200,4:200,4:0", "--csv", str(csv))
    assert r.returncode == 0, r.stderr
    s = summary(r.stdout)
    assert s["due"] == 600 and s["ok"] == 600, r.stdout
    rows = [x.split(",") for x in csv.read_text().splitlines()[1:]]
    # A row a whole second, even one the run ended just after; only the
    # last row is the partial rest.
    assert [float(r[0]) for r in rows[:3]] == [1.0, 2.0, 3.0], rows
    target = [float(r[1]) for r in rows[:4]]
    assert [round(t) for t in target] == [50, 150, 200, 200], target


def test_trace_replay_scales_time_and_rate(server, tmp_path):
    trace = tmp_path / "t.csv"
    trace.write_text("t_seconds,requests\n0,600\n60,1200\n120,0\n")
    # 60x faster and a tenth of the rate: 1 s at 1 req/s, 1 s at 2, 1 s at 0.
    r = run_load("--url", server.url + "/", "--trace", str(trace), "--time-scale", "60",
                 "--rate-scale", "0.1")
    assert r.returncode == 0, r.stderr
    s = summary(r.stdout)
    assert s["due"] == 3 and s["ok"] == 3, r.stdout
    # Nothing sent but what was due, and what the generator says it sent
    # again: a request on a kept-alive connection that fails before any
    # answer byte is sent once more (engine.c, RFC 9112 9.3.1); once, in
    # one CI run under ASan, and the server then counts it twice.
    assert s["retried"] <= 1, r.stdout
    assert server.requests == 3 + s["retried"], r.stdout


def test_stalled_server_shows_as_latency_not_fewer_requests(server):
    """No coordinated omission: while the server stalls for 1 s, requests
    keep leaving on schedule and each one's wait is counted."""
    def stall():
        time.sleep(1.0)
        with server.lock:
            server.stall_until = time.monotonic() + 1.0
    threading.Thread(target=stall, daemon=True).start()
    r = run_load("--url", server.url + "/", "--rate", "100", "--duration", "3s")
    assert r.returncode == 0, r.stderr
    s = summary(r.stdout)
    assert s["due"] == 300 and s["sent"] == 300 and s["ok"] == 300, r.stdout
    # A third of the requests were due during the stall and waited ~0.5 s
    # on average; a closed-loop tool would have sent a handful of them.
    assert s["p90"] >= 300, r.stdout
    assert s["max"] >= 800, r.stdout


def test_waiting_for_a_connection_counts_as_latency(server):
    """With one connection and a stalled server, requests wait in the
    generator; their latency still starts at the scheduled time. The stall
    starts with the first request, not when the test sets it, so a slow
    start of the generator (ASan) cannot shorten it."""
    with server.lock:
        server.stall_first_s = 1.0
    r = run_load("--url", server.url + "/", "--rate", "50", "--duration", "2s", "--conns", "1")
    assert r.returncode == 0, r.stderr
    s = summary(r.stdout)
    assert s["due"] == 100 and s["ok"] == 100, r.stdout
    assert s["max"] >= 900 and s["lag_p99"] >= 500, r.stdout
    # The totals come out right (100 of 100), but the sends fell behind in
    # the first second: the per-window rate shows it, the total cannot.
    assert s["low"] < 0.5 and s["high"] > 1.5, r.stdout
    assert server.conns == 1


def test_keepalive_cap_and_new_connection_per_request(server):
    r = run_load("--url", server.url + "/", "--rate", "200", "--duration", "1s",
                 "--keepalive", "1")
    assert r.returncode == 0 and summary(r.stdout)["ok"] == 200, r.stdout + r.stderr
    assert server.conns == 200
    before = server.conns
    r = run_load("--url", server.url + "/", "--rate", "200", "--duration", "1s",
                 "--keepalive", "10", "--conns", "1")
    assert r.returncode == 0 and summary(r.stdout)["ok"] == 200, r.stdout + r.stderr
    assert server.conns - before == 20


def test_errors_by_kind(server, start_app):
    closed = free_port()
    r = run_load("--url", f"http://127.0.0.1:{closed}/", "--rate", "50", "--duration", "1s")
    s = summary(r.stdout)
    assert r.returncode == 0 and s["connect"] == 50 and s["ok"] == 0, r.stdout

    r = run_load("--url", server.url + "/missing", "--rate", "50", "--duration", "1s")
    s = summary(r.stdout)
    assert s["status"] == 50 and s["failed"] == 50 and s["ok"] == 0, r.stdout

    with server.lock:
        server.stall_until = time.monotonic() + 3.0
    r = run_load("--url", server.url + "/", "--rate", "20", "--duration", "1s",
                 "--timeout", "300ms")
    s = summary(r.stdout)
    assert s["timeout"] == 20 and s["ok"] == 0, r.stdout


@pytest.mark.parametrize("args,msg", [
    (["--rate", "10"], "--url is required"),
    (["--url", "http://127.0.0.1:1/"], "exactly one of --rate, --profile and --trace"),
    (["--url", "http://127.0.0.1:1/", "--rate", "1", "--profile", "0:1,1:1"], "exactly one"),
    (["--url", "https://127.0.0.1:1/", "--rate", "1"], "https is not supported"),
    (["--url", "http://example.com/", "--rate", "1"], "numeric address"),
    (["--url", "http://127.0.0.1:1/", "--rate", "-3"], "--rate:"),
    (["--url", "http://127.0.0.1:1/", "--profile", "0:1,x"], "--profile:"),
    (["--url", "http://127.0.0.1:1/", "--rate", "1", "--time-scale", "2"], "go with --trace"),
    (["--url", "http://127.0.0.1:1/", "--rate", "1", "--arrivals", "bursty"], "--arrivals"),
    (["--url", "http://127.0.0.1:1/", "--rate", "1", "--bogus"], "unknown option --bogus"),
])
def test_bad_flags_exit_2(args, msg):
    r = run_load(*args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert msg in r.stderr, r.stderr
    assert "summary" not in r.stdout


def test_bad_trace_is_file_line_and_exit_2(tmp_path, server):
    trace = tmp_path / "bad.csv"
    trace.write_text("t_seconds,requests\n0,10\n60,10\n90,10\n")
    r = run_load("--url", server.url + "/", "--trace", str(trace))
    assert r.returncode == 2
    assert f"{trace}:4: time 90 breaks the fixed step" in r.stderr, r.stderr
    assert server.requests == 0


def test_poisson_arrivals_keep_the_mean_rate(server):
    r = run_load("--url", server.url + "/", "--rate", "300", "--duration", "3s",
                 "--arrivals", "poisson", "--seed", "7")
    assert r.returncode == 0, r.stderr
    s = summary(r.stdout)
    # 900 expected; a Poisson count has a standard deviation of 30.
    assert 780 <= s["due"] <= 1020 and s["ok"] == s["due"], r.stdout


def test_help():
    r = run_load("--help")
    assert r.returncode == 0 and "--profile" in r.stdout and "coordinated" not in r.stderr
