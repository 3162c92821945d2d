"""How a mail job records its SMTP send, and the staff commands for pending jobs.

A mail is recorded as "maybe sent" just before the end of its SMTP data (the point of no
return). Before that point a failure is retried normally; after it, with no answer
recorded, the mail is held for staff rather than sent twice. Jobs run inline here (no
Redis) against a real SMTP sink on loopback; the relay is asked directly.
"""

import email
from datetime import UTC, timedelta
from email import policy

import pytest
from fault_support import SmtpSink
from redis import Redis
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from consult import jobs
from consult.audit.models import AuditEntry
from consult.clock import now, travel
from consult.extensions import db
from consult.jobs import JobRun, Outbox


@pytest.fixture
def sink():
    server = SmtpSink()
    yield server
    server.close()


@pytest.fixture
def app_config(request):
    config = {}
    if "sink" in request.fixturenames:
        port = request.getfixturevalue("sink").port
        config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False)
    if "redis_url" in request.fixturenames:
        config.update(REDIS_URL=request.getfixturevalue("redis_url"), RQ_QUEUE="consult-test")
    return config


def send_mail(to: str = "ana@example.org") -> Outbox:
    row = jobs.enqueue(
        jobs.send_email, to, "reset_password", "en", {"name": "Ana", "url": "http://x/r/1"}
    )
    db.session.commit()
    db.session.refresh(row)
    return row


def after_backoff(row: Outbox):
    return travel(row.retry_at - now() + timedelta(seconds=1))


def test_a_mail_is_sent_once_with_a_message_id_stable_per_job(app, sink):
    row = send_mail()
    assert len(sink.messages) == 1
    assert row.done_at is not None and row.maybe_sent_at is not None and row.attempts == 1
    received = email.message_from_bytes(sink.messages[0], policy=policy.default)
    expected = JobRun(row.id, "any", row.created_at, db.engine).message_id("consult.local")
    assert received["Message-ID"] == expected
    assert str(row.id) in expected


def test_a_refusal_at_the_end_of_data_is_retried_normally(app, sink):
    sink.end_reply = "451 4.3.0 try again later"
    row = send_mail()
    assert sink.messages == []
    assert row.done_at is None and row.maybe_sent_at is None  # surely not delivered
    assert "451" in row.last_error and row.retry_at is not None

    sink.end_reply = "250 ok"
    with after_backoff(row):
        assert jobs.relay_pending() == 1
    db.session.refresh(row)
    assert row.done_at is not None and row.attempts == 2
    assert len(sink.messages) == 1


def test_a_mail_whose_answer_was_lost_is_held_and_never_sent_twice(app, sink):
    sink.end_reply = "drop"  # the server took the whole mail, then the line went dead
    row = send_mail()
    assert len(sink.messages) == 1
    assert row.done_at is None and row.maybe_sent_at is not None
    with travel(timedelta(hours=2)):
        assert jobs.relay_pending() == 0
        assert jobs.run_outbox(row.id) == "skipped"
    assert len(sink.messages) == 1
    (pending,) = jobs.list_pending_jobs()
    assert pending.id == row.id and pending.state == "maybe-sent"


def test_a_send_that_cannot_record_its_point_of_no_return_delivers_nothing(app, sink, monkeypatch):
    def database_gone(self):
        raise OperationalError("UPDATE job_outbox", {}, Exception("server closed the connection"))

    with monkeypatch.context() as patch:
        patch.setattr(JobRun, "mark_maybe_sent", database_gone)
        row = send_mail()
    # The connection was dropped before the end of data: the server discarded the mail.
    assert sink.messages == []
    assert row.done_at is None and row.maybe_sent_at is None and row.retry_at is not None
    with after_backoff(row):
        assert jobs.relay_pending() == 1
    assert len(sink.messages) == 1


def test_a_claim_whose_heartbeat_stopped_is_taken_over_after_stale_after(app):
    """A worker killed mid-job leaves its claim; no one may run it while it beats."""
    row = send_mail()  # done inline; make it look like a dead worker's job instead
    t = now()
    row.done_at = row.maybe_sent_at = None  # it died before its point of no return
    row.started_at = row.heartbeat_at = t
    row.claimed_by = "elsewhere:1:dead"
    db.session.commit()
    with travel(jobs.STALE_AFTER - timedelta(seconds=2)):
        assert jobs.relay_pending() == 0
        assert jobs.run_outbox(row.id) == "skipped"
    with travel(jobs.STALE_AFTER + timedelta(seconds=1)):
        assert jobs.relay_pending() == 1
    db.session.refresh(row)
    assert row.done_at is not None and row.attempts == 2


def test_the_relay_redispatches_a_job_that_redis_lost_but_not_one_it_still_holds(app, redis_url):
    row = send_mail("lost@example.org")
    assert row.dispatched_at is not None
    queue = "rq:queue:consult-test"
    redis = Redis.from_url(redis_url)
    with travel(timedelta(seconds=30)):
        assert jobs.relay_pending() == 0  # still queued in RQ: a long queue is no fault
    assert redis.llen(queue) == 1
    redis.flushdb()  # Redis restarted without persistence
    with travel(timedelta(seconds=30)):
        assert jobs.relay_pending() == 1
    assert redis.llen(queue) == 1


# --- staff commands ------------------------------------------------------------------------


def pending_rows(n: int) -> list[Outbox]:
    """n mail jobs waiting in the outbox (never dispatched: as after a restore)."""
    rows = [
        Outbox(job="send_email", args=[f"p{i}@example.org", "reset_password", "en", {}])
        for i in range(n)
    ]
    db.session.add_all(rows)
    db.session.flush()
    db.session.info.pop("consult_outbox_pending", None)
    db.session.commit()
    return rows


