"""A headless chromium driven over the Chrome DevTools Protocol, for the web page's
tests. Test-only; needs Debian's `chromium` and `python3-websocket`, nothing from pip.

    with Browser() as b:
        b.goto("http://127.0.0.1:8080/")
        b.wait_for("document.querySelectorAll('#members tr').length > 1", 10, "rows")
        b.screenshot("page.png")
        assert not b.page_errors()

Every wait is on a condition with a deadline. Exceptions thrown by the page, console
errors and failed loads are collected (page_errors) as they arrive.
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket  # Debian: python3-websocket


class CdpError(Exception):
    pass


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    def __init__(self, width=1280, height=1700, timeout=30.0):
        exe = find_chromium()
        if not exe:
            raise CdpError("chromium not found (scripts/install-deps.sh installs it)")
        self.profile = tempfile.mkdtemp(prefix="agora-cdp.")
        args = [exe, "--headless=new", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "--mute-audio",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                "--user-data-dir=" + self.profile, f"--window-size={width},{height}",
                "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # chromium's sandbox refuses to run as root
        self.log_path = os.path.join(self.profile, "chromium.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        self.ws = None
        self._next_id = 0
        self._events = []
        self.errors = []
        try:
            port = self._devtools_port(timeout)
            self.ws = websocket.create_connection(self._page_ws(port, timeout),
                                                  timeout=timeout, suppress_origin=True)
            for domain in ("Page", "Runtime", "Log"):
                self.call(domain + ".enable")
        except BaseException:
            self.close()
            raise

    # ---- start-up ----
    def _devtools_port(self, timeout):
        # chromium writes the port it chose into DevToolsActivePort when it listens
        path = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CdpError(f"chromium exited with status {self.proc.returncode}: "
                               + self.chromium_log()[-2000:])
            try:
                with open(path) as f:
                    first = f.readline().strip()
                if first.isdigit():
                    return int(first)
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        raise CdpError("chromium did not open its DevTools port within %.0f s" % timeout)

    def _page_ws(self, port, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                targets = json.load(r)
            for t in targets:
                if t.get("type") == "page" and t.get("webSocketDebuggerUrl"):
                    return t["webSocketDebuggerUrl"]
            time.sleep(0.05)
        raise CdpError("chromium has no page target")

    def chromium_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # ---- protocol ----
    def _note(self, msg):
        method = msg.get("method")
        p = msg.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            text = d.get("exception", {}).get("description") or d.get("text", "")
            self.errors.append({"kind": "exception", "text": text, "url": d.get("url", "")})
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.errors.append({"kind": "console." + p["type"], "text": text, "url": ""})
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            self.errors.append({"kind": "log." + e.get("source", ""), "text": e.get("text", ""),
                                "url": e.get("url", "")})
        self._events.append(msg)
        del self._events[:-1000]

    def call(self, method, timeout=30.0, **params):
        self._next_id += 1
        my_id = self._next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpError(f"{method}: no answer within {timeout:.0f} s")
            self.ws.settimeout(left)
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise CdpError(f"{method}: {msg['error'].get('message')}")
                return msg.get("result", {})
            if "method" in msg:
                self._note(msg)

    def evaluate(self, expression, timeout=30.0):
        """The value of a JavaScript expression (promises awaited), as JSON data."""
        r = self.call("Runtime.evaluate", timeout=timeout, expression=expression,
                      returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CdpError("evaluate: " + (d.get("exception", {}).get("description") or d.get("text", "")))
        return r.get("result", {}).get("value")

    def wait_for(self, expression, timeout, what):
        """Until the expression is truthy; returns its value. Raises CdpError naming
        `what` and the last value at the deadline."""
        # Deadlines, not delays: tripled so that sanitizer builds (several times
        # slower, ThreadSanitizer most) meet them too; a pass returns at once.
        timeout *= 3
        deadline = time.monotonic() + timeout
        value = None
        while True:
            value = self.evaluate(expression)
            if value not in (None, False, 0, ""):  # JavaScript's truth: {} and [] count
                return value
            if time.monotonic() >= deadline:
                raise CdpError(f"timed out after {timeout:.0f} s waiting for {what} "
                               f"(last value: {value!r})")
            time.sleep(0.05)

    def goto(self, url, timeout=30.0):
        r = self.call("Page.navigate", url=url)
        if r.get("errorText"):
            raise CdpError(f"navigate to {url}: {r['errorText']}")
        self.wait_for("document.readyState === 'complete'", timeout, "the page to load")

    def screenshot(self, path):
        r = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
        return path

    def page_errors(self, allow=None):
        """Errors seen so far, less those allow(error) accepts."""
        return [e for e in self.errors if not (allow and allow(e))]

    # ---- end ----
    def close(self):
        if self.ws is not None:
            try:
                self.ws.send(json.dumps({"id": 0, "method": "Browser.close"}))
            except Exception:
                pass
            self.ws.close()
            self.ws = None
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
