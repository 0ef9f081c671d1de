"""A real etcd cluster on loopback for system tests (issue 19: the
controllers' leader election and state live in etcd).

Debian's etcd-server (3.4) runs N members, each on its own loopback address
(127.A.B.1, .2, .3 of a random base, so no two tests and no default
2379/2380 listener clash), with kernel-chosen free client and peer ports,
its data dir and its log under tmp_path. Members are killed, stopped and
restarted by pid; deadlines go through conftest's scaled()/wait_until.

Use the `etcd_cluster` fixture (a started 3-member cluster, always stopped
at the end) by importing it into a test module:

    from etcd_cluster import etcd_cluster  # noqa: F401  (pytest fixture)

or build EtcdCluster(tmp_path, n) yourself and stop() it in a finally.
`etcd_cluster_tls` (EtcdCluster(tls=True)) is the same over TLS with client
certificates, as deployed (deploy/terraform/exoscale-ha); enable_auth()
turns on etcd's users and roles (ha.username, ha.password_file).

Timing flags are etcd's defaults, passed explicitly: heartbeat 100 ms,
election timeout 1000 ms. These are the timings the reference measured
(shared/reference/etcd-v3-gateway.md: writes resume about 1.4 s after the
etcd leader dies; a request in flight then hangs 7 s server-side; minimum
lease TTL 2 s). Shorter ones would make failover tests faster but, on a
2-core machine under a stress run, a member starved for a few hundred ms
would start spurious elections, which a controller test would then see as
etcd outages it did not inject. --pre-vote is on (3.5's default) so a
member that was cut off does not force a new election when it returns.
"""
import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import random_address_base, scaled, wait_until

# urllib honours http_proxy; etcd is on loopback, never behind a proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def etcd_binary():
    """The etcd server; a clear failure (not a skip) when it is missing:
    CI must run these tests, and scripts/deps installs it."""
    exe = os.environ.get("POOLSCALE_ETCD") or shutil.which("etcd") or "/usr/bin/etcd"
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        pytest.fail(f"etcd is not installed ({exe} missing): scripts/deps installs it "
                    "(Debian package etcd-server)")
    return exe


def free_port_on(host):
    """A port the kernel says is free on host (never 2379/2380: the
    kernel picks from its ephemeral range)."""
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def b64(text):
    """etcd's gateway wants keys and values as padded standard base64."""
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def tls_opener(ca_file, cert=None):
    """An opener that trusts ca_file and presents cert (certificate, key)."""
    ctx = ssl.create_default_context(cafile=str(ca_file))
    if cert is not None:
        ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    return urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                       urllib.request.HTTPSHandler(context=ctx))


