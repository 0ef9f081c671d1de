"""A controller meeting a cloud pool it did not size itself (issue 15),
against the contract servers: it adopts the pool's size at the first start
and a resize made outside it later, gives each scale-in victim one event per
step however slow its removal, backs off a failing list, and publishes only
members the provider reports running (the rule `poolscale sd` shares)."""
import os
import re
import signal

import pytest

from conftest import free_port, http_json, metric, random_address_base, wait_until
from contract.common import contract_server  # noqa: F401 (fixture)
from test_cloud import POOL_ID, Cloud, CloudController, app_argv

POOL_PATH = f"/v2/instance-pool/{POOL_ID}"


class Pool(Cloud):
    """Cloud with a choice of boot time and of the controller's config."""

    def __init__(self, contract_server, tmp_path, kind, size, boot_s=0.3, **opts):  # noqa: F811
        self.kind = kind
        self.tmp = tmp_path
        self.app_port, self.metrics_port = free_port(), free_port()
        self.base = random_address_base()
        self.srv = contract_server(kind, size=size, boot_s=boot_s, terminate_s=0.3,
                                   address_base=self.base,
                                   spawn=app_argv(self.app_port, self.metrics_port), **opts)

    def write_config(self, name, initial=None, min=1, max=6, fails=2, drain_timeout="5s"):
        path = self.tmp / f"{name}.yml"
        text = f"pool: web\nmin: {min}\nmax: {max}\n"
        if initial is not None:
            text += f"initial: {initial}\n"
        text += f"""interval: 500ms
state_dir: state-{path.name}
health:
  interval: 300ms
  timeout: 250ms
  fails: {fails}
  boot_timeout: 60s
drain:
  timeout: {drain_timeout}
api:
  listen: 127.0.0.1:0
"""
        path.write_text(text + self.provider_yaml())
        return path

    def resize(self, n):
        """A resize made outside the controller (console, CLI, another tool)."""
        if self.kind == "exoscale":
            r = self.srv.request("PUT", POOL_PATH + ":scale", body={"size": n})
        else:
            r = self.srv.request("SetDesiredCapacity", {"AutoScalingGroupName": "web-asg",
                                                        "DesiredCapacity": n})
        assert r.status == 200, r


@pytest.fixture
def controllers():
    """start(cloud, config) -> a started CloudController; every one is
    stopped by pid at the end, also when the test failed."""
    started = []

    def start(cloud, config, name="controller"):
        c = CloudController(cloud, config, None, name)
        started.append(c)
        return c.started()
    yield start
    for c in started:
        c.stop()


def events(c):
    return http_json("GET", c.api + "/api/v1/events")[1]["events"]


def reconciles(c):
    return metric(c.metrics(), "poolscale_reconcile_duration_seconds_count")


def settle(c, n=4):
    """Waits until n more reconciles ran: time for a wrong decision to show."""
    start = reconciles(c)
    wait_until(lambda: reconciles(c) >= start + n, f"{n} more reconciles", 30)


def removals(srv):
    word = ":evict" if srv.kind == "exoscale" else "TerminateInstanceInAutoScalingGroup"
    return [r for r in srv.requests() if word in (r["path"] or "") + (r["action"] or "")]


@pytest.mark.parametrize("kind", ["exoscale", "aws"])
def test_first_start_adopts_the_pool_size(contract_server, tmp_path, controllers, kind):
    cloud = Pool(contract_server, tmp_path, kind, size=2)
    if kind == "aws":
        # The group's MinSize above the config's min: the placeholder
        # desired size (min, 1) is outside it, yet it was never a size the
        # controller held, so no "desired" event may say so.
        cloud.srv.set_group(min=2, max=5)
    c = controllers(cloud, cloud.write_config("adopt", min=1))
    # Desired is the pool's 2, not min's 1: nothing is drained or evicted.
    assert c.status()["desired"] == 2
    assert re.search(r"first start: adopting the pool's size.* found=2 desired=2", c.logtext())
    wait_until(lambda: len(c.running()) == 2 and c.sd() == c.running(),
               "both members running and published", 20)
    settle(c)
    assert cloud.srv.state()["mutations"] == 0 and cloud.srv.state()["size"] == 2
    assert not [e for e in events(c) if e["kind"] in ("drain", "desired")]
    c.finish()
    # The adopted size was saved: a restart keeps it and adopts nothing.
    c = controllers(cloud, c.config, name="again")
    assert c.status()["desired"] == 2 and "adopting" not in c.logtext()
    c.finish()


