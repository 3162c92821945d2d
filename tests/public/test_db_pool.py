"""The database pool keeps one PostgreSQL connection per gunicorn thread.

SQLAlchemy's default pool keeps 5; the Procfile runs 8 threads a worker. Under load the
threads beyond the fifth opened and closed a connection of their own for every request (a
fork and a login in PostgreSQL each time: a vote's throughput was a seventh lower).
gunicorn.conf.py now sizes the pool to gunicorn's threads. Proven on a real gunicorn, with
PostgreSQL's own count of the sessions opened on the test's database: 9 for 400 requests
of 8 threads, against 12 to 33 (by the machine's load) with a pool of 5.
"""

import threading
import time
from http.client import HTTPConnection

import psycopg
import pytest
from live_server import gunicorn

from consult import create_app
from consult.extensions import db

# More than the setting's default (8): the pool must follow gunicorn's --threads.
THREADS = 12
REQUESTS_PER_CLIENT = 50


def sessions_opened(url: str) -> int:
    """How many sessions PostgreSQL has opened on this database so far."""
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        return conn.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()[0]


def settled_sessions(url: str) -> int:
    """The count once closed sessions have reported (each does when it ends)."""
    time.sleep(1.5)
    return sessions_opened(url)


def load(port: int, path: str) -> list[int]:
    """THREADS clients at once, each sending its requests one after the other."""
    statuses: list[int] = []
    start = threading.Barrier(THREADS)

    def client():
        start.wait()
        for _ in range(REQUESTS_PER_CLIENT):
            connection = HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", path, headers={"Accept-Language": "de"})
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def serve_and_count(app, path: str, **overrides) -> tuple[list[int], int]:
    """Statuses of the load, and the sessions PostgreSQL opened during it (the server's
    start and the load; its own queries and this test's reads are a handful)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    before = settled_sessions(url)
    with gunicorn(app, threads=THREADS, **overrides) as port:
        statuses = load(port, path)
        opened = settled_sessions(url) - before
    return statuses, opened


@pytest.mark.postgres_only
def test_the_pool_keeps_a_connection_per_thread(app, backend, make_challenge, make_idea):
    challenge = make_challenge("voting")
    for n in range(30):
        make_idea(challenge, title=f"Idee {n}")
    db.session.commit()
    statuses, opened = serve_and_count(app, f"/challenges/{challenge.id}")
    assert statuses == [200] * THREADS * REQUESTS_PER_CLIENT
    # One per thread at most (each thread's first request opens it), the server's start
    # and the counts' own reads: far from one per request (seen: 13).
    assert opened <= THREADS + 2, opened


def test_the_pool_size_is_a_setting_and_sqlite_has_none(tmp_path):
    settings = {"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)}
    postgres = create_app(
        {**settings, "SQLALCHEMY_DATABASE_URI": "postgresql://u@db/c", "DB_POOL_SIZE": 12}
    )
    assert postgres.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 12
    assert postgres.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    sqlite = create_app(settings)
    assert "pool_size" not in sqlite.config["SQLALCHEMY_ENGINE_OPTIONS"]
