"""Benchmark: the pages a logged-in citizen reads, against a bare endpoint, same run.

A script, not a pytest test:

    .venv/bin/python tests/bench/bench_pages.py [--requests 600] [--clients 4]

The data set of bench_list_page.py (one challenge, 2,000 published ideas, 500 comments,
100,000 votes as cached counts) plus 50 verified citizens whose session cookies are signed
here with the app's secret. gunicorn (gthread, 2 workers x 4 threads) on 127.0.0.1; client
threads over loopback, a new connection per request; two interleaved rounds of: GET /healthz,
the idea list logged in (the eight variants of bench_list_page.py), an idea page logged out
and an idea page logged in (ideas with the most comments and ideas without any). Prints
requests/s, p50/p99 and each page's throughput as a ratio to /healthz. Clients and server
share the machine's cores: the ratios compare endpoints; they are not a capacity plan.
"""

import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "public"), str(ROOT / "tests" / "bench")]

from bench_list_page import list_urls, seed  # noqa: E402
from benchkit import (  # noqa: E402
    bench_account,
    bench_app,
    empty_redis,
    free_port,
    merge,
    on_fresh_database,
    run,
    server_options,
    signed_login,
    start_server,
    stop_server,
    wait_until_up,
)

CITIZENS = 50
REDIS_URL = os.environ.get("CONSULT_BENCH_REDIS", "redis://127.0.0.1:6379/11")
USER_AGENT = "bench-pages"


def add_citizens(app) -> tuple[list[dict], list[int]]:
    """Citizens with signed logins, and the ideas whose pages are fetched."""
    from sqlalchemy import select

    from consult.clock import now
    from consult.extensions import db
    from consult.ideas.models import Idea

    with app.app_context():
        t = now()
        users = [bench_account(f"c{i}", f"Citizen {i}", at=t) for i in range(CITIZENS)]
        db.session.add_all(users)
        db.session.commit()
        logins = [
            signed_login(app, user, f"10.9.{i}.1", USER_AGENT) for i, user in enumerate(users)
        ]
        busiest = db.session.scalars(
            select(Idea.id).order_by(Idea.comment_count.desc(), Idea.id).limit(4)
        ).all()
        quiet = db.session.scalars(
            select(Idea.id).where(Idea.comment_count == 0).order_by(Idea.id).limit(4)
        ).all()
        db.engine.dispose()
    return logins, [*busiest, *quiet]


class Pages:
    """GET requests cycling through ``urls`` in German, as ``logins`` (None: logged out)."""

    def __init__(self, urls: list[str], logins: list[dict] | None = None):
        self.urls, self.logins = urls, logins
        self.next, self.rng = iter(range(10**9)), random.Random(3)

    def request(self):
        url = self.urls[next(self.next) % len(self.urls)]
        headers = {"Accept-Language": "de", "Connection": "close", "User-Agent": USER_AGENT}
        if self.logins:
            login = self.rng.choice(self.logins)
            headers["Cookie"] = login["cookie"]
        return "GET", url, None, headers, None

    def answered(self, status: int, payload: bytes, context) -> bool:
        # A logged-in page shows the account menu; a logged-out page must not.
        return status == 200 and (b"/logout" in payload) == bool(self.logins)


def main() -> None:
    parser = server_options(__doc__, requests=600, clients=4, threads=4)
    args = parser.parse_args()
    with empty_redis(REDIS_URL):
        on_fresh_database(measure, args)


def measure(args, database_url: str, log) -> None:
    server = None
    try:
        t0 = time.perf_counter()
        app = bench_app(database_url, PROXY_COUNT=1)
        ids = seed(app)
        logins, idea_ids = add_citizens(app)
        idea_urls = [f"/ideas/{i}" for i in idea_ids]
        print(f"data: bench_list_page.py's challenge + {CITIZENS} citizens; set up in "
              f"{time.perf_counter() - t0:.1f} s")  # fmt: skip

        port = free_port()
        server = start_server(
            database_url,
            port,
            args.workers,
            args.threads,
            log,
            REDIS_URL=REDIS_URL,
            PROXY_COUNT="1",
        )
        wait_until_up(port, server)
        print(
            f"server: gunicorn gthread, {args.workers} workers x {args.threads} threads; "
            f"{args.clients} client threads, one connection per request, loopback; "
            f"{os.cpu_count()} CPUs shared"
        )
        # The lists whose cards are kept (orders, filters, a deep page) and those rendered
        # every time (searches and random orders: too many variants to keep).
        lists = list_urls(ids)
        kept = [url for url in lists if "q=" not in url and "sort=random" not in url]
        endpoints = {
            "bare GET /healthz": Pages(["/healthz"]),
            "list, logged in (8 variants)": Pages(lists, logins),
            f"  of which {len(kept)} kept lists": Pages(kept, logins),
            f"  {len(lists) - len(kept)} searches, random": Pages(
                [url for url in lists if url not in kept], logins
            ),
            "idea page, logged out": Pages(idea_urls),
            "idea page, logged in": Pages(idea_urls, logins),
        }
        for workload in endpoints.values():  # warm-up: connections, imports, caches
            run(port, workload, 100, args.clients)
        rounds = {label: [] for label in endpoints}
        for _ in range(2):
            for label, workload in endpoints.items():
                rounds[label].append(run(port, workload, args.requests, args.clients))
        results = {label: merge(*r) for label, r in rounds.items()}
        bare = results["bare GET /healthz"]
        print(f"{'endpoint':<32}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}")
        for label, r in results.items():
            print(
                f"{label:<32}{r['requests']:>9}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}"
                f"{r['rps'] / bare['rps']:>8.3f}"
            )
        print(f"total time {time.perf_counter() - t0:.1f} s")
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
