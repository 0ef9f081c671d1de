"""Scheduled scaling (docs/policies.md): a window's bounds in the real
controller (status, metric, events), in `poolscale simulate`, and a
malformed schedule as FILE:LINE and exit 2."""
import csv
import datetime
import subprocess

from conftest import BIN, http_json, metric, wait_until
from test_controller import running


def check_config(tmp_path, text):
    cfg = tmp_path / "poolscale.yml"
    cfg.write_text(text)
    r = subprocess.run([BIN, "controller", "--config", str(cfg), "--check-config"],
                       capture_output=True, timeout=30)
    return cfg, r


def test_malformed_schedule_is_file_line_exit_2(tmp_path):
    cfg, r = check_config(tmp_path, "min: 1\nmax: 4\nschedule:\n"
                          "  - name: office\n    cron: \"0 8 * * mon-fry\"\n"
                          "    duration: 10h\n    min: 2\n    timezone: Mars/Olympus\n"
                          "  - name: night\n    cron: \"0 22 * *\"\n    end: \"0 6 * * *\"\n"
                          "    min: 5\n    max: 3\n")
    assert r.returncode == 2, r
    err = r.stderr.decode()
    assert f"{cfg}:5: schedule[0].cron: day of week: \"fry\" is not a number or a name" in err
    assert f"{cfg}:8: schedule[0].timezone: unknown time zone \"Mars/Olympus\"" in err
    assert f"{cfg}:10: schedule[1].cron: 4 fields, expected 5" in err
    assert f"{cfg}:9: schedule[1]: min (5) is above max (3)" in err
    cfg, r = check_config(tmp_path, "min: 1\nmax: 4\nschedule:\n"
                          "  - name: office\n    cron: \"0 8 * * mon-fri\"\n"
                          "    duration: 10h\n    min: 2\n    timezone: Europe/Zurich\n")
    assert r.returncode == 0, r


def test_open_window_raises_min_in_the_controller(pool):
    # One window open now (every minute starts it, for an hour) and one
    # that opens twelve hours from now.
    later = (datetime.datetime.now(datetime.timezone.utc).hour + 12) % 24
    c = pool(initial=1, extra=(
        "schedule:\n"
        "  - name: always\n    cron: \"* * * * *\"\n    duration: 1h\n    min: 2\n"
        f"  - name: later\n    cron: \"0 {later} * * *\"\n    duration: 1m\n    min: 4\n"
        "    timezone: Europe/Zurich\n"))
    wait_until(lambda: len(running(c.api)) == 2, "2 running: the window's min", timeout=30)
    st, body = http_json("GET", c.api + "/api/v1/status")
    assert st == 200
    assert (body["min"], body["max"], body["desired"]) == (2, 5, 2)
    win = {w["name"]: w for w in body["schedule"]}
    assert win["always"]["active"] and win["always"]["since"] > 0
    assert (win["always"]["min"], win["always"]["max"]) == (2, None)
    assert not win["later"]["active"] and win["later"]["since"] is None
    assert win["later"]["timezone"] == "Europe/Zurich"
    st, text = http_json("GET", c.api + "/metrics")
    assert metric(text, "poolscale_schedule_active", {"name": "always"}) == 1
    assert metric(text, "poolscale_schedule_active", {"name": "later"}) == 0
    assert metric(text, "poolscale_pool_min_size") == 2
    st, ev = http_json("GET", c.api + "/api/v1/events")
    opened = [e for e in ev["events"] if e["kind"] == "schedule"]
    assert len(opened) == 1, ev
    assert opened[0]["message"] == "schedule window always opened (min 2): bounds now [2, 5]"
    r = subprocess.run([BIN, "status", "--api", c.api], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert "min 2, max 5" in r.stdout and "schedule always: open" in r.stdout, r.stdout
    assert "schedule later: closed" in r.stdout, r.stdout
    # The API keeps to the window's bounds and says why.
    st, body = http_json("PUT", c.api + "/api/v1/pool/size", {"size": 1})
    assert st == 400 and "schedule window always open" in body["error"], body


def test_simulate_applies_the_schedule_by_simulated_time(tmp_path):
    cfg = tmp_path / "c.yml"
    # Monday 08:00 Zurich time; the window opens at 09:00 there, for 30 min.
    cfg.write_text("min: 1\nmax: 10\ninterval: 15s\n"
                   "schedule:\n  - name: standup\n    cron: \"0 9 * * mon-fri\"\n"
                   "    duration: 30m\n    min: 5\n    timezone: Europe/Zurich\n"
                   "policy:\n  kind: target\n"
                   "simulate:\n  capacity: 10\n  start: 2026-01-05T08:00:00+01:00\n"
                   "  score_interval: 15s\n")
    out = tmp_path / "out"
    r = subprocess.run([BIN, "simulate", "--config", str(cfg), "--profile", "0:3,7200:3",
                        "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    dec = list(csv.DictReader((out / "decisions.csv").open()))
    ups = [d for d in dec if int(d["to"]) > int(d["from"])]
    assert len(ups) == 1 and int(ups[0]["to"]) == 5, dec
    assert 3600 <= float(ups[0]["t_s"]) < 3600 + 15
    assert "schedule" in ups[0]["reason"]
    rows = list(csv.DictReader((out / "timeseries.csv").open()))
    inside = [int(x["desired"]) for x in rows if 3615 < float(x["t_s"]) < 5400]
    assert inside and min(inside) == 5


def test_size_above_max_survives_restart_in_the_window(pool):
    # The window lifts max from 3 to 5; a size of 4 set in it is kept by a
    # restart while the window is still open (not clamped to the config's 3).
    c = pool(initial=1, max=3, extra=(
        "schedule:\n  - name: sale\n    cron: \"* * * * *\"\n    duration: 1h\n    max: 5\n"))
    st, body = http_json("PUT", c.api + "/api/v1/pool/size", {"size": 4})
    assert (st, body["desired"]) == (200, 4), body
    wait_until(lambda: len(running(c.api)) == 4, "4 running", timeout=30)
    c.finish()
    c2 = pool(name="controller2")
    st, body = http_json("GET", c2.api + "/api/v1/status")
    assert (body["max"], body["desired"]) == (5, 4), body
    wait_until(lambda: len(running(c2.api)) == 4, "4 running after the restart", timeout=30)
