"""What pub.py, sub.py and router.py share: the key, opening a session from JSON5,
and bounded waits."""
import sys
import time

import zenoh

KEY = "stwt.agora"  # Stalwart's coordinator topic


def open_session(json5):
    """A session from a Zenoh JSON5 configuration given as text or as @file."""
    if json5.startswith("@"):
        with open(json5[1:], encoding="utf-8") as f:
            json5 = f.read()
    return zenoh.open(zenoh.Config.from_json5(json5))


def await_true(cond, timeout_s, what):
    """Poll cond() until it holds; exit 1 naming what after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            sys.exit(f"zenoh_py: timed out waiting for {what}")
        time.sleep(0.02)
