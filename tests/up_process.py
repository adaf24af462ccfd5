"""`shiporskip up` started as a user starts it, for the tests that need the real server."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tests.waiting import wait_for

SCRIPT = str(Path(sys.executable).parent / "shiporskip")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_env(data_dir, **settings: str) -> dict:
    """This environment without its database and Redis (SQLite, no Redis: what `up` runs on
    a fresh machine), the data dir and `settings` on top."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return env | {"SHIPORSKIP_DATA_DIR": str(data_dir), **settings}


@dataclass
class Up:
    proc: subprocess.Popen
    port: int
    env: dict
    lines: list[str] = field(default_factory=list)  # what `up` printed so far
    reader: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Stop it as a reader would; its output is then read to the end."""
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=30)
        if self.reader:
            self.reader.join(timeout=30)
        return code


def start_up(
    env: dict, *, until: str = "is running at", timeout: float = 60, new_session: bool = False
) -> Up:
    """`shiporskip up` on a free port, once it has printed `until` (fails at once, with its
    output, if it exits first); its output is read as it comes (an unread pipe would fill and
    block it)."""
    port = free_port()
    proc = subprocess.Popen(
        [SCRIPT, "up", "--port", str(port)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=new_session,
    )
    up = Up(proc, port, env)
    up.reader = threading.Thread(target=lambda: up.lines.extend(proc.stdout), daemon=True)
    up.reader.start()

    def printed() -> bool:
        assert proc.poll() is None, "".join(up.lines)
        return any(until in line for line in up.lines)

    try:
        wait_for(printed, timeout, f"`up` to print {until!r}")
    except BaseException:
        with contextlib.suppress(Exception):
            up.stop()
        raise
    return up
