"""Helpers for system tests: start real poolscale processes on loopback,
talk raw HTTP to them, wait on conditions with deadlines, stop by pid."""
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import threading
import time
from functools import lru_cache

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("POOLSCALE_BIN", os.path.join(ROOT, "build", "poolscale"))


def pytest_configure(config):
    config.addinivalue_line("markers", "package: builds the .deb from source "
                            "(not the binary under test)")
    config.addinivalue_line("markers", "slow_e2e: a long load-driven scenario, run once in "
                            "the plain pass; the ASan pass covers its code in shorter tests")


@lru_cache(maxsize=None)
def asan_build():
    """True when BIN carries the ASan runtime (make SAN=1)."""
    try:
        with open(BIN, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def slowdown():
    """How many times longer than on an idle machine a deadline should
    allow: the CPU oversubscription (1-minute load average per core, at
    least 1: a process then gets 1/that of a core) times 3 under ASan (its
    usual 2-3x cost). Capped at 10 so a runaway machine
    still fails in bounded time."""
    per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    return min(10.0, max(1.0, per_core)) * (3.0 if asan_build() else 1.0)


def scaled(seconds):
    """A deadline of `seconds` on an idle machine, scaled by slowdown()."""
    return seconds * slowdown()


def wait_until(pred, what, timeout=5.0, every=0.02):
    """pred()'s first true value, polled every `every` s. `timeout` is the
    deadline on an idle machine: it is scaled by slowdown(), so a loaded
    machine or an ASan build gets the time it needs (a test that means
    "quickly" asserts that itself, on a measured time)."""
    limit = timeout * slowdown()
    end = time.monotonic() + limit
    while True:
        v = pred()
        if v:
            return v
        assert time.monotonic() < end, f"no {what} after {limit:.1f}s ({timeout}s scaled)"
        time.sleep(every)


class Proc:
    """A poolscale process whose stderr goes to a file; stopped by pid."""

    def __init__(self, args, tmp_path, name="proc"):
        self.log_path = tmp_path / f"{name}.log"
        self.log = open(self.log_path, "wb")
        self.p = subprocess.Popen([BIN] + args, stdout=self.log, stderr=self.log,
                                  stdin=subprocess.DEVNULL)
        self.pid = self.p.pid
        self.expect_rc = 0  # what finish() accepts; a test that kills it says so

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
        assert self.p.returncode == self.expect_rc, f"exit {self.p.returncode}:\n{text}"


class App(Proc):
    def __init__(self, tmp_path, *extra, name="app"):
        super().__init__(["app", "--listen", "127.0.0.1:0",
                          "--metrics-listen", "127.0.0.1:0", *extra], tmp_path, name)
        m = self.wait_log(r"msg=listening addr=(\S+) metrics=(\S+)")
        host, port = m.group(1).rsplit(":", 1)
        self.addr = (host, int(port))
        self.maddr = None
        if m.group(2) != "off":
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

    def read(self, timeout=10.0):
        return read_response(self, timeout=timeout)

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


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_json(method, url, body=None, token=None, timeout=10):
    """(status, parsed JSON or text) of one request."""
    import json
    import urllib.error
    import urllib.request
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method)
    if body is not None and not isinstance(body, bytes):
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def hold(address, port, ms):
    """A /load?ms=MS request that keeps a member busy for a while, in the
    background (the app caps ms at 10000)."""
    import urllib.request

    def run():
        try:
            urllib.request.urlopen(f"http://{address}:{port}/load?ms={ms}", timeout=60).read()
        except OSError:
            pass        # its member went: what such a test is about
    threading.Thread(target=run, daemon=True).start()


def random_address_base():
    """A loopback /24 of its own for each test, away from the demo's 127.0.1.x."""
    import random
    return f"127.{random.randint(20, 250)}.{random.randint(0, 255)}.1"


def processes(match):
    """(pid, command line) of live processes whose command line match() accepts."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{d}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and match(cmd):
            found.append((int(d), cmd))
    return found


def processes_on(address_prefix):
    """pids of app instances whose command line mentions address_prefix."""
    return [pid for pid, _ in processes(lambda cmd: address_prefix in cmd and " app " in cmd)]


class Controller(Proc):
    def __init__(self, tmp_path, config_path, *extra, name="controller"):
        self.config_path = config_path
        super().__init__(["controller", "--config", str(config_path), *extra], tmp_path, name)
        m = self.wait_log(r"msg=started api=(\S+)")
        self.api = "http://" + m.group(1)


def controller_config(tmp_path, base, **over):
    """Writes a controller config for a fast local pool; returns its path."""
    cfg = {
        "min": 1, "max": 5, "initial": 1, "interval": "1s",
        "health_interval": "300ms", "health_timeout": "250ms", "fails": 2,
        "drain_timeout": "10s", "kill_grace": "3s",
        "vcpu": 0.5, "work_ms": 10, "boot_delay": "300ms", "token_file": None,
        "listen": "127.0.0.1:0", "extra": "",
    }
    cfg.update(over)
    text = f"""pool: web
