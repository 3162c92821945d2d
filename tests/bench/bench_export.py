"""Benchmark: memory and time of the open data exports at 2,500 and at 250,000 ideas.

A script, not a pytest test:

    .venv/bin/python tests/bench/bench_export.py [--small 2500] [--large 250000]

It creates a throw-away PostgreSQL database (CONSULT_TEST_PG, default
postgresql://postgres@127.0.0.1:5432/test) with two challenges whose results are frozen and
public (published announcement, embargo passed): one with ``--small`` published ideas, one
with ``--large``, bulk-loaded with COPY, with online votes, paper votes, categories,
districts and a few titles that start with "=". It serves the app with gunicorn (gthread,
one worker, as in the Procfile) on 127.0.0.1 and downloads each export (CSV, JSON) over
loopback, reading the body chunk by chunk. Before each download the worker's peak RSS is
reset (``/proc/<pid>/clear_refs``); after it, ``VmHWM`` is the peak of that download alone.
Then the same downloads run in this process through the WSGI app with tracemalloc, which
counts the Python heap exactly. It prints the figures and the ratio peak(large)/peak(small):
an export that streams has the same peak whatever the number of rows.
"""

import argparse
import http.client
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "bench")]

from benchkit import (  # noqa: E402
    SECRET,
    create_database,
    drop_database,
    free_port,
    start_server,
    wait_until_up,
)

VOTERS = 40
FORMATS = ("csv", "json")


