#!/usr/bin/python3
"""Strict local fake of the Linode API v4, the part poolscale's linode
provider uses: instances and one NodeBalancer config's nodes (contract
server).  Facts from ../shared/reference/linode-api-v4.md (sections cited
as [ref N]); where the reference is silent or says UNCONFIRMED, the choice
made here is marked CHOICE.

Usage
-----
  /usr/bin/python3 tests/system/contract/linode.py [--port 0] [--port-file F]
      [--token T]... [--tag poolscale-web] [--region us-east]...
      [--type g6-nanode-1]... [--firewall-id 1001]... [--nodebalancer-id 4242]
      [--config-id 777] [--page-size-cap 500] [--max-instances 50]
      [--create-limit 10] [--create-window-s 30]
      [--size N] [--boot-s 1.0] [--terminate-s 0.5] [--address-base 127.0.2.1]
      [--spawn JSON_ARGV] [--log-dir DIR]
Shared options, the pool model, the admin API (/_admin/...) and the test
helper are described in common.py.  Default token
linode-test-token-0123456789abcdef (--token may be repeated).

Endpoints (JSON) [ref 2-6]
---------
  GET    /v4/linode/instances                 paginated, X-Filter
  POST   /v4/linode/instances                 create            -> instance
  GET    /v4/linode/instances/{id}            instance
  DELETE /v4/linode/instances/{id}            {}
  GET    /v4/linode/instances/{id}/ips        {"ipv4": {"public", "private", ...}, "ipv6"}
  GET    /v4/nodebalancers/{nb}/configs/{cfg}/nodes         paginated
  POST   /v4/nodebalancers/{nb}/configs/{cfg}/nodes         -> node
  GET|PUT|DELETE /v4/nodebalancers/{nb}/configs/{cfg}/nodes/{node}

Modelling
---------
- Addresses: loopback only, since no traffic may leave the machine.  A
  member's pool address (common.py) is its PRIVATE IPv4 (the spawned app
  listens there); its public IPv4 is 127.(A^128).B.C for private 127.A.B.C
  (CHOICE: nothing listens there).  "ipv4" lists public then private
  (order UNCONFIRMED [ref 3]; clients must ask /ips, which splits them).
  An instance created without "private_ip": true has no private address
  and lists only its public one (its pool address stays reserved).
- Status [ref 3]: a created instance is "provisioning" for the first half
  of --boot-s, "booting" for the second, then "running" ("offline" for
  ever with "booted": false).  After DELETE it is "deleting" for
  --terminate-s, then gone (404).  --size instances exist at start, running,
  tagged with the first --tag, labelled linode<id>, with a private address.
- Create [ref 4]: Content-Type application/json, a JSON object, only the
  documented keys (CHOICE: an unknown key is 400).  region (one of --region)
  and type (one of --type) required; image "linode/..." or "private/...";
  root_pass required with an image, 7..128 characters, and (CHOICE, the
  real scoring is UNCONFIRMED) at least 11 characters from at least 3 of
  lower case, upper case, digits, others, else 400 "Password does not meet
  strength requirement"; label optional, the spec's pattern and rules,
  unique among instances not gone, else 400 {"reason": "Label must be
  unique among your linodes", "field": "label"}; tags strings of 3..50;
  authorized_keys strings "ssh-..."/"ecdsa-..."/"sk-..."; private_ip,
  booted, backups_enabled booleans; metadata {"user_data": strict base64 of
  at most 65535 bytes}; firewall_id one of --firewall-id (else 400
  "Firewall not found", CHOICE).  More than --create-limit creates within
  --create-window-s -> 429 with Retry-After (when the oldest leaves the
  window) [ref 7: 10 per 30 s].  More than --max-instances not gone -> 400
  "Account limit reached" (CHOICE).  Reply 200 with the instance.
- Lists [ref 2]: page >= 1, page_size 25..500 (else 400, field page /
  page_size); the server pages by min(page_size, --page-size-cap), so a test
  can force several pages; a page past the last returns the last (CHOICE).
  X-Filter: a JSON object of filterable fields (instances: id, label, tags,
  region, ipv4, group; nodes: none) with "+and", "+or", "+order_by",
  "+order", and operators +contains +neq +gt +gte +lt +lte; "tags": "x"
  matches instances whose tags contain x.  Anything else -> 400
  {"reason": "Cannot filter on K", "field": "X-Filter"}.
- Nodes [ref 6]: POST requires label (3..32 [a-zA-Z0-9-_.]) and address
  "IP:PORT"; weight 1..255, mode accept|reject|drain|backup optional
  (defaults 50 / accept, as observed).  The IP must be the private address
  of an instance that is not gone (CHOICE: else 400 "This address is not a
  private IP of one of your Linodes", field address), and not already used
  by a node of the config (CHOICE: else 400 "Address already in use",
  field address).  Deleting an instance leaves its nodes (CHOICE, the safe
  reading of UNCONFIRMED).  Node status: "UP" while its instance runs,
  else "DOWN"; "Unknown" until then (as recorded, capital U).
- Auth [ref 1]: every /v4 request needs "Authorization: Bearer <token>" with
  a known token; else 401 {"errors": [{"reason": "Invalid Token"}]}.
- Errors [ref 7]: {"errors": [{"reason", "field"?}]}; unknown path -> 404
  {"errors": [{"reason": "Not found"}]}.  Fault bodies (admin API): 429 ->
  "Too many requests" with Retry-After (default 1) and X-RateLimit-*
  headers; 5xx -> "Internal Server Error" / "Service Unavailable".

Admin (besides common.py's)
-----
POST /_admin/linode {"delete_instance": id}  deletes as by hand (nodes kept)
                    {"set_status": {"id": id, "status": "migrating"}}  a running
                        instance shows that status (null: running again)
                    {"delete_after_page": id} deletes it as by hand right after
                        the next instance list's page 1 is served, and it
                        is gone from lists at once (the pages shift)
                    {"replace_after_page": id} the same, and an instance of
                        the pool's tag is created by hand at that moment
                        (the count of instances stays what it was)
                    {"delete_node": id}      deletes a node as by hand
                    {"add_node": "IP:PORT"}  adds a node as by hand
State extras: "instances" [{id, label, tags, status, private, public}],
"nodes" [{id, address, mode, status}], "peak" (most instances not deleting
at any time), "creates" (accepted creates).
"""
import argparse
import base64
import binascii
import http
import json
import math
import os
import random
import re
import sys
import time
import urllib.parse

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from contract import common  # noqa: E402

