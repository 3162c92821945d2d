"""Readiness: does the database answer, does Redis answer, each within a short timeout?

Each check runs in a thread of its own that the request waits for at most TIMEOUT seconds:
a server that accepts connections but never answers (frozen, or a full network path) must
give a 503 quickly, not hold the probe until the orchestrator's own timeout.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, current_app
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# Seconds: far more than a healthy SELECT 1 or PING takes, far less than a probe's timeout.
TIMEOUT = 1.5


def check_readiness() -> dict[str, str]:
    """Each dependency as "ok", "failed" or "not used" (Redis without REDIS_URL)."""
    app = current_app._get_current_object()
    checks = {"database": _ping_database}
    if app.config.get("REDIS_URL"):
        checks["redis"] = _ping_redis
    results = {name: "failed" for name in checks}
    threads = [
        threading.Thread(target=_run, args=(app, name, check, results), daemon=True)
        for name, check in checks.items()
    ]
    for thread in threads:
        thread.start()
    # One deadline for all checks together: joining each for the full time would add up.
    deadline = time.monotonic() + TIMEOUT + 0.5
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    found = dict(results)
    found.setdefault("redis", "not used")
    return found


def _run(app: Flask, name: str, check, results: dict) -> None:
    try:
        check(app)
    except Exception as exc:
        # The class only: messages may name hosts or users.
        log.warning("readiness: %s failed (%s)", name, type(exc).__name__)
    else:
        results[name] = "ok"


def _probe_engine(app: Flask):
    """An engine of its own, without a pool, with connect and statement timeouts: the
    app's pool may be exhausted by a crowd and must not make the probe wait."""
    engine = app.extensions.get("consult_readiness_engine")
    if engine is None:
        uri = app.config["SQLALCHEMY_DATABASE_URI"]
        args = {}
        if uri.startswith("postgresql"):
            ms = int(TIMEOUT * 1000)
            args = {
                "connect_timeout": max(1, int(TIMEOUT)),
                "options": f"-c statement_timeout={ms}",
            }
        else:
            args = {"timeout": TIMEOUT}
        engine = create_engine(uri, poolclass=NullPool, connect_args=args)
        engine = app.extensions.setdefault("consult_readiness_engine", engine)
    return engine


def _ping_database(app: Flask) -> None:
    with _probe_engine(app).connect() as conn:
        conn.execute(text("SELECT 1"))


def _ping_redis(app: Flask) -> None:
    client = Redis.from_url(
        app.config["REDIS_URL"],
        socket_connect_timeout=TIMEOUT,
        socket_timeout=TIMEOUT,
        retry_on_timeout=False,
    )
    try:
        client.ping()
    finally:
        client.close()
