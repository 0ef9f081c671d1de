"""Shared machinery of the contract servers (exoscale.py, aws.py,
linode.py), and the helper that tests use to start them.

Server side (imported by the scripts)
=====================================

One ThreadingHTTPServer on 127.0.0.1 (HTTP/1.1, keep-alive, every reply
Content-Length framed).  Options every script takes:

  --port N             0 (default) picks a free port
  --port-file FILE     the port, written once listening (temp file + rename)
  --size N             initial pool size (default 1)
  --boot-s X           a new member is "booting" for X s, then "running" (1.0)
  --terminate-s X      a removed member is "terminating" for X s, then gone (0.5)
  --address-base IP    member addresses: IP, IP+1, ... (default 127.0.2.1)
  --spawn JSON_ARGV    process started per member (placeholders below)
  --log-dir DIR        where spawned processes' output goes (else /dev/null)
  --clock-offset-s X   the server's clock for signature dates/expiry is
                       time.time() + X (to test clock skew); default 0

Pool model (common to both services):
- Members have a phase: booting -> running -> (removed) terminating -> gone.
  Each service maps the phase to its own state names (Exoscale:
  starting/running/destroying; AWS: Pending/InService/Terminating and EC2
  pending/running/shutting-down/terminated).
- The initial --size members exist when the server starts and are already
  running (a pre-existing pool); members created later boot for --boot-s.
- The size is applied at once: a scale-up creates the new members
  immediately (booting), a scale-down marks members terminating immediately.
  A scale-down removes the NEWEST active members (highest creation order).
- Addresses go up from --address-base (x.x.x.0 and x.x.x.255 are skipped),
  never reusing an address while a member (in any phase, terminating
  included) or a still-running spawned process holds it.  After the end of
  127/8 it wraps to the base.
- --spawn '["/path/poolscale","app","--listen","{address}:8080"]': started
  when the member is created, placeholders {address} {id} {name} {index}
  replaced inside each argument; own process group (new session);
  stdout+stderr to DIR/<name>-<id>.log with --log-dir, else /dev/null.
  When the member is removed (scale-down/evict/terminate) its process group
  gets SIGTERM, and SIGKILL 5 s later if still alive.  A process that exits
  by itself is reaped; its member stays (health checks will notice).
  On server exit every spawned process group gets SIGTERM, SIGKILL after 3 s.
- SIGTERM/SIGINT: the server stops listening, kills its spawned processes as
  above, exits 0.

Request processing order, for every non-admin request:
  1. read the body (Content-Length or chunked; anything else -> 400 close);
  2. authenticate (signature, credential, expiry/date).  Failure -> the
     service's auth error; faults are NOT consumed by such requests;
  3. the first armed fault whose `match` is a substring of the request
     target (path + query) or of its action fires (see below);
  4. validate and execute; mutations happen under one lock.
Each request is logged to stderr as one line:
  "<kind>: <METHOD> <target> action=<action> -> <status> auth=<auth> [why=...]"

Admin API (same port, never signed, not recorded in the request log)
--------------------------------------------------------------------
POST /_admin/fault, JSON body:
  {"kind": "status", "status": 429|500|503|any 4xx/5xx, "count": N, "match": "..."}
      the next N matching authenticated requests get that status and the
      service's error body (see each script for codes/bodies).  Optional
      "message" and (AWS) "code" override the body; "retry_after": seconds
      adds a Retry-After header (Exoscale 429 gets Retry-After: 1 by
      default; "retry_after": null removes it).
  {"kind": "slow", "delay_s": X, "count": N, "match": "..."}
      reply X seconds late (0 <= X <= 120).
  {"kind": "drop", "count": N, "match": "..."}
      close the connection without any reply (socket shutdown).
  {"kind": "clear"}   disarm all faults.
  Common optional fields: "count" (default 1), "match" (default "": every
  request), "when": "before" (default: the request is NOT executed) or
  "after" (the request IS executed, its effect stays, then the fault
  replaces/delays/drops the reply: a lost reply to a mutation).
  When it fires (default: on each matching request, "count" times):
    "every": K        on every K-th matching request only (the K-th, 2K-th,
                      ...), the others pass: steady throttling, K >= 1;
    "rate": R, "burst": B   a token bucket, as cloud APIs throttle: B
                      tokens (default 1), refilled at R per second; a
                      matching request that finds a token takes it and
                      passes, one that finds none gets the fault.
  "count" counts the requests the fault hit, not those it let pass.
  Reply: {"ok": true, "fault": {...}}; bad input -> 400 {"error": "..."}.
GET /_admin/state ->
  {"kind", "size": desired size, "members": [{"id","name","address","state",
   "phase","pid","alive"}...] (terminating members included, gone ones not),
   "requests": [{"t","method","path","action","status","auth","why","fault"}],
   "mutations": N, "faults": [armed faults], ...service extras}
  "status" is null for a dropped request; "auth" is "ok", "bad" or "none"
  (no Authorization header); "mutations" counts accepted mutating calls
  (Exoscale :scale/:evict, AWS SetDesiredCapacity/Terminate...), a call
  accepted as a no-op (same size) included; a mutating call that a
  "before" fault answered is not counted, an "after" one is.
POST /_admin/reset_log -> {"ok": true}; empties "requests".
POST /_admin/members {"kill": "<id>"} -> SIGKILL to the member's spawned
  process group: {"ok": true, "killed": true|false (no live process)};
  unknown id -> 404 {"error": ...}.  The member stays in the pool.
A service may add endpoints of its own (aws.py: /_admin/group).

Test side
=========
    from contract.common import start_server, contract_server
    srv = start_server("exoscale"|"aws", tmp_path, **opts)   # or the fixture:
    def test_x(contract_server): srv = contract_server("aws", size=2)

opts are the script options with underscores (boot_s=0.2, public_ip=True,
spawn=[...argv...] (list, JSON-encoded for you), key=[...] for repeats).
With spawn and no log_dir, member logs go to tmp_path/<name>-members/.
Server: .kind .url .host .port .addr .pid .args (the effective options,
parsed by the script's own parser) .log_path
  .request(...)      a correctly signed request with the server's
                     credentials, see exoscale.request / aws.request
  .state() .members() .requests() .fault(kind, **kw) .clear_faults()
  .set_group(min=, max=) (aws)
  .reset_log() .kill_member(id) .wait(pred(state), what, timeout)
  .log_text() .stop() -> exit code (SIGTERM; SIGKILL after 10 s)
Replies are HTTPReply objects: .status .reason .headers (lower-case keys)
.body (bytes) .text .json() .xml() (namespace-stripped ElementTree root).
"""
import http.client
import itertools
import json
import os
import pathlib
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
MAX_BODY = 1 << 20


