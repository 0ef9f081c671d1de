"""common/etcd.c against a real etcd 3.4 (one member on its own loopback
address, data dir in tmp_path, stopped by pid), driven through
build/tools/etcd_probe: leases, the campaign and fenced-write transactions,
endpoint failover (against stub servers that refuse, fail or stall), auth
with token renewal, and mutual TLS. The facts checked are those of
../shared/reference/etcd-v3-gateway.md."""
import http.server
import os
import re
import shutil
import ssl
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import BIN, free_port, random_address_base, scaled, wait_until

PROBE = os.path.join(os.path.dirname(BIN), "tools", "etcd_probe")
ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"
PASSWORD = "s3cret-Pw-7731"


class Etcd:
    """One etcd member on host:2379 (a loopback /24 of this test's own)."""

    def __init__(self, tmp_path, tls=None, host=None):
        self.host = host or random_address_base()
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://{self.host}:2379"
        self.tls = tls
        peer = f"http://{self.host}:2380"
        args = [ETCD, "--name", "m1", "--data-dir", str(tmp_path / "m1.etcd"),
                "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", f"m1={peer}", "--initial-cluster-state", "new",
                "--initial-cluster-token", f"poolscale-test-{os.getpid()}-{self.host}"]
        if tls:
            args += ["--cert-file", tls["server_cert"], "--key-file", tls["server_key"],
                     "--client-cert-auth", "--trusted-ca-file", tls["ca"]]
        self.log_path = tmp_path / "etcd.log"
        self.log = open(self.log_path, "ab")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=self.log,
                                  stdin=subprocess.DEVNULL)
        wait_until(self._healthy, "etcd healthy", timeout=20, every=0.1)

    def _healthy(self):
        assert self.p.poll() is None, f"etcd exited:\n{self.log_path.read_text()[-3000:]}"
        ctx = None
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.tls["ca"])
            ctx.load_cert_chain(self.tls["client_cert"], self.tls["client_key"])
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=1, context=ctx) as r:
                return b'"true"' in r.read()
        except OSError:
            return False

    def ctl(self, *args, user=None):
        cmd = [ETCDCTL, f"--endpoints={self.url}"] + ([f"--user={user}"] if user else [])
        r = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, ETCDCTL_API="3"))
        assert r.returncode == 0, f"etcdctl {args}: {r.stdout}{r.stderr}"
        return r.stdout

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.log.close()


@pytest.fixture
def etcd(tmp_path):
    e = Etcd(tmp_path)
    yield e
    e.stop()


def check_clean(text, rc):
    for bad in ("Sanitizer", "runtime error:"):
        assert bad not in text, text
    assert rc == 0, f"etcd_probe exit {rc}:\n{text}"


def probe(endpoints, *script, opts=(), password=None, timeout=30):
    """The lines etcd_probe printed for script (one call per line)."""
    env = dict(os.environ)
    env.pop("ETCD_PROBE_PASSWORD", None)
    if password is not None:
        env["ETCD_PROBE_PASSWORD"] = password
    r = subprocess.run([PROBE, *opts, ",".join(endpoints), *script], capture_output=True,
                       text=True, timeout=scaled(timeout), env=env,
                       stdin=subprocess.DEVNULL)
    check_clean(r.stdout + r.stderr, r.returncode)
    lines = r.stdout.splitlines()
    assert len(lines) == len(script), r.stdout + r.stderr
    return lines


def fields(line):
    """'campaign ok won=1 rev=5' -> {'cmd': 'campaign', 'ok': True, 'won': '1', ...}"""
    words = line.split(" msg=", 1)
    head = words[0].split()
    out = {"cmd": head[0], "ok": head[1] == "ok"}
    for w in head[2:]:
        k, _, v = w.partition("=")
        out[k] = v
    if len(words) == 2:
        out["msg"] = words[1]
    return out


