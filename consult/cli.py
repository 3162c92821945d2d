"""Command-line commands: ``flask users``, ``flask demo``, ``flask jobs``, ``flask votes``,
``flask results`` and ``flask serve`` (the development server)."""

import logging
import sys
import threading
from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

log = logging.getLogger(__name__)

# How often the development server looks for work that fell due (the results mail).
DUE_EVERY = 5.0

users_cli = AppGroup("users", help="Manage accounts.")
demo_cli = AppGroup("demo", help="Demo data for trying consult out.")
jobs_cli = AppGroup("jobs", help="Background jobs.")
votes_cli = AppGroup("votes", help="Votes: check the cached counts against the rows.")


@users_cli.command("create-admin")
@click.argument("email")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (for scripts) instead of asking.",
)
def create_admin_command(email: str, password_stdin: bool) -> None:
    """Create the first staff account (or make an existing account staff)."""
    from .accounts.services import create_admin
    from .errors import UserError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_admin(email, password)
    except UserError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Staff account {user.email} is ready (id {user.id}).")


@demo_cli.command("seed")
def seed_command() -> None:
    """Create a demo city with one account per role (idempotent) and print the logins."""
    from .demo import DEMO_EVENT_CODE, demo_totp_secret, results_challenge_id, seed_demo
    from .urls import external_url

    logins = seed_demo()
    base = current_app.config["PUBLIC_URL"]
    click.echo(f"\nDemo city {current_app.config['CITY_NAME']} is ready at {base}\n")
    challenge_id = results_challenge_id()
    if challenge_id is not None:
        results = external_url("results.show", challenge_id=challenge_id)
        click.echo(f"Public results (charts, press kit, lab project): {results}\n")
    join = external_url("events.join_page")
    click.echo(f"Live event: join on a phone with code {DEMO_EVENT_CODE} at {join}\n")
    click.echo(f"{'role':<10} {'e-mail':<28} {'password':<22} second factor (TOTP key)")
    for role, email, password in logins:
        key = demo_totp_secret(email) if role != "citizen" else ""
        click.echo(f"{role:<10} {email:<28} {password:<22} {key}".rstrip())
    click.echo(
        "\nStaff, press, moderator and juror pages ask for a code after the password: add the "
        "key to an authenticator app, or print the current code with "
        "`.venv/bin/flask --app wsgi demo code EMAIL`.\n"
    )


@demo_cli.command("code")
@click.argument("email")
def code_command(email: str) -> None:
    """Print the current second-factor code of a demo account (demo accounts only)."""
    import pyotp

    from .accounts.services import find_user_by_email
    from .clock import now
    from .demo import demo_totp_secret, is_demo_address

    user = find_user_by_email(email.strip().lower())
    # Only the fixed, printed demo key: never a secret that someone set up themselves.
    if (
        user is None
        or not is_demo_address(user.email)
        or user.totp_secret != demo_totp_secret(user.email)
    ):
        raise click.ClickException("Only demo accounts with a second factor have a code here.")
    click.echo(pyotp.TOTP(user.totp_secret).at(now()))


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst: bool) -> None:
    """Run an RQ worker inside the app; it also relays jobs that waited for Redis."""
    from .jobs import run_worker

    run_worker(current_app._get_current_object(), burst=burst)


@jobs_cli.command("relay")
def relay_command() -> None:
    """Hand jobs that are still in the outbox to RQ (or run them inline without Redis)."""
    from .jobs import relay_pending

    click.echo(f"{relay_pending()} job(s) handed over.")


def _pending_table(rows) -> None:
    click.echo(
        f"{'id':>7}  {'job':<26} {'created (UTC)':<17} {'attempts':>8}  {'state':<10} last error"
    )
    for row in rows:
        error = (row.last_error or "").splitlines()[0][:60] if row.last_error else ""
        click.echo(
            f"{row.id:>7}  {row.job:<26} {row.created_at:%Y-%m-%d %H:%M} "
            f"{row.attempts:>8}  {row.state:<10} {error}"
        )


def _parse_time(value: str) -> datetime:
    # Also as pg_restore --list prints it: "2026-12-03 02:00:00 UTC".
    value = value.strip().removesuffix(" UTC")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(
            "expected an ISO 8601 time such as 2026-12-01T18:30 (UTC) or 2026-12-01T19:30+01:00"
        ) from error
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _select_pending(ids: tuple[int, ...], before: str | None):
    """The pending jobs named by ids or --all-before; refuses unknown ids (changing nothing)."""
    from .jobs import list_pending_jobs

    if bool(ids) == bool(before):
        raise click.UsageError("Give job ids or --all-before, not both and not neither.")
    if before:
        return list_pending_jobs(before=_parse_time(before))
    rows = list_pending_jobs(ids=list(ids))
    missing = sorted(set(ids) - {row.id for row in rows})
    if missing:
        raise click.ClickException(
            "No pending job with id " + ", ".join(map(str, missing)) + " (see `jobs pending`)."
        )
    return rows