DEFAULT_TOKEN = "linode-test-token-0123456789abcdef"
LABEL_RE = re.compile(r"[a-zA-Z]((?!--|__|\.\.)[a-zA-Z0-9-_.])+")
NODE_LABEL_RE = re.compile(r"[a-zA-Z0-9-_.]{3,32}")
CREATE_KEYS = {"region", "type", "image", "root_pass", "authorized_keys", "authorized_users",
               "label", "tags", "private_ip", "metadata", "firewall_id", "booted", "swap_size",
               "backups_enabled", "stackscript_id", "stackscript_data", "interfaces",
               "placement_group", "group"}
INSTANCE_FILTERS = {"id", "label", "tags", "region", "ipv4", "group"}
NODE_MODES = ("accept", "reject", "drain", "backup")

ROUTES = [
    ("GET", re.compile(r"/v4/linode/instances"), "list-instances"),
    ("POST", re.compile(r"/v4/linode/instances"), "create-instance"),
    ("GET", re.compile(r"/v4/linode/instances/(\d+)"), "get-instance"),
    ("DELETE", re.compile(r"/v4/linode/instances/(\d+)"), "delete-instance"),
    ("GET", re.compile(r"/v4/linode/instances/(\d+)/ips"), "get-instance-ips"),
    ("GET", re.compile(r"/v4/nodebalancers/(\d+)/configs/(\d+)/nodes"), "list-nodes"),
    ("POST", re.compile(r"/v4/nodebalancers/(\d+)/configs/(\d+)/nodes"), "create-node"),
    ("GET", re.compile(r"/v4/nodebalancers/(\d+)/configs/(\d+)/nodes/(\d+)"), "get-node"),
    ("PUT", re.compile(r"/v4/nodebalancers/(\d+)/configs/(\d+)/nodes/(\d+)"), "update-node"),
    ("DELETE", re.compile(r"/v4/nodebalancers/(\d+)/configs/(\d+)/nodes/(\d+)"), "delete-node"),
]


