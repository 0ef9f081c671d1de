"""make install / make uninstall, make deb, lintian, and the .deb installed
and purged in a scratch root (dpkg --root with the maintainer scripts run
outside a chroot, DPKG_ROOT set: the machine's own dpkg database, users and
systemd are never touched)."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from conftest import ROOT

# The package is built from source by make deb: the same under either
# binary, so scripts/test runs it in the plain pass only (-m "not package").
pytestmark = pytest.mark.package

REPO = pathlib.Path(ROOT)
VERSION = re.search(r"^VERSION := (\S+)$", (REPO / "Makefile").read_text(), re.M).group(1)
UNITS = ["poolscale-app", "poolscale-controller", "poolscale-lb", "poolscale-sd"]
CONFIGS = ["controller.yml", "sd.yml"]
# deploy/ files the demo and the operator need, as make install lays them out
DEPLOY = ["prometheus/prometheus.yml", "prometheus/rules/poolscale.yml",
          "alertmanager/alertmanager.yml", "grafana/dashboards/poolscale.json",
          "grafana/provisioning/datasources/prometheus.yaml",
          "grafana/provisioning/dashboards/poolscale.yaml",
          "systemd/poolscale-controller.service.d/exoscale.conf",
          "systemd/poolscale-sd.service.d/aws.conf"] + [f"systemd/{u}.service" for u in UNITS]


def run(*cmd, ok=True, timeout=120, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    out = r.stdout + r.stderr
    if ok:
        assert r.returncode == 0, f"{' '.join(map(str, cmd))}: exit {r.returncode}\n{out}"
    return r.returncode, out


def need(tool):
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: scripts/deps installs it")


def files_under(root, dirs=False):
    root = pathlib.Path(root)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if dirs or not p.is_dir())


def make(*args):
    return run("make", "--no-print-directory", "-C", ROOT, *args, timeout=600)


def man_pages():
    return sorted(p.name for p in (REPO / "man").glob("*.[15]")) if (REPO / "man").is_dir() else []


def exec_start(unit_text):
    return [ln.split("=", 1)[1] for ln in unit_text.splitlines() if ln.startswith("ExecStart=")]


# --- make install ---------------------------------------------------------------

def test_install_and_uninstall(tmp_path):
    dest = tmp_path / "dest"
    make("install", f"DESTDIR={dest}")
    p = dest / "usr/local"
    got = set(files_under(dest))
    want = {"usr/local/bin/poolscale"}
    want |= {f"usr/local/share/poolscale/deploy/{f}" for f in DEPLOY}
    want |= {f"usr/local/etc/poolscale/{c}" for c in CONFIGS}
    want |= {f"usr/local/share/doc/poolscale/examples/{e.name}" for e in (REPO / "examples").glob("*.yaml")}
    want |= {f"usr/local/share/man/man{m[-1]}/{m}" for m in man_pages()}
    if (REPO / "contrib/bash-completion/poolscale").exists():
        want.add("usr/local/share/bash-completion/completions/poolscale")
    missing = sorted(want - got)
    assert not missing, f"make install did not install {missing}"
    assert os.access(p / "bin/poolscale", os.X_OK)
    # the installed units run the installed binary with the installed configs
    for u in UNITS:
        text = (p / f"share/poolscale/deploy/systemd/{u}.service").read_text()
        assert exec_start(text) and all(e.startswith("/usr/local/bin/poolscale ") for e in exec_start(text)), u
        assert "/etc/poolscale/" not in text.replace("/usr/local/etc/poolscale/", ""), u
    # the installed binary's demo finds the installed deploy/
    _, out = run(str(p / "bin/poolscale"), "demo", "--help", ok=False, cwd=tmp_path)
    assert f"Deploy folder found: {p / 'share/poolscale/deploy'}\n" in out, out

    # an edited config survives a second install and the uninstall
    edited = p / "etc/poolscale/sd.yml"
    edited.write_text(edited.read_text() + "# mine\n")
    make("install", f"DESTDIR={dest}")
    assert edited.read_text().endswith("# mine\n")
    make("uninstall", f"DESTDIR={dest}")
    assert files_under(dest) == ["usr/local/etc/poolscale/sd.yml"]
    edited.unlink()
    make("uninstall", f"DESTDIR={dest}")  # twice is fine
    assert files_under(dest) == []


def test_install_prefix(tmp_path):
    """Another PREFIX and SYSCONFDIR: the units follow both."""
    dest = tmp_path / "dest"
    make("install", f"DESTDIR={dest}", "PREFIX=/opt/poolscale", "SYSCONFDIR=/etc/opt")
    text = (dest / "opt/poolscale/share/poolscale/deploy/systemd/poolscale-controller.service").read_text()
    assert exec_start(text) == ["/opt/poolscale/bin/poolscale controller --config /etc/opt/poolscale/controller.yml"]
    assert "LoadCredential=api-token:/etc/opt/poolscale/api-token" in text
    assert (dest / "opt/poolscale/bin/poolscale").exists() and (dest / "etc/opt/poolscale/controller.yml").exists()
    assert not (dest / "usr").exists()


def test_shipped_configs_are_valid(tmp_path):
    """/etc/poolscale's samples pass --check-config once their credential
    paths exist (systemd provides them at run time)."""
    creds = tmp_path / "credentials"
    creds.mkdir()
    for name in ("api-token", "exoscale-key", "exoscale-secret"):
        (creds / name).write_text("x\n")
    for name, unit in (("controller.yml", "poolscale-controller"), ("sd.yml", "poolscale-sd")):
        text = (REPO / "deploy/etc" / name).read_text()
        assert f"/run/credentials/{unit}.service/" in text, name
        text = text.replace(f"/run/credentials/{unit}.service/", f"{creds}/")
        cfg = tmp_path / name
        cfg.write_text(text.replace("/var/lib/poolscale", str(tmp_path / "state")))
        rc, out = run(str(REPO / "build/poolscale"), "controller", "--config", str(cfg),
                      "--check-config", ok=False)
        assert rc == 0 and "valid" in out, f"{name}: {out}"


# --- make deb ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def deb():
    """One package build per session (about a minute and a half)."""
    for tool in ("dpkg-buildpackage", "dh", "fakeroot"):
        need(tool)
    def new_files():  # untracked or ignored paths (edits to tracked files are not the build's)
        out = run("git", "-C", ROOT, "status", "--porcelain", "--ignored", "--untracked-files=all")[1]
        return {ln for ln in out.splitlines() if ln[:2] in ("??", "!!") and not ln.startswith("!! build/")}
    before = new_files()
    _, out = make("deb")
    path = REPO / f"build/deb/poolscale_{VERSION}_{run('dpkg', '--print-architecture')[1].strip()}.deb"
    assert path.exists(), out
    # built from a copy: the checkout has nothing new but build/deb
    left = sorted(new_files() - before)
    assert not left, f"make deb left {left} in the checkout"
    assert not list(REPO.parent.glob("poolscale_*.changes"))
    return path


def test_deb_lintian_clean(deb):
    need("lintian")
    _, out = run("lintian", "--fail-on", "none", str(deb), timeout=300)
    bad = [ln for ln in out.splitlines() if re.match(r"[EW]: ", ln)]
    assert not bad, "\n".join(bad)
    # overrides, if any, each come after a comment saying why
    _, text = run("sh", "-c", f"dpkg-deb --fsys-tarfile {deb} | tar -xOf - ./usr/share/lintian/overrides/poolscale"
                  " 2>/dev/null || true")
    lines = text.splitlines()
    for i, ln in enumerate(lines):
        if ln and not ln.startswith("#"):
            assert i > 0 and lines[i - 1].startswith("# ") and len(lines[i - 1]) > 20, \
                f"lintian override without a reason: {ln}"


def test_deb_metadata(deb, tmp_path):
    _, info = run("dpkg-deb", "--field", str(deb))
    fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", info, re.M))
    assert fields["Package"] == "poolscale" and fields["Version"] == VERSION
    for lib in ("libc6", "libcurl4", "libjansson4", "libyaml-0-2", "libssl3"):
        assert re.search(rf"(^|, ){re.escape(lib)}\b", fields["Depends"]), fields["Depends"]
    assert re.search(r"(^|, )systemd\b", fields["Depends"]), "systemd-sysusers runs in postinst"
    assert fields["Recommends"] == "prometheus, prometheus-alertmanager"
    ctl = tmp_path / "control"
    run("dpkg-deb", "--control", str(deb), str(ctl))
    assert sorted((ctl / "conffiles").read_text().split()) == [f"/etc/poolscale/{c}" for c in CONFIGS]
    # units installed, never enabled or started by the package
    postinst = (ctl / "postinst").read_text()
    assert "systemd-sysusers" in postinst and "poolscale.conf" in postinst
    assert "deb-systemd-invoke" not in postinst and "systemctl start" not in postinst
    # dh_installsystemd --no-enable: `enable` only restores what the operator
    # had enabled before an upgrade (inside `if ... was-enabled`)
    lines = postinst.splitlines()
    enables = [i for i, ln in enumerate(lines) if "deb-systemd-helper enable" in ln]
    assert all(any("was-enabled" in ln for ln in lines[max(0, i - 3):i]) for i in enables), postinst


def dpkg_root(root, *args):
    # scripts outside a chroot (the scratch root has no shell), with DPKG_ROOT
    # set, which debhelper's snippets, deb-systemd-helper and systemd-sysusers
    # honour; --force-depends: the libraries are the machine's, not the root's
    return run("dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends",
               f"--log={root}/dpkg.log", *args, timeout=120)


def test_deb_installs_and_purges(deb, tmp_path):
    need("systemd-sysusers")
    root = tmp_path / "root"
    # what every Debian system with systemd has (deb-systemd-helper keeps
    # its state in /var/lib/systemd)
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "etc", "var/lib/systemd"):
        (root / d).mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text("")
    host_state = sorted(pathlib.Path("/var/lib/systemd/deb-systemd-helper-enabled").rglob("poolscale*"))
    before = set(files_under(root, dirs=True))
    # cloud-init writes controller.yml before installing the package
    # (deploy/cloud-init/poolscale-install.sh): confold keeps it
    (root / "etc/poolscale").mkdir()
    (root / "etc/poolscale/controller.yml").write_text("# cloud-init's\n")

    dpkg_root(root, "--force-confold", "--install", str(deb))
    _, st = dpkg_root(root, "--status", "poolscale")
    assert "Status: install ok installed" in st
    binary = root / "usr/bin/poolscale"
    run(str(binary), "--help")
    _, out = run(str(binary), "demo", "--help", ok=False, cwd=tmp_path)
    assert f"Deploy folder found: {root / 'usr/share/poolscale/deploy'}\n" in out, out
    for u in UNITS:
        text = (root / f"lib/systemd/system/{u}.service").read_text()
        assert all(e.startswith("/usr/bin/poolscale ") for e in exec_start(text)), u
        # not enabled: no symlink in any .wants
        assert not list(root.rglob(f"*.wants/{u}.service")), u
    assert not list((root / "lib/systemd/system").glob("*.d")), "cloud drop-ins are the operator's choice"
    assert (root / "etc/poolscale/controller.yml").read_text() == "# cloud-init's\n"
    assert (root / "etc/poolscale/controller.yml.dpkg-dist").read_text() == \
        (REPO / "deploy/etc/controller.yml").read_text()
    assert (root / "etc/poolscale/sd.yml").read_text() == (REPO / "deploy/etc/sd.yml").read_text()
    # the system user, by systemd-sysusers from the package's sysusers.d file
    passwd = (root / "etc/passwd").read_text()
    user = [ln for ln in passwd.splitlines() if ln.startswith("poolscale:")]
    assert len(user) == 1 and user[0].endswith(":/var/lib/poolscale:/usr/sbin/nologin"), passwd
    assert int(user[0].split(":")[2]) < 1000, "a system user"

    # state a running controller would have left, then purge
    (root / "var/lib/poolscale").mkdir(parents=True)
    (root / "var/lib/poolscale/controller.json").write_text("{}")
    dpkg_root(root, "--purge", "poolscale")
    after = set(files_under(root, dirs=True))
    # what may remain: dpkg's own database and log, and the user (Debian
    # leaves system users in place on purge: files they own may remain)
    allowed = re.compile(r"^(var/lib/dpkg/|dpkg\.log$|etc/(passwd|group|shadow|gshadow)-?$|etc/\.pwd\.lock$)")
    left = sorted(f for f in after - before if not allowed.match(f))
    assert not left, f"purge left {left}"
    assert not (root / "var/lib/poolscale").exists()
    assert "poolscale" not in (root / "var/lib/dpkg/status").read_text()
    # and the machine's own systemd state was not touched
    assert sorted(pathlib.Path("/var/lib/systemd/deb-systemd-helper-enabled").rglob("poolscale*")) == host_state


def test_cloud_install_script_checks_the_sum(tmp_path):
    """deploy/cloud-init/poolscale-install.sh: a file whose SHA-256 is not
    the one given never reaches apt-get (curl reads a file:// URL here)."""
    pkg = tmp_path / "poolscale.deb"
    pkg.write_bytes(b"not the package\n")
    script = REPO / "deploy/cloud-init/poolscale-install.sh"
    fake = tmp_path / "bin"
    fake.mkdir()
    called = tmp_path / "apt-get-called"
    (fake / "apt-get").write_text(f"#!/bin/sh\ntouch {called}\n")
    (fake / "apt-get").chmod(0o755)
    env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}")
    rc, out = run("sh", str(script), f"file://{pkg}", "0" * 64, ok=False, env=env)
    assert rc != 0 and not called.exists(), out
    assert "FAILED" in out or "did NOT match" in out, out
    assert not list(pathlib.Path("/var/cache").glob("poolscale-install.*")), "temporary directory left"
    # the right sum gets as far as apt-get (the fake one), with the downloaded file
    import hashlib
    rc, out = run("sh", str(script), f"file://{pkg}", hashlib.sha256(pkg.read_bytes()).hexdigest(),
                  ok=False, env=env)
    assert called.exists(), out
