"""Several pools in one controller (`pools:`): each keeps its own size,
provider, policy, events and discovery files on one loop and one API; a
pool that fails holds no other; a restart adopts every pool's members."""
import random
import signal
import subprocess
import time

import pytest

from conftest import (BIN, Controller, LoadLoop, free_port, http_json, processes_on, scaled,
                      wait_until)


def bases(n):
    """n loopback /24s of their own, away from the demo's 127.0.x."""
    picked = random.sample(range(20, 250), n)
    return [f"127.{b}.{random.randint(0, 255)}.1" for b in picked]


def local_pool(name, base, min_=1, max_=4, initial=1, interval="1s", extra="",
               health=("300ms", "250ms", 2)):
    return f"""  - name: {name}
    min: {min_}
    max: {max_}
    initial: {initial}
    interval: {interval}
    health:
      interval: {health[0]}
      timeout: {health[1]}
      fails: {health[2]}
    drain:
      timeout: 10s
      kill_grace: 3s
    provider:
      kind: local
      local:
        address_base: {base}
        vcpu: 0.25
        work_ms: 20
        boot_delay: 300ms
{extra}"""


def write_config(tmp_path, pools_text, top=""):
    path = tmp_path / "pools.yml"
    path.write_text(f"""state_dir: state
api:
  listen: 127.0.0.1:0
{top}pools:
{pools_text}""")
    return path


@pytest.fixture
def fleet(tmp_path):
    """Starts a controller on a pools: file; at the end stops it and
    destroys every local pool, checking that no instance is left."""
    started = []
    prefixes = []

    def start(config, prefixes_=(), name="controller"):
        prefixes.extend(p for p in prefixes_ if p not in prefixes)
        c = Controller(tmp_path, config, name=name)
        started.append((c, config))
        return c
    yield start
    errors = []
    for c, _ in started:
        try:
            c.finish()
        except AssertionError as e:
            errors.append(str(e))
    if started:
        r = subprocess.run([BIN, "pool", "destroy", "--config", str(started[-1][1])],
                           capture_output=True, timeout=60)
        if r.returncode != 0:
            errors.append(f"pool destroy: {r.stderr.decode()}")
    for p in prefixes:
        left = processes_on(p)
        if left:
            errors.append(f"instances left on {p}: {left}")
    assert not errors, "\n".join(errors)


def prefix(base):
    return base.rsplit(".", 1)[0] + "."


def pool_status(c, name):
    st, body = http_json("GET", f"{c.api}/api/v1/pools/{name}/status")
    assert st == 200, body
    return body


def running(c, name):
    return sum(1 for m in pool_status(c, name)["members"] if m["state"] == "running")


def desired_events(c, name):
    st, body = http_json("GET", f"{c.api}/api/v1/pools/{name}/events")
    assert st == 200, body
    return [e for e in body["events"] if e["kind"] == "desired"]


