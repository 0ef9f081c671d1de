"""The cloud providers end to end: a real controller (and `poolscale sd`)
against the contract servers in contract/, which check every request as
strictly as the cloud would and boot a real `poolscale app` per member, so
the controller's health checks and drains run for real."""
import json
import os
import re
import signal
import threading
import time

import pytest

from conftest import BIN, Proc, free_port, http_json, metric, random_address_base, wait_until
from contract.common import contract_server  # noqa: F401 (fixture)

EXO_KEY = "EXO0123456789abcdef01234567"
EXO_SECRET = "poolscaleTestSecret-0123456789abcdefABCDEFGH"
POOL_ID = "5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b"
AWS_KEY = "AKIDEXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def app_argv(app_port, metrics_port):
    return [BIN, "app", "--listen", f"{{address}}:{app_port}",
            "--metrics-listen", f"{{address}}:{metrics_port}", "--work-ms", "1",
            "--vcpu", "0.2", "--threads", "1", "--drain-timeout", "3s"]


class Cloud:
    """A contract server with real app members, and a controller config for it."""

    def __init__(self, contract_server, tmp_path, kind, size=1, **opts):
        self.kind = kind
        self.tmp = tmp_path
        self.app_port, self.metrics_port = free_port(), free_port()
        self.base = random_address_base()
        self.srv = contract_server(kind, size=size, boot_s=0.3, terminate_s=0.3,
                                   address_base=self.base,
                                   spawn=app_argv(self.app_port, self.metrics_port), **opts)

    def env(self, secret=None):
        env = dict(os.environ)
        if self.kind == "exoscale":
            env["EXOSCALE_API_KEY"] = EXO_KEY
            env["EXOSCALE_API_SECRET"] = secret or EXO_SECRET
        else:
            env["AWS_ACCESS_KEY_ID"] = AWS_KEY
            env["AWS_SECRET_ACCESS_KEY"] = secret or AWS_SECRET
        return env

    def provider_yaml(self):
        common = f"""  app_port: {self.app_port}
  metrics_port: {self.metrics_port}
  list_interval: 300ms
  timeout: 2s
  retries: 3
  backoff: 50ms
  backoff_max: 200ms
"""
        if self.kind == "exoscale":
            return f"""provider:
  kind: exoscale
{common}  exoscale:
    pool_id: {POOL_ID}
    endpoint: {self.srv.url}/v2
    operation_poll: 200ms
"""
        return f"""provider:
  kind: aws
{common}  aws:
    region: eu-west-1
    group: web-asg
    endpoint: {self.srv.url}/
    ec2_endpoint: {self.srv.url}/
"""

    def config(self, initial=1, name="controller.yml"):
        path = self.tmp / name
        path.write_text(f"""pool: web
min: 1
max: 4
initial: {initial}
interval: 500ms
state_dir: state-{name}
health:
  interval: 300ms
  timeout: 250ms
  fails: 2
  boot_timeout: 20s
drain:
  timeout: 5s
api:
  listen: 127.0.0.1:0
""" + self.provider_yaml())
        return path

    def controller(self, initial=1, secret=None, name="controller"):
        return CloudController(self, self.config(initial, name + ".yml"), secret, name)


class CloudController(Proc):
    def __init__(self, cloud, config, secret, name):
        self.cloud = cloud
        os_env = cloud.env(secret)
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(os_env)
        try:
            super().__init__(["controller", "--config", str(config)], cloud.tmp, name)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.config = config

    def started(self):
        m = self.wait_log(r"msg=started api=(\S+)", timeout=10)
        self.api = "http://" + m.group(1)
        return self

    def status(self):
        return http_json("GET", self.api + "/api/v1/status")[1]

    def running(self):
        return sorted((m["id"], m["address"]) for m in self.status()["members"]
                      if m["state"] == "running")

    def sd(self):
        path = self.config.parent / f"state-{self.config.name}" / "targets-web.json"
        try:
            groups = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return sorted((g["labels"]["instance_id"], g["targets"][0].rsplit(":", 1)[0])
                      for g in groups)

    def size(self, n):
        st, body = http_json("PUT", self.api + "/api/v1/pool/size", {"size": n})
        assert st == 200, body

    def metrics(self):
        return http_json("GET", self.api + "/metrics")[1]


def server_running(srv):
    return sorted((m["id"], m["address"]) for m in srv.members() if m["phase"] == "running")


def mutations(srv, word):
    return [r for r in srv.requests() if word in (r["path"] or "") + (r["action"] or "")
            and r["status"] == 200]


