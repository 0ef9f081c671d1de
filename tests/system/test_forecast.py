"""The forecaster's history from Prometheus, end to end: the controller on a
local pool, a stand-in Prometheus (a thread here) that answers the
decision's instant query with nothing (the policy holds) and query_range
with a synthetic daily profile, too little of it, or an error."""
import json
import math
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import free_port, http_json, metric, wait_until

DAY = 86400
PER_INSTANCE = 10     # req/s one instance carries (the total metric's value)


class FakeProm:
    """query: an empty vector; query_range: `days` of a daily sine (req/s)
    at the asked step, ending at the asked end; or an error envelope."""

    def __init__(self, days=3.0, error=None):
        self.days, self.error, self.ranges = days, error, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                u = urllib.parse.urlparse(self.path)
                q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}
                if u.path == "/api/v1/query_range":
                    status, body = fake.range(q)
                else:
                    status, body = 200, {"status": "success",
                                         "data": {"resultType": "vector", "result": []}}
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.sent = 0

    def range(self, q):
        self.ranges.append(q)
        if self.error:
            return 400, {"status": "error", "errorType": "bad_data", "error": self.error}
        end, step = int(float(q["end"])), int(float(q["step"]))
        values = []
        t = end - int(self.days * DAY)
        while t <= end:
            rps = PER_INSTANCE * (3 + math.sin(2 * math.pi * t / DAY))
            values.append([t, f"{rps:.4f}"])
            t += step
        self.sent = len(values)
        return 200, {"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {}, "values": values}]}}

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def config(port):
    return f"""policy:
  kind: target
  target:
    metrics:
      - query: 'sum by (instance) (rate(poolscale_app_requests_received_total{{pool="{{pool}}"}}[1m]))'
        type: total
        value: {PER_INSTANCE}
    warmup: 1s
    forecast:
      enabled: true
prometheus:
  url: http://127.0.0.1:{port}
  timeout: 500ms
"""


def forecast_status(c):
    st, body = http_json("GET", c.api + "/api/v1/status")
    assert st == 200, body
    return body["policy"]["forecast"]


def metrics(c):
    st, text = http_json("GET", c.api + "/metrics")
    assert st == 200
    return text


def decisions(c):
    text = metrics(c)
    return sum(metric(text, "poolscale_policy_decisions_total",
                      {"policy": "target", "direction": d}) or 0 for d in ("hold", "up", "down"))


def test_history_loads_from_query_range(pool):
    prom = FakeProm(days=3)
    try:
        c = pool(extra=config(prom.port))
        wait_until(lambda: forecast_status(c)["history_points"] > 0, "a history load",
                   timeout=15)
        fs = forecast_status(c)
        q = prom.ranges[0]
        assert q["query"] == ('sum(rate(poolscale_app_requests_received_total'
                              '{pool="web",job="pool-app"}[5m]))')
        assert q["step"] == "300"
        assert int(q["end"]) - int(q["start"]) == 14 * DAY
        assert fs["history_points"] == prom.sent
        assert fs["history_from_prometheus"] is True
        assert fs["horizon_s"] == 2.0          # warm-up 1 s + interval 1 s
        wait_until(lambda: forecast_status(c)["history_hours"] >= 71, "the span counted")
        assert forecast_status(c)["season"] not in ("short_history", "off")
        text = metrics(c)
        assert metric(text, "poolscale_forecast_history_loads_total", {"result": "ok"}) >= 1
        assert metric(text, "poolscale_forecast_horizon_seconds") == 2
        assert metric(text, "poolscale_forecast_history_seconds") >= 71 * 3600
        c.wait_log(r'forecast: history loaded" pool=web points=\d+')
        assert "too little history" not in c.logtext()
    finally:
        prom.stop()


def test_too_little_history_says_so_and_falls_back(pool):
    prom = FakeProm(days=2 / 24)
    try:
        c = pool(extra=config(prom.port))
        c.wait_log(r'forecast: too little history for a seasonal profile.*history_h=2\.',
                   timeout=15)
        wait_until(lambda: forecast_status(c)["history_points"] > 0, "a history load")
        fs = forecast_status(c)
        assert fs["season"] == "short_history"
        assert "< 1d + horizon" in fs["note"] or fs["basis"] == "none"
        # said once, not every decision: three more decisions later
        d0 = decisions(c)
        wait_until(lambda: decisions(c) >= d0 + 3, "three more decisions")
        assert c.logtext().count("too little history") == 1
    finally:
        prom.stop()


def test_history_error_is_reported_and_the_controller_goes_on(pool):
    prom = FakeProm(error="exceeded maximum resolution of 11,000 points per timeseries")
    try:
        c = pool(extra=config(prom.port))
        c.wait_log(r"forecast: could not load the history.*bad_data", timeout=15)
        wait_until(lambda: "bad_data" in forecast_status(c)["history_error"],
                   "the error in the status")
        text = metrics(c)
        assert metric(text, "poolscale_forecast_history_loads_total",
                      {"result": "failed"}) >= 1
        assert metric(text, "poolscale_forecast_history_loads_total", {"result": "ok"}) == 0
    finally:
        prom.stop()
