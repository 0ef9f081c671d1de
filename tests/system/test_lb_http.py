"""`poolscale lb --mode http` in front of real `poolscale app` backends and
small Python backends that misbehave on purpose (reset, garbage, silence)."""
import json
import signal
import threading
import time

import pytest

from conftest import Conn, metric, random_address_base, scaled, wait_until
from test_lb import (LB, idle_and_busy, name, raw, refused, served_by,  # noqa: F401 (raw)
                     serves_queued_at_stop, write_targets)


@pytest.fixture
def lb(tmp_path):
    started = []

    def start(*args, name="lb"):
        p = LB(tmp_path, "--mode", "http", *args, name=name)
        started.append(p)
        return p
    yield start
    errors = []
    for p in started:
        try:
            p.finish()
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n".join(errors)


@pytest.fixture
def backends(start_app):
    base = random_address_base().rsplit(".", 1)[0]

    def start(n, *extra, first=1):
        return [start_app("--listen", f"{base}.{i}:8080", "--metrics-listen", "off",
                          "--work-ms", "1", *extra, name=f"app{i}")
                for i in range(first, first + n)]
    start.base = base
    return start


def targets(*addrs):
    return sum((["--target", a] for a in addrs), [])


def req_count(l, backend, code="2xx"):
    return metric(l.metrics(), "poolscale_lb_backend_requests_total",
                  {"backend": backend, "code": code}) or 0


def test_every_request_balanced_over_one_client_connection(lb, backends):
    apps = backends(3)
    l = lb(*targets(*map(name, apps)))
    c = Conn(l.addr)
    seen = {}
    for _ in range(30):
        r = c.request("GET", "/load")
        assert r.status == 200
        seen[served_by(r.body)] = seen.get(served_by(r.body), 0) + 1
    assert set(seen) == set(map(name, apps)), seen
    assert metric(l.metrics(), "poolscale_lb_connections_accepted_total") == 2 - 1
    assert sum(req_count(l, name(a)) for a in apps) == 30
    assert metric(l.metrics(), "poolscale_lb_requests_total", {"code": "2xx"}) == 30
    text = l.metrics()
    assert metric(text, "poolscale_lb_backend_request_duration_seconds_count",
                  {"backend": name(apps[0])}) == seen[name(apps[0])]
    assert metric(text, "poolscale_lb_requests_in_flight") == 0


def addr_of(r):
    return json.loads(r.body)["addr"]


