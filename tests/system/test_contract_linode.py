"""The Linode API v4 contract server (contract/linode.py) itself: it must
be as strict as the reference (../shared/reference/linode-api-v4.md) says
the API is, or the provider's tests against it prove nothing."""
import base64
import time

from contract.common import contract_server  # noqa: F401 (fixture)

TAG = "poolscale-web"
INSTANCES = "/v4/linode/instances"
NODES = "/v4/nodebalancers/4242/configs/777/nodes"


def body(**over):
    b = {"region": "us-east", "type": "g6-nanode-1", "image": "linode/debian12",
         "label": "ps-web-0a1b2c3d", "tags": [TAG], "root_pass": "Xy1-long-enough-pass",
         "private_ip": True, "booted": True}
    b.update(over)
    return {k: v for k, v in b.items() if v is not None}


def reason(r):
    return [(e.get("field"), e["reason"]) for e in r.json()["errors"]]


def test_auth_is_bearer_with_a_known_token(contract_server):
    srv = contract_server("linode", size=1)
    assert srv.request("GET", INSTANCES).status == 200
    for kw in ({"token": "wrong"}, {"auth": False},
               {"auth": False, "headers": {"Authorization": "Basic abc"}}):
        r = srv.request("GET", INSTANCES, **kw)
        assert r.status == 401 and reason(r) == [(None, "Invalid Token")], (kw, r)
    r = srv.request("POST", INSTANCES, body=body(), token="wrong")
    assert r.status == 401
    assert srv.state()["mutations"] == 0 and len(srv.state()["instances"]) == 1


def test_create_bodies_are_validated(contract_server):
    # More bad creates than the API's 10 per 30 s: the limit is tested below.
    srv = contract_server("linode", size=0, firewall_id=[1001], create_limit=1000)
    bad = [
        (body(region=None), "region"),
        (body(type=None), "type"),
        (body(region="mars-1"), "region"),
        (body(type="g9-huge"), "type"),
        (body(image="debian12"), "image"),
        (body(root_pass=None), "root_pass"),
        (body(root_pass="short"), "root_pass"),
        (body(root_pass="alllowercaseletters"), "root_pass"),
        (body(label="1starts-with-digit"), "label"),
        (body(label="ps--web"), "label"),
        (body(label="ps-web-"), "label"),
        (body(label="ab"), "label"),
        (body(tags=["x"]), "tags"),
        (body(tags="poolscale-web"), "tags"),
        (body(authorized_keys=["not a key"]), "authorized_keys"),
        (body(private_ip="yes"), "private_ip"),
        (body(metadata={"user_data": "not base64!"}), "metadata.user_data"),
        (body(metadata={"user_data": base64.b64encode(b"x" * 65536).decode()}),
         "metadata.user_data"),
        (body(metadata={"other": 1}), "metadata"),
        (body(firewall_id=999), "firewall_id"),
        (body(unknown_key=1), "unknown_key"),
    ]
    for b, field in bad:
        r = srv.request("POST", INSTANCES, body=b)
        assert r.status == 400 and reason(r)[0][0] == field, (b, r)
    r = srv.request("POST", INSTANCES, body=body(), content_type="text/plain")
    assert r.status == 400
    assert srv.state()["mutations"] == 0 and srv.state()["instances"] == []
    ud = base64.b64encode(b"#cloud-config\n").decode()
    r = srv.request("POST", INSTANCES, body=body(firewall_id=1001, metadata={"user_data": ud},
                                                 authorized_keys=["ssh-ed25519 AAAA x"]))
    assert r.status == 200, r
    inst = r.json()
    assert inst["status"] == "provisioning" and inst["has_user_data"] is True
    assert inst["label"] == "ps-web-0a1b2c3d" and inst["tags"] == [TAG]
    # Labels are unique among instances: the second create of one is refused.
    r = srv.request("POST", INSTANCES, body=body())
    assert r.status == 400
    assert reason(r) == [("label", "Label must be unique among your linodes")]


def test_states_addresses_and_delete(contract_server):
    srv = contract_server("linode", size=0, boot_s=0.6, terminate_s=0.3)
    inst = srv.request("POST", INSTANCES, body=body()).json()
    seen = set()
    end = time.monotonic() + 5
    while time.monotonic() < end and "running" not in seen:
        seen.add(srv.request("GET", f"{INSTANCES}/{inst['id']}").json()["status"])
        time.sleep(0.02)
    assert seen == {"provisioning", "booting", "running"}, seen
    ips = srv.request("GET", f"{INSTANCES}/{inst['id']}/ips").json()["ipv4"]
    [priv], [pub] = ips["private"], ips["public"]
    assert priv["public"] is False and pub["public"] is True
    assert priv["address"].startswith("127.") and pub["address"].startswith("127.")
    assert sorted(inst["ipv4"]) == sorted([priv["address"], pub["address"]])
    # Without private_ip there is no private address.
    other = srv.request("POST", INSTANCES, body=body(label="ps-web-nopriv", private_ip=None)).json()
    assert srv.request("GET", f"{INSTANCES}/{other['id']}/ips").json()["ipv4"]["private"] == []
    assert srv.request("DELETE", f"{INSTANCES}/{inst['id']}").status == 200
    assert srv.request("GET", f"{INSTANCES}/{inst['id']}").json()["status"] == "deleting"
    end = time.monotonic() + 5
    while srv.request("GET", f"{INSTANCES}/{inst['id']}").status != 404:
        assert time.monotonic() < end
        time.sleep(0.02)
    r = srv.request("DELETE", f"{INSTANCES}/{inst['id']}")
    assert r.status == 404 and reason(r) == [(None, "Not found")]


