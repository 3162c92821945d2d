"""Background jobs: one enqueue helper, an outbox that survives a Redis outage, and the jobs.

``enqueue()`` writes an outbox row in the caller's transaction, so a job exists exactly
when the change that caused it was committed. After the commit the row is handed to RQ
(or run inline when no Redis is configured). If Redis is down the row stays pending and
``relay_pending()`` (run by every worker) hands it over once Redis is back: no mail is lost.
Jobs take ids and plain values, never objects, and are safe to run twice.

The outbox, not RQ, is the record of what still has to happen: an RQ job is only a
doorbell that says "run outbox row N now". A running job keeps a heartbeat on its row;
the relay hands a row to RQ again when its worker's heartbeat stopped (a worker killed
mid-job), when Redis no longer holds its RQ job (Redis restarted without persistence), or
when its retry falls due (a job that failed, e.g. while PostgreSQL restarted). So a job
whose worker or queue was lost runs again within about half a minute, not after minutes.

Mail is the one job that must not simply run twice: see ``JobRun.mark_maybe_sent``.
"""

import contextlib
import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, has_app_context
from rq import SimpleWorker
from sqlalchemy import JSON, String, Text, delete, event, func, or_, select, update
from sqlalchemy import inspect as orm_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, Session, mapped_column

from .clock import now
from .dbtypes import UTCDateTime
from .extensions import db, get_redis
from .redis_breaker import redis_available, redis_failed, redis_worked

log = logging.getLogger(__name__)

JOBS: dict[str, Callable] = {}
_PENDING = "consult_outbox_pending"
# A running job writes a heartbeat this often; one without a heartbeat for STALE_AFTER is
# taken for dead (its worker was killed, or lost the database) and may run again.
HEARTBEAT = timedelta(seconds=5)
STALE_AFTER = timedelta(seconds=20)
# A dispatched job that RQ still reports as queued, but is not done after this long, is
# handed to RQ again all the same (a last resort; normally the checks above find it).
REDISPATCH_AFTER = timedelta(minutes=15)
# A job that was never dispatched (Redis was down) is relayed after this grace period.
RELAY_GRACE = timedelta(seconds=5)
# After the n-th failed attempt a job waits BACKOFF[n-1] before it runs again.
BACKOFF = [timedelta(seconds=s) for s in (10, 30, 60, 120, 300, 900, 1800)]
MAX_ATTEMPTS = 8
KEEP_DONE = timedelta(days=7)
# How long a worker keeps trying to record a finished job while the database is away:
# recording it later beats running it (and sending its mail) a second time.
FINISH_PATIENCE = timedelta(minutes=2)
# RQ states in which a dispatched job will still run without our help.
_WAITING_IN_RQ = {b"queued", b"scheduled", b"deferred"}


class Outbox(db.Model):
    __tablename__ = "job_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    args: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The current attempt: when it started, its last sign of life, and who runs it.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    # After a failure: not before this time again.
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A mail whose end of data went to the SMTP server, with no answer recorded: it may
    # have been delivered, so it is held for staff (`flask jobs pending`) instead of rerun.
    maybe_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
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


def _rq_job_id(outbox_id: int) -> str:
    return f"outbox-{outbox_id}"


def _enqueue_rq(queue, outbox_id: int) -> None:
    # No RQ Retry: retries are the outbox's (retry_at, relayed by every worker), so they
    # survive a Redis restart and need no RQ scheduler.
    queue.enqueue(
        "consult.jobs.run_outbox",
        outbox_id,
        job_id=_rq_job_id(outbox_id),
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )


# --- running one job ----------------------------------------------------------------------


