"""Logs: one JSON line per request with a request id, and no addresses or passwords."""

import json
import logging
import re

import pytest
from testdata import PASSWORD, says

from consult.ops.logs import JsonFormatter

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


class Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))

    def requests(self):
        return [e for e in map(json.loads, self.lines) if e["logger"] == "consult.request"]


@pytest.fixture
def logs():
    """Every record of every logger, at every level, as the JSON lines production writes."""
    root = logging.getLogger()
    handler, level = Lines(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def test_one_json_line_per_request(app, logs):
    response = app.test_client().get("/healthz?token=abc123secret", headers={"X-Request-ID": "x"})
    rid = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)  # "x" was too short to keep
    (entry,) = logs.requests()
    assert entry["request_id"] == rid
    assert entry["method"] == "GET" and entry["endpoint"] == "pages.healthz"
    assert entry["path"] == "/healthz" and entry["status"] == 200
    assert entry["duration_ms"] >= 0 and entry["time"].endswith("+00:00")
    assert "abc123secret" not in "".join(logs.lines)


def test_a_safe_request_id_from_the_proxy_is_kept(app, logs):
    http = app.test_client()
    rid = "0123456789abcdef0123456789abcdef"
    assert http.get("/healthz", headers={"X-Request-ID": rid}).headers["X-Request-ID"] == rid
    for hostile in ('a"b;c-1234567', "x" * 65, "<script>alert(1)</script>", "abc def ghi"):
        got = http.get("/healthz", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert got != hostile and re.fullmatch(r"[0-9a-f]{32}", got)
    assert [e["request_id"] for e in logs.requests()][0] == rid


@pytest.mark.parametrize("locale", ["de", "en"])
def test_error_pages_show_the_request_id(app, locale, logs):
    http = app.test_client()
    rid = "citizen-quotes-this-1234"
    response = http.get("/no-such-page", headers={"X-Request-ID": rid, "Accept-Language": locale})
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert says("Reference to quote when you contact us: %(id)s", locale, id=rid) in body
    assert logs.requests()[-1]["request_id"] == rid


def test_token_paths_are_not_logged_verbatim(app, logs):
    http = app.test_client()
    http.get("/account/reset/the-secret-reset-token")
    http.get("/account/verify/the-secret-verify-token")
    http.get("/notifications/unsubscribe/the-secret-unsubscribe-token")
    http.get("/somewhere/anna@example.org/else")
    paths = [e["path"] for e in logs.requests()]
    assert paths[:3] == [
        "/account/reset/[token]",
        "/account/verify/[token]",
        "/notifications/unsubscribe/[token]",
    ]
    assert paths[3] == "/somewhere/[email]/else"
    assert "secret" not in "".join(logs.lines) and "anna@" not in "".join(logs.lines)


def test_main_flows_log_no_addresses_or_passwords(app, client, make_user, login, mailbox, logs):
    """Register (with its verification mail job), log in wrong, ask for a reset, delete the
    account, meet error pages: not one log line holds an address or the password."""
    client.post_form(
        "/account/register",
        {
            "email": "new.citizen@example.org",
            "password": PASSWORD,
            "pseudonym": "Neu",
            "locale": "de",
            "consent": "y",
        },
    )
    assert mailbox.to("new.citizen@example.org")  # the mail job ran
    user = make_user(email="erika@example.org")
    client.post_form(
        "/account/login", {"email": "erika@example.org", "password": "wrong " + PASSWORD}
    )
    client.post_form("/account/login", {"email": "nobody@example.org", "password": PASSWORD})
    client.post_form("/account/forgot-password", {"email": "erika@example.org"})
    client.post_form("/account/forgot-password", {"email": "unknown@example.org"})
    client.http.get("/account/reset/not-a-valid-token?email=erika@example.org")
    login(user)
    client.post_form("/account/delete", {"current_password": PASSWORD, "confirm": "y"})
    client.http.get("/ideas/999999")
    client.http.post("/account/login", data={"email": "erika@example.org", "password": PASSWORD})
    text = "\n".join(logs.lines)
    assert len(logs.requests()) >= 10
    assert not EMAIL.search(text), EMAIL.search(text)
    assert PASSWORD not in text


def test_wsgi_logs_json_lines_on_stderr(app, capsys):
    from consult.ops.logs import configure_logging

    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        app.config["LOG_FORMAT"] = "plain"
        configure_logging(app)
        assert root.handlers == before
        app.config["LOG_FORMAT"] = "json"
        configure_logging(app)
        configure_logging(app)  # once per process
        assert len(root.handlers) == len(before) + 1
        capsys.readouterr()
        app.test_client().get("/healthz", headers={"X-Request-ID": "from-the-proxy-42"})
        err = capsys.readouterr().err.splitlines()
        # (Alembic's logging config of the test database may write plain lines too.)
        lines = [json.loads(line) for line in err if line.startswith("{")]
    finally:
        for handler in root.handlers[len(before) :]:
            root.removeHandler(handler)
        root.setLevel(level)
    assert lines[-1]["request_id"] == "from-the-proxy-42"
    assert lines[-1]["endpoint"] == "pages.healthz"


def test_database_errors_do_not_carry_the_parameters(app):
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from consult.extensions import db

    with pytest.raises(SQLAlchemyError) as raised:
        db.session.execute(text("SELECT no_such_column WHERE 1 = :x"), {"x": "anna@example.org"})
    db.session.rollback()
    assert "anna@example.org" not in str(raised.value)


def test_addresses_in_exceptions_are_blanked(logs):
    import smtplib

    log = logging.getLogger("consult.jobs")
    try:
        raise smtplib.SMTPRecipientsRefused({"anna.b@mail.example.org": (550, b"no such user")})
    except smtplib.SMTPException:
        log.exception("inline job %s failed; it stays pending", 7)
    log.warning("sent to %s", "erika+tag@example.co.uk")
    text = "\n".join(logs.lines)
    assert "example" not in text and "[email]" in text
    assert "SMTPRecipientsRefused" in text and "inline job 7 failed" in text
