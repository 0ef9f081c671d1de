#!/usr/bin/python3
"""Strict local fake of the Exoscale API v2, instance-pool part (contract
server).  Facts from ../shared/reference/exoscale-api-v2.md (sections cited
as [ref N]); where the reference is silent, the choice made here is marked
CHOICE.

Usage
-----
  /usr/bin/python3 tests/system/contract/exoscale.py [--port 0] [--port-file F]
      [--key K --secret S]... [--zone ch-gva-2] [--pool-id UUID]
      [--pool-name web] [--instance-prefix pool] [--label k=v]...
      [--size N] [--op-delay-s 0.5] [--max-size 50]
      [--boot-s 1.0] [--terminate-s 0.5] [--address-base 127.0.2.1]
      [--spawn JSON_ARGV] [--log-dir DIR] [--clock-offset-s 0]
Shared options, the pool model, the admin API (/_admin/...) and the test
helper are described in common.py.  Defaults: key EXO0123456789abcdef01234567,
secret poolscaleTestSecret-0123456789abcdefABCDEFGH, pool id
5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b (the inputs of vectors E1-E5).
--key/--secret may be repeated (paired in order).  --zone is informational
only (the fake is one zone; the API prefix is /v2, as on
https://api-<zone>.exoscale.com/v2).

Endpoints (JSON, kebab-case) [ref 3]
---------
  GET /v2/instance-pool                     {"instance-pools": [pool]}
  GET /v2/instance-pool/{id}                pool
  PUT /v2/instance-pool/{id}:scale          body {"size": n}          -> operation
  PUT /v2/instance-pool/{id}:evict          body {"instances": [ids]} -> operation
  GET /v2/instance[?manager-id=&manager-type=instance-pool&ip-address=]
                                            {"instances": [instance]}
  GET /v2/instance/{id}                     instance
  GET /v2/operation/{id}                    operation
Pool: id, name, description, size, state, instances [{"id"}] ,
instance-prefix, labels, min-available (0), public-ip-assignment "inet4",
ipv6-enabled false.  Instance: id, name (<prefix>-NNN, NNN = creation
order), state, public-ip (= the member address), public-ip-assignment
"inet4", manager {"id": pool id, "type": "instance-pool"}, labels (the
pool's), created-at (RFC 3339, UTC, "Z").

Modelling
---------
- Instance states: "starting" while booting (--boot-s), then "running";
  "destroying" for --terminate-s after removal, then the instance is gone
  (GET /v2/instance/{id} -> 404 {"message":"Instance not found"}).
- CHOICE (like real Exoscale): the size applies AT ONCE: :scale creates the
  new instances immediately ("starting") or marks the removed ones
  "destroying" immediately.  Scale-down removes the NEWEST members.
- The pool's "instances" lists the members that are not being destroyed
  (so len(instances) == size at all times); GET /v2/instance?manager-id=
  also lists "destroying" members (manager still set) until they are gone:
  a client counting members must look at each instance's state.
- Operations: every accepted :scale/:evict returns a new operation
  {"id","state":"pending","reference":{"id": pool id,
  "link":"/v2/instance-pool/<id>","command":"get-instance-pool"}};
  it stays "pending" for --op-delay-s, then "success" (never failure).
  Meanwhile the pool's state is "scaling-up" (size grew) or "scaling-down"
  (size shrank, or evict); otherwise "running" (also after a same-size
  scale, which is accepted, counted as a mutation, and changes nothing).
  Overlapping operations are accepted (the latest pending one sets the
  pool state); CHOICE: the fake never answers 409/busy.
- :evict {"instances": [id strings]} [ref 3.3]: the listed members start
  destroying (CHOICE: evicted instances are destroyed, like scale-down) and
  the size drops by their number.  400 when: instances missing/empty, not an
  array, an element is not a string (e.g. {"id": ...} objects), not a UUID,
  listed twice, or not an active member of the pool (unknown, already
  destroying, or gone) -- CHOICE: 400, not 404: the pool in the path exists,
  the body is what is wrong.
- :scale {"size": n}: n an integer (not bool/float) 0..--max-size (a limit
  of the fake standing for a quota) else 400.
- Strictness (400 {"message": ...} unless said): a body must come with
  Content-Type application/json (parameters such as charset allowed) and be
  a JSON object with exactly the documented keys; GET with a body; unknown or
  repeated query parameters (only list-instances takes any: manager-id
  (UUID), manager-type (must be "instance-pool"), ip-address); a
  malformed UUID in the path.  Unknown path or method -> 404
  {"message":"Not Found"}; unknown pool/instance/operation id -> 404
  {"message":"Instance Pool not found"} / "Instance not found" /
  "Operation not found".  Routing uses the percent-decoded path; the
  signature uses the path exactly as received.
- Authentication (EXO2-HMAC-SHA256) [ref 2], on every /v2 request, before
  anything else; every failure is 403:
    no Authorization header              {"message":"Missing request signature"}
    malformed header (exact grammar
      "EXO2-HMAC-SHA256 credential=K[,signed-query-args=a;b],expires=T,signature=B64",
      parts in that order, no spaces), several Authorization headers,
      unknown credential, signed-query-args not exactly the sorted names of
      the single-valued query parameters present, signature mismatch
      (recomputed over the raw body bytes, the received escaped path and
      the decoded query values; hmac.compare_digest)
                                         {"message":"Invalid request signature"}
    signature valid but expires <= now  {"message":"Expired request"}
  The log/state "why" names the exact cause.
- Fault bodies (admin API): 429 -> {"error":"Too Many Requests",
  "retry_after":1} (the spec's rate-limited schema, [ref 4]) plus header
  Retry-After: 1; 500 -> {"message":"Internal Server Error"}; 503 ->
  {"message":"Endpoint template temporarily unavailable"}; other statuses
  {"message": <reason phrase>}.  "message" overrides the text,
  "retry_after" the header/field (null: none).
"""
import argparse
import base64
import hashlib
import hmac
import http
import json
import os
import re
import sys
import time
import urllib.parse
import uuid

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from contract import common  # noqa: E402

