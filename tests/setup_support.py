"""Setup helpers that tests in several folders import by name (not in conftest.py: with
several conftest.py files, ``from conftest import …`` picks whichever was imported first).
"""

import os
import socket
import tempfile

import pytest

from consult import create_app
from consult.extensions import db

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


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
