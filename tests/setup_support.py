"""Setup helpers that tests in several folders import by name (not in conftest.py: with
several conftest.py files, ``from conftest import …`` picks whichever was imported first).
"""

import os
import socket
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from jinja2 import BytecodeCache

from consult import create_app
from consult.extensions import db

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


class SharedTemplateCache(BytecodeCache):
    """Compiled templates kept for the whole test process.

    Every test builds a new app and so a new Jinja environment, which would parse and
    compile every template it renders again: about a quarter of a view test's time. The
    key includes a checksum of the template's source, so an edited template is compiled
    afresh.
    """

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = SharedTemplateCache()


def missing_service(what: str):
    """A missing service fails the run in CI and skips locally."""
    if IN_CI:
        pytest.fail(f"{what} is not available, and CI must not skip it", pytrace=False)
    pytest.skip(f"{what} is not available")


def migrate_database(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(app_settings(url, tempfile.mkdtemp()))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def app_settings(database_url: str, mail_dir: str, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-" + "x" * 32,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_DIR": mail_dir,
        "MAIL_SERVER": None,
        "REDIS_URL": None,
        "ARGON2_PROFILE": "cheapest",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "PUBLIC_URL": "http://localhost",
        **extra,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_together(jobs: list, workers: int | None = None) -> list:
    """Run every job in its own thread, released at the same moment by a barrier (the race
    tests on PostgreSQL); returns what each job returned, in order."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        barrier.wait(timeout=30)
        return job()

    with ThreadPoolExecutor(max_workers=workers or len(jobs)) as pool:
        return list(pool.map(run, jobs))


def run_in_contexts(app, jobs: list, ok=None) -> list:
    """``run_together``, each job in an app context of its own: per job what it returned
    (or ``ok``, when given), or the status of the UserError it raised."""
    from consult.errors import UserError

    def settled(job):
        def run():
            with app.app_context():
                try:
                    result = job()
                    return result if ok is None else ok
                except UserError as error:
                    return error.status
                finally:
                    db.session.remove()

        return run

    return run_together([settled(job) for job in jobs])


def vote_job(app, outcomes: list, user_id: int, challenge_id: int, idea_id: int, cast: bool):
    """A job for ``run_together``: one citizen casts (or withdraws) one vote, in an app
    context of its own; "ok" or the refusal's status is appended to ``outcomes``."""
    from consult.accounts.models import User
    from consult.challenges.models import Challenge
    from consult.errors import UserError
    from consult.voting import services as votes

    def job():
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                challenge = db.session.get(Challenge, challenge_id)
                if cast:
                    votes.cast_vote(user, challenge, idea_id)
                else:
                    votes.withdraw_vote(user, challenge, idea_id)
                outcomes.append("ok")
            except UserError as error:
                outcomes.append(error.status)
            finally:
                db.session.remove()

    return job
