"""The local pool under faults: the controller killed at every step of a
scale-out and a scale-in, a full state directory, too few descriptors, an
address someone else holds, a command that cannot start, a lost table.
Each time: no process the table does not know, no member taken for dead
that lives, no id used twice, and `pool destroy` leaves nothing running."""
import json
import os
import resource
import signal
import socket
import subprocess
import time

import pytest

from conftest import BIN, controller_config, http_json, processes_on, wait_until


def table(tmp_path, state="state"):
    """The instance table's entries, or None when it cannot be read."""
    try:
        return json.loads((tmp_path / state / "local" / "instances.json").read_text())
    except (OSError, ValueError):
        return None


def table_pids(tmp_path, state="state"):
    t = table(tmp_path, state) or {"instances": []}
    return {i["pid"] for i in t["instances"] if i["pid"] > 0}


def members(api):
    st, body = http_json("GET", api + "/api/v1/status")
    assert st == 200, body
    return body["members"]


def running(api):
    return sorted(m["address"] for m in members(api) if m["state"] == "running")


def parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def orphans(pool, tmp_path, state):
    known = table_pids(tmp_path, state)
    return {p for p in processes_on(pool.prefix) if parent(p) not in known} - known


def assert_no_orphan(pool, tmp_path, state="state"):
    """Every app process on the pool's addresses is in the table, or a child
    of a member. Under ASan a member that exits forks LeakSanitizer's tracer,
    which shares its command line and, once the member is gone, its parent is
    no longer a member: it is given a few seconds to end. A real orphan is an
    app that keeps serving; it does not end by itself and still fails."""
    try:
        wait_until(lambda: not orphans(pool, tmp_path, state), "orphans gone",
                   timeout=5)
    except AssertionError:
        left = orphans(pool, tmp_path, state)
        assert not left, f"orphans {left}; table {table(tmp_path, state)}"


def assert_one_process_per_id(tmp_path, state="state"):
    """No id was given to two processes: each log holds one start."""
    for i in table(tmp_path, state)["instances"]:
        log = (tmp_path / state / "local" / f"{i['id']}.log").read_text(errors="replace")
        assert log.count("msg=listening") <= 1, f"{i['id']} reused:\n{log}"


def destroy(config, *extra):
    r = subprocess.run([BIN, "pool", "destroy", "--config", str(config), *extra],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r


def crashing(pool, monkeypatch, point, **over):
    """A controller that kills itself (SIGKILL) at the given crash point."""
    monkeypatch.setenv("POOLSCALE_CRASH_AT", point)
    try:
        c = pool(name="crashing", **over)
    finally:
        monkeypatch.delenv("POOLSCALE_CRASH_AT")
    c.expect_rc = -signal.SIGKILL
    return c


def resize_crashing(c, size):
    """Sets the size; the controller may kill itself before it answers (the
    size is saved before any member starts or stops)."""
    try:
        st, _ = http_json("PUT", c.api + "/api/v1/pool/size", {"size": size})
        assert st == 200
    except OSError:  # closed without an answer: it crashed
        pass
    c.wait_exit(30)
    assert "POOLSCALE_CRASH_AT" in c.logtext()


def settle(pool, tmp_path, size):
    """A fresh controller takes over: the pool reaches `size` members with
    no orphan, no extra process, no id used twice."""
    c = pool(name="after")
    assert_no_orphan(pool, tmp_path)
    wait_until(lambda: len(running(c.api)) == size and len(members(c.api)) == size,
               f"{size} members after the restart", timeout=40, every=0.1)

    def steady():
        procs = set(processes_on(pool.prefix))
        return len(procs) == size and procs == table_pids(tmp_path)
    wait_until(steady, f"exactly {size} processes, all in the table", timeout=20, every=0.1)
    assert_one_process_per_id(tmp_path)
    ids = [m["id"] for m in members(c.api)]
    assert len(set(ids)) == len(ids)
    return c


# Every write and spawn of a scale-out 1 -> 4: for each new member the
# intent is written (save), the process forked (fork), its pid written
# (save), then it is let go (exec).
SCALE_OUT_POINTS = [f"save:{n}" for n in range(1, 7)] + \
    [f"fork:{n}" for n in (1, 2, 3)] + [f"exec:{n}" for n in (1, 2, 3)]


@pytest.mark.parametrize("point", SCALE_OUT_POINTS)
def test_killed_at_each_step_of_a_scale_out_leaves_no_orphan(pool, tmp_path, monkeypatch,
                                                              point):
    a = pool(initial=1, boot_delay="0s")
    wait_until(lambda: len(running(a.api)) == 1, "1 running", timeout=20)
    a.finish()
    b = crashing(pool, monkeypatch, point)
    resize_crashing(b, 4)
    assert_no_orphan(pool, tmp_path)
    c = settle(pool, tmp_path, 4)
    c.finish()
    destroy(pool.state["config"])
    assert processes_on(pool.prefix) == []


# A scale-in 4 -> 1: each victim is recorded as stopping (save), then
# signalled (kill).
SCALE_IN_POINTS = [f"save:{n}" for n in (1, 2, 3)] + [f"kill:{n}" for n in (1, 2, 3)]


@pytest.mark.parametrize("point", SCALE_IN_POINTS)
def test_killed_at_each_step_of_a_scale_in_leaves_no_orphan(pool, tmp_path, monkeypatch,
                                                             point):
    a = pool(initial=4, boot_delay="0s", kill_grace="2s")
    wait_until(lambda: len(running(a.api)) == 4, "4 running", timeout=30)
    a.finish()
    b = crashing(pool, monkeypatch, point)
    wait_until(lambda: len(running(b.api)) == 4, "4 adopted running", timeout=20)
    resize_crashing(b, 1)
    assert_no_orphan(pool, tmp_path)
    c = settle(pool, tmp_path, 1)
    c.finish()
    destroy(pool.state["config"])
    assert processes_on(pool.prefix) == []


@pytest.fixture
def small_state_dir(tmp_path):
    """tmp_path/state on a tmpfs of its own, so the test can fill it."""
    state = tmp_path / "state"
    state.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(state)],
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {r.stderr.decode()}")
    yield state
    if subprocess.run(["umount", str(state)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(state)], capture_output=True)


