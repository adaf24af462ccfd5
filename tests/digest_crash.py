"""`shiporskip digest send` that kills itself (SIGKILL) at one point of one message.

Run (from the project root): python -m tests.digest_crash POINT:N [digest send arguments]

The fault lives here, with the tests, not in the sender: this wraps the transport the sender
builds for each SMTP connection with a hook at each step of a message:
  claim     claimed, nothing of it sent yet
  data      the body sent, the row not committed (the end-of-data mark not sent)
  marked    committed as sent, the five-byte mark not written yet
  accepted  the server's 250 read, not recorded yet
Messages are numbered in the order their sending starts, across all the connections of the
process (SHIPORSKIP_SMTP_CONNECTIONS), so data:4 is the body of the fourth message begun.
"""

import os
import signal
import sys
import threading


class CrashHook:
    def __init__(self, spec: str):
        point, _, number = spec.partition(":")
        if point not in {"claim", "data", "marked", "accepted"} or not number.isdigit():
            raise SystemExit(f"digest_crash: expected POINT:N (claim, data, marked, accepted), got {spec!r}")
        self.point, self.number = point, int(number)
        self.begun = 0
        self.lock = threading.Lock()
        self.current = threading.local()  # the number of the message this connection is on

    def __call__(self, point: str) -> None:
        if point == "claim":
            with self.lock:
                self.begun += 1
                self.current.number = self.begun
        if point == self.point and getattr(self.current, "number", 0) == self.number:
            os.kill(os.getpid(), signal.SIGKILL)


def main() -> int:
    hook = CrashHook(sys.argv[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shiporskip.settings")
    import django

    django.setup()
    from shiporskip.cli import main as shiporskip
    from shiporskip.newsletter import delivery

    built = delivery.transport_for
    delivery.transport_for = lambda backend, _hook=None: built(backend, hook)
    return shiporskip(["digest", "send", *sys.argv[2:]])


if __name__ == "__main__":
    sys.exit(main())
