"""A loopback SMTP server in its own process, counting what it accepts per recipient.

Run: python bench/smtp_sink.py [--fast]   (prints its port; then reads commands on stdin:
     "count" prints a JSON object {recipient: messages}, "reset" forgets them, "quit" stops)

By default aiosmtpd, the server the tests use. It reads a message's data one line at a time in
Python: for the 54 KB, 650-line edition that is about 2 ms of its one core per message, so on a
2-core machine it takes some 460 messages/s from any sender. `--fast` is a minimal SMTP server
on asyncio that finds a message's end mark in whole buffers instead (EHLO/HELO, MAIL, RCPT,
DATA, RSET, NOOP, QUIT; enough for a sender's side of the exchange, nothing a real server
checks): with it, what the bench measures is the sender.

Its own process, so that the server and the sender do not share one interpreter's lock: the
sender's figures are then the sender's, bounded by what one server process can take.
"""

import asyncio
import json
import socket
import sys
import threading


class Counts:
    def __init__(self):
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    def add(self, recipients) -> None:
        with self.lock:
            for rcpt in recipients:
                self.counts[rcpt] = self.counts.get(rcpt, 0) + 1


class Sink(Counts):
    """aiosmtpd's handler."""

    async def handle_DATA(self, server, session, envelope):
        self.add(envelope.rcpt_tos)
        return "250 Message accepted for delivery"


END = b"\r\n.\r\n"


class FastSession(asyncio.Protocol):
    """One SMTP connection: commands line by line, a message's data by its end mark."""

    def __init__(self, counts: Counts):
        self.counts, self.buffer, self.recipients, self.in_data = counts, bytearray(), [], False

    def connection_made(self, transport):
        self.transport = transport
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        searched = max(0, len(self.buffer) - len(END))
        self.buffer += data
        while self.buffer:
            if self.in_data:
                if self.buffer.startswith(END[2:]):  # an empty message
                    end, searched = 0, 0
                else:
                    end = self.buffer.find(END, searched)
                    if end < 0:
                        return
                    end += 2
                del self.buffer[: end + 3]
                self.in_data, searched = False, 0
                self.counts.add(self.recipients)
                self.recipients = []
                self.transport.write(b"250 2.0.0 Ok: queued\r\n")
                continue
            cut = self.buffer.find(b"\r\n")
            if cut < 0:
                return
            line = bytes(self.buffer[:cut])
            del self.buffer[: cut + 2]
            self.command(line)

    def command(self, line: bytes) -> None:
        verb = line[:4].upper()
        if verb in (b"EHLO", b"HELO"):
            self.transport.write(b"250 sink\r\n")
        elif verb == b"MAIL":
            self.recipients = []
            self.transport.write(b"250 2.1.0 Ok\r\n")
        elif verb == b"RCPT":
            address = line.partition(b":")[2].strip().lstrip(b"<").rstrip(b">")
            self.recipients.append(address.decode())
            self.transport.write(b"250 2.1.5 Ok\r\n")
        elif verb == b"DATA":
            self.in_data = True
            self.transport.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
        elif verb == b"RSET":
            self.recipients = []
            self.transport.write(b"250 2.0.0 Ok\r\n")
        elif verb == b"NOOP":
            self.transport.write(b"250 2.0.0 Ok\r\n")
        elif verb == b"QUIT":
            self.transport.write(b"221 2.0.0 Bye\r\n")
            self.transport.close()
        else:
            self.transport.write(b"502 5.5.2 Command not recognized\r\n")


def serve_fast(counts: Counts, port: int):
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(lambda: FastSession(counts), "127.0.0.1", port))
    threading.Thread(target=loop.run_forever, daemon=True).start()
    return server


def main() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    if "--fast" in sys.argv:
        counts = Counts()
        serve_fast(counts, port)
        stop = lambda: None  # noqa: E731 - the daemon thread ends with the process
    else:
        from aiosmtpd.controller import Controller

        counts = Sink()
        controller = Controller(counts, hostname="127.0.0.1", port=port)
        controller.start()
        stop = controller.stop
    print(port, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "count":
            with counts.lock:
                print(json.dumps(counts.counts), flush=True)
        elif command == "reset":
            with counts.lock:
                counts.counts.clear()
            print("ok", flush=True)
        elif command == "quit":
            break
    stop()


if __name__ == "__main__":
    main()