@pytest.mark.parametrize("kind", ["exoscale", "aws"])
def test_outside_resize_is_adopted_not_undone(contract_server, tmp_path, controllers, kind):
    cloud = Pool(contract_server, tmp_path, kind, size=3)
    c = controllers(cloud, cloud.write_config("outside", min=1, max=6))
    wait_until(lambda: len(c.running()) == 3, "three members running", 20)
    cloud.resize(5)
    wait_until(lambda: c.status()["desired"] == 5 and len(c.running()) == 5
               and c.sd() == c.running(), "five members running and published", 30)
    settle(c)
    assert cloud.srv.state()["size"] == 5 and removals(cloud.srv) == []
    said = [e["message"] for e in events(c) if e["kind"] == "desired"]
    assert len(said) == 1 and "3 -> 5" in said[0] and "outside the controller" in said[0], said
    # Beyond max: clamped, and the controller brings the pool back within it.
    cloud.resize(8)
    wait_until(lambda: c.status()["desired"] == 6 and cloud.srv.state()["size"] == 6,
               "the pool back at max", 40)
    c.finish()


def test_explicit_initial_is_honoured(contract_server, tmp_path, controllers):
    cloud = Pool(contract_server, tmp_path, "exoscale", size=2)
    c = controllers(cloud, cloud.write_config("initial", initial=1, min=1))
    assert c.status()["desired"] == 1 and "adopting" not in c.logtext()
    wait_until(lambda: cloud.srv.state()["size"] == 1 and len(c.running()) == 1,
               "the pool shrunk to the configured initial 1", 30)
    assert len(removals(cloud.srv)) == 1
    c.finish()


def per_victim(evs, ids):
    got = {}
    for e in evs:
        for i in ids:
            if i in e["message"]:
                got.setdefault(i, {}).setdefault(e["kind"], []).append(e["message"])
    return got


def test_slow_removal_gives_one_event_per_step(contract_server, tmp_path, controllers):
    cloud = Pool(contract_server, tmp_path, "exoscale", size=5)
    c = controllers(cloud, cloud.write_config("drain", initial=5, min=1))
    wait_until(lambda: len(c.running()) == 5, "five members running", 30)
    ids = [m["id"] for m in cloud.srv.members()]
    # Each remove call tries 4 times (retries: 3): the first three calls
    # fail on 429s, so a victim's removal takes several seconds.
    cloud.srv.fault("status", status=429, count=12, match=":evict")
    c.size(1)
    wait_until(lambda: cloud.srv.state()["size"] == 1 and len(c.running()) == 1
               and len([e for e in events(c) if e["kind"] == "removed"]) == 4,
               "four victims removed", 90)
    settle(c)
    assert len([r for r in removals(cloud.srv) if r["status"] == 429]) == 12
    got = per_victim(events(c), ids)
    victims = [i for i in ids if "drain" in got.get(i, {})]
    assert len(victims) == 4, got
    for v in victims:
        kinds = {k: len(msgs) for k, msgs in got[v].items()}
        ends = kinds.get("drained", 0) + kinds.get("drain_timeout", 0)
        assert kinds["drain"] == 1 and ends == 1 and kinds["removed"] == 1, (v, got[v])
        assert "died" not in kinds, got[v]
    c.finish()


def test_drain_timeout_says_what_it_knows(contract_server, tmp_path, controllers):
    cloud = Pool(contract_server, tmp_path, "exoscale", size=2)
    c = controllers(cloud, cloud.write_config("timeout", initial=2, fails=1000,
                                              drain_timeout="2s"))
    wait_until(lambda: len(c.running()) == 2, "two members running", 30)
    # Frozen apps: the victim's in-flight count cannot be read.
    pids = [m["pid"] for m in cloud.srv.members()]
    try:
        for p in pids:
            os.killpg(p, signal.SIGSTOP)
        c.size(1)
        wait_until(lambda: [e for e in events(c) if e["kind"] == "removed"],
                   "the victim removed", 40)
        settle(c)
    finally:
        for p in pids:
            try:
                os.killpg(p, signal.SIGCONT)
            except ProcessLookupError:
                pass
    said = [e["message"] for e in events(c) if e["kind"] == "drain_timeout"]
    assert len(said) == 1, said
    assert "could not be read" in said[0] and "-1 requests" not in said[0], said
    assert len([e for e in events(c) if e["kind"] == "removed"]) == 1
    c.finish()