def test_pagination_and_filters(contract_server):
    srv = contract_server("linode", size=5, page_size_cap=2)
    r = srv.request("GET", INSTANCES, query={"page": 1, "page_size": 25})
    j = r.json()
    assert (j["page"], j["pages"], j["results"], len(j["data"])) == (1, 3, 5, 2)
    ids = set()
    for page in (1, 2, 3):
        ids |= {x["id"] for x in srv.request("GET", INSTANCES, query={"page": page}).json()["data"]}
    assert len(ids) == 5
    for q, field in (({"page_size": 10}, "page_size"), ({"page_size": 501}, "page_size"),
                     ({"page": 0}, "page"), ({"page": "x"}, "page"), ({"foo": 1}, "foo")):
        r = srv.request("GET", INSTANCES, query=q)
        assert r.status == 400 and reason(r)[0][0] == field, (q, r)
    assert srv.request("GET", INSTANCES, filter={"tags": TAG}).json()["results"] == 5
    assert srv.request("GET", INSTANCES, filter={"tags": "other-tag"}).json()["results"] == 0
    label = srv.state()["instances"][0]["label"]
    assert srv.request("GET", INSTANCES, filter={"label": label}).json()["results"] == 1
    assert srv.request("GET", INSTANCES, filter={
        "+and": [{"tags": TAG}, {"label": {"+contains": "linode"}}]}).json()["results"] == 5
    for f in ({"status": "running"}, {"+and": {"tags": TAG}}, {"label": {"+like": "x"}}):
        r = srv.request("GET", INSTANCES, filter=f)
        assert r.status == 400 and reason(r)[0][0] == "X-Filter", (f, r)
    r = srv.request("GET", INSTANCES, headers={"X-Filter": "{not json"})
    assert r.status == 400
    r = srv.request("GET", f"{INSTANCES}/{srv.state()['instances'][0]['id']}",
                    filter={"tags": TAG})
    assert r.status == 400


def test_nodebalancer_nodes(contract_server):
    srv = contract_server("linode", size=2)
    a, b = [i["private"] for i in srv.state()["instances"]]
    pub = srv.state()["instances"][0]["public"]
    r = srv.request("POST", NODES, body={"label": "ps-a", "address": f"{a}:8080",
                                         "weight": 100, "mode": "accept"})
    assert r.status == 200, r
    node = r.json()
    assert node["status"] == "UP" and node["mode"] == "accept" and node["weight"] == 100
    for b_, field in (({"address": f"{b}:8080"}, "label"), ({"label": "ps-b"}, "address"),
                      ({"label": "ps-b", "address": f"{pub}:8080"}, "address"),
                      ({"label": "ps-b", "address": f"{a}:8080"}, "address"),
                      ({"label": "ps-b", "address": b}, "address"),
                      ({"label": "p", "address": f"{b}:8080"}, "label"),
                      ({"label": "ps-b", "address": f"{b}:8080", "mode": "on"}, "mode"),
                      ({"label": "ps-b", "address": f"{b}:8080", "weight": 0}, "weight")):
        r = srv.request("POST", NODES, body=b_)
        assert r.status == 400 and reason(r)[0][0] == field, (b_, r)
    assert srv.request("GET", "/v4/nodebalancers/1/configs/777/nodes").status == 404
    r = srv.request("PUT", f"{NODES}/{node['id']}", body={"mode": "drain"})
    assert r.status == 200 and r.json()["mode"] == "drain"
    assert srv.request("GET", NODES).json()["data"][0]["mode"] == "drain"
    assert srv.request("DELETE", f"{NODES}/{node['id']}").status == 200
    assert srv.request("DELETE", f"{NODES}/{node['id']}").status == 404
    assert srv.state()["nodes"] == []


def test_creates_past_the_limit_are_refused_with_retry_after(contract_server):
    srv = contract_server("linode", size=0, create_limit=2, create_window_s=30)
    assert srv.request("POST", INSTANCES, body=body(label="ps-web-one")).status == 200
    assert srv.request("POST", INSTANCES, body=body(label="ps-web-two")).status == 200
    r = srv.request("POST", INSTANCES, body=body(label="ps-web-three"))
    assert r.status == 429 and reason(r) == [(None, "Too many requests")]
    assert 1 <= int(r.headers["retry-after"]) <= 30
    assert len(srv.state()["instances"]) == 2


def test_faults_rate_limit_and_lost_replies(contract_server):
    srv = contract_server("linode", size=0)
    srv.fault("status", status=429, count=1, match="create-instance")
    r = srv.request("POST", INSTANCES, body=body())
    assert r.status == 429 and r.headers["retry-after"] == "1"
    assert reason(r) == [(None, "Too many requests")] and "x-ratelimit-reset" in r.headers
    assert srv.state()["instances"] == []
    srv.fault("status", status=503, count=1, match="create-instance", when="after")
    r = srv.request("POST", INSTANCES, body=body())
    assert r.status == 503 and len(srv.state()["instances"]) == 1
    srv.fault("drop", count=1, match="create-instance", when="after")
    try:
        srv.request("POST", INSTANCES, body=body(label="ps-web-dropped"))
        raise AssertionError("the reply was not dropped")
    except (ConnectionError, OSError):
        pass
    labels = {i["label"] for i in srv.state()["instances"]}
    assert labels == {"ps-web-0a1b2c3d", "ps-web-dropped"}
    assert srv.state()["creates"] == 2 and srv.state()["peak"] == 2
