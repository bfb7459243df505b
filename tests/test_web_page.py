#!/usr/bin/env python3
"""test_web_page.py AGORA_BIN OUT_DIR — the operator's web page in a real headless
chromium (tests/support/cdp.py) against a live 3-node PeerToPeer cluster on loopback:

  node 1  agora serve --http 127.0.0.1:PORT   (the page and its API)
  node 2  agora publish, reading JSON lines from this script
  node 3  agora serve                         (SIGKILLed half-way)

Checks: GET /, /app.css, /app.js with their types and ETags (304 when unchanged), an
unknown page a 404 JSON error; the page shows the 3 members alive; an event published on node 2 appears in the
live tail (and the tail's type filter keeps it or hides it); after SIGKILL of node 3 its
row turns failed; the coordinator panel shows @type, the fields with their defaults and
the secret masked (the secret appears nowhere in the page); a broken configuration typed
into the form shows the field's error next to its path, a good one "valid"; on a node
with an httpToken (node 5) the page asks for the token, refuses a wrong one, then works
with the right one, which it shows nowhere; the page threw no JavaScript error and
logged no console error. Saves OUT_DIR/web_page.png.
Every wait is on a condition with a deadline.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "support"))
from cdp import Browser, CdpError  # noqa: E402

AGORA = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AGORA_BIN", "build/agora")
OUT = sys.argv[2] if len(sys.argv) > 2 else os.getcwd()
SECRET = "web-test-" + os.urandom(8).hex()
TOKEN = "web-token-" + os.urandom(8).hex()

checks = 0
fails = 0


def check(what, ok, detail=""):
    global checks, fails
    checks += 1
    print(("ok   " if ok else "FAIL ") + what + ("" if ok or not detail else "\n     " + detail))
    if not ok:
        fails += 1
    sys.stdout.flush()


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def node_file(work, node, listen, peers, token=None):
    cfg = {"nodeId": node, "codec": "agora", "heartbeatInterval": "250ms",
           "failureTimeout": "1500ms",
           "coordinator": {"@type": "PeerToPeer", "listen": f"127.0.0.1:{listen}",
                           "peers": [f"127.0.0.1:{p}" for p in peers], "secret": SECRET}}
    if token:
        cfg["httpToken"] = token
    path = os.path.join(work, f"node{node}.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


def wait_until(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def http_json(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return json.load(r)
    except (OSError, ValueError):
        return None


def fetch(url, headers=None):
    """(status, headers, body) of a GET, 4xx/5xx included."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def check_static(base):
    types = {"": "text/html", "app.css": "text/css", "app.js": "text/javascript"}
    for name, want in types.items():
        status, headers, body = fetch(base + name)
        check(f"GET /{name} is {want} with an ETag",
              status == 200 and headers.get("Content-Type", "").startswith(want) and
              headers.get("ETag") and len(body) > 100, f"{status} {dict(headers)}")
        status, _, body = fetch(base + name, {"If-None-Match": headers.get("ETag", "")})
        check(f"GET /{name} with its ETag: 304, no body", status == 304 and not body, str(status))
    status, headers, body = fetch(base + "no-such-page.html")
    try:
        err = json.loads(body).get("error", "")
    except ValueError:
        err = ""
    check("an unknown page is a 404 JSON error",
          status == 404 and headers.get("Content-Type", "").startswith("application/json") and err,
          f"{status} {body[:200]!r}")


def js(s):
    """A Python string as a JavaScript string literal."""
    return json.dumps(s)