def seed(app, ideas: int, label: str) -> int:
    """A frozen challenge with ``ideas`` published ideas and public results; its id."""
    from datetime import timedelta

    from consult.accounts.models import RoleGrant, User
    from consult.challenges.models import Category, Challenge
    from consult.clock import now
    from consult.districts import District
    from consult.extensions import db
    from consult.jury.freezing import freeze_results
    from consult.jury.models import (
        JurorAssignment,
        JuryCriterion,
        JuryReview,
        JuryScore,
        ShortlistEntry,
    )
    from consult.results.models import Announcement
    from consult.voting.models import PaperVoteEntry

    with app.app_context():
        t = now()
        districts = list(db.session.query(District).order_by(District.id))
        if not districts:
            districts = [District(name=f"Bezirk {i}", position=i) for i in range(12)]
            db.session.add_all(districts)
        users = list(db.session.query(User).order_by(User.id))
        if not users:
            users = [
                User(email=f"v{i}@bench.example", pseudonym=f"V {i}", pseudonym_key=f"v {i}")
                for i in range(VOTERS)
            ]
            staff = User(email="staff@bench.example", pseudonym="Staff", pseudonym_key="staff")
            staff.role_grants = [RoleGrant(role="staff"), RoleGrant(role="press")]
            juror = User(email="juror@bench.example", pseudonym="Juror", pseudonym_key="juror")
            users += [staff, juror]
            db.session.add_all(users)
        staff, juror = users[-2], users[-1]
        challenge = Challenge(
            title_de=f"Offene Daten {label}",
            title_en=f"Open data {label}",
            submission_opens_at=t - timedelta(days=40),
            submission_closes_at=t - timedelta(days=20),
            voting_opens_at=t - timedelta(days=19),
            voting_closes_at=t - timedelta(days=2),
            results_at=t + timedelta(days=5),
        )
        challenge.categories = [
            Category(name_de=f"Kategorie {i} – Grün", name_en=f"Category {i}", position=i)
            for i in range(6)
        ]
        db.session.add(challenge)
        db.session.commit()
        category_ids = [c.id for c in challenge.categories]
        district_ids = [d.id for d in districts]

        # COPY, not INSERT: 250,000 rows in seconds. COPY skips the model's Python defaults,
        # so every column without a server default is given here.
        naive = t.replace(tzinfo=None)
        columns = (
            "challenge_id", "category_id", "district_id", "title", "body", "body_html",
            "language", "image_alt", "origin", "workshop_name", "status", "moderation_reason",
            "moderation_note", "created_at", "updated_at", "submitted_at", "published_at",
            "vote_count", "comment_count",
        )  # fmt: skip
        raw = db.engine.raw_connection()
        try:
            cursor = raw.driver_connection.cursor()
            with cursor.copy(f"COPY ideas ({', '.join(columns)}) FROM STDIN") as copy:
                for n in range(ideas):
                    title = (
                        f'=HYPERLINK("http://x.example/{n}","y")'
                        if n % 1000 == 7
                        else f'Idee {n}: Bäume, Bänke und "Schatten" für alle'
                    )
                    stamp = naive - timedelta(days=25, seconds=n)
                    copy.write_row((
                        challenge.id, category_ids[n % 6], district_ids[n % 12], title,
                        "Mehr Grün.", "<p>Mehr Grün.</p>", "en" if n % 10 == 0 else "de", "",
                        "workshop" if n % 50 == 0 else "online", "", "published", "", "",
                        stamp, stamp, stamp, stamp, n % 4, 0,
                    ))  # fmt: skip
            cursor.execute(
                "SELECT id FROM ideas WHERE challenge_id = %s ORDER BY id", (challenge.id,)
            )
            idea_ids = [row[0] for row in cursor.fetchall()]
            with cursor.copy(
                "COPY votes (challenge_id, idea_id, user_id, created_at) FROM STDIN"
            ) as copy:  # noqa: E501
                for n, idea_id in enumerate(idea_ids):
                    for voter in users[: n % 4]:
                        copy.write_row((challenge.id, idea_id, voter.id, naive))
            raw.commit()
        finally:
            raw.close()

        shortlisted = idea_ids[:3]
        criterion = JuryCriterion(challenge_id=challenge.id, name_de="Wirkung", name_en="Impact")
        criterion.weight, criterion.position = 1, 0
        db.session.add(criterion)
        db.session.add_all(
            ShortlistEntry(challenge_id=challenge.id, idea_id=i, source="votes")
            for i in shortlisted
        )
        db.session.add(JurorAssignment(challenge_id=challenge.id, user_id=juror.id, submitted_at=t))
        db.session.add(
            PaperVoteEntry(idea_id=shortlisted[0], count=25, event_name="Stadtfest", entered_at=t)
        )
        db.session.commit()
        for score, idea_id in enumerate(shortlisted, start=5):
            review = JuryReview(challenge_id=challenge.id, juror_id=juror.id, idea_id=idea_id)
            db.session.add(review)
            db.session.flush()
            db.session.add(JuryScore(review_id=review.id, criterion_id=criterion.id, value=score))
        db.session.commit()
        freeze_results(staff, challenge)
        db.session.add(
            Announcement(
                challenge_id=challenge.id,
                title_de="Ergebnisse",
                title_en="Results",
                embargo_at=t - timedelta(minutes=1),
                published_at=t - timedelta(minutes=2),
                published_by_id=staff.id,
            )
        )
        db.session.commit()
        return challenge.id


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if len(children) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def download(port: int, path: str) -> tuple[int, int, float]:
    """(bytes, rows, seconds) of one export, read 64 KiB at a time as a browser would."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", path, headers={"Connection": "close"})
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"{response.status} for {path}")
    size = rows = 0
    tail = b""
    while chunk := response.read(65536):
        size += len(chunk)
        # CSV rows end in CRLF; JSON ideas start a line with "{" (the metadata is one line).
        rows += (tail[-1:] + chunk).count(b"\r\n" if path.endswith(".csv") else b"\n{")
        tail = chunk
    conn.close()
    if path.endswith(".json") and not tail.endswith(b"]}\n"):
        raise RuntimeError("the JSON export is not complete")
    return size, rows - (1 if path.endswith(".csv") else 0), time.perf_counter() - started


def measure_server(database_url: str, challenges: dict, log) -> dict:
    """Peak RSS of the gunicorn worker per download (its high-water mark reset before each)."""
    port = free_port()
    server = start_server(database_url, port, 1, 2, log, REDIS_URL="null")
    results = {}
    try:
        wait_until_up(port, server)
        pid = worker_pid(server.pid)
        small = next(iter(challenges.values()))
        for fmt in FORMATS:  # warm-up: imports, templates, the connection pool
            download(port, f"/challenges/{small}/results/ideas.{fmt}")
        for label, challenge_id in challenges.items():
            for fmt in FORMATS:
                Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to VmRSS
                before = status_kb(pid, "VmRSS")
                size, rows, seconds = download(
                    port, f"/challenges/{challenge_id}/results/ideas.{fmt}"
                )
                peak = status_kb(pid, "VmHWM")
                results[label, fmt] = {
                    "rows": rows, "mb": size / 1e6, "s": seconds,
                    "before": before / 1024, "peak": peak / 1024, "growth": (peak - before) / 1024,
                }  # fmt: skip
        if worker_pid(server.pid) != pid:
            raise RuntimeError("the gunicorn worker was replaced during the run")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    return results


def measure_in_process(app, challenges: dict) -> dict:
    """tracemalloc's peak of the Python heap while the WSGI app streams each export."""
    from flask.testing import FlaskClient

    client = FlaskClient(app, app.response_class)
    results = {}
    for fmt in FORMATS:  # warm-up outside the measurement
        client.get(f"/challenges/{next(iter(challenges.values()))}/results/ideas.{fmt}").close()
    for label, challenge_id in challenges.items():
        for fmt in FORMATS:
            tracemalloc.start()
            started = time.perf_counter()
            response = client.get(f"/challenges/{challenge_id}/results/ideas.{fmt}")
            assert response.status_code == 200 and response.is_streamed
            size = sum(len(chunk) for chunk in response.response)
            response.close()
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            results[label, fmt] = {
                "mb": size / 1e6, "s": time.perf_counter() - started, "peak": peak / 2**20,
            }  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=2_500, help="ideas in the small challenge")
    parser.add_argument("--large", type=int, default=250_000, help="ideas in the large one")
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile("w+", prefix="consult-bench-", suffix=".log") as log:
        name, database_url = create_database()
        try:
            measure(args, database_url, log)
        except BaseException:
            log.flush()
            log.seek(0)
            sys.stderr.write(log.read()[-4000:])
            raise
        finally:
            drop_database(name)


