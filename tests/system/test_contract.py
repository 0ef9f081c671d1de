"""The contract servers (tests/system/contract/) themselves: their signers
reproduce the reference vectors byte for byte, and the servers accept what
the references document and reject the rest the documented way."""
import http.client
import json
import os
import time

import pytest

from contract import aws, exoscale
from contract.common import PYTHON, contract_server, http_request, wait_until  # noqa: F401

POOL = "5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b"
POOL_PATH = f"/v2/instance-pool/{POOL}"
MEMBERS_QUERY = [("manager-type", "instance-pool"), ("manager-id", POOL)]

# ---------------------------------------------------------------- vectors

E_KEY, E_SECRET, E_EXP = "EXO0123456789abcdef01234567", "poolscaleTestSecret-0123456789abcdefABCDEFGH", 1767225600
EXO_VECTORS = [  # (name, method, path, query pairs in URL order, body, key, secret, expires, message, Authorization)
    ("E0a", "GET", "/v2/zone", [], b"", "EXOxxxxxxxxxxxxxxxxxxxxxxxx", "X" * 43, 3376684800,
     b"GET /v2/zone\n\n\n\n3376684800",
     "EXO2-HMAC-SHA256 credential=EXOxxxxxxxxxxxxxxxxxxxxxxxx,expires=3376684800,"
     "signature=Ntbq/p0HVmA3Zg1HHY+Lq1vjFGi7HeMrrgXDS5jRNlY="),
    ("E0b", "GET", "/v2/zone", [("k1", "v1"), ("k2", "v2")], b"", "EXOxxxxxxxxxxxxxxxxxxxxxxxx",
     "X" * 43, 3376684800, b"GET /v2/zone\n\nv1v2\n\n3376684800",
     "EXO2-HMAC-SHA256 credential=EXOxxxxxxxxxxxxxxxxxxxxxxxx,signed-query-args=k1;k2,"
     "expires=3376684800,signature=iqOBz13+44L5j0uJclE8hmUhQQcvtCSoPEOXYK6liqY="),
    ("E1", "GET", POOL_PATH, [], b"", E_KEY, E_SECRET, E_EXP,
     f"GET {POOL_PATH}\n\n\n\n1767225600".encode(),
     "EXO2-HMAC-SHA256 credential=EXO0123456789abcdef01234567,expires=1767225600,"
     "signature=cUzakC2xhefm2jzbYjBebBsja5o8MIZt3UA3bN7KyWw="),
    ("E2", "PUT", POOL_PATH + ":scale", [], b'{"size":3}', E_KEY, E_SECRET, E_EXP,
     f'PUT {POOL_PATH}:scale\n{{"size":3}}\n\n\n1767225600'.encode(),
     "EXO2-HMAC-SHA256 credential=EXO0123456789abcdef01234567,expires=1767225600,"
     "signature=88n1NifZd4OlUoFZmRBgdXV466ls9F4YVrXPWx9QRNw="),
    ("E3", "PUT", POOL_PATH + ":evict", [], b'{"instances":["9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"]}',
     E_KEY, E_SECRET, E_EXP,
     f'PUT {POOL_PATH}:evict\n{{"instances":["9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"]}}'
     f'\n\n\n1767225600'.encode(),
     "EXO2-HMAC-SHA256 credential=EXO0123456789abcdef01234567,expires=1767225600,"
     "signature=Z9DqIQA75ROvBxqcUXhPwKc/3DHdKWwjdu2G4RUXIoM="),
    ("E4", "GET", "/v2/operation/e2047130-b86e-11ef-83b3-0d8312b2c2d7", [], b"", E_KEY, E_SECRET,
     E_EXP, b"GET /v2/operation/e2047130-b86e-11ef-83b3-0d8312b2c2d7\n\n\n\n1767225600",
     "EXO2-HMAC-SHA256 credential=EXO0123456789abcdef01234567,expires=1767225600,"
     "signature=GJFLaTubP1vl4kDtYZ6g5lVBfscXFik6ILAEf/ZQyrg="),
    ("E5", "GET", "/v2/instance", MEMBERS_QUERY, b"", E_KEY, E_SECRET, E_EXP,
     b"GET /v2/instance\n\n5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5binstance-pool\n\n1767225600",
     "EXO2-HMAC-SHA256 credential=EXO0123456789abcdef01234567,signed-query-args=manager-id;"
     "manager-type,expires=1767225600,signature=imZf81KqBOxwR52WIGBCBcJqjOt9cnHxQe2zW0CPRR8="),
]


@pytest.mark.parametrize("v", EXO_VECTORS, ids=[v[0] for v in EXO_VECTORS])
def test_exoscale_signer_reproduces_the_vectors(v):
    _, method, path, query, body, key, secret, exp, msg, auth = v
    assert exoscale.message(method, path, query, body, exp) == msg
    assert exoscale.sign(method, path, query, body, exp, key, secret) == auth


