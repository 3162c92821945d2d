"""Background jobs: one enqueue helper, an outbox that survives a Redis outage, and the jobs.

``enqueue()`` writes an outbox row in the caller's transaction, so a job exists exactly
when the change that caused it was committed. After the commit the row is handed to RQ
(or run inline when no Redis is configured). If Redis is down the row stays pending and
``relay_pending()`` (run by every worker) hands it over once Redis is back: no mail is lost.
Jobs take ids and plain values, never objects, and are safe to run twice.
"""

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy import JSON, String, Text, delete, event, or_, select, update
from sqlalchemy import inspect as orm_inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from .clock import now
from .dbtypes import UTCDateTime
from .extensions import db, get_redis
from .redis_breaker import redis_available, redis_failed, redis_worked

log = logging.getLogger(__name__)

JOBS: dict[str, Callable] = {}
_PENDING = "consult_outbox_pending"
# A claimed job not finished within this time is considered crashed and may run again.
LEASE = timedelta(minutes=10)
# A dispatched job not done after this long is handed to RQ again.
REDISPATCH_AFTER = timedelta(minutes=15)
# A job that was never dispatched (Redis was down) is relayed after this grace period.
RELAY_GRACE = timedelta(seconds=5)
MAX_ATTEMPTS = 8
KEEP_DONE = timedelta(days=7)


class Outbox(db.Model):
    __tablename__ = "job_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    args: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


def job(fn: Callable) -> Callable:
    """Register a function as a job under its name."""
    JOBS[fn.__name__] = fn
    return fn


def enqueue(fn: Callable | str, *args) -> Outbox:
    """Record a job in the current transaction; it is dispatched only after the commit."""
    name = fn if isinstance(fn, str) else fn.__name__
    if name not in JOBS:
        raise ValueError(f"unknown job {name!r}")
    # Round-trip through JSON now, so a non-serialisable argument fails in the caller.
    row = Outbox(job=name, args=json.loads(json.dumps(list(args))))
    db.session.add(row)
    db.session.info.setdefault(_PENDING, []).append(row)
    return row


def _after_commit(session: Session) -> None:
    rows = session.info.pop(_PENDING, [])
    ids = [state.identity[0] for state in map(orm_inspect, rows) if state.identity]
    if ids and has_app_context():
        dispatch(ids)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def dispatch(ids: list[int]) -> None:
    """Hand committed outbox rows to RQ, or run them inline when no Redis is configured."""
    app = current_app._get_current_object()
    redis = get_redis()
    if redis is None:
        for outbox_id in ids:
            # A fresh app context gives the job its own session, apart from the caller's.
            with app.app_context():
                try:
                    run_outbox(outbox_id)
                except Exception:
                    log.exception("inline job %s failed; it stays pending", outbox_id)
        return
    # A request does not wait for a Redis that just failed (consult.redis_breaker): the
    # rows stay pending and relay_pending() hands them over once Redis answers again.
    if not redis_available():
        log.info("Redis unavailable, %d job(s) wait in the outbox", len(ids))
        return
    try:
        queue = _queue(redis)
        for outbox_id in ids:
            _enqueue_rq(queue, outbox_id)
    except Exception as exc:  # redis.exceptions.ConnectionError and timeouts
        log.warning("Redis unavailable, %d job(s) wait in the outbox: %s", len(ids), exc)
        redis_failed(exc)
        return
    redis_worked()
    with db.engine.begin() as conn:
        conn.execute(update(Outbox).where(Outbox.id.in_(ids)).values(dispatched_at=now()))


def _queue(redis):
    from rq import Queue

    return Queue(current_app.config["RQ_QUEUE"], connection=redis)


def _enqueue_rq(queue, outbox_id: int) -> None:
    from rq import Retry

    queue.enqueue(
        "consult.jobs.run_outbox",
        outbox_id,
        job_id=f"outbox-{outbox_id}",
        retry=Retry(max=3, interval=[10, 60, 300]),
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )


def run_outbox(outbox_id: int) -> str:
    """Run one outbox job unless it is done or running elsewhere (the RQ entry point)."""
    if not has_app_context():
        from . import create_app

        with create_app().app_context():
            return run_outbox(outbox_id)
    t = now()
    claimed = db.session.execute(
        update(Outbox)
        .where(
            Outbox.id == outbox_id,
            Outbox.done_at.is_(None),
            Outbox.attempts < MAX_ATTEMPTS,
            or_(Outbox.started_at.is_(None), Outbox.started_at < t - LEASE),
        )
        .values(started_at=t, attempts=Outbox.attempts + 1)
    ).rowcount
    db.session.commit()
    if not claimed:
        return "skipped"
    row = db.session.get(Outbox, outbox_id)
    try:
        JOBS[row.job](*row.args)
    except Exception as exc:
        db.session.rollback()
        row = db.session.get(Outbox, outbox_id)
        row.started_at = None
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        db.session.commit()
        raise
    row.done_at = now()
    row.last_error = None
    db.session.commit()
    return "done"


def relay_pending(limit: int = 500) -> int:
    """Hand over jobs that never reached Redis, or went missing there. Safe to run anywhere.

    Also forgets finished jobs after a week: their arguments may hold e-mail addresses.
    """
    t = now()
    db.session.execute(delete(Outbox).where(Outbox.done_at < t - KEEP_DONE))
    db.session.commit()
    rows = db.session.scalars(
        select(Outbox.id)
        .where(
            Outbox.done_at.is_(None),
            Outbox.attempts < MAX_ATTEMPTS,
            or_(
                (Outbox.dispatched_at.is_(None)) & (Outbox.created_at < t - RELAY_GRACE),
                Outbox.dispatched_at < t - REDISPATCH_AFTER,
            ),
        )
        .order_by(Outbox.id)
        .limit(limit)
    ).all()
    if rows:
        dispatch(list(rows))
    return len(rows)


def run_due_tasks() -> None:
    """Work that falls due with the clock rather than a request: the results mail at the
    embargo time. Safe to run on every worker at once: each task claims its rows first."""
    from .results.services import mail_due_results

    mail_due_results()


def run_worker(app: Flask, burst: bool = False, relay_every: float = 5.0) -> None:
    """An RQ worker inside the app, plus a relay thread that empties the outbox."""
    from rq import SimpleWorker

    redis = get_redis()
    if redis is None:
        raise RuntimeError("REDIS_URL is not set: without Redis, jobs run inline.")
    relay_pending()
    stop = threading.Event()

    def relay_loop():
        while not stop.wait(relay_every):
            with app.app_context():
                try:
                    relay_pending()
                    run_due_tasks()
                except Exception:
                    log.exception("relay failed; retrying")

    if not burst:
        threading.Thread(target=relay_loop, name="outbox-relay", daemon=True).start()

    class AppWorker(SimpleWorker):
        """Runs jobs in this process (no fork), each in a fresh app context and session."""

        def execute_job(self, job, queue):
            with app.app_context():
                return super().execute_job(job, queue)

    try:
        AppWorker([_queue(redis)], connection=redis).work(burst=burst, with_scheduler=False)
    finally:
        stop.set()


def init_app(app: Flask) -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


# --- the jobs ---------------------------------------------------------------------------


@job
def send_email(to: str, template: str, locale: str, context: dict) -> None:
    """Render a mail in the recipient's language and send it (SMTP or a file in development)."""
    from .mail import send_templated

    send_templated(to, template, locale, context)


@job
def make_thumbnail(image_id: int) -> None:
    """Render the list-sized version of an uploaded image (idempotent)."""
    from .media.services import make_thumbnail as render

    render(image_id)


@job
def send_project_update_mails(update_id: int) -> int:
    """Mail a lab project's progress update to the idea's supporters (once, however often run)."""
    from .projects.services import mail_project_update

    return mail_project_update(update_id)


@job
def render_result_charts(challenge_id: int) -> int:
    """Draw a challenge's result charts (SVG and PNG, both languages); unchanged ones are skipped."""
    from .results.charts import render_charts

    return render_charts(challenge_id)