def test_lease_grant_keepalive_revoke(etcd):
    g, ka, rv, dead, rv2 = map(fields, probe(
        [etcd.url], "grant A 1", "keepalive A", "revoke A", "keepalive A", "revoke A"))
    assert g["ok"] and g["ttl"] == "2", g          # TTL 1 is raised to the minimum, 2
    assert int(g["id"]) > 0
    assert ka["ok"] and 1 <= int(ka["ttl"]) <= 2, ka
    assert rv["ok"], rv
    # a dead lease's keepalive is HTTP 200 without a TTL: the call works, TTL 0
    assert dead["ok"] and dead["ttl"] == "0", dead
    # revoking a lease already gone is what the caller wanted
    assert rv2["ok"], rv2


def test_lease_id_above_2_pow_53_survives(etcd):
    # etcd's lease IDs are ~8.7e18 on a fresh member (2.1): any trip through
    # a double would change the low digits, and the keepalive would miss
    out = [fields(x) for x in probe([etcd.url], "grant A 30", "keepalive A", "revoke A")]
    assert int(out[0]["id"]) > 2 ** 53, out
    assert out[1]["ok"] and int(out[1]["ttl"]) > 0, out


def test_campaign_fencing_and_resign(etcd):
    lines = probe(
        [etcd.url],
        "grant A 30", "grant B 30",
        "campaign RA poolscale/leader host-a A poolscale/state",   # 2: A wins
        "campaign RB poolscale/leader host-b B poolscale/state",   # 3: B loses
        "putif poolscale/leader RA poolscale/state desired=5",     # 4: A's fenced write
        "get poolscale/state",                                     # 5
        "revoke A",                                                # 6: A's key goes
        "putif poolscale/leader RA poolscale/state desired=6",     # 7: refused, nobody
        "campaign RB poolscale/leader host-b B poolscale/state",   # 8: B wins, reads state
        "putif poolscale/leader RA poolscale/state desired=7",     # 9: stale A refused
        "putif poolscale/leader RB poolscale/state desired=8",     # 10
        "delif poolscale/leader RA",                               # 11: not A's
        "delif poolscale/leader RB",                               # 12: B resigns
        "get poolscale/leader",                                    # 13
        "get poolscale/state")                                     # 14
    f = [fields(x) for x in lines]
    a_id, b_id = f[0]["id"], f[1]["id"]
    assert f[2]["won"] == "1" and int(f[2]["rev"]) > 0, lines[2]
    assert f[2]["found"] == "0", lines[2]                # no state yet
    ra = f[2]["rev"]
    assert f[3]["won"] == "0" and f[3]["found"] == "1", lines[3]
    assert (f[3]["value"], f[3]["lease"], f[3]["create"]) == ("host-a", a_id, ra), lines[3]
    assert f[4]["ok"] == "1", lines[4]
    assert f[5]["found"] == "1" and f[5]["value"] == "desired=5", lines[5]
    assert f[6]["ok"], lines[6]
    assert f[7]["ok"] == "0" and f[7]["found"] == "0", lines[7]
    assert f[8]["won"] == "1" and int(f[8]["rev"]) > int(ra), lines[8]
    # the winner read the state in the same transaction
    assert f[8]["found"] == "1" and f[8]["value"] == "desired=5", lines[8]
    assert f[9]["ok"] == "0", lines[9]
    assert (f[9]["value"], f[9]["lease"], f[9]["create"]) == ("host-b", b_id, f[8]["rev"])
    assert f[10]["ok"] == "1", lines[10]
    assert f[11]["ok"] == "0" and f[12]["ok"] == "1", lines[11:13]
    assert f[13]["found"] == "0", lines[13]
    assert f[14]["value"] == "desired=8", lines[14]


class Stub:
    """An HTTP server on loopback answering every POST with one canned reply,
    or never (stall=True), and counting the requests."""

    def __init__(self, status=503, body=b"", stall=False):
        stub = self
        self.hits = 0
        self.requests = []      # (path, headers, body)
        self.release = threading.Event()

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                stub.hits += 1
                got = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                stub.requests.append((self.path, self.headers, got))
                if stall:
                    stub.release.wait(30)
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def stop(self):
        self.release.set()
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def stubs():
    made = []
    yield lambda **kw: made.append(Stub(**kw)) or made[-1]
    for s in made:
        s.stop()


