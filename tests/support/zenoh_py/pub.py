"""Publish each file given on stwt.agora, one payload each, in order.

    pub.py JSON5 FILE...     JSON5: a Zenoh configuration, as text or @path

Waits (30 s at most) until Zenoh knows of a matching subscriber, so that the
payloads are not published to nobody, then puts them with congestion control
Block and closes the session (which flushes)."""
import sys

import zenoh

from common import KEY, await_true, open_session


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    session = open_session(sys.argv[1])
    publisher = session.declare_publisher(KEY, congestion_control=zenoh.CongestionControl.BLOCK)
    await_true(lambda: publisher.matching_status, 30, "a subscriber on " + KEY)
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            publisher.put(f.read())
    publisher.undeclare()
    session.close()


if __name__ == "__main__":
    main()
