"""`poolscale app` started for real on loopback."""
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import Conn, get, metric, wait_until

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def proc_cpu_seconds(pid):
    """utime + stime of a process, from /proc (what the kernel charged it)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / __import__("os").sysconf("SC_CLK_TCK")


def test_endpoints_and_status_codes(start_app):
    a = start_app("--work-ms", "5")
    r = get(a.addr, "/health")
    assert (r.status, r.body) == (200, b"OK\n")
    r = get(a.addr, "/load")
    assert r.status == 200 and r.body.startswith(b"burned 5.")
    r = get(a.addr, "/load?ms=12")
    assert r.status == 200 and r.body.startswith(b"burned 12.")
    for bad in ("/load?ms=abc", "/load?ms=-1", "/load?ms=10001"):
        r = get(a.addr, bad)
        assert r.status == 400, bad
        assert b"ms must be a number from 0 to 10000" in r.body
    r = get(a.addr, "/")
    assert r.status == 200 and b"/load" in r.body
    r = get(a.addr, "/nope")
    assert r.status == 404 and r.header("content-type") == "application/json"
    assert r.body == b'{"error":"not found"}\n'
    c = Conn(a.addr)
    r = c.request("POST", "/load", body=b"x")
    assert r.status == 405 and r.header("allow") == "GET, HEAD"
    r = c.request("HEAD", "/health")
    assert r.status == 200 and r.header("content-length") == "3" and r.body == b""
    r = c.request("GET", "/health")  # the HEAD left nothing behind
    assert r.body == b"OK\n"
    c.close()
    # The metrics port serves /metrics (with node_cpu) and nothing of the app.
    assert get(a.maddr, "/load").status == 404
    assert get(a.maddr, "/health").status == 404
    app_page = get(a.addr, "/metrics")
    m_page = get(a.maddr, "/metrics")
    assert app_page.status == m_page.status == 200
    assert app_page.header("content-type").startswith("text/plain; version=0.0.4")
    assert b"node_cpu_seconds_total" not in app_page.body
    text = m_page.body.decode()
    assert metric(text, "node_cpu_seconds_total", {"cpu": "0", "mode": "idle"}) is not None
    assert metric(text, "poolscale_app_http_requests_total",
                  {"path": "/load", "code": "200"}) == 2
    assert metric(text, "poolscale_app_http_requests_total",
                  {"path": "/load", "code": "400"}) == 3
    assert metric(text, "poolscale_app_http_requests_total",
                  {"path": "other", "code": "404"}) == 1
    # 2 served, 3 bad ms, the POST (405) and the metrics port's 404.
    assert metric(text, "poolscale_app_http_request_duration_seconds_count",
                  {"path": "/load"}) == 7
    assert metric(text, "poolscale_app_requests_in_flight") == 0
    assert metric(text, "poolscale_app_state", {"state": "serving"}) == 1
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                 "process_start_time_seconds"):
        assert metric(text, name) > 0, name


def test_promtool_accepts_both_metrics_pages(start_app):
    a = start_app("--work-ms", "1")
    get(a.addr, "/load")
    get(a.addr, "/nope")
    for addr in (a.addr, a.maddr):
        page = get(addr, "/metrics").body
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=page,
                           capture_output=True, timeout=30)
        assert r.returncode == 0, (r.stdout + r.stderr).decode()


def test_one_load_costs_the_configured_cpu(start_app):
    a = start_app("--work-ms", "100", "--threads", "1")
    get(a.addr, "/health")
    before = proc_cpu_seconds(a.pid)
    c = Conn(a.addr)
    n = 10
    for _ in range(n):
        assert c.request("GET", "/load").status == 200
    c.close()
    used = proc_cpu_seconds(a.pid) - before
    assert 0.8 * n * 0.1 <= used <= 1.2 * n * 0.1, f"{n} x 100 ms cost {used:.3f} s of CPU"


def proc_cpu_s(pid):
    """The process's user + system CPU seconds, from /proc (all threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_utilisation_query_from_node_cpu(start_app):
    """The seeds' non-idle / total ratio follows the CPU the instance really
    used against its allotment, capped at 1, and stays in [0, 1]."""
    a = start_app("--work-ms", "50", "--vcpu", "0.5", "--threads", "1")

    def sample():
        t = get(a.maddr, "/metrics").body.decode()
        modes = ("idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user")
        v = {m: metric(t, "node_cpu_seconds_total", {"cpu": "0", "mode": m}) for m in modes}
        return sum(v.values()) - v["idle"], sum(v.values())

    outer0 = time.monotonic()
    b0, t0 = sample()
    u0 = proc_cpu_s(a.pid)
    inner0 = time.monotonic()
    c = Conn(a.addr)
    while time.monotonic() < inner0 + 1.0:
        c.request("GET", "/load")
    c.close()
    inner = time.monotonic() - inner0
    b1, t1 = sample()
    used = proc_cpu_s(a.pid) - u0
    outer = time.monotonic() - outer0
    # Busy time is the process's own CPU time (clock ticks of 10 ms apart).
    assert b1 - b0 == pytest.approx(used, abs=0.05), (b1 - b0, used)
    util = (b1 - b0) / (t1 - t0)
    assert 0 < util <= 1
    # One worker burning back to back wants a whole core, twice the 0.5
    # allotment: the ratio is 1. On a loaded machine the worker may get
    # less than its allotment; then the ratio is what it got, over the
    # allotment for the time between the two samples (inside the outer
    # span, around the inner one).
    # The bounds divide the busy time the ratio itself uses (b1 - b0), not
    # the process's (used, up to 50 ms apart): only the denominator is
    # unknown, between the allotment of the inner span and of the outer
    # one, give or take a 10 ms tick. (With `used`, 30 ms of tick skew
    # over a 0.54 s allotment moved the ratio past a 0.05 margin under
    # stress-ng.)
    busy = b1 - b0
    if used >= 0.5 * outer:
        assert util == pytest.approx(1.0, abs=0.05), (util, used, outer)
    else:
        lo = busy / (0.5 * outer + 0.01)
        hi = min(1.0, busy / (0.5 * inner - 0.01))
        assert lo - 0.01 <= util <= hi + 0.01, (util, busy, used, inner, outer)
    b2, t2 = sample()
    assert t2 >= t1 and b2 >= b1  # counters never go down