def test_jobs_pending_lists_id_job_created_attempts_and_state(app, sink):
    sink.end_reply = "drop"
    held = send_mail("held@example.org")
    waiting = pending_rows(1)[0]
    result = app.test_cli_runner().invoke(args=["jobs", "pending"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[1:-1]}
    assert "send_email" in lines[str(held.id)] and "maybe-sent" in lines[str(held.id)]
    assert f"{held.created_at:%Y-%m-%d %H:%M}" in lines[str(held.id)]
    assert lines[str(waiting.id)].split()[4:6] == ["0", "waiting"]
    assert "2 pending job(s)." in result.output


def test_jobs_pending_says_so_when_there_are_none(app):
    result = app.test_cli_runner().invoke(args=["jobs", "pending"])
    assert result.exit_code == 0 and "No pending jobs." in result.output


def test_mark_done_asks_first_and_changes_nothing_on_no(app):
    first, _second = pending_rows(2)
    result = app.test_cli_runner().invoke(args=["jobs", "mark-done", str(first.id)], input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    db.session.refresh(first)
    assert first.done_at is None
    assert db.session.scalar(select(AuditEntry)) is None


def test_mark_done_by_id_is_audited_and_the_job_never_runs(app, sink):
    first, second = pending_rows(2)
    result = app.test_cli_runner().invoke(args=["jobs", "mark-done", str(first.id)], input="y\n")
    assert result.exit_code == 0, result.output
    assert "1 job(s) marked done." in result.output
    db.session.expire_all()
    assert first.done_at is not None and second.done_at is None
    entry = db.session.scalar(select(AuditEntry))
    assert entry.action == "jobs.mark_done" and entry.details["ids"] == [first.id]
    with travel(timedelta(minutes=1)):
        jobs.relay_pending()  # inline: runs the second, never the first
    assert [m for m in sink.messages if b"p0@example.org" in m] == []
    assert len([m for m in sink.messages if b"p1@example.org" in m]) == 1


def test_mark_done_all_before_a_time_with_yes(app):
    old, new = pending_rows(2)
    old.created_at = now() - timedelta(hours=3)
    db.session.commit()
    cutoff = (now() - timedelta(hours=1)).astimezone(UTC).replace(tzinfo=None).isoformat()
    result = app.test_cli_runner().invoke(
        args=["jobs", "mark-done", "--all-before", cutoff, "--yes"]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert old.done_at is not None and new.done_at is None
    assert cutoff in db.session.scalar(select(AuditEntry)).details["reason"]


def test_mark_done_all_before_accepts_the_time_as_pg_restore_prints_it(app):
    old, new = pending_rows(2)
    old.created_at = now() - timedelta(hours=3)
    db.session.commit()
    dumped = f"{now() - timedelta(hours=1):%Y-%m-%d %H:%M:%S} UTC"
    result = app.test_cli_runner().invoke(
        args=["jobs", "mark-done", "--all-before", dumped], input="y\n"
    )
    assert result.exit_code == 0, result.output
    assert "Mark these 1 job(s) done?" in result.output
    db.session.expire_all()
    assert old.done_at is not None and new.done_at is None


@pytest.mark.parametrize(
    "args",
    [
        ["jobs", "mark-done"],  # neither ids nor --all-before
        ["jobs", "mark-done", "1", "--all-before", "2026-01-01T00:00"],  # both
        ["jobs", "mark-done", "--all-before", "last tuesday", "--yes"],
        ["jobs", "mark-done", "99999", "--yes"],  # no such pending job
    ],
)
def test_mark_done_refuses_bad_input_and_changes_nothing(app, args):
    (row,) = pending_rows(1)
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 2 if "99999" not in args else result.exit_code == 1
    assert "Error" in result.output
    db.session.refresh(row)
    assert row.done_at is None
    assert db.session.scalar(select(AuditEntry)) is None


def test_retry_sends_a_held_mail_again_with_the_same_message_id(app, sink):
    sink.end_reply = "drop"
    row = send_mail("again@example.org")
    sink.end_reply = "250 ok"
    result = app.test_cli_runner().invoke(args=["jobs", "retry", str(row.id), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.refresh(row)
    assert row.done_at is not None
    first, second = (email.message_from_bytes(m, policy=policy.default) for m in sink.messages)
    assert first["Message-ID"] == second["Message-ID"]
    assert db.session.scalar(select(AuditEntry)).action == "jobs.retry"


def test_an_attempt_whose_claim_was_taken_over_does_not_send(app, sink, monkeypatch):
    """A worker that lost its claim (its heartbeat went stale, another took over) must not
    pass the point of no return as well: only one attempt can mark the mail maybe-sent."""
    real_mark = JobRun.mark_maybe_sent

    def taken_over_just_before(self):
        db.session.execute(
            Outbox.__table__.update()
            .where(Outbox.id == self.outbox_id)
            .values(claimed_by="another:2:worker")
        )
        db.session.commit()
        real_mark(self)

    with monkeypatch.context() as patch:
        patch.setattr(JobRun, "mark_maybe_sent", taken_over_just_before)
        row = send_mail()
    assert sink.messages == []
    assert row.maybe_sent_at is None and row.done_at is None


def test_a_claim_without_a_heartbeat_goes_stale_from_its_start(app):
    """A claim made by a worker of the previous release (no heartbeat column yet)."""
    (row,) = pending_rows(1)
    row.started_at, row.attempts = now(), 1
    db.session.commit()
    assert jobs.relay_pending() == 0
    with travel(jobs.STALE_AFTER + timedelta(seconds=1)):
        assert jobs.relay_pending() == 1
    db.session.refresh(row)
    assert row.done_at is not None and row.attempts == 2
