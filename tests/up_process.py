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

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGINT) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=30)


def start_up(env: dict, *, timeout: float = 60, new_session: bool = False) -> Up:
    """`shiporskip up` on a free port, once it says where it is running; its output is read
    as it comes (an unread pipe would fill and block it)."""
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
    threading.Thread(target=lambda: up.lines.extend(proc.stdout), daemon=True).start()
    try:
        wait_for(lambda: any("is running at" in line for line in up.lines), timeout, "the address")
    except BaseException:
        with contextlib.suppress(Exception):
            up.stop()
        raise
    return up
