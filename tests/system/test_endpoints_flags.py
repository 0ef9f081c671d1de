"""Issue 15, defect 8 and the drop-in for the seeds' Exoscale tools: endpoint
and zone checks (config, flags, environment), single-dash long flags, the
flags of prometheus-sd-exoscale-instance-pools accepted by `poolscale sd`,
and what sd writes when the API fails from its start."""
import contextlib
import json
import os

import pytest

from conftest import Proc, wait_until
from contract.common import contract_server  # noqa: F401 (fixture)

EXO_KEY = "EXO0123456789abcdef01234567"
EXO_SECRET = "poolscaleTestSecret-0123456789abcdefABCDEFGH"
POOL_ID = "5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b"
AT_VIE_1 = "4da1b188-dcd6-4ff5-b7fd-bde984055548"
SEED_FILE = "/var/run/prometheus-sd-exoscale-instance-pools/config.json"
EXO_VARS = ("EXOSCALE_API_KEY", "EXOSCALE_API_SECRET", "EXOSCALE_KEY", "EXOSCALE_SECRET",
            "EXOSCALE_ZONE", "EXOSCALE_INSTANCEPOOL_ID", "TARGET_PORT")


@contextlib.contextmanager
def environment(**env):
    """os.environ without any Exoscale variable, plus env, while a Proc starts."""
    saved = dict(os.environ)
    for k in EXO_VARS:
        os.environ.pop(k, None)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run(tmp_path, args, name, **env):
    """Runs a command that must fail at start; returns its output."""
    with environment(**env):
        p = Proc(args, tmp_path, name)
    rc = p.wait_exit(10)
    p.expect_rc = rc
    p.finish()
    return rc, p.logtext()


def targets(path):
    try:
        return sorted(t for g in json.loads(path.read_text()) for t in g["targets"])
    except FileNotFoundError:
        return None


def running(srv):
    return sorted(f"{m['address']}:9100" for m in srv.members() if m["phase"] == "running")


# ---- endpoints and zones in the config: FILE:LINE, exit 2, --check-config ----

EXO_CFG = """provider:
  kind: exoscale
  exoscale:
    pool_id: 5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b
    {key}: {value}
"""
AWS_CFG = """provider:
  kind: aws
  aws:
    region: eu-west-1
    group: web
    {key}: {value}
"""


@pytest.mark.parametrize("cfg,key,value,want", [
    (EXO_CFG, "endpoint", "127.0.0.1:18507/v2", "has no scheme"),
    (EXO_CFG, "endpoint", "ftp://127.0.0.1:18507/v2", "the scheme ftp is not http or https"),
    (EXO_CFG, "endpoint", "https://api.exoscale.ch/v1/", "Exoscale API v1 endpoint"),
    (EXO_CFG, "endpoint", "https://api-ch-gva-2.exoscale.com/", "does not end in /v2"),
    (EXO_CFG, "zone", '"ch gva 2"', '"ch gva 2" is not a zone name'),
    (EXO_CFG, "zone", AT_VIE_1, "is a zone UUID, not a zone name: give at-vie-1"),
    (AWS_CFG, "endpoint", "autoscaling.eu-west-1.amazonaws.com/", "has no scheme"),
    (AWS_CFG, "ec2_endpoint", "gopher://x/", "the scheme gopher is not http or https"),
], ids=["no_scheme", "ftp", "v1", "not_v2", "zone_spaces", "zone_uuid", "aws_no_scheme",
        "aws_gopher"])
def test_check_config_rejects_bad_endpoint_or_zone(tmp_path, cfg, key, value, want):
    path = tmp_path / "c.yml"
    path.write_text(cfg.format(key=key, value=value))
    rc, out = run(tmp_path, ["controller", "--config", str(path), "--check-config"], "check")
    section, line = ("exoscale", 5) if cfg is EXO_CFG else ("aws", 6)
    assert rc == 2, out
    assert f"{path}:{line}: provider.{section}.{key}: " in out and want in out, out
    assert "configuration is valid" not in out


