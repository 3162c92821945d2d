"""Shared fixtures: every app test runs on SQLite and on PostgreSQL.

The schema is built once per database by the real Alembic migrations (so the tests also
prove that migrations build it from nothing); between tests all rows are removed.
Locally a missing PostgreSQL or Redis skips what needs it; with CI=true it is a failure.
"""

import contextvars
import email
import os
import re
import secrets
import shutil
import tempfile
from email import policy
from pathlib import Path

import psycopg
import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from redis import Redis
from setup_support import TEMPLATE_CACHE, app_settings, migrate_database, missing_service
from sqlalchemy import text

from consult import create_app
from consult.extensions import db

# Tests never read the developer's instance/config.py or SQLite file.
os.environ["CONSULT_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="consult-instance-")

PG_ADMIN_URL = os.environ.get("CONSULT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
# Each pytest-xdist worker gets its own Redis database (15, 14, ...), as it does its own
# SQL databases, because the tests empty the Redis database they use.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
REDIS_TEST_URL = os.environ.get("CONSULT_TEST_REDIS", "redis://127.0.0.1:6379/15")
REDIS_TEST_URL = (
    REDIS_TEST_URL.rsplit("/", 1)[0] + f"/{int(REDIS_TEST_URL.rsplit('/', 1)[1]) - _WORKER}"
)
BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        action="append",
        choices=BACKENDS,
        help="run app tests only on this database (repeatable); default: both",
    )


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--db") or list(BACKENDS)
        # PostgreSQL-only tests (full text, real concurrency) are simply not generated for
        # SQLite, rather than skipped there.
        if metafunc.definition.get_closest_marker("postgres_only"):
            chosen = [b for b in chosen if b == "postgresql"]
        metafunc.parametrize("backend", chosen, scope="session")


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def database_url(backend, tmp_path_factory):
    """A fresh, migrated database for this test session and backend."""
    if backend == "sqlite":
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")
        migrate_database(url)
        yield url
        return
    if not _pg_reachable():
        missing_service("PostgreSQL on 127.0.0.1:5432")
    name = f"consult_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        # A throwaway database need not wait for the disk on every commit.
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
        # A test that leaks a transaction must fail, not hang the suite: give up waiting
        # for a lock after a minute (the races wait for milliseconds).
        conn.execute(f"ALTER DATABASE \"{name}\" SET lock_timeout TO '60s'")
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    migrate_database(url)
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app_config():
    """Extra settings for the ``app`` fixture; override this fixture in a test module."""
    return {}


class IsolatedClient(FlaskClient):
    """Runs each request in its own context, as in production.

    Otherwise the test's app context (and with it ``g``, the logged-in user and the
    database session) would be shared by every request of a test. Afterwards the test's
    own objects are expired, so they show what the request committed.
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():  # not inside a redirect that the client follows
            db.session.expire_all()
        return response


@pytest.fixture
def app(database_url, tmp_path, app_config):
    application = create_app(app_settings(database_url, str(tmp_path / "mail"), **app_config))
    application.jinja_env.bytecode_cache = TEMPLATE_CACHE
    application.test_client_class = IsolatedClient
    with application.app_context():
        yield application
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


def _empty_all_tables() -> None:
    """Delete every row and restart the id sequences.

    DELETE, not TRUNCATE: on tables this small, PostgreSQL's TRUNCATE (new files for every
    table) costs about 0.3 s a test, DELETE about 0.01 s.
    """
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        for table in tables:
            conn.execute(text(f'DELETE FROM "{table}"'))
        if conn.dialect.name == "postgresql":
            for (sequence,) in conn.execute(
                text("SELECT sequence_name FROM information_schema.sequences")
            ):
                conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
        else:
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sqlite_sequence(
                conn
            ) else None


def _has_sqlite_sequence(conn) -> bool:
    return bool(
        conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first()
    )


# --- HTTP helpers -----------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Client:
    """The Flask test client plus CSRF handling, as a browser would get it from a page."""

    def __init__(self, flask_client):
        self.http = flask_client
        self._token = None

    def __getattr__(self, name):
        return getattr(self.http, name)

    def csrf_token(self, page: str = "/account/login") -> str:
        if self._token is None:
            # Logged in, the login page redirects to one with the logout form's token.
            html = self.http.get(page, follow_redirects=True).get_data(as_text=True)
            self._token = _CSRF.search(html).group(1)
        return self._token

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.http.post(url, data=data, **kwargs)

    def forget_csrf(self) -> None:
        self._token = None


@pytest.fixture
def client(app):
    return Client(app.test_client())


@pytest.fixture
def mailbox(app):
    """The mails written to MAIL_DIR so far, oldest first, as parsed messages."""
    return Mailbox(Path(app.config["MAIL_DIR"]))


class Mailbox:
    def __init__(self, folder: Path):
        self.folder = folder

    def messages(self):
        if not self.folder.exists():
            return []
        return [
            email.message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in sorted(self.folder.glob("*.eml"))
        ]

    def to(self, address: str):
        return [m for m in self.messages() if m["To"] == address]

    def last_to(self, address: str):
        found = self.to(address)
        assert found, f"no mail to {address}"
        return found[-1]

    @staticmethod
    def text(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html(message) -> str:
        return message.get_body(preferencelist=("html",)).get_content()

    def link(self, message, path_part: str) -> str:
        """The first link in the mail's text whose path contains ``path_part``."""
        for url in re.findall(r"https?://\S+", self.text(message)):
            if path_part in url:
                return url
        raise AssertionError(f"no link with {path_part} in mail")

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