def log(msg):
    try:
        sys.stderr.write(f"{time.strftime('%H:%M:%S')} {msg}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


# ---------------------------------------------------------------- addresses

def ip_to_int(s):
    parts = s.split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 for p in parts):
        raise ValueError(f"bad IPv4 address {s!r}")
    n = 0
    for p in parts:
        n = n * 256 + int(p)
    return n


def int_to_ip(n):
    return ".".join(str((n >> s) & 255) for s in (24, 16, 8, 0))


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


# ---------------------------------------------------------------- pool model

class Member:
    def __init__(self, id, index, name, address, created, created_wall):
        self.id = id
        self.index = index          # 1, 2, ... in creation order
        self.name = name
        self.address = address
        self.created = created      # monotonic
        self.created_wall = created_wall
        self.removed = None         # monotonic, when it started terminating
        self.gone = None            # monotonic, when it disappeared
        self.proc = None            # Spawned or None


class Spawned:
    def __init__(self, popen, member, log_file):
        self.popen = popen
        self.member = member
        self.log_file = log_file
        self.kill_at = None         # SIGKILL deadline after a SIGTERM

    def alive(self):
        return self.popen.poll() is None

    def signal(self, sig):
        try:
            os.killpg(self.popen.pid, sig)
            return True
        except (ProcessLookupError, PermissionError):
            return False


class AdminError(Exception):
    pass