@pytest.mark.parametrize("kind", ["exoscale", "aws"])
def test_controller_scales_the_cloud_pool(contract_server, tmp_path, kind):
    cloud = Cloud(contract_server, tmp_path, kind, size=1)
    c = cloud.controller(initial=1).started()
    wait_until(lambda: len(c.running()) == 1, "the existing member running", 10)
    c.size(3)
    wait_until(lambda: len(c.running()) == 3 and c.sd() == c.running(),
               "three running members, published", 20)
    # Discovery lists exactly what runs in the cloud.
    assert c.sd() == server_running(cloud.srv)
    grow = "scale" if kind == "exoscale" else "SetDesiredCapacity"
    assert len(mutations(cloud.srv, grow)) == 1, cloud.srv.requests()
    c.size(1)
    wait_until(lambda: len(server_running(cloud.srv)) == 1 and len(c.running()) == 1
               and c.sd() == server_running(cloud.srv), "back to one member", 20)
    shrink = "evict" if kind == "exoscale" else "TerminateInstanceInAutoScalingGroup"
    assert len(mutations(cloud.srv, shrink)) == 2
    assert cloud.srv.state()["size"] == 1
    # Every request was signed correctly.
    assert all(r["auth"] == "ok" for r in cloud.srv.requests())
    assert metric(c.metrics(), "poolscale_provider_api_calls_total") > 0
    c.stop()


@pytest.mark.parametrize("kind", ["exoscale", "aws"])
def test_faults_give_retries_not_double_scales(contract_server, tmp_path, kind):
    cloud = Cloud(contract_server, tmp_path, kind, size=1)
    c = cloud.controller(initial=1).started()
    wait_until(lambda: len(c.running()) == 1, "one member running", 10)
    grow = ":scale" if kind == "exoscale" else "SetDesiredCapacity"
    # Two 5xx, then a reply lost after the pool already grew: the client
    # retries, the size is absolute, so the pool grows once, to 2.
    cloud.srv.fault("status", status=503, count=2, match=grow)
    cloud.srv.fault("drop", count=1, match=grow, when="after")
    cloud.srv.fault("status", status=429, count=1)
    c.size(2)
    wait_until(lambda: len(c.running()) == 2, "two members running", 20)
    assert cloud.srv.state()["size"] == 2
    time.sleep(1.5)		# a few more reconciles: nothing more may happen
    assert cloud.srv.state()["size"] == 2
    assert len([m for m in cloud.srv.members() if m["phase"] != "terminating"]) == 2
    text = c.metrics()
    assert metric(text, "poolscale_provider_api_retries_total") >= 3
    # A slow reply past the client's timeout is retried too.
    cloud.srv.fault("slow", delay_s=3, count=1)
    wait_until(lambda: metric(c.metrics(), "poolscale_provider_api_retries_total") >= 4,
               "a retry after a timeout", 15)
    assert c.p.poll() is None
    c.stop()


@pytest.mark.parametrize("kind", ["exoscale", "aws"])
def test_failed_list_holds_and_is_logged_once(contract_server, tmp_path, kind):
    cloud = Cloud(contract_server, tmp_path, kind, size=2)
    c = cloud.controller(initial=2).started()
    wait_until(lambda: len(c.running()) == 2 and c.sd() == c.running(),
               "two members running, published", 10)
    before = c.sd()
    what = "instance-pool/" if kind == "exoscale" else "DescribeAutoScalingGroups"
    cloud.srv.fault("status", status=500, count=1000, match=what)
    c.size(3)
    wait_until(lambda: metric(c.metrics(), "poolscale_provider_errors_total",
                              {"op": "list"}) >= 3, "list errors counted", 15)
    # Held: no scale-out on a membership it could not read, the file kept.
    assert c.status()["last_decision"]["reason"].startswith("held")
    assert cloud.srv.state()["size"] == 2
    assert c.sd() == before
    assert len(re.findall(r"provider list failed", c.logtext())) == 1
    cloud.srv.clear_faults()
    wait_until(lambda: len(c.running()) == 3, "scaled out once the API answers", 20)
    assert "provider list works again" in c.logtext()
    c.stop()


