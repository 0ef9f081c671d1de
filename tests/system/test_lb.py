"""`poolscale lb` in front of real `poolscale app` backends on loopback."""
import hashlib
import json
import random
import re
import signal
import socket
import threading
import time

import pytest

from conftest import Conn, Proc, get, metric, random_address_base, scaled, wait_until


class LB(Proc):
    def __init__(self, tmp_path, *args, name="lb"):
        super().__init__(["lb", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                          "--threads", "2", *args], tmp_path, name)
        m = self.wait_log(r"msg=listening addr=(\S+) metrics=(\S+)")
        h, p = m.group(1).rsplit(":", 1)
        self.addr = (h, int(p))
        h, p = m.group(2).rsplit(":", 1)
        self.maddr = (h, int(p))

    def metrics(self):
        return get(self.maddr, "/metrics").body.decode()

    def up(self, backend):
        return metric(self.metrics(), "poolscale_lb_backend_up", {"backend": backend})


@pytest.fixture
def lb(tmp_path):
    started = []

    def start(*args, name="lb"):
        p = LB(tmp_path, *args, name=name)
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
    """n apps on their own loopback addresses, port 8080, metrics off."""
    base = random_address_base().rsplit(".", 1)[0]

    def start(n, *extra):
        apps = []
        for i in range(n):
            a = start_app("--listen", f"{base}.{i + 1}:8080", "--metrics-listen", "off",
                          "--work-ms", "1", *extra, name=f"app{i + 1}")
            apps.append(a)
        return apps
    return start


def read_request(f, sock=None):
    """One request from a socket file: (head bytes, body bytes) or None at EOF.
    With sock, "Expect: 100-continue" is answered before the body is read."""
    head = b""
    while True:
        line = f.readline()
        if not line:
            return None
        head += line
        if line in (b"\r\n", b"\n"):
            break
    hdrs = {}
    for ln in head.split(b"\r\n")[1:]:
        if b":" in ln:
            k, v = ln.split(b":", 1)
            hdrs[k.strip().lower()] = v.strip()
    body = b""
    if sock is not None and hdrs.get(b"expect", b"").lower() == b"100-continue":
        sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    if hdrs.get(b"transfer-encoding") == b"chunked":
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                while f.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += f.read(size)
            f.readline()
    elif b"content-length" in hdrs:
        body = f.read(int(hdrs[b"content-length"]))
    return head, body


class RawBackend:
    """A keep-alive HTTP backend whose behaviour the test sets in .mode:
    echo (answers with the request head it got), reset (reads the request,
    closes with RST), garbage, partial (half a head, then RST), truncated
    (a head promising 100 bytes, 10 of them, then close), slow (waits
    .delay s; in echo mode GET /slow... does), chunked (a chunked answer of .size bytes), big (a
    Content-Length answer of .size bytes)."""

    def __init__(self, mode="echo"):
        self.mode, self.delay, self.size = mode, 2.0, 1 << 20
        self.gate = None    # a threading.Event: slow answers wait for it, not .delay
        self.requests = []
        self.conns = self.closed = 0
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(64)
        self.addr = "127.0.0.1:%d" % self.ls.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.stopped:
            try:
                s, _ = self.ls.accept()
            except OSError:
                return
            self.conns += 1
            threading.Thread(target=self.serve, args=(s,), daemon=True).start()

    def reset(self, s):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()

    def serve(self, s):
        f = s.makefile("rb")
        try:
            while True:
                req = read_request(f, s)
                if req is None:
                    break
                self.requests.append(req)
                mode = self.mode
                if mode == "reset":
                    return self.reset(s)
                if mode == "garbage":
                    s.sendall(b"SURPRISE\r\n\r\n")
                    return s.close()
                if mode == "partial":
                    s.sendall(b"HTTP/1.1 200 OK\r\nContent-Le")
                    time.sleep(0.1)
                    return self.reset(s)
                if mode == "truncated":
                    s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
                    time.sleep(0.1)
                    return s.close()
                if mode == "slow" or req[0].startswith(b"GET /slow"):
                    if self.gate is not None:
                        self.gate.wait(120)
                    else:
                        time.sleep(self.delay)
                if mode == "chunked":
                    data = b"c" * self.size
                    out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    for i in range(0, len(data), 4000):
                        piece = data[i:i + 4000]
                        out += b"%x\r\n%s\r\n" % (len(piece), piece)
                    s.sendall(out + b"0\r\n\r\n")
                    continue
                if mode == "big":
                    s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % self.size +
                              b"b" * self.size)
                    continue
                body = json.dumps({"head": req[0].decode("latin-1"), "addr": self.addr,
                                   "body_len": len(req[1])}).encode()
                s.sendall(b"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
                          b"Keep-Alive: timeout=5\r\nX-End: 2\r\nContent-Length: %d\r\n\r\n"
                          % len(body) + body)
        except OSError:
            pass
        finally:
            self.closed += 1
            try:
                s.close()
            except OSError:
                pass

    def close(self):
        self.stopped = True
        self.ls.close()