class Pool:
    """Members, desired size, request log, faults. All under self.lock."""

    def __init__(self, args, new_id, name_of):
        self.lock = threading.RLock()
        self.boot_s = args.boot_s
        self.terminate_s = args.terminate_s
        self.gone_ttl_s = getattr(args, "gone_ttl_s", 0.0)
        self.base = ip_to_int(args.address_base)
        self.next_addr = self.base
        self.spawn = args.spawn_argv
        self.log_dir = args.log_dir
        self.new_id = new_id
        self.name_of = name_of
        self.members = []           # booting, running, terminating
        self.gone = []              # disappeared less than gone_ttl_s ago
        self.procs = []             # live or not yet reaped spawned processes
        self.size = 0
        self.mutations = 0
        self.requests = []
        self.faults = []
        self.fault_ids = itertools.count(1)
        self.seq = 0

    @staticmethod
    def now():
        return time.monotonic()

    def phase(self, m, now=None):
        now = self.now() if now is None else now
        if m.gone is not None:
            return "gone"
        if m.removed is not None:
            return "terminating" if now < m.removed + self.terminate_s else "gone"
        return "booting" if now < m.created + self.boot_s else "running"

    def active(self):
        """Members not removed (booting or running), oldest first."""
        return [m for m in self.members if m.removed is None]

    def find(self, id):
        for m in self.members:
            if m.id == id:
                return m
        return None

    # -- addresses
    def _step(self, n):
        n += 1
        while n & 255 in (0, 255):
            n += 1
        if n > ip_to_int("127.255.255.254"):
            n = self.base
        return n

    def _alloc_address(self):
        held = {m.address for m in self.members}
        held |= {p.member.address for p in self.procs if p.alive()}
        n = self.next_addr
        for _ in range(1 << 20):
            if n & 255 not in (0, 255) and int_to_ip(n) not in held:
                self.next_addr = self._step(n)
                return int_to_ip(n)
            n = self._step(n)
        raise RuntimeError("no free address")

    # -- lifecycle
    def launch(self, running=False):
        with self.lock:
            self.seq += 1
            existing = {m.id for m in self.members} | {m.id for m in self.gone}
            while True:
                id = self.new_id()
                if id not in existing:
                    break
            now = self.now()
            created = now - self.boot_s if running else now
            m = Member(id, self.seq, self.name_of(self.seq), self._alloc_address(),
                       created, time.time())
            self.members.append(m)
            if self.spawn:
                self._spawn(m)
            log(f"member {m.id} {m.name} {m.address} created"
                + (f" pid={m.proc.popen.pid}" if m.proc else ""))
            return m

    def _spawn(self, m):
        subst = {"{address}": m.address, "{id}": m.id, "{name}": m.name,
                 "{index}": str(m.index)}
        argv = []
        for a in self.spawn:
            for k, v in subst.items():
                a = a.replace(k, v)
            argv.append(a)
        if self.log_dir:
            os.makedirs(self.log_dir, exist_ok=True)
            out = open(os.path.join(self.log_dir, f"{m.name}-{m.id}.log"), "ab")
        else:
            out = open(os.devnull, "wb")
        try:
            p = subprocess.Popen(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                 start_new_session=True, close_fds=True)
        except OSError as e:
            out.close()
            log(f"member {m.id}: spawn {argv!r} failed: {e}")
            return
        m.proc = Spawned(p, m, out)
        self.procs.append(m.proc)

    def remove(self, m):
        """Starts terminating a member; SIGTERM to its process."""
        with self.lock:
            if m.removed is not None:
                return
            m.removed = self.now()
            if m.proc and m.proc.alive():
                m.proc.signal(signal.SIGTERM)
                m.proc.kill_at = self.now() + 5.0
            log(f"member {m.id} {m.address} terminating")

    def scale_to(self, n):
        """Sets the size; launches or removes (newest first) to match."""
        with self.lock:
            self.size = n
            act = self.active()
            launched, removed = [], []
            for _ in range(n - len(act)):
                launched.append(self.launch())
            if len(act) > n:
                for m in sorted(act, key=lambda m: m.index, reverse=True)[:len(act) - n]:
                    self.remove(m)
                    removed.append(m)
            return launched, removed

    def tick(self):
        with self.lock:
            now = self.now()
            for m in list(self.members):
                if m.removed is not None and now >= m.removed + self.terminate_s:
                    self.members.remove(m)
                    m.gone = now
                    self.gone.append(m)
                    log(f"member {m.id} {m.address} gone")
            self.gone = [m for m in self.gone if now - m.gone < self.gone_ttl_s]
            for p in list(self.procs):
                rc = p.popen.poll()
                if rc is not None:
                    self.procs.remove(p)
                    p.log_file.close()
                    log(f"member {p.member.id}: process {p.popen.pid} exited rc={rc}")
                elif p.kill_at is not None and now >= p.kill_at:
                    log(f"member {p.member.id}: process {p.popen.pid} ignored SIGTERM, SIGKILL")
                    p.signal(signal.SIGKILL)
                    p.kill_at = None

    def kill_all(self, grace=3.0):
        with self.lock:
            procs = [p for p in self.procs if p.alive()]
            for p in procs:
                p.signal(signal.SIGTERM)
        end = time.monotonic() + grace
        while time.monotonic() < end and any(p.alive() for p in procs):
            time.sleep(0.02)
        for p in procs:
            if p.alive():
                p.signal(signal.SIGKILL)
        for p in procs:
            try:
                p.popen.wait(5)
            except subprocess.TimeoutExpired:
                pass
        # a group may hold grandchildren after the leader died
        for p in procs:
            p.signal(signal.SIGKILL)
            p.log_file.close()

    # -- faults
    def add_fault(self, spec):
        if not isinstance(spec, dict):
            raise AdminError("body must be a JSON object")
        kind = spec.get("kind")
        if kind == "clear":
            with self.lock:
                self.faults.clear()
            return {"ok": True}
        known = {"kind", "count", "match", "when", "status", "delay_s", "message",
                 "code", "retry_after", "every", "rate", "burst"}
        extra = set(spec) - known
        if extra:
            raise AdminError(f"unknown fields {sorted(extra)}")
        if kind not in ("status", "slow", "drop"):
            raise AdminError("kind must be status, slow, drop or clear")
        count = spec.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise AdminError("count must be an integer >= 1")
        match = spec.get("match", "") or ""
        if not isinstance(match, str):
            raise AdminError("match must be a string")
        when = spec.get("when", "before")
        if when not in ("before", "after"):
            raise AdminError("when must be before or after")
        f = {"id": next(self.fault_ids), "kind": kind, "count": count,
             "remaining": count, "match": match, "when": when}
        if "every" in spec:
            every = spec["every"]
            if not isinstance(every, int) or isinstance(every, bool) or every < 1:
                raise AdminError("every must be an integer >= 1")
            f["every"], f["seen"] = every, 0
        if "rate" in spec or "burst" in spec:
            if "every" in f:
                raise AdminError("give every or rate, not both")
            rate, burst = spec.get("rate"), spec.get("burst", 1)
            if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1e6:
                raise AdminError("rate must be a number of requests per second in 0..1e6")
            if not isinstance(burst, int) or isinstance(burst, bool) or burst < 1:
                raise AdminError("burst must be an integer >= 1")
            f["rate"], f["burst"] = float(rate), burst
            f["tokens"], f["refilled"] = float(burst), self.now()
        if kind == "status":
            st = spec.get("status")
            if not isinstance(st, int) or isinstance(st, bool) or not 400 <= st <= 599:
                raise AdminError("status must be an integer in 400..599")
            f["status"] = st
            for k in ("message", "code"):
                if k in spec:
                    if not isinstance(spec[k], str):
                        raise AdminError(f"{k} must be a string")
                    f[k] = spec[k]
            if "retry_after" in spec:
                ra = spec["retry_after"]
                if ra is not None and (not isinstance(ra, int) or isinstance(ra, bool) or ra < 0):
                    raise AdminError("retry_after must be null or an integer >= 0")
                f["retry_after"] = ra
        elif kind == "slow":
            d = spec.get("delay_s")
            if not isinstance(d, (int, float)) or isinstance(d, bool) or not 0 <= d <= 120:
                raise AdminError("delay_s must be a number in 0..120")
            f["delay_s"] = float(d)
        for k in ("status", "delay_s", "message", "code", "retry_after"):
            if k in spec and k not in f:
                raise AdminError(f"{k} does not apply to kind {kind}")
        with self.lock:
            self.faults.append(f)
        return {"ok": True, "fault": f}

    def _passes(self, f):
        """Whether a fault with "every" or "rate" lets this matching request
        through (updating its counter or bucket)."""
        if "every" in f:
            f["seen"] += 1
            return f["seen"] % f["every"] != 0
        if "rate" in f:
            now = self.now()
            f["tokens"] = min(float(f["burst"]), f["tokens"] + (now - f["refilled"]) * f["rate"])
            f["refilled"] = now
            if f["tokens"] >= 1.0:
                f["tokens"] -= 1.0
                return True
        return False

    def take_fault(self, target, action):
        with self.lock:
            for f in self.faults:
                m = f["match"]
                if not m or m in target or (action and m in action):
                    if self._passes(f):
                        continue
                    f["remaining"] -= 1
                    if f["remaining"] <= 0:
                        self.faults.remove(f)
                    return dict(f)
        return None

    def admin_members(self, spec):
        if not isinstance(spec, dict) or set(spec) != {"kill"} or not isinstance(spec["kill"], str):
            raise AdminError('body must be {"kill": "<member id>"}')
        with self.lock:
            m = self.find(spec["kill"])
            if m is None:
                raise LookupError(f"no member {spec['kill']}")
            killed = bool(m.proc and m.proc.alive() and m.proc.signal(signal.SIGKILL))
            log(f"member {m.id}: killed by admin request ({killed})")
            return {"ok": True, "killed": killed}

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)


