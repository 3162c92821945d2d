"""Two workers at once (PostgreSQL, real concurrency): each runs the due notifications,
and every person gets exactly one mail of each kind. Counted twice: the outbox rows and
the mail files."""

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from notifications_support import DAY, HOUR, follow, make_challenge, make_idea
from setup_support import run_together
from sqlalchemy import select

from consult.clock import now
from consult.extensions import db
from consult.jobs import Outbox
from consult.notifications import services

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres_only


def world(make_user):
    """Voting just opened in one challenge and closes within a day in another; some people
    chose the digest, which is due. Returns the expected (address, template) pairs."""
    opening = make_challenge(opens=-HOUR, closes=5 * DAY)
    closing = make_challenge(opens=-3 * DAY, closes=12 * HOUR)
    closing.voting_opens_mailed_at = now() - 3 * DAY
    db.session.commit()
    expected = Counter()
    for n in range(6):
        person = make_user(email=f"p{n}@example.org", locale="en" if n % 2 else "de")
        follow(opening, person)
        follow(closing, person)
        expected[(person.email, "voting_opens")] += 1
        expected[(person.email, "voting_closes_soon")] += 1
    for n in range(3):
        author = make_user(email=f"author{n}@example.org")
        make_idea(opening, author=author, title=f"Idee {n}")
        expected[(author.email, "voting_opens")] += 1
    for n in range(3):
        reader = make_user(email=f"digest{n}@example.org")
        services.save_settings(reader, {}, digest=True)
        reader.digest_sent_at = now() - 8 * DAY  # last digest more than a week ago
        db.session.commit()
        follow(opening, reader)  # goes into the digest, not a single mail
        expected[(reader.email, "weekly_digest")] += 1
    return expected


def outbox_mails() -> Counter:
    db.session.expire_all()
    rows = db.session.scalars(select(Outbox).where(Outbox.job == "send_email"))
    return Counter((row.args[0], row.args[1]) for row in rows)


def mail_files(mailbox) -> Counter:
    return Counter(message["To"] for message in mailbox.messages())


def _run_in_own_session(app):
    def job():
        with app.app_context():
            try:
                return services.send_due_notifications()
            finally:
                db.session.remove()

    return job


def test_two_worker_threads_at_once_tell_everyone_once(app, make_user, mailbox):
    expected = world(make_user)
    runs = run_together([_run_in_own_session(app), _run_in_own_session(app)])
    # One run claimed each challenge, the other found it mailed: 6 followers and 3 authors
    # by mail, 3 digest readers by a digest item; 6 reminders.
    assert sum(run["voting_opens"] for run in runs) == 12
    assert sum(run["voting_closes"] for run in runs) == 6
    assert sum(run["digests"] for run in runs) == 3
    # And twice more in a row, as the worker loop does every few seconds: nothing new.
    assert services.send_due_notifications() == {
        "voting_opens": 0,
        "voting_closes": 0,
        "digests": 0,
    }
    assert services.send_due_notifications() == {
        "voting_opens": 0,
        "voting_closes": 0,
        "digests": 0,
    }
    assert outbox_mails() == expected
    assert mail_files(mailbox) == Counter(address for address, _template in expected.elements())


def _worker_env(app) -> dict:
    env = dict(
        os.environ,
        CONSULT_SECRET_KEY=app.config["SECRET_KEY"],
        CONSULT_SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        CONSULT_MAIL_DIR=app.config["MAIL_DIR"],
        CONSULT_PUBLIC_URL=app.config["PUBLIC_URL"],
    )
    env.pop("CONSULT_REDIS_URL", None)  # no Redis: each process sends its mails inline
    return env


def _start_worker(app) -> subprocess.Popen:
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "notifications", "send-due"]
    return subprocess.Popen(
        command, cwd=ROOT, env=_worker_env(app), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    return out


def test_two_worker_processes_at_once_tell_everyone_once(app, make_user, mailbox):
    expected = world(make_user)
    processes = [_start_worker(app), _start_worker(app)]
    outputs = [_finish(process) for process in processes]
    assert outbox_mails() == expected, outputs
    assert mail_files(mailbox) == Counter(address for address, _template in expected.elements())
    again = _finish(_start_worker(app))
    assert "voting opens: 0, voting closes: 0, digests: 0" in again
    assert outbox_mails() == expected
