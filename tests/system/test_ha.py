"""High availability (issue 19, docs/ha.md): two or three real controllers
share one pool at the Exoscale contract server and elect a leader on a real
three-member etcd cluster on loopback. Failures are injected for real
(kill -9, SIGSTOP, etcd members killed) and judged by what the contract
server saw: every request it got is logged with the User-Agent that names
the controller that sent it."""
import re
import json
import signal
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from browser import Browser
from conftest import BIN, free_port, hold, http_json, metric, scaled, wait_until
from contract.common import contract_server  # noqa: F401 (fixture)
from etcd_cluster import etcd_cluster  # noqa: F401 (fixture)
from test_cloud import Cloud, CloudController, server_running

LEASE_S = 3
INTERVAL_S = 0.5


def fit_lease(text):
    """A provider's request must fit in half the lease (config_ha.c)."""
    return text.replace("  timeout: 2s\n", "  timeout: 1500ms\n")


def ha_block(name, endpoints):
    return f"""ha:
  etcd_endpoints: [{", ".join(endpoints)}]
  lease: {LEASE_S}s
  name: {name}
  timeout: 500ms
"""


def ha_config(cloud, name, endpoints, policy="", max_size=5, initial=1):
    """test_cloud's controller config, with the ha block (and a policy)."""
    path = cloud.config(initial=initial, name=f"{name}.yml")
    text = path.read_text().replace("max: 4\n", f"max: {max_size}\n")
    path.write_text(fit_lease(text) + ha_block(name, endpoints) + policy)
    return path


_started = []


@pytest.fixture(autouse=True)
def stop_controllers():
    """Every controller a test started is stopped by pid when it ends,
    failed or not: one left running would go on loading the machine."""
    yield
    while _started:
        c = _started.pop()
        if c.p.poll() is None:
            c.stop()


def start(cloud, names, endpoints, **kw):
    out = []
    for n in names:
        c = CloudController(cloud, ha_config(cloud, n, endpoints, **kw), None, n).started()
        c.name = n
        _started.append(c)
        out.append(c)
    return out


def ha(c):
    return c.status()["ha"]


def alive(c):
    return c.p.poll() is None


def leaders(cs):
    out = []
    for c in cs:
        if not alive(c):
            continue
        try:
            if ha(c)["leader"]:
                out.append(c)
        except OSError:
            pass
    return out


def one_leader(cs, timeout=15):
    wait_until(lambda: len(leaders(cs)) == 1, "exactly one leader", scaled(timeout))
    return leaders(cs)[0]


def mutations(srv, since=0.0):
    """Successful or not, every request that changes the pool."""
    return [r for r in srv.requests() if r["method"] != "GET" and r["t"] >= since]


def sent_by(r, name):
    return f"(controller {name})" in r["ua"]


def test_one_leader_acts_and_followers_name_it(etcd_cluster, contract_server, tmp_path):
    cloud = Cloud(contract_server, tmp_path, "exoscale", size=1)
    cs = start(cloud, ["ha-a", "ha-b", "ha-c"], etcd_cluster.endpoints)
    lead = one_leader(cs)
    followers = [c for c in cs if c is not lead]
    for f in followers:
        wait_until(lambda: ha(f)["leader_name"] == lead.name, "the followers know the leader",
                   scaled(5))
        st, body = http_json("PUT", f.api + "/api/v1/pool/size", {"size": 3})
        assert st == 503 and body["leader"] == lead.name, body
        assert body["leader_url"] == lead.api, body
        assert metric(f.metrics(), "poolscale_ha_leader") == 0
    assert metric(lead.metrics(), "poolscale_ha_leader") == 1
    # `poolscale status` says who leads, from either side.
    out = subprocess.run([BIN, "status", "--api", lead.api], capture_output=True, text=True,
                         timeout=10).stdout
    assert f"ha: {lead.name} leads (this controller" in out, out
    out = subprocess.run([BIN, "status", "--api", followers[0].api], capture_output=True,
                         text=True, timeout=10).stdout
    assert f"ha: {lead.name} leads; this controller ({followers[0].name}) follows" in out, out
    lead.size(3)
    wait_until(lambda: len(server_running(cloud.srv)) == 3, "three members", scaled(20))
    # Only the leader changed the pool; the followers see it all the same.
    assert mutations(cloud.srv) and all(sent_by(r, lead.name) for r in mutations(cloud.srv))
    for f in followers:
        wait_until(lambda: len(f.running()) == 3 and f.status()["desired"] == 3,
                   "a follower's view of the pool", scaled(10))
    # A follower's status page says who leads (in a real browser).
    b = Browser(tmp_path)
    try:
        b.navigate(followers[0].api + "/")
        want = f"{lead.name}; this controller ({followers[0].name}) follows"
        wait_until(lambda: want in b.eval("document.getElementById('policy').textContent"),
                   "the leader on the follower's page", scaled(10), every=0.1)
        assert b.problems() == []
    finally:
        b.close()
    for c in cs:
        c.stop()