DEFAULT_KEY = "EXO0123456789abcdef01234567"
DEFAULT_SECRET = "poolscaleTestSecret-0123456789abcdefABCDEFGH"
DEFAULT_POOL_ID = "5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b"

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
AUTH_RE = re.compile(r"EXO2-HMAC-SHA256 credential=([^,\s]+)"
                     r"(?:,signed-query-args=([^,\s]+))?"
                     r",expires=([0-9]+),signature=([A-Za-z0-9+/]+={0,2})")


# ---------------------------------------------------------------- signer

def signed_query(query_pairs):
    """(sorted names, concatenated values) of the single-valued parameters."""
    counts = {}
    for k, _ in query_pairs:
        counts[k] = counts.get(k, 0) + 1
    single = sorted((k, v) for k, v in query_pairs if counts[k] == 1)
    return [k for k, _ in single], "".join(v for _, v in single)


def message(method, path, query_pairs, body, expires):
    """The bytes that are signed [ref 2]: five segments joined by LF."""
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode()
    _, values = signed_query(query_pairs)
    return b"\n".join([f"{method.upper()} {path}".encode(), body, values.encode(),
                       b"", str(expires).encode()])


def signature(secret, msg):
    return base64.b64encode(hmac.new(secret.encode(), msg, hashlib.sha256).digest()).decode()


def sign(method, path, query_pairs, body, expires, key, secret):
    """The Authorization header value for a request.  path: the URL path in
    escaped form (with /v2); query_pairs: decoded (name, value) pairs in URL
    order; body: the exact body bytes (or str, or None)."""
    names, _ = signed_query(query_pairs)
    parts = [f"credential={key}"]
    if names:
        parts.append("signed-query-args=" + ";".join(names))
    parts.append(f"expires={expires}")
    parts.append("signature=" + signature(secret, message(method, path, query_pairs, body, expires)))
    return "EXO2-HMAC-SHA256 " + ",".join(parts)


# ---------------------------------------------------------------- service

def _json(status, obj, why="", headers=()):
    return common.Reply(status, json.dumps(obj).encode(), "application/json", headers, why)


def _err(status, msg, why=""):
    return _json(status, {"message": msg}, why or msg)


class Bad(Exception):
    def __init__(self, status, msg, why=""):
        super().__init__(msg)
        self.reply = _err(status, msg, why)