min: {cfg['min']}
max: {cfg['max']}
initial: {cfg['initial']}
interval: {cfg['interval']}
state_dir: state
health:
  interval: {cfg['health_interval']}
  timeout: {cfg['health_timeout']}
  fails: {cfg['fails']}
drain:
  timeout: {cfg['drain_timeout']}
  kill_grace: {cfg['kill_grace']}
provider:
  kind: local
  local:
    address_base: {base}
    vcpu: {cfg['vcpu']}
    work_ms: {cfg['work_ms']}
    boot_delay: {cfg['boot_delay']}
api:
  listen: {cfg['listen']}
"""
    if cfg["token_file"]:
        text += f"  bearer_token_file: {cfg['token_file']}\n"
    text += cfg["extra"]
    path = tmp_path / "poolscale.yml"
    path.write_text(text)
    return path


@pytest.fixture
def pool(tmp_path):
    """Starts controllers on a pool of their own; at the end stops them
    (SIGTERM, exit 0) and destroys the pool, checking no instance is left."""
    started = []
    state = {"base": random_address_base(), "config": None}

    def start(*extra, name="controller", **over):
        if state["config"] is None or over:
            state["config"] = controller_config(tmp_path, state["base"], **over)
        c = Controller(tmp_path, state["config"], *extra, name=name)
        started.append(c)
        return c
    start.base = state["base"]
    start.prefix = state["base"].rsplit(".", 1)[0] + "."
    start.state = state
    yield start
    errors = []
    for c in started:
        try:
            c.finish()
        except AssertionError as e:
            errors.append(str(e))
    if state["config"] is not None:
        r = subprocess.run([BIN, "pool", "destroy", "--config", str(state["config"])],
                           capture_output=True, timeout=60)
        if r.returncode != 0:
            errors.append(f"pool destroy: {r.stderr.decode()}")
        left = processes_on(start.prefix)
        if left:
            errors.append(f"instances left after pool destroy: {left}")
    assert not errors, "\n".join(errors)


def terminate(p):
    """SIGTERM, then SIGKILL if it lingers: for the real servers we start."""
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def fast_rules(tmp_path):
    """The deployed alert rules with test timings: the same expressions and
    thresholds, a 5 s rate window and `for: 2s` instead of 1m."""
    text = (pathlib.Path(ROOT) / "deploy/prometheus/rules/poolscale.yml").read_text()
    assert "[1m]" in text and "for: 1m" in text
    path = tmp_path / "rules.yml"
    path.write_text(text.replace("[1m]", "[5s]").replace("for: 1m", "for: 2s"))
    return path


class Prometheus:
    """The real Prometheus from Debian, scraping file_sd targets."""

    def __init__(self, tmp_path, sd_file, job="pool", rules=None, alertmanager=None, port=None,
                 static=None):
        import shutil
        exe = shutil.which("prometheus") or "/usr/bin/prometheus"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cfg = tmp_path / "prometheus.yml"
        text = f"""global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
  - job_name: {job}
    file_sd_configs:
      - files: ["{sd_file}"]
"""
        if static:   # job "static": fixed targets, e.g. a balancer's metrics
            text += f"""  - job_name: static
    static_configs:
      - targets: {json.dumps(list(static))}
"""
        if rules:
            text += f'rule_files: ["{rules}"]\n'
        if alertmanager:
            text += f"""alerting:
  alertmanagers:
    - static_configs:
        - targets: ["{alertmanager}"]
