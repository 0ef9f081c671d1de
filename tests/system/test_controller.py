"""`poolscale controller` with its local pool, started for real."""
import json
import os
import signal
import subprocess
import threading
import time

from conftest import BIN, Conn, get, http_json, processes_on, wait_until


def sd_file(tmp_path, name):
    return tmp_path / "state" / f"targets-{name}.json"


def sd_addresses(path):
    """Target addresses in a file_sd file (without ports)."""
    try:
        groups = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return sorted(t.rsplit(":", 1)[0] for g in groups for t in g["targets"])


def running(api, token=None):
    st, body = http_json("GET", api + "/api/v1/status", token=token)
    assert st == 200, body
    return sorted(m["address"] for m in body["members"] if m["state"] == "running")


def test_pool_of_three_published_exactly(pool, tmp_path):
    c = pool(initial=3)
    wait_until(lambda: len(running(c.api)) == 3, "3 running members", timeout=20)
    addrs = running(c.api)
    assert len(set(addrs)) == 3 and all(a.startswith(pool.prefix) for a in addrs)
    assert len(processes_on(pool.prefix)) == 3
    # One file per set, each replaced atomically, one after the other: wait
    # for both rather than read the second the instant the first is there.
    wait_until(lambda: sd_addresses(sd_file(tmp_path, "metrics")) == addrs, "file_sd of 3")
    wait_until(lambda: sd_addresses(sd_file(tmp_path, "web")) == addrs, "web file_sd of 3")
    st, groups = http_json("GET", c.api + "/api/v1/sd?set=web")
    assert st == 200
    assert sorted(t.rsplit(":", 1)[0] for g in groups for t in g["targets"]) == addrs
    assert {g["labels"]["pool"] for g in groups} == {"web"}
    assert all(g["targets"][0].endswith(":8080") for g in groups)
    for a in addrs:  # each really serves
        assert get((a, 8080), "/health").status == 200
    assert http_json("GET", c.api + "/api/v1/sd?set=nope")[0] == 404
    assert http_json("GET", c.api + "/api/v1/sd")[0] == 400
    st, text = http_json("GET", c.api + "/metrics")
    assert 'poolscale_pool_members{pool="web",state="running"} 3' in text
    assert http_json("GET", c.api + "/-/ready")[0] == 200


def test_prometheus_follows_the_pool(pool, prometheus, tmp_path):
    c = pool(initial=3)
    prom = prometheus(sd_file(tmp_path, "metrics"))
    wait_until(lambda: prom.value('count(up{job="pool"} == 1)') == 3,
               "Prometheus scraping 3 instances", timeout=40, every=0.25)
    # node_cpu from each instance arrives with the pool labels.
    assert prom.value('count(count by (instance) (node_cpu_seconds_total{pool="web"}))') == 3
    st, body = http_json("PUT", c.api + "/api/v1/pool/size", {"size": 1})
    assert (st, body["desired"]) == (200, 1)
    wait_until(lambda: prom.value('count(up{job="pool"} == 1)') == 1,
               "Prometheus down to 1 instance", timeout=40, every=0.25)


def test_killed_instance_replaced_and_unpublished(pool, tmp_path):
    c = pool(initial=2, interval="1s")
    wait_until(lambda: len(running(c.api)) == 2, "2 running", timeout=20)
    wait_until(lambda: len(sd_addresses(sd_file(tmp_path, "web")) or []) == 2, "2 published")
    st, body = http_json("GET", c.api + "/api/v1/status")
    victim = body["members"][0]
    pid = [p for p in processes_on(victim["address"] + ":")][0]
    os.kill(pid, signal.SIGKILL)
    t0 = time.monotonic()
    wait_until(lambda: victim["address"] not in (sd_addresses(sd_file(tmp_path, "web")) or []),
               "dead address unpublished", timeout=5, every=0.02)
    unpublished = time.monotonic() - t0
    assert unpublished <= 1.0, f"dead address published {unpublished:.2f}s (> one interval)"

    def replaced():
        st, b = http_json("GET", c.api + "/api/v1/status")
        ids = {m["id"] for m in b["members"]}
        return victim["id"] not in ids and len(b["members"]) == 2
    wait_until(replaced, "replacement started", timeout=2.5, every=0.05)  # two intervals
    wait_until(lambda: len(running(c.api)) == 2, "replacement running", timeout=10)
    kinds = [e["kind"] for e in http_json("GET", c.api + "/api/v1/events")[1]["events"]]
    assert "died" in kinds
    st, text = http_json("GET", c.api + "/metrics")
    assert 'poolscale_instances_replaced_total{pool="web"} 1' in text