def test_killed_leader_under_a_scale_out(etcd_cluster, contract_server, tmp_path):
    cloud = Cloud(contract_server, tmp_path, "exoscale", size=1)
    cs = start(cloud, ["ha-a", "ha-b", "ha-c"], etcd_cluster.endpoints)
    lead = one_leader(cs)
    # The scale call is slow at the cloud: the leader dies in the middle of it.
    cloud.srv.fault("slow", delay_s=2, count=1, match=":scale")
    lead.size(3)
    wait_until(lambda: "scale out" in lead.status()["last_decision"]["reason"],
               "the leader acting on the new size", scaled(5))
    t_kill = time.monotonic()
    lead.signal(signal.SIGKILL)
    rest = [c for c in cs if c is not lead]
    new = one_leader(rest, timeout=LEASE_S + 10)
    took = time.monotonic() - t_kill
    print(f"failover after kill -9: {took:.2f} s")
    # Within the lease and an interval (plus the followers' look every
    # lease/5, and the machine's load).
    assert took < scaled(LEASE_S + INTERVAL_S + 1.5), took
    wait_until(lambda: len(server_running(cloud.srv)) == 3 and len(new.running()) == 3,
               "the size the policy wants, by the new leader", scaled(20))
    assert new.status()["desired"] == 3
    # No duplicate grow, no eviction: absolute sizes, the same one twice at most.
    scales = [r for r in mutations(cloud.srv) if ":scale" in r["path"]]
    assert scales and len(scales) <= 2, scales
    assert not [r for r in mutations(cloud.srv) if "evict" in r["path"]]
    assert cloud.srv.state()["size"] == 3
    assert len([m for m in cloud.srv.members() if m["phase"] != "terminating"]) == 3
    assert any("leading" in e["message"] for e in
               http_json("GET", new.api + "/api/v1/events")[1]["events"])
    for c in rest:
        c.stop()


def events(c):
    return http_json("GET", c.api + "/api/v1/events")[1]["events"]


def test_killed_leader_in_the_middle_of_drains(etcd_cluster, contract_server, tmp_path):
    """The drains a dead leader started are carried on by the next one, the
    same members, from when they started: no new victims, no eviction
    twice."""
    cloud = Cloud(contract_server, tmp_path, "exoscale", size=3)
    cs = start(cloud, ["ha-a", "ha-b"], etcd_cluster.endpoints, initial=3)
    lead = one_leader(cs)
    wait_until(lambda: len(lead.running()) == 3, "three members running", scaled(20))
    addresses = [a for _, a in lead.running()]
    for address in addresses:
        hold(address, cloud.app_port, 10000)	# past the 5 s drain timeout

    def busy(address):
        text = urllib.request.urlopen(f"http://{address}:{cloud.metrics_port}/metrics",
                                      timeout=5).read().decode()
        return (metric(text, "poolscale_app_requests_in_flight") or 0) >= 1
    wait_until(lambda: all(busy(a) for a in addresses), "a request in flight on each",
               scaled(10))
    lead.size(1)
    wait_until(lambda: len([m for m in lead.status()["members"] if m["state"] == "draining"])
               == 2, "two members draining", scaled(10))
    victims = sorted(m["id"] for m in lead.status()["members"] if m["state"] == "draining")

    def drains_in_etcd():
        st = etcd_cluster.get(2, "/poolscale/state")
        return st and sorted(d["id"] for d in json.loads(st)["drains"]) == victims
    wait_until(drains_in_etcd, "etcd holding the drains", scaled(5))
    lead.signal(signal.SIGKILL)
    new = [c for c in cs if c is not lead][0]
    one_leader([new], timeout=LEASE_S + 10)
    wait_until(lambda: len(server_running(cloud.srv)) == 1, "down to one", scaled(30))
    evicted = []
    for r in mutations(cloud.srv):
        if "evict" in r["path"]:
            evicted += json.loads(r["body"])["instances"]
    assert sorted(evicted) == victims, (evicted, victims)
    # The new leader started no drain of its own: it carried on the old ones.
    assert not [e for e in events(new) if e["kind"] == "drain"], events(new)
    assert "drains=2" in new.logtext()
    for c in cs:
        if alive(c):
            c.stop()