def fill(path):
    """Fills the file system of path to the last byte; returns the filler."""
    filler = path / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (65536, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def full_disk_phase(c, pool, tmp_path, before):
    """A member dies while the state dir is full."""
    victim = before["instances"][0]
    os.kill(victim["pid"], signal.SIGKILL)
    # The death is seen, but its replacement cannot be recorded: nothing
    # starts, the table keeps what it had, and the errors are logged once.
    wait_until(lambda: "could not write the instance table" in c.logtext(),
               "the table write failing", timeout=10)
    end = time.monotonic() + 4
    while time.monotonic() < end:
        assert len(processes_on(pool.prefix)) == 1, "a replacement started unrecorded"
        t = table(tmp_path)
        assert t is not None and len(t["instances"]) >= len(before["instances"])
        time.sleep(0.1)
    text = c.logtext()
    assert text.count("could not write the instance table") == 1, text
    assert text.count("could not write discovery file") <= 1, text
    return victim


def test_full_state_dir_starts_nothing_unrecorded_and_reuses_no_id(small_state_dir, pool,
                                                                    tmp_path):
    c = pool(initial=2, boot_delay="0s")
    wait_until(lambda: len(running(c.api)) == 2, "2 running", timeout=20)
    before = table(tmp_path)
    ids_before = {i["id"] for i in before["instances"]}
    filler = fill(small_state_dir)
    try:
        victim = full_disk_phase(c, pool, tmp_path, before)
    finally:
        filler.unlink()
    wait_until(lambda: len(running(c.api)) == 2, "the replacement, once there is room",
               timeout=20)
    wait_until(lambda: len((table(tmp_path) or {"instances": []})["instances"]) == 2,
               "the table written again", timeout=10)
    assert "instance table written again" in c.logtext()
    after_fill = {i["id"] for i in table(tmp_path)["instances"]}
    assert after_fill == (ids_before - {victim["id"]}) | {"i-0003"}, after_fill
    # Restarted after a crash, it adopts both and hands out no id twice.
    c.expect_rc = -signal.SIGKILL
    c.signal(signal.SIGKILL)
    c.wait_exit(5)
    c2 = pool(name="after")
    assert "adopted=2" in c2.logtext()
    st, _ = http_json("PUT", c2.api + "/api/v1/pool/size", {"size": 3})
    wait_until(lambda: len(running(c2.api)) == 3, "3 running", timeout=20)
    ids = {i["id"] for i in table(tmp_path)["instances"]}
    assert ids == after_fill | {"i-0004"}, ids
    assert_one_process_per_id(tmp_path)
    assert_no_orphan(pool, tmp_path)


def test_out_of_descriptors_takes_no_member_for_dead(pool, tmp_path):
    a = pool(initial=3, boot_delay="0s")
    wait_until(lambda: len(running(a.api)) == 3, "3 running", timeout=20)
    a.finish()
    before = table(tmp_path)
    pids = {i["pid"] for i in before["instances"]}
    # The same controller again, with 256 descriptors, soft and hard.
    cfg = pool.state["config"]
    log = open(tmp_path / "limited.log", "wb")
    p = subprocess.Popen(["prlimit", "--nofile=256:256", BIN, "controller", "--config",
                          str(cfg)], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    conns = []
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        def api():
            text = (tmp_path / "limited.log").read_text(errors="replace")
            assert p.poll() is None, text
            for line in text.splitlines():
                if "msg=started api=" in line:
                    return line.split("msg=started api=")[1].split()[0]
            return None
        addr = wait_until(api, "the limited controller", timeout=20)
        host, port = addr.rsplit(":", 1)
        wait_until(lambda: len(running("http://" + addr)) == 3, "3 adopted", timeout=20)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
        for _ in range(2000):  # idle API clients: far more than it can hold
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((host, int(port)))
            conns.append(s)
        # Several list intervals with no descriptor to spare: every member
        # stays in the table, none is started again.
        end = time.monotonic() + 6
        while time.monotonic() < end:
            t = table(tmp_path)
            assert t is not None and {i["pid"] for i in t["instances"]} == pids, t
            assert set(processes_on(pool.prefix)) == pids
            assert p.poll() is None
            time.sleep(0.1)
        for s in conns:
            s.close()
        conns = []
        wait_until(lambda: len(running("http://" + addr)) == 3, "3 running after",
                   timeout=30, every=0.2)
        st, body = http_json("GET", "http://" + addr + "/api/v1/events")
        kinds = [e["kind"] for e in body["events"]]
        assert "died" not in kinds and "scale_out" not in kinds, body
        assert set(processes_on(pool.prefix)) == pids
        text = (tmp_path / "limited.log").read_text(errors="replace")
        assert "Address already in use" not in text
    finally:
        for s in conns:
            s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        if p.poll() is None:
            p.terminate()
            p.wait(15)
        log.close()
    assert p.returncode == 0
    for bad in ("Sanitizer", "runtime error:"):
        assert bad not in (tmp_path / "limited.log").read_text(errors="replace")


def observe(seconds, alive):
    """Lets `seconds` pass while checking that alive() holds: for what must
    not happen within a window (a restart loop, a death)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert alive()
        time.sleep(0.2)


def test_a_command_that_dies_backs_off(pool, tmp_path):
    cfg = controller_config(tmp_path, pool.base, initial=3, boot_delay="0s")
    cfg.write_text(cfg.read_text().replace(
        "  local:\n", '  local:\n    command: ["/bin/sh", "-c", "exit 1"]\n', 1))
    pool.state["config"] = cfg
    c = pool(name="broken")
    observe(12, lambda: c.p.poll() is None)
    text = c.logtext()
    started = text.count('msg="instance started"')
    # Without backoff: 3 a second. With it: 3, 3 more at once, then waits
    # of 2 s, 16 s...
    assert 3 <= started <= 12, f"{started} starts in 12 s:\n{text}"
    assert text.count('msg="instances keep dying at start"') <= 3, text


def test_address_held_by_another_process_is_skipped(pool, tmp_path):
    base = pool.base
    hold = socket.socket()
    hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hold.bind((base, 8080))
    hold.listen(1)
    try:
        c = pool(initial=2, boot_delay="0s")
        wait_until(lambda: len(running(c.api)) == 2, "2 running", timeout=20)
        assert base not in running(c.api)
        observe(3, lambda: len(processes_on(pool.prefix)) == 2)
        kinds = [e["kind"] for e in http_json("GET", c.api + "/api/v1/events")[1]["events"]]
        assert "died" not in kinds
        assert c.logtext().count('msg="address in use"') == 1, c.logtext()
    finally:
        hold.close()


def test_lost_table_adopts_the_running_members(pool, tmp_path):
    a = pool(initial=2, boot_delay="0s")
    wait_until(lambda: len(running(a.api)) == 2, "2 running", timeout=20)
    a.finish()
    pids = set(processes_on(pool.prefix))
    (tmp_path / "state" / "local" / "instances.json").unlink()
    c = pool(name="after")
    assert "adopted=2" in c.logtext()
    wait_until(lambda: len(running(c.api)) == 2, "2 adopted running", timeout=20)
    observe(3, lambda: set(processes_on(pool.prefix)) == pids)
    assert table_pids(tmp_path) == pids
    c.finish()
    # Even with no table at all, destroy finds every process of the pool.
    (tmp_path / "state" / "local" / "instances.json").unlink()
    destroy(pool.state["config"])
    assert processes_on(pool.prefix) == []


def test_pool_destroy_takes_state_dir(pool, tmp_path):
    other = tmp_path / "elsewhere"
    c = pool("--state-dir", str(other), initial=2, boot_delay="0s")
    wait_until(lambda: len(running(c.api)) == 2, "2 running", timeout=20)
    c.finish()
    assert len(processes_on(pool.prefix)) == 2
    r = destroy(pool.state["config"], "--state-dir", str(other))
    assert b"destroyed" in r.stdout
    assert processes_on(pool.prefix) == []
    assert json.loads((other / "targets-web.json").read_text()) == []