def test_api_of_two_pools(fleet, tmp_path):
    ba, bb = bases(2)
    cfg = write_config(tmp_path, local_pool("a", ba, initial=1) + local_pool("b", bb, initial=2))
    c = fleet(cfg, [prefix(ba), prefix(bb)])
    wait_until(lambda: running(c, "a") == 1 and running(c, "b") == 2, "1 + 2 running",
               timeout=30)
    st, body = http_json("GET", c.api + "/api/v1/pools")
    assert st == 200
    assert [(p["name"], p["desired"], p["active"]) for p in body["pools"]] == \
        [("a", 1, 1), ("b", 2, 2)], body
    # Each pool's members on its own addresses.
    assert all(m["address"].startswith(prefix(ba)) for m in pool_status(c, "a")["members"])
    assert all(m["address"].startswith(prefix(bb)) for m in pool_status(c, "b")["members"])
    # The single-pool paths name the pools instead of guessing.
    for method, path, body_ in (("GET", "/api/v1/status", None), ("GET", "/api/v1/events", None),
                                ("PUT", "/api/v1/pool/size", {"size": 2}),
                                ("POST", "/up", None), ("GET", "/api/v1/sd?set=web", None)):
        st, err = http_json(method, c.api + path, body_)
        assert st == 400, (path, st, err)
        assert err["pools"] == ["a", "b"] and "/api/v1/pools/NAME/" in err["error"], err
    st, err = http_json("GET", c.api + "/api/v1/pools/nope/status")
    assert st == 404 and err["pools"] == ["a", "b"], err
    # Sizes are per pool.
    st, body = http_json("PUT", c.api + "/api/v1/pools/a/size", {"size": 3})
    assert st == 200 and body == {"previous": 1, "desired": 3}, body
    wait_until(lambda: running(c, "a") == 3, "a at 3", timeout=30)
    assert pool_status(c, "b")["desired"] == 2
    # Discovery: a file per pool and set, and http_sd by ?pool=.
    import json
    files = {p.name for p in (tmp_path / "state").glob("targets-*.json")}
    assert files == {"targets-a-web.json", "targets-a-metrics.json",
                     "targets-b-web.json", "targets-b-metrics.json"}, files
    def published_a():
        return json.loads((tmp_path / "state" / "targets-a-web.json").read_text())
    want = sorted(m["address"] + ":8080" for m in pool_status(c, "a")["members"])
    wait_until(lambda: sorted(t for g in published_a() for t in g["targets"]) == want,
               "a's three published", timeout=10)
    assert all(g["labels"]["pool"] == "a" for g in published_a())
    st, sd = http_json("GET", c.api + "/api/v1/sd?pool=b&set=web")
    assert st == 200 and sum(len(g["targets"]) for g in sd) == 2, sd
    st, sd2 = http_json("GET", c.api + "/api/v1/pools/b/sd?set=web")
    assert st == 200 and sd2 == sd
    # Metrics: one family each, a sample per pool.
    st, text = http_json("GET", c.api + "/metrics")
    assert text.count("# TYPE poolscale_pool_desired_size gauge") == 1, text
    assert 'poolscale_pool_desired_size{pool="a"} 3' in text
    assert 'poolscale_pool_desired_size{pool="b"} 2' in text
    assert 'poolscale_pool_members{pool="b",state="running"} 2' in text
    # The CLI: --pool, and status of every pool without it.
    r = subprocess.run([BIN, "status", "--api", c.api], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert "pool a (local): desired 3" in r.stdout and "pool b (local): desired 2" in r.stdout
    r = subprocess.run([BIN, "scale", "--api", c.api, "--pool", "b", "1"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert pool_status(c, "b")["desired"] == 1
    r = subprocess.run([BIN, "scale", "--api", c.api, "2"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "--pool NAME, one of: a b" in r.stderr, r.stderr
    r = subprocess.run([BIN, "events", "--api", c.api, "--pool", "b"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0 and "desired size 2 -> 1" in r.stdout, r.stdout


def alert(action, pool=None, status="firing"):
    labels = {"alertname": "x", "poolscale_action": action}
    if pool is not None:
        labels["poolscale_pool"] = pool
    return {"status": status, "labels": labels, "annotations": {}}


def alerts_body(*alerts):
    return {"version": "4", "status": "firing", "receiver": "poolscale",
            "groupKey": "{}", "alerts": list(alerts)}


def test_alerts_go_to_the_pool_they_name(fleet, tmp_path):
    ba, bb = bases(2)
    step = "    policy:\n      kind: step\n"
    cfg = write_config(tmp_path, local_pool("a", ba, interval="1s", extra=step) +
                       local_pool("b", bb, interval="1s", extra=step))
    c = fleet(cfg, [prefix(ba), prefix(bb)])
    wait_until(lambda: running(c, "a") == 1 and running(c, "b") == 1, "1 + 1 running",
               timeout=30)
    # An alert that names no pool, or one that is not ours, refuses the
    # whole body: the good alert beside it is not applied either.
    for bad, why in (((alert("up", "b"), alert("up")), "no poolscale_pool label"),
                     ((alert("up", "b"), alert("up", "zzz")), 'pool "zzz"')):
        st, err = http_json("POST", c.api + "/api/v1/alerts", alerts_body(*bad))
        assert st == 400 and why in err["error"] and err["pools"] == ["a", "b"], err
    # One that names b latches b only; resolved alerts and other actions count nothing.
    st, body = http_json("POST", c.api + "/api/v1/alerts", alerts_body(
        alert("up", "b"), alert("down", "a", status="resolved")))
    assert st == 202 and [p["pool"] for p in body["pools"]] == ["b"], body
    wait_until(lambda: pool_status(c, "b")["desired"] == 2, "b steps up", timeout=10)
    # By path: /pools/NAME/up takes a Grafana or empty body.
    st, body = http_json("POST", c.api + "/pools/a/up")
    assert st == 202 and body["desired"] == 1, body
    wait_until(lambda: pool_status(c, "a")["desired"] == 2, "a steps up", timeout=10)
    # Two intervals more: each pool took exactly one step.
    t_end = time.monotonic() + 2.5
    while time.monotonic() < t_end:   # watching, not waiting on a condition
        assert pool_status(c, "a")["desired"] == 2 and pool_status(c, "b")["desired"] == 2
        time.sleep(0.25)
    assert [e["message"].split(" (")[0] for e in desired_events(c, "a")] == \
        ["desired size 1 -> 2"], desired_events(c, "a")
    st, text = http_json("GET", c.api + "/metrics")
    assert 'poolscale_webhooks_unrouted_total 2' in text
    assert 'poolscale_webhooks_total{pool="b",source="alertmanager",result="accepted"} 1' in text
    assert 'poolscale_webhooks_total{pool="a",source="alertmanager",result="accepted"} 0' in text


def test_a_failing_pool_holds_no_other(fleet, tmp_path):
    ba, = bases(1)
    # Pool x's cloud refuses everything from the start.
    broken = """  - name: x
    min: 1
    max: 3
    interval: 1s
    provider:
      kind: exec
      list_interval: 200ms
      exec:
        shell: true
        timeout: 2s
        list: "echo 'no credentials' >&2; exit 3"
        set_size: "exit 3"
        remove: "exit 3"
"""
    cfg = write_config(tmp_path, broken + local_pool("a", ba, initial=1))
    c = fleet(cfg, [prefix(ba)])
    assert "provider list failed at start" in c.logtext()
    wait_until(lambda: running(c, "a") == 1, "a running", timeout=30)
    st, body = http_json("PUT", c.api + "/api/v1/pools/a/size", {"size": 3})
    assert st == 200, body
    wait_until(lambda: running(c, "a") == 3, "a grows while x fails", timeout=30)

    def x_errors():
        from conftest import metric
        return metric(http_json("GET", c.api + "/metrics")[1], "poolscale_provider_errors_total",
                      {"pool": "x", "op": "list"}) or 0
    first = x_errors()
    wait_until(lambda: x_errors() > first, "x keeps asking", timeout=20)
    st, ready = http_json("GET", c.api + "/-/ready")
    assert st == 503   # x never reconciled: not every pool is ready
    assert pool_status(c, "x")["members"] == []


def test_restart_adopts_every_pool(fleet, tmp_path):
    ba, bb = bases(2)
    cfg = write_config(tmp_path, local_pool("a", ba, initial=2) + local_pool("b", bb, initial=3))
    c = fleet(cfg, [prefix(ba), prefix(bb)])
    wait_until(lambda: running(c, "a") == 2 and running(c, "b") == 3, "2 + 3 running",
               timeout=30)
    before = {p: sorted(m["id"] for m in pool_status(c, p)["members"]) for p in ("a", "b")}
    pids = {p: sorted(processes_on(prefix(b))) for p, b in (("a", ba), ("b", bb))}
    c.p.send_signal(signal.SIGTERM)
    assert c.p.wait(30) == 0
    # The members outlive their controller, as machines do.
    assert {p: sorted(processes_on(prefix(b))) for p, b in (("a", ba), ("b", bb))} == pids
    c2 = fleet(cfg, name="controller2")
    wait_until(lambda: running(c2, "a") == 2 and running(c2, "b") == 3, "adopted", timeout=30)
    after = {p: sorted(m["id"] for m in pool_status(c2, p)["members"]) for p in ("a", "b")}
    assert after == before
    assert {p: sorted(processes_on(prefix(b))) for p, b in (("a", ba), ("b", bb))} == pids
    assert "adopted=2" in c2.logtext() and "adopted=3" in c2.logtext()


def test_two_pools_scale_on_their_own_load(fleet, prometheus, tmp_path):
    ba, bb = bases(2)
    port = free_port()
    target = """    policy:
      kind: target
      target:
        value: 0.5
        query: 'sum by (instance) (rate(node_cpu_seconds_total{pool="{pool}",mode!="idle"}[5s])) / sum by (instance) (rate(node_cpu_seconds_total{pool="{pool}"}[5s]))'
        warmup: 2s
        stabilization: 10s
"""
    top = f"prometheus:\n  url: http://127.0.0.1:{port}\n  timeout: 800ms\n"
    cfg = write_config(tmp_path, local_pool("a", ba, max_=4, extra=target) +
                       local_pool("b", bb, max_=4, extra=target), top=top)
    c = fleet(cfg, [prefix(ba), prefix(bb)])
    # One Prometheus for both pools' members, as in a real deployment.
    prometheus(tmp_path / "state" / "targets-*-metrics.json", port=port)
    wait_until(lambda: running(c, "a") == 1 and running(c, "b") == 1, "1 + 1 running",
               timeout=30)
    wait_until(lambda: pool_status(c, "b")["policy"]["metric"] is not None, "b measured",
               timeout=30)
    # 15 req/s x 20 ms = 0.3 core on instances of 0.25 core: a needs 2 or more.
    load = LoadLoop(tmp_path / "state" / "targets-a-web.json", rate=15, ms=20, seconds=120)
    try:
        wait_until(lambda: pool_status(c, "a")["desired"] >= 2, "a grows", timeout=60,
                   every=0.5)
    finally:
        load.stop()
    assert load.failures == []
    # b, idle, never moved.
    assert pool_status(c, "b")["desired"] == 1
    assert desired_events(c, "b") == []


def test_a_balancer_member_drains_on_its_own_requests(fleet, tmp_path):
    """A pool of HTTP balancers in front of two apps, drained on the
    balancer's own in-flight count (drain.metric on drain.port: metrics).
    Read on its serving port instead, /metrics would go through the
    balancer to its idle app, read 0, and stop it with a request in flight."""
    import threading
    from conftest import metric

    bw, bl = bases(2)
    lb_pool = f"""  - name: lb
    min: 1
    max: 2
    initial: 1
    interval: 1s
    health:               # lenient: a replacement would change the victim
      interval: 1s
      timeout: 900ms
      fails: 4
    drain:
      timeout: 60s
      kill_grace: 3s
      metric: poolscale_lb_requests_in_flight
      port: metrics
    provider:
      kind: local
      app_port: 8000
      metrics_port: 9101
      local:
        address_base: {bl}
        command: ["{{binary}}", lb, --mode, http, --listen, "{{address}}:{{port}}",
                  --targets-file, "{{sd_dir}}/targets-web-web.json",
                  --metrics-listen, "{{address}}:{{metrics_port}}",
                  --check, "http:/health", --check-interval, 300ms, --check-timeout, 250ms,
                  --rise, "1", --threads, "1"]
"""
    cfg = write_config(tmp_path, local_pool("web", bw, min_=2, max_=2, initial=2,
                                            health=("1s", "900ms", 4)) + lb_pool)
    c = fleet(cfg, [prefix(bw), prefix(bl)])
    wait_until(lambda: running(c, "web") == 2 and running(c, "lb") == 1, "2 apps, 1 balancer",
               timeout=40)
    st, body = http_json("PUT", c.api + "/api/v1/pools/lb/size", {"size": 2})
    assert st == 200, body
    wait_until(lambda: running(c, "lb") == 2, "a second balancer", timeout=40)
    # The youngest running member is the scale-in victim.
    victim = max(pool_status(c, "lb")["members"], key=lambda m: (m["created"], m["id"]))

    apps = [m["address"] for m in pool_status(c, "web")["members"]]

    def apps_in_flight():
        # An app counts /load requests only, not health checks.
        total = 0
        for a in apps:
            st, page = http_json("GET", f"http://{a}:9100/metrics")
            assert st == 200
            total += metric(page, "poolscale_app_requests_in_flight")
        return total
    # 1 s of CPU on an app of 0.25 core: about 4 s through the victim.
    result = {}

    def slow():
        try:
            result["status"] = http_json("GET", f"http://{victim['address']}:8000/load?ms=1000",
                                         timeout=scaled(60))[0]
        except OSError as e:
            result["error"] = str(e)
        result["done"] = time.time()
    t = threading.Thread(target=slow)
    t.start()
    try:
        wait_until(lambda: apps_in_flight() == 1, "the slow request at an app", timeout=20,
                   every=0.05)
        st, body = http_json("PUT", c.api + "/api/v1/pools/lb/size", {"size": 1})
        assert st == 200, body

        def draining():
            return [m["id"] for m in pool_status(c, "lb")["members"]
                    if m["state"] == "draining"]
        wait_until(draining, "a balancer draining", timeout=10, every=0.1)
        assert draining() == [victim["id"]], (draining(), victim)
    finally:
        t.join(scaled(90))

    def victim_events():
        st, body = http_json("GET", c.api + "/api/v1/pools/lb/events")
        assert st == 200, body
        return {e["kind"]: e for e in body["events"] if victim["id"] in e["message"]}
    wait_until(lambda: "drained" in victim_events() or "drain_timeout" in victim_events(),
               "the victim drained", timeout=60)
    ev = victim_events()
    assert result.get("status") == 200, result
    assert "drain_timeout" not in ev, ev
    # Drained once its own request had been answered, not before: the
    # controller reads every 250 ms, the client is told within a moment.
    assert ev["drained"]["time"] >= result["done"] - scaled(1.0), (ev["drained"], result)


@pytest.mark.slow_e2e
def test_layered_example_grows_both_layers(fleet, prometheus, tmp_path):
    """examples/layers.yaml as shipped, with test timings, addresses of its
    own and a balancer per 10 req/s: an entry balancer (TCP) follows the lb
    pool, whose balancers (HTTP) follow the web pool. A step of load grows
    both layers, and no request is lost on the way."""
    import json
    import pathlib
    from conftest import ROOT, Proc
    from test_load import summary

    bw, bl = bases(2)
    port = free_port()
    text = (pathlib.Path(ROOT) / "examples" / "layers.yaml").read_text()
    for a, b in (("state_dir: poolscale-layers", f"state_dir: {tmp_path / 'state'}"),
                 ("listen: 127.0.0.1:9900", "listen: 127.0.0.1:0"),
                 ("url: http://127.0.0.1:9090", f"url: http://127.0.0.1:{port}"),
                 ("timeout: 2s ", "timeout: 800ms "),
                 ("address_base: 127.0.1.1", f"address_base: {bw}"),
                 ("address_base: 127.0.2.1", f"address_base: {bl}"),
                 ("interval: 5s", "interval: 1s"),
                 ("[30s]", "[5s]"),
                 ("warmup: 10s", "warmup: 2s"),
                 ("stabilization: 60s", "stabilization: 30s"),
                 ("boot_delay: 3s", "boot_delay: 300ms"),
                 ("value: 100 ", "value: 10 ")):
        assert a in text, a
        text = text.replace(a, b)
    cfg = tmp_path / "layers.yaml"
    cfg.write_text(text)
    c = fleet(cfg, [prefix(bw), prefix(bl)])
    prometheus(tmp_path / "state" / "targets-*-metrics.json", port=port)
    wait_until(lambda: running(c, "web") == 2 and running(c, "lb") == 1, "2 apps, 1 balancer",
               timeout=40)
    entry_port = free_port()
    entry = Proc(["lb", "--mode", "tcp", "--listen", f"127.0.0.1:{entry_port}",
                  "--targets-file", str(tmp_path / "state" / "targets-lb-web.json"),
                  "--check-interval", "300ms", "--check-timeout", "200ms", "--rise", "1",
                  "--threads", "1"],
                 tmp_path, "entry")
    try:
        def served():
            try:
                return http_json("GET", f"http://127.0.0.1:{entry_port}/health", timeout=2)[0] == 200
            except OSError:
                return False
        wait_until(served, "the entry serving", timeout=20, every=0.2)
        # 5 req/s, then a step to 30: 30 x 20 ms = 0.6 core, on apps of
        # 0.25 core at 0.5 target: 5 apps; 30 req/s / 10 per balancer: 3.
        load = subprocess.Popen([BIN, "load", "--url", f"http://127.0.0.1:{entry_port}/load?ms=20",
                                 "--profile", "0:5,10:5,10:30,90:30", "--timeout", "20s",
                                 "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            wait_until(lambda: pool_status(c, "web")["desired"] >= 3 and
                       pool_status(c, "lb")["desired"] >= 2, "both layers grow",
                       timeout=80, every=0.5)
            grown = (pool_status(c, "web")["desired"], pool_status(c, "lb")["desired"])
            out, err = load.communicate(timeout=scaled(150))
        finally:
            if load.poll() is None:
                load.kill()
                load.wait()
        assert load.returncode == 0, err
        s = summary(out)
        assert s["sent"] > 1500 and s["ok"] == s["sent"], out
        # The balancers spread what they carried over the apps.
        web = json.loads((tmp_path / "state" / "targets-web-web.json").read_text())
        assert len([t for g in web for t in g["targets"]]) >= 3, (grown, web)
    finally:
        entry.finish()



def test_status_page_picks_the_pool(fleet, tmp_path):
    """The status page of a controller of two pools shows one at a time,
    with a choice of pool; #pool=NAME in the address selects one."""
    from browser import Browser
    ba, bb = bases(2)
    cfg = write_config(tmp_path, local_pool("a", ba, initial=1) + local_pool("b", bb, initial=2))
    c = fleet(cfg, [prefix(ba), prefix(bb)])
    wait_until(lambda: running(c, "a") == 1 and running(c, "b") == 2, "1 + 2 running",
               timeout=30)
    b = Browser(tmp_path)
    try:
        def shown():
            return b.eval("[document.getElementById('title').textContent, "
                          "document.querySelectorAll('#members tr').length, "
                          "document.getElementById('poolpick').hidden, "
                          "Array.from(document.getElementById('poolpick').options)"
                          ".map((o) => o.value)]")
        b.navigate(c.api + "/")
        wait_until(lambda: shown() == ["poolscale: a", 1, False, ["a", "b"]], "pool a shown",
                   timeout=15, every=0.1)
        b.eval("(() => { const s = document.getElementById('poolpick'); s.value = 'b'; "
               "s.dispatchEvent(new Event('change')); return true; })()")
        wait_until(lambda: shown()[:2] == ["poolscale: b", 2], "pool b shown", timeout=10,
                   every=0.1)
        assert b.eval("location.hash") == "#pool=b"
        b.navigate("about:blank")   # a new load, not a change of fragment
        b.navigate(c.api + "/#pool=b")
        wait_until(lambda: shown()[:2] == ["poolscale: b", 2], "#pool=b opens b", timeout=15,
                   every=0.1)
        assert b.problems() == []
    finally:
        b.close()