def test_failover_to_the_next_endpoint(etcd, stubs):
    dead = f"http://127.0.0.1:{free_port()}"
    no_leader = stubs(status=503, body=b'{"error":{"grpc_code":14,"http_code":503,'
                      b'"message":"etcdserver: no leader","http_status":"Service Unavailable"}}')
    stall = stubs(stall=True)
    # the first endpoint refuses the connection: the second answers
    g = fields(probe([dead, etcd.url], "grant A 5")[0])
    assert g["ok"] and g["ttl"] == "5", g
    # a 5xx (no leader), then a stall past the timeout: both move on
    out = [fields(x) for x in probe([no_leader.url, stall.url, etcd.url],
                                    "grant A 5", "keepalive A", opts=("-t", "500"))]
    assert out[0]["ok"] and out[1]["ok"] and int(out[1]["ttl"]) > 0, out
    assert no_leader.hits >= 1 and stall.hits >= 1
    # the next call starts at the endpoint that answered last: no new hits
    hits = (no_leader.hits, stall.hits)
    out = [fields(x) for x in probe([no_leader.url, stall.url, etcd.url],
                                    "grant A 5", "keepalive A", "keepalive A",
                                    opts=("-t", "500"))]
    assert all(o["ok"] for o in out), out
    assert (no_leader.hits, stall.hits) == (hits[0] + 1, hits[1] + 1), \
        "the second and third calls went back to failing endpoints"


def test_keepalive_asks_for_a_leader(etcd, stubs):
    # without the header a member that lost quorum holds a keepalive open
    # for 7 s instead of answering 503 at once (5.2)
    no_leader = stubs(status=503, body=b'{"error":{"grpc_code":14,"http_code":503,'
                      b'"message":"etcdserver: no leader"}}')
    out = [fields(x) for x in probe([no_leader.url, etcd.url], "keepalive 8721962035320207111",
                                    "grant A 5")]
    assert out[0]["ok"] and out[0]["ttl"] == "0", out     # etcd: no such lease
    path, headers, body = no_leader.requests[0]
    assert path == "/v3/lease/keepalive"
    assert headers.get("Grpc-Metadata-Hasleader") == "true", headers
    assert headers.get("Content-Type") == "application/json"
    assert body == b'{"ID":"8721962035320207111"}'    # a string: no double on the way
    assert "Authorization" not in headers


def test_every_endpoint_failing(stubs):
    dead1, dead2 = (f"http://127.0.0.1:{free_port()}" for _ in range(2))
    f = fields(probe([dead1, dead2], "grant A 5")[0])
    assert not f["ok"] and f["kind"] == "UNREACHABLE", f
    assert re.search(r"etcd http://127\.0\.0\.1:\d+: connect: Connection refused"
                     r" \(all 2 endpoints failed\)", f["msg"]), f


def test_a_4xx_stops_and_garbage_is_a_bad_reply(etcd, stubs):
    refuse = stubs(status=400, body=b'{"error":"etcdserver: key is not provided",'
                   b'"message":"etcdserver: key is not provided","code":3}')
    garbage = stubs(status=200, body=b'{"header":{},"ID":"87219620353202071')
    f = fields(probe([refuse.url, etcd.url], "grant A 5")[0])
    assert not f["ok"] and f["kind"] == "REJECTED", f
    assert "HTTP 400: etcdserver: key is not provided (code 3)" in f["msg"], f
    f = fields(probe([garbage.url, etcd.url], "grant A 5")[0])
    assert not f["ok"] and f["kind"] == "BAD_REPLY", f
    assert garbage.url in f["msg"], f


def enable_auth(e):
    """6.1 of the reference: root, a role with readwrite on poolscale/, a user."""
    e.ctl("user", "add", "root:rootpw")
    e.ctl("role", "add", "poolscale")
    e.ctl("role", "grant-permission", "poolscale", "--prefix=true", "readwrite", "poolscale/")
    e.ctl("user", "add", f"poolscale:{PASSWORD}")
    e.ctl("user", "grant-role", "poolscale", "poolscale")
    assert "Authentication Enabled" in e.ctl("auth", "enable")