@pytest.mark.parametrize("kind", ["exoscale", "aws"])
def test_wrong_secret_is_a_clear_error(contract_server, tmp_path, kind):
    cloud = Cloud(contract_server, tmp_path, kind, size=1)
    c = cloud.controller(secret="not-the-secret-at-all")
    c.expect_rc = c.wait_exit(15)
    assert c.expect_rc != 0
    text = c.logtext()
    cause = "Invalid request signature" if kind == "exoscale" else "SignatureDoesNotMatch"
    assert cause in text and "check the" in text, text
    assert "not-the-secret-at-all" not in text
    if kind == "aws":
        # The service's message is not cut mid-sentence by the error buffer.
        line = re.search(r"^poolscale controller: (.*)$", text, re.M).group(1)
        assert line.endswith("signature you provided."), line
    assert all(r["auth"] == "bad" for r in cloud.srv.requests())
    assert cloud.srv.state()["mutations"] == 0


# ---- aws: throttling and the group's bounds ----

def test_aws_throttling_is_retried(contract_server, tmp_path):
    # AWS throttles with HTTP 400 and a code in the body (Throttling,
    # RequestLimitExceeded): with every 3rd request throttled, the calls
    # are retried and the pool grows promptly, with no call failing.
    cloud = Cloud(contract_server, tmp_path, "aws", size=1)
    c = cloud.controller(initial=1).started()
    try:
        wait_until(lambda: len(c.running()) == 1, "one member running", 10)
        # The first grow is throttled for sure, then every 3rd request.
        cloud.srv.fault("status", status=400, count=1, match="SetDesiredCapacity")
        cloud.srv.fault("status", status=400, every=3, count=100000)
        c.size(3)
        wait_until(lambda: len(c.running()) == 3, "three members despite throttling",
                   30)
        assert cloud.srv.state()["size"] == 3
        # The periodic list goes on being throttled; once it stops, every
        # throttled call is retried (the client waits before each retry, so
        # the last one's is counted a little after the server saw it).
        cloud.srv.clear_faults()

        def throttled():
            return [r for r in cloud.srv.requests() if r["status"] == 400]
        assert "SetDesiredCapacity" in [r["action"] for r in throttled()], throttled()
        wait_until(lambda: metric(c.metrics(), "poolscale_provider_api_retries_total")
                   >= len(throttled()), "every throttled call retried", 10)
        text = c.metrics()
        assert metric(text, "poolscale_provider_api_failures_total") == 0
        assert "provider list failed" not in c.logtext()
        assert "provider set_size failed" not in c.logtext()
    finally:
        c.stop()


def test_aws_final_4xx_counts_as_api_failure(contract_server, tmp_path):
    cloud = Cloud(contract_server, tmp_path, "aws", size=1)
    c = cloud.controller(initial=1).started()
    try:
        wait_until(lambda: len(c.running()) == 1, "one member running", 10)
        assert metric(c.metrics(), "poolscale_provider_api_failures_total") == 0
        cloud.srv.fault("status", status=400, code="ValidationError", message="Injected",
                        count=100000, match="SetDesiredCapacity")
        c.size(2)
        wait_until(lambda: metric(c.metrics(), "poolscale_provider_api_failures_total") >= 1,
                   "the refused call counted as a failure", 15)
        # Not throttling: refused at once, never retried.
        sets = [r for r in cloud.srv.requests() if r["action"] == "SetDesiredCapacity"]
        assert metric(c.metrics(), "poolscale_provider_api_failures_total") >= len(sets) > 0
    finally:
        c.stop()


def test_aws_group_bounds_are_obeyed(contract_server, tmp_path):
    # The group allows [2, 3]; the controller's config allows [1, 4].
    cloud = Cloud(contract_server, tmp_path, "aws", size=2, min=2, max=3)
    c = cloud.controller(initial=2).started()
    try:
        wait_until(lambda: len(c.running()) == 2, "two members running", 10)
        for n in (1, 4):
            st, body = http_json("PUT", c.api + "/api/v1/pool/size", {"size": n})
            assert st == 400 and "[2, 3]" in body["error"] and "aws provider" in body["error"], \
                body
        assert c.status()["desired"] == 2
        assert (c.status()["min"], c.status()["max"]) == (2, 3)
        c.size(3)
        wait_until(lambda: len(c.running()) == 3, "three members", 20)
        # MaxSize lowered outside: AWS shrinks the group, the controller
        # follows instead of growing it back against the bound.
        cloud.srv.set_group(max=2)
        wait_until(lambda: c.status()["desired"] == 2 and len(c.running()) == 2,
                   "desired clamped to the new MaxSize", 20)
        assert "desired size 3 -> 2 (outside the aws provider's bounds [2, 2])" in c.logtext()
        # A member that dies at MinSize is replaced (terminated without
        # decrementing), not retried forever against the MinSize check.
        victim = c.running()[0][0]
        cloud.srv.kill_member(victim)
        wait_until(lambda: len(c.running()) == 2 and victim not in dict(c.running()),
                   "the dead member replaced", 30)
        time.sleep(1.0)		# a few fast ticks: no terminate may loop
        terms = [r for r in cloud.srv.requests()
                 if r["action"] == "TerminateInstanceInAutoScalingGroup"]
        assert [r["status"] for r in terms] == [200], terms
        assert cloud.srv.state()["size"] == 2
        assert c.status()["desired"] == 2
    finally:
        c.stop()