@dataclass
class JobRun:
    """The attempt of one outbox row that is running in this thread (see ``current_run``)."""

    outbox_id: int
    token: str
    created_at: datetime
    engine: Engine

    def message_id(self, domain: str) -> str:
        """The same Message-ID on every attempt, so that a mail sent again by staff can be
        recognised (and merged by many mail programs) as the same message."""
        secret = current_app.config["SECRET_KEY"].encode()
        seed = f"{self.outbox_id}:{self.created_at.isoformat()}".encode()
        digest = hashlib.sha256(secret + b":" + seed).hexdigest()[:16]
        return f"<outbox.{self.created_at:%Y%m%d%H%M%S}.{self.outbox_id}.{digest}@{domain}>"

    def mark_maybe_sent(self) -> None:
        """Commit, just before the SMTP end of data, that the mail may be delivered from now on.

        Everything before that point cannot deliver a mail: a server drops a message whose
        data did not end, so a job that dies or loses the database earlier is simply run
        again. If this commit fails, the caller drops the connection instead of ending the
        data: the mail surely was not sent. Only from here to the recorded answer is the
        outcome unknown; such a row is held for staff rather than sent twice.

        Only the attempt that still holds the claim may pass: if this worker's heartbeat
        went stale and another took the job over, this one gives up its send.
        """
        marked = self._set(Outbox.maybe_sent_at.is_(None), maybe_sent_at=now())
        if not marked:
            raise RuntimeError(f"job {self.outbox_id} was taken over by another worker")

    def clear_maybe_sent(self) -> None:
        """The server refused the data: nothing was delivered, an ordinary retry is safe."""
        self._set(maybe_sent_at=None)

    def _set(self, *conditions, **values) -> int:
        with self.engine.begin() as conn:
            return conn.execute(
                update(Outbox)
                .where(Outbox.id == self.outbox_id, Outbox.claimed_by == self.token, *conditions)
                .values(**values)
            ).rowcount


_RUN: ContextVar[JobRun | None] = ContextVar("consult_job_run", default=None)


def current_run() -> JobRun | None:
    """The outbox attempt running in this context, if any (mail uses it to mark its send)."""
    return _RUN.get()


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"[:80]


def _heartbeat(engine: Engine, outbox_id: int, token: str, stop: threading.Event) -> None:
    """Keep this attempt's claim alive while the job runs; a dead worker's claim goes stale."""
    while not stop.wait(HEARTBEAT.total_seconds()):
        try:
            with engine.begin() as conn:
                conn.execute(
                    update(Outbox)
                    .where(Outbox.id == outbox_id, Outbox.claimed_by == token)
                    .values(heartbeat_at=now())
                )
        except Exception as exc:  # the database may be away for a while; keep trying
            log.warning("heartbeat of job %s failed: %s", outbox_id, exc)


def _claimable(t: datetime):
    """The rows that may start an attempt now: pending, not running, not held, due."""
    return (
        Outbox.done_at.is_(None),
        Outbox.attempts < MAX_ATTEMPTS,
        Outbox.maybe_sent_at.is_(None),
        # A claim made by a worker of the previous release has no heartbeat: its start counts.
        or_(
            Outbox.started_at.is_(None),
            func.coalesce(Outbox.heartbeat_at, Outbox.started_at) < t - STALE_AFTER,
        ),
        or_(Outbox.retry_at.is_(None), Outbox.retry_at <= t),
    )


def run_outbox(outbox_id: int) -> str:
    """Run one outbox job unless it is done, running elsewhere, held or not due (RQ's entry)."""
    if not has_app_context():
        from . import create_app

        with create_app().app_context():
            return run_outbox(outbox_id)
    engine = db.engine
    t = now()
    token = _worker_name()
    claimed = db.session.execute(
        update(Outbox)
        .where(Outbox.id == outbox_id, *_claimable(t))
        .values(
            started_at=t,
            heartbeat_at=t,
            claimed_by=token,
            attempts=Outbox.attempts + 1,
        )
    ).rowcount
    db.session.commit()
    if not claimed:
        return "skipped"
    row = db.session.get(Outbox, outbox_id)
    name, args, attempt = row.job, row.args, row.attempts
    run = JobRun(outbox_id, token, row.created_at, engine)
    # The job starts without an open transaction: one held across a slow send would die
    # with a database restart and fail a job whose work was done.
    db.session.rollback()
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(engine, outbox_id, token, stop), daemon=True, name="job-beat"
    )
    beat.start()
    reset = _RUN.set(run)
    try:
        JOBS[name](*args)
        if db.session.new or db.session.dirty or db.session.deleted:
            db.session.commit()  # work the job left uncommitted is part of the job
    except BaseException as exc:
        _record_failure(engine, outbox_id, token, attempt, exc)
        raise
    else:
        with contextlib.suppress(Exception):  # only reads are left, if anything
            db.session.rollback()
        _record_done(engine, outbox_id)
    finally:
        _RUN.reset(reset)
        stop.set()
    return "done"