def measure(args, database_url: str, log) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from consult import create_app
    from consult.extensions import db

    t0 = time.perf_counter()
    app = create_app(
        {
            "SECRET_KEY": SECRET,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": None,
            "MAIL_DIR": tempfile.mkdtemp(),
        }
    )
    with app.app_context():
        upgrade()
    small_label, large_label = f"{args.small:,} ideas", f"{args.large:,} ideas"
    challenges = {
        small_label: seed(app, args.small, "klein"),
        large_label: seed(app, args.large, "groß"),
    }
    with app.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        db.engine.dispose()
    print(f"data: {args.small:,} and {args.large:,} published ideas with votes, in "
          f"{time.perf_counter() - t0:.1f} s; {os.cpu_count()} CPUs")  # fmt: skip

    served = measure_server(database_url, challenges, log)
    print("gunicorn gthread, 1 worker x 2 threads; RSS of the worker, MiB:")
    print(f"{'export':<24}{'rows':>9}{'MB':>8}{'s':>7}{'RSS before':>12}{'peak':>8}{'growth':>8}")
    for (label, fmt), r in served.items():
        print(f"{label + ' ' + fmt:<24}{r['rows']:>9}{r['mb']:>8.1f}{r['s']:>7.2f}"
              f"{r['before']:>12.1f}{r['peak']:>8.1f}{r['growth']:>8.1f}")  # fmt: skip
    for (label, fmt), r in served.items():
        expected = args.small if label == small_label else args.large
        if r["rows"] != expected:
            raise RuntimeError(f"{label} {fmt}: {r['rows']} rows, expected {expected}")

    in_process = measure_in_process(app, challenges)
    print("in-process WSGI app with tracemalloc (Python heap peak, MiB; slower when traced):")
    for (label, fmt), r in in_process.items():
        print(f"{label + ' ' + fmt:<24}{r['mb']:>9.1f} MB{r['s']:>8.2f} s{r['peak']:>8.2f} MiB")
    for fmt in FORMATS:
        rss = served[large_label, fmt]["peak"] / served[small_label, fmt]["peak"]
        heap = in_process[large_label, fmt]["peak"] / in_process[small_label, fmt]["peak"]
        print(f"ratio peak({args.large:,})/peak({args.small:,}) {fmt}: "
              f"worker RSS {rss:.3f}, Python heap {heap:.3f}")  # fmt: skip
    print(f"total time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
