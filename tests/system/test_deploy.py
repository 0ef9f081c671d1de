"""The deploy files and examples, checked by the tools that read them."""
import pathlib
import shutil
import subprocess

from conftest import BIN, ROOT

DEPLOY = pathlib.Path(ROOT) / "deploy"


def run(*cmd):
    r = subprocess.run(cmd, capture_output=True, timeout=60)
    assert r.returncode == 0, (r.stdout + r.stderr).decode()
    return (r.stdout + r.stderr).decode()


def test_prometheus_config_and_rules():
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    out = run(promtool, "check", "config", str(DEPLOY / "prometheus/prometheus.yml"))
    assert "SUCCESS" in out
    out = run(promtool, "check", "rules", str(DEPLOY / "prometheus/rules/poolscale.yml"))
    assert "SUCCESS: 3 rules found" in out


def test_alertmanager_config():
    amtool = shutil.which("amtool") or "/usr/bin/amtool"
    out = run(amtool, "check-config", str(DEPLOY / "alertmanager/alertmanager.yml"))
    assert "SUCCESS" in out
    # Both scaling alerts reach the controller's receiver.
    for action in ("up", "down"):
        out = run(amtool, "config", "routes", "test",
                  f"--config.file={DEPLOY / 'alertmanager/alertmanager.yml'}",
                  "alertname=PoolCPUHigh", "pool=web", f"poolscale_action={action}")
        assert "poolscale" in out


def test_examples_are_valid():
    for name in ("local.yaml", "local-target.yaml", "layers.yaml"):
        out = run(BIN, "controller", "--config", str(pathlib.Path(ROOT) / "examples" / name),
                  "--check-config")
        assert "valid" in out