def test_least_outstanding_prefers_the_idle_backend(lb, raw):
    bs = [raw("echo"), raw("echo")]
    l = lb("--check", "none", *targets(*(b.addr for b in bs)))
    slow = Conn(l.addr)
    slow.send(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
    busy = wait_until(lambda: [b.addr for b in bs if metric(
        l.metrics(), "poolscale_lb_backend_requests_in_flight", {"backend": b.addr}) == 1],
        "one busy backend")[0]
    c = Conn(l.addr)
    others = {addr_of(c.request("GET", "/x")) for _ in range(8)}
    assert others == {b.addr for b in bs if b.addr != busy}
    assert addr_of(slow.read()) == busy


def test_new_backend_gets_requests_on_open_connections(lb, backends, tmp_path):
    apps = backends(2)
    tf = tmp_path / "targets-web.json"
    write_targets(tf, [name(apps[0])])
    l = lb("--targets-file", str(tf), "--check", "http:/health", "--check-interval", "300ms",
           "--check-timeout", "200ms")
    c = Conn(l.addr)
    assert {served_by(c.request("GET", "/load").body) for _ in range(4)} == {name(apps[0])}
    write_targets(tf, [name(a) for a in apps])
    t0 = time.monotonic()
    wait_until(lambda: served_by(c.request("GET", "/load").body) == name(apps[1]),
               "a request on the old connection served by the new backend", timeout=3)
    assert time.monotonic() - t0 < 0.3 + 0.25 + 0.3  # one check interval + a reload


def test_never_sent_requests_go_elsewhere(lb, backends):
    apps = backends(1)
    dead = f"{backends.base}.9:8080"  # nothing listens there: connect refused
    l = lb("--check", "none", "--strategy", "roundrobin", *targets(dead, name(apps[0])))
    c = Conn(l.addr)
    for method in ("GET", "POST", "GET", "POST"):
        r = c.request(method, "/health", body=b"x" if method == "POST" else b"")
        assert r.status in (200, 405), r.status  # the app answers; never a 50x
    text = l.metrics()
    assert metric(text, "poolscale_lb_backend_connect_failures_total", {"backend": dead}) >= 1
    assert metric(text, "poolscale_lb_request_retries_total") >= 1
    assert metric(text, "poolscale_lb_requests_total", {"code": "5xx"}) == 0


def test_reset_before_response_retries_idempotent_only(lb, backends, raw):
    apps = backends(1)
    bad = raw("reset")
    l = lb("--check", "none", "--strategy", "roundrobin", *targets(bad.addr, name(apps[0])))
    for _ in range(4):  # GETs: whichever backend the pick says, the client gets 200
        assert Conn(l.addr).request("GET", "/health").status == 200
    assert any(h.startswith(b"GET") for h, _ in bad.requests)
    posts = [Conn(l.addr).request("POST", "/health", body=b"data").status for _ in range(4)]
    assert 502 in posts, posts  # sent, reset: a POST is not sent twice
    assert sum(h.startswith(b"POST") for h, _ in bad.requests) == posts.count(502)
    assert metric(l.metrics(), "poolscale_lb_backend_request_retries_total",
                  {"backend": bad.addr}) >= 1


def test_no_retry_once_the_response_started(lb, backends, raw):
    apps = backends(1)
    bad = raw("partial")
    l = lb("--check", "none", "--strategy", "roundrobin", *targets(bad.addr, name(apps[0])))
    statuses = [Conn(l.addr).request("GET", "/health").status for _ in range(6)]
    assert statuses.count(502) == len(bad.requests) > 0, statuses
    assert req_count(l, name(apps[0])) == statuses.count(200)
    assert req_count(l, bad.addr, "5xx") == statuses.count(502)
    # A body cut short after the head went out: the client sees the cut.
    bad.mode = "truncated"
    l2 = lb("--check", "none", "--target", bad.addr, name="lb2")
    c = Conn(l2.addr)
    c.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    with pytest.raises(ConnectionError):
        c.read()


def test_garbage_is_502_and_no_backend_is_503(lb, raw, backends):
    bad = raw("garbage")
    l = lb("--check", "none", "--target", bad.addr)
    r = Conn(l.addr).request("GET", "/")
    assert r.status == 502 and r.body == b"502 Bad Gateway\n"
    assert r.header("connection") == "close"
    apps = backends(1)
    l2 = lb("--check", "tcp", "--check-interval", "200ms", "--check-timeout", "100ms",
            "--fall", "1", "--target", name(apps[0]), name="lb2")
    assert Conn(l2.addr).request("GET", "/health").status == 200
    apps[0].finish()
    wait_until(lambda: l2.up(name(apps[0])) == 0, "backend down")
    t0 = time.monotonic()
    r = Conn(l2.addr).request("GET", "/health")
    assert r.status == 503 and b"Service Unavailable" in r.body
    assert time.monotonic() - t0 < 0.5
    assert metric(l2.metrics(), "poolscale_lb_requests_total", {"code": "5xx"}) == 1


def test_silent_backend_is_504(lb, raw):
    slow = raw("slow")
    l = lb("--check", "none", "--server-timeout", "300ms", "--target", slow.addr)
    t0 = time.monotonic()
    r = Conn(l.addr).request("GET", "/")
    assert r.status == 504 and r.body == b"504 Gateway Timeout\n"
    assert 0.25 < time.monotonic() - t0 < 1.5
    assert req_count(l, slow.addr, "5xx") == 1


def test_drain_per_request(lb, raw, tmp_path):
    bs = [raw("echo"), raw("echo")]
    tf = tmp_path / "targets-web.json"
    write_targets(tf, [bs[0].addr])
    l = lb("--targets-file", str(tf), "--check", "none", "--drain-timeout", "10s")
    keep = Conn(l.addr)  # an open keep-alive client connection, and a pooled one to bs[0]
    assert addr_of(keep.request("GET", "/x")) == bs[0].addr
    write_targets(tf, [b.addr for b in bs])
    wait_until(lambda: l.up(bs[1].addr) == 1, "backend 1 added")
    slow = [Conn(l.addr) for _ in range(4)]
    for c in slow:
        c.send(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
    wait_until(lambda: metric(l.metrics(), "poolscale_lb_requests_in_flight") == 4, "4 in flight")
    write_targets(tf, [bs[1].addr])
    wait_until(lambda: l.up(bs[0].addr) == 0, "backend 0 removed")
    before = len(bs[0].requests)
    for _ in range(10):  # the old client connection: no request to the drained one
        assert addr_of(keep.request("GET", "/x")) == bs[1].addr
    assert len(bs[0].requests) == before
    served = [addr_of(c.read()) for c in slow]
    assert served.count(bs[0].addr) == 2  # its requests in flight finished
    assert req_count(l, bs[0].addr) == len(bs[0].requests)


def test_sigterm_answers_requests_in_flight(lb, raw):
    """On SIGTERM the HTTP mode stops taking connections, closes idle
    keep-alive ones, answers what is in flight (with Connection: close),
    then exits 0: a balancer scaled in loses no request."""
    b, l, idle, busy = idle_and_busy(lb, raw)
    l.signal(signal.SIGTERM)
    l.wait_log(r"msg=\"finishing requests in flight\" in_flight=1")
    assert idle.closed_by_peer(timeout=scaled(5))
    # Its main loop goes on meanwhile (checks, reloads, metrics), and a
    # SIGHUP is no second signal.
    assert metric(l.metrics(), "poolscale_lb_requests_in_flight") == 1
    l.signal(signal.SIGHUP)
    # The listener closes once every worker let go of it: refused, not queued.
    wait_until(lambda: refused(l.addr), "new connections refused", timeout=scaled(5),
               every=0.05)
    assert l.p.poll() is None      # still answering the slow one
    b.gate.set()
    r = busy.read(timeout=scaled(10))
    assert r.status == 200 and r.header("connection") == "close"
    assert busy.closed_by_peer(timeout=scaled(5))
    assert l.p.wait(scaled(10)) == 0
    assert "second signal" not in l.logtext()


def test_sigterm_answers_every_queued_connection(lb, raw):
    """A request that sat in the listener's queue at the stop has arrived:
    it is answered, like one in flight."""
    serves_queued_at_stop(lb, raw)


def test_pooled_connections_closed_when_drained_or_idle(lb, raw, tmp_path):
    bs = [raw("echo"), raw("echo")]
    tf = tmp_path / "targets-web.json"
    write_targets(tf, [bs[0].addr])
    l = lb("--targets-file", str(tf), "--check", "none", "--pool-idle-timeout", "1500ms")
    c = Conn(l.addr)
    assert addr_of(c.request("GET", "/x")) == bs[0].addr
    assert addr_of(c.request("GET", "/x")) == bs[0].addr
    assert (bs[0].conns, bs[0].closed) == (1, 0)  # kept alive, reused
    write_targets(tf, [bs[1].addr])
    t0 = time.monotonic()
    wait_until(lambda: bs[0].closed == 1, "the removed backend's pooled connection closed")
    assert time.monotonic() - t0 < 1.2  # not the idle timeout: at once
    assert addr_of(c.request("GET", "/x")) == bs[1].addr
    t0 = time.monotonic()
    wait_until(lambda: bs[1].closed == 1, "an idle pooled connection closed")
    assert time.monotonic() - t0 > 1.2


def test_hop_by_hop_removed_and_forwarded_for_added(lb, raw):
    echo = raw("echo")
    l = lb("--check", "none", "--target", echo.addr)
    c = Conn(l.addr)
    r = c.request("GET", "/x?y=1", headers={
        "Connection": "keep-alive, X-Secret", "X-Secret": "s", "Keep-Alive": "timeout=5",
        "Proxy-Connection": "keep-alive", "TE": "trailers", "Upgrade": "websocket",
        "X-Forwarded-For": "10.1.2.3", "X-Forwarded-Proto": "https", "X-Keep": "k"})
    assert r.status == 200
    head = json.loads(r.body)["head"].lower()
    for gone in ("connection:", "x-secret", "keep-alive:", "proxy-connection", "te:",
                 "upgrade", "https"):
        assert gone not in head, (gone, head)
    assert head.startswith("get /x?y=1 http/1.1\r\n")
    assert "x-keep: k\r\n" in head and "host: test\r\n" in head
    assert "x-forwarded-for: 10.1.2.3, 127.0.0.1\r\n" in head
    assert "x-forwarded-proto: http\r\n" in head
    # and on the way back
    assert r.header("x-hop") is None and r.header("keep-alive") is None
    assert r.header("connection") is None and r.header("x-end") == "2"
    # Connection may not strip framing: the body still arrives whole, once.
    r = c.request("POST", "/", headers={"Connection": "Content-Length"}, body=b"A" * 30)
    assert json.loads(r.body)["body_len"] == 30 and len(echo.requests) == 2


def test_bodies_stream_both_ways(lb, raw):
    echo = raw("echo")
    l = lb("--check", "none", "--target", echo.addr)
    c = Conn(l.addr)
    big = b"z" * (3 << 20)
    r = c.request("POST", "/upload", body=big)
    assert json.loads(r.body)["body_len"] == len(big)
    chunks = b"".join(b"%x\r\n%s\r\n" % (5000, b"q" * 5000) for _ in range(300)) + b"0\r\n\r\n"
    c.send(b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
    assert json.loads(c.read().body)["body_len"] == 1500000
    echo.mode = "big"
    r = c.request("GET", "/big")
    assert len(r.body) == 1 << 20
    echo.mode = "chunked"
    c.send(b"GET /chunked HTTP/1.1\r\nHost: a\r\n\r\n")
    data = b""
    c.s.settimeout(10)
    while not data.endswith(b"\r\n0\r\n\r\n"):
        data += c.s.recv(65536)
    assert b"transfer-encoding: chunked" in data.lower() and data.count(b"c" * 4000) == 262
    echo.mode = "echo"
    c.pending = b""
    assert c.request("GET", "/after").status == 200  # the same connection goes on


def test_expect_100_continue_passes_through(lb, raw):
    echo = raw("echo")
    l = lb("--check", "none", "--target", echo.addr)
    c = Conn(l.addr)
    c.send(b"POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
    data = b""
    c.s.settimeout(3)
    while b"\r\n\r\n" not in data:  # the client waits for it before its body
        data += c.s.recv(4096)
    assert data.startswith(b"HTTP/1.1 100 Continue\r\n"), data
    c.pending = data.split(b"\r\n\r\n", 1)[1]
    c.send(b"hello")
    r = c.read()
    assert r.status == 200 and json.loads(r.body)["body_len"] == 5


def limits_lb(lb, raw):
    echo = raw("echo")
    l = lb("--check", "none", "--target", echo.addr, "--max-head-bytes", "2048",
           "--max-body-bytes", "1000", "--request-timeout", "400ms", "--idle-timeout", "400ms")
    return echo, l


@pytest.mark.parametrize("raw_request,status", [
    (b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 3000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: a\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(70)) +
     b"\r\n", 431),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n", 413),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n" + b"x" * 1001,
     413),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"0\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  folded\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x00b\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"10000000000000000\r\nx\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
])
def test_bad_or_too_large_requests_never_reach_the_backend(lb, raw, raw_request, status):
    echo, l = limits_lb(lb, raw)
    c = Conn(l.addr)
    c.send(raw_request)
    r = c.read()
    assert r.status == status, r.status
    assert r.header("connection") == "close"
    assert c.closed_by_peer(timeout=3)
    assert echo.requests == []


def test_slow_and_idle_clients(lb, raw):
    echo, l = limits_lb(lb, raw)
    c = Conn(l.addr)
    c.send(b"GET / HTTP/1.1\r\nHo")  # never finishes its head
    t0 = time.monotonic()
    r = c.read()
    assert r.status == 408 and 0.3 < time.monotonic() - t0 < 1.5
    c = Conn(l.addr)
    assert c.request("GET", "/").status == 200
    t0 = time.monotonic()
    assert c.closed_by_peer(timeout=3)  # idle keep-alive ends quietly
    assert 0.3 < time.monotonic() - t0 < 1.5
    assert echo.requests and len(echo.requests) == 1


def test_pipelined_and_http10_clients(lb, backends):
    apps = backends(2)
    l = lb(*targets(*map(name, apps)))
    c = Conn(l.addr)
    c.send(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\nGET /load HTTP/1.1\r\nHost: a\r\n\r\n")
    assert c.read().body == b"OK\n"
    assert b"burned" in c.read().body
    c = Conn(l.addr)
    c.send(b"GET /health HTTP/1.0\r\n\r\n")
    r = c.read()
    assert r.status == 200 and r.header("connection") == "close"
    assert c.closed_by_peer()


def test_flags(tmp_path):
    import subprocess
    from conftest import BIN
    r = subprocess.run([BIN, "lb", "--target", "127.0.0.1:1", "--mode", "udp"],
                       capture_output=True, timeout=10)
    assert r.returncode == 2 and b"--mode" in r.stderr
    r = subprocess.run([BIN, "lb", "--target", "127.0.0.1:1", "--max-head-bytes", "99999"],
                       capture_output=True, timeout=10)
    assert r.returncode == 2 and b"--max-head-bytes" in r.stderr
    r = subprocess.run([BIN, "lb", "--help"], capture_output=True, timeout=10)
    assert r.returncode == 0 and b"--mode tcp|http" in r.stdout and b"p2c" in r.stdout
    r = subprocess.run([BIN, "lb", "--target", "127.0.0.1:1", "--hold-when-empty", "1s"],
                       capture_output=True, timeout=10)
    assert r.returncode == 2 and b"--mode http" in r.stderr


def test_hold_when_empty_serves_the_first_request(lb, backends, tmp_path):
    apps = backends(1)
    tf = tmp_path / "targets-web.json"
    write_targets(tf, [])  # a pool at zero
    l = lb("--targets-file", str(tf), "--check", "none", "--hold-when-empty", "3s",
           "--hold-max", "1")
    first = Conn(l.addr)
    first.send(b"GET /load HTTP/1.1\r\nHost: a\r\n\r\n")
    wait_until(lambda: metric(l.metrics(), "poolscale_lb_requests_held") == 1, "a request held")
    t0 = time.monotonic()
    assert Conn(l.addr).request("GET", "/load").status == 503  # over --hold-max: at once
    assert time.monotonic() - t0 < 1
    write_targets(tf, [name(apps[0])])  # the first member comes up
    r = first.read()
    assert r.status == 200 and served_by(r.body) == name(apps[0])
    text = l.metrics()
    assert metric(text, "poolscale_lb_requests_held") == 0
    assert metric(text, "poolscale_lb_requests_held_total") == 1
    write_targets(tf, [])
    wait_until(lambda: l.up(name(apps[0])) == 0, "back to zero")
    t0 = time.monotonic()
    assert Conn(l.addr).request("GET", "/load").status == 503  # nobody came in time
    assert 2.5 < time.monotonic() - t0 < 5
    assert metric(l.metrics(), "poolscale_lb_requests_held") == 0


def test_killed_backend_under_load(lb, backends):
    apps = backends(3, "--threads", "2")
    l = lb("--check", "tcp", "--check-interval", "300ms", "--check-timeout", "200ms",
           "--fall", "2", *targets(*map(name, apps)))
    results, stop = [], threading.Event()

    def loop():
        c, n = Conn(l.addr), 0
        while not stop.is_set() and n < 3000:
            n += 1
            try:
                results.append((time.monotonic(), c.request("GET", "/load?ms=1").status))
            except (OSError, ConnectionError) as e:
                results.append((time.monotonic(), repr(e)))
                c = Conn(l.addr)
    threads = [threading.Thread(target=loop) for _ in range(4)]
    for t in threads:
        t.start()
    wait_until(lambda: len(results) > 50, "load running", timeout=20)
    apps[0].expect_rc = -signal.SIGKILL
    t_kill = time.monotonic()
    apps[0].signal(signal.SIGKILL)
    wait_until(lambda: len([r for r in results if r[0] > t_kill + 1]) > 100, "load after the kill",
               timeout=30)
    stop.set()
    for t in threads:
        t.join(20)
    failed = [r for r in results if r[1] != 200]
    # Requests not yet sent went elsewhere; those in flight at the kill were
    # GETs, reset before any response byte: sent once more. Nobody sees it.
    assert failed == [], failed[:5]
    text = l.metrics()
    assert metric(text, "poolscale_lb_request_retries_total") + metric(
        text, "poolscale_lb_backend_connect_failures_total", {"backend": name(apps[0])}) >= 1
    assert metric(text, "poolscale_lb_requests_total", {"code": "5xx"}) == 0
    assert metric(text, "poolscale_lb_requests_total", {"code": "2xx"}) == len(results)