def test_auth_password_token_and_renewal(etcd):
    enable_auth(etcd)
    opts = ("-u", "poolscale")
    out = [fields(x) for x in probe(
        [etcd.url], "grant A 30", "campaign R poolscale/leader me A", "get poolscale/leader",
        "get elsewhere", "revoke A", opts=opts, password=PASSWORD)]
    assert out[0]["ok"] and out[1]["won"] == "1", out
    assert out[2]["value"] == "me", out
    assert not out[3]["ok"] and out[3]["kind"] == "REJECTED", out    # 403 outside poolscale/
    assert "permission denied" in out[3]["msg"], out
    assert out[4]["ok"], out

    # a wrong password is refused at once, and never printed
    lines = probe([etcd.url], "get poolscale/leader", opts=opts, password="Wrong-" + PASSWORD)
    f = fields(lines[0])
    assert not f["ok"] and f["kind"] == "REJECTED", f
    assert "authentication failed" in f["msg"], f
    assert PASSWORD not in "\n".join(lines)

    # without a user name etcd says who is missing
    f = fields(probe([etcd.url], "get poolscale/leader")[0])
    assert f["kind"] == "REJECTED" and "user name is empty" in f["msg"], f


def test_auth_token_renewed_after_it_is_invalidated(etcd):
    enable_auth(etcd)
    env = dict(os.environ, ETCD_PROBE_PASSWORD=PASSWORD)
    p = subprocess.Popen([PROBE, "-u", "poolscale", etcd.url, "get poolscale/x", "pause",
                          "get poolscale/x", "get poolscale/x"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    try:
        assert p.stdout.readline().startswith("get ok"), "first get"
        assert p.stdout.readline() == "pause\n"
        # disabling auth drops every simple token; the client's one is stale now
        etcd.ctl("auth", "disable", user="root:rootpw")
        assert "Authentication Enabled" in etcd.ctl("auth", "enable")
        p.stdin.write("\n")
        p.stdin.flush()
        out, err = p.communicate(timeout=scaled(30))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check_clean(out + err, p.returncode)
    lines = out.splitlines()
    assert len(lines) == 2 and all(x.startswith("get ok") for x in lines), out + err


def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, f"openssl {args}: {r.stderr}"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI to make the certificates")
def test_mutual_tls(tmp_path):
    d = tmp_path / "pki"
    d.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
            "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    host = random_address_base()
    # etcd 3.4's gateway dials its own gRPC port with the server's certificate
    # as a client one: without clientAuth every call is a 503 "use of closed
    # network connection" (code 14)
    server_ext = f"subjectAltName=IP:{host}\nextendedKeyUsage=serverAuth,clientAuth"
    for name, cn, ext in (("server", host, server_ext),
                          ("client", "poolscale", "extendedKeyUsage=clientAuth")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
        (d / f"{name}.ext").write_text(ext + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext",
                "-out", f"{name}.pem", cwd=d)
    tls = {"ca": str(d / "ca.pem"), "server_cert": str(d / "server.pem"),
           "server_key": str(d / "server.key"), "client_cert": str(d / "client.pem"),
           "client_key": str(d / "client.key")}
    e = Etcd(tmp_path, tls=tls, host=host)    # the address the certificate names
    try:
        full = ("--ca", tls["ca"], "--cert", tls["client_cert"], "--key", tls["client_key"])
        out = [fields(x) for x in probe([e.url], "grant A 5", "keepalive A", opts=full)]
        assert out[0]["ok"] and out[1]["ok"] and out[1]["ttl"] != "0", out
        # the system's CAs do not know ours: verification is on
        f = fields(probe([e.url], "grant A 5", opts=full[2:])[0])
        assert f["kind"] == "UNREACHABLE" and "certificate" in f["msg"].lower(), f
        # the server wants a client certificate
        f = fields(probe([e.url], "grant A 5", opts=full[:2])[0])
        assert not f["ok"], f
    finally:
        e.stop()