def test_failing_list_backs_off_and_resets(contract_server, tmp_path, controllers):
    cloud = Pool(contract_server, tmp_path, "exoscale", size=1)
    c = controllers(cloud, cloud.write_config("backoff", initial=1))
    wait_until(lambda: len(c.running()) == 1, "one member running", 20)

    def failed_lists():
        return [r["t"] for r in cloud.srv.requests()
                if r["action"] == "get-instance-pool" and r["status"] == 403]
    # A key the API refuses: 403 on every list (never retried inside a call).
    cloud.srv.fault("status", status=403, count=100000, match="instance-pool/",
                    message="Invalid request signature")
    t = wait_until(lambda: (lambda v: v if len(v) >= 6 else None)(failed_lists()),
                   "six failed lists", 60)
    # Pauses of 0.25, 0.5, 1, 2, 4 s (at least half each, with jitter)
    # between them; every 250 ms would give them in 1.25 s.
    assert t[5] - t[0] >= 3.5, [round(b - a, 2) for a, b in zip(t, t[1:])]
    gaps = [b - a for a, b in zip(t, t[1:])]
    assert gaps[4] >= 1.5, gaps
    assert len(re.findall(r"provider list failed", c.logtext())) == 1
    cloud.srv.clear_faults()
    wait_until(lambda: "provider list works again" in c.logtext(), "the list back", 60)
    # Reset on success: a new failure is asked again within about 250 ms.
    cloud.srv.reset_log()
    cloud.srv.fault("status", status=403, count=100000, match="instance-pool/")
    t = wait_until(lambda: (lambda v: v if len(v) >= 2 else None)(failed_lists()),
                   "two failed lists", 30)
    assert t[1] - t[0] < 2.0, t
    cloud.srv.clear_faults()
    c.finish()


def test_member_pending_at_the_provider_is_not_published(contract_server, tmp_path,
                                                         controllers):
    # AWS keeps a new instance Pending for 6 s; its app is healthy at once.
    cloud = Pool(contract_server, tmp_path, "aws", size=1, boot_s=6)
    c = controllers(cloud, cloud.write_config("pending", initial=1))
    wait_until(lambda: len(c.running()) == 1 and c.sd() == c.running(),
               "the first member published", 20)
    old = {m["id"] for m in cloud.srv.members()}
    c.size(2)
    seen_pending = 0

    def check():
        nonlocal seen_pending
        new = [m for m in cloud.srv.members() if m["id"] not in old]
        if not new:
            return False
        m = new[0]
        if m["phase"] == "booting":
            seen_pending += 1
            published = [i for i, _ in c.sd() or []]
            states = {x["id"]: x["state"] for x in c.status()["members"]}
            assert m["id"] not in published, "published while AWS says Pending"
            assert states.get(m["id"], "pending") == "pending", states
            return False
        return m["id"] in [i for i, _ in c.sd() or []]
    wait_until(check, "the new member published once InService", 40, every=0.1)
    assert seen_pending >= 10
    c.finish()


def test_growing_again_puts_a_draining_member_back(contract_server, tmp_path, controllers):
    # Scale-in starts draining a member (its in-flight count cannot be read:
    # the apps are frozen), then the pool must grow again before the drain
    # ends. The member still draining is capacity already there: it comes
    # back into service. Asking the group for desired + draining (4) would
    # pass its MaxSize 3 and be refused for the whole drain.
    cloud = Pool(contract_server, tmp_path, "aws", size=3)
    cloud.srv.set_group(min=1, max=3)
    c = controllers(cloud, cloud.write_config("undrain", initial=3, max=3, fails=1000,
                                              drain_timeout="60s"))
    wait_until(lambda: len(c.running()) == 3, "three members running", 30)
    pids = [m["pid"] for m in cloud.srv.members()]
    try:
        for p in pids:
            os.killpg(p, signal.SIGSTOP)
        c.size(2)
        wait_until(lambda: [e for e in events(c) if e["kind"] == "drain"], "a drain", 20)
        c.size(3)
        wait_until(lambda: [e for e in events(c) if e["kind"] == "undrain"],
                   "the draining member back", 20)
    finally:
        for p in pids:
            try:
                os.killpg(p, signal.SIGCONT)
            except ProcessLookupError:
                pass
    wait_until(lambda: len(c.running()) == 3, "three members running again", 30)
    settle(c)
    assert len(cloud.srv.members()) == 3
    assert not removals(cloud.srv)
    assert "provider set_size failed" not in c.logtext(), c.logtext()
    c.finish()