# ---- poolscale sd ----

def start_sd(cloud, out, *extra):
    env = {
        "EXOSCALE_KEY": EXO_KEY, "EXOSCALE_SECRET": EXO_SECRET,
        "EXOSCALE_ZONE": "ch-gva-2", "EXOSCALE_INSTANCEPOOL_ID": POOL_ID,
        "TARGET_PORT": "9100",
    }
    saved = dict(os.environ)
    for k in ("EXOSCALE_API_KEY", "EXOSCALE_API_SECRET"):
        os.environ.pop(k, None)
    os.environ.update(env)
    try:
        return Proc(["sd", "--output", str(out), "--interval", "500ms",
                     "--endpoint", cloud.srv.url + "/v2", *extra], cloud.tmp, "sd")
    finally:
        os.environ.clear()
        os.environ.update(saved)


def sd_members(path):
    try:
        return sorted(t for g in json.loads(path.read_text()) for t in g["targets"])
    except FileNotFoundError:
        return None


def test_sd_follows_the_pool_and_keeps_the_file_on_errors(contract_server, tmp_path):
    cloud = Cloud(contract_server, tmp_path, "exoscale", size=2)
    out = tmp_path / "sd" / "targets.json"
    out.parent.mkdir()
    t0 = time.monotonic()
    sd = start_sd(cloud, out)
    expect = lambda: sorted(f"{a}:9100" for _, a in server_running(cloud.srv))  # noqa: E731
    wait_until(lambda: sd_members(out) == expect(), "the file with two targets", 5)
    assert time.monotonic() - t0 < 2.0		# within one interval of the start

    # A reader polling the file never sees it half written.
    stop, seen, bad = threading.Event(), [0], []

    def reader():
        while not stop.is_set():
            try:
                json.loads(out.read_text())
                seen[0] += 1
            except ValueError as e:
                bad.append(str(e))
    th = threading.Thread(target=reader)
    th.start()
    try:
        assert cloud.srv.request("PUT", f"/v2/instance-pool/{POOL_ID}:scale",
                                 body={"size": 4}).status == 200
        wait_until(lambda: len(sd_members(out)) == 4 and sd_members(out) == expect(),
                   "four targets once they run", 10)
        victim = cloud.srv.members()[0]["id"]
        assert cloud.srv.request("PUT", f"/v2/instance-pool/{POOL_ID}:evict",
                                 body={"instances": [victim]}).status == 200
        wait_until(lambda: sd_members(out) == expect() and len(expect()) == 3,
                   "three targets after an eviction", 10)
        # The API fails: the file stays as it was, not emptied.
        kept = out.read_bytes()
        cloud.srv.fault("status", status=500, count=10000)
        wait_until(lambda: "provider list failed" in sd.logtext(), "the failure logged", 10)
        time.sleep(1.2)
        assert out.read_bytes() == kept
        cloud.srv.clear_faults()
        assert cloud.srv.request("PUT", f"/v2/instance-pool/{POOL_ID}:scale",
                                 body={"size": 0}).status == 200
        wait_until(lambda: sd_members(out) == [], "[] when the pool is empty", 10)
    finally:
        stop.set()
        th.join()
    assert not bad and seen[0] > 10, (bad[:3], seen)
    assert out.read_text().strip() == "[]"
    assert len(re.findall(r"provider list failed", sd.logtext())) == 1
    sd.signal(signal.SIGTERM)
    assert sd.wait_exit(10) == 0