AK, SK, DATE = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830T123600Z"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
ASG_HOST, EC2_HOST = "autoscaling.eu-west-1.amazonaws.com", "ec2.eu-west-1.amazonaws.com"
V0_CREQ = ("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
SIGV4_VECTORS = [
    # (name, method, query pairs, headers, body, region, service, token,
    #  canonical request or None, string to sign (or its last line), signing key or None, Authorization)
    ("V0", "GET", [], {"Host": "example.amazonaws.com"}, b"", "us-east-1", "service", None, V0_CREQ,
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
     "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("V0b", "GET", [], {"Host": "example.amazonaws.com"}, b"", "us-east-1", "service",
     "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
     V0_CREQ.replace("x-amz-date:20150830T123600Z\n",
                     "x-amz-date:20150830T123600Z\nx-amz-security-token:"
                     "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267\n")
     .replace("host;x-amz-date\n", "host;x-amz-date;x-amz-security-token\n"),
     "067b36aa60031588cea4a4cde1f21215227a047690c72247f1d70b32fbbfad2b", None,
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
     "SignedHeaders=host;x-amz-date;x-amz-security-token, "
     "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"),
    ("A1", "GET", [("Action", "DescribeAutoScalingGroups"),
                   ("AutoScalingGroupNames.member.1", "web-asg"), ("Version", "2011-01-01")],
     {"Host": ASG_HOST}, b"", "eu-west-1", "autoscaling", None,
     "GET\n/\nAction=DescribeAutoScalingGroups&AutoScalingGroupNames.member.1=web-asg&"
     "Version=2011-01-01\nhost:autoscaling.eu-west-1.amazonaws.com\nx-amz-date:20150830T123600Z\n"
     "\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/eu-west-1/autoscaling/aws4_request\n"
     "0307c1faf990f9350187e1989155c533e545aaf226856a96f758f2b0932595ba",
     "ede3a0395d434cff7a270097db059a53db1c755a09794fda83e5b105aff237c2",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/autoscaling/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=95c254e0e13d466a03945c9992d300a3f46422ace5864192a8e261dcf2baaf7b"),
    ("A2", "POST", [], {"Host": ASG_HOST, "Content-Type": FORM},
     b"Action=SetDesiredCapacity&Version=2011-01-01&AutoScalingGroupName=web-asg&DesiredCapacity=3"
     b"&HonorCooldown=false", "eu-west-1", "autoscaling", None,
     "POST\n/\n\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\n"
     "host:autoscaling.eu-west-1.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
     "content-type;host;x-amz-date\n"
     "ed4a336a0efddb50b87bca92b5b909decb55bb884a1f04c90828446c79380107",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/eu-west-1/autoscaling/aws4_request\n"
     "9bd92b2bf738d4de9ea97150303237b2198a4a74e141832274bf64a77802f319",
     "ede3a0395d434cff7a270097db059a53db1c755a09794fda83e5b105aff237c2",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/autoscaling/aws4_request, "
     "SignedHeaders=content-type;host;x-amz-date, "
     "Signature=659ca574ca7090fa7f6f8027f19ae5bac8e9f7c4834c97a1436c4a18121523bb"),
    ("A3", "POST", [], {"Host": ASG_HOST, "Content-Type": FORM},
     b"Action=TerminateInstanceInAutoScalingGroup&Version=2011-01-01&InstanceId=i-0123456789abcdef0"
     b"&ShouldDecrementDesiredCapacity=true", "eu-west-1", "autoscaling",
     "FwoGZXIvYXdzEXAMPLESESSIONTOKEN+/=",
     "POST\n/\n\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\n"
     "host:autoscaling.eu-west-1.amazonaws.com\nx-amz-date:20150830T123600Z\n"
     "x-amz-security-token:FwoGZXIvYXdzEXAMPLESESSIONTOKEN+/=\n\n"
     "content-type;host;x-amz-date;x-amz-security-token\n"
     "a22da1c5ebc8024f83cf1e79869ceb5ce50410bd073665c3da2c73e5319a7a57",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/eu-west-1/autoscaling/aws4_request\n"
     "b21e1581eb785e7789d6e81c80566c3bcc0afc98881c4df455f43a6c0fae910a",
     "ede3a0395d434cff7a270097db059a53db1c755a09794fda83e5b105aff237c2",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/autoscaling/aws4_request, "
     "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
     "Signature=916ef23f9a9400482d6496e4d405a71239c05cc26b1140e9c87c5b7b82e1be54"),
    ("A4", "POST", [], {"Host": EC2_HOST, "Content-Type": FORM},
     b"Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0"
     b"&InstanceId.2=i-0fedcba9876543210", "eu-west-1", "ec2", None,
     "POST\n/\n\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\n"
     "host:ec2.eu-west-1.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
     "content-type;host;x-amz-date\n"
     "7ebb90c484dd5c73115244db2ab161804e47da4584dbb68234bcff94a226e4f6",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/eu-west-1/ec2/aws4_request\n"
     "dbcea45cacba459b3833ad8838fe0c333e11be03cad0f19c793cbaccf027f0ff",
     "1c696c5229d594db9587fe77c385ed80decad0724aa97a6b991ce572c208d865",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/ec2/aws4_request, "
     "SignedHeaders=content-type;host;x-amz-date, "
     "Signature=d76e1a6746b31e7695a43f323d1e6b5dbf72973974e529864364ca9991723014"),
    ("A5", "GET", [("Action", "DescribeInstances"), ("Version", "2016-11-15"),
                   ("Filter.1.Name", "tag:aws:autoscaling:groupName"),
                   ("Filter.1.Value.1", "web asg/blue")],
     {"Host": EC2_HOST}, b"", "eu-west-1", "ec2", None,
     "GET\n/\nAction=DescribeInstances&Filter.1.Name=tag%3Aaws%3Aautoscaling%3AgroupName&"
     "Filter.1.Value.1=web%20asg%2Fblue&Version=2016-11-15\nhost:ec2.eu-west-1.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/eu-west-1/ec2/aws4_request\n"
     "01148feb3c940fd4957d377230d8773c5e6fccf2dd5e547b0a8e752b1ddb3fda",
     "1c696c5229d594db9587fe77c385ed80decad0724aa97a6b991ce572c208d865",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/ec2/aws4_request, "
     "SignedHeaders=host;x-amz-date, "
     "Signature=2d84953fb02fea7b39ec4cbbedc275d92f2a6e8c9e6ac3ed983d9dcde42e4471"),
]


@pytest.mark.parametrize("v", SIGV4_VECTORS, ids=[v[0] for v in SIGV4_VECTORS])
def test_sigv4_signer_reproduces_the_vectors(v):
    _, method, query, headers, body, region, service, token, creq, sts, key, auth = v
    r = aws.sigv4_sign(method, "/", query, headers, body, DATE, region, service, AK, SK, token)
    assert r["canonical_request"] == creq
    if "\n" in sts:
        assert r["string_to_sign"] == sts
    else:  # V0b: the reference gives the string to sign's hash line only
        assert r["string_to_sign"].split("\n")[-1] == sts
    if key:
        assert r["signing_key"] == key
    assert r["authorization"] == auth
    assert r["headers"]["Authorization"] == auth and r["headers"]["X-Amz-Date"] == DATE


def test_a2_body_hash_matches_the_reference():
    import hashlib
    body = SIGV4_VECTORS[3][4]
    assert len(body) == 111
    assert hashlib.sha256(body).hexdigest() == \
        "ed4a336a0efddb50b87bca92b5b909decb55bb884a1f04c90828446c79380107"


# ---------------------------------------------------------------- helpers

FAST = {"boot_s": 0.4, "terminate_s": 0.3}


def by_id(state):
    return {m["id"]: m for m in state["members"]}


def exo_pool(srv):
    r = srv.request("GET", POOL_PATH)
    assert r.status == 200, r
    return r.json()


def exo_members(srv):
    r = srv.request("GET", "/v2/instance", query=MEMBERS_QUERY)
    assert r.status == 200, r
    return r.json()["instances"]


def xml_error(r):
    """(Code, Message) of either AWS error shape, checking the shape."""
    root = r.xml()
    if root.tag == "ErrorResponse":
        assert root.find("Error/Type").text in ("Sender", "Receiver")
        assert root.find("RequestId").text
        e = root.find("Error")
    else:
        assert root.tag == "Response", r
        assert root.find("RequestID").text
        e = root.find("Errors/Error")
    return e.find("Code").text, e.find("Message").text


def live(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ---------------------------------------------------------------- exoscale

def test_exoscale_signed_requests_succeed(contract_server):
    srv = contract_server("exoscale", size=2)
    pool = exo_pool(srv)
    assert pool["id"] == POOL and pool["size"] == 2 and pool["state"] == "running"
    assert len(pool["instances"]) == 2 and all(set(i) == {"id"} for i in pool["instances"])
    insts = exo_members(srv)     # query parameters out of order, like E5
    assert [i["public-ip"] for i in insts] == ["127.0.2.1", "127.0.2.2"]
    assert {i["id"] for i in insts} == {i["id"] for i in pool["instances"]}
    for i in insts:
        assert i["state"] == "running" and i["manager"] == {"id": POOL, "type": "instance-pool"}
        assert i["name"].startswith("pool-") and i["created-at"].endswith("Z")
        r = srv.request("GET", f"/v2/instance/{i['id']}")
        assert r.status == 200 and r.json() == i
    r = srv.request("GET", "/v2/instance-pool")
    assert r.status == 200 and r.json()["instance-pools"][0]["id"] == POOL
    reqs = srv.requests()
    assert [q["auth"] for q in reqs] == ["ok"] * 5 and all(q["status"] == 200 for q in reqs)
    assert reqs[1]["action"] == "list-instances" and srv.state()["mutations"] == 0


def test_exoscale_rejects_bad_signatures(contract_server):
    srv = contract_server("exoscale", size=1)
    invalid = {"message": "Invalid request signature"}
    r = srv.request("GET", POOL_PATH, secret="wrong-secret")
    assert (r.status, r.json()) == (403, invalid)
    r = srv.request("GET", POOL_PATH, key="EXOunknown")
    assert (r.status, r.json()) == (403, invalid)
    r = srv.request("GET", POOL_PATH, expires=int(time.time()) - 5)
    assert (r.status, r.json()) == (403, {"message": "Expired request"})
    r = srv.request("GET", POOL_PATH, signed=False)
    assert r.status == 403 and "message" in r.json()
    # the body is signed: a changed body is refused and changes nothing
    good = exoscale.sign("PUT", POOL_PATH + ":scale", [], b'{"size":3}', int(time.time()) + 600,
                         E_KEY, E_SECRET)
    r = srv.request("PUT", POOL_PATH + ":scale", b'{"size":4}', headers={"Authorization": good})
    assert (r.status, r.json()) == (403, invalid)
    # a query parameter that the header does not list
    auth = exoscale.sign("GET", "/v2/instance", [], b"", int(time.time()) + 600, E_KEY, E_SECRET)
    r = srv.request("GET", "/v2/instance", query=MEMBERS_QUERY, headers={"Authorization": auth})
    assert (r.status, r.json()) == (403, invalid)
    # names listed out of order, or a space after a comma: the grammar is exact
    auth = exoscale.sign("GET", "/v2/instance", MEMBERS_QUERY, b"", int(time.time()) + 600,
                         E_KEY, E_SECRET)
    for bad in (auth.replace("manager-id;manager-type", "manager-type;manager-id"),
                auth.replace(",expires", ", expires")):
        r = srv.request("GET", "/v2/instance", query=MEMBERS_QUERY, headers={"Authorization": bad})
        assert (r.status, r.json()) == (403, invalid), bad
    r = srv.request("GET", "/v2/instance", query=MEMBERS_QUERY, headers={"Authorization": auth})
    assert r.status == 200
    st = srv.state()
    assert [q["auth"] for q in st["requests"]] == ["bad", "bad", "bad", "none"] + ["bad"] * 4 + ["ok"]
    assert st["mutations"] == 0 and st["size"] == 1
    assert "signature mismatch" in st["requests"][0]["why"]


def test_exoscale_scale_and_states_over_time(contract_server):
    srv = contract_server("exoscale", size=1, op_delay_s=0.3, **FAST)
    first = exo_members(srv)[0]
    r = srv.request("PUT", POOL_PATH + ":scale", {"size": 3})
    assert r.status == 200
    op = r.json()
    assert op["state"] == "pending" and op["reference"]["id"] == POOL
    pool = exo_pool(srv)
    assert pool["size"] == 3 and pool["state"] == "scaling-up" and len(pool["instances"]) == 3
    insts = exo_members(srv)
    assert [i["state"] for i in insts] == ["running", "starting", "starting"]
    assert [i["public-ip"] for i in insts] == ["127.0.2.1", "127.0.2.2", "127.0.2.3"]
    wait_until(lambda: srv.request("GET", f"/v2/operation/{op['id']}").json()["state"] == "success",
               "operation success")
    assert exo_pool(srv)["state"] == "running"
    wait_until(lambda: all(i["state"] == "running" for i in exo_members(srv)), "3 running")
    # scale down removes the newest two at once; they are destroying, then gone
    r = srv.request("PUT", POOL_PATH + ":scale", {"size": 1})
    assert r.status == 200
    pool = exo_pool(srv)
    assert pool["size"] == 1 and pool["state"] == "scaling-down"
    assert pool["instances"] == [{"id": first["id"]}]
    assert [i["state"] for i in exo_members(srv)] == ["running", "destroying", "destroying"]
    # a new member never takes an address that a destroying one still holds
    r = srv.request("PUT", POOL_PATH + ":scale", {"size": 2})
    assert r.status == 200
    assert exo_members(srv)[-1]["public-ip"] == "127.0.2.4"
    gone = insts[2]["id"]
    wait_until(lambda: srv.request("GET", f"/v2/instance/{gone}").status == 404, "instance gone")
    assert srv.request("GET", f"/v2/instance/{gone}").json() == {"message": "Instance not found"}
    assert [i["public-ip"] for i in exo_members(srv)] == ["127.0.2.1", "127.0.2.4"]
    st = srv.state()
    assert st["mutations"] == 3 and st["size"] == 2
    assert srv.request("GET", "/v2/operation/00000000-0000-4000-8000-000000000000").status == 404


def test_exoscale_evict_and_strictness(contract_server):
    srv = contract_server("exoscale", size=3, **FAST)
    ids = [i["id"] for i in exo_members(srv)]
    evict = POOL_PATH + ":evict"
    for body, why in (({"instances": [{"id": ids[0]}]}, "objects instead of strings"),
                      ({"instances": []}, "empty"),
                      ({"instances": ids[0]}, "not an array"),
                      ({"instances": ["not-a-uuid"]}, "not a UUID"),
                      ({"instances": ["00000000-0000-4000-8000-000000000000"]}, "not a member"),
                      ({"instances": [ids[0], ids[0]]}, "twice"),
                      ({"instances": [ids[0]], "size": 2}, "unknown field"),
                      ({}, "missing field")):
        r = srv.request("PUT", evict, body)
        assert r.status == 400 and r.json()["message"], why
    for body in ({"size": "2"}, {"size": 2.5}, {"size": True}, {"size": -1}, {"count": 2}, [2]):
        r = srv.request("PUT", POOL_PATH + ":scale", body)
        assert r.status == 400 and r.json()["message"], body
    r = srv.request("PUT", POOL_PATH + ":scale", {"size": 2}, content_type=None)
    assert r.status == 400 and "Content-Type" in r.json()["message"]
    r = srv.request("PUT", POOL_PATH + ":scale", {"size": 2}, content_type="text/plain")
    assert r.status == 400
    r = srv.request("PUT", POOL_PATH + ":scale", b"{size: 2}")
    assert r.status == 400
    assert srv.state()["mutations"] == 0
    # the documented body: the member goes, the size drops by one
    r = srv.request("PUT", evict, {"instances": [ids[1]]})
    assert r.status == 200 and r.json()["state"] == "pending"
    pool = exo_pool(srv)
    assert pool["size"] == 2 and pool["state"] == "scaling-down"
    assert [i["id"] for i in pool["instances"]] == [ids[0], ids[2]]
    assert by_id(srv.state())[ids[1]]["state"] == "destroying"
    r = srv.request("PUT", evict, {"instances": [ids[1]]})      # already destroying
    assert r.status == 400
    # routes, ids and query parameters
    assert srv.request("GET", POOL_PATH, query={"foo": "1"}).status == 400
    assert srv.request("GET", "/v2/instance", query={"manager-type": "sks-nodepool"}).status == 400
    assert srv.request("GET", "/v2/instance", query={"manager-id": "x"}).status == 400
    assert srv.request("GET", "/v2/instance", query={"labels": "a=b"}).status == 400
    assert srv.request("GET", "/v2/instance",
                       query=[("manager-id", POOL), ("manager-id", POOL)]).status == 400
    r = srv.request("GET", "/v2/instance", query={"manager-id": "00000000-0000-4000-8000-000000000000"})
    assert r.status == 200 and r.json() == {"instances": []}
    r = srv.request("GET", "/v2/instance-pool/00000000-0000-4000-8000-000000000000")
    assert (r.status, r.json()) == (404, {"message": "Instance Pool not found"})
    assert srv.request("GET", "/v2/instance-pool/nope").status == 400
    assert srv.request("GET", "/v2/zone").status == 404
    assert srv.request("POST", POOL_PATH + ":scale", {"size": 1}).status == 404
    assert srv.request("GET", POOL_PATH, b"{}").status == 400
    assert srv.state()["mutations"] == 1


def test_exoscale_faults_fire_exactly_count_times(contract_server):
    srv = contract_server("exoscale", size=1)
    srv.fault("status", status=429, count=2, match="instance-pool/")
    for _ in range(2):
        r = srv.request("GET", POOL_PATH)
        assert r.status == 429 and r.headers["retry-after"] == "1"
        assert r.json() == {"error": "Too Many Requests", "retry_after": 1}
    assert srv.request("GET", "/v2/instance", query=MEMBERS_QUERY).status == 200  # no match
    assert srv.request("GET", POOL_PATH).status == 200
    # a 500 before the scale: nothing happens; a bad signature does not consume it
    srv.fault("status", status=500, match=":scale")
    assert srv.request("PUT", POOL_PATH + ":scale", {"size": 2}, secret="x").status == 403
    r = srv.request("PUT", POOL_PATH + ":scale", {"size": 2})
    assert (r.status, r.json()) == (500, {"message": "Internal Server Error"})
    assert srv.state()["size"] == 1 and srv.state()["mutations"] == 0
    srv.fault("status", status=503)
    r = srv.request("GET", POOL_PATH)
    assert r.status == 503 and "retry-after" not in r.headers and r.json()["message"]
    # drop: no reply at all, once
    srv.fault("drop", count=1, match=":scale")
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        srv.request("PUT", POOL_PATH + ":scale", {"size": 2})
    assert srv.state()["size"] == 1
    # slow, once
    srv.fault("slow", delay_s=0.5, count=1)
    t0 = time.monotonic()
    assert srv.request("GET", POOL_PATH).status == 200
    assert time.monotonic() - t0 >= 0.5
    t0 = time.monotonic()
    assert srv.request("GET", POOL_PATH).status == 200
    assert time.monotonic() - t0 < 0.4
    # "after": the scale happens, the reply is lost
    srv.fault("drop", match=":scale", when="after")
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        srv.request("PUT", POOL_PATH + ":scale", {"size": 2})
    st = srv.state()
    assert st["size"] == 2 and st["mutations"] == 1 and st["faults"] == []
    assert [q["status"] for q in st["requests"]] == \
        [429, 429, 200, 200, 403, 500, 503, None, 200, 200, None]
    assert [q["fault"] for q in st["requests"]][-4:] == ["drop", "slow", None, "drop"]
    # admin input is checked; clear disarms
    assert http_request(srv.addr, "POST", "/_admin/fault", b'{"kind": "boom"}').status == 400
    srv.fault("status", status=500, count=5)
    srv.clear_faults()
    assert srv.request("GET", POOL_PATH).status == 200
    srv.reset_log()
    assert srv.requests() == []


# ---------------------------------------------------------------- aws

def groups(r):
    assert r.status == 200, r
    root = r.xml()
    assert root.tag == "DescribeAutoScalingGroupsResponse"
    assert root.find("ResponseMetadata/RequestId").text
    return root.find("DescribeAutoScalingGroupsResult/AutoScalingGroups")


def describe_group(srv, method="POST"):
    gs = groups(srv.request("DescribeAutoScalingGroups",
                            {"AutoScalingGroupNames.member.1": "web-asg"}, method=method))
    assert len(gs) == 1
    g = gs[0]
    insts = [{c.tag: c.text for c in m} for m in g.find("Instances")]
    return int(g.find("DesiredCapacity").text), insts


def describe_instances(srv, params=None, method="POST"):
    r = srv.request("DescribeInstances", params or {
        "Filter.1.Name": "tag:aws:autoscaling:groupName", "Filter.1.Value.1": "web-asg"},
        method=method)
    assert r.status == 200, r
    root = r.xml()
    assert root.tag == "DescribeInstancesResponse" and root.find("requestId").text
    out = []
    for inst in root.iterfind("reservationSet/item/instancesSet/item"):
        out.append({"id": inst.find("instanceId").text,
                    "code": int(inst.find("instanceState/code").text),
                    "state": inst.find("instanceState/name").text,
                    "ip": getattr(inst.find("privateIpAddress"), "text", None),
                    "public": getattr(inst.find("ipAddress"), "text", None),
                    "tag": inst.find("tagSet/item/value").text})
    return out


def test_aws_signed_requests_succeed(contract_server):
    srv = contract_server("aws", size=2, min=1, max=4, public_ip=True)
    for method in ("POST", "GET"):
        desired, insts = describe_group(srv, method)
        assert desired == 2 and len(insts) == 2
        for i in insts:
            assert i["InstanceId"].startswith("i-") and len(i["InstanceId"]) == 19
            assert (i["LifecycleState"], i["HealthStatus"], i["ProtectedFromScaleIn"]) == \
                ("InService", "Healthy", "false")
    g = groups(srv.request("DescribeAutoScalingGroups"))[0]
    for f in ("AutoScalingGroupName", "MinSize", "MaxSize", "DefaultCooldown", "HealthCheckType",
              "CreatedTime", "AvailabilityZones"):
        assert g.find(f) is not None, f
    assert (g.find("MinSize").text, g.find("MaxSize").text) == ("1", "4")
    # unknown group: an empty list, not an error; '+' in a query is a space
    for method in ("POST", "GET"):
        gs = groups(srv.request("DescribeAutoScalingGroups",
                                {"AutoScalingGroupNames.member.1": "no such group"}, method=method))
        assert len(gs) == 0
    ids = [i["InstanceId"] for i in describe_group(srv)[1]]
    for method in ("POST", "GET"):
        got = describe_instances(srv, method=method)
        assert [(i["id"], i["code"], i["state"], i["ip"], i["public"], i["tag"]) for i in got] == [
            (ids[0], 16, "running", "127.0.2.1", "203.0.113.1", "web-asg"),
            (ids[1], 16, "running", "127.0.2.2", "203.0.113.2", "web-asg")]
    got = describe_instances(srv, {"InstanceId.1": ids[1]})
    assert [i["id"] for i in got] == [ids[1]]
    got = describe_instances(srv, {"Filter.1.Name": "tag:aws:autoscaling:groupName",
                                   "Filter.1.Value.1": "other"})
    assert got == []
    assert all(q["auth"] == "ok" and q["status"] == 200 for q in srv.requests())


def test_aws_rejects_bad_signatures(contract_server):
    srv = contract_server("aws", size=1)
    r = srv.request("DescribeAutoScalingGroups", secret_key="wrong")
    assert r.status == 403 and xml_error(r)[0] == "SignatureDoesNotMatch"
    assert r.xml().tag == "ErrorResponse"
    r = srv.request("DescribeInstances", secret_key="wrong")
    assert r.status == 403 and xml_error(r)[0] == "SignatureDoesNotMatch"
    assert r.xml().tag == "Response"             # the ec2 shape
    r = srv.request("DescribeAutoScalingGroups", access_key="AKIDUNKNOWN")
    assert (r.status, xml_error(r)[0]) == (403, "InvalidClientTokenId")
    old = aws.amz_date_of(time.time() - 20 * 60)
    r = srv.request("DescribeAutoScalingGroups", amz_date=old)
    assert (r.status, xml_error(r)[0]) == (400, "RequestExpired")
    soon = aws.amz_date_of(time.time() + 20 * 60)
    assert xml_error(srv.request("DescribeAutoScalingGroups", amz_date=soon))[0] == "RequestExpired"
    r = srv.request("DescribeAutoScalingGroups", region="us-east-1")
    assert (r.status, xml_error(r)[0]) == (403, "SignatureDoesNotMatch")
    r = srv.request("DescribeAutoScalingGroups", signed=False)
    assert (r.status, xml_error(r)[0]) == (403, "MissingAuthenticationToken")
    r = srv.request("DescribeAutoScalingGroups", session_token="tok")   # none configured
    assert (r.status, xml_error(r)[0]) == (403, "InvalidClientTokenId")
    # the Host signed must be the Host received
    r = srv.request("DescribeAutoScalingGroups", host=ASG_HOST)
    assert r.status == 200   # what was signed is what was sent: fine
    body = b"Action=DescribeAutoScalingGroups&Version=2011-01-01"
    now = aws.amz_date_of(time.time())
    s = aws.sigv4_sign("POST", "/", [], {"Host": ASG_HOST, "Content-Type": FORM}, body, now,
                       "eu-west-1", "autoscaling", AK, SK)
    h = dict(s["headers"], Host=f"127.0.0.1:{srv.port}")
    r = http_request(srv.addr, "POST", "/", body, h)
    assert (r.status, xml_error(r)[0]) == (403, "SignatureDoesNotMatch")
    # host must be signed
    s = aws.sigv4_sign("POST", "/", [], {"Content-Type": FORM}, body, now, "eu-west-1",
                       "autoscaling", AK, SK)
    r = http_request(srv.addr, "POST", "/", body, s["headers"])
    assert (r.status, xml_error(r)[0]) == (400, "IncompleteSignature")
    # the body is signed
    s = aws.sigv4_sign("POST", "/", [], {"Host": f"127.0.0.1:{srv.port}", "Content-Type": FORM},
                       body, now, "eu-west-1", "autoscaling", AK, SK)
    r = http_request(srv.addr, "POST", "/", body + b"&MaxRecords=5", s["headers"])
    assert (r.status, xml_error(r)[0]) == (403, "SignatureDoesNotMatch")
    r = http_request(srv.addr, "POST", "/", body, s["headers"])
    assert r.status == 200
    st = srv.state()
    assert [q["auth"] for q in st["requests"]] == \
        ["bad"] * 6 + ["none", "bad", "ok", "bad", "bad", "bad", "ok"]


def test_aws_session_token_and_clock_offset(contract_server):
    srv = contract_server("aws", size=1, session_token="FwoGZXIvYXdzEXAMPLESESSIONTOKEN+/=",
                          clock_offset_s=3600)
    later = aws.amz_date_of(time.time() + 3600)
    assert srv.request("DescribeAutoScalingGroups", amz_date=later).status == 200
    r = srv.request("DescribeAutoScalingGroups")            # the server's clock is an hour ahead
    assert (r.status, xml_error(r)[0]) == (400, "RequestExpired")
    for tok in (None, "other"):
        r = srv.request("DescribeAutoScalingGroups", amz_date=later, session_token=tok)
        assert (r.status, xml_error(r)[0]) == (403, "InvalidClientTokenId"), tok
    r = srv.request("DescribeAutoScalingGroups", amz_date=later, session_token=None,
                    unsigned_headers={"X-Amz-Security-Token": "FwoGZXIvYXdzEXAMPLESESSIONTOKEN+/="})
    assert (r.status, xml_error(r)[0]) == (403, "InvalidClientTokenId")   # not signed


def test_aws_scaling_and_states_over_time(contract_server):
    srv = contract_server("aws", size=1, min=1, max=4, **FAST)
    r = srv.request("SetDesiredCapacity", {"AutoScalingGroupName": "web-asg", "DesiredCapacity": 5})
    assert (r.status, xml_error(r)) == (400, (
        "ValidationError", "New SetDesiredCapacity value 5 is above max value 4 for the AutoScalingGroup."))
    r = srv.request("SetDesiredCapacity", {"AutoScalingGroupName": "web-asg", "DesiredCapacity": 0})
    assert (r.status, xml_error(r)) == (400, (
        "ValidationError", "New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup."))
    r = srv.request("SetDesiredCapacity", {"AutoScalingGroupName": "nope", "DesiredCapacity": 2})
    assert (r.status, xml_error(r)[0]) == (400, "ValidationError")
    r = srv.request("SetDesiredCapacity", {"AutoScalingGroupName": "web-asg", "DesiredCapacity": 3,
                                           "HonorCooldown": "false"})
    assert r.status == 200
    root = r.xml()
    assert root.tag == "SetDesiredCapacityResponse" and root.find("ResponseMetadata/RequestId").text
    desired, insts = describe_group(srv)
    assert desired == 3 and [i["LifecycleState"] for i in insts] == ["InService", "Pending", "Pending"]
    ec2 = describe_instances(srv)
    assert [(i["code"], i["state"]) for i in ec2] == [(16, "running"), (0, "pending"), (0, "pending")]
    assert [i["ip"] for i in ec2] == ["127.0.2.1", "127.0.2.2", "127.0.2.3"]
    assert all(i["public"] is None for i in ec2)     # no --public-ip
    wait_until(lambda: all(i["LifecycleState"] == "InService" for i in describe_group(srv)[1]),
               "3 InService")
    ids = [i["InstanceId"] for i in insts]
    # terminate with decrement: Terminating, then gone; EC2 shows it terminated
    r = srv.request("TerminateInstanceInAutoScalingGroup",
                    {"InstanceId": ids[0], "ShouldDecrementDesiredCapacity": "true"})
    assert r.status == 200
    act = r.xml().find("TerminateInstanceInAutoScalingGroupResult/Activity")
    assert act.find("StatusCode").text == "InProgress" and act.find("ActivityId").text
    assert ids[0] in act.find("Description").text and "from 3 to 2" in act.find("Cause").text
    desired, insts = describe_group(srv)
    assert desired == 2 and insts[0]["LifecycleState"] == "Terminating"
    assert describe_instances(srv, {"InstanceId.1": ids[0]})[0]["code"] == 32
    r = srv.request("TerminateInstanceInAutoScalingGroup",
                    {"InstanceId": ids[0], "ShouldDecrementDesiredCapacity": "true"})
    assert (r.status, xml_error(r)[0]) == (400, "ValidationError")      # already terminating
    wait_until(lambda: len(describe_group(srv)[1]) == 2, "terminated instance gone from the group")
    gone = describe_instances(srv, {"InstanceId.1": ids[0]})[0]
    assert (gone["code"], gone["state"], gone["ip"]) == (48, "terminated", None)
    # without decrement: a replacement is launched
    r = srv.request("TerminateInstanceInAutoScalingGroup",
                    {"InstanceId": ids[1], "ShouldDecrementDesiredCapacity": "false"})
    assert r.status == 200
    desired, insts = describe_group(srv)
    assert desired == 2
    assert [i["LifecycleState"] for i in insts] == ["Terminating", "InService", "Pending"]
    r = srv.request("TerminateInstanceInAutoScalingGroup",
                    {"InstanceId": "i-0123456789abcdef0", "ShouldDecrementDesiredCapacity": "true"})
    assert (r.status, xml_error(r)) == (400, (
        "ValidationError",
        "Instance Id not found - No managed instance found for instance ID: i-0123456789abcdef0"))
    # scale-down takes the newest
    assert srv.request("SetDesiredCapacity",
                       {"AutoScalingGroupName": "web-asg", "DesiredCapacity": 1}).status == 200
    st = srv.state()
    newest = max((m for m in st["members"]), key=lambda m: m["name"])
    assert newest["state"] == "Terminating" and by_id(st)[ids[2]]["state"] == "InService"
    r = srv.request("TerminateInstanceInAutoScalingGroup",
                    {"InstanceId": ids[2], "ShouldDecrementDesiredCapacity": "true"})
    assert (r.status, xml_error(r)[0]) == (400, "ValidationError")      # would go below min
    r = srv.request("DescribeInstances", {"InstanceId.1": "i-0123456789abcdef0"})
    assert r.status == 400 and r.xml().tag == "Response"
    assert xml_error(r) == ("InvalidInstanceID.NotFound",
                            "The instance ID 'i-0123456789abcdef0' does not exist")
    assert srv.state()["mutations"] == 4


def test_aws_strictness(contract_server):
    srv = contract_server("aws", size=1)
    group = {"AutoScalingGroupName": "web-asg"}
    cases = [
        (dict(action="DescribeInstances", service="autoscaling"), 400, "InvalidAction"),
        (dict(action="DescribeAutoScalingGroups", service="ec2"), 400, "InvalidAction"),
        (dict(action="DeleteAutoScalingGroup"), 400, "InvalidAction"),
        (dict(action=None), 400, "MissingAction"),
        (dict(action="DescribeAutoScalingGroups", version="2010-08-01"), 400, "InvalidAction"),
        (dict(action="DescribeAutoScalingGroups", version=False), 400, "MissingParameter"),
        (dict(action="DescribeAutoScalingGroups", params={"Foo": "1"}), 400, "ValidationError"),
        (dict(action="DescribeAutoScalingGroups",
              params={"AutoScalingGroupNames.member.0": "web-asg"}), 400, "ValidationError"),
        (dict(action="DescribeAutoScalingGroups", params={"NextToken": "x"}), 400, "InvalidNextToken"),
        (dict(action="DescribeAutoScalingGroups", content_type="application/json"), 400,
         "ValidationError"),
        (dict(action="SetDesiredCapacity", params=group), 400, "ValidationError"),
        (dict(action="SetDesiredCapacity", params=dict(group, DesiredCapacity="two")), 400,
         "ValidationError"),
        (dict(action="SetDesiredCapacity", params=dict(group, DesiredCapacity=1,
                                                       HonorCooldown="False")), 400,
         "ValidationError"),
        (dict(action="TerminateInstanceInAutoScalingGroup", params={"InstanceId": "i-0123456789abcdef0"}),
         400, "ValidationError"),
        (dict(action="DescribeInstances", params={"InstanceIds.1": "i-0123456789abcdef0"}), 400,
         "UnknownParameter"),
        (dict(action="DescribeInstances", params={"InstanceId.1": "i-xyz"}), 400,
         "InvalidInstanceID.Malformed"),
        (dict(action="DescribeInstances", params={"Filter.1.Name": "tag:Name",
                                                  "Filter.1.Value.1": "x"}), 400,
         "InvalidParameterValue"),
        (dict(action="DescribeInstances", params={"DryRun": "true"}), 412, "DryRunOperation"),
    ]
    for kw, status, code in cases:
        action = kw.pop("action")
        r = srv.request(action, kw.pop("params", None), **kw)
        assert (r.status, xml_error(r)[0]) == (status, code), (action, kw, r)
    # the form without charset is fine; shapes follow the service
    r = srv.request("DescribeAutoScalingGroups", content_type="application/x-www-form-urlencoded")
    assert r.status == 200
    r = srv.request("DescribeInstances", {"Foo": "1"})
    assert r.xml().tag == "Response" and xml_error(r)[1] == "The parameter Foo is not recognized"
    assert srv.state()["mutations"] == 0


def test_aws_faults(contract_server):
    srv = contract_server("aws", size=1)
    srv.fault("status", status=500, count=1, match="SetDesiredCapacity")
    assert describe_group(srv)[0] == 1     # not matched
    r = srv.request("SetDesiredCapacity", {"AutoScalingGroupName": "web-asg", "DesiredCapacity": 2})
    assert (r.status, xml_error(r)[0]) == (500, "InternalFailure")
    assert r.xml().find("Error/Type").text == "Receiver"
    assert srv.state()["mutations"] == 0 and describe_group(srv)[0] == 1
    r = srv.request("SetDesiredCapacity", {"AutoScalingGroupName": "web-asg", "DesiredCapacity": 2})
    assert r.status == 200
    srv.fault("status", status=429, count=2, match="DescribeInstances")
    for _ in range(2):
        r = srv.request("DescribeInstances")
        assert (r.status, xml_error(r)[0]) == (429, "RequestLimitExceeded")
        assert r.xml().tag == "Response"
    assert srv.request("DescribeInstances").status == 200
    srv.fault("status", status=400, code="Throttling", message="Rate exceeded")
    r = srv.request("DescribeAutoScalingGroups")
    assert (r.status, xml_error(r)) == (400, ("Throttling", "Rate exceeded"))
    srv.fault("drop", count=1, match="Describe")
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        srv.request("DescribeAutoScalingGroups")
    assert srv.request("DescribeAutoScalingGroups").status == 200
    st = srv.state()
    assert st["mutations"] == 1 and st["faults"] == []


def test_aws_throttling_modes(contract_server):
    srv = contract_server("aws", size=1)
    # Every 3rd matching request is throttled the way each service does it.
    srv.fault("status", status=400, every=3, count=1000)
    got = []
    for i in range(9):
        action = "DescribeInstances" if i % 2 else "DescribeAutoScalingGroups"
        r = srv.request(action)
        got.append(r.status if r.status == 200 else (r.status, xml_error(r)[0]))
    assert got == [200, 200, (400, "Throttling"), 200, 200, (400, "RequestLimitExceeded"),
                   200, 200, (400, "Throttling")], got
    assert srv.state()["faults"][0]["remaining"] == 997
    srv.clear_faults()
    # A token bucket: a burst of 2 passes, the rest is throttled until it refills.
    srv.fault("status", status=400, rate=0.2, burst=2, count=1000, match="Describe")
    assert [srv.request("DescribeAutoScalingGroups").status for _ in range(4)] == \
        [200, 200, 400, 400]
    wait_until(lambda: srv.request("DescribeAutoScalingGroups").status == 200,
               "a token after the refill", 20, every=0.5)
    srv.clear_faults()
    for bad in ({"every": 0}, {"every": 2, "rate": 1}, {"rate": -1}, {"rate": 1, "burst": 0},
                {"burst": 2}):
        r = http_request(srv.addr, "POST", "/_admin/fault",
                         json.dumps({"kind": "status", "status": 400, **bad}).encode())
        assert r.status == 400, (bad, r)


def test_aws_group_bounds(contract_server):
    srv = contract_server("aws", size=2, min=2, max=4, boot_s=0.1, terminate_s=0.1)
    g = groups(srv.request("DescribeAutoScalingGroups"))[0]
    assert (g.find("MinSize").text, g.find("MaxSize").text) == ("2", "4")
    # Terminating with decrement at MinSize is refused, without it the
    # group launches a replacement.
    victim = srv.members()[0]["id"]
    r = srv.request("TerminateInstanceInAutoScalingGroup",
                    {"InstanceId": victim, "ShouldDecrementDesiredCapacity": "true"})
    assert (r.status, xml_error(r)[0]) == (400, "ValidationError")
    assert "min size constraint" in xml_error(r)[1]
    r = srv.request("SetDesiredCapacity", {"AutoScalingGroupName": "web-asg", "DesiredCapacity": 5})
    assert r.status == 400 and "above max value 4" in xml_error(r)[1]
    # Lowering MaxSize below the size shrinks the group, as AWS does.
    assert srv.set_group(max=1, min=1) == {"ok": True, "min": 1, "max": 1, "size": 1}
    assert srv.state()["size"] == 1
    g = groups(srv.request("DescribeAutoScalingGroups"))[0]
    assert (g.find("MinSize").text, g.find("MaxSize").text, g.find("DesiredCapacity").text) == \
        ("1", "1", "1")
    assert srv.set_group(min=3, max=5)["size"] == 3
    for bad in ({"min": 6}, {"max": -1}, {"size": 2}, {}):
        r = http_request(srv.addr, "POST", "/_admin/group", json.dumps(bad).encode())
        assert r.status == 400, (bad, r)


# ---------------------------------------------------------------- spawn

def test_spawned_member_processes(contract_server, tmp_path):
    argv = [PYTHON, "-c", "import time; time.sleep(120)", "{address}", "{id}"]
    srv = contract_server("exoscale", size=1, spawn=argv, boot_s=0.2, terminate_s=0.2,
                          address_base="127.0.9.1")
    first = srv.members()[0]
    assert first["alive"] and live(first["pid"])
    with open(f"/proc/{first['pid']}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[3:5] == [b"127.0.9.1", first["id"].encode()]
    assert os.getpgid(first["pid"]) == first["pid"]      # its own process group
    assert srv.request("PUT", POOL_PATH + ":scale", {"size": 2}).status == 200
    second = [m for m in srv.members() if m["id"] != first["id"]][0]
    assert second["address"] == "127.0.9.2" and live(second["pid"])
    assert srv.request("PUT", POOL_PATH + ":scale", {"size": 1}).status == 200
    wait_until(lambda: not live(second["pid"]), "removed member's process gone")
    # a member dying: the process goes, the member stays
    assert srv.kill_member(first["id"]) == {"ok": True, "killed": True}
    wait_until(lambda: not live(first["pid"]), "killed process gone")
    st = srv.wait(lambda s: [m["id"] for m in s["members"]] == [first["id"]], "one member left")
    assert st["members"][0]["state"] == "running" and not st["members"][0]["alive"]
    assert http_request(srv.addr, "POST", "/_admin/members", b'{"kill": "nope"}').status == 404
    # SIGTERM: exit 0, every spawned process gone
    assert srv.request("PUT", POOL_PATH + ":scale", {"size": 3}).status == 200
    pids = [m["pid"] for m in srv.members() if m["alive"]]
    assert len(pids) == 2 and all(live(p) for p in pids)
    assert srv.stop() == 0
    assert not any(live(p) for p in pids)
    assert os.listdir(tmp_path / f"{srv.name}-members")
