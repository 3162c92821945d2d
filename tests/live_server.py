"""consult served by gunicorn in a process of its own, for tests that need a real server
(real sockets, chunked bodies, timings). Imported by name; pytest does not collect it.

The server reads the test's database and settings through CONSULT_* variables, as in
production (see the Procfile), and is stopped by the test that started it.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path

from setup_support import free_port

ROOT = Path(__file__).resolve().parent.parent
# The settings of the test app that the server must share (same database, same keys).
SHARED = (
    "SECRET_KEY",
    "SQLALCHEMY_DATABASE_URI",
    "MAIL_DIR",
    "REDIS_URL",
    "ARGON2_PROFILE",
    "SESSION_COOKIE_SECURE",
    "REMEMBER_COOKIE_SECURE",
    "PUBLIC_URL",
    "MAX_CONTENT_LENGTH",
)
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _env(app, overrides: dict) -> dict:
    env = dict(os.environ)
    settings = {name: app.config[name] for name in SHARED} | overrides
    for name, value in settings.items():
        env[f"CONSULT_{name}"] = value if isinstance(value, str) else json.dumps(value)
    return env


@contextmanager
def gunicorn(app, threads: int = 4, **overrides):
    """Serve ``app``'s configuration (plus ``overrides``) with gunicorn, configured as the
    Procfile's web process (gunicorn.conf.py); yields the port."""
    port = free_port()
    log = open(Path(app.instance_path) / f"gunicorn-{port}.log", "w+b")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
            "--worker-class", "gthread", "--workers", "1", "--threads", str(threads),
            "--bind", f"127.0.0.1:{port}", "--timeout", "60", "wsgi:app",
        ],
        cwd=ROOT,
        env=_env(app, overrides),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        _wait_until_serving(port, process, log)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _wait_until_serving(port: int, process, log) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError("gunicorn exited:\n" + log.read().decode(errors="replace"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start within 30 s")


class Browser:
    """A cookie jar and a CSRF token against a live server, over plain HTTP/1.1."""

    def __init__(self, port: int, language: str = "de"):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.language = language
        self.token = None

    def request(self, method: str, path: str, body=None, headers=None, chunked=False):
        """The response's status, headers and text; ``body`` may be an iterable of chunks."""
        connection = HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            all_headers = {"Accept-Language": self.language, **(headers or {})}
            if self.cookies:
                all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=body, headers=all_headers, encode_chunked=chunked)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _sep, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            return response.status, dict(response.getheaders()), text
        finally:
            connection.close()

    def fetch_token(self, path: str = "/account/login") -> str:
        _status, _headers, text = self.request("GET", path)
        self.token = _CSRF.search(text).group(1)
        return self.token

    def log_in(self, email: str, password: str, totp_secret: str | None = None) -> None:
        """Password step, and the code step when the account has TOTP (``totp_secret``)."""
        from urllib.parse import urlencode

        self.fetch_token()
        body = urlencode({"csrf_token": self.token, "email": email, "password": password})
        status, _headers, text = self.request(
            "POST",
            "/account/login",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 302, text
        if totp_secret:
            import pyotp

            url = _headers["Location"]
            self.fetch_token(url)
            code = pyotp.TOTP(totp_secret).now()
            status, _headers, text = self.request(
                "POST",
                url,
                body=urlencode({"csrf_token": self.token, "code": code}),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert status == 302, text
        self.fetch_token("/account/profile")  # a new session, a new token
