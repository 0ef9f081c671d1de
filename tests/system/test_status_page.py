"""The controller's status page (GET /) and its history (GET
/api/v1/history): the JSON's shape and values on a real local pool, the
page's self-containment and auth, then the page itself in Debian's headless
Chromium (tests/system/browser.py): members after `poolscale scale 3`, the
chart, no console error, a phone-sized layout, the token's login."""
import html.parser
import json
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from browser import Browser
from conftest import BIN, Conn, free_port, get, http_json, scaled, wait_until

TOKEN = "page-s3cret-token"


def api_get(c, path, token=None):
    st, body = http_json("GET", c.api + path, token=token)
    assert st == 200, (path, st, body)
    return body


def scale(c, n, token_file=None):
    args = [BIN, "scale", str(n), "--api", c.api]
    if token_file:
        args += ["--token-file", str(token_file)]
    r = subprocess.run(args, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr.decode()


def addr(c):
    host, port = c.api[len("http://"):].rsplit(":", 1)
    return host, int(port)


class Links(html.parser.HTMLParser):
    """Every src, href, action and the like in a page."""

    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href", "action", "formaction", "data", "poster", "srcset"):
                self.refs.append((tag, k, v or ""))


def test_page_is_html_and_self_contained(pool):
    c = pool()
    r = get(addr(c), "/")
    assert r.status == 200
    assert r.header("content-type") == "text/html; charset=utf-8"
    csp = r.header("content-security-policy")
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp, csp
    assert r.header("cache-control") == "no-store"
    page = r.body.decode()
    assert page.startswith("<!doctype html>")
    assert "<meta name='viewport'" in page
    links = Links()
    links.feed(page)
    # Nothing fetched from another host: no absolute URL at all, and every
    # reference is inline (data:) or relative to this controller.
    for tag, k, v in links.refs:
        u = urllib.parse.urlparse(v)
        assert u.scheme in ("", "data") and not u.netloc, (tag, k, v)
    assert "http://" not in page and "https://" not in page
    assert "@import" not in page and "url(" not in page
    conn = Conn(addr(c))
    try:
        h = conn.request("HEAD", "/")
        assert h.status == 200 and h.header("content-length") == str(len(r.body))
    finally:
        conn.close()
    st, _ = http_json("POST", c.api + "/", b"x")
    assert st == 405


def test_page_shell_holds_no_data_behind_a_token(pool, tmp_path):
    tok = tmp_path / "token"
    tok.write_text(TOKEN + "\n")
    c = pool(token_file=str(tok), initial=2)
    wait_until(lambda: len(api_get(c, "/api/v1/status", TOKEN)["members"]) == 2,
               "2 members", timeout=10)
    st = api_get(c, "/api/v1/status", TOKEN)
    r = get(addr(c), "/")
    assert r.status == 200
    page = r.body.decode()
    for m in st["members"]:
        assert m["address"] not in page and m["id"] not in page
    # The JSON stays behind the token.
    for path in ("/api/v1/status", "/api/v1/history", "/api/v1/events"):
        assert http_json("GET", c.api + path)[0] == 401, path
        assert http_json("GET", c.api + path, token="wrong")[0] == 401, path
    assert api_get(c, "/api/v1/history", TOKEN)["points"]


def test_history_shape_and_scale(pool, tmp_path):
    c = pool(min=1, max=5, initial=1, interval="1s")
    wait_until(lambda: len(api_get(c, "/api/v1/history")["points"]) >= 2, "2 points",
               timeout=10)
    h = api_get(c, "/api/v1/history")
    assert set(h) == {"interval_s", "capacity", "points"}
    assert h["interval_s"] == 1.0
    assert h["capacity"] == 3600            # an hour at 1 s, the most the ring holds
    assert 0 < len(h["points"]) <= h["capacity"]
    for p in h["points"]:
        assert set(p) == {"time", "desired", "ready", "metric", "need"}, p
        assert isinstance(p["time"], float) and isinstance(p["desired"], int)
        assert isinstance(p["ready"], int)
        assert p["metric"] is None and p["need"] is None     # no policy: no metric
        assert p["desired"] == 1
    times = [p["time"] for p in h["points"]]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert abs(times[-1] - time.time()) < scaled(5)

    scale(c, 3)
    wait_until(lambda: api_get(c, "/api/v1/history")["points"][-1]["desired"] == 3,
               "desired 3 in the history", timeout=5)
    wait_until(lambda: api_get(c, "/api/v1/history")["points"][-1]["ready"] == 3,
               "ready 3 in the history", timeout=15)
    pts = api_get(c, "/api/v1/history")["points"]
    # The course, oldest first: 1, then 3; ready never above desired here.
    desired = [p["desired"] for p in pts]
    assert desired[0] == 1 and desired[-1] == 3
    assert desired == sorted(desired)
    assert all(p["ready"] <= 3 for p in pts)
    # since: only the points after it, so a page can fetch what is new.
    since = pts[-2]["time"]
    newer = api_get(c, f"/api/v1/history?since={since!r}")["points"]
    assert newer and all(p["time"] > since for p in newer)
    assert newer[0]["time"] == pts[-1]["time"]
    assert api_get(c, "/api/v1/history?since=99999999999")["points"] == []
    for bad in ("abc", "", "-1", "1e400", "nan"):
        st, body = http_json("GET", c.api + "/api/v1/history?since=" + bad)
        assert st == 400 and "since" in body["error"], (bad, st, body)


class MemberProm:
    """A stand-in Prometheus: the instant query answers one value per
    address of the pool's /24: 0.4 + 0.05 x the last octet."""

    def __init__(self, prefix):
        self.prefix = prefix

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                result = [{"metric": {"instance": f"{prefix}{i}:9100"},
                           "value": [time.time(), str(0.4 + 0.05 * i)]} for i in range(1, 9)]
                raw = json.dumps({"status": "success", "data": {
                    "resultType": "vector", "result": result}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_status_has_each_members_metric_and_the_need(pool):
    prom = MemberProm(pool.prefix)
    try:
        c = pool(min=1, max=4, initial=2, interval="1s", extra=f"""policy:
  kind: target
  target:
    value: 0.5
    warmup: 0s
prometheus:
  url: http://127.0.0.1:{prom.port}
  timeout: 500ms
""")

        def both_counted():
            # A decision made while a member was still pending has its
            # sample but left it out of the mean (it was warming up): wait
            # for one that counted both.
            st = api_get(c, "/api/v1/status")
            ms = [m for m in st["members"] if m["state"] == "running"]
            if len(ms) != 2 or any(m["metrics"][0] is None for m in ms):
                return None
            mean = sum(m["metrics"][0] for m in ms) / 2
            return st if st["policy"]["metric"] == pytest.approx(mean) else None
        st = wait_until(both_counted, "a decision on both members' samples",
                        timeout=15)
        for m in st["members"]:
            octet = int(m["address"].rsplit(".", 1)[1])
            assert m["metrics"] == [pytest.approx(0.4 + 0.05 * octet)], m
        mean = sum(m["metrics"][0] for m in st["members"]) / 2
        p = st["policy"]
        assert p["metric"] == pytest.approx(mean)
        assert p["need"] == pytest.approx(2 * mean / 0.5)
        assert p["target"] == 0.5
        assert p["metrics"] == [{"kind": "average", "target": 0.5,
                                 "value": pytest.approx(mean)}]
        # The next interval's point records that decision.
        last = wait_until(lambda: (lambda p: p if p["metric"] == pytest.approx(mean) else None)(
            api_get(c, "/api/v1/history")["points"][-1]), "the metric in the history",
            timeout=5)
        assert last["need"] == pytest.approx(p["need"])
    finally:
        prom.stop()


# --- the page in a real browser ------------------------------------------

ROWS = "Array.from(document.querySelectorAll('#members tr[data-id]'))"


def page_rows(b):
    return b.eval(ROWS + ".map((r) => [r.dataset.id, r.children[1].textContent, "
                  "r.children[2].textContent])")


def chart_points(b, series):
    """How many points the chart's polylines of one series hold."""
    return b.eval(f"Array.from(document.querySelectorAll(\"#chart polyline[data-series="
                  f"'{series}']\")).reduce((n, e) => n + e.points.numberOfItems, 0)")


@pytest.fixture
def browser(tmp_path):
    b = Browser(tmp_path)
    yield b
    b.close()


def test_browser_shows_the_pool_after_scale(pool, browser):
    c = pool(min=1, max=5, initial=1, interval="1s")
    browser.navigate(c.api + "/")
    wait_until(lambda: len(page_rows(browser)) == 1, "one member on the page",
               timeout=15, every=0.1)
    scale(c, 3)
    # Once the API has three members, the page shows them within a refresh
    # (every 2 s) plus the time to fetch and draw.
    st = wait_until(lambda: (lambda s: s if len(s["members"]) == 3 else None)(
        api_get(c, "/api/v1/status")), "3 members in the API", timeout=10, every=0.05)
    rows = wait_until(lambda: (lambda r: r if len(r) == 3 else None)(page_rows(browser)),
                      "three members on the page", timeout=2.0 + 1.5, every=0.05)
    assert sorted(r[1] for r in rows) == sorted(m["address"] for m in st["members"])
    wait_until(lambda: all(r[2] == "running" for r in page_rows(browser)), "3 running",
               timeout=15, every=0.1)
    # The chart has points: desired's line reaches 3 and ready's too.
    wait_until(lambda: chart_points(browser, "desired") >= 3 and
               chart_points(browser, "ready") >= 3, "points on the chart",
               timeout=10, every=0.1)
    top = browser.eval("Math.min(...Array.from(document.querySelectorAll("
                       "\"#chart polyline[data-series='desired'] \")).flatMap((e) => "
                       "Array.from({length: e.points.numberOfItems}, "
                       "(_, i) => e.points.getItem(i).y)))")
    bottom = browser.eval("Math.max(...Array.from(document.querySelectorAll("
                          "\"#chart polyline[data-series='desired'] \")).flatMap((e) => "
                          "Array.from({length: e.points.numberOfItems}, "
                          "(_, i) => e.points.getItem(i).y)))")
    assert top < bottom, "desired went from 1 to 3: its line must rise"
    policy = browser.eval("document.getElementById('policy').textContent")
    assert "kind" in policy and "holding" in policy
    events = browser.eval("document.getElementById('events').textContent")
    assert "desired size 1 -> 3" in events
    # A phone: the page fits its width (wide tables scroll in their box).
    browser.set_viewport(390, 844, mobile=True)
    wait_until(lambda: browser.eval("document.documentElement.scrollWidth") <= 390,
               "no sideways scroll at 390 px", timeout=5, every=0.1)
    assert browser.problems() == []


def test_browser_login_with_the_token(pool, tmp_path, browser):
    tok = tmp_path / "token"
    tok.write_text(TOKEN + "\n")
    c = pool(token_file=str(tok), min=1, max=5, initial=2, interval="1s")
    wait_until(lambda: len(api_get(c, "/api/v1/status", TOKEN)["members"]) == 2,
               "2 members", timeout=10)
    addresses = [m["address"] for m in api_get(c, "/api/v1/status", TOKEN)["members"]]
    browser.navigate(c.api + "/")
    visible = "!document.getElementById('login').hidden"
    wait_until(lambda: browser.eval(visible), "the login form", timeout=15, every=0.1)
    dom = browser.eval("document.documentElement.outerHTML")
    for a in addresses:
        assert a not in dom
    assert page_rows(browser) == []

    browser.type_text("#token", "not-the-token")
    wait_until(lambda: "refused" in browser.eval("document.getElementById('loginmsg')"
                                                 ".textContent"),
               "the wrong token refused", timeout=10, every=0.1)
    assert browser.eval(visible)
    assert browser.eval("sessionStorage.length") == 0
    dom = browser.eval("document.documentElement.outerHTML")
    assert all(a not in dom for a in addresses)

    browser.type_text("#token", TOKEN)
    rows = wait_until(lambda: (lambda r: r if len(r) == 2 else None)(page_rows(browser)),
                      "the members after login", timeout=10, every=0.1)
    assert sorted(r[1] for r in rows) == sorted(addresses)
    assert not browser.eval(visible)
    assert browser.eval("sessionStorage.getItem('poolscale-token')") == TOKEN
    assert browser.eval("localStorage.length") == 0
    wait_until(lambda: chart_points(browser, "desired") >= 1, "points on the chart",
               timeout=10, every=0.1)
    # The token never went into a URL (it travels in the Authorization header).
    urls = browser.request_urls()
    assert any("/api/v1/pools/web/status" in u for u in urls)
    assert all(TOKEN not in u and "not-the-token" not in u for u in urls), urls

    # Sign out: the data leaves the page, the form comes back.
    browser.eval("document.getElementById('logout').click()")
    wait_until(lambda: browser.eval(visible), "the login form again", timeout=10,
               every=0.1)
    dom = browser.eval("document.documentElement.outerHTML")
    assert all(a not in dom for a in addresses)
    assert browser.eval("sessionStorage.length") == 0

    # The 401s before a token are expected answers, not errors of the page.
    def expected_401(e):
        entry = e.get("params", {}).get("entry", {})
        return (e["method"] == "Log.entryAdded" and entry.get("source") == "network" and
                "401" in entry.get("text", ""))
    assert browser.problems(allow=expected_401) == []
