"""Run a Zenoh router (Zenoh's own implementation, through its Python binding) until
killed.

    router.py ENDPOINT       e.g. tcp/127.0.0.1:7447

Multicast scouting is off; prints "ready" once listening."""
import signal
import sys

from common import open_session


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    config = (
        '{ mode: "router", listen: { endpoints: ["%s"] },'
        ' scouting: { multicast: { enabled: false } } }' % sys.argv[1]
    )
    session = open_session(config)
    print("ready", flush=True)
    signal.sigwait({signal.SIGINT, signal.SIGTERM})
    session.close()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    main()