def test_paused_leader_sends_nothing_after_its_lease(etcd_cluster, contract_server, tmp_path):
    cloud = Cloud(contract_server, tmp_path, "exoscale", size=1)
    cs = start(cloud, ["ha-a", "ha-b"], etcd_cluster.endpoints)
    old = one_leader(cs)
    other = [c for c in cs if c is not old][0]
    old.signal(signal.SIGSTOP)
    t_stop = time.time()
    try:
        one_leader([other], timeout=LEASE_S + 10)
        other.size(3)
        wait_until(lambda: len(server_running(cloud.srv)) == 3, "three members", scaled(20))
        wait_until(lambda: time.time() > t_stop + 3 * LEASE_S, "three leases", 3 * LEASE_S + 5)
    finally:
        old.signal(signal.SIGCONT)
    wait_until(lambda: ha(old)["leader"] is False and ha(old)["leader_name"] == other.name,
               "the old leader following", scaled(10))
    # More work for the new leader while the old one is awake again.
    other.size(2)
    wait_until(lambda: len(server_running(cloud.srv)) == 2 and len(other.running()) == 2,
               "back to two", scaled(20))
    late = [r for r in mutations(cloud.srv, since=t_stop + LEASE_S) if sent_by(r, old.name)]
    assert not late, late
    assert any(sent_by(r, other.name) for r in mutations(cloud.srv))
    assert metric(old.metrics(), "poolscale_ha_leader") == 0
    assert metric(old.metrics(), "poolscale_ha_leader_changes_total") >= 2
    for c in cs:
        c.stop()


def test_etcd_member_losses(etcd_cluster, contract_server, tmp_path):
    cloud = Cloud(contract_server, tmp_path, "exoscale", size=1)
    cs = start(cloud, ["ha-a", "ha-b"], etcd_cluster.endpoints)
    lead = one_leader(cs)
    changes = [metric(c.metrics(), "poolscale_ha_leader_changes_total") for c in cs]
    # One member of three gone: quorum holds, nothing changes (when it was
    # etcd's leader, etcd elects another within 1 to 2 s: a pause in acting,
    # not a change of leader).
    etcd_cluster.kill(0)
    etcd_cluster.wait_quorum(20)
    wait_until(lambda: ha(lead)["leader"], "the leader acting", scaled(LEASE_S + 2))
    lead.size(2)
    wait_until(lambda: len(server_running(cloud.srv)) == 2, "two members", scaled(20))
    assert leaders(cs) == [lead]
    assert [metric(c.metrics(), "poolscale_ha_leader_changes_total") for c in cs] == changes
    # Two gone: no quorum. Nobody acts, and each says so once. Each must
    # first have seen etcd work again after the first loss (an etcd
    # election then can fail a follower's campaign, which it logged): else
    # the second outage continues the one it already reported.
    wait_until(lambda: all(ha(c)["etcd_ok"] for c in cs), "every controller seeing etcd",
               scaled(LEASE_S + 5))
    marks = [len(c.logtext()) for c in cs]
    etcd_cluster.kill(1)
    wait_until(lambda: not leaders(cs), "no controller leading", scaled(LEASE_S + 5))
    t_lost = time.time()
    for c in cs:
        st, body = http_json("PUT", c.api + "/api/v1/pool/size", {"size": 4})
        assert st == 503, body
    wait_until(lambda: time.time() > t_lost + 2 * LEASE_S, "two leases without quorum",
               2 * LEASE_S + 5)
    assert not mutations(cloud.srv, since=t_lost)
    for c, mark in zip(cs, marks):
        assert len(re.findall(r"etcd unavailable", c.logtext()[mark:])) == 1, \
            c.logtext()[mark:]
        assert ha(c)["etcd_ok"] is False
    # Back: a leader again, acting again.
    etcd_cluster.restart(0)
    etcd_cluster.restart(1)
    etcd_cluster.wait_quorum(20)
    lead = one_leader(cs, timeout=LEASE_S + 20)
    lead.size(3)
    wait_until(lambda: len(server_running(cloud.srv)) == 3, "three members", scaled(20))
    for c in cs:
        wait_until(lambda: "etcd answers again" in c.logtext(), "the recovery logged", scaled(5))
        c.stop()


