"""Demand that does not saturate, end to end: the real Prometheus scraping
the local pool's `poolscale_app_requests_received_total`, the controller's
target policy with a pool-total metric, and open-loop load from
`poolscale load` against the one member."""
import subprocess
import time

from conftest import BIN, get, http_json, metric, wait_until

CPU = ('sum by (instance) (irate(node_cpu_seconds_total{pool="web",mode!="idle"}[5s])) / '
       'sum by (instance) (irate(node_cpu_seconds_total{pool="web"}[5s]))')
# irate: the last two scrapes, so the first answer after Prometheus starts
# is the whole rate (rate() over a window it has barely filled reads low).
RECEIVED = 'sum by (instance) (irate(poolscale_app_requests_received_total{pool="web"}[5s]))'
QUEUE = 'sum(poolscale_app_queue_length{pool="web"})'


def policy(prom_url):
    return f"""policy:
  kind: target
  target:
    metrics:
      - query: '{CPU}'
        type: average
        value: 0.5
      - query: '{RECEIVED}'
        type: total
        value: 5
    backlog:
      query: '{QUEUE}'
      drain: 10s
    warmup: 2s
    stabilization: 60s
prometheus:
  url: {prom_url}
  timeout: 300ms
"""


def status(c):
    st, body = http_json("GET", c.api + "/api/v1/status")
    assert st == 200, body
    return body


def desired_changes(c):
    out = []
    for e in http_json("GET", c.api + "/api/v1/events")[1]["events"]:
        if e["kind"] == "desired":
            a, b = e["message"].split("desired size ")[1].split(" (")[0].split(" -> ")
            out.append((e["time"], int(a), int(b), e["message"]))
    return out