def request(url, body=None, timeout=2.0, opener=None, token=None):
    """(HTTP status, parsed JSON or text) of a POST with a JSON body (GET
    when body is None); (None, reason) when the request timed out or the
    connection failed, as it does to a dead member or without quorum.
    token: an etcd auth token, sent as etcd wants it (no "Bearer ")."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", token)
    try:
        with (opener or _OPENER).open(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except (OSError, socket.timeout) as e:  # URLError, refused, timed out
        return None, repr(e)
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


class Member:
    def __init__(self, index, address, root, scheme):
        self.index = index
        self.name = f"m{index + 1}"
        self.address = address
        self.client_port = free_port_on(address)
        self.peer_port = free_port_on(address)
        while self.peer_port == self.client_port:
            self.peer_port = free_port_on(address)
        self.client_url = f"{scheme}://{address}:{self.client_port}"
        self.peer_url = f"{scheme}://{address}:{self.peer_port}"
        self.data_dir = root / f"{self.name}.etcd"
        self.log_path = root / f"{self.name}.log"
        self.proc = None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines=30):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class EtcdCluster:
    """n etcd members on loopback; see the module's docstring.

    tls=True: TLS for clients and between members, with a CA of the test's
    own (tests/system/pki.py), clients admitted only with a certificate
    from it (--client-cert-auth), as in the HA deployment. A controller's
    ha: block then takes ca_file, client_cert and client_key; the helpers
    here present that client certificate themselves."""

    def __init__(self, tmp_path, n=3, token=None, tls=False):
        self.exe = etcd_binary()
        self.root = tmp_path / "etcd"
        self.root.mkdir(parents=True, exist_ok=True)
        base = random_address_base()  # 127.A.B.1
        prefix = base.rsplit(".", 1)[0]
        self.tls = tls
        self.members = [Member(i, f"{prefix}.{i + 1}", self.root, "https" if tls else "http")
                        for i in range(n)]
        self.opener = _OPENER
        self.ca_file = self.client_cert = self.client_key = None
        if tls:
            from pki import PKI
            pki = PKI(self.root / "pki")
            # With client-cert-auth etcd checks a peer certificate's IPs
            # against the connection's source address: on loopback that is
            # 127.0.0.1, not the member's own 127.A.B.x.
            self.member_cert = pki.issue("member", server=True,
                                         ips=[m.address for m in self.members] + ["127.0.0.1"])
            self.client_cert, self.client_key = pki.issue("poolscale")
            self.ca_file = pki.ca
            self.opener = tls_opener(pki.ca, (self.client_cert, self.client_key))
        self.auth_token = None  # set by enable_auth(): the helpers' own token
        self.token = token or f"poolscale-test-{prefix.replace('.', '-')}"
        self.initial_cluster = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
        # ETCD_* variables are flags to etcd: none from the caller's environment.
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("ETCD_", "ETCDCTL_"))}

    @property
    def endpoints(self):
        """Client URLs of every member, running or not (what a controller's
        ha.etcd_endpoints lists)."""
        return [m.client_url for m in self.members]

    def args(self, m, state):
        return [self.exe, "--name", m.name, "--data-dir", str(m.data_dir),
                "--listen-client-urls", m.client_url, "--advertise-client-urls", m.client_url,
                "--listen-peer-urls", m.peer_url, "--initial-advertise-peer-urls", m.peer_url,
                "--initial-cluster", self.initial_cluster,
                "--initial-cluster-token", self.token,
                "--initial-cluster-state", state,
                "--heartbeat-interval", "100", "--election-timeout", "1000",
                "--pre-vote", "--logger", "zap"] + self.tls_args()

    def tls_args(self):
        if not self.tls:
            return []
        cert, key = self.member_cert
        return ["--cert-file", str(cert), "--key-file", str(key), "--trusted-ca-file",
                str(self.ca_file), "--client-cert-auth",
                "--peer-cert-file", str(cert), "--peer-key-file", str(key),
                "--peer-trusted-ca-file", str(self.ca_file), "--peer-client-cert-auth"]

    def call(self, i, path, body=None, timeout=2.0, token=None):
        """request() to member i's client URL with this cluster's TLS client
        certificate and, after enable_auth(), the root token."""
        return request(self.members[i].client_url + path, body, timeout, self.opener,
                       token or self.auth_token)

    def _spawn(self, m, state):
        assert not m.running(), f"{m.name} is already running (pid {m.proc.pid})"
        log = open(m.log_path, "ab")  # a restart appends to the same log
        try:
            m.proc = subprocess.Popen(self.args(m, state), stdout=log, stderr=log,
                                      stdin=subprocess.DEVNULL, env=self.env)
        finally:
            log.close()

    def start(self, timeout=15.0):
        """Starts every member (a new cluster) and waits for quorum; on
        failure stops what it started and says why, with the logs."""
        try:
            for m in self.members:
                self._spawn(m, "new")
            self.wait_quorum(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def pid(self, i):
        return self.members[i].proc.pid

    def kill(self, i):
        """SIGKILL of member i by pid, reaped: it is gone when this returns."""
        m = self.members[i]
        assert m.running(), f"{m.name} is not running"
        os.kill(m.proc.pid, signal.SIGKILL)
        m.proc.wait()

    def stop_member(self, i, timeout=10.0):
        """SIGTERM of member i by pid (SIGKILL if it lingers past the
        scaled timeout); it is gone when this returns."""
        m = self.members[i]
        if not m.running():
            return
        os.kill(m.proc.pid, signal.SIGTERM)
        try:
            m.proc.wait(scaled(timeout))
        except subprocess.TimeoutExpired:
            os.kill(m.proc.pid, signal.SIGKILL)
            m.proc.wait()

    def restart(self, i):
        """Starts a stopped or killed member again with the same flags and
        data dir, joining the existing cluster. Does not wait: see
        wait_quorum() or healthy()."""
        self._spawn(self.members[i], "existing")

    def healthy(self, i, timeout=1.0):
        """True when member i answers GET /health 200 {"health":"true"}
        (3.4 answers that only with a leader and a quorum read done)."""
        m = self.members[i]
        if not m.running():
            return False
        status, body = self.call(i, "/health", timeout=timeout)
        return status == 200 and isinstance(body, dict) and body.get("health") == "true"

    def health_status(self, i, timeout=1.0):
        """The HTTP status of member i's /health, None when it does not
        answer (503 without quorum)."""
        return self.call(i, "/health", timeout=timeout)[0]

    def wait_quorum(self, timeout=15.0):
        """Waits (scaled deadline) until every running member is healthy,
        i.e. the cluster has a leader and a quorum; fails with the logs
        of the members when it does not, or when a member exited."""
        def ok():
            for m in self.members:
                if m.proc is not None and m.proc.poll() is not None and m.proc.returncode not in \
                        (-signal.SIGKILL, -signal.SIGTERM, 0):
                    raise AssertionError(f"etcd {m.name} exited {m.proc.returncode}:\n{m.log_tail()}")
            running = [m.index for m in self.members if m.running()]
            return running and all(self.healthy(i) for i in running)
        try:
            wait_until(ok, "etcd quorum", timeout=timeout, every=0.1)
        except AssertionError as e:
            logs = "\n".join(f"--- {m.name} ({m.log_path}):\n{m.log_tail()}" for m in self.members)
            raise AssertionError(f"{e}\n{logs}") from None

    # Small KV helpers over the v3 gateway, for tests that seed or inspect keys.
    def put(self, i, key, value, timeout=2.0, lease=None):
        body = {"key": b64(key), "value": b64(value)}
        if lease is not None:
            body["lease"] = str(lease)
        return self.call(i, "/v3/kv/put", body, timeout)

    def get(self, i, key, timeout=2.0):
        """The value of key read (linearizable) through member i, or None;
        raises when the read fails."""
        status, body = self.call(i, "/v3/kv/range", {"key": b64(key)}, timeout)
        assert status == 200, f"range {key} via {self.members[i].name}: {status} {body}"
        kvs = body.get("kvs") or []  # an empty range has no "kvs" at all
        return base64.b64decode(kvs[0]["value"]).decode() if kvs and "value" in kvs[0] else \
            ("" if kvs else None)

    def enable_auth(self, user="poolscale", password="s3cret", prefix="/poolscale/",
                    root_password="rootpw"):
        """etcd auth, as the reference sets it up with etcdctl, over the
        gateway: a root user (the fixture's helpers then use its token), a
        role with read-write on prefix only, user:password with that role.
        A controller then needs ha.username and a password."""
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)  # the prefix's range end
        steps = [("/v3/auth/role/add", {"name": "root"}),
                 ("/v3/auth/user/add", {"name": "root", "password": root_password}),
                 ("/v3/auth/user/grant", {"user": "root", "role": "root"}),
                 ("/v3/auth/role/add", {"name": user}),
                 ("/v3/auth/role/grant", {"name": user, "perm": {
                     "permType": "READWRITE", "key": b64(prefix), "range_end": b64(end)}}),
                 ("/v3/auth/user/add", {"name": user, "password": password}),
                 ("/v3/auth/user/grant", {"user": user, "role": user}),
                 ("/v3/auth/enable", {})]
        for path, body in steps:
            status, reply = self.call(0, path, body, timeout=5)
            assert status == 200, f"{path}: {status} {reply}"
        status, reply = self.call(0, "/v3/auth/authenticate",
                                  {"name": "root", "password": root_password}, timeout=5)
        assert status == 200 and reply.get("token"), reply
        self.auth_token = reply["token"]

    def stop(self):
        """Ends every running member by pid and waits for each to exit.
        SIGKILL, not SIGTERM: the cluster is thrown away, and a leader
        given SIGTERM first tries to hand leadership to peers that are
        stopping too, which holds it 7 s."""
        for m in self.members:
            if m.running():
                os.kill(m.proc.pid, signal.SIGKILL)
        for m in self.members:
            if m.proc is not None:
                m.proc.wait()


@pytest.fixture
def etcd_cluster(tmp_path):
    """A started three-member etcd cluster on loopback, stopped at the end
    whatever the test did."""
    c = EtcdCluster(tmp_path, 3)
    c.start()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def etcd_cluster_tls(tmp_path):
    """The same with TLS and client certificates (EtcdCluster(tls=True))."""
    c = EtcdCluster(tmp_path, 3, tls=True)
    c.start()
    try:
        yield c
    finally:
        c.stop()