def test_restart_adopts_and_destroy_cleans(pool, tmp_path):
    c = pool(initial=3)
    wait_until(lambda: len(running(c.api)) == 3, "3 running", timeout=20)
    before = sorted(processes_on(pool.prefix))
    ids_before = sorted(m["id"] for m in http_json("GET", c.api + "/api/v1/status")[1]["members"])
    c.expect_rc = -signal.SIGKILL
    c.signal(signal.SIGKILL)
    c.wait_exit(5)
    assert sorted(processes_on(pool.prefix)) == before  # instances outlive it
    c2 = pool(name="controller2")
    assert "adopted=3" in c2.logtext()
    wait_until(lambda: len(running(c2.api)) == 3, "3 adopted running", timeout=10)
    ids_after = sorted(m["id"] for m in http_json("GET", c2.api + "/api/v1/status")[1]["members"])
    assert ids_after == ids_before
    # Stable for a few intervals: no extra process appears.
    end = time.monotonic() + 3
    while time.monotonic() < end:
        assert sorted(processes_on(pool.prefix)) == before
        time.sleep(0.2)
    # A second controller on the same state dir is refused.
    r = subprocess.run([BIN, "controller", "--config", str(pool.state["config"])],
                       capture_output=True, timeout=10)
    assert r.returncode == 1 and b"held by another process" in r.stderr
    # pool destroy refuses while the controller runs, works after.
    r = subprocess.run([BIN, "pool", "destroy", "--config", str(pool.state["config"])],
                       capture_output=True, timeout=30)
    assert r.returncode == 1 and b"stop it first" in r.stderr
    c2.finish()
    assert sorted(processes_on(pool.prefix)) == before  # SIGTERM leaves them running
    r = subprocess.run([BIN, "pool", "destroy", "--config", str(pool.state["config"])],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert processes_on(pool.prefix) == []
    assert sd_addresses(sd_file(tmp_path, "web")) == []


def test_scale_in_loses_no_request_in_flight(pool, tmp_path):
    c = pool(initial=2, work_ms=5)
    wait_until(lambda: len(running(c.api)) == 2, "2 running", timeout=20)
    web = sd_file(tmp_path, "web")
    wait_until(lambda: len(sd_addresses(web) or []) == 2, "2 published")
    results = []
    served_by = set()
    stop_at = time.monotonic() + 12

    def client(k):
        n = 0
        while n < 120 and time.monotonic() < stop_at:
            targets = sd_addresses(web) or []
            if not targets:
                continue
            addr = targets[(n + k) % len(targets)]
            n += 1
            try:
                conn = Conn((addr, 8080), timeout=10)
            except ConnectionRefusedError:
                continue  # never sent: not a request in flight
            try:
                r = conn.request("GET", "/load?ms=100")
                results.append(r.status)
                served_by.add(r.body.split(b" on ")[-1].strip().decode())
            except Exception as e:  # noqa: BLE001 - counted as a failure
                results.append(repr(e))
            finally:
                conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    wait_until(lambda: len(results) >= 8, "load running", timeout=10)
    st, _ = http_json("PUT", c.api + "/api/v1/pool/size", {"size": 1})
    assert st == 200
    wait_until(lambda: len(processes_on(pool.prefix)) == 1, "scaled in to 1", timeout=20)
    for t in threads:
        t.join(30)
    failures = [r for r in results if r != 200]
    assert failures == [], f"{len(failures)} of {len(results)} failed: {failures[:5]}"
    assert len(served_by) == 2  # the drained instance did serve requests
    kinds = [e["kind"] for e in http_json("GET", c.api + "/api/v1/events")[1]["events"]]
    assert "drain" in kinds and "drained" in kinds


def test_api_rejects_bad_input_and_changes_nothing(pool):
    c = pool(initial=1, max=3)
    wait_until(lambda: len(running(c.api)) == 1, "1 running", timeout=20)
    url = c.api + "/api/v1/pool/size"
    for body, want in [({"size": 4}, "outside [min, max] = [1, 3]"),
                       ({"size": 0}, "outside"),
                       (b'{"size": 2', "not JSON"),
                       ({"size": "2"}, "whole number"),
                       ({"size": 2, "extra": 1}, "whole number"),
                       (b"[]", "whole number")]:
        st, err = http_json("PUT", url, body)
        assert st == 400 and want in err["error"], (body, err)
    assert http_json("POST", url, {"size": 2})[0] == 405
    assert http_json("GET", c.api + "/nope")[0] == 404
    st, body = http_json("GET", c.api + "/api/v1/status")
    assert body["desired"] == 1 and len(body["members"]) == 1
    assert not any(e["kind"] == "desired"
                   for e in http_json("GET", c.api + "/api/v1/events")[1]["events"])
    r = subprocess.run([BIN, "scale", "9", "--api", c.api], capture_output=True, timeout=10)
    assert r.returncode == 2 and b"outside" in r.stderr
    r = subprocess.run([BIN, "scale", "2", "--api", c.api], capture_output=True, timeout=10)
    assert r.returncode == 0
    r = subprocess.run([BIN, "status", "--api", c.api], capture_output=True, timeout=10)
    assert r.returncode == 0 and b"desired 2" in r.stdout


def test_bearer_token(pool, tmp_path):
    tok = tmp_path / "token"
    tok.write_text("s3cret-token\n")
    c = pool(token_file=str(tok))
    assert http_json("GET", c.api + "/api/v1/status")[0] == 401
    assert http_json("GET", c.api + "/api/v1/status", token="wrong")[0] == 401
    assert http_json("GET", c.api + "/metrics", token="s3cret-tokeN")[0] == 401
    st, body = http_json("PUT", c.api + "/api/v1/pool/size", {"size": 2}, token="nope")
    assert st == 401
    assert http_json("GET", c.api + "/api/v1/status", token="s3cret-token")[1]["desired"] == 1
    assert "s3cret" not in c.logtext()
    r = subprocess.run([BIN, "status", "--api", c.api, "--token-file", str(tok)],
                       capture_output=True, timeout=10)
    assert r.returncode == 0


def test_bad_config_file_line_exit_2(tmp_path):
    cfg = tmp_path / "bad.yml"
    cfg.write_text("min: 1\nmax: 3\nhealth:\n  interval: soon\nbogus: 1\n")
    r = subprocess.run([BIN, "controller", "--config", str(cfg)], capture_output=True,
                       timeout=10)
    assert r.returncode == 2
    err = r.stderr.decode()
    assert f"{cfg}:4: health.interval: \"soon\" is not a duration" in err
    assert f"{cfg}:5: bogus: unknown key" in err
    r = subprocess.run([BIN, "controller", "--config", str(cfg), "--check-config"],
                       capture_output=True, timeout=10)
    assert r.returncode == 2
    cfg.write_text("min: 1\nmax: 3\napi:\n  listen: 0.0.0.0:0\n")
    env = {k: v for k, v in os.environ.items() if k != "POOLSCALE_API_TOKEN"}
    r = subprocess.run([BIN, "controller", "--config", str(cfg), "--check-config"],
                       capture_output=True, timeout=10, env=env)
    assert r.returncode == 2 and b"beyond loopback" in r.stderr
    cfg.write_text("min: 1\nmax: 3\n")
    r = subprocess.run([BIN, "controller", "--config", str(cfg), "--check-config"],
                       capture_output=True, timeout=10)
    assert r.returncode == 0 and b"valid" in r.stdout
    r = subprocess.run([BIN, "controller", "--config", str(tmp_path / "missing.yml")],
                       capture_output=True, timeout=10)
    assert r.returncode == 2 and b"No such file" in r.stderr
