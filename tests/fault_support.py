"""Services that a fault test starts, breaks and cleans up itself: an SMTP sink, a Redis
server, a PostgreSQL cluster and real worker processes. Never the machine's shared ones.

Everything listens on loopback, on a free port; each helper stops what it started.
"""

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from redis import Redis

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, step: float = 0.1, what: str = "condition"):
    """Poll ``predicate`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


# --- an SMTP sink -------------------------------------------------------------------------


class SmtpSink:
    """A tiny SMTP server that stores what it accepts and can stall or misbehave on demand.

    ``hold`` names the point where the next connection waits until ``release()``:
    "data" (the DATA command, before its 354: nothing can be delivered yet) or "end" (the
    end of data was received, before the answer: the point of no return). ``end_reply``
    answers the end of data ("250 …", "451 …", or "drop" to close without an answer).
    Only the first ``hold_count`` connections are held; later ones go straight through.
    """

    def __init__(self):
        self.messages: list[bytes] = []
        self.hold: str | None = None
        self.hold_count = 1
        self.end_reply = "250 2.0.0 queued"
        self.held = threading.Event()  # set while a connection waits at ``hold``
        self._release = threading.Event()
        self._lock = threading.Lock()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 120

            def handle(self):
                sink._serve(self.rfile, self.wfile)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._release.set()

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def _take_hold(self, point: str) -> bool:
        with self._lock:
            if self.hold != point or self.hold_count <= 0:
                return False
            self.hold_count -= 1
            return True

    def _wait_here(self) -> None:
        self.held.set()
        self._release.wait(120)
        self.held.clear()

    def _serve(self, rfile, wfile) -> None:
        def reply(line: str) -> None:
            wfile.write(line.encode() + b"\r\n")
            wfile.flush()

        reply("220 sink ESMTP")
        while True:
            line = rfile.readline()
            if not line:
                return
            verb = line.strip().split(b" ", 1)[0].upper()
            if verb in (b"EHLO", b"HELO"):
                reply("250-sink")
                reply("250 8BITMIME")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                reply("250 ok")
            elif verb == b"QUIT":
                reply("221 bye")
                return
            elif verb == b"DATA":
                if self._take_hold("data"):
                    self._wait_here()
                try:
                    reply("354 go ahead")
                except OSError:  # the client went away while held
                    return
                body = []
                while True:
                    chunk = rfile.readline()
                    if not chunk:
                        return  # the data never ended: nothing is delivered
                    if chunk == b".\r\n":
                        break
                    body.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                if self._take_hold("end"):
                    self._wait_here()
                if self.end_reply == "drop":
                    with self._lock:
                        self.messages.append(b"".join(body))
                    return
                if self.end_reply.startswith("250"):
                    with self._lock:
                        self.messages.append(b"".join(body))
                try:
                    reply(self.end_reply)
                except OSError:
                    return
            else:
                reply("502 not implemented")


# --- a Redis server of the test's own ---------------------------------------------------


class RedisServer:
    """``redis-server`` on a free port without persistence, so a restart loses everything."""

    def __init__(self):
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> float:
        """Start the server; returns the monotonic time at which it answered."""
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = Redis.from_url(self.url, socket_connect_timeout=0.5)

        def answers():
            try:
                return client.ping()
            except Exception:
                return False

        wait_for(answers, 20, step=0.05, what="the test's Redis")
        return time.monotonic()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def restart(self) -> float:
        """Kill (no shutdown save) and start empty again; the time it answers again."""
        self.kill()
        return self.start()

    def stop(self) -> None:
        self.kill()


# --- a PostgreSQL cluster of the test's own ---------------------------------------------


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"{name} (PostgreSQL server) is not installed")
    return path


class PgCluster:
    """``initdb`` in a temporary folder and ``pg_ctl`` on a free port, trust auth on loopback.

    PostgreSQL refuses to run as root: then the cluster runs as the ``postgres`` user.
    """

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="consult-pg-")
        self.data = os.path.join(self.dir, "data")
        self._user = None
        if os.geteuid() == 0:
            self._user = "postgres"
            entry = pwd.getpwnam(self._user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self._run(
            _pg_bin("initdb"), "-D", self.data, "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8", "--locale", "C",
        )  # fmt: skip
        self.start()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *cmd) -> None:
        if self._user:
            cmd = ("runuser", "-u", self._user, "--", *cmd)
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {result.stderr[-2000:]}")

    def start(self) -> float:
        """Start the server; returns the monotonic time at which it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off"
        )
        self._run(
            _pg_bin("pg_ctl"), "-D", self.data, "-o", options, "-l",
            os.path.join(self.dir, "log"), "-w", "-t", "60", "start",
        )  # fmt: skip
        return time.monotonic()

    def stop(self, mode: str = "fast") -> None:
        self._run(_pg_bin("pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


# --- real worker processes --------------------------------------------------------------


class Worker:
    """``python -m flask --app wsgi jobs worker`` in its own process, as in production."""

    def __init__(self, env: dict, log_dir: Path, name: str):
        self.log_path = log_dir / f"worker-{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"],
            cwd=ROOT,
            env=dict(os.environ, **env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.process.pid

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, as when the machine or the OOM killer strikes."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def worker_env(app, **overrides) -> dict:
    """The environment of a worker process configured like ``app``."""
    cfg = app.config
    env = {
        "CONSULT_SECRET_KEY": cfg["SECRET_KEY"],
        "CONSULT_SQLALCHEMY_DATABASE_URI": cfg["SQLALCHEMY_DATABASE_URI"],
        "CONSULT_REDIS_URL": cfg["REDIS_URL"],
        "CONSULT_RQ_QUEUE": cfg["RQ_QUEUE"],
        "CONSULT_MAIL_DIR": cfg["MAIL_DIR"],
        "CONSULT_PUBLIC_URL": cfg["PUBLIC_URL"],
        "CONSULT_ARGON2_PROFILE": "cheapest",
    }
    if cfg.get("MAIL_SERVER"):
        env.update(
            CONSULT_MAIL_SERVER=cfg["MAIL_SERVER"],
            CONSULT_MAIL_PORT=str(cfg["MAIL_PORT"]),
            CONSULT_MAIL_USE_TLS="false",
            CONSULT_MAIL_USE_SSL="false",
        )
    env.update(overrides)
    return env