# ---------------------------------------------------------------- HTTP

class Request:
    def __init__(self, method, target, headers, body):
        self.method = method
        self.target = target
        self.path, _, self.query = target.partition("?")
        self.headers = headers
        self.body = body
        self.action = ""
        self.auth = "none"
        self.reject = None          # a Reply when authentication failed
        self.why = ""               # why rejected, for the log


class Reply:
    def __init__(self, status, body=b"", content_type="application/json", headers=(), why=""):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = list(headers)
        self.why = why


class Service:
    """Base of a fake service; subclasses implement prepare/execute."""
    kind = "?"

    def __init__(self, args, pool):
        self.args = args
        self.pool = pool

    @classmethod
    def add_args(cls, parser):
        pass

    def prepare(self, req):
        raise NotImplementedError

    def execute(self, req):
        raise NotImplementedError

    def fault_reply(self, req, fault):
        raise NotImplementedError

    def internal_error(self, req):
        raise NotImplementedError

    def admin(self, method, path, body):
        """A service's own admin endpoint: its reply (a dict), or None when
        it has none at this path."""
        return None

    def member_state(self, m, phase):
        return phase

    def extra_state(self):
        return {}

    def clock(self):
        return time.time() + self.args.clock_offset_s

    def state(self):
        with self.pool.lock:
            self.pool.tick()
            now = self.pool.now()
            members = []
            for m in self.pool.members:
                ph = self.pool.phase(m, now)
                members.append({"id": m.id, "name": m.name, "address": m.address,
                                "state": self.member_state(m, ph), "phase": ph,
                                "pid": m.proc.popen.pid if m.proc else None,
                                "alive": bool(m.proc and m.proc.alive())})
            out = {"kind": self.kind, "size": self.pool.size, "members": members,
                   "requests": list(self.pool.requests), "mutations": self.pool.mutations,
                   "faults": [dict(f) for f in self.pool.faults]}
            out.update(self.extra_state())
            return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "contract-fake"

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        log(f"{self.server.service.kind}: {fmt % args}")

    def log_request(self, code="-", size="-"):
        pass  # each request is logged once, by _record

    def do_GET(self):
        self._handle()

    do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self):
        te = self.headers.get_all("Transfer-Encoding") or []
        cl = self.headers.get_all("Content-Length") or []
        if te:
            if len(te) != 1 or te[0].strip().lower() != "chunked" or cl:
                raise ValueError("unsupported Transfer-Encoding")
            body = b""
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline(8)
                if len(body) > MAX_BODY:
                    raise ValueError("body too large")
        if not cl:
            return b""
        if len(cl) != 1 or not cl[0].strip().isdigit():
            raise ValueError("bad Content-Length")
        n = int(cl[0])
        if n > MAX_BODY:
            raise ValueError("body too large")
        body = self.rfile.read(n)
        if len(body) != n:
            raise ValueError("short body")
        return body

    def _send(self, reply):
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for k, v in reply.headers:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _handle(self):
        svc = self.server.service
        pool = svc.pool
        try:
            body = self._read_body()
        except ValueError as e:
            self.close_connection = True
            self._send(Reply(400, f"bad request framing: {e}\n".encode(), "text/plain"))
            log(f"{svc.kind}: {self.command} {self.path} -> 400 why={e}")
            return
        if self.path == "/_admin" or self.path.startswith("/_admin/"):
            return self._admin(svc, body)
        req = Request(self.command, self.path, self.headers, body)
        fault = None
        try:
            pool.tick()
            svc.prepare(req)
            if req.reject is not None:
                reply = req.reject
            else:
                fault = pool.take_fault(req.target, req.action)
                reply = None
                if fault and fault["when"] == "before":
                    if fault["kind"] == "status":
                        reply = svc.fault_reply(req, fault)
                    elif fault["kind"] == "drop":
                        return self._dropped(req, fault)
                    else:
                        time.sleep(fault["delay_s"])
                if reply is None:
                    with pool.lock:
                        reply = svc.execute(req)
                    if fault and fault["when"] == "after":
                        if fault["kind"] == "status":
                            reply = svc.fault_reply(req, fault)
                        elif fault["kind"] == "drop":
                            return self._dropped(req, fault)
                        else:
                            time.sleep(fault["delay_s"])
        except Exception:  # noqa: BLE001 - a bug in the fake: say so loudly
            log(traceback.format_exc())
            reply = svc.internal_error(req)
            reply.why = "exception in the fake (see traceback above)"
        if fault and fault["kind"] == "status":
            reply.why = f"fault {fault['id']} ({fault['when']})"
        self._record(req, reply.status, reply.why or req.why, fault)
        self._send(reply)

    def _dropped(self, req, fault):
        self._record(req, None, f"fault {fault['id']} drop ({fault['when']})", fault)
        self._drop()

    def _record(self, req, status, why, fault):
        svc = self.server.service
        svc.pool.record({"t": round(time.time(), 3), "method": req.method, "path": req.target,
                         "action": req.action, "status": status, "auth": req.auth,
                         "why": why, "fault": fault["kind"] if fault else None,
                         "ua": req.headers.get("User-Agent", ""),
                         "body": (req.body or b"")[:2048].decode("utf-8", "replace")})
        log(f"{svc.kind}: {req.method} {req.target} action={req.action or '-'} -> "
            f"{status if status is not None else 'DROPPED'} auth={req.auth}"
            + (f" why={why}" if why else ""))

    def _admin(self, svc, body):
        path = self.path.partition("?")[0]
        status, out = 200, None
        try:
            if path == "/_admin/state" and self.command == "GET":
                out = svc.state()
            elif path == "/_admin/fault" and self.command == "POST":
                out = svc.pool.add_fault(json.loads(body or b"null"))
            elif path == "/_admin/reset_log" and self.command == "POST":
                with svc.pool.lock:
                    svc.pool.requests.clear()
                out = {"ok": True}
            elif path == "/_admin/members" and self.command == "POST":
                out = svc.pool.admin_members(json.loads(body or b"null"))
            elif (out := svc.admin(self.command, path, body)) is not None:
                pass
            else:
                status, out = 404, {"error": f"no admin endpoint {self.command} {path}"}
        except (ValueError, AdminError) as e:
            status, out = 400, {"error": str(e)}
        except LookupError as e:
            status, out = 404, {"error": str(e)}
        if path != "/_admin/state":
            log(f"{svc.kind}: admin {self.command} {path} {body[:200]!r} -> {status}")
        self._send(Reply(status, json.dumps(out).encode()))


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        # skip HTTPServer's getfqdn() (a DNS lookup)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def add_common_args(p):
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--size", type=int, default=1, help="initial pool size")
    p.add_argument("--boot-s", type=float, default=1.0)
    p.add_argument("--terminate-s", type=float, default=0.5)
    p.add_argument("--address-base", default="127.0.2.1")
    p.add_argument("--spawn", help="JSON list: argv of the process per member")
    p.add_argument("--log-dir")
    p.add_argument("--clock-offset-s", type=float, default=0.0)


