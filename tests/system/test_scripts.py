"""The project's own shell scripts (scripts/, bench/, .ci/run) pass
shellcheck, which scripts/deps installs."""
import pathlib
import shutil
import subprocess

from conftest import ROOT


def shell_scripts():
    root = pathlib.Path(ROOT)
    found = [root / ".ci" / "run"] + sorted((root / "bench").glob("*.sh"))
    for f in sorted((root / "scripts").iterdir()):
        if f.is_file() and f.read_text(errors="replace").startswith("#!/usr/bin/env bash"):
            found.append(f)
    return found


def test_shell_scripts_pass_shellcheck():
    assert shutil.which("shellcheck"), "shellcheck is missing: scripts/deps installs it"
    scripts = shell_scripts()
    assert len(scripts) >= 8, scripts
    r = subprocess.run(["shellcheck", "-x", *map(str, scripts)], capture_output=True,
                       text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
