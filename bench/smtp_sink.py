"""A loopback aiosmtpd server in its own process, counting what it accepts per recipient.

Run: python bench/smtp_sink.py   (prints its port; then reads commands on stdin:
     "count" prints a JSON object {recipient: messages}, "reset" forgets them, "quit" stops)

Its own process, so that the server and the sender do not share one interpreter's lock: the
sender's figures are then the sender's, bounded by what one aiosmtpd process can take.
"""

import json
import socket
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self):
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.counts[rcpt] = self.counts.get(rcpt, 0) + 1
        return "250 Message accepted for delivery"


def main() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "count":
            with sink.lock:
                print(json.dumps(sink.counts), flush=True)
        elif command == "reset":
            with sink.lock:
                sink.counts.clear()
            print("ok", flush=True)
        elif command == "quit":
            break
    controller.stop()


if __name__ == "__main__":
    main()
