"""A user's own pool script, as the exec provider runs it: members are
`poolscale app` processes on loopback addresses, kept in STATE/pool.json.

    exec_pool.py --state DIR --base 127.x.y.1 --port P --metrics-port M list
    exec_pool.py ... set-size N
    exec_pool.py ... remove ID
"""
import argparse
import json
import os
import signal
import subprocess
import sys

# As conftest.py: the build's binary unless make says which.
BIN = os.environ.get("POOLSCALE_BIN", os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "build", "poolscale"))


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--state", required=True)
    p.add_argument("--base", required=True)
    p.add_argument("--port", required=True)
    p.add_argument("--metrics-port", required=True)
    p.add_argument("cmd", choices=["list", "set-size", "remove"])
    p.add_argument("arg", nargs="?")
    a = p.parse_args()
    path = os.path.join(a.state, "pool.json")
    try:
        with open(path) as f:
            pool = json.load(f)
    except FileNotFoundError:
        pool = {"next": 1, "members": []}
    if a.cmd == "list":
        out = [{"id": m["id"], "address": m["address"],
                "state": "running" if alive(m["pid"]) and not m.get("stopping") else "stopping"}
               for m in pool["members"] if alive(m["pid"])]
        print(json.dumps(out))
        return 0
    if a.cmd == "set-size":
        n = int(a.arg)
        live = [m for m in pool["members"] if alive(m["pid"]) and not m.get("stopping")]
        prefix = a.base.rsplit(".", 1)[0]
        while len(live) < n:
            k = pool["next"]
            pool["next"] += 1
            addr = f"{prefix}.{k}"
            proc = subprocess.Popen([BIN, "app", "--listen", f"{addr}:{a.port}",
                                     "--metrics-listen", f"{addr}:{a.metrics_port}",
                                     "--work-ms", "1", "--vcpu", "0.2", "--threads", "1"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            m = {"id": f"vm-{k}", "address": addr, "pid": proc.pid}
            pool["members"].append(m)
            live.append(m)
    else:
        for m in pool["members"]:
            if m["id"] == a.arg and alive(m["pid"]):
                m["stopping"] = True
                os.kill(m["pid"], signal.SIGTERM)
    pool["members"] = [m for m in pool["members"] if alive(m["pid"])]
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(pool, f)
    os.replace(tmp, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
