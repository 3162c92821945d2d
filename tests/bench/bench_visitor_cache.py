"""Benchmark: visitors' pages (challenge list, idea page) with the page cache warm, cold and
under a stream of votes, and a "press release": many visitors on one page while citizens vote.

A script, not a pytest test:

    .venv/bin/python tests/bench/bench_visitor_cache.py [--requests 1000] [--clients 4]
    .venv/bin/python tests/bench/bench_visitor_cache.py --code /work/main   # another checkout

It creates a throw-away PostgreSQL database (CONSULT_TEST_PG) with the voting benchmark's
data (tests/bench/bench_voting.py: one challenge in voting, 200 published ideas, 300
citizens with signed session cookies), serves the app with gunicorn (gthread) on
127.0.0.1 with Redis (CONSULT_BENCH_REDIS, default database 11, which must be empty; the
keys of this run are removed afterwards) and measures, as anonymous visitors with one
connection per request, in rounds interleaved with GET /healthz of the same run:

- warm: the list (five cacheable variants: sorts, a category, a district, page 2) and 50
  idea pages, every entry already in the cache;
- cold: the same pages with the cache invalidated before each request (every request
  renders: what a visitor pays right after a change);
- votes: the same pages while four citizens vote and withdraw without pause, each vote
  invalidating the cache;
- press release: 50 visitors on the challenge page while 20 citizens vote; p50/p99 of both
  and the visitors' cache hit rate.

``--code DIR`` serves another checkout (e.g. main before the cache, for a baseline): its
``consult`` package is imported instead of this one. Clients and server share the
machine's cores, so the figures compare endpoints of one run; they are not a capacity plan.
"""

import http.client
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "bench")]

from bench_voting import CITIZENS, Voting, seed  # noqa: E402
from benchkit import (  # noqa: E402
    bench_app,
    empty_redis,
    free_port,
    on_fresh_database,
    server_options,
    start_server,
    stop_server,
    wait_until_up,
)

REDIS_URL = os.environ.get("CONSULT_BENCH_REDIS", "redis://127.0.0.1:6379/11")
HEADER = "X-Page-Cache"


class Visitors:
    """GET requests cycling through ``urls`` as German visitors; ``before`` runs ahead of
    each request, outside the timing (the cold round invalidates the cache there)."""

    def __init__(self, urls: list[str], before=None):
        self.urls, self.before = urls, before
        self.next = iter(range(10**9))
        self.lock = threading.Lock()

    def request(self):
        with self.lock:
            url = self.urls[next(self.next) % len(self.urls)]
        if self.before:
            self.before()
        return "GET", url, None, {"Accept-Language": "de", "Connection": "close"}, None

    def answered(self, status: int, payload: bytes, context) -> bool:
        return status == 200


class Bare(Visitors):
    def __init__(self):
        super().__init__(["/healthz"])


def drive(port: int, groups: list[tuple]) -> list[dict]:
    """Run groups of client threads at once: (workload, clients, total). A group with
    total None keeps going until every counted group is done (background load).

    Returns per group: requests, rps, p50, p99 (ms) and the page cache's answers.
    """
    stop = threading.Event()
    results = []
    threads = []
    started = time.perf_counter()
    for workload, clients, total in groups:
        result = {"latencies": [], "states": {}, "errors": [], "lock": threading.Lock()}
        results.append(result)
        remaining = iter(range(total)) if total is not None else None

        def client(workload=workload, result=result, remaining=remaining):
            mine, states = [], {}
            while not stop.is_set():
                if remaining is not None:
                    with result["lock"]:
                        if next(remaining, None) is None:
                            break
                method, path, body, headers, context = workload.request()
                t = time.perf_counter()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                conn.close()
                mine.append(time.perf_counter() - t)
                state = response.getheader(HEADER) or "none"
                states[state] = states.get(state, 0) + 1
                if not workload.answered(response.status, payload, context):
                    result["errors"].append(f"{response.status} {method} {path}")
            with result["lock"]:
                result["latencies"] += mine
                for k, v in states.items():
                    result["states"][k] = result["states"].get(k, 0) + v

        for _ in range(clients):
            threads.append((total is None, threading.Thread(target=client)))
    for _background, thread in threads:
        thread.start()
    for background, thread in threads:
        if not background:
            thread.join()
    wall = time.perf_counter() - started
    stop.set()
    for _background, thread in threads:
        thread.join()
    summaries = []
    for result in results:
        if result["errors"]:
            raise RuntimeError(f"{len(result['errors'])} failed, e.g. {result['errors'][0]}")
        lat = sorted(result["latencies"])
        summaries.append(
            {
                "requests": len(lat),
                "rps": len(lat) / wall,
                "p50": statistics.median(lat) * 1000,
                "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
                "states": result["states"],
            }
        )
    return summaries


def hit_rate(states: dict) -> str:
    total = sum(states.values())
    if "hit" not in states and "miss" not in states:
        return "n/a"
    return f"{states.get('hit', 0) / total:.0%}"


