"""The YAML config loader through the real binary's --check-config: errors
in the file's structure are FILE:LINE: message, exit 2, in milliseconds."""
import subprocess
import time

import pytest

from conftest import BIN


@pytest.mark.parametrize("name,text,want", [
    ("nested_1mb", "pool: web\nmin: " + "[" * 1_000_000 + "\n", ":2: nested deeper than 32 levels"),
    ("duplicate", "pool: web\nmin: 1\nmin: 2\n", ":3: min: duplicate key (first at line 2)"),
    ("second_document", "pool: web\n---\nbogus: 1\nmin: -5\n",
     ":2: a second YAML document (\"---\"): a config file holds one"),
], ids=["nested_1mb", "duplicate", "second_document"])
def test_check_config_structure_errors_fail_fast(tmp_path, name, text, want):
    cfg = tmp_path / "poolscale.yml"
    cfg.write_text(text)
    t0 = time.monotonic()
    r = subprocess.run([BIN, "controller", "--config", str(cfg), "--check-config"],
                       capture_output=True, timeout=60)
    # 100 KB of "[" took 12 s of CPU before the depth cap; this bound is
    # generous for ASan on a loaded machine and still far below that.
    assert time.monotonic() - t0 < 5
    assert r.returncode == 2, r
    assert f"{cfg}{want}" in r.stderr.decode(), r.stderr
