"""The etcd cluster fixture (tests/system/etcd_cluster.py) does what the HA
tests rely on: one cluster, reachable through every member; a lost member
leaves quorum; two lost take it away; restarted members bring it back."""
import os
import subprocess
import time

import pytest

import etcd_cluster as ec
from conftest import ROOT, wait_until
from etcd_cluster import b64, etcd_cluster, etcd_cluster_tls, request, tls_opener  # noqa: F401


def put_ok(cluster, i, key, value, timeout=1.0):
    status, _ = cluster.put(i, key, value, timeout=timeout)
    return status == 200


def test_cluster_survives_one_loss_not_two(etcd_cluster):  # noqa: F811
    c = etcd_cluster
    # Own loopback addresses and ports, never etcd's defaults.
    assert len({m.address for m in c.members}) == 3
    for m in c.members:
        assert m.address.startswith("127.") and m.address != "127.0.0.1"
        assert {m.client_port, m.peer_port}.isdisjoint({2379, 2380})
    assert c.endpoints == [m.client_url for m in c.members]

    # One cluster: written through m1, read through m2 and m3.
    assert put_ok(c, 0, "/poolscale/test/a", "one", timeout=5)
    assert c.get(1, "/poolscale/test/a") == "one"
    assert c.get(2, "/poolscale/test/a") == "one"
    assert c.get(1, "/poolscale/test/missing") is None

    # One member killed: the other two still take writes (after an election
    # when the dead one led: writes resume about 1.4 s later).
    c.kill(0)
    assert not c.members[0].running()
    wait_until(lambda: put_ok(c, 1, "/poolscale/test/a", "two"), "a write with m1 dead", timeout=10,
               every=0.1)
    assert c.get(2, "/poolscale/test/a") == "two"

    # Two killed: no quorum. m3 reports unhealthy and a write does not
    # commit (the server would answer 503 after 7 s; the client gives up
    # first). Its outcome is unknown, so nothing is asserted about it later.
    c.kill(1)
    wait_until(lambda: c.health_status(2) == 503, "/health 503 without quorum", timeout=10, every=0.1)
    assert not c.healthy(2)
    t0 = time.monotonic()
    status, body = c.put(2, "/poolscale/test/a", "lost", timeout=2.0)
    assert status in (None, 500, 503), f"a write without quorum answered {status} {body}"
    assert time.monotonic() - t0 >= 1.0 or status in (500, 503), "failed for another reason"

    # Both back with their data dirs: quorum, writes, and the data kept.
    c.restart(0)
    c.restart(1)
    c.wait_quorum(timeout=15)
    assert all(c.healthy(i) for i in range(3))
    wait_until(lambda: put_ok(c, 0, "/poolscale/test/b", "three"), "a write after the restart",
               timeout=10, every=0.1)
    assert c.get(1, "/poolscale/test/b") == "three"
    assert c.get(0, "/poolscale/test/a") in ("two", "lost")


def test_stop_member_and_stop_end_every_process(tmp_path):
    c = ec.EtcdCluster(tmp_path, 3)
    c.start()
    try:
        pids = [c.pid(i) for i in range(3)]
        c.stop_member(2)
        assert not c.members[2].running()
        assert put_ok(c, 0, "k", "v", timeout=5)
    finally:
        c.stop()
    for pid in pids:  # reaped children: no such process left
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert all(m.log_path.stat().st_size > 0 for m in c.members)


def test_tls_cluster_admits_only_its_clients(etcd_cluster_tls, tmp_path):  # noqa: F811
    c = etcd_cluster_tls
    assert all(u.startswith("https://") for u in c.endpoints)
    assert c.ca_file.exists() and c.client_cert.exists() and c.client_key.exists()
    assert put_ok(c, 0, "/poolscale/t", "tls", timeout=5)
    assert c.get(2, "/poolscale/t") == "tls"
    url = c.endpoints[1] + "/health"
    # no client certificate, one from another CA, plain HTTP: no answer
    assert request(url, opener=tls_opener(c.ca_file))[0] is None
    from pki import PKI
    other = PKI(tmp_path / "other").issue("intruder")
    assert request(url, opener=tls_opener(c.ca_file, other))[0] is None
    assert request(url.replace("https://", "http://"))[0] != 200
    # and a member killed and restarted rejoins over TLS
    c.kill(2)
    c.restart(2)
    c.wait_quorum(timeout=15)
    assert c.get(2, "/poolscale/t") == "tls"


def test_auth_user_sees_its_prefix_only(etcd_cluster):  # noqa: F811
    c = etcd_cluster
    c.enable_auth(user="poolscale", password="s3cret", prefix="/poolscale/")
    url = c.endpoints[1]
    st, body = request(url + "/v3/kv/range", {"key": b64("/poolscale/x")})
    assert st == 400 and "user name is empty" in str(body), (st, body)
    st, body = request(url + "/v3/auth/authenticate", {"name": "poolscale", "password": "nope"})
    assert st == 400, (st, body)
    st, body = request(url + "/v3/auth/authenticate", {"name": "poolscale", "password": "s3cret"})
    assert st == 200 and body["token"], body
    token = body["token"]
    st, body = request(url + "/v3/kv/put", {"key": b64("/poolscale/x"), "value": b64("1")}, token=token)
    assert st == 200, body
    st, body = request(url + "/v3/kv/put", {"key": b64("/other/x"), "value": b64("1")}, token=token)
    assert st == 403, (st, body)
    assert c.get(0, "/poolscale/x") == "1"  # the helpers use root's token


def test_missing_etcd_fails_not_skips(tmp_path, monkeypatch):
    monkeypatch.setenv("POOLSCALE_ETCD", str(tmp_path / "no-etcd"))
    # Caught whatever it is, so a skip would fail here rather than skip.
    with pytest.raises(BaseException) as got:
        ec.EtcdCluster(tmp_path, 3)
    assert got.type is pytest.fail.Exception, got
    assert "scripts/deps installs it" in str(got.value)


def test_deps_installs_etcd():
    """scripts/deps lists the package these tests need (CI installs from it)."""
    out = subprocess.run([os.path.join(ROOT, "scripts", "deps"), "--list"], capture_output=True,
                         text=True, timeout=30, check=True).stdout.split()
    assert "etcd-server" in out, out
