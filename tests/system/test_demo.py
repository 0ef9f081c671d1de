"""`poolscale demo --short`, the whole system for real: real Prometheus, the
controller's local pool, the lb and the load generator. It must scale out
and back in with no failed request, leave a complete report, and stop
every process it started whether it ends, fails or is interrupted."""
import contextlib
import csv
import json
import os
import re
import signal
import socket
import subprocess
import xml.etree.ElementTree as ET

from conftest import BIN, ROOT, processes, processes_on, random_address_base, wait_until


def demo_args(tmp_path, base, *extra):
    return [BIN, "demo", "--short", "--free-ports", "--report", str(tmp_path / "report"),
            "--work-dir", str(tmp_path / "work"), "--address-base", base,
            "--deploy-dir", os.path.join(ROOT, "deploy"), *extra]


def children_of_work_dir(tmp_path):
    """(pid, command line) of processes naming this test's work dir
    (Prometheus, the controller and the lb all do)."""
    work = str(tmp_path / "work")
    return processes(lambda cmd: work in cmd)


def assert_all_gone(tmp_path, base):
    prefix = base.rsplit(".", 1)[0] + "."
    assert processes_on(prefix) == [], "instances left behind"
    assert children_of_work_dir(tmp_path) == [], "processes left behind"


def test_demo_short_scales_out_and_in_without_failures(tmp_path):
    base = random_address_base()
    r = subprocess.run(demo_args(tmp_path, base), capture_output=True, text=True, timeout=400)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    report = tmp_path / "report"
    s = json.loads((report / "summary.json").read_text())
    assert s["pass"] and s["scaled_out"] and s["scaled_in"] and s["no_failures"], s
    assert s["largest_ready"] >= 2, s
    assert s["requests"]["failed"] == 0 and s["requests"]["ok"] > 1000, s
    assert s["rise_to_scale_out_s"] is not None and s["drop_to_min_s"] is not None, s
    assert "PASS: the pool scaled out" in r.stdout
    # The rows: a header and a row every few seconds with the pool's size.
    assert "offered/s" in r.stdout and "desired/ready" in r.stdout
    # The controller's status page, at its API address.
    api = re.search(r"controller API (http://127\.0\.0\.1:\d+)", r.stdout)
    assert api and f"status page {api.group(1)}/ " in r.stdout, r.stdout[:800]

    rows = list(csv.DictReader((report / "timeseries.csv").open()))
    assert len(rows) > 60
    assert max(int(x["ready"]) for x in rows) == s["largest_ready"]
    assert int(rows[-1]["desired"]) == 1
    assert all(int(x["errors_total"]) == 0 for x in rows)
    # The summary's largest row p95 is the largest of the rows' own, each
    # over its 5 s (not one second's); the instance-seconds are what the
    # rows' sizes add up to, second by second.
    row_p95 = [float(x["row_p95_ms"]) for x in rows if x["row_p95_ms"]]
    assert len(row_p95) >= len(rows) // 6, "a row every 5 s"
    assert abs(s["row_p95_max_ms"] - max(row_p95)) < 0.006, (s["row_p95_max_ms"], max(row_p95))
    sizes, prev = 0.0, 0.0
    for x in rows:
        t = float(x["t_s"])
        sizes += max(int(x["desired"]), int(x["ready"]), 0) * (t - prev)
        prev = t
    assert abs(s["instance_seconds"] - sizes) < 1e-6 * sizes + 1, (s["instance_seconds"], sizes)
    assert s["instance_seconds"] > len(rows) * 0.9, "at least one instance the whole run"
    # The oracle on the same profile in the simulator: it too keeps the
    # minimum (one instance) the whole run, and grows for the peak.
    assert s["oracle_instance_seconds"] > len(rows) * 0.9 * 1.2, s
    assert f"(the oracle: {s['oracle_instance_seconds']:.0f}," in (report / "summary.txt").read_text()
    summary = (report / "summary.txt").read_text()
    assert f"largest 5 s row p95               {s['row_p95_max_ms']:.0f} ms" in summary

    svg = ET.parse(report / "chart.svg").getroot()
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    for title in ("load (", "pool size (", "mean CPU of the pool (", "p95 latency (",
                  "requests sent to each backend ("):
        assert any(t and t.startswith(title) for t in texts), texts
    paths = list(svg.iter("{http://www.w3.org/2000/svg}path"))
    # The lb's requests, backend by backend (--short: the pool's 4
    # addresses): every one that served is drawn, and together they are
    # the requests answered (the counters' rise between the first and the
    # last sample; retries aside, which a calm run has few of).
    sent = {k: [float(x[k]) if x[k] else None for x in rows]
            for k in (f"sent_rps_{i}" for i in range(1, 5))}
    used = [k for k, v in sent.items() if any(r for r in v if r)]
    assert "sent_rps_1" in used and len(used) >= s["largest_ready"], (used, s)
    total, prev = 0.0, 0.0
    for i, x in enumerate(rows):
        t = float(x["t_s"])
        total += sum(sent[k][i] or 0 for k in used) * (t - prev) if i else 0
        prev = t
    assert abs(total - s["requests"]["ok"]) < 0.03 * s["requests"]["ok"] + 30, \
        (total, s["requests"])
    # While the pool is at its largest, every member gets requests at once
    # (HTTP mode: per request, not per connection).
    big = [i for i, x in enumerate(rows) if int(x["ready"]) == s["largest_ready"]]
    late = big[len(big) // 2:]
    assert late and all(any(sent[k][i] for i in late) for k in used[:s["largest_ready"]]), \
        (used, [rows[i] for i in late])
    # 2 load, 3 pool size (desired, ready, the forecast), 2 CPU, 1 p95, and
    # one line per backend that served
    assert len(paths) == 8 + len(used) and all(len(p.get("d")) > 100 for p in paths[:8])
    assert any(t and t.startswith("forecast") for t in texts), texts
    fc = [float(x["forecast"]) for x in rows if x["forecast"]]
    assert len(fc) > len(rows) // 2 and max(fc) >= 2, "the forecast, second by second"

    events = (report / "events.txt").read_text()
    assert "scale_out" in events and "removed" in events, events
    assert (report / "logs" / "controller.log").stat().st_size > 0
    assert_all_gone(tmp_path, base)


@contextlib.contextmanager
def demo_running(tmp_path, base):
    """A demo in the background, its output in demo.out, yielded once its
    load has started; killed on the way out if it is still running."""
    log = open(tmp_path / "demo.out", "w")
    p = subprocess.Popen(demo_args(tmp_path, base), stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "the load starts now" in (tmp_path / "demo.out").read_text(),
                   "the demo running", timeout=90, every=0.2)
        yield p
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        log.close()


def test_demo_interrupted_stops_everything(tmp_path):
    base = random_address_base()
    with demo_running(tmp_path, base) as p:
        wait_until(lambda: len(processes_on(base.rsplit(".", 1)[0] + ".")) >= 1,
                   "an instance", timeout=10)
        p.send_signal(signal.SIGINT)
        assert p.wait(90) == 130, (tmp_path / "demo.out").read_text()
    out = (tmp_path / "demo.out").read_text()
    assert "interrupted" in out, out
    assert "INTERRUPTED" in (tmp_path / "report" / "summary.txt").read_text()
    assert_all_gone(tmp_path, base)


def test_demo_port_taken_is_a_clear_error_and_starts_nothing(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    try:
        base = random_address_base()
        args = demo_args(tmp_path, base)
        args.remove("--free-ports")
        args += ["--lb-listen", f"127.0.0.1:{port}"]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    finally:
        s.close()
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"127.0.0.1:{port} is not free" in r.stderr and "--lb-listen" in r.stderr
    assert not (tmp_path / "work" / "state").exists()
    assert_all_gone(tmp_path, base)


def test_demo_bad_flags_exit_2(tmp_path):
    for args, msg in ((["--policy", "magic"], "--policy"), (["--max", "1"], "--max"),
                      (["--address-base", "10.0.0.1"], "127.0.0.0/8"), (["--nope"], "--nope")):
        r = subprocess.run([BIN, "demo", "--work-dir", str(tmp_path / "w"), *args],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and msg in r.stderr, r.stderr
    r = subprocess.run([BIN, "demo", "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "--policy" in r.stdout


def test_demo_component_dying_fails_and_stops_everything(tmp_path):
    base = random_address_base()
    with demo_running(tmp_path, base) as p:
        lb = [pid for pid, cmd in children_of_work_dir(tmp_path) if " lb " in cmd]
        assert len(lb) == 1
        os.kill(lb[0], signal.SIGKILL)
        assert p.wait(90) == 1, (tmp_path / "demo.out").read_text()
    summary = (tmp_path / "report" / "summary.txt").read_text()
    assert "FAIL: lb exited unexpectedly" in summary, summary
    assert_all_gone(tmp_path, base)