def test_check_config_takes_good_endpoints(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text(EXO_CFG.format(key="endpoint", value="http://127.0.0.1:18507/v2/")
                    + "    zone: de-fra-1\n")
    rc, out = run(tmp_path, ["controller", "--config", str(path), "--check-config"], "check")
    assert rc == 0 and "configuration is valid" in out, out


# ---- the same rules from sd's flags and the environment ----

@pytest.mark.parametrize("args,env,want", [
    (["--endpoint", "127.0.0.1:18507/v2"], {}, '--endpoint: "127.0.0.1:18507/v2" has no scheme'),
    (["--exoscale-endpoint", "https://api.exoscale.ch/v1/"], {},
     "--exoscale-endpoint: \"https://api.exoscale.ch/v1/\" is an Exoscale API v1 endpoint"),
    # A zone UUID is 36 characters: once cut to 31 it was a bad host name.
    ([], {"EXOSCALE_ZONE": AT_VIE_1}, "EXOSCALE_ZONE: \"" + AT_VIE_1 + "\" is a zone UUID"),
    ([], {"EXOSCALE_ZONE": "ch gva 2"}, 'EXOSCALE_ZONE: "ch gva 2" is not a zone name'),
    ([], {"EXOSCALE_ZONE": "a" * 40}, "is not a zone name"),
    (["--exoscale-zone-id", "00000000-0000-4000-8000-000000000000"], {},
     "--exoscale-zone-id: zone UUID 00000000-0000-4000-8000-000000000000 is unknown "
     "(poolscale knows at-vie-1, bg-sof-1, ch-dk-2, ch-gva-2, de-fra-1, de-muc-1)"),
    (["--instance-pool-id", "not-a-uuid"], {}, '--instance-pool-id: "not-a-uuid" is not'),
    (["--zone", "ch-gva-2", "--exoscale-zone-id", AT_VIE_1], {}, "not both"),
])
def test_sd_rejects_bad_exoscale_flags(tmp_path, args, env, want):
    out_file = tmp_path / "out.json"
    base = ["sd", "--output", str(out_file)]
    if "--instance-pool-id" not in args:
        base += ["--pool-id", POOL_ID]
    rc, out = run(tmp_path, base + args, "sd", **env)
    assert rc == 2 and want in out, out
    assert not out_file.exists()


# ---- single-dash long flags, in every command through common/opts ----

@pytest.mark.parametrize("args,cmd,flag", [
    (["sd", "-instance-pool-id", POOL_ID], "sd", "instance-pool-id"),
    (["sd", "--output", "x.json", "-prometheus-port=9100"], "sd", "prometheus-port"),
    (["controller", "-config", "x.yml"], "controller", "config"),
    (["load", "-rate", "5"], "load", "rate"),
    (["status", "-api", "http://127.0.0.1:1"], "status", "api"),
])
def test_single_dash_long_flag_is_named_with_a_hint(tmp_path, args, cmd, flag):
    rc, out = run(tmp_path, args, "dash")
    assert rc == 2, out
    assert (f"poolscale {cmd}: unknown option -{flag}" in out
            and f"long options take two dashes, try --{flag} " in out), out


@pytest.mark.parametrize("args", [
    ["sd", "-exoscale-api-secret=EXOs3cretvalue", "--pool-id", POOL_ID],
    ["sd", "--exoscale-api-secrt=EXOs3cretvalue", "--pool-id", POOL_ID],
    ["sd", "--endpoint", "https://EXOkey:EXOs3cretvalue@api.example.com/v2",
     "--pool-id", POOL_ID, "--output", "x.json"],
], ids=["single_dash", "misspelt", "user_info"])
def test_flag_errors_never_echo_a_secret(tmp_path, args):
    # A mistyped flag's value, or a URL's user info, may be a secret: the
    # error names the flag, not what it was given.
    rc, out = run(tmp_path, args, "secret")
    assert rc == 2, out
    assert "EXOs3cretvalue" not in out, out


# ---- the seed tool's flags, as a drop-in ----

def test_sd_takes_the_seed_tools_flags(contract_server, tmp_path):
    srv = contract_server("exoscale", size=2, boot_s=0.3, address_base="127.0.3.1")
    out = tmp_path / "config.json"
    with environment():
        sd = Proc(["sd", "--interval", "500ms",
                   "--exoscale-api-key", EXO_KEY, "--exoscale-api-secret", EXO_SECRET,
                   "--exoscale-zone-id", AT_VIE_1, "--instance-pool-id", POOL_ID,
                   "--exoscale-endpoint", srv.url + "/v2",
                   "--prometheus-file", str(out), "--prometheus-port", "9100"], tmp_path, "sd")
    try:
        wait_until(lambda: targets(out) == running(srv) and len(running(srv)) == 2,
                   "the file with the pool's two members at port 9100", 20)
        # The secret left argv (ps) once sd had it, and is never logged.
        cmdline = open(f"/proc/{sd.pid}/cmdline", "rb").read()
        assert EXO_SECRET.encode() not in cmdline and EXO_KEY.encode() not in cmdline
        assert b"--exoscale-api-secret" in cmdline
        log = sd.logtext()
        assert EXO_SECRET not in log
        assert "level=warn" in log and "prefer EXOSCALE_API_SECRET" in log, log
        assert all(r["auth"] == "ok" for r in srv.requests())
    finally:
        sd.finish()


def test_sd_prometheus_file_defaults_to_the_seed_tools_path(contract_server, tmp_path):
    srv = contract_server("exoscale", size=1)
    # Every list hangs, so sd neither writes nor fails while we look.
    srv.fault("slow", delay_s=60, count=1000)
    with environment(EXOSCALE_API_KEY=EXO_KEY, EXOSCALE_API_SECRET=EXO_SECRET):
        sd = Proc(["sd", "--instance-pool-id", POOL_ID, "--exoscale-endpoint", srv.url + "/v2"],
                  tmp_path, "sd")
    try:
        sd.wait_log(r"msg=started .*output=" + SEED_FILE, 10)
    finally:
        sd.finish()
    # Without any of the seed's flags, --output stays required.
    rc, out = run(tmp_path, ["sd", "--pool-id", POOL_ID], "sd-plain")
    assert rc == 2 and "--output FILE is required" in out


def test_sd_help_lists_the_seed_flags(tmp_path):
    rc, out = run(tmp_path, ["sd", "--help"], "help")
    assert rc == 0
    for flag in ("--exoscale-api-key", "--exoscale-api-secret", "--exoscale-zone-id",
                 "--instance-pool-id", "--exoscale-endpoint", "--prometheus-file",
                 "--prometheus-port", SEED_FILE, "API v2"):
        assert flag in out, flag


# ---- sd when the API fails from the start ----

def start_sd(srv, out, *extra):
    with environment(EXOSCALE_API_KEY=EXO_KEY, EXOSCALE_API_SECRET=EXO_SECRET):
        return Proc(["sd", "--output", str(out), "--interval", "300ms", "--pool-id", POOL_ID,
                     "--endpoint", srv.url + "/v2", *extra], out.parent, "sd")


def test_sd_failing_from_the_start_writes_an_empty_list(contract_server, tmp_path):
    srv = contract_server("exoscale", size=2, address_base="127.0.3.1")
    srv.fault("status", status=403, count=100000, message="Invalid request signature")
    out = tmp_path / "targets.json"
    sd = start_sd(srv, out)
    try:
        # Prometheus gets a valid file, and the log says what happened.
        wait_until(lambda: out.exists(), "a file", 20)
        assert json.loads(out.read_text()) == []
        sd.wait_log(r"provider list failed; wrote an empty target list", 10)
        assert "keeping the last file" not in sd.logtext()
        srv.clear_faults()
        wait_until(lambda: targets(out) == running(srv) and len(running(srv)) == 2,
                   "the members once the API answers", 20)
        sd.wait_log(r"provider list works again", 10)
        assert sd.logtext().count("provider list failed") == 1
    finally:
        sd.finish()


def test_sd_unwritable_file_is_logged_once_per_cause(contract_server, tmp_path):
    # The output's directory is missing (a volume not mounted yet): sd
    # retries every interval and says so once, then once when it works.
    srv = contract_server("exoscale", size=1, address_base="127.0.3.1")
    out = tmp_path / "later" / "targets.json"
    with environment(EXOSCALE_API_KEY=EXO_KEY, EXOSCALE_API_SECRET=EXO_SECRET):
        sd = Proc(["sd", "--output", str(out), "--interval", "300ms", "--pool-id", POOL_ID,
                   "--endpoint", srv.url + "/v2"], tmp_path, "sd")
    try:
        sd.wait_log(r"could not write the file", 10)
        lists = len(srv.requests())
        wait_until(lambda: len(srv.requests()) >= lists + 10, "ten more lists", 30)
        assert sd.logtext().count("could not write the file") == 1, sd.logtext()
        (tmp_path / "later").mkdir()
        wait_until(lambda: targets(out) == running(srv) and len(running(srv)) == 1,
                   "the file once its directory exists", 20)
        sd.wait_log(r"the file is written again", 10)
    finally:
        sd.finish()


def test_sd_failing_from_the_start_keeps_an_earlier_runs_file(contract_server, tmp_path):
    srv = contract_server("exoscale", size=1)
    srv.fault("status", status=403, count=100000)
    out = tmp_path / "targets.json"
    earlier = b'[{"targets":["10.0.0.1:9100"],"labels":{}}]'
    out.write_bytes(earlier)
    sd = start_sd(srv, out)
    try:
        sd.wait_log(r"provider list failed; keeping the file from before this start", 20)
        wait_until(lambda: len([r for r in srv.requests() if r["status"] == 403]) >= 3,
                   "a few more failed lists", 20)
        assert out.read_bytes() == earlier
    finally:
        sd.finish()


def test_sd_once_failing_writes_an_empty_list_and_exits_1(contract_server, tmp_path):
    srv = contract_server("exoscale", size=1)
    srv.fault("status", status=403, count=100000)
    out = tmp_path / "targets.json"
    sd = start_sd(srv, out, "--once")
    sd.expect_rc = 1
    assert sd.wait_exit(30) == 1, sd.logtext()
    sd.finish()
    assert json.loads(out.read_text()) == []