def test_received_counts_every_load_and_queue_length_the_waiting(start_app):
    """Every /load is counted on arrival (served, queued or refused), and the
    queue gauge shows the ones waiting for a worker, not the running one."""
    a = start_app("--work-ms", "1", "--threads", "1", "--max-queue", "2")

    def page():
        return get(a.maddr, "/metrics").body.decode()

    assert metric(page(), "poolscale_app_requests_received_total") == 0
    assert metric(page(), "poolscale_app_queue_length") == 0
    results = []

    def one(path):
        c = Conn(a.addr, timeout=60)
        try:
            c.send(f"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
            results.append(c.read(timeout=60).status)
        finally:
            c.close()

    # 1 running + 2 queued: the queue is full. The running one burns 3 s
    # of CPU, so it is still running (even on a loaded machine, where a
    # 400 ms one could end between the checks) while the test looks.
    threads = [threading.Thread(target=one, args=("/load?ms=3000",))]
    threads[0].start()
    wait_until(lambda: metric(page(), "poolscale_app_requests_in_flight") == 1,
               "the long request running", timeout=30)
    threads += [threading.Thread(target=one, args=("/load",)) for _ in range(2)]
    for t in threads[1:]:
        t.start()
    wait_until(lambda: metric(page(), "poolscale_app_requests_in_flight") == 3,
               "3 requests in flight", timeout=30)
    text = page()
    assert metric(text, "poolscale_app_queue_length") == 2
    assert metric(text, "poolscale_app_requests_received_total") == 3
    # Refused (503, queue full) and bad (400): demand all the same.
    assert get(a.addr, "/load").status == 503
    assert get(a.addr, "/load?ms=abc").status == 400
    assert metric(page(), "poolscale_app_requests_received_total") == 5
    for t in threads:
        t.join(60)
    assert results == [200] * 3
    text = page()
    assert metric(text, "poolscale_app_queue_length") == 0
    assert metric(text, "poolscale_app_requests_received_total") == 5
    assert metric(text, "poolscale_app_overloaded_total") == 1


def test_boot_delay_503_then_200(start_app):
    t0 = time.monotonic()
    a = start_app("--boot-delay", "1.5s")
    r = get(a.addr, "/health")
    assert (r.status, r.body) == (503, b"booting\n")
    assert get(a.addr, "/load").status == 503
    assert metric(get(a.maddr, "/metrics").body.decode(), "poolscale_app_state",
                  {"state": "booting"}) == 1
    wait_until(lambda: get(a.addr, "/health").status == 200, "health 200", timeout=10)
    assert time.monotonic() - t0 >= 1.4
    assert get(a.addr, "/load").status == 200


def reset_or_answer(addr, path, timeout=30):
    """What a new client gets: ("answer", status), ("refused", None) or
    ("reset", repr). A draining app may refuse a connection, never reset it."""
    try:
        c = Conn(addr, timeout=timeout)
    except ConnectionRefusedError:
        return ("refused", None)
    try:
        return ("answer", c.request("GET", path).status)
    except (ConnectionError, OSError) as e:
        return ("reset", repr(e))
    finally:
        c.close()


def test_sigterm_finishes_requests_in_flight(start_app):
    # More requests than workers: two wait in the queue when SIGTERM comes.
    a = start_app("--work-ms", "400", "--threads", "4")
    results = []

    def one():
        c = Conn(a.addr, timeout=60)
        try:
            r = c.request("GET", "/load")
            results.append(r.status)
        except Exception as e:  # noqa: BLE001 - recorded, asserted below
            results.append(repr(e))
        finally:
            c.close()

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    wait_until(lambda: metric(get(a.maddr, "/metrics").body.decode(),
                              "poolscale_app_requests_in_flight") == 6,
               "6 requests in flight", timeout=30)
    a.signal(signal.SIGTERM)
    a.wait_log(r"msg=draining", timeout=30)
    # A client arriving now is refused (its SYN waits until the listener
    # closes) or, if it made it into the backlog, answered: never reset.
    late = reset_or_answer(a.addr, "/health")
    for t in threads:
        t.join(60)
    assert results == [200] * 6
    assert late[0] in ("refused", "answer"), late
    assert a.wait_exit(30) == 0
    assert "msg=draining" in a.logtext() and "msg=stopped" in a.logtext()


def test_shutdown_delay_keeps_serving_with_health_503(start_app):
    a = start_app("--shutdown-delay", "30s")
    a.signal(signal.SIGTERM)
    a.wait_log(r"msg=draining .*shutdown_delay_ms=30000", timeout=30)
    r = get(a.addr, "/health")
    assert (r.status, r.body) == (503, b"draining\n")
    assert get(a.addr, "/load?ms=1").status == 200  # new connections still served
    assert a.p.poll() is None
    # A second signal ends the delay: the operator asked twice.
    a.signal(signal.SIGTERM)
    assert a.wait_exit(30) == 1
    a.expect_rc = 1


def test_sigterm_serves_the_whole_backlog(start_app):
    # The app is stopped while 300 clients connect and send a request, so
    # all of them wait in the accept backlog when SIGTERM arrives. Each must
    # be accepted and answered: closing the listener over them resets them.
    a = start_app("--threads", "2")
    conns = []
    a.signal(signal.SIGSTOP)
    try:
        for _ in range(300):
            c = Conn(a.addr, timeout=60)
            c.send(b"GET /load?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n")
            conns.append(c)
        a.signal(signal.SIGTERM)
    finally:
        a.signal(signal.SIGCONT)
    outcomes = []
    for c in conns:
        try:
            outcomes.append(c.read().status)
        except (ConnectionError, OSError) as e:
            outcomes.append(repr(e))
        finally:
            c.close()
    bad = [o for o in outcomes if o != 200]
    assert not bad, f"{len(bad)} of 300 not answered: {bad[:5]}"
    assert a.wait_exit(30) == 0


def listen_queue_empty(addr):
    """True when the listening socket on addr has no connection waiting to
    be accepted (for a LISTEN socket, /proc/net/tcp's rx_queue is that)."""
    local = "%08X:%04X" % (int.from_bytes(socket.inet_aton(addr[0]), "little"), addr[1])
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[3] == "0A":
                return int(fields[4].split(":")[1], 16) == 0
    return False


def test_sigterm_spares_a_connection_whose_request_is_on_its_way(start_app):
    # Connected and accepted, but its request not sent yet when the app
    # drains: closing it would lose the request. It gets the read timeout
    # to send it and an answer with "Connection: close". The idle
    # keep-alive connection beside it closes at once, which tells when the
    # drain ran (one loop, so the same drain).
    a = start_app("--threads", "1")
    idle = Conn(a.addr)
    assert idle.request("GET", "/health").status == 200
    fresh = Conn(a.addr)
    wait_until(lambda: listen_queue_empty(a.addr), "the app accepting the connection")
    a.signal(signal.SIGTERM)
    assert idle.closed_by_peer(timeout=30)
    fresh.send(b"GET /load?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n")
    r = fresh.read()
    assert r.status == 200 and r.header("connection") == "close"
    fresh.close()
    idle.close()
    assert a.wait_exit(30) == 0


def test_sigterm_with_idle_keepalive_exits_promptly(start_app):
    a = start_app()
    c = Conn(a.addr)
    assert c.request("GET", "/health").status == 200
    t0 = time.monotonic()
    a.signal(signal.SIGINT)
    assert a.wait_exit(5) == 0
    assert time.monotonic() - t0 < 2
    assert c.closed_by_peer()


def raw_exchange(addr, raw):
    c = Conn(addr)
    c.send(raw)
    r = c.read()
    closed = c.closed_by_peer()
    c.close()
    return r, closed


@pytest.mark.parametrize("name,raw,status", [
    ("garbage", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 400),
    ("no_host", b"GET /health HTTP/1.1\r\n\r\n", 400),
    ("bad_header", b"GET /health HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n", 400),
    ("http2", b"GET /health HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    ("long_uri", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
    ("big_headers", b"GET /health HTTP/1.1\r\nHost: a\r\nX: " + b"b" * 9000 + b"\r\n\r\n", 431),
    ("big_body", b"POST /load HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n", 413),
    ("smuggling", b"POST /load HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n", 400),
    ("gzip_te", b"POST /load HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
], ids=lambda v: v if isinstance(v, str) else "")
def test_malformed_requests_rejected_and_server_goes_on(start_app, name, raw, status):
    a = start_app()
    r, closed = raw_exchange(a.addr, raw)
    assert r.status == status, name
    assert r.header("connection") == "close" and closed
    assert r.header("content-type") == "application/json" and b'"error"' in r.body
    assert get(a.addr, "/health").status == 200


def test_keepalive_closed_after_max_requests(start_app):
    a = start_app("--max-requests-per-conn", "3")
    c = Conn(a.addr)
    r1 = c.request("GET", "/health")
    r2 = c.request("GET", "/health")
    assert r1.header("connection") is None and r2.header("connection") is None
    r3 = c.request("GET", "/health")
    assert r3.status == 200 and r3.header("connection") == "close"
    assert c.closed_by_peer()
    c.close()


def test_pipelined_and_chunked_requests_answered_in_order(start_app):
    a = start_app("--work-ms", "1")
    c = Conn(a.addr)
    c.send(b"GET /load?ms=2 HTTP/1.1\r\nHost: a\r\n\r\n"
           b"GET /health HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3\r\nabc\r\n0\r\n\r\n"
           b"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n")
    statuses = [c.read().status for _ in range(3)]
    assert statuses == [200, 200, 404]
    c.close()


def test_http10_closes_unless_keepalive(start_app):
    a = start_app()
    c = Conn(a.addr)
    c.send(b"GET /health HTTP/1.0\r\n\r\n")
    assert c.read().header("connection") == "close"
    assert c.closed_by_peer()
    c = Conn(a.addr)
    c.send(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert c.read().header("connection") == "keep-alive"
    c.send(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert c.read().status == 200


def test_idle_and_slow_clients_time_out(start_app):
    a = start_app("--idle-timeout", "500ms", "--read-timeout", "500ms")
    idle = Conn(a.addr)
    assert idle.request("GET", "/health").status == 200
    t0 = time.monotonic()
    assert idle.closed_by_peer(timeout=5)
    assert 0.4 <= time.monotonic() - t0 < 2.0
    slow = Conn(a.addr)
    slow.send(b"GET /health HTTP/1.1\r\nHo")
    r = slow.read()
    assert r.status == 408 and slow.closed_by_peer()
    assert get(a.addr, "/health").status == 200


def test_expect_continue(start_app):
    a = start_app()
    c = Conn(a.addr)
    c.send(b"POST /health HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
           b"Expect: 100-continue\r\n\r\n")
    r = c.read()
    assert r.status == 100
    c.send(b"body")
    assert c.read().status == 405


def test_bad_flags_exit_2(tmp_path):
    from conftest import BIN
    r = subprocess.run([BIN, "app", "--vcpu", "zero"], capture_output=True, timeout=10)
    assert r.returncode == 2
    assert b"--vcpu" in r.stderr
    r = subprocess.run([BIN, "app", "--help"], capture_output=True, timeout=10)
    assert r.returncode == 0 and b"--boot-delay" in r.stdout
    r = subprocess.run([BIN, "--version"], capture_output=True, timeout=10)
    assert r.returncode == 0 and r.stdout.startswith(b"poolscale ")
    r = subprocess.run([BIN, "nope"], capture_output=True, timeout=10)
    assert r.returncode == 2


def test_port_in_use_is_a_clear_error(start_app, tmp_path):
    from conftest import BIN
    a = start_app()
    r = subprocess.run([BIN, "app", "--listen", f"127.0.0.1:{a.addr[1]}",
                        "--metrics-listen", "off"], capture_output=True, timeout=10)
    assert r.returncode == 1
    assert b"Address already in use" in r.stderr
