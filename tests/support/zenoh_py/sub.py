"""Receive payloads on stwt.agora: print each as hex, one line each, or write
them to files.

    sub.py JSON5 [COUNT [DIR]]   JSON5: a Zenoh configuration, as text or @path

Prints "ready" once subscribed (standard output, flushed). With COUNT, exits 0
after COUNT payloads (1 if they do not come within 60 s); without, runs until
killed. With DIR, payload i (from 0) is written to DIR/i instead of printed."""
import os
import queue
import sys
import time

from common import KEY, open_session


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    count = int(sys.argv[2]) if len(sys.argv) > 2 else None
    outdir = sys.argv[3] if len(sys.argv) > 3 else None
    received = queue.Queue()
    session = open_session(sys.argv[1])
    subscriber = session.declare_subscriber(KEY, lambda s: received.put(s.payload.to_bytes()))
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    n = 0
    while count is None or n < count:
        try:
            payload = received.get(timeout=1 if count is None else max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            if count is None:
                continue
            sys.exit(f"sub.py: {n} of {count} payloads within 60 s")
        if outdir:
            with open(os.path.join(outdir, str(n)), "wb") as f:
                f.write(payload)
        else:
            print(payload.hex(), flush=True)
        n += 1
    subscriber.undeclare()
    session.close()


if __name__ == "__main__":
    main()
