"""The manual pages (man/) and the bash completion (contrib/bash-completion/)
agree with the binary: every page lints clean with mandoc, every long flag of
`poolscale CMD --help` is in its page's options and the other way round,
every key the config loaders accept is in poolscale.yaml(5) and the other
way round, and the completion offers every command and flag of --help."""
import glob
import os
import re
import shutil
import subprocess
import tempfile

import pytest

import cfgkeys
from conftest import BIN, ROOT

MAN = os.path.join(ROOT, "man")
COMPLETION = os.path.join(ROOT, "contrib", "bash-completion", "poolscale")

# page -> the --help texts it documents (argument lists before --help)
PAGES = {
    "poolscale.1": [[]],
    "poolscale-controller.1": [["controller"]],
    "poolscale-lb.1": [["lb"]],
    "poolscale-app.1": [["app"]],
    "poolscale-load.1": [["load"]],
    "poolscale-simulate.1": [["simulate"], ["simulate", "calibrate"]],
    "poolscale-demo.1": [["demo"]],
    "poolscale-sd.1": [["sd"]],
    "poolscale-status.1": [["status"], ["scale"], ["events"]],
    "poolscale-pool.1": [["pool", "destroy"]],
}
OPTION_LINE = re.compile(r"^\s+(?:-[a-zA-Z],\s*)?(--[a-z0-9][-a-z0-9]*)")


def help_text(args):
    r = subprocess.run([BIN, *args, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, f"poolscale {' '.join(args)} --help: exit {r.returncode}"
    return r.stdout


def help_flags(args):
    """The long options a --help text lists (one a line, at its start)."""
    return {m.group(1) for line in help_text(args).splitlines()
            if (m := OPTION_LINE.match(line))}


def commands():
    text = help_text([])
    block = text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.strip()]


def read_page(name):
    with open(os.path.join(MAN, name)) as f:
        return f.read()


def page_flags(name):
    """The long options of a page's option lists: `.It Fl -NAME` items."""
    out = set()
    for line in read_page(name).splitlines():
        if line.startswith(".It ") and " Fl " in f" {line[4:]}":
            out |= {"--" + f for f in re.findall(r"\bFl -([a-z0-9][-a-z0-9]*)", line)}
    return out


def test_every_page_is_there():
    pages = {os.path.basename(p) for p in glob.glob(os.path.join(MAN, "*.[15]"))}
    assert pages == set(PAGES) | {"poolscale.yaml.5"}


@pytest.mark.parametrize("page", sorted(PAGES) + ["poolscale.yaml.5"])
def test_mandoc_lint_clean(page):
    # scripts/deps installs mandoc: a missing one is a failure, not a skip
    assert shutil.which("mandoc"), "mandoc is missing: run scripts/deps"
    r = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", os.path.join(MAN, page)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stdout + r.stderr


def test_every_command_has_a_page_and_is_in_the_overview():
    documented = {args[0] for texts in PAGES.values() for args in texts if args}
    overview = read_page("poolscale.1")
    for cmd in commands():
        assert cmd in documented, f"poolscale {cmd}: no manual page in PAGES"
        assert re.search(r"^\.It Cm %s\b|Cm %s\b" % (cmd, cmd), overview, re.M), \
            f"poolscale {cmd} is not in poolscale(1)"


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_options_match_help(page):
    from_help = set()
    for args in PAGES[page]:
        from_help |= help_flags(args)
    in_page = page_flags(page)
    assert from_help, f"no flags found in --help of {PAGES[page]}"
    assert not from_help - in_page, f"{page} misses {sorted(from_help - in_page)}"
    assert not in_page - from_help, f"{page} documents {sorted(in_page - from_help)}, " \
        "which --help does not list"


def test_config_keys_match_poolscale_yaml_5():
    accepted = cfgkeys.keys()
    # sanity: the extractor found the sections it must find
    for k in ("pool", "provider.local.vcpu", "schedule[].cron",
              "policy.target.forecast.headroom.quantile", "provider.exec.set_size",
              "simulate.hpa.sync"):
        assert k in accepted, f"cfgkeys missed {k}"
    documented = set(re.findall(r"^\.It Ic (\S+)", read_page("poolscale.yaml.5"), re.M))
    assert not accepted - documented, \
        f"poolscale.yaml(5) misses {sorted(accepted - documented)}"
    assert not documented - accepted, \
        f"poolscale.yaml(5) documents {sorted(documented - accepted)}, which no loader reads"


def complete(words):
    """COMPREPLY of the completion function for words (the last one is the
    word being completed)."""
    quoted = " ".join("'%s'" % w.replace("'", "'\\''") for w in words)
    script = (f"source '{COMPLETION}'\n"
              f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n"
              "_poolscale\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    # in an empty directory, so that completing a path offers nothing
    with tempfile.TemporaryDirectory() as empty:
        r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script],
                           capture_output=True, text=True, timeout=10, cwd=empty)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return {w for w in r.stdout.splitlines() if w}


def test_completion_offers_every_command():
    offered = complete(["poolscale", ""])
    missing = set(commands()) - offered
    assert not missing, f"completion does not offer {sorted(missing)}"
    assert not offered - set(commands()) - {"--help", "--version"}, offered


@pytest.mark.parametrize("args", [a for texts in PAGES.values() for a in texts if a],
                         ids=lambda a: "-".join(a))
def test_completion_flags_match_help(args):
    text = help_text(args)
    flags = help_flags(args)
    offered = complete(["poolscale", *args, "--"])
    assert not flags - offered, f"completion misses {sorted(flags - offered)}"
    assert not offered - flags, f"completion offers {sorted(offered - flags)}, not in --help"
    # Values: every fixed set --help spells a|b|c is offered, and every value
    # offered is a word of the --help text (http:/health for http:/PATH).
    for m in re.finditer(r"(--[a-z][-a-z]*) ([a-z]+(?:\|[a-z]+)+)\b", text):
        got = complete(["poolscale", *args, m.group(1), ""])
        want = set(m.group(2).split("|"))
        assert want <= got, f"{' '.join(args)} {m.group(1)}: offers {got}, want {want}"
    words = set(re.findall(r"[a-z][a-z0-9-]*", text))
    for flag in flags:
        for value in complete(["poolscale", *args, flag, "zz-no-such-prefix"]):
            pytest.fail(f"{flag}: completes a value that matches nothing: {value}")
        # (after a flag without a value the flags are offered again)
        for v in complete(["poolscale", *args, flag, ""]) - flags:
            assert re.split(r"[:/]", v)[0] in words, \
                    f"{' '.join(args)} {flag}: offers {v!r}, which --help never names"


def test_completion_passes_shellcheck():
    assert shutil.which("shellcheck"), "shellcheck is missing: scripts/deps installs it"
    r = subprocess.run(["shellcheck", "-s", "bash", COMPLETION], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