ROUTES = [  # (method, regex on the decoded path, operation id)
    ("GET", re.compile(r"/v2/instance-pool"), "list-instance-pools"),
    ("GET", re.compile(r"/v2/instance-pool/([^/:]+)"), "get-instance-pool"),
    ("PUT", re.compile(r"/v2/instance-pool/([^/:]+):scale"), "scale-instance-pool"),
    ("PUT", re.compile(r"/v2/instance-pool/([^/:]+):evict"), "evict-instance-pool-members"),
    ("GET", re.compile(r"/v2/instance"), "list-instances"),
    ("GET", re.compile(r"/v2/instance/([^/:]+)"), "get-instance"),
    ("GET", re.compile(r"/v2/operation/([^/:]+)"), "get-operation"),
]


def route(method, raw_path):
    path = urllib.parse.unquote(raw_path)
    for m, rx, op in ROUTES:
        g = rx.fullmatch(path)
        if g and m == method:
            return op, g.groups()
    return None, ()


class Exoscale(common.Service):
    kind = "exoscale"

    @staticmethod
    def new_id():
        return str(uuid.uuid4())

    @staticmethod
    def name_of(args):
        return lambda i: f"{args.instance_prefix}-{i:03d}"

    def __init__(self, args, pool):
        super().__init__(args, pool)
        self.creds = dict(zip(args.key, args.secret))
        self.pool_id = args.pool_id
        self.ops = {}      # id -> {"created", "direction"}

    # -- views
    def member_state(self, m, phase):
        return {"booting": "starting", "running": "running",
                "terminating": "destroying"}.get(phase, "destroyed")

    def op_state(self, op, now):
        return "pending" if now < op["created"] + self.args.op_delay_s else "success"

    def pool_state(self):
        now = self.pool.now()
        state = "running"
        for op in self.ops.values():   # insertion order: the latest pending wins
            if op["direction"] and self.op_state(op, now) == "pending":
                state = op["direction"]
        return state

    def pool_json(self):
        return {"id": self.pool_id, "name": self.args.pool_name, "description": "",
                "size": self.pool.size, "state": self.pool_state(),
                "instances": [{"id": m.id} for m in self.pool.active()],
                "instance-prefix": self.args.instance_prefix, "labels": dict(self.args.labels),
                "min-available": 0, "public-ip-assignment": "inet4", "ipv6-enabled": False}

    def instance_json(self, m):
        return {"id": m.id, "name": m.name,
                "state": self.member_state(m, self.pool.phase(m)),
                "public-ip": m.address, "public-ip-assignment": "inet4",
                "manager": {"id": self.pool_id, "type": "instance-pool"},
                "labels": dict(self.args.labels), "created-at": common.rfc3339(m.created_wall)}

    def op_json(self, id):
        op = self.ops[id]
        return {"id": id, "state": self.op_state(op, self.pool.now()),
                "reference": {"id": self.pool_id, "link": f"/v2/instance-pool/{self.pool_id}",
                              "command": "get-instance-pool"}}

    def new_op(self, direction):
        id = str(uuid.uuid4())
        self.ops[id] = {"created": self.pool.now(), "direction": direction}
        return id

    def extra_state(self):
        now = self.pool.now()
        return {"pool_id": self.pool_id, "pool_state": self.pool_state(),
                "operations": [{"id": k, "state": self.op_state(v, now),
                                "direction": v["direction"]} for k, v in self.ops.items()]}

    # -- authentication
    def prepare(self, req):
        req.action = route(req.method, req.path)[0] or ""
        values = req.headers.get_all("Authorization") or []
        if not values:
            req.auth = "none"
            req.reject = _err(403, "Missing request signature", "no Authorization header")
            return
        req.auth = "bad"

        def bad(why, msg="Invalid request signature"):
            req.reject = _err(403, msg, why)
        if len(values) != 1:
            return bad("several Authorization headers")
        m = AUTH_RE.fullmatch(values[0])
        if not m:
            return bad(f"malformed Authorization header {values[0]!r}")
        key, sqa, expires, sig = m.groups()
        secret = self.creds.get(key)
        if secret is None:
            return bad(f"unknown credential {key!r}")
        try:
            pairs = urllib.parse.parse_qsl(req.query, keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            return bad("query string not decodable")
        names, _ = signed_query(pairs)
        want = ";".join(names) if names else None
        if sqa != want:
            return bad(f"signed-query-args {sqa!r}, expected {want!r}")
        expected = signature(secret, message(req.method, req.path, pairs, req.body, expires))
        if not hmac.compare_digest(expected.encode(), sig.encode()):
            return bad("signature mismatch")
        now = self.clock()
        if int(expires) <= now:
            return bad(f"expires {expires} <= now {int(now)}", "Expired request")
        req.auth = "ok"

    # -- faults / errors
    def fault_reply(self, req, fault):
        st = fault["status"]
        ra = fault.get("retry_after", 1 if st == 429 else None)
        default = {429: "Too Many Requests", 500: "Internal Server Error",
                   503: "Endpoint template temporarily unavailable"}
        try:
            phrase = http.HTTPStatus(st).phrase
        except ValueError:
            phrase = "Error"
        msg = fault.get("message", default.get(st, phrase))
        headers = [("Retry-After", str(ra))] if ra is not None else []
        if st == 429:
            body = {"error": msg}
            if ra is not None:
                body["retry_after"] = ra
            return _json(st, body, headers=headers)
        return _json(st, {"message": msg}, headers=headers)

    def internal_error(self, req):
        return _err(500, "Internal Server Error")

    # -- requests
    def execute(self, req):
        try:
            return self._execute(req)
        except Bad as e:
            return e.reply

    def _no_query(self, req):
        pairs = urllib.parse.parse_qsl(req.query, keep_blank_values=True)
        if pairs:
            raise Bad(400, f"Unknown query parameter: {pairs[0][0]}")

    def _no_body(self, req):
        if req.body:
            raise Bad(400, "Unexpected request body")

    def _json_body(self, req, keys):
        ct = req.headers.get("Content-Type")
        if ct is None or ct.split(";")[0].strip().lower() != "application/json":
            raise Bad(400, "Content-Type must be application/json", f"Content-Type {ct!r}")
        try:
            obj = json.loads(req.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Bad(400, "Invalid JSON body")
        if not isinstance(obj, dict):
            raise Bad(400, "Request body must be a JSON object")
        missing = [k for k in keys if k not in obj]
        if missing:
            raise Bad(400, f"Missing required field: {missing[0]}")
        extra = sorted(set(obj) - set(keys))
        if extra:
            raise Bad(400, f"Unknown field: {extra[0]}")
        return obj

    def _uuid(self, s, what):
        if not UUID_RE.fullmatch(s):
            raise Bad(400, f"Invalid {what}: {s!r} is not a UUID")
        return s.lower()

    def _pool(self, id):
        if self._uuid(id, "instance-pool id") != self.pool_id:
            raise Bad(404, "Instance Pool not found")

    def _execute(self, req):
        op, groups = route(req.method, req.path)
        if op is None:
            return _err(404, "Not Found", f"no route {req.method} {req.path}")
        if req.method == "GET":
            self._no_body(req)
        if op != "list-instances":
            self._no_query(req)
        pool = self.pool
        if op == "list-instance-pools":
            return _json(200, {"instance-pools": [self.pool_json()]})
        if op == "get-instance-pool":
            self._pool(groups[0])
            return _json(200, self.pool_json())
        if op == "scale-instance-pool":
            self._pool(groups[0])
            size = self._json_body(req, ["size"])["size"]
            if not isinstance(size, int) or isinstance(size, bool):
                raise Bad(400, "Invalid value for size: must be an integer")
            if size < 0:
                raise Bad(400, "Invalid value for size: must be >= 0")
            if size > self.args.max_size:
                raise Bad(400, f"Invalid value for size: above the limit {self.args.max_size}")
            old = pool.size
            pool.scale_to(size)
            pool.mutations += 1
            direction = "scaling-up" if size > old else "scaling-down" if size < old else None
            return _json(200, self.op_json(self.new_op(direction)), f"size {old} -> {size}")
        if op == "evict-instance-pool-members":
            self._pool(groups[0])
            ids = self._json_body(req, ["instances"])["instances"]
            if not isinstance(ids, list):
                raise Bad(400, "Invalid value for instances: must be an array of instance IDs")
            if not ids:
                raise Bad(400, "Invalid value for instances: must not be empty")
            members = []
            for i, id in enumerate(ids):
                if not isinstance(id, str):
                    raise Bad(400, f"Invalid value for instances[{i}]: must be an instance ID "
                                   f"string, not {type(id).__name__}")
                id = self._uuid(id, f"instances[{i}]")
                m = pool.find(id)
                if m is None or m.removed is not None:
                    raise Bad(400, f"Instance {id} is not a member of Instance Pool {self.pool_id}")
                if m in members:
                    raise Bad(400, f"Instance {id} listed more than once")
                members.append(m)
            for m in members:
                pool.remove(m)
            old = pool.size
            pool.size -= len(members)
            pool.mutations += 1
            return _json(200, self.op_json(self.new_op("scaling-down")),
                         f"evicted {len(members)}, size {old} -> {pool.size}")
        if op == "list-instances":
            pairs = urllib.parse.parse_qsl(req.query, keep_blank_values=True)
            q = {}
            for k, v in pairs:
                if k not in ("manager-id", "manager-type", "ip-address"):
                    raise Bad(400, f"Unknown query parameter: {k}")
                if k in q:
                    raise Bad(400, f"Query parameter {k} given more than once")
                q[k] = v
            if "manager-type" in q and q["manager-type"] != "instance-pool":
                raise Bad(400, "Invalid value for manager-type: must be instance-pool")
            if "manager-id" in q:
                self._uuid(q["manager-id"], "manager-id")
            out = []
            for m in pool.members:
                if "manager-id" in q and q["manager-id"].lower() != self.pool_id:
                    continue
                if "ip-address" in q and q["ip-address"] != m.address:
                    continue
                out.append(self.instance_json(m))
            return _json(200, {"instances": out})
        if op == "get-instance":
            id = self._uuid(groups[0], "instance id")
            m = pool.find(id)
            if m is None:
                raise Bad(404, "Instance not found")
            return _json(200, self.instance_json(m))
        if op == "get-operation":
            id = self._uuid(groups[0], "operation id")
            if id not in self.ops:
                raise Bad(404, "Operation not found")
            return _json(200, self.op_json(id))
        return _err(404, "Not Found")


# ---------------------------------------------------------------- options

def build_parser():
    p = argparse.ArgumentParser(prog="exoscale.py",
                                description="Strict fake of the Exoscale API v2 (instance pools).")
    common.add_common_args(p)
    p.add_argument("--key", action="append", help=f"API key (default {DEFAULT_KEY})")
    p.add_argument("--secret", action="append", help="API secret, paired with --key")
    p.add_argument("--zone", default="ch-gva-2")
    p.add_argument("--pool-id", default=DEFAULT_POOL_ID)
    p.add_argument("--pool-name", default="web")
    p.add_argument("--instance-prefix", default="pool")
    p.add_argument("--label", action="append", default=[], help="pool label k=v")
    p.add_argument("--op-delay-s", type=float, default=0.5)
    p.add_argument("--max-size", type=int, default=50)
    return p


def parse_args(argv):
    p = build_parser()
    args = p.parse_args(argv)
    common.check_common_args(p, args)
    if args.key is None and args.secret is None:
        args.key, args.secret = [DEFAULT_KEY], [DEFAULT_SECRET]
    if not args.key or not args.secret or len(args.key) != len(args.secret):
        p.error("--key and --secret must be given the same number of times")
    if not UUID_RE.fullmatch(args.pool_id):
        p.error("--pool-id must be a UUID")
    args.pool_id = args.pool_id.lower()
    args.labels = {}
    for kv in args.label:
        k, sep, v = kv.partition("=")
        if not sep or not k:
            p.error(f"--label {kv!r}: expected k=v")
        args.labels[k] = v
    if args.size > args.max_size:
        p.error("--size above --max-size")
    return args


# ---------------------------------------------------------------- client

def request(server, method, path, body=None, query=None, *, key=None, secret=None,
            expires=None, headers=None, content_type="application/json", signed=True,
            timeout=10.0):
    """A request to a running fake, signed with its first credential unless
    given.  path: full path with /v2 (escaped form); query: dict or list of
    (name, value); body: dict/list (compact JSON), str or bytes.  Returns a
    common.HTTPReply."""
    args = server.args
    key = key or args.key[0]
    secret = secret or args.secret[0]
    if isinstance(body, (dict, list)):
        body = json.dumps(body, separators=(",", ":")).encode()
    elif isinstance(body, str):
        body = body.encode()
    body = body or b""
    pairs = list(query.items()) if isinstance(query, dict) else list(query or [])
    target = path + ("?" + urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote) if pairs else "")
    h = {}
    if body and content_type:
        h["Content-Type"] = content_type
    if signed:
        exp = expires if expires is not None else int(time.time()) + 600
        h["Authorization"] = sign(method, path, pairs, body, exp, key, secret)
    h.update(headers or {})
    return common.http_request(server.addr, method, target, body, h, timeout)


if __name__ == "__main__":
    common.script_main(Exoscale, parse_args)