@pytest.fixture
def raw():
    made = []

    def make(mode="echo"):
        b = RawBackend(mode)
        made.append(b)
        return b
    yield make
    for b in made:
        b.close()


def served_by(body):
    return body.split(b" on ")[-1].strip().decode()


def write_targets(path, addrs):
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([{"targets": addrs, "labels": {"pool": "web"}}]))
    tmp.rename(path)


def name(app):
    return f"{app.addr[0]}:{app.addr[1]}"


def test_roundrobin_spreads_evenly(lb, backends):
    apps = backends(3)
    l = lb(*sum((["--target", name(a)] for a in apps), []))
    counts = {}
    for _ in range(60):
        r = get(l.addr, "/load")
        assert r.status == 200
        counts[served_by(r.body)] = counts.get(served_by(r.body), 0) + 1
    assert sorted(counts.values()) == [20, 20, 20], counts
    assert metric(l.metrics(), "poolscale_lb_connections_accepted_total") == 60


def test_leastconn_prefers_the_idle_backend(lb, backends):
    apps = backends(2, "--threads", "2")
    l = lb("--strategy", "leastconn", *sum((["--target", name(a)] for a in apps), []))
    slow = Conn(l.addr)
    slow.send(b"GET /load?ms=1500 HTTP/1.1\r\nHost: a\r\n\r\n")
    busy = wait_until(lambda: [b for b in map(name, apps) if metric(
        l.metrics(), "poolscale_lb_backend_active_connections", {"backend": b}) == 1],
        "one busy backend")[0]
    others = set()
    for _ in range(6):
        others.add(served_by(get(l.addr, "/load").body))
        # Let the LB see that one close, so the idle backend is idle again.
        wait_until(lambda: metric(l.metrics(), "poolscale_lb_connections_open") == 1,
                   "the short connection closed")
    assert others == {n for n in map(name, apps) if n != busy}
    assert served_by(slow.read().body) == busy


def test_health_ejects_and_restores(lb, backends):
    apps = backends(2)
    l = lb("--check", "http:/health", "--check-interval", "300ms", "--check-timeout", "200ms",
           "--fall", "3", "--rise", "2", *sum((["--target", name(a)] for a in apps), []))
    victim = name(apps[0])
    wait_until(lambda: l.up(victim) == 1, "victim up")
    apps[0].signal(signal.SIGSTOP)  # stops answering, connections hang
    t0 = time.monotonic()
    try:
        wait_until(lambda: l.up(victim) == 0, "victim ejected", timeout=5)
        ejected = time.monotonic() - t0
        assert ejected <= 3 * 0.3 + 0.2 + 0.5, ejected  # fall x interval + timeout + slack
        for _ in range(10):  # nothing new goes there
            assert served_by(get(l.addr, "/load").body) == name(apps[1])
    finally:
        apps[0].signal(signal.SIGCONT)
    t1 = time.monotonic()
    wait_until(lambda: l.up(victim) == 1, "victim back", timeout=5)
    assert time.monotonic() - t1 <= 2 * 0.3 + 0.5
    assert metric(l.metrics(), "poolscale_lb_backend_health_transitions_total",
                  {"backend": victim}) == 2
    assert "backend down" in l.logtext() and "backend up" in l.logtext()