def route(method, raw_path):
    path = urllib.parse.unquote(raw_path)
    for m, rx, op in ROUTES:
        g = rx.fullmatch(path)
        if g and m == method:
            return op, g.groups()
    return None, ()


def _json(status, obj, why="", headers=()):
    return common.Reply(status, json.dumps(obj).encode(), "application/json", headers, why)


def _err(status, reason, field=None, why=""):
    e = {"reason": reason}
    if field is not None:
        e["field"] = field
    return _json(status, {"errors": [e]}, why or (f"{field}: {reason}" if field else reason))


class Bad(Exception):
    def __init__(self, status, reason, field=None, why=""):
        super().__init__(reason)
        self.reply = _err(status, reason, field, why)


def public_of(private):
    a = private.split(".")
    return f"127.{int(a[1]) ^ 128}.{a[2]}.{a[3]}"


def linode_time(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))


def strong(pw):
    classes = [any(c.islower() for c in pw), any(c.isupper() for c in pw),
               any(c.isdigit() for c in pw), any(not c.isalnum() for c in pw)]
    return len(pw) >= 11 and sum(classes) >= 3


class Linode(common.Service):
    kind = "linode"

    # The API's ids grow (one account's new instance has a larger id than
    # every older one): listed in id order, a new one comes last.
    last_id = random.randint(10_000_000, 50_000_000)

    @classmethod
    def new_id(cls):
        cls.last_id += random.randint(1, 999)
        return str(cls.last_id)

    @staticmethod
    def name_of(args):
        return lambda i: f"linode-{i}"

    def __init__(self, args, pool):
        super().__init__(args, pool)
        self.meta = {}          # member id -> dict
        self.nodes = []         # dicts, in creation order
        self.peak = 0
        self.creates = 0
        self.delete_after_page = None   # admin: an instance id
        self.create_after_page = False  # admin: and one created then
        self.create_times = []          # monotonic, the creates in the window

    # -- model
    def _meta(self, m):
        if m.id not in self.meta:   # an instance that existed at start
            self.meta[m.id] = {"label": f"linode{m.id}", "tags": [self.args.tag[0]],
                               "region": self.args.region[0], "type": self.args.type[0],
                               "image": "linode/debian12", "private": True, "booted": True,
                               "user_data": False}
        return self.meta[m.id]

    def status(self, m, phase=None):
        phase = phase or self.pool.phase(m)
        if phase == "terminating":
            return "deleting"
        if phase == "gone":
            return "gone"
        if not self._meta(m)["booted"]:
            return "offline"
        if phase == "booting":
            half = m.created + self.args.boot_s / 2
            return "provisioning" if self.pool.now() < half else "booting"
        return self._meta(m).get("status") or "running"

    def member_state(self, m, phase):
        return self.status(m, phase)

    def live(self):
        """Instances not gone (deleting ones included)."""
        return [m for m in self.pool.members if self.pool.phase(m) != "gone"]

    def find(self, id):
        m = self.pool.find(id)
        if m is None or self.pool.phase(m) == "gone":
            raise Bad(404, "Not found")
        return m

    def private_of(self, m):
        return m.address if self._meta(m)["private"] else None

    def instance_json(self, m):
        meta = self._meta(m)
        ipv4 = [public_of(m.address)] + ([m.address] if meta["private"] else [])
        t = linode_time(m.created_wall)
        return {"id": int(m.id), "label": meta["label"], "group": "", "status": self.status(m),
                "created": t, "updated": t, "type": meta["type"], "ipv4": ipv4,
                "ipv6": "2600:3c00::f03c:91ff:fe00:1/128", "image": meta["image"],
                "region": meta["region"], "tags": list(meta["tags"]), "hypervisor": "kvm",
                "watchdog_enabled": True, "has_user_data": meta["user_data"],
                "specs": {"disk": 25600, "memory": 1024, "vcpus": 1, "transfer": 1000},
                "alerts": {"cpu": 90, "io": 10000, "network_in": 10, "network_out": 10,
                           "transfer_quota": 80},
                "backups": {"enabled": False, "available": False, "schedule": {}},
                "placement_group": None, "lke_cluster_id": None, "capabilities": [],
                # newer than the spec [ref 3]: clients must ignore them
                "site_type": "core", "disk_encryption": "enabled"}

    def ip_json(self, m, address, public):
        return {"address": address, "gateway": None if not public else address.rsplit(".", 1)[0] + ".1",
                "subnet_mask": "255.255.128.0" if not public else "255.255.255.0",
                "prefix": 17 if not public else 24, "type": "ipv4", "public": public,
                "rdns": None, "linode_id": int(m.id), "region": self._meta(m)["region"]}

    def node_json(self, n):
        return {"id": n["id"], "address": n["address"], "label": n["label"],
                "status": self.node_status(n), "weight": n["weight"], "mode": n["mode"],
                "config_id": self.args.config_id, "nodebalancer_id": self.args.nodebalancer_id,
                "vpc_config_id": None}

    def node_status(self, n):
        host = n["address"].rsplit(":", 1)[0]
        for m in self.live():
            if self.private_of(m) == host:
                return "UP" if self.status(m) == "running" else "DOWN"
        return "Unknown"

    def extra_state(self):
        return {"instances": [{"id": int(m.id), "label": self._meta(m)["label"],
                               "tags": self._meta(m)["tags"], "status": self.status(m),
                               "private": self.private_of(m), "public": public_of(m.address)}
                              for m in self.live()],
                "nodes": [self.node_json(n) for n in self.nodes],
                "peak": self.peak, "creates": self.creates}

    def _count_peak(self):
        n = len([m for m in self.live() if self.status(m) != "deleting"])
        self.peak = max(self.peak, n)

    # -- authentication
    def prepare(self, req):
        req.action = route(req.method, req.path)[0] or ""
        values = req.headers.get_all("Authorization") or []
        if not values:
            req.auth = "none"
            req.reject = _err(401, "Invalid Token", why="no Authorization header")
            return
        req.auth = "bad"
        if len(values) != 1:
            req.reject = _err(401, "Invalid Token", why="several Authorization headers")
            return
        scheme, _, token = values[0].partition(" ")
        if scheme != "Bearer" or token not in self.args.token:
            req.reject = _err(401, "Invalid Token", why="unknown token or not Bearer")
            return
        req.auth = "ok"

    # -- faults / errors
    def fault_reply(self, req, fault):
        st = fault["status"]
        ra = fault.get("retry_after", 1 if st == 429 else None)
        default = {429: "Too many requests", 500: "Internal Server Error",
                   502: "Bad Gateway", 503: "Service Unavailable"}
        try:
            phrase = http.HTTPStatus(st).phrase
        except ValueError:
            phrase = "Error"
        headers = []
        if ra is not None:
            headers.append(("Retry-After", str(ra)))
        if st == 429:
            headers += [("X-RateLimit-Limit", "10"), ("X-RateLimit-Remaining", "0"),
                        ("X-RateLimit-Reset", str(int(time.time()) + (ra or 1)))]
        return _json(st, {"errors": [{"reason": fault.get("message", default.get(st, phrase))}]},
                     headers=headers)

    def internal_error(self, req):
        return _err(500, "Internal Server Error")

    # -- admin
    def admin(self, method, path, body):
        if path != "/_admin/linode" or method != "POST":
            return None
        spec = json.loads(body or b"null")
        if not isinstance(spec, dict) or len(spec) != 1:
            raise common.AdminError("body: one of delete_instance, power_off, set_status, "
                                    "delete_after_page, replace_after_page, delete_node, add_node")
        with self.pool.lock:
            if "power_off" in spec:     # shut down by its OS or by hand: "offline"
                m = self.pool.find(str(spec["power_off"]))
                if m is None or m.removed is not None:
                    raise LookupError(f"no instance {spec['power_off']}")
                self._meta(m)["booted"] = False
                return {"ok": True}
            if "set_status" in spec:    # {"id": N, "status": "migrating"}; null: back
                want = spec["set_status"]
                m = self.pool.find(str(want["id"]))
                if m is None or m.removed is not None:
                    raise LookupError(f"no instance {want['id']}")
                self._meta(m)["status"] = want["status"]
                return {"ok": True}
            if "delete_after_page" in spec or "replace_after_page" in spec:
                self.create_after_page = "replace_after_page" in spec
                self.delete_after_page = int(spec.get("delete_after_page",
                                                      spec.get("replace_after_page")))
                return {"ok": True}
            if "delete_instance" in spec:
                m = self.pool.find(str(spec["delete_instance"]))
                if m is None or m.removed is not None:
                    raise LookupError(f"no instance {spec['delete_instance']}")
                self.pool.remove(m)
                return {"ok": True}
            if "delete_node" in spec:
                n = [n for n in self.nodes if n["id"] == spec["delete_node"]]
                if not n:
                    raise LookupError(f"no node {spec['delete_node']}")
                self.nodes.remove(n[0])
                return {"ok": True}
            if "add_node" in spec:
                n = {"id": random.randint(100_000_000, 999_999_999), "address": spec["add_node"],
                     "label": "by-hand", "weight": 50, "mode": "accept"}
                self.nodes.append(n)
                return {"ok": True, "node": self.node_json(n)}
        raise common.AdminError("body: one of delete_instance, power_off, set_status, "
                                "delete_after_page, replace_after_page, delete_node, add_node")

    # -- requests
    def execute(self, req):
        try:
            out = self._execute(req)
            self.pool.size = len([m for m in self.live() if m.removed is None])
            return out
        except Bad as e:
            return e.reply

    def _json_body(self, req):
        ct = req.headers.get("Content-Type")
        if ct is None or ct.split(";")[0].strip().lower() != "application/json":
            raise Bad(400, "Content-Type must be application/json", why=f"Content-Type {ct!r}")
        try:
            obj = json.loads(req.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Bad(400, "Invalid JSON")
        if not isinstance(obj, dict):
            raise Bad(400, "Request body must be a JSON object")
        return obj

    def _no_body(self, req):
        if req.body:
            raise Bad(400, "Unexpected request body")

    def _query(self, req, allowed):
        pairs = urllib.parse.parse_qsl(req.query, keep_blank_values=True)
        q = {}
        for k, v in pairs:
            if k not in allowed:
                raise Bad(400, f"Unknown query parameter {k}", k)
            if k in q:
                raise Bad(400, f"{k} given more than once", k)
            q[k] = v
        return q

    def _page(self, req, items, to_json):
        q = self._query(req, ("page", "page_size"))
        try:
            page = int(q.get("page", "1"))
        except ValueError:
            raise Bad(400, "Must be an integer", "page")
        try:
            size = int(q.get("page_size", "100"))
        except ValueError:
            raise Bad(400, "Must be an integer", "page_size")
        if page < 1:
            raise Bad(400, "Must be 1 or greater", "page")
        if not 25 <= size <= 500:
            raise Bad(400, "Must be between 25 and 500", "page_size")
        size = min(size, self.args.page_size_cap)
        pages = max(1, (len(items) + size - 1) // size)
        page = min(page, pages)
        chunk = items[(page - 1) * size:page * size]
        return _json(200, {"data": [to_json(x) for x in chunk], "page": page, "pages": pages,
                           "results": len(items)})

    @staticmethod
    def _order(req, items):
        raw = req.headers.get("X-Filter")
        f = json.loads(raw) if raw else {}
        key = f.get("+order_by") if isinstance(f, dict) else None
        if key is None:
            return items
        return sorted(items, key=lambda x: (x.get(key) is None, x.get(key)),
                      reverse=f.get("+order") == "desc")

    def _filter(self, req, fields):
        raw = req.headers.get_all("X-Filter") or []
        if not raw:
            return lambda obj: True
        if len(raw) != 1:
            raise Bad(400, "X-Filter given more than once", "X-Filter")
        try:
            f = json.loads(raw[0])
        except ValueError:
            raise Bad(400, "Invalid JSON", "X-Filter")
        if not isinstance(f, dict):
            raise Bad(400, "Must be a JSON object", "X-Filter")

        def check(f):
            for k, v in f.items():
                if k in ("+and", "+or"):
                    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
                        raise Bad(400, f"{k} must be a list of objects", "X-Filter")
                    for x in v:
                        check(x)
                elif k == "+order_by":
                    if v not in fields:
                        raise Bad(400, f"Cannot order by {v}", "X-Filter")
                elif k == "+order":
                    if v not in ("asc", "desc"):
                        raise Bad(400, "+order must be asc or desc", "X-Filter")
                elif k not in fields:
                    raise Bad(400, f"Cannot filter on {k}", "X-Filter")
                elif isinstance(v, dict):
                    if len(v) != 1 or next(iter(v)) not in ("+contains", "+neq", "+gt", "+gte",
                                                            "+lt", "+lte"):
                        raise Bad(400, f"Unknown operator for {k}", "X-Filter")
                elif not isinstance(v, (str, int)) or isinstance(v, bool):
                    raise Bad(400, f"Bad value for {k}", "X-Filter")
        check(f)

        def one(obj, k, v):
            have = obj.get(k)
            values = have if isinstance(have, list) else [have]
            if isinstance(v, dict):
                op, arg = next(iter(v.items()))
                tests = {"+contains": lambda x: isinstance(x, str) and str(arg) in x,
                         "+neq": lambda x: x != arg,
                         "+gt": lambda x: x is not None and x > arg,
                         "+gte": lambda x: x is not None and x >= arg,
                         "+lt": lambda x: x is not None and x < arg,
                         "+lte": lambda x: x is not None and x <= arg}
                return any(tests[op](x) for x in values)
            return v in values

        def match(f, obj):
            for k, v in f.items():
                if k == "+and" and not all(match(x, obj) for x in v):
                    return False
                if k == "+or" and not any(match(x, obj) for x in v):
                    return False
                if not k.startswith("+") and not one(obj, k, v):
                    return False
            return True
        return lambda obj: match(f, obj)

    def _execute(self, req):
        op, g = route(req.method, req.path)
        if op is None:
            return _err(404, "Not found", why=f"no route {req.method} {req.path}")
        if req.method in ("GET", "DELETE"):
            self._no_body(req)
        if op not in ("list-instances", "list-nodes"):
            self._query(req, ())
            if req.headers.get("X-Filter") is not None:
                raise Bad(400, "X-Filter is only for lists", "X-Filter")
        if op == "list-instances":
            keep = self._filter(req, INSTANCE_FILTERS)
            items = self._order(req, [self.instance_json(m) for m in self.live()])
            reply = self._page(req, [x for x in items if keep(x)], lambda x: x)
            reply.why = "X-Filter " + (req.headers.get("X-Filter") or "none")
            shown = json.loads(reply.body) if reply.status == 200 else {}
            if self.delete_after_page is not None and shown.get("page") == 1 and \
                    shown.get("pages", 1) > 1:
                # As by hand, between this page and the next.
                m = self.pool.find(str(self.delete_after_page))
                self.delete_after_page = None
                if m is not None and m.removed is None:
                    self.pool.remove(m)
                    m.removed -= self.pool.terminate_s     # gone from lists at once
                if self.create_after_page:
                    self._meta(self.pool.launch())          # the --size instances' tag
                    self.pool.mutations += 1
            return reply
        if op == "create-instance":
            return self._create_budget() or self._create(self._json_body(req))
        if op == "get-instance":
            return _json(200, self.instance_json(self.find(g[0])))
        if op == "delete-instance":
            m = self.find(g[0])
            self.pool.remove(m)
            self.pool.mutations += 1
            return _json(200, {}, f"deleting {m.id}")
        if op == "get-instance-ips":
            m = self.find(g[0])
            priv = self.private_of(m)
            return _json(200, {
                "ipv4": {"public": [self.ip_json(m, public_of(m.address), True)],
                         "private": [self.ip_json(m, priv, False)] if priv else [],
                         "shared": [], "reserved": []},
                "ipv6": {"slaac": {"address": "2600:3c00::f03c:91ff:fe00:1", "prefix": 64},
                         "link_local": {"address": "fe80::f03c:91ff:fe00:1", "prefix": 64},
                         "global": []}})
        # NodeBalancer
        if int(g[0]) != self.args.nodebalancer_id or int(g[1]) != self.args.config_id:
            raise Bad(404, "Not found")
        if op == "list-nodes":
            keep = self._filter(req, set())
            return self._page(req, [n for n in self.nodes if keep(n)], self.node_json)
        if op == "create-node":
            body = self._json_body(req)
            n = self._node_fields(body, {"label": None, "address": None, "weight": 50,
                                         "mode": "accept"}, required=("label", "address"))
            n["id"] = random.randint(100_000_000, 999_999_999)
            self.nodes.append(n)
            self.pool.mutations += 1
            return _json(200, self.node_json(n), f"node {n['address']}")
        n = [n for n in self.nodes if n["id"] == int(g[2])]
        if not n:
            raise Bad(404, "Not found")
        n = n[0]
        if op == "get-node":
            return _json(200, self.node_json(n))
        if op == "update-node":
            new = self._node_fields(self._json_body(req), dict(n), required=(), own=n)
            n.update(new)
            self.pool.mutations += 1
            return _json(200, self.node_json(n), f"node {n['address']} mode {n['mode']}")
        self.nodes.remove(n)
        self.pool.mutations += 1
        return _json(200, {}, f"node {n['address']} deleted")

    def _node_fields(self, body, base, required, own=None):
        extra = sorted(set(body) - {"label", "address", "weight", "mode"})
        if extra:
            raise Bad(400, f"Unknown field {extra[0]}", extra[0])
        for k in required:
            if k not in body:
                raise Bad(400, "This field is required", k)
        out = dict(base)
        if "label" in body:
            if not isinstance(body["label"], str) or not NODE_LABEL_RE.fullmatch(body["label"]):
                raise Bad(400, "Label must be 3-32 characters of letters, digits, -, _ and .",
                          "label")
            out["label"] = body["label"]
        if "weight" in body:
            w = body["weight"]
            if not isinstance(w, int) or isinstance(w, bool) or not 1 <= w <= 255:
                raise Bad(400, "Must be between 1 and 255", "weight")
            out["weight"] = w
        if "mode" in body:
            if body["mode"] not in NODE_MODES:
                raise Bad(400, "Must be one of " + ", ".join(NODE_MODES), "mode")
            out["mode"] = body["mode"]
        if "address" in body:
            a = body["address"]
            host, sep, port = a.rpartition(":") if isinstance(a, str) else ("", "", "")
            if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
                raise Bad(400, "Must be IP:PORT", "address")
            if host not in {self.private_of(m) for m in self.live()}:
                raise Bad(400, "This address is not a private IP of one of your Linodes",
                          "address")
            if any(n["address"] == a and n is not own for n in self.nodes):
                raise Bad(400, "Address already in use", "address")
            out["address"] = a
        return out

    def _create_budget(self):
        """The API's create rate limit [ref 7]: --create-limit POSTs per
        --create-window-s; past it a 429 whose Retry-After is when the
        oldest leaves the window."""
        now = time.monotonic()
        w = self.args.create_window_s
        self.create_times = [t for t in self.create_times if now - t < w]
        if len(self.create_times) >= self.args.create_limit:
            wait = max(1, math.ceil(self.create_times[0] + w - now))
            return self.fault_reply(None, {"status": 429, "retry_after": wait})
        self.create_times.append(now)
        return None

    def _create(self, b):
        extra = sorted(set(b) - CREATE_KEYS)
        if extra:
            raise Bad(400, f"Unknown field {extra[0]}", extra[0])
        for k in ("region", "type"):
            if k not in b:
                raise Bad(400, f"{k} is required", k)
        if b["region"] not in self.args.region:
            raise Bad(400, "region is not valid", "region")
        if b["type"] not in self.args.type:
            raise Bad(400, "type is not valid", "type")
        image = b.get("image")
        if image is not None:
            if not isinstance(image, str) or not image.startswith(("linode/", "private/")):
                raise Bad(400, "image is not valid", "image")
            pw = b.get("root_pass")
            if pw is None:
                raise Bad(400, "root_pass is required when deploying from an image", "root_pass")
            if not isinstance(pw, str) or not 7 <= len(pw) <= 128:
                raise Bad(400, "Length must be 7-128 characters", "root_pass")
            if not strong(pw):
                raise Bad(400, "Password does not meet strength requirement", "root_pass")
        label = b.get("label")
        if label is not None:
            if (not isinstance(label, str) or not 3 <= len(label) <= 64
                    or not LABEL_RE.fullmatch(label) or not label[-1].isalnum()):
                raise Bad(400, "Label must begin and end with a letter or number, and contain "
                          "only letters, numbers, -, _ and .", "label")
            if any(self._meta(m)["label"] == label for m in self.live()):
                raise Bad(400, "Label must be unique among your linodes", "label")
        tags = b.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) and 3 <= len(t) <= 50
                                                 for t in tags):
            raise Bad(400, "Tags must be strings of 3-50 characters", "tags")
        keys = b.get("authorized_keys", [])
        if not isinstance(keys, list) or not all(
                isinstance(k, str) and k.startswith(("ssh-", "ecdsa-", "sk-")) for k in keys):
            raise Bad(400, "Invalid SSH key", "authorized_keys")
        for k in ("private_ip", "booted", "backups_enabled"):
            if k in b and not isinstance(b[k], bool):
                raise Bad(400, "Must be a boolean", k)
        user_data = False
        if "metadata" in b:
            md = b["metadata"]
            if not isinstance(md, dict) or set(md) - {"user_data"}:
                raise Bad(400, "Must be an object with user_data", "metadata")
            if "user_data" in md:
                try:
                    raw = base64.b64decode(md["user_data"], validate=True)
                except (binascii.Error, TypeError, ValueError):
                    raise Bad(400, "Must be base64", "metadata.user_data")
                if len(raw) > 65535:
                    raise Bad(400, "Must not exceed 65535 bytes unencoded", "metadata.user_data")
                user_data = True
        if "firewall_id" in b:
            fw = b["firewall_id"]
            if not isinstance(fw, int) or isinstance(fw, bool) or fw not in self.args.firewall_id:
                raise Bad(400, "Firewall not found", "firewall_id")
        if len(self.live()) >= self.args.max_instances:
            raise Bad(400, "Account limit reached")
        m = self.pool.launch()
        self.meta[m.id] = {"label": label or f"linode{m.id}", "tags": list(tags),
                           "region": b["region"], "type": b["type"], "image": image,
                           "private": b.get("private_ip", False), "booted": b.get("booted", True),
                           "user_data": user_data}
        self.pool.mutations += 1
        self.creates += 1
        self._count_peak()
        return _json(200, self.instance_json(m), f"created {m.id} {self.meta[m.id]['label']}")


