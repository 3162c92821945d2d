"""What the benchmark scripts share: a throw-away PostgreSQL database, gunicorn on
loopback, and the summary of a round of requests."""

import argparse
import http.client
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("CONSULT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SECRET = "bench-" + secrets.token_hex(16)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_database() -> tuple[str, str]:
    """(name, SQLAlchemy URL) of a new, empty database."""
    name = f"consult_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    return name, url.replace("postgresql://", "postgresql+psycopg://", 1)


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_options(doc: str, requests: int, clients: int, threads: int) -> argparse.ArgumentParser:
    """The options of every benchmark that serves the app with gunicorn."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=requests, help="per endpoint and round")
    parser.add_argument("--clients", type=int, default=clients, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=threads, help="gunicorn threads each")
    return parser


@contextmanager
def empty_redis(url: str):
    """The Redis database ``url`` (limits, page cache) for one run: it must be empty before,
    so every key in it afterwards is the run's own and is deleted."""
    from redis import Redis

    redis = Redis.from_url(url)
    if redis.dbsize():
        sys.exit(f"{url} is not empty; set CONSULT_BENCH_REDIS to an empty database")
    try:
        yield redis
    finally:
        redis.flushdb()


def on_fresh_database(measure, *args) -> None:
    """``measure(*args, database_url, log)`` on a throw-away database, then drop it."""
    with tempfile.NamedTemporaryFile("w+", prefix="consult-bench-", suffix=".log") as log:
        name, database_url = create_database()
        try:
            measure(*args, database_url, log)
        except BaseException:
            # What the server said, when a round went wrong.
            log.flush()
            log.seek(0)
            sys.stderr.write(log.read()[-4000:])
            raise
        finally:
            drop_database(name)


def bench_app(database_url: str, **settings):
    """The app in this process, for seeding the database (the server runs elsewhere)."""
    from consult import create_app

    return create_app(
        {
            "SECRET_KEY": SECRET,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": None,
            "MAIL_DIR": tempfile.mkdtemp(),
            **settings,
        }
    )


def start_server(database_url: str, port: int, workers: int, threads: int, log, **settings):
    """gunicorn with gthread workers, as in the Procfile; ``settings`` become CONSULT_*."""
    env = {
        **os.environ,
        "CONSULT_SECRET_KEY": SECRET,
        "CONSULT_SQLALCHEMY_DATABASE_URI": database_url,
        "CONSULT_INSTANCE_PATH": tempfile.mkdtemp(prefix="consult-bench-"),
        **{f"CONSULT_{key}": value for key, value in settings.items()},
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn), "--config", "gunicorn.conf.py", "--worker-class", "gthread",
        "--workers", str(workers),
        "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "wsgi:app",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop_server(server) -> None:
    """SIGTERM to gunicorn (None: never started), SIGKILL if it is not gone in 15 s."""
    if server is None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()


def wait_until_up(port: int, server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer")


def summarise(latencies: list[float], wall: float) -> dict:
    latencies = sorted(latencies)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def merge(a: dict, b: dict) -> dict:
    # Two rounds per endpoint, interleaved, so that drift hits both alike.
    return {
        "requests": a["requests"] + b["requests"],
        "rps": (a["rps"] + b["rps"]) / 2,
        "p50": (a["p50"] + b["p50"]) / 2,
        "p99": max(a["p99"], b["p99"]),
    }


def run(port: int, workload, total: int, clients: int) -> dict:
    """Send ``total`` requests from ``clients`` threads, a new connection each.

    ``workload.request()`` gives (method, path, body, headers, context) and
    ``workload.answered(status, payload, context)`` says whether the answer was right.
    A new connection per request, as from many phones: kept-alive connections would pin
    each client thread to one gunicorn worker.
    """
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    next_index = iter(range(total))

    def client():
        mine = []
        while True:
            with lock:
                i = next(next_index, None)
            if i is None:
                break
            method, path, body, headers, context = workload.request()
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                conn.close()
            except (OSError, http.client.HTTPException) as exc:
                # Counted as a failure, not lost with the thread (the run then raises).
                errors.append(f"{method} {path}: {exc!r}")
                continue
            mine.append(time.perf_counter() - started)
            if not workload.answered(response.status, payload, context):
                errors.append(f"{response.status} {method} {path}: {payload[:200]!r}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return summarise(latencies, wall)


def bench_account(key: str, name: str, roles=("citizen",), at=None):
    """A verified account (``key``@bench.example) without a usable password: benchmarks
    log in with ``signed_login``. Call inside an app context."""
    from consult.accounts.models import RoleGrant, User
    from consult.clock import now

    at = at or now()
    return User(
        email=f"{key}@bench.example",
        pseudonym=name,
        pseudonym_key=name.lower(),
        password_hash="!",
        email_verified_at=at,
        privacy_consent_at=at,
        role_grants=[RoleGrant(role=role) for role in roles],
    )


def signed_login(app, user, address: str, user_agent: str) -> dict:
    """The session cookie and CSRF token the login form would leave, for ``address``.

    Signed here with the app's secret, so that no argon2 login is needed per citizen.
    """
    from flask import session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf

    headers = {"X-Forwarded-For": address, "User-Agent": user_agent}
    with app.app_context(), app.test_request_context("/", headers=headers):
        login_user(user)
        token = generate_csrf()
        data = dict(session)
    cookie = app.session_interface.get_signing_serializer(app).dumps(data)
    return {
        "cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}",
        "token": token,
        "address": address,
    }