def check_common_args(p, args):
    args.spawn_argv = None
    if args.spawn:
        try:
            argv = json.loads(args.spawn)
        except ValueError as e:
            p.error(f"--spawn: not JSON: {e}")
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            p.error("--spawn must be a non-empty JSON list of strings")
        args.spawn_argv = argv
    try:
        ip_to_int(args.address_base)
    except ValueError as e:
        p.error(str(e))
    if args.size < 0:
        p.error("--size must be >= 0")
    if args.boot_s < 0 or args.terminate_s < 0:
        p.error("--boot-s and --terminate-s must be >= 0")


def serve(service_cls, args):
    """Runs the server until SIGTERM/SIGINT; returns the exit code."""
    pool = Pool(args, service_cls.new_id, service_cls.name_of(args))
    svc = service_cls(args, pool)
    try:
        httpd = Server(("127.0.0.1", args.port), Handler)
    except OSError as e:
        log(f"{svc.kind}: cannot listen on 127.0.0.1:{args.port}: {e}")
        return 2
    httpd.service = svc
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with pool.lock:
        for _ in range(args.size):
            pool.launch(running=True)
        pool.size = args.size
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()

    def reaper():
        while not stop.wait(0.05):
            pool.tick()
    threading.Thread(target=reaper, daemon=True).start()
    port = httpd.server_address[1]
    if args.port_file:
        tmp = f"{args.port_file}.tmp.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    log(f"{svc.kind}: listening on 127.0.0.1:{port} pid={os.getpid()} size={args.size}")
    while not stop.is_set():
        stop.wait(0.5)
    log(f"{svc.kind}: stopping")
    httpd.shutdown()
    httpd.server_close()
    pool.kill_all(3.0)
    log(f"{svc.kind}: stopped")
    return 0