def test_step_to_four_instances_worth_asks_for_four_in_one_decision(pool, prometheus,
                                                                     tmp_path):
    from conftest import free_port
    import json
    port = free_port()
    # One instance: 0.25 core / 20 ms = 12.5 req/s at 100% CPU. The value:
    # 5 req/s per instance. 22 req/s is 4.4 instances' worth: 5.
    c = pool(min=1, max=8, initial=1, interval="1s", vcpu=0.25, work_ms=20,
             extra=policy(f"http://127.0.0.1:{port}"))
    web = tmp_path / "state" / "targets-web.json"

    def member():
        try:
            groups = json.loads(web.read_text())
        except (OSError, ValueError):
            return None
        t = [t for g in groups for t in g["targets"]]
        return t[0] if len(t) == 1 else None
    wait_until(lambda: member() is not None, "1 member published", timeout=20)
    host, mport = member().rsplit(":", 1)
    load = subprocess.Popen([BIN, "load", "--url", f"http://{host}:{mport}/load",
                             "--rate", "22", "--duration", "90s", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # The step is on before Prometheus scrapes anything: without
        # metrics the controller holds at 1 (the fail-safe).
        wait_until(lambda: metric(get((host, int(mport)), "/metrics").body.decode(),
                                  "poolscale_app_requests_received_total") > 44,
                   "2 s of load received", timeout=20, every=0.2)
        assert desired_changes(c) == []
        prometheus(tmp_path / "state" / "targets-metrics.json", port=port)
        wait_until(lambda: desired_changes(c), "a scale-out", timeout=60, every=0.2)
        t, a, b, msg = desired_changes(c)[0]
        # One decision, from 1 to 4.4 instances' worth and more (the
        # backlog adds its part). Through the CPU alone, which cannot
        # read above 100%, it would be 1 -> 2.
        assert a == 1 and b >= 4, desired_changes(c)
        assert "total" in msg and "metric 2 of 2" in msg, msg
    finally:
        load.terminate()
        load.wait(30)


def test_a_failed_metric_is_skipped_and_blocks_scale_in(pool, prometheus, tmp_path):
    """Two metrics, the second a query Prometheus rejects: the first still
    decides (and Prometheus counts the error), but an idle pool of 3 does
    not scale in while one metric is missing (the HPA's rule)."""
    from conftest import free_port
    port = free_port()
    bad = 'sum by (instance) (rate(poolscale_app_requests_received_total[1m]'  # unclosed
    c = pool(min=1, max=4, initial=3, interval="1s", vcpu=0.25, work_ms=20,
             extra=f"""policy:
  kind: target
  target:
    metrics:
      - query: '{CPU}'
        value: 0.5
      - query: '{bad}'
        type: total
        value: 5
    warmup: 0s
    stabilization: 0s
prometheus:
  url: http://127.0.0.1:{port}
  timeout: 300ms
""")
    prometheus(tmp_path / "state" / "targets-metrics.json", port=port)
    # An idle pool: the CPU alone says 1.
    wait_until(lambda: "scale-in waits for 1 failed metric" in
               status(c)["policy"]["reason"], "the CPU metric decided", timeout=60,
               every=0.2)
    reason = status(c)["policy"]["reason"]
    assert "metric 1 of 2 (1 known): mean" in reason, reason
    assert status(c)["desired"] == 3
    assert desired_changes(c) == []
    st, text = http_json("GET", c.api + "/metrics")
    errors = [l for l in text.splitlines()
              if l.startswith('poolscale_metric_errors_total{pool="web",cause="query_error"}')]
    assert errors and float(errors[0].split()[1]) > 0, text


def test_a_pool_at_zero_starts_for_its_first_request_and_returns_to_zero(pool, prometheus,
                                                                         tmp_path):
    """Scale from zero, end to end: `poolscale lb --mode http
    --hold-when-empty` holds the first request of a pool at min 0, the real
    Prometheus scrapes the lb's held-requests gauge, the controller reads
    it as backlog and starts one member, and the held request is answered
    200. With no more requests the pool goes back to 0."""
    from conftest import Conn, free_port
    from test_lb import LB
    port = free_port()
    held = 'sum(poolscale_app_queue_length{pool="web"} or poolscale_lb_requests_held)'
    c = pool(min=0, max=2, initial=0, interval="1s", extra=f"""policy:
  kind: target
  target:
    metrics:
      - query: '{RECEIVED}'
        type: total
        value: 5
    backlog:
      query: '{held}'
      drain: 10s
    warmup: 1s
    stabilization: 3s
prometheus:
  url: http://127.0.0.1:{port}
  timeout: 300ms
""")
    web = tmp_path / "state" / "targets-web.json"
    wait_until(web.exists, "the empty pool published", timeout=20)
    lb = LB(tmp_path, "--mode", "http", "--targets-file", str(web),
            "--hold-when-empty", "60s")
    try:
        prom = prometheus(tmp_path / "state" / "targets-metrics.json", port=port,
                          static=["%s:%d" % lb.maddr])
        wait_until(lambda: prom.value("poolscale_lb_requests_held") == 0,
                   "the lb scraped", timeout=30, every=0.2)
        assert status(c)["desired"] == 0 and status(c)["members"] == []
        t0 = time.monotonic()
        first = Conn(lb.addr)
        first.send(b"GET /load HTTP/1.1\r\nHost: a\r\n\r\n")
        r = first.read(timeout=60)
        took = time.monotonic() - t0
        print(f"the first request waited {took:.1f} s for the pool's first member")
        assert r.status == 200, r
        changes = desired_changes(c)
        assert changes and changes[0][1:3] == (0, 1), changes
        assert "backlog" in changes[0][3], changes
        assert metric(lb.metrics(), "poolscale_lb_requests_held_total") == 1
        # idle again: the received rate falls to 0 and, after the 3 s
        # window, so does the pool
        wait_until(lambda: status(c)["desired"] == 0, "back to zero", timeout=60,
                   every=0.2)
        wait_until(lambda: status(c)["members"] == [], "no member left", timeout=30,
                   every=0.2)
        assert [x[1:3] for x in desired_changes(c)] == [(0, 1), (1, 0)], desired_changes(c)
    finally:
        lb.finish()
