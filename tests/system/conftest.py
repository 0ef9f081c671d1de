"""Helpers for system tests: start real poolscale processes on loopback,
talk raw HTTP to them, wait on conditions with deadlines, stop by pid."""
import os
import re
import signal
import socket
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("POOLSCALE_BIN", os.path.join(ROOT, "build", "poolscale"))


def wait_until(pred, what, timeout=5.0, every=0.02):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        assert time.monotonic() < end, f"no {what} after {timeout}s"
        time.sleep(every)


class Proc:
    """A poolscale process whose stderr goes to a file; stopped by pid."""

    def __init__(self, args, tmp_path, name="proc"):
        self.log_path = tmp_path / f"{name}.log"
        self.log = open(self.log_path, "wb")
        self.p = subprocess.Popen([BIN] + args, stdout=self.log, stderr=self.log,
                                  stdin=subprocess.DEVNULL)
        self.pid = self.p.pid

    def logtext(self):
        return self.log_path.read_text(errors="replace")

    def wait_log(self, pattern, timeout=5.0):
        rx = re.compile(pattern)

        def found():
            if self.p.poll() is not None:
                raise AssertionError(f"exited {self.p.returncode}:\n{self.logtext()}")
            return rx.search(self.logtext())
        return wait_until(found, f"log line /{pattern}/", timeout)

    def signal(self, sig):
        os.kill(self.pid, sig)

    def wait_exit(self, timeout=10.0):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"pid {self.pid} still running after {timeout}s")

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self.log.close()

    def finish(self):
        """Stops it the way an operator would (SIGTERM) and checks it left
        cleanly: exit 0, and no sanitizer report (leaks exit non-zero)."""
        if self.p.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.stop()
                raise AssertionError(f"pid {self.pid} ignored SIGTERM:\n{self.logtext()}")
        self.log.close()
        text = self.logtext()
        for bad in ("Sanitizer", "runtime error:"):
            assert bad not in text, text
        assert self.p.returncode == 0, f"exit {self.p.returncode}:\n{text}"


class App(Proc):
    def __init__(self, tmp_path, *extra, name="app"):
        super().__init__(["app", "--listen", "127.0.0.1:0",
                          "--metrics-listen", "127.0.0.1:0", *extra], tmp_path, name)
        m = self.wait_log(r"msg=listening addr=(\S+) metrics=(\S+)")
        host, port = m.group(1).rsplit(":", 1)
        self.addr = (host, int(port))
        mhost, mport = m.group(2).rsplit(":", 1)
        self.maddr = (mhost, int(mport))


@pytest.fixture
def start_app(tmp_path):
    started = []

    def start(*extra, name="app"):
        a = App(tmp_path, *extra, name=name)
        started.append(a)
        return a
    yield start
    errors = []
    for a in started:
        try:
            a.finish()
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n".join(errors)


class Response:
    def __init__(self, status, reason, headers, body):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def header(self, name):
        return self.headers.get(name.lower())


def read_response(conn, head_request=False, timeout=10.0):
    """Reads one HTTP/1.1 response (Content-Length framed) from a Conn."""
    sock = conn.s
    sock.settimeout(timeout)
    data = conn.pending
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a full head: {data!r}")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    _, status, reason = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    n = 0 if head_request else int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside a body")
        rest += chunk
    conn.pending = rest[n:]
    return Response(int(status), reason, headers, rest[:n])


class Conn:
    def __init__(self, addr, timeout=10.0):
        self.s = socket.create_connection(addr, timeout=timeout)
        self.pending = b""

    def send(self, raw):
        self.s.sendall(raw)

    def request(self, method, path, headers=None, body=b""):
        h = {"Host": "test"}
        h.update(headers or {})
        if body:
            h["Content-Length"] = str(len(body))
        raw = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
        self.s.sendall(raw.encode() + b"\r\n" + body)
        return read_response(self, head_request=(method == "HEAD"))

    def read(self):
        return read_response(self)

    def closed_by_peer(self, timeout=5.0):
        """True when the server closed the connection within timeout."""
        self.s.settimeout(timeout)
        try:
            data = self.pending or self.s.recv(1)
            return data == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


def get(addr, path, **kw):
    c = Conn(addr)
    try:
        return c.request("GET", path, **kw)
    finally:
        c.close()


def metric(text, name, labels=None):
    """The value of one sample in a Prometheus text page, or None."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        if labels:
            have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
            if any(have.get(k) != v for k, v in labels.items()):
                continue
        return float(m.group(3))
    return None