"""
        cfg.write_text(text)
        self.log = open(tmp_path / "prometheus.log", "ab")
        self.p = subprocess.Popen([exe, f"--config.file={cfg}",
                                   f"--storage.tsdb.path={tmp_path / 'prom-data'}",
                                   f"--web.listen-address=127.0.0.1:{self.port}"],
                                  stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        wait_until(lambda: self._ready(), "Prometheus ready", timeout=30, every=0.1)

    def _ready(self):
        assert self.p.poll() is None, "prometheus exited"
        try:
            return http_json("GET", self.url + "/-/ready", timeout=1)[0] == 200
        except OSError:
            return False

    def value(self, expr):
        """The single value of an instant query, or None when empty."""
        import urllib.parse
        st, body = http_json("GET", self.url + "/api/v1/query?" +
                             urllib.parse.urlencode({"query": expr}))
        assert st == 200 and body["status"] == "success", body
        res = body["data"]["result"]
        return float(res[0]["value"][1]) if res else None

    def stop(self):
        terminate(self.p)
        self.log.close()


@pytest.fixture
def prometheus(tmp_path):
    started = []

    def start(sd_file, job="pool", **kw):
        p = Prometheus(tmp_path, sd_file, job, **kw)
        started.append(p)
        return p
    yield start
    for p in started:
        p.stop()


class Alertmanager:
    """The real Alertmanager from Debian, with the deployed routing config
    pointed at a controller and given test timings."""

    def __init__(self, tmp_path, webhook_url):
        import shutil
        exe = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
        text = (pathlib.Path(ROOT) / "deploy/alertmanager/alertmanager.yml").read_text()
        for a, b in (("http://127.0.0.1:9900/api/v1/alerts", webhook_url),
                     ("group_interval: 1m", "group_interval: 1s"),
                     ("repeat_interval: 1m", "repeat_interval: 2s")):
            assert a in text
            text = text.replace(a, b)
        cfg = tmp_path / "alertmanager.yml"
        cfg.write_text(text)
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.log = open(tmp_path / "alertmanager.log", "wb")
        self.p = subprocess.Popen([exe, f"--config.file={cfg}",
                                   f"--storage.path={tmp_path / 'am-data'}",
                                   f"--web.listen-address={self.addr}",
                                   "--cluster.listen-address="],
                                  stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)

        def ready():
            assert self.p.poll() is None, "alertmanager exited"
            try:
                return http_json("GET", f"http://{self.addr}/-/ready", timeout=1)[0] == 200
            except OSError:
                return False
        wait_until(ready, "Alertmanager ready", timeout=30, every=0.1)

    def stop(self):
        terminate(self.p)
        self.log.close()


@pytest.fixture
def alertmanager(tmp_path):
    started = []

    def start(webhook_url):
        a = Alertmanager(tmp_path, webhook_url)
        started.append(a)
        return a
    yield start
    for a in started:
        a.stop()


class LoadLoop:
    """Bounded CPU load sent straight at the pool's members: threads that
    read the web targets file and GET /load on them round robin, paced to
    `rate` requests/s in all (open loop), until stopped, `seconds` pass or
    `max_requests` were sent. Failures are kept."""

    def __init__(self, targets_file, rate, ms, seconds=120, max_requests=20000, threads=16):
        import queue
        self.targets_file = targets_file
        self.ms = ms
        self.rate = rate
        self.end = time.monotonic() + seconds
        self.max_requests = max_requests
        self.sent = 0
        self.ok = 0
        self.failures = []
        self.stopped = threading.Event()
        self.q = queue.Queue()
        self.workers = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]
        self.pacer = threading.Thread(target=self._pace, daemon=True)
        for w in self.workers:
            w.start()
        self.pacer.start()

    def _targets(self):
        import json
        try:
            groups = json.loads(pathlib.Path(self.targets_file).read_text())
        except (OSError, ValueError):
            return []
        return sorted(t for g in groups for t in g["targets"])

    def _pace(self):
        t0 = time.monotonic()
        n = 0
        while not self.stopped.is_set() and time.monotonic() < self.end and n < self.max_requests:
            due = t0 + n / self.rate
            delay = due - time.monotonic()
            if delay > 0:
                self.stopped.wait(delay)
                continue
            self.q.put(n)
            n += 1
        for _ in self.workers:
            self.q.put(None)

    def _work(self):
        while True:
            n = self.q.get()
            # Once stopped, what is still queued is dropped: on a busy machine
            # the queue runs minutes behind, and draining it kept the load on
            # long after stop() (a test then saw the pool react to it).
            if n is None or self.stopped.is_set():
                return
            targets = self._targets()
            if not targets:
                continue
            host, port = targets[n % len(targets)].rsplit(":", 1)
            self.sent += 1
            try:
                c = Conn((host, int(port)), timeout=30)
            except OSError:
                continue  # never sent: not a failed request
            try:
                r = c.request("GET", f"/load?ms={self.ms}")
                if r.status == 200:
                    self.ok += 1
                else:
                    self.failures.append(r.status)
            except Exception as e:  # noqa: BLE001 - recorded
                self.failures.append(repr(e))
            finally:
                c.close()

    def stop(self):
        self.stopped.set()
        self.pacer.join(10)
        for w in self.workers:
            w.join(40)