def _record_failure(engine: Engine, outbox_id: int, token: str, attempt: int, exc) -> None:
    """Free the claim and set the time of the next attempt (best effort: when the database
    itself is away, the claim simply goes stale and the relay finds the row anyway)."""
    with contextlib.suppress(Exception):  # a dead connection cannot roll back; it is dropped
        db.session.rollback()
    wait = BACKOFF[min(attempt, len(BACKOFF)) - 1]
    try:
        with engine.begin() as conn:
            conn.execute(
                update(Outbox)
                .where(Outbox.id == outbox_id, Outbox.claimed_by == token)
                .values(
                    started_at=None,
                    heartbeat_at=None,
                    claimed_by=None,
                    retry_at=now() + wait,
                    last_error=f"{type(exc).__name__}: {exc}"[:2000],
                )
            )
    except Exception as record_exc:
        log.warning("could not record the failure of job %s: %s", outbox_id, record_exc)


def _record_done(engine: Engine, outbox_id: int) -> None:
    """Mark the job done, waiting out a database restart rather than giving up: a job whose
    work happened but is not recorded would run again (and a mail go out twice)."""
    deadline = time.monotonic() + FINISH_PATIENCE.total_seconds()
    delay = 0.25
    while True:
        try:
            with engine.begin() as conn:
                conn.execute(
                    update(Outbox)
                    .where(Outbox.id == outbox_id)
                    .values(done_at=now(), last_error=None, started_at=None, claimed_by=None)
                )
            return
        except DBAPIError as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("job %s is done but not yet recorded, retrying: %s", outbox_id, exc)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


# --- the relay ------------------------------------------------------------------------------


def _waiting_in_rq(redis, ids: list[int]) -> set[int]:
    """The ids whose RQ job still exists and will run without being handed over again."""
    if redis is None or not ids:
        return set()
    from rq.job import Job

    pipe = redis.pipeline(transaction=False)
    for outbox_id in ids:
        pipe.hget(Job.key_for(_rq_job_id(outbox_id)), "status")
    return {i for i, status in zip(ids, pipe.execute(), strict=True) if status in _WAITING_IN_RQ}


def relay_pending(limit: int = 500) -> int:
    """Hand over jobs that never reached Redis, went missing there, lost their worker or whose
    retry fell due. Safe to run anywhere, any number of times: every run claims its row.

    Also forgets finished jobs after a week: their arguments may hold e-mail addresses.
    """
    t = now()
    db.session.execute(delete(Outbox).where(Outbox.done_at < t - KEEP_DONE))
    db.session.commit()
    rows = db.session.execute(
        select(Outbox.id, Outbox.dispatched_at)
        .where(
            *_claimable(t),
            or_(
                (Outbox.dispatched_at.is_(None)) & (Outbox.created_at < t - RELAY_GRACE),
                Outbox.dispatched_at < t - RELAY_GRACE,
            ),
        )
        .order_by(Outbox.id)
        .limit(limit)
    ).all()
    # A dispatched job that RQ still holds as queued needs nothing (a long queue is no fault),
    # unless it has waited so long that RQ must have lost track of it.
    ask = [i for i, sent in rows if sent is not None and sent >= t - REDISPATCH_AFTER]
    try:
        waiting = _waiting_in_rq(get_redis(), ask)
    except Exception as exc:  # Redis is down: dispatch() below keeps the rows pending
        log.warning("cannot ask Redis about %d job(s): %s", len(ask), exc)
        waiting = set()
    ids = [i for i, _ in rows if i not in waiting]
    if ids:
        dispatch(ids)
    return len(ids)


# --- staff: pending jobs after a fault or a restore ------------------------------------


@dataclass
class PendingJob:
    id: int
    job: str
    created_at: datetime
    attempts: int
    state: str
    last_error: str | None


def job_state(row: Outbox, t: datetime) -> str:
    """What a pending row is waiting for, in one word for staff."""
    if row.done_at is not None:
        return "done"
    if row.maybe_sent_at is not None:
        return "maybe-sent"  # held: may have been delivered, never resent on its own
    if row.started_at is not None and (row.heartbeat_at or row.started_at) >= t - STALE_AFTER:
        return "running"
    if row.attempts >= MAX_ATTEMPTS:
        return "given-up"
    if row.retry_at is not None:
        return "retrying"
    return "queued" if row.dispatched_at is not None else "waiting"


