"""Benchmark: the challenge's idea list against a bare endpoint of the same app, same run.

A script, not a pytest test:

    .venv/bin/python tests/bench/bench_list_page.py [--requests 1000] [--clients 4]

It creates a throw-away PostgreSQL database (CONSULT_TEST_PG, default
postgresql://postgres@127.0.0.1:5432/test) with one challenge holding 2,000 published ideas,
500 comments and 100,000 votes, serves the app with gunicorn (gthread) on 127.0.0.1, sends a
bounded number of requests from a few client threads over loopback, first to GET /healthz
(the app's per-request work without templates or database) and then to the list page with
several sorts, filters, a search and a deep page, and prints requests/s, p50/p99 latency and
the ratio list/bare. Clients and server share the machine's cores, so the figures compare
the two endpoints; they are not a capacity plan.

There is no votes table yet (it comes with voting): the 100,000 votes are Idea.vote_count
values summing to 100,000, which is what the list reads anyway.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "public"), str(ROOT / "tests" / "bench")]

from benchkit import (  # noqa: E402
    bench_app,
    free_port,
    merge,
    on_fresh_database,
    run,
    server_options,
    start_server,
    stop_server,
    wait_until_up,
)

IDEAS, COMMENTS, VOTES = 2_000, 500, 100_000


def seed(app) -> dict:
    """Migrate and fill the database; returns ids the URLs need."""
    import hashlib
    from datetime import timedelta

    from flask_migrate import upgrade
    from public_helpers import add_many_ideas
    from sqlalchemy import func, select, text

    from consult.accounts.models import User
    from consult.challenges.models import Category, Challenge
    from consult.clock import now
    from consult.demo import DORTMUND_DISTRICTS
    from consult.districts import District
    from consult.extensions import db
    from consult.ideas.models import Comment, Idea
    from consult.media.models import Image

    with app.app_context():
        upgrade()
        districts = [District(name=n, position=i) for i, n in enumerate(DORTMUND_DISTRICTS)]
        db.session.add_all(districts)
        users = [
            User(email=f"b{i}@bench.example", pseudonym=f"Person {i}", pseudonym_key=f"person {i}")
            for i in range(200)
        ]
        db.session.add_all(users)
        images = []
        for i in range(20):
            data = b"bench-image-%d" % i
            images.append(
                Image(
                    data=data,
                    thumbnail=data,
                    width=800,
                    height=600,
                    digest=hashlib.sha256(data).hexdigest(),
                )
            )
        db.session.add_all(images)
        t = now()
        challenge = Challenge(
            title_de="Wie wird die Innenstadt lebendiger?",
            title_en="How do we bring the city centre to life?",
            question_de="Was würde Sie öfter in die Innenstadt locken?",
            question_en="What would bring you to the city centre more often?",
            description_de="Die Stadt sucht Ideen für Plätze, Wege und Treffpunkte. " * 10,
            plain_de="Die Stadt fragt: Was wünschen Sie sich für die Innenstadt?",
            submission_opens_at=t - timedelta(days=20),
            submission_closes_at=t + timedelta(days=5),
            voting_opens_at=t - timedelta(days=2),
            voting_closes_at=t + timedelta(days=12),
            results_at=t + timedelta(days=30),
        )
        challenge.categories = [
            Category(name_de=de, name_en=en, position=i)
            for i, (de, en) in enumerate(
                [
                    ("Grün & Klima", "Green & climate"),
                    ("Mobilität", "Mobility"),
                    ("Kultur", "Culture"),
                    ("Sport & Spiel", "Sport & play"),
                    ("Soziales", "Community"),
                    ("Sauberkeit", "Cleanliness"),
                ]
            )
        ]
        db.session.add(challenge)
        db.session.commit()
        add_many_ideas(
            challenge,
            IDEAS,
            COMMENTS,
            VOTES,
            [u.id for u in users],
            [d.id for d in districts],
            [i.id for i in images],
        )
        # What autovacuum does soon after bulk inserts: the planner needs the table's and the
        # GIN index's statistics (the latter come from VACUUM only) to pick the index.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        figures = {
            "ideas": db.session.scalar(select(func.count()).select_from(Idea)),
            "comments": db.session.scalar(select(func.count()).select_from(Comment)),
            "votes": db.session.scalar(select(func.sum(Idea.vote_count))),
        }
        assert figures == {"ideas": IDEAS, "comments": COMMENTS, "votes": VOTES}, figures
        return {
            "challenge": challenge.id,
            "category": challenge.categories[1].id,
            "district": districts[7].id,
        }


def list_urls(ids: dict) -> list[str]:
    base = f"/challenges/{ids['challenge']}"
    return [
        base,
        base + "?sort=votes",
        base + "?sort=random&seed=123456789",
        base + f"?category={ids['category']}",
        base + f"?district={ids['district']}&sort=votes",
        base + "?q=Spielplatz+Park",
        base + "?page=50",
        base + f"?q=Brunnen&category={ids['category']}&sort=random&seed=42&page=2",
    ]


def explain_search(app, ids: dict) -> str:
    """PostgreSQL's plan for the list's search: it should use ix_ideas_search."""
    from sqlalchemy import select, text

    from consult.extensions import db
    from consult.ideas.models import Idea
    from consult.ideas.services import _search_clause

    with app.app_context():
        condition, values = _search_clause("Spielplätze")
        stmt = (
            select(Idea.id)
            .where(Idea.challenge_id == ids["challenge"], Idea.status == "published", condition)
            .params(values)
        )
        sql = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        with db.engine.connect() as conn:
            rows = conn.execute(text(f"EXPLAIN {sql}")).all()
        return "\n".join("    " + row[0] for row in rows)


def count_queries(app, urls: list[str]) -> set[int]:
    """SQL statements per list request, counted in-process with the test client."""
    from sqlalchemy import event

    from consult.extensions import db

    counts, statements = set(), []

    def count(*args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    client = app.test_client()
    for url in urls:  # each request in its own app context and session, as in production
        statements.clear()
        assert client.get(url).status_code == 200, url
        counts.add(len(statements))
    event.remove(engine, "before_cursor_execute", count)
    engine.dispose()
    return counts


class Pages:
    """GET requests cycling through ``urls``, as visitors in German would send them."""

    def __init__(self, urls: list[str]):
        self.urls, self.next = urls, iter(range(10**9))

    def request(self):
        url = self.urls[next(self.next) % len(self.urls)]
        return "GET", url, None, {"Accept-Language": "de", "Connection": "close"}, None

    def answered(self, status: int, payload: bytes, context) -> bool:
        return status == 200


def main() -> None:
    parser = server_options(__doc__, requests=1000, clients=4, threads=4)
    args = parser.parse_args()
    on_fresh_database(measure, args)


def measure(args, database_url: str, log) -> None:
    server = None
    try:
        t0 = time.perf_counter()
        app = bench_app(database_url)
        ids = seed(app)
        urls = list_urls(ids)
        queries = count_queries(app, urls)
        plan = explain_search(app, ids)
        print(
            f"data: {IDEAS} published ideas, {COMMENTS} comments, {VOTES} votes in one "
            f"challenge (no votes table yet: Idea.vote_count seeded to sum {VOTES}); "
            f"set up in {time.perf_counter() - t0:.1f} s"
        )
        print(f"SQL queries per list page, over {len(urls)} variants: {sorted(queries)}")
        print("search plan (EXPLAIN):\n" + plan)

        port = free_port()
        server = start_server(database_url, port, args.workers, args.threads, log, REDIS_URL="null")
        wait_until_up(port, server)
        print(
            f"server: gunicorn gthread, {args.workers} workers x {args.threads} threads; "
            f"{args.clients} client threads, one connection per request, loopback; "
            f"{os.cpu_count()} CPUs shared"
        )
        bare, pages = Pages(["/healthz"]), Pages(urls)
        run(port, bare, 200, args.clients)  # warm-up: connections, imports, caches
        run(port, pages, 200, args.clients)
        bare1 = run(port, bare, args.requests, args.clients)
        list1 = run(port, pages, args.requests, args.clients)
        bare2 = run(port, bare, args.requests, args.clients)
        list2 = run(port, pages, args.requests, args.clients)
        bare, listed = merge(bare1, bare2), merge(list1, list2)

        print(f"{'endpoint':<34}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
        for label, r in (("bare GET /healthz", bare), ("list GET /challenges/<id>?…", listed)):
            print(f"{label:<34}{r['requests']:>9}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}")
        print(
            f"ratio list/bare: throughput {listed['rps'] / bare['rps']:.3f} "
            f"(bare is {bare['rps'] / listed['rps']:.1f}x faster), "
            f"p50 latency {listed['p50'] / bare['p50']:.1f}x"
        )
        print(f"total time {time.perf_counter() - t0:.1f} s")
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