# ---------------------------------------------------------------- test side

class HTTPReply:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def xml(self):
        import xml.etree.ElementTree as ET
        root = ET.fromstring(self.body)
        for el in root.iter():
            if isinstance(el.tag, str) and "}" in el.tag:
                el.tag = el.tag.split("}", 1)[1]
        return root

    def __repr__(self):
        return f"<HTTPReply {self.status} {self.body[:300]!r}>"


def http_request(addr, method, target, body=b"", headers=None, timeout=10.0):
    """One request on a new connection. headers must hold Host if it matters
    (http.client adds Host: host:port otherwise). Raises on a dropped
    connection (http.client.RemoteDisconnected, ConnectionError)."""
    c = http.client.HTTPConnection(addr[0], addr[1], timeout=timeout)
    try:
        c.request(method, target, body=body if body else None, headers=dict(headers or {}))
        r = c.getresponse()
        data = r.read()
        return HTTPReply(r.status, r.reason, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        c.close()


def wait_until(pred, what, timeout=5.0, every=0.02):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            raise AssertionError(f"no {what} after {timeout}s")
        time.sleep(every)


def _module(kind):
    if kind == "exoscale":
        from contract import exoscale as mod
    elif kind == "aws":
        from contract import aws as mod
    elif kind == "linode":
        from contract import linode as mod
    else:
        raise ValueError(f"unknown contract server kind {kind!r}")
    return mod


def opts_to_argv(opts):
    argv = []
    for k, v in opts.items():
        flag = "--" + k.replace("_", "-")
        if v is None or v is False:
            continue
        if v is True:
            argv.append(flag)
        elif k == "spawn":
            argv += [flag, v if isinstance(v, str) else json.dumps([str(a) for a in v])]
        elif isinstance(v, (list, tuple)):
            for x in v:
                argv += [flag, str(x)]
        else:
            argv += [flag, str(v)]
    return argv


_names = itertools.count(1)


class ContractServer:
    """A running contract server process (see the module docstring)."""

    def __init__(self, kind, tmp_path, name=None, timeout=10.0, **opts):
        self.mod = _module(kind)
        self.kind = kind
        tmp = pathlib.Path(tmp_path)
        tmp.mkdir(parents=True, exist_ok=True)
        self.name = name or f"{kind}-{next(_names)}"
        if opts.get("spawn") and not opts.get("log_dir"):
            opts["log_dir"] = str(tmp / f"{self.name}-members")
        self.port_file = tmp / f"{self.name}.port"
        self.log_path = tmp / f"{self.name}.log"
        if self.port_file.exists():
            self.port_file.unlink()
        extra = opts_to_argv(opts)
        self.args = self.mod.parse_args(extra)   # same parser: effective options
        argv = [PYTHON, os.path.join(HERE, f"{kind}.py"), "--port", "0",
                "--port-file", str(self.port_file)] + extra
        self._log = open(self.log_path, "ab")
        self.p = subprocess.Popen(argv, stdout=self._log, stderr=self._log,
                                  stdin=subprocess.DEVNULL)
        self.pid = self.p.pid
        end = time.monotonic() + timeout
        while True:
            if self.p.poll() is not None:
                self._log.close()
                raise AssertionError(f"{kind} server exited {self.p.returncode}:\n{self.log_text()}")
            try:
                text = self.port_file.read_text()
                if text.endswith("\n"):
                    self.port = int(text)
                    break
            except (OSError, ValueError):
                pass
            if time.monotonic() > end:
                self.stop()
                raise AssertionError(f"{kind} server: no port file after {timeout}s:\n{self.log_text()}")
            time.sleep(0.01)
        self.host = "127.0.0.1"
        self.addr = (self.host, self.port)
        self.url = f"http://{self.host}:{self.port}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # -- admin
    def _admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        r = http_request(self.addr, method, path, data,
                         {"Content-Type": "application/json"} if data else {})
        out = r.json()
        if r.status != 200:
            raise AssertionError(f"admin {method} {path}: {r.status} {out}")
        return out

    def state(self):
        return self._admin("GET", "/_admin/state")

    def members(self):
        return self.state()["members"]

    def requests(self):
        return self.state()["requests"]

    def fault(self, kind="status", **spec):
        spec["kind"] = kind
        return self._admin("POST", "/_admin/fault", spec)

    def clear_faults(self):
        return self._admin("POST", "/_admin/fault", {"kind": "clear"})

    def set_group(self, **bounds):
        """aws: the group's MinSize/MaxSize (min=, max=), see aws.py."""
        return self._admin("POST", "/_admin/group", bounds)

    def reset_log(self):
        return self._admin("POST", "/_admin/reset_log", {})

    def kill_member(self, id):
        return self._admin("POST", "/_admin/members", {"kill": id})

    def wait(self, pred, what, timeout=5.0, every=0.02):
        """Waits until pred(state) is true; returns that state."""
        def check():
            st = self.state()
            return st if pred(st) else None
        return wait_until(check, what, timeout, every)

    # -- signed API requests
    def request(self, *a, **kw):
        """exoscale: request(method, path, body=None, query=None, ...)
        aws: request(action, params=None, ...); see those modules."""
        return self.mod.request(self, *a, **kw)

    def stop(self, timeout=10.0):
        """SIGTERM, wait (SIGKILL after timeout); returns the exit code."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if not self._log.closed:
            self._log.close()
        return self.p.returncode


def start_server(kind, tmp_path, **opts):
    """Starts contract server `kind` ("exoscale" or "aws"); see ContractServer."""
    return ContractServer(kind, tmp_path, **opts)


if "pytest" in sys.modules:
    import pytest

    @pytest.fixture
    def contract_server(tmp_path):
        """start(kind, **opts) -> ContractServer; at teardown each is stopped
        with SIGTERM and must exit 0."""
        started = []

        def start(kind, **opts):
            s = start_server(kind, tmp_path, **opts)
            started.append(s)
            return s
        yield start
        errors = []
        for s in started:
            rc = s.stop()
            if rc != 0:
                errors.append(f"{s.name} exit {rc}:\n{s.log_text()}")
        assert not errors, "\n".join(errors)


def script_main(service_cls, parse_args):
    """Entry point of a script: parse, serve, exit."""
    args = parse_args(sys.argv[1:])
    sys.exit(serve(service_cls, args))