def test_sd_flags(tmp_path):
    r = Proc(["sd"], tmp_path, "sd-noflags")
    assert r.wait_exit(5) == 2 and "--output" in r.logtext()
    r.expect_rc = 2
    r = Proc(["sd", "--output", str(tmp_path / "x.json"), "--interval", "0"], tmp_path, "sd-bad")
    assert r.wait_exit(5) == 2 and "--interval" in r.logtext()
    r.expect_rc = 2
    local = tmp_path / "local.yml"
    local.write_text("min: 1\nmax: 2\n")
    r = Proc(["sd", "--output", str(tmp_path / "x.json"), "--config", str(local)], tmp_path,
             "sd-local")
    assert r.wait_exit(5) == 2 and "published by its controller" in r.logtext()
    r.expect_rc = 2
    bad = tmp_path / "bad.yml"
    bad.write_text("provider:\n  kind: exoscale\n  exoscale:\n    pool_id: nope\n")
    r = Proc(["sd", "--output", str(tmp_path / "x.json"), "--config", str(bad)], tmp_path,
             "sd-badcfg")
    assert r.wait_exit(5) == 2 and "bad.yml:4: provider.exoscale.pool_id" in r.logtext()
    r.expect_rc = 2
    assert not (tmp_path / "x.json").exists()


# ---- exec ----

EXEC_POOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exec_pool.py")


def exec_config(tmp_path, ports, commands, extra=""):
    app_port, metrics_port = ports
    path = tmp_path / "exec.yml"
    path.write_text(f"""pool: web
min: 1
max: 4
initial: 1
interval: 500ms
state_dir: state
health:
  interval: 300ms
  timeout: 250ms
  fails: 2
drain:
  timeout: 5s
api:
  listen: 127.0.0.1:0
provider:
  kind: exec
  app_port: {app_port}
  metrics_port: {metrics_port}
  list_interval: 300ms
  exec:
{commands}
{extra}""")
    return path


def test_exec_provider_scales_a_script_pool(tmp_path):
    base = random_address_base()
    ports = [free_port(), free_port()]
    args = (f'"/usr/bin/python3", "{EXEC_POOL}", "--state", "{tmp_path}", "--base", "{base}", '
            f'"--port", "{ports[0]}", "--metrics-port", "{ports[1]}"')
    cfg = exec_config(tmp_path, ports, f"""    list: [{args}, list]
    set_size: [{args}, set-size, "{{size}}"]
    remove: [{args}, remove, "{{id}}"]
    timeout: 10s""")
    c = None
    try:
        c = Proc(["controller", "--config", str(cfg)], tmp_path, "controller")
        api = "http://" + c.wait_log(r"msg=started api=(\S+)", 10).group(1)

        def running():
            return sorted(m["id"] for m in http_json("GET", api + "/api/v1/status")[1]["members"]
                          if m["state"] == "running")
        wait_until(lambda: running() == ["vm-1"], "the first member running", 10)
        assert http_json("PUT", api + "/api/v1/pool/size", {"size": 3})[0] == 200
        wait_until(lambda: running() == ["vm-1", "vm-2", "vm-3"], "three members", 15)
        assert http_json("PUT", api + "/api/v1/pool/size", {"size": 1})[0] == 200

        def live_apps():
            pool = json.loads((tmp_path / "pool.json").read_text())
            return [m["id"] for m in pool["members"]
                    if os.path.exists(f"/proc/{m['pid']}/cmdline")
                    and open(f"/proc/{m['pid']}/cmdline", "rb").read()]
        wait_until(lambda: len(running()) == 1 and len(live_apps()) == 1,
                   "back to one member, the others stopped", 15)
        assert live_apps() == running()
        c.stop()
    finally:
        if c is not None and c.p.poll() is None:
            c.p.kill()
        # The script's apps outlive it, as VMs would: stop them whatever happened.
        pool = tmp_path / "pool.json"
        for m in json.loads(pool.read_text())["members"] if pool.exists() else []:
            try:
                os.kill(m["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_exec_hanging_command_is_killed_at_its_timeout(tmp_path):
    marker = f"hang-{os.getpid()}-{time.monotonic_ns()}"
    cfg = exec_config(tmp_path, [free_port(), free_port()], f"""    shell: true
    list: "exec sleep 30 # {marker}"
    set_size: "true {{size}}"
    remove: "true {{id}}"
    timeout: 1s
    kill_grace: 200ms""")
    t0 = time.monotonic()
    c = Proc(["controller", "--config", str(cfg)], tmp_path, "controller")
    c.expect_rc = c.wait_exit(10)
    took = time.monotonic() - t0
    assert c.expect_rc != 0
    assert "exec list: killed after its 1000 ms timeout" in c.logtext(), c.logtext()
    assert took < 5, took
    from conftest import processes
    assert not processes(lambda cmd: marker in cmd)