def main() -> None:
    parser = server_options(__doc__, requests=1000, clients=4, threads=4)
    parser.add_argument("--press", type=int, default=2000, help="press-release page views")
    parser.add_argument("--code", default=str(ROOT), help="checkout to serve")
    args = parser.parse_args()
    with empty_redis(REDIS_URL) as redis:
        on_fresh_database(measure, args, redis)


def start(args, database_url, port, log):
    if Path(args.code).resolve() == ROOT:
        return start_server(
            database_url, port, args.workers, args.threads, log,
            REDIS_URL=REDIS_URL, PROXY_COUNT="1",
        )  # fmt: skip
    # Another checkout: gunicorn imports wsgi:app from its folder, which comes first on
    # sys.path, so its consult package wins over the one installed here.
    import benchkit

    saved = benchkit.ROOT
    benchkit.ROOT = Path(args.code)
    try:
        return start_server(
            database_url, port, args.workers, args.threads, log,
            REDIS_URL=REDIS_URL, PROXY_COUNT="1",
        )  # fmt: skip
    finally:
        benchkit.ROOT = saved


def measure(args, redis, database_url: str, log) -> None:
    server = None
    try:
        t0 = time.perf_counter()
        app = bench_app(database_url, PROXY_COUNT=1)
        challenge_id, idea_ids, logins = seed(app)
        with app.app_context():
            from consult.challenges.models import Category
            from consult.districts import District
            from consult.extensions import db

            category = Category(challenge_id=challenge_id, name_de="Grün", name_en="Green")
            district = District(name="Hörde", position=1)
            db.session.add_all([category, district])
            db.session.commit()
            category_id, district_id = category.id, district.id
            db.engine.dispose()
        base = f"/challenges/{challenge_id}"
        list_urls = [
            base,
            base + "?sort=votes",
            base + f"?category={category_id}",
            base + f"?district={district_id}&sort=votes",
            base + "?page=2",
        ]
        idea_urls = [f"/ideas/{i}" for i in random.Random(7).sample(idea_ids, 50)]
        print(
            f"data: one challenge in voting, {len(idea_ids)} published ideas, {CITIZENS} "
            f"citizens; set up in {time.perf_counter() - t0:.1f} s; code: {args.code}"
        )
        port = free_port()
        server = start(args, database_url, port, log)
        wait_until_up(port, server)
        print(
            f"server: gunicorn gthread, {args.workers} workers x {args.threads} threads, "
            f"Redis; {args.clients} client threads, one connection per request, loopback; "
            f"{os.cpu_count()} CPUs shared with other work on this machine"
        )
        namespace_keys = lambda: list(redis.scan_iter("consult:page:*:generation"))  # noqa: E731

        def invalidate():
            for key in namespace_keys():
                redis.set(key, os.urandom(8).hex())

        n, c = args.requests, args.clients
        drive(port, [(Bare(), c, 200)])  # warm-up: imports, connections
        drive(port, [(Visitors(list_urls + idea_urls), c, 300)])
        rows = []
        for label, urls in (("list", list_urls), ("idea", idea_urls)):
            bare = drive(port, [(Bare(), c, n)])[0]
            drive(port, [(Visitors(urls), c, len(urls) * 2)])  # fill the cache
            warm = drive(port, [(Visitors(urls), c, n)])[0]
            cold = drive(port, [(Visitors(urls, before=invalidate), c, n // 2)])[0]
            voting = Voting(challenge_id, idea_ids, logins, seed=len(rows))
            during = drive(port, [(Visitors(urls), c, n), (voting, 4, None)])
            bare2 = drive(port, [(Bare(), c, n)])[0]
            healthz = (bare["rps"] + bare2["rps"]) / 2
            rows.append((f"{label}: /healthz", bare | {"rps": healthz}, None))
            rows.append((f"{label}: warm cache", warm, healthz))
            rows.append((f"{label}: cold (invalidated each time)", cold, healthz))
            rows.append((f"{label}: during votes (visitors)", during[0], healthz))
            rows.append((f"{label}: during votes (voters)", during[1], None))

        voting = Voting(challenge_id, idea_ids, logins, seed=99)
        press = drive(port, [(Visitors([base]), 50, args.press), (voting, 20, None)])
        rows.append(("press release: 50 visitors on the page", press[0], None))
        rows.append(("press release: 20 citizens voting", press[1], None))

        print(
            f"{'round':<42}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
            f"{'hits':>6}{'÷healthz':>10}"
        )
        for label, r, healthz in rows:
            ratio = f"{r['rps'] / healthz:.2f}" if healthz else ""
            hits = hit_rate(r["states"]) if "healthz" not in label and "voters" not in label else ""
            if "voting" in label:
                hits = ""
            print(
                f"{label:<42}{r['requests']:>9}{r['rps']:>8.0f}{r['p50']:>8.1f}"
                f"{r['p99']:>8.1f}{hits:>6}{ratio:>10}"
            )
        print("voters' answers (all rounds): " + ", ".join(
            f"{k}: {v}" for k, v in sorted(voting.statuses.items())
        ))  # fmt: skip
        print(f"total time {time.perf_counter() - t0:.1f} s")
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
