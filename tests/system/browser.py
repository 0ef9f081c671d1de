"""Debian's headless Chromium driven over the DevTools protocol with the
standard library only: a minimal WebSocket client (RFC 6455: text frames,
masked from the client, fragments, ping) and a CDP session that records the
page's console errors, uncaught exceptions and request URLs.

Chromium runs with a fresh --user-data-dir (its DevToolsActivePort file
gives the port it took: --remote-debugging-port=0) and is stopped by pid."""
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import urllib.request

from conftest import wait_until

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WebSocket:
    def __init__(self, url, timeout=10.0):
        assert url.startswith("ws://"), url
        hostport, path = url[5:].split("/", 1)
        host, port = hostport.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.s.recv(4096)
            assert chunk, f"closed during the handshake: {head!r}"
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].split(" ")[1] == "101", lines[0]
        want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        accept = [v.split(":", 1)[1].strip() for v in lines[1:]
                  if v.lower().startswith("sec-websocket-accept:")]
        assert accept == [want], (accept, want)
        self.s.settimeout(None)
        self.lock = threading.Lock()

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        with self.lock:
            self.s.sendall(head + mask + body)

    def send(self, text):
        self._send_frame(0x1, text.encode())

    def recv(self):
        """The next whole text message; answers pings; None on close."""
        parts = []
        while True:
            b0, b1 = self._read(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                return None
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode in (0x0, 0x1, 0x2):
                parts.append(payload)
                if b0 & 0x80:
                    return b"".join(parts).decode()

    def close(self):
        try:
            self._send_frame(0x8, b"")
        except OSError:
            pass
        self.s.close()


def chromium_path():
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    assert os.path.exists(exe), "chromium is missing: run scripts/deps"
    return exe


class Browser:
    """One headless Chromium with one page, driven over CDP."""

    def __init__(self, tmp_path, width=1100, height=900, timeout=30.0):
        self.profile = tmp_path / "chromium-profile"
        self.profile.mkdir()
        self.log = open(tmp_path / "chromium.log", "wb")
        args = [chromium_path(), "--headless", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
                f"--window-size={width},{height}",
                # nothing but the page under test talks to the network
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--disable-extensions",
                "--disable-domain-reliability", "--no-pings", "--mute-audio",
                "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium's sandbox refuses root
        # its own process group: the renderers and helpers go with it
        self.p = subprocess.Popen(args, stdout=self.log, stderr=self.log,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
        self.responses, self.events = {}, []
        self.cond = threading.Condition()
        self.next_id = 0
        self.ws = None
        try:
            port_file = self.profile / "DevToolsActivePort"

            def port():
                assert self.p.poll() is None, f"chromium exited {self.p.returncode}"
                try:
                    lines = port_file.read_text().split("\n")
                except OSError:
                    return None
                return int(lines[0]) if len(lines) >= 2 and lines[0].isdigit() else None
            self.port = wait_until(port, "chromium's DevToolsActivePort", timeout=timeout,
                                   every=0.05)

            def page_ws():
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list",
                                            timeout=5) as r:
                    targets = json.loads(r.read())
                pages = [t for t in targets if t.get("type") == "page"]
                return pages[0]["webSocketDebuggerUrl"] if pages else None
            self.ws = WebSocket(wait_until(page_ws, "a page target", timeout=timeout))
            self.reader = threading.Thread(target=self._read_loop, daemon=True)
            self.reader.start()
            for domain in ("Runtime", "Log", "Page", "Network"):
                self.call(f"{domain}.enable")
        except BaseException:
            self.close()
            raise

    def _read_loop(self):
        while True:
            try:
                text = self.ws.recv()
            except (OSError, ConnectionError):
                text = None
            with self.cond:
                if text is None:
                    self.responses[None] = True
                    self.cond.notify_all()
                    return
                msg = json.loads(text)
                if "id" in msg:
                    self.responses[msg["id"]] = msg
                else:
                    self.events.append(msg)
                self.cond.notify_all()

    def call(self, method, params=None, timeout=30.0):
        with self.cond:
            self.next_id += 1
            mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params or {}}))
        with self.cond:
            ok = self.cond.wait_for(lambda: mid in self.responses or None in self.responses,
                                    timeout)
            assert ok and mid in self.responses, f"no answer to {method} in {timeout}s"
            msg = self.responses.pop(mid)
        assert "error" not in msg, (method, msg["error"])
        return msg["result"]

    def navigate(self, url, timeout=30.0):
        """Opens url and waits until its document has loaded."""
        r = self.call("Page.navigate", {"url": url})
        assert "errorText" not in r, r
        wait_until(lambda: self.eval(f"location.href === {json.dumps(url)} && "
                                     "document.readyState === 'complete'"),
                   f"{url} loaded", timeout=timeout, every=0.05)

    def eval(self, expr):
        """The value of a JavaScript expression in the page (JSON-able)."""
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True})
        assert "exceptionDetails" not in r, r["exceptionDetails"]
        return r["result"].get("value")

    def type_text(self, selector, text):
        """Focuses the element and types text into it, then presses Enter."""
        self.eval(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", {"text": text})
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter",
                                                 "windowsVirtualKeyCode": 13, "text": "\r"})

    def set_viewport(self, width, height, mobile=False):
        self.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def screenshot(self, path):
        r = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def problems(self, allow=lambda e: False):
        """Console errors, uncaught exceptions and error log entries so far,
        as text, less those allow() accepts (it gets the CDP event)."""
        out = []
        with self.cond:
            events = list(self.events)
        for e in events:
            m, p = e["method"], e.get("params", {})
            if allow(e):
                continue
            if m == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append("exception: " + d.get("exception", {}).get("description",
                                                                       d.get("text", "")))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.error: " + " ".join(
                    str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(f"log ({p['entry'].get('source')}): {p['entry'].get('text')} "
                           f"{p['entry'].get('url', '')}")
        return out

    def request_urls(self):
        with self.cond:
            return [e["params"]["request"]["url"] for e in self.events
                    if e["method"] == "Network.requestWillBeSent"]

    def close(self):
        if self.ws is not None:
            self.ws.close()
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.p.wait()
        self.log.close()