@jobs_cli.command("pending")
def pending_command() -> None:
    """List the jobs that are not done: id, job, created, attempts, state, last error.

    States: waiting (not yet handed to Redis), queued, running, retrying (failed, runs again
    later), given-up (too many failures), maybe-sent (a mail that may have been delivered
    while its answer was lost: held, never resent on its own).
    """
    from .jobs import list_pending_jobs

    rows = list_pending_jobs()
    if not rows:
        click.echo("No pending jobs.")
        return
    _pending_table(rows)
    click.echo(f"{len(rows)} pending job(s).")


@jobs_cli.command("mark-done")
@click.argument("ids", nargs=-1, type=int)
@click.option(
    "--all-before",
    "before",
    metavar="TIME",
    help="Every pending job created before TIME (ISO 8601; UTC unless it has an offset).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def mark_done_command(ids: tuple[int, ...], before: str | None, yes: bool) -> None:
    """Mark pending jobs done without running them (audited), e.g. after restoring a backup."""
    from .jobs import mark_jobs_done

    rows = _select_pending(ids, before)
    if not rows:
        click.echo("No pending job matches; nothing changed.")
        return
    _pending_table(rows)
    if not yes:
        click.confirm(f"Mark these {len(rows)} job(s) done? They will not run.", abort=True)
    reason = (
        f"marked done from the command line (--all-before {before})"
        if before
        else "marked done from the command line"
    )
    count = mark_jobs_done([row.id for row in rows], reason)
    click.echo(f"{count} job(s) marked done.")


@jobs_cli.command("retry")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def retry_command(ids: tuple[int, ...], yes: bool) -> None:
    """Run pending jobs again from the start (audited): a maybe-sent mail that did not arrive
    goes out again, with the same Message-ID; a job that gave up gets new attempts."""
    from .jobs import retry_jobs

    rows = _select_pending(ids, None)
    _pending_table(rows)
    if not yes:
        click.confirm(f"Run these {len(rows)} job(s) again?", abort=True)
    click.echo(f"{retry_jobs([row.id for row in rows])} job(s) handed over again.")


@votes_cli.command("check")
@click.option(
    "--repair",
    is_flag=True,
    help="Release votes left on ideas hidden while voting ran, then set every differing "
    "cache to what the rows say.",
)
def votes_check_command(repair: bool) -> None:
    """Compare every Idea.vote_count and Ballot.used with the votes rows, and find votes
    on ideas hidden while voting ran (they must have been released); exit 1 on any mismatch.

    With --repair such votes are released (audited; their voters are mailed while voting
    runs; never in a frozen challenge) and the caches are corrected; the command still
    exits 1 so that a scheduled check reports that something had drifted.
    """
    from .voting.services import (
        check_ballots,
        check_released_votes,
        check_round_ballots,
        check_vote_counts,
    )

    # Released first: releasing changes the rows that the caches are compared with.
    released = check_released_votes(repair=repair)
    ideas = check_vote_counts(repair=repair)
    ballots = check_ballots(repair=repair)
    # Event votes are counted from their rows and have no cache; only the rounds' ballots
    # (the budget's counters) can drift.
    round_ballots = check_round_ballots(repair=repair)
    for idea_id, votes in released:
        click.echo(f"idea {idea_id}: hidden while voting ran, still holds {votes} vote(s)")
    for idea_id, cached, actual in ideas:
        click.echo(f"idea {idea_id}: cached vote_count {cached}, rows {actual}")
    for challenge_id, user_id, cached, actual in ballots:
        click.echo(
            f"ballot challenge {challenge_id} user {user_id}: cached used {cached}, rows {actual}"
        )
    for round_id, participant_id, cached, actual in round_ballots:
        click.echo(
            f"round ballot round {round_id} participant {participant_id}: cached used {cached}, "
            f"rows {actual}"
        )
    if not released and not ideas and not ballots and not round_ballots:
        click.echo("All vote counts and ballots equal their rows.")
        click.echo("No idea hidden while voting ran holds votes.")
        return
    verb = "repaired" if repair else "found"
    click.echo(
        f"{len(released)} hidden idea(s) with votes, {len(ideas)} idea count(s) and "
        f"{len(ballots)} ballot(s) and {len(round_ballots)} round ballot(s) differed ({verb})."
    )
    sys.exit(1)


results_cli = AppGroup("results", help="Published results.")


@results_cli.command("verify")
@click.argument("snapshot", type=click.File("rb"))
def verify_command(snapshot) -> None:
    """Recompute the ranking from a results snapshot file and say whether it matches."""
    import json

    from .jury.ranking import snapshot_hash, verify_snapshot

    try:
        document = json.loads(snapshot.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(f"not a JSON snapshot: {error}") from error
    if not isinstance(document, dict):
        raise click.ClickException("not a JSON snapshot: expected an object")
    problems = verify_snapshot(document)
    if problems:
        for problem in problems:
            click.echo(f"MISMATCH: {problem}")
        raise SystemExit(1)
    content = {k: v for k, v in document.items() if k != "sha256"}
    click.echo(f"OK: the ranking matches its inputs (SHA-256 {snapshot_hash(content)})")


@results_cli.command("mail-due")
def mail_due_command() -> None:
    """Mail the results of announcements whose embargo has passed (safe to run any time)."""
    from .results.services import mail_due_results

    click.echo(f"{mail_due_results()} results mail(s) queued.")


@results_cli.command("render-charts")
@click.argument("challenge_id", type=int)
def render_charts_command(challenge_id: int) -> None:
    """Draw the result charts of a challenge (only those whose figures changed)."""
    from .results.charts import render_charts

    click.echo(f"{render_charts(challenge_id)} chart(s) drawn.")


notifications_cli = AppGroup("notifications", help="Notification mails.")


@notifications_cli.command("send-due")
def send_due_notifications_command() -> None:
    """Mail "voting opens", "voting closes in 24 hours" and the weekly digests that are due
    (what every worker does every few seconds; safe to run any time, nobody is told twice)."""
    from .notifications.services import send_due_notifications

    sent = send_due_notifications()
    click.echo(
        f"voting opens: {sent['voting_opens']}, voting closes: {sent['voting_closes']}, "
        f"digests: {sent['digests']}"
    )


def start_due_loop(
    app: Flask, every: float = DUE_EVERY, stop: threading.Event | None = None
) -> threading.Thread:
    """A daemon thread that runs ``jobs.run_due_tasks`` now and every ``every`` seconds
    (until ``stop`` is set; the server process never sets it, it just ends).

    Without Redis there is no worker whose loop would send the results mail at the embargo
    time; the development server does it instead. The tasks claim their rows first, so a
    worker doing the same at the same time mails nobody twice.
    """
    from . import jobs

    stop = stop or threading.Event()

    def loop() -> None:
        while True:
            with app.app_context():
                try:
                    jobs.run_due_tasks()
                except Exception:
                    log.exception("due tasks failed; trying again in %s s", every)
            if stop.wait(every):
                return

    thread = threading.Thread(target=loop, name="due-tasks", daemon=True)
    thread.start()
    return thread


def serves_here(reload: bool) -> bool:
    """Whether this process is the one that serves: with the reloader, the parent only
    watches files and restarts a child (marked by WERKZEUG_RUN_MAIN), which serves."""
    from werkzeug.serving import is_running_from_reloader

    return not reload or is_running_from_reloader()


@click.command("serve")
@click.option("--host", "-h", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", "-p", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--reload/--no-reload",
    default=None,
    help="Restart on code changes (default: with --debug, as `flask run`).",
)
@with_appcontext
def serve_command(host: str, port: int, reload: bool | None) -> None:
    """`flask run` for development, plus what falls due with the clock (the results mail).

    `python3 -m consult run` uses it. Production runs gunicorn and a worker instead.
    """
    from flask.cli import get_debug_flag, run_command

    if reload is None:
        reload = get_debug_flag()
    # One process serves everything: an in-process page cache sees every invalidation.
    current_app.config["PAGE_CACHE_SINGLE_PROCESS"] = True
    if serves_here(reload):
        start_due_loop(current_app._get_current_object())
    click.get_current_context().invoke(run_command, host=host, port=port, reload=reload)


districts_cli = AppGroup("districts", help="The city's districts.")


@districts_cli.command("population")
def district_population_command() -> None:
    """Copy the inhabitants per district from DISTRICT_POPULATION into the districts."""
    from .dashboard.services import fill_district_population

    filled, missing = fill_district_population()
    click.echo(f"Population set for {len(filled)} district(s).")
    if missing:
        click.echo("No figure in DISTRICT_POPULATION for: " + ", ".join(missing))


def init_app(app: Flask) -> None:
    app.cli.add_command(serve_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(results_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(votes_cli)
    app.cli.add_command(districts_cli)