# --- users ------------------------------------------------------------------------------

from testdata import PASSWORD, pass_code_step  # noqa: E402,F401  (the fixtures' password)


@pytest.fixture
def make_user(app):
    """Create an account directly: verified citizen unless told otherwise.

    Accounts with a role that needs a second factor (staff, press, moderator, juror) get
    TOTP set up with a fresh secret, as their pages stay closed without it; ``totp=False``
    leaves it off, ``totp=True`` sets it up for anyone.
    """
    import pyotp

    from consult.accounts.models import RoleGrant, User
    from consult.accounts.passwords import hash_password
    from consult.accounts.second_factor import SECOND_FACTOR_ROLES
    from consult.accounts.services import clean_pseudonym
    from consult.clock import now

    counter = iter(range(1, 10_000))

    def make(
        email=None,
        pseudonym=None,
        roles=("citizen",),
        verified=True,
        locale="de",
        password=PASSWORD,
        totp=None,
    ):
        n = next(counter)
        name, key = clean_pseudonym(pseudonym or f"Person {n}")
        user = User(
            email=email or f"person{n}@example.org",
            pseudonym=name,
            pseudonym_key=key,
            locale=locale,
            password_hash=hash_password(password),
            email_verified_at=now() if verified else None,
            privacy_consent_at=now(),
        )
        user.role_grants = [RoleGrant(role=r) for r in roles]
        if totp if totp is not None else any(r in SECOND_FACTOR_ROLES for r in roles):
            user.totp_secret = pyotp.random_base32()
            user.totp_enabled_at = now()
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """Log ``user`` in through the real login form, with the code step if TOTP is on."""

    def do_login(user, password=PASSWORD):
        response = client.post_form("/account/login", {"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        response = pass_code_step(client, response, user)
        assert response.status_code == 302, response.get_data(as_text=True)
        client.forget_csrf()  # login starts a new session, so a new token
        return response

    return do_login


# --- services ---------------------------------------------------------------------------


def _redis_reachable(url: str) -> bool:
    try:
        return Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        return False


@pytest.fixture
def redis_url():
    """A real Redis (database 15, emptied before and after the test)."""
    if not _redis_reachable(REDIS_TEST_URL):
        missing_service("Redis on 127.0.0.1:6379")
    client = Redis.from_url(REDIS_TEST_URL)
    client.flushdb()
    yield REDIS_TEST_URL
    client.flushdb()