class LoadExporter:
    """What Prometheus scrapes as each member's load: one series per member
    (member="ADDRESS"), the value set by the test."""

    def __init__(self, srv):
        self.srv = srv
        self.value = 0.0
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                lines = ["# TYPE poolscale_test_load gauge"]
                for m in outer.srv.members():
                    if m["phase"] == "running":
                        lines.append(f'poolscale_test_load{{member="{m["address"]}"}} '
                                     f"{outer.value}")
                body = ("\n".join(lines) + "\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass
        self.port = free_port()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_stabilization_window_survives_a_failover(etcd_cluster, contract_server, prometheus,
                                                  tmp_path):
    cloud = Cloud(contract_server, tmp_path, "exoscale", size=1)
    exporter = LoadExporter(cloud.srv)
    sd = tmp_path / "none.json"
    sd.write_text("[]")
    prom = prometheus(str(sd), static=[f"127.0.0.1:{exporter.port}"])
    window_s = 20
    query = 'label_replace(poolscale_test_load, "instance", "$1", "member", "(.*)")'
    policy = f"""policy:
  kind: target
  target:
    metrics:
      - query: '{query}'
        type: average
        value: 1
    warmup: 0s
    stabilization: {window_s}s
prometheus:
  url: {prom.url}
  timeout: 400ms
"""
    cs = start(cloud, ["ha-a", "ha-b"], etcd_cluster.endpoints, policy=policy)
    try:
        lead = one_leader(cs)
        exporter.value = 3.0		# every member at 3x its target: up to max, 5
        wait_until(lambda: len(server_running(cloud.srv)) == 5, "scaled out to 5", scaled(40))
        wait_until(lambda: prom.value("count(poolscale_test_load == 3)") == 5,
                   "five members at 3", scaled(10))
        exporter.value = 0.3		# now 2 members would do (5 x 0.3 = 1.5)
        t_drop = time.time()
        wait_until(lambda: prom.value("max(poolscale_test_load)") == 0.3, "the drop seen",
                   scaled(10))
        lead.signal(signal.SIGKILL)
        new = one_leader([c for c in cs if c is not lead], timeout=LEASE_S + 10)

        def scale_ins():
            return [e for e in http_json("GET", new.api + "/api/v1/events")[1]["events"]
                    if e["kind"] == "desired" and e["time"] >= t_drop]
        # The new leader holds 5 until the old window's recommendations of
        # 5 (the last at t_drop or later) have aged out: one scale-in, to 2,
        # no earlier than the window after the drop.
        wait_until(lambda: scale_ins(), "the scale-in, after the window", scaled(window_s + 20))
        first = scale_ins()[0]
        assert first["time"] >= t_drop + window_s - 1, (first["time"] - t_drop, first)
        assert "5 -> 2" in first["message"], first
    finally:
        exporter.stop()
        for c in cs:
            if alive(c):
                c.stop()


def test_webhook_to_a_follower_is_retried_not_lost(etcd_cluster, contract_server, alertmanager,
                                                   tmp_path):
    cloud = Cloud(contract_server, tmp_path, "exoscale", size=1)
    policy = "policy:\n  kind: step\n"
    cs = start(cloud, ["ha-a", "ha-b"], etcd_cluster.endpoints, policy=policy, max_size=2)
    lead = one_leader(cs)
    follower = [c for c in cs if c is not lead][0]
    # Alertmanager knows only the follower: its webhook gets 503 there.
    am = alertmanager(follower.api + "/api/v1/alerts")
    alert = [{"labels": {"alertname": "PoolscaleHighLoad", "pool": "web",
                         "poolscale_action": "up"},
              "annotations": {"summary": "test"}}]
    st, _ = http_json("POST", f"http://{am.addr}/api/v2/alerts", alert)
    assert st == 200
    wait_until(lambda: metric(follower.metrics(), "poolscale_api_requests_total",
                              {"code": "503"}) is not None,
               "the follower refusing the notification", scaled(15))
    assert cloud.srv.state()["size"] == 1
    # The leader dies; the follower leads, and Alertmanager's retry lands.
    lead.signal(signal.SIGKILL)
    one_leader([follower], timeout=LEASE_S + 10)
    wait_until(lambda: len(server_running(cloud.srv)) == 2, "scaled out by the alert",
               scaled(30))
    follower.stop()


def two_pools_config(clouds, name, endpoints):
    """Pools web and api, each at its own contract server, under one ha:
    block."""
    pools = ""
    for pool, cloud in zip(("web", "api"), clouds):
        prov = fit_lease(cloud.provider_yaml())
        pools += f"""  - name: {pool}
    min: 1
    max: 5
    initial: 1
    interval: {INTERVAL_S}s
    health: {{interval: 300ms, timeout: 250ms, fails: 2, boot_timeout: 20s}}
    drain: {{timeout: 5s}}
    policy: {{kind: step}}
""" + "".join("    " + line + "\n" for line in prov.splitlines())
    path = clouds[0].tmp / f"{name}.yml"
    path.write_text(f"""state_dir: state-{name}
api:
  listen: 127.0.0.1:0
""" + ha_block(name, endpoints) + "pools:\n" + pools)
    return path


def test_two_pools_lead_and_fail_over_together(etcd_cluster, contract_server, tmp_path):
    """A controller of several pools has one election: its pools lead and
    follow together, etcd holds one document with each pool's part, and a
    new leader takes every pool back from it."""
    from test_pools import alert, alerts_body
    clouds = [Cloud(contract_server, tmp_path, "exoscale", size=1) for _ in range(2)]
    # What a controller of one pool left: no pool's in particular here.
    lone = {"version": 1, "desired": 4, "by": "old", "written_unix_ms": 1,
            "step": {"up": False, "down": False, "last_step_unix_ms": 0},
            "target": {"recommendations": [], "changes": []}, "drains": []}
    etcd_cluster.put(0, "/poolscale/state", json.dumps(lone))
    cs = []
    for n in ("ha-a", "ha-b"):
        c = CloudController(clouds[0], two_pools_config(clouds, n, etcd_cluster.endpoints),
                            None, n).started()
        c.name = n
        _started.append(c)
        cs.append(c)

    def st(c, pool):
        return http_json("GET", f"{c.api}/api/v1/pools/{pool}/status")[1]

    def lead_of(c):
        """Whether c leads, asked of both pools: they share one election,
        so they must say the same, unless it changed between the asks (a
        third ask of the first pool tells)."""
        web, api, again = (st(c, p)["ha"]["leader"] for p in ("web", "api", "web"))
        assert web == api or web != again, (c.name, web, api, again)
        return again

    wait_until(lambda: sum(lead_of(c) for c in cs if alive(c)) == 1, "one leader", scaled(15))
    lead = [c for c in cs if lead_of(c)][0]
    follower = [c for c in cs if c is not lead][0]
    lead.wait_log(r"the state in etcd is not for this controller's pools")
    assert st(lead, "web")["desired"] == 1 and st(lead, "api")["desired"] == 1
    wait_until(lambda: st(follower, "api")["ha"]["leader_name"] == lead.name,
               "the follower knows the leader", scaled(5))
    code, body = http_json("PUT", follower.api + "/api/v1/pools/api/size", {"size": 2})
    assert code == 503 and body["leader"] == lead.name, body
    # Alerts for both pools at a follower: refused whole, for the leader.
    both = alerts_body(alert("up", "web"), alert("up", "api"))
    code, body = http_json("POST", follower.api + "/api/v1/alerts", both)
    assert code == 503 and body["leader"] == lead.name, body

    assert http_json("PUT", lead.api + "/api/v1/pools/web/size", {"size": 3})[0] == 200
    code, body = http_json("POST", lead.api + "/api/v1/alerts",
                           alerts_body(alert("up", "api")))
    assert code == 202 and [p["pool"] for p in body["pools"]] == ["api"], body
    wait_until(lambda: len(server_running(clouds[0].srv)) == 3 and
               len(server_running(clouds[1].srv)) == 2, "3 web and 2 api members", scaled(20))
    for cloud in clouds:
        assert all(sent_by(r, lead.name) for r in mutations(cloud.srv))

    def doc():
        text = etcd_cluster.get(0, "/poolscale/state")
        return json.loads(text) if text else {}
    wait_until(lambda: {p: s["desired"] for p, s in doc().get("pools", {}).items()} ==
               {"web": 3, "api": 2}, "etcd holding both pools", scaled(5))

    lead.signal(signal.SIGKILL)
    wait_until(lambda: lead_of(follower), "the follower leads", scaled(LEASE_S + 10))
    text = follower.logtext()
    for pool, size in (("web", 3), ("api", 2)):
        assert re.search(r'msg="resuming from the state in etcd" pool=%s by=%s .*desired=%d '
                         % (pool, lead.name, size), text), text
        assert st(follower, pool)["desired"] == size
    # The new leader acts for both, and keeps both sizes.
    t0 = time.time()
    assert http_json("PUT", follower.api + "/api/v1/pools/api/size", {"size": 1})[0] == 200
    wait_until(lambda: len(server_running(clouds[1].srv)) == 1, "api back to 1", scaled(30))
    assert len(server_running(clouds[0].srv)) == 3
    assert all(sent_by(r, follower.name) for r in mutations(clouds[1].srv, since=t0))
    assert not [r for r in mutations(clouds[0].srv, since=t0)]
    follower.stop()
