"""A request whose head fills the first 4 KiB read and whose body comes in a
later read, sent to every HTTP port poolscale serves (app, app metrics, lb
metrics, controller API). The server grows its input buffer under the parsed
head: it must answer the request it was sent (under ASan, a stale view into
the old buffer aborts the process; in a release build it misrouted)."""
import json
import socket

from conftest import Conn, wait_until
from test_lb import lb  # noqa: F401 (fixture)

HEAD_FILL = 4096


def server_has_read_all(sock):
    """True once the server's side of sock has nothing left unread: its
    receive queue in /proc/net/tcp is empty. A condition, not a sleep."""
    lhost, lport = sock.getsockname()
    rhost, rport = sock.getpeername()

    def hexaddr(host, port):
        a = socket.inet_aton(host)
        return "%08X:%04X" % (int.from_bytes(a, "little"), port)
    server_local, server_remote = hexaddr(rhost, rport), hexaddr(lhost, lport)
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == server_local and fields[2] == server_remote:
                rx = int(fields[4].split(":")[1], 16)
                return rx == 0
    return False


def padded_head(method, path, body, ctype):
    start = (f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
             f"Content-Length: {len(body)}\r\nX-Pad: ").encode()
    head = start + b"p" * (HEAD_FILL - len(start) - 4) + b"\r\n\r\n"
    assert len(head) == HEAD_FILL
    return head


def send_request(addr, method, path, body, ctype="application/octet-stream", split=True):
    """Sends a head padded to exactly HEAD_FILL bytes and its body: with
    split, waits until the server read the head before sending the body.
    Returns the response."""
    head = padded_head(method, path, body, ctype)
    c = Conn(addr)
    try:
        if split:
            c.send(head)
            wait_until(lambda: server_has_read_all(c.s), "the server reading the head",
                       timeout=10)
            c.send(body)
        else:
            c.send(head + body)
        return c.read()
    finally:
        c.close()


def send_pipelined(addr, method, path, body, ctype="application/octet-stream"):
    """A small GET, then the request, then (once the server read both heads)
    the body, sized so that the buffer fills and is compacted (the GET's
    bytes dropped) but not reallocated: stale views then read shifted bytes
    in any build, not only under ASan. Returns the second response."""
    head = (f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    spare = 100                          # body bytes that fit before the buffer fills
    first_len = HEAD_FILL - len(body) + spare - len(head)
    start = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: "
    assert first_len - len(start) - 4 >= 0 and first_len > spare
    first = start + b"p" * (first_len - len(start) - 4) + b"\r\n\r\n"
    c = Conn(addr)
    try:
        c.send(first + head)
        wait_until(lambda: server_has_read_all(c.s), "the server reading the heads",
                   timeout=10)
        c.send(body)
        c.read()
        return c.read()
    finally:
        c.close()


def same_answer_split_or_whole(addr, method, path, body, ctype="application/octet-stream"):
    whole = send_request(addr, method, path, body, ctype, split=False)
    split = send_request(addr, method, path, body, ctype, split=True)
    assert split.status == whole.status, (split.body, whole.body)
    piped = send_pipelined(addr, method, path, body, ctype)
    assert piped.status == whole.status, (piped.body, whole.body)
    return split


def alert_body(min_size):
    """An Alertmanager webhook (version 4, the shape of the reference
    payload), padded past the 4 KiB buffer. Inline, so the test needs no
    shared/ beside the clone."""
    labels = {"alertname": "PoolCPUHigh", "pool": "web", "poolscale_action": "up",
              "severity": "scaling"}
    doc = {"receiver": "poolscale", "status": "firing", "version": "4",
           "groupKey": '{}:{alertname="PoolCPUHigh", pool="web"}', "truncatedAlerts": 0,
           "alerts": [{"status": "firing", "labels": labels, "annotations": {},
                       "startsAt": "2026-01-01T10:00:00Z",
                       "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "3b0dcf7dcacc0b4a"}],
           "groupLabels": {"alertname": "PoolCPUHigh", "pool": "web"},
           "commonLabels": labels, "commonAnnotations": {},
           "externalURL": "http://127.0.0.1:19093", "padding": "x" * min_size}
    return json.dumps(doc).encode()


def test_app_serves_a_body_that_arrives_after_a_full_head(start_app):
    a = start_app()
    r = same_answer_split_or_whole(a.addr, "GET", "/load?ms=1", b"b" * 3000)
    assert r.status == 200, r.body
    r = same_answer_split_or_whole(a.maddr, "GET", "/metrics", b"b" * 3000)
    assert r.status == 200 and b"poolscale_app" in r.body, r.body


def test_lb_metrics_port_survives_a_split_request(lb):
    balancer = lb("--target", "127.0.0.1:9")
    r = same_answer_split_or_whole(balancer.maddr, "GET", "/metrics", b"b" * 3000)
    assert r.status == 200 and b"poolscale_lb" in r.body, r.body


def test_controller_webhook_split_across_reads_is_accepted(pool):
    c = pool()
    host, port = c.api[len("http://"):].rsplit(":", 1)
    r = same_answer_split_or_whole((host, int(port)), "POST", "/api/v1/alerts",
                                   alert_body(1000), "application/json")
    assert r.status == 202, r.body
    assert json.loads(r.body)["source"] == "alertmanager"
