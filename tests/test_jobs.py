"""The job outbox: jobs exist only after a commit, run inline without Redis, go through a
real Redis and a real RQ worker with it, and survive a Redis outage."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import func, select

from consult import jobs
from consult.clock import travel
from consult.extensions import db
from consult.jobs import Outbox

ROOT = Path(__file__).resolve().parent.parent
CALLS: list = []


@jobs.job
def remember_call(value):
    """A test job that records its argument (runs inline in these tests)."""
    CALLS.append(value)


@jobs.job
def always_fails(value):
    """A test job that raises, to check that a failed job stays pending."""
    raise RuntimeError(f"boom {value}")


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Outbox))


def test_job_runs_inline_only_after_commit(app):
    jobs.enqueue(remember_call, 1)
    db.session.flush()
    assert CALLS == []  # not before the commit
    db.session.commit()
    assert CALLS == [1]
    row = db.session.scalar(select(Outbox))
    assert row.done_at is not None and row.attempts == 1


def test_rolled_back_job_never_runs(app):
    jobs.enqueue(remember_call, 2)
    db.session.rollback()
    db.session.commit()
    assert CALLS == []
    assert outbox_count() == 0


def test_running_a_job_twice_does_it_once(app):
    jobs.enqueue(remember_call, 3)
    db.session.commit()
    row_id = db.session.scalar(select(Outbox.id))
    assert jobs.run_outbox(row_id) == "skipped"
    assert CALLS == [3]


def test_failed_job_stays_pending_with_its_error_and_is_retried_after_a_backoff(app):
    jobs.enqueue(always_fails, 4)
    db.session.commit()
    row = db.session.scalar(select(Outbox))
    assert row.done_at is None and "boom 4" in row.last_error and row.started_at is None
    assert row.retry_at is not None and row.claimed_by is None
    # Not before its retry time, not even when asked directly or by the relay...
    assert jobs.run_outbox(row.id) == "skipped"
    with travel(timedelta(seconds=6)):
        assert jobs.relay_pending() == 0
    # ...and then by the relay (inline here, as without Redis).
    with travel(jobs.BACKOFF[0] + timedelta(seconds=1)):
        assert jobs.relay_pending() == 1
    db.session.refresh(row)
    assert row.attempts == 2
    # The second failure waits longer than the first.
    assert row.retry_at - row.created_at > jobs.BACKOFF[1]


def test_unknown_or_unserialisable_job_is_refused_in_the_caller(app):
    with pytest.raises(ValueError):
        jobs.enqueue("no_such_job")
    with pytest.raises(TypeError):
        jobs.enqueue(remember_call, object())


def test_finished_jobs_are_forgotten_after_a_week(app):
    jobs.enqueue(remember_call, 5)
    db.session.commit()
    with travel(timedelta(days=8)):
        jobs.relay_pending()
    assert outbox_count() == 0


def test_inline_mail_is_written_in_the_recipients_language(app, mailbox):
    jobs.enqueue(
        jobs.send_email,
        "ana@example.org",
        "reset_password",
        "en",
        {"name": "Ana", "url": "http://x/reset/1"},
    )
    jobs.enqueue(
        jobs.send_email,
        "bo@example.org",
        "reset_password",
        "de",
        {"name": "Bo", "url": "http://x/reset/2"},
    )
    db.session.commit()
    english, german = mailbox.last_to("ana@example.org"), mailbox.last_to("bo@example.org")
    assert english["Subject"] == "Reset your password"
    assert english["Content-Language"] == "en"
    assert "Hello Ana," in mailbox.text(english)
    assert '<html lang="en">' in mailbox.html(english)
    assert german["Content-Language"] == "de"
    assert german["Subject"] != "Reset your password"
    assert '<html lang="de">' in mailbox.html(german)
    assert "http://x/reset/2" in mailbox.text(german)


# --- with a real Redis and a real RQ worker ----------------------------------------------


@pytest.fixture
def app_config(request):
    if "redis_url" in request.fixturenames:
        return {"REDIS_URL": request.getfixturevalue("redis_url"), "RQ_QUEUE": "consult-test"}
    return {}


def run_worker(app) -> subprocess.CompletedProcess:
    """`flask jobs worker --burst` in its own process, configured like the app under test."""
    env = dict(
        os.environ,
        CONSULT_SECRET_KEY=app.config["SECRET_KEY"],
        CONSULT_SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        CONSULT_REDIS_URL=app.config["REDIS_URL"],
        CONSULT_RQ_QUEUE=app.config["RQ_QUEUE"],
        CONSULT_MAIL_DIR=app.config["MAIL_DIR"],
        CONSULT_PUBLIC_URL=app.config["PUBLIC_URL"],
    )
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def register(client, email="rita@example.org"):
    response = client.post_form(
        "/account/register",
        {
            "email": email,
            "password": "a long and lovely passphrase",
            "pseudonym": "Rita",
            "locale": "en",
            "consent": "y",
        },
    )
    assert response.status_code == 200
    return response


def test_mail_job_goes_through_redis_and_a_real_worker(app, client, redis_url, mailbox):
    register(client)
    # Nothing is sent in the request: the job waits in Redis for a worker.
    assert mailbox.messages() == []
    assert Redis.from_url(redis_url).llen("rq:queue:consult-test") == 1
    row = db.session.scalar(select(Outbox))
    assert row.dispatched_at is not None and row.done_at is None

    output = run_worker(app)

    message = mailbox.last_to("rita@example.org")
    assert message["Subject"] == "Please confirm your e-mail address"
    assert "/account/verify/" in mailbox.text(message)
    db.session.expire_all()
    assert db.session.scalar(select(Outbox)).done_at is not None
    assert (
        "Job OK" in output.stderr + output.stdout
        or "Successfully completed" in output.stderr + output.stdout
    )


def test_no_mail_is_lost_while_redis_is_down(app, client, redis_url, mailbox):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    app.extensions.pop("consult_redis", None)
    register(client, "down@example.org")  # the request still works
    row = db.session.scalar(select(Outbox))
    assert row.dispatched_at is None and row.done_at is None
    assert mailbox.messages() == []

    # Redis is back: the relay (which every worker runs) hands the job over.
    app.config["REDIS_URL"] = redis_url
    app.extensions.pop("consult_redis", None)
    with travel(timedelta(seconds=10)):
        assert jobs.relay_pending() == 1
    run_worker(app)
    assert len(mailbox.to("down@example.org")) == 1
    db.session.expire_all()
    assert db.session.scalar(select(Outbox)).done_at is not None
    # Relaying again sends nothing twice.
    with travel(timedelta(minutes=30)):
        assert jobs.relay_pending() == 0


def test_the_worker_loop_mails_results_that_fell_due(app, make_user, mailbox):
    """The relay loop of every worker also runs what falls due with the clock."""
    from results.results_support import frozen_world, publish_past_embargo

    from consult.results.models import ResultsSubscription

    world = frozen_world(make_user)
    reader = make_user(email="leserin@example.org", locale="en")
    db.session.add(ResultsSubscription(challenge_id=world.challenge.id, user_id=reader.id))
    db.session.commit()
    publish_past_embargo(world, ago=timedelta(seconds=5))
    jobs.run_due_tasks()
    jobs.run_due_tasks()  # twice, as two workers would
    assert len(mailbox.to("leserin@example.org")) == 1


def test_a_worker_stops_within_seconds_once_its_command_channel_is_closed(app, redis_url):
    """RQ listened for commands in 60 s waits and redis-py's stop() waits for the listener:
    a burst worker lingered a minute after its last job (seen in the suite under load)."""
    import time

    app.config["REDIS_URL"] = redis_url
    redis = Redis.from_url(redis_url)
    worker = jobs.AppWorker([jobs._queue(redis)], connection=redis)
    worker.subscribe()
    time.sleep(0.3)
    worker.pubsub.unsubscribe()
    time.sleep(0.5)  # the listener has seen it and now waits for a new subscription
    started = time.monotonic()
    worker.unsubscribe()
    assert time.monotonic() - started < 3