def test_targets_file_followed_and_bad_file_ignored(lb, backends, tmp_path):
    apps = backends(3)
    tf = tmp_path / "targets-web.json"
    write_targets(tf, [name(apps[0])])
    l = lb("--targets-file", str(tf), "--check", "none")
    assert {served_by(get(l.addr, "/load").body) for _ in range(4)} == {name(apps[0])}
    write_targets(tf, [name(a) for a in apps])
    wait_until(lambda: {served_by(get(l.addr, "/load").body) for _ in range(6)} ==
               set(map(name, apps)), "three backends")
    write_targets(tf, [name(apps[2])])
    wait_until(lambda: {served_by(get(l.addr, "/load").body) for _ in range(3)} ==
               {name(apps[2])}, "one backend left")
    tf.write_text('[{"targets": ["not an address"]}]')
    wait_until(lambda: "bad targets file" in l.logtext(), "the bad file noticed")
    assert {served_by(get(l.addr, "/load").body) for _ in range(3)} == {name(apps[2])}
    tf.write_text("[]")
    wait_until(lambda: l.up(name(apps[2])) == 0, "empty set")


def test_drain_finishes_requests_on_a_removed_backend(lb, raw, tmp_path):
    # Sleeping backends: requests stay in flight without needing CPU, which
    # a loaded machine may not give in time.
    bs = [raw("echo"), raw("echo")]
    tf = tmp_path / "targets-web.json"
    write_targets(tf, [b.addr for b in bs])
    # The drain allowance must outlast the slow requests on a loaded
    # machine; the lb cutting one short is the bug guarded.
    drain_s = scaled(10)
    l = lb("--targets-file", str(tf), "--check", "none", "--drain-timeout", f"{drain_s:.0f}s")
    # Long requests on both, then one backend leaves the set.
    slow = [Conn(l.addr) for _ in range(4)]
    for c in slow:
        c.send(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
    wait_until(lambda: len(bs[0].requests) + len(bs[1].requests) == 4, "4 in flight",
               timeout=5)
    results, stop = [], threading.Event()

    def loop():
        n = 0
        while not stop.is_set() and n < 500:
            n += 1
            try:
                results.append(get(l.addr, "/x").status)
            except OSError as e:
                results.append(repr(e))
    t = threading.Thread(target=loop, daemon=True)
    t.start()
    write_targets(tf, [bs[1].addr])
    wait_until(lambda: l.up(bs[0].addr) == 0, "backend 0 removed", timeout=5)
    removed_at = len(results)
    served = [json.loads(c.read(timeout=scaled(10)).body)["addr"] for c in slow]
    assert bs[0].addr in served  # a request in flight there completed
    # The load goes on a little after the removal (or to its 500), all answered.
    wait_until(lambda: len(results) >= min(500, removed_at + 20), "requests after the removal",
               timeout=10)
    stop.set()
    t.join(scaled(20))
    assert results and all(r == 200 for r in results), results[:5]


def test_killed_backend_only_fails_its_connections(lb, backends):
    apps = backends(3, "--threads", "2")
    l = lb("--check", "tcp", "--check-interval", "300ms", "--check-timeout", "200ms",
           "--fall", "3", *sum((["--target", name(a)] for a in apps), []))
    results, stop = [], threading.Event()

    def loop():
        n = 0
        while not stop.is_set() and n < 3000:
            n += 1
            try:
                results.append((time.monotonic(), get(l.addr, "/load?ms=2").status))
            except (OSError, ConnectionError) as e:
                results.append((time.monotonic(), repr(e)))
    threads = [threading.Thread(target=loop) for _ in range(4)]
    for t in threads:
        t.start()
    wait_until(lambda: len(results) > 50, "load running")
    apps[0].expect_rc = -signal.SIGKILL
    t_kill = time.monotonic()
    apps[0].signal(signal.SIGKILL)
    wait_until(lambda: len([r for r in results if r[0] > t_kill + 0.2]) > 100, "load after the kill",
               timeout=20)
    stop.set()
    for t in threads:
        t.join(20)
    failed = [r for r in results if r[1] != 200]
    # At most the 4 connections in flight at the kill; none after it.
    assert len(failed) <= 4, failed
    assert all(ts < t_kill + 0.2 for ts, _ in failed), failed
    # With --fall 3 the dead backend stays eligible for at least two check
    # intervals (600 ms), while about a third of hundreds of new connections
    # a second go to it: their connects fail and are counted, per backend.
    assert metric(l.metrics(), "poolscale_lb_backend_connect_failures_total",
                  {"backend": name(apps[0])}) >= 1
    for a in apps[1:]:
        assert metric(l.metrics(), "poolscale_lb_backend_connect_failures_total",
                      {"backend": name(a)}) == 0


def test_no_backend_refused_promptly_and_max_conns(lb, backends):
    apps = backends(1)
    l = lb("--check", "tcp", "--check-interval", "200ms", "--check-timeout", "100ms",
           "--fall", "1", "--max-conns", "2", "--target", name(apps[0]))
    held = [Conn(l.addr), Conn(l.addr)]
    wait_until(lambda: metric(l.metrics(), "poolscale_lb_connections_open") == 2, "2 open")
    third = Conn(l.addr)
    t0 = time.monotonic()
    assert third.closed_by_peer(timeout=2) and time.monotonic() - t0 < 1
    for c in held:
        assert c.request("GET", "/health").status == 200
        c.close()
    apps[0].finish()  # SIGTERM: the only backend goes away
    wait_until(lambda: l.up(name(apps[0])) == 0, "backend down", timeout=5)
    c = Conn(l.addr)
    t0 = time.monotonic()
    assert c.closed_by_peer(timeout=2) and time.monotonic() - t0 < 1
    assert metric(l.metrics(), "poolscale_lb_connections_refused_total") >= 2


def refused(addr):
    """True when a connection to addr is refused (a timeout on a loaded
    machine is no answer: False, ask again)."""
    try:
        socket.create_connection(addr, timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def idle_and_busy(lb, raw):
    """For the stop tests: a backend whose GET /slow waits for its .gate, a
    balancer (lb: either mode's fixture) in front, a keep-alive connection
    that served one request, and one whose /slow request is at the backend."""
    b = raw("echo")
    b.gate = threading.Event()
    l = lb("--check", "none", "--target", b.addr, "--drain-timeout", "60s")
    idle = Conn(l.addr)
    assert idle.request("GET", "/x").status == 200
    busy = Conn(l.addr)
    busy.send(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
    wait_until(lambda: len(b.requests) == 2, "the slow request at the backend")
    return b, l, idle, busy


def test_sigterm_lets_open_connections_finish(lb, raw):
    """On SIGTERM the TCP mode stops taking connections (refused, not
    queued) and relays what is open until a side closes it, then exits 0:
    a balancer stopped or scaled in cuts no response short."""
    b, l, idle, busy = idle_and_busy(lb, raw)
    l.signal(signal.SIGTERM)
    l.wait_log(r"msg=\"finishing open connections\" in_flight=0 open=2")
    wait_until(lambda: refused(l.addr), "new connections refused", timeout=scaled(5),
               every=0.05)
    # Its main loop goes on meanwhile, and a SIGHUP is no second signal.
    # (A probe above may have gone through before the listener closed:
    # it is closed but may take a moment to be seen closed.)
    wait_until(lambda: metric(l.metrics(), "poolscale_lb_connections_open") == 2, "2 open")
    l.signal(signal.SIGHUP)
    # Both connections still carry bytes both ways.
    assert idle.request("GET", "/y").status == 200
    idle.close()
    wait_until(lambda: metric(l.metrics(), "poolscale_lb_connections_open") == 1,
               "the idle connection gone")
    assert l.p.poll() is None      # the slow one is still open
    b.gate.set()
    r = busy.read(timeout=scaled(10))
    assert r.status == 200 and b"/slow" in r.body
    busy.close()
    assert l.p.wait(scaled(10)) == 0
    text = l.logtext()
    assert "open connections finished" in text and "second signal" not in text


def serves_queued_at_stop(lb, raw):
    """For the stop tests: connections the kernel had queued on the
    listener when the stop came are answered, not reset, many more than
    one accept batch (32 a worker). The balancer (either mode's fixture) is
    frozen (SIGSTOP) while they connect and send, so they are all still in
    the queue when it wakes to the SIGTERM."""
    b = raw("echo")
    l = lb("--check", "none", "--target", b.addr, "--drain-timeout", "60s")
    n = 300
    conns = []
    l.signal(signal.SIGSTOP)
    try:
        for i in range(n):
            c = Conn(l.addr, timeout=scaled(10))
            c.send(b"GET /q%d HTTP/1.1\r\nHost: a\r\n\r\n" % i)
            conns.append(c)
        l.signal(signal.SIGTERM)
    finally:
        l.signal(signal.SIGCONT)
    bad = []
    for i, c in enumerate(conns):
        try:
            r = c.read(timeout=scaled(10))
            if r.status != 200 or b"/q%d " % i not in r.body:
                bad.append((i, r.status))
        except OSError as e:
            bad.append((i, repr(e)))
        c.close()
    assert not bad, f"{len(bad)} of {n} queued connections not served: {bad[:5]}"
    assert l.p.wait(scaled(20)) == 0


def test_sigterm_serves_every_queued_connection(lb, raw):
    serves_queued_at_stop(lb, raw)


def test_sigterm_cuts_what_outlasts_the_drain_timeout(lb, raw):
    b = raw("echo")
    l = lb("--check", "none", "--target", b.addr, "--drain-timeout", "1s")
    c = Conn(l.addr)
    assert c.request("GET", "/x").status == 200
    t0 = time.monotonic()
    l.signal(signal.SIGTERM)
    assert c.closed_by_peer(timeout=scaled(10))
    assert time.monotonic() - t0 >= 0.9    # not before the timeout
    l.expect_rc = 1                         # something was cut
    assert l.p.wait(scaled(10)) == 1
    assert "drain timeout: closing what is left" in l.logtext()


def test_bad_flags(tmp_path):
    import subprocess
    from conftest import BIN
    r = subprocess.run([BIN, "lb", "--listen", "127.0.0.1:0"], capture_output=True, timeout=10)
    assert r.returncode == 2 and b"--targets-file" in r.stderr
    r = subprocess.run([BIN, "lb", "--target", "127.0.0.1:1", "--strategy", "random"],
                       capture_output=True, timeout=10)
    assert r.returncode == 2 and b"--strategy" in r.stderr
    r = subprocess.run([BIN, "lb", "--help"], capture_output=True, timeout=10)
    assert r.returncode == 0 and b"--drain-timeout" in r.stdout


def test_tcp_half_close_passes_both_ways(lb):
    """A FIN is passed on and the other way stays open (TCP mode): the
    client shuts its sending side and still gets the backend's answer, and
    a backend that shuts its sending side first still gets what the client
    sends after; each side sees its peer's end of stream exactly once."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    got = []

    def serve():
        for _ in range(2):
            c, _ = srv.accept()
            first = c.recv(64)
            if first == b"client-done":     # echo until EOF, then answer
                data = first
                while (more := c.recv(64)):
                    data += more
                c.sendall(b"saw " + data)
            else:                           # answer, shut, keep reading
                c.sendall(b"early")
                c.shutdown(socket.SHUT_WR)
                data = first
                while (more := c.recv(64)):
                    data += more
                got.append(data)
            c.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    l = lb("--target", "127.0.0.1:%d" % srv.getsockname()[1], "--check", "none")

    def read_all(s):
        out = b""
        while (chunk := s.recv(64)):
            out += chunk
        return out
    a = socket.create_connection(l.addr, timeout=10)
    a.sendall(b"client-done")
    a.shutdown(socket.SHUT_WR)
    assert read_all(a) == b"saw client-done"
    a.close()
    b = socket.create_connection(l.addr, timeout=10)
    b.sendall(b"hello")
    assert read_all(b) == b"early"      # the backend's FIN reached us...
    b.sendall(b" after")                # ...and our way is still open
    b.shutdown(socket.SHUT_WR)
    t.join(10)
    b.close()
    srv.close()
    assert got == [b"hello after"]


def test_tcp_streams_pass_whole_through_full_buffers(lb):
    """Bytes pass intact both ways whatever their size (at, just over, and
    many times the lb's 16 KiB buffers) and with a client that reads slower
    than the backend echoes (backpressure), on several connections at once.
    The relay is edge-triggered: a side left with bytes when its buffer
    filled gets no second report, so a lost one shows here as a stall."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)

    def echo(c):
        with c:
            while (d := c.recv(65536)):
                c.sendall(d)
            c.shutdown(socket.SHUT_WR)

    def accept():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=echo, args=(c,), daemon=True).start()
    threading.Thread(target=accept, daemon=True).start()
    l = lb("--target", "127.0.0.1:%d" % srv.getsockname()[1], "--check", "none")
    results = {}

    def one(key, size, slow):
        data = random.Random(size).randbytes(size)
        s = socket.create_connection(l.addr, timeout=scaled(30))
        got = bytearray()

        def read():
            while (d := s.recv(4096 if slow else 65536)):
                got.extend(d)
                if slow and len(got) % (64 << 10) < 4096:
                    time.sleep(0.01)
        r = threading.Thread(target=read)
        r.start()
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        r.join(scaled(60))
        s.close()
        results[key] = (len(got), hashlib.sha256(got).digest() == hashlib.sha256(data).digest())
    cases = [(n, False) for n in (1, 16384, 16385, 8 << 20)] + [(2 << 20, True)] * 2 + \
        [(3 << 20, False)] * 4
    ts = [threading.Thread(target=one, args=(i, n, slow)) for i, (n, slow) in enumerate(cases)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(scaled(90))
    srv.close()
    assert results == {i: (n, True) for i, (n, _) in enumerate(cases)}, results


def test_tcp_client_reset_after_its_fin_closes_both_sides(lb):
    """A client that sends its FIN and then resets (SO_LINGER 0) while the
    backend is silent: the connection is closed at once, both sides, and
    counted as failed (an EPOLLERR on a side at EOF was never read, so the
    worker spun on it until the backend spoke)."""
    import struct
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    l = lb("--target", "127.0.0.1:%d" % srv.getsockname()[1], "--check", "none")
    a = socket.create_connection(l.addr, timeout=10)
    b, _ = srv.accept()                  # the backend side, silent
    a.sendall(b"x")
    a.shutdown(socket.SHUT_WR)
    assert b.recv(1) == b"x" and b.recv(1) == b""    # FIN passed on
    a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    a.close()                            # RST
    wait_until(lambda: metric(l.metrics(), "poolscale_lb_connections_open") == 0,
               "the reset connection closed", 5)
    b.settimeout(10)
    assert b.recv(1) == b""              # the backend side closed too
    assert metric(l.metrics(), "poolscale_lb_connections_failed_total") >= 1
    b.close()
    srv.close()
