"""Redis servers that hang, for fault tests (imported by name; pytest does not collect it).

Never the machine's shared Redis: each is the test's own, on a free port, and is ended
by the test that started it.
"""

import os
import shutil
import signal
import socket
import subprocess
import time

from redis import Redis
from setup_support import free_port, missing_service


class FrozenRedis:
    """A redis-server of the test's own that answers until ``hang()`` stops it (SIGSTOP):
    connections are still accepted by the kernel, but nothing is ever answered."""

    kind = "frozen"

    def __init__(self, folder):
        if not shutil.which("redis-server"):
            missing_service("redis-server (for the hung-Redis tests)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                if Redis.from_url(self.url, socket_timeout=1).ping():
                    break
            except Exception:
                if time.monotonic() > deadline:
                    self.end()
                    raise
                time.sleep(0.05)

    def hang(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def end(self) -> None:
        if self.process.poll() is None:
            self.resume()
            self.process.kill()
        self.process.wait(timeout=10)


class SilentListener:
    """A port that accepts connections (the kernel completes them) and never answers."""

    kind = "silent"

    def __init__(self, folder=None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.url = f"redis://127.0.0.1:{self.sock.getsockname()[1]}/0"

    def hang(self) -> None:
        """It never answered in the first place."""

    def end(self) -> None:
        self.sock.close()
