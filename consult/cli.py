"""Command-line commands: ``flask users``, ``flask demo``, ``flask jobs``, ``flask votes``."""

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

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
    from .demo import seed_demo

    logins = seed_demo()
    base = current_app.config["PUBLIC_URL"]
    click.echo(f"\nDemo city {current_app.config['CITY_NAME']} is ready at {base}\n")
    click.echo(f"{'role':<10} {'e-mail':<28} password")
    for role, email, password in logins:
        click.echo(f"{role:<10} {email:<28} {password}")
    click.echo("")


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
    from .voting.services import check_ballots, check_released_votes, check_vote_counts

    # Released first: releasing changes the rows that the caches are compared with.
    released = check_released_votes(repair=repair)
    ideas = check_vote_counts(repair=repair)
    ballots = check_ballots(repair=repair)
    for idea_id, votes in released:
        click.echo(f"idea {idea_id}: hidden while voting ran, still holds {votes} vote(s)")
    for idea_id, cached, actual in ideas:
        click.echo(f"idea {idea_id}: cached vote_count {cached}, rows {actual}")
    for challenge_id, user_id, cached, actual in ballots:
        click.echo(
            f"ballot challenge {challenge_id} user {user_id}: cached used {cached}, rows {actual}"
        )
    if not released and not ideas and not ballots:
        click.echo("All vote counts and ballots equal their rows.")
        click.echo("No idea hidden while voting ran holds votes.")
        return
    verb = "repaired" if repair else "found"
    click.echo(
        f"{len(released)} hidden idea(s) with votes, {len(ideas)} idea count(s) and "
        f"{len(ballots)} ballot(s) differed ({verb})."
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


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(results_cli)
    app.cli.add_command(votes_cli)