# ---------------------------------------------------------------- options

def build_parser():
    p = argparse.ArgumentParser(prog="linode.py",
                                description="Strict fake of the Linode API v4 (instances, nodes).")
    common.add_common_args(p)
    p.add_argument("--token", action="append", help=f"accepted token (default {DEFAULT_TOKEN})")
    p.add_argument("--tag", action="append", help="tag of the --size instances (poolscale-web)")
    p.add_argument("--region", action="append", help="valid regions (us-east)")
    p.add_argument("--type", action="append", help="valid types (g6-nanode-1, g6-standard-1)")
    p.add_argument("--firewall-id", action="append", type=int, default=[], help="firewalls")
    p.add_argument("--nodebalancer-id", type=int, default=4242)
    p.add_argument("--config-id", type=int, default=777)
    p.add_argument("--page-size-cap", type=int, default=500)
    p.add_argument("--max-instances", type=int, default=50)
    p.add_argument("--create-limit", type=int, default=10,
                   help="creates per --create-window-s, then 429 (10, the API's)")
    p.add_argument("--create-window-s", type=float, default=30.0)
    return p


def parse_args(argv):
    p = build_parser()
    args = p.parse_args(argv)
    common.check_common_args(p, args)
    args.token = args.token or [DEFAULT_TOKEN]
    args.tag = args.tag or ["poolscale-web"]
    args.region = args.region or ["us-east"]
    args.type = args.type or ["g6-nanode-1", "g6-standard-1"]
    if args.page_size_cap < 1:
        p.error("--page-size-cap must be >= 1")
    return args


# ---------------------------------------------------------------- client

def request(server, method, path, body=None, query=None, *, token=None, filter=None,
            headers=None, content_type="application/json", auth=True, timeout=10.0):
    """A request to a running fake with its first token unless given.  path:
    full path with /v4; query: dict; body: dict (JSON) or bytes; filter: a
    dict sent as X-Filter.  Returns a common.HTTPReply."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    body = body or b""
    target = path + ("?" + urllib.parse.urlencode(query) if query else "")
    h = {}
    if body and content_type:
        h["Content-Type"] = content_type
    if auth:
        h["Authorization"] = f"Bearer {token or server.args.token[0]}"
    if filter is not None:
        h["X-Filter"] = json.dumps(filter)
    h.update(headers or {})
    return common.http_request(server.addr, method, target, body, h, timeout)


if __name__ == "__main__":
    common.script_main(Linode, parse_args)