def list_pending_jobs(ids: list[int] | None = None, before: datetime | None = None):
    """Jobs not done yet, oldest first (optionally only these ids, or created before a time)."""
    query = select(Outbox).where(Outbox.done_at.is_(None)).order_by(Outbox.id)
    if ids is not None:
        query = query.where(Outbox.id.in_(ids))
    if before is not None:
        query = query.where(Outbox.created_at < before)
    t = now()
    return [
        PendingJob(r.id, r.job, r.created_at, r.attempts, job_state(r, t), r.last_error)
        for r in db.session.scalars(query)
    ]


def mark_jobs_done(ids: list[int], reason: str) -> int:
    """Mark pending jobs done without running them (e.g. mail already sent before a backup
    was restored, or a maybe-sent mail that did arrive). Audited; returns how many."""
    from .audit.services import record_action

    t = now()
    done = db.session.execute(
        update(Outbox)
        .where(Outbox.id.in_(ids), Outbox.done_at.is_(None))
        .values(done_at=t, started_at=None, claimed_by=None, last_error=reason[:2000])
    ).rowcount
    record_action(None, "jobs.mark_done", "job_outbox", None, ids=sorted(ids), reason=reason)
    db.session.commit()
    return done


def retry_jobs(ids: list[int]) -> int:
    """Run pending jobs again from a fresh start: a held maybe-sent mail (it goes out again
    with the same Message-ID) or a job that gave up. Audited; returns how many."""
    from .audit.services import record_action

    count = db.session.execute(
        update(Outbox)
        .where(Outbox.id.in_(ids), Outbox.done_at.is_(None))
        .values(
            maybe_sent_at=None,
            retry_at=None,
            attempts=0,
            started_at=None,
            heartbeat_at=None,
            claimed_by=None,
        )
    ).rowcount
    record_action(None, "jobs.retry", "job_outbox", None, ids=sorted(ids))
    db.session.commit()
    dispatch(sorted(ids))
    return count


def run_due_tasks() -> None:
    """Work that falls due with the clock rather than a request: the results mail at the
    embargo time. Safe to run on every worker at once: each task claims its rows first."""
    from .results.services import mail_due_results

    mail_due_results()
    # Voting opens / closes in 24 hours, and the weekly digests.
    from .notifications.services import send_due_notifications

    send_due_notifications()


class AppWorker(SimpleWorker):
    """An RQ worker that runs jobs in this process (no fork), each in a fresh app context
    and session of ``app`` (set after construction)."""

    app: Flask

    # RQ waits up to a minute between attempts to reach a Redis that went away; a
    # restarted Redis must be noticed within seconds (the relay refills its queue).
    max_connection_wait_time = 5.0

    def execute_job(self, job, queue):
        with self.app.app_context():
            return super().execute_job(job, queue)

    def subscribe(self):
        """RQ's listener for commands (as RQ's own, but waking every second).

        RQ listens in waits of 60 s, and redis-py's ``stop()`` waits for the listener: once
        the channel is unsubscribed, a worker that stops (a burst worker done, SIGTERM at
        a deploy) could linger for a minute. Seen as 60 s burst workers in the suite.
        """
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
        )


def run_worker(app: Flask, burst: bool = False, relay_every: float = 5.0) -> None:
    """An RQ worker inside the app, plus a relay thread that empties the outbox."""
    redis = get_redis()
    if redis is None:
        raise RuntimeError("REDIS_URL is not set: without Redis, jobs run inline.")
    stop = threading.Event()

    def relay_once(due_tasks: bool):
        with app.app_context():
            try:
                relay_pending()
                if due_tasks:
                    run_due_tasks()
            except Exception:  # e.g. the database is restarting: the next round retries
                log.exception("relay failed; retrying")

    def relay_loop():
        while not stop.wait(relay_every):
            relay_once(due_tasks=True)

    relay_once(due_tasks=False)
    if not burst:
        threading.Thread(target=relay_loop, name="outbox-relay", daemon=True).start()

    try:
        # No RQ scheduler: nothing is scheduled in RQ; retries live in the outbox.
        worker = AppWorker([_queue(redis)], connection=redis)
        worker.app = app
        worker.work(burst=burst, with_scheduler=False)
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