def main():
    work = tempfile.mkdtemp(prefix="agora-web.")
    p1, p2, p3, ph, p5, ph5 = free_ports(6)
    n1 = node_file(work, 1, p1, [p2, p3])
    n2 = node_file(work, 2, p2, [p1, p3])
    n3 = node_file(work, 3, p3, [p1, p2])
    procs = {}
    logs = {}

    def start(name, args, stdin=subprocess.DEVNULL):
        logs[name] = open(os.path.join(work, name + ".log"), "wb")
        procs[name] = subprocess.Popen([AGORA] + args, stdin=stdin, stdout=logs[name],
                                       stderr=subprocess.STDOUT)
        return procs[name]

    base = f"http://127.0.0.1:{ph}/"
    browser = None
    try:
        start("node1", ["serve", "--config", n1, "--http", f"127.0.0.1:{ph}"])
        start("node3", ["serve", "--config", n3])
        pub = start("node2", ["publish", "--config", n2], stdin=subprocess.PIPE)

        def all_alive():
            v = http_json(base + "api/members")
            return v and sorted(m["node"] for m in v.get("members", [])
                                if m.get("state") == "alive") == [1, 2, 3]
        wait_until(all_alive, 20, "the API to list nodes 1, 2, 3 alive")

        check_static(base)

        browser = Browser()
        browser.goto(base)
        check("the page loads from the node (index.html, app.css, app.js)",
              browser.evaluate("document.title === 'agora' && "
                               "getComputedStyle(document.body).margin === '0px' && "
                               "document.querySelector('#members tbody') !== null"))

        alive_rows = ("[1,2,3].every(n => { const td = document.querySelector("
                      "`#members tr[data-node=\"${n}\"] td.state`); "
                      "return td && td.dataset.state === 'alive' && td.textContent === 'alive'; })")
        try:
            browser.wait_for(alive_rows, 15, "members 1, 2, 3 alive")
            check("the members table shows nodes 1, 2, 3 alive", True)
        except CdpError as e:
            check("the members table shows nodes 1, 2, 3 alive", False, str(e))
        check("node 1's row is marked as this node, with its address",
              browser.evaluate("(() => { const tr = document.querySelector('#members tr[data-node=\"1\"]');"
                               f" return tr.classList.contains('self') && tr.querySelector('td.address').textContent === '127.0.0.1:{p1}'; }})()"))
        check("the summary names the node and its backend",
              browser.evaluate("document.getElementById('summary-node').textContent === '1' && "
                               "document.getElementById('summary-backend').textContent.startsWith('PeerToPeer')"))

        # ---- the live tail ----
        browser.wait_for("document.getElementById('tail-status').dataset.state === 'live'", 10,
                         "the event stream to connect")
        ev = {"type": "BlockIp", "address": "203.0.113.77/32", "expires": "2030-01-01T00:00:00Z",
              "reason": "web page test"}
        pub.stdin.write((json.dumps(ev) + "\n").encode())
        pub.stdin.flush()
        in_tail = ("[...document.querySelectorAll('#tail li[data-type=\"BlockIp\"][data-node=\"2\"]')]"
                   ".some(li => li.textContent.includes('203.0.113.77/32'))")
        try:
            browser.wait_for(in_tail, 10, "the BlockIp in the tail")
            check("an event published on node 2 appears in the live tail", True)
        except CdpError as e:
            check("an event published on node 2 appears in the live tail", False, str(e))
        try:
            browser.wait_for("(() => { const td = document.querySelector('#rates tr[data-type=\"BlockIp\"] td.received');"
                             " return td && Number(td.textContent) >= 1; })()", 10, "a BlockIp rates row")
            check("the event rates list BlockIp as received", True)
        except CdpError as e:
            check("the event rates list BlockIp as received", False, str(e))

        # the type filter: StateChange only; a BlockIp is then not shown, a StateChange is
        browser.evaluate("document.getElementById('tail-types').value = 'StateChange';"
                         "document.getElementById('tail-clear').click();"
                         "document.getElementById('tail-apply').click()")
        browser.wait_for("document.getElementById('tail-status').dataset.state === 'live'", 10,
                         "the filtered stream to connect")
        for line in ({"type": "BlockIp", "address": "203.0.113.78/32", "expires": "2030-01-01T00:00:00Z",
                      "reason": "filtered out"},
                     {"type": "StateChange", "accountId": 42, "changeId": 4242, "types": ["Email"]}):
            pub.stdin.write((json.dumps(line) + "\n").encode())
        pub.stdin.flush()
        try:
            browser.wait_for("[...document.querySelectorAll('#tail li[data-type=\"StateChange\"]')]"
                             ".some(li => li.textContent.includes('4242'))", 10, "the StateChange")
            check("with the filter type=StateChange: the StateChange shows, the BlockIp does not",
                  browser.evaluate("document.querySelectorAll('#tail li[data-type=\"BlockIp\"]').length === 0"))
        except CdpError as e:
            check("with the filter type=StateChange: the StateChange shows", False, str(e))

        # ---- a node is killed ----
        procs["node3"].send_signal(signal.SIGKILL)
        procs["node3"].wait()
        t_kill = time.monotonic()
        try:
            browser.wait_for("(() => { const td = document.querySelector('#members tr[data-node=\"3\"] td.state');"
                             " return td && td.dataset.state === 'failed'; })()", 15, "node 3 failed")
            check("after SIGKILL, node 3 turns failed (%.1f s)" % (time.monotonic() - t_kill), True)
        except CdpError as e:
            check("after SIGKILL, node 3 turns failed", False, str(e))
        check("nodes 1 and 2 stay alive",
              browser.evaluate("[1,2].every(n => document.querySelector("
                               "`#members tr[data-node=\"${n}\"] td.state`).dataset.state === 'alive')"))

        # ---- the coordinator panel ----
        try:
            browser.wait_for("document.querySelector('#config-fields tr[data-field=\"coordinator.listen\"]')",
                             10, "the configuration table")
            check("the coordinator panel names the @type",
                  browser.evaluate("document.getElementById('config-type').textContent === 'PeerToPeer'"))
            check("the configured listen address is shown",
                  browser.evaluate("document.querySelector('#config-fields tr[data-field=\"coordinator.listen\"] "
                                   f"td.value').textContent.includes('127.0.0.1:{p1}')"))
            check("fields show their Stalwart default",
                  browser.evaluate("[...document.querySelectorAll('#config-fields tr[data-field^=\"coordinator.\"] td.default')]"
                                   ".filter(td => td.textContent !== '').length >= 3"))
            check("node-level fields show agora's default (codec: agora)",
                  browser.evaluate("document.querySelector('#config-fields tr[data-field=\"codec\"] "
                                   "td.default').textContent === '\"agora\"'"))
            check("the secret is masked",
                  browser.evaluate("document.querySelector('#config-fields tr[data-field=\"coordinator.secret\"] "
                                   "td.value').textContent === '\"********\"'"))
        except CdpError as e:
            check("the coordinator panel shows the configuration", False, str(e))
        check("the secret appears nowhere in the page",
              browser.evaluate(f"!(document.documentElement.outerHTML + document.getElementById('config-edit').value)"
                               f".includes({js(SECRET)})"))

        broken = {"nodeId": 1, "coordinator": {"@type": "PeerToPeer", "listen": "127.0.0.1:99999",
                                               "secret": "0123456789abcdef"}}
        browser.evaluate(f"document.getElementById('config-edit').value = {js(json.dumps(broken, indent=2))};"
                         "document.getElementById('config-check').click()")
        try:
            msg = browser.wait_for("(() => { const li = document.querySelector('#config-errors li[data-field=\"coordinator.listen\"]');"
                                   " return li && li.querySelector('.message').textContent; })()", 10,
                                   "the error of coordinator.listen")
            check("a broken configuration shows the field's error: coordinator.listen: " + msg,
                  "65535" in msg and browser.evaluate(
                      "document.getElementById('config-result').dataset.state === 'invalid' && "
                      "document.querySelector('#config-fields tr[data-field=\"coordinator.listen\"] td.error')"
                      ".textContent.includes('65535')"))
        except CdpError as e:
            check("a broken configuration shows the field's error", False, str(e))

        browser.evaluate("document.getElementById('config-reset').click();"
                         "document.getElementById('config-check').click()")
        try:
            browser.wait_for("document.getElementById('config-result').dataset.state === 'valid'", 10,
                             "the running configuration to check valid")
            check("the running configuration checks valid (no errors listed)",
                  browser.evaluate("document.querySelectorAll('#config-errors li').length === 0 && "
                                   "document.getElementById('config-result').textContent === 'valid'"))
        except CdpError as e:
            check("the running configuration checks valid", False, str(e))

        # show the broken check in the screenshot: the most telling state of the form
        browser.evaluate(f"document.getElementById('config-edit').value = {js(json.dumps(broken, indent=2))};"
                         "document.getElementById('config-check').click()")
        browser.wait_for("document.getElementById('config-result').dataset.state === 'invalid'", 10,
                         "the broken configuration again")
        shot = browser.screenshot(os.path.join(OUT, "web_page.png"))
        print("screenshot: " + shot)

        # ---- a node with an httpToken: the page asks for it once ----
        n5 = node_file(work, 5, p5, [p1, p2], token=TOKEN)
        start("node5", ["serve", "--config", n5, "--http", f"127.0.0.1:{ph5}"])
        wait_until(lambda: http_json(base + "api/members") and any(
            m["node"] == 5 and m["state"] == "alive" for m in http_json(base + "api/members")["members"]),
            20, "node 5 to join")
        browser.goto(f"http://127.0.0.1:{ph5}/")
        try:
            browser.wait_for("!document.getElementById('auth').hidden", 10, "the token form")
            check("with an httpToken, the page asks for the token (and shows no members)",
                  browser.evaluate("document.querySelectorAll('#members tbody tr').length === 0"))
            browser.evaluate("document.getElementById('auth-token').value = 'not-the-token-at-all';"
                             "document.getElementById('auth-submit').click()")
            browser.wait_for("!document.getElementById('auth').hidden && "
                             "document.getElementById('auth-error').textContent !== ''", 10,
                             "the wrong token to be refused")
            check("a wrong token is refused, the form asks again", True)
            browser.evaluate(f"document.getElementById('auth-token').value = {js(TOKEN)};"
                             "document.getElementById('auth-submit').click()")
            browser.wait_for("document.getElementById('auth').hidden && "
                             "document.querySelector('#members tr[data-node=\"5\"] td.state[data-state=\"alive\"]') && "
                             "document.getElementById('tail-status').dataset.state === 'live'", 10,
                             "members and the live tail with the token")
            check("with the right token: members, and the event stream (Bearer header)", True)
            browser.wait_for("document.querySelector('#config-fields tr[data-field=\"httpToken\"] td.value')",
                             10, "the configuration with the token")
            check("the httpToken is masked in the configuration and appears nowhere in the page",
                  browser.evaluate("document.querySelector('#config-fields tr[data-field=\"httpToken\"] "
                                   "td.value').textContent === '\"********\"' && "
                                   f"!(document.documentElement.outerHTML + document.getElementById('config-edit').value)"
                                   f".includes({js(TOKEN)})"))
            check("the token is kept for this tab only (sessionStorage)",
                  browser.evaluate(f"sessionStorage.getItem('agora.httpToken') === {js(TOKEN)} && "
                                   "localStorage.length === 0"))
        except CdpError as e:
            check("the token form", False, str(e))

        # 422 from the check is the answer the form expects, and 401s before the token
        # was given; anything else is a fault
        def expected(e):
            if e["kind"] != "log.network":
                return False
            return ((e["url"].endswith("/api/config/check") and "422" in e["text"]) or
                    (e["url"].startswith(f"http://127.0.0.1:{ph5}/api/") and "401" in e["text"]))
        errs = browser.page_errors(allow=expected)
        check("no JavaScript exception or console error",
              not errs, "\n     ".join(f"{e['kind']}: {e['text']} {e['url']}" for e in errs))
    except (CdpError, TimeoutError, OSError) as e:
        check("the test ran to its end", False, str(e))
    finally:
        if browser:
            browser.close()
        if procs.get("node2") and procs["node2"].stdin:
            procs["node2"].stdin.close()
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
        codes = {}
        for name, p in procs.items():
            try:
                codes[name] = p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                codes[name] = "hung"
                p.wait()
            logs[name].close()
        # node 3 was SIGKILLed; the others end cleanly (SIGTERM, or the end of input),
        # and under the sanitizers a leak or an error would show here
        clean = {n: c for n, c in codes.items() if n != "node3"}
        check("the nodes exit 0 on SIGTERM / end of input (%s)" % ", ".join(sorted(clean)),
              all(c == 0 for c in clean.values()), str(clean))
        if fails:
            for name in sorted(logs):
                with open(os.path.join(work, name + ".log"), "rb") as f:
                    tail = f.read().decode("utf-8", "replace").splitlines()[-10:]
                print(f"---- {name} (last lines)\n" + "\n".join(tail))
            print("logs kept in " + work)
        else:
            for name in logs:
                os.unlink(os.path.join(work, name + ".log"))
            for f in os.listdir(work):
                os.unlink(os.path.join(work, f))
            os.rmdir(work)
    print(f"{checks - fails}/{checks} checks passed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
