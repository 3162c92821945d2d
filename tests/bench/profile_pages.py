"""Profile: where a logged-in list page, an idea page and a vote spend their time.

A script, not a pytest test:

    .venv/bin/python tests/bench/profile_pages.py [--requests 200] [--top 25] [--sort tottime]
        [--redis redis://127.0.0.1:6379/11] [--dump folder]

The data of bench_pages.py in a throw-away PostgreSQL database; requests go through Flask's
test client in this process under cProfile (no server, no network), as a citizen in German.
Prints the top functions of each endpoint and the SQL statements per request.
"""

import argparse
import cProfile
import io
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "public"), str(ROOT / "tests" / "bench")]

from bench_list_page import list_urls, seed  # noqa: E402
from bench_pages import add_citizens  # noqa: E402
from benchkit import SECRET, create_database, drop_database  # noqa: E402


def statements(app, client, method, url, **kwargs) -> list[tuple[float, str]]:
    """(milliseconds, start of the SQL) of each statement of one request."""
    from sqlalchemy import event

    from consult.extensions import db

    seen, started = [], []

    def before(conn, cursor, statement, *args):
        started.append(time.perf_counter())

    def after(conn, cursor, statement, *args):
        ms = (time.perf_counter() - started.pop()) * 1000
        seen.append((ms, " ".join(statement.split())[:110]))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    response = client.open(url, method=method, **kwargs)
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    assert response.status_code in (200, 409), (url, response.status_code)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--dump", help="folder to write each endpoint's .prof file to")
    parser.add_argument(
        "--redis", help="Redis URL for the abuse limits, as in production (an empty database)"
    )
    args = parser.parse_args()
    name, database_url = create_database()
    try:
        profile(args, database_url)
    finally:
        drop_database(name)
        if args.redis:
            from redis import Redis

            Redis.from_url(args.redis).flushdb()  # the limits and the page cache


def profile(args, database_url: str) -> None:
    import logging

    from sqlalchemy import select

    from consult import create_app
    from consult.extensions import db
    from consult.ideas.models import Idea

    app = create_app(
        {
            "SECRET_KEY": SECRET,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": args.redis,
            "MAIL_DIR": tempfile.mkdtemp(),
            "WTF_CSRF_ENABLED": False,
        }
    )
    ids = seed(app)
    logins, idea_ids = add_citizens(app)
    with app.app_context():
        db.session.execute(
            db.update(Idea).values(vote_count=0)  # votes below go through the service
        )
        db.session.commit()
        all_ideas = db.session.scalars(select(Idea.id)).all()
    client = app.test_client()
    logging.getLogger("consult.request").setLevel(logging.WARNING)
    cookie_name, _eq, value = logins[0]["cookie"].partition("=")
    client.set_cookie(cookie_name, value)
    headers = {"Accept-Language": "de", "X-Forwarded-For": logins[0]["address"]}
    rng = random.Random(5)
    vote_url = f"/challenges/{ids['challenge']}/vote"
    unvote_url = f"/challenges/{ids['challenge']}/unvote"
    voted: list[list[int]] = [[] for _ in logins]
    turn = iter(range(10**9))

    def vote_request():
        # The citizens take turns: one account alone would hit its abuse limit (60 a minute).
        who = next(turn) % len(logins)
        client.set_cookie(cookie_name, logins[who]["cookie"].partition("=")[2])
        mine = voted[who]
        if len(mine) >= 5 or (mine and rng.random() < 0.4):
            idea = mine.pop(rng.randrange(len(mine)))
            return "POST", unvote_url, {"data": {"idea": idea}}
        idea = rng.choice(all_ideas)
        mine.append(idea)
        return "POST", vote_url, {"data": {"idea": idea}}

    urls = list_urls(ids)
    # As in bench_pages.py: the lists whose cards are kept, and searches and random orders.
    kept = [url for url in urls if "q=" not in url and "sort=random" not in url]
    rendered = [url for url in urls if url not in kept]
    cpu_ms: dict[str, float] = {}
    endpoints = {
        "list, logged in": lambda i: ("GET", urls[i % len(urls)], {}),
        "list, logged in, kept lists": lambda i: ("GET", kept[i % len(kept)], {}),
        "list, logged in, searches and random": lambda i: ("GET", rendered[i % len(rendered)], {}),
        "idea page, logged in": lambda i: ("GET", f"/ideas/{idea_ids[i % len(idea_ids)]}", {}),
        "vote or withdraw (JSON)": lambda i: vote_request(),
    }
    json_headers = {**headers, "Accept": "application/json"}
    endpoints = {"bare GET /healthz": lambda i: ("GET", "/healthz", {}), **endpoints}
    for label, make in endpoints.items():
        h = json_headers if label.startswith("vote") else headers
        for i in range(20):  # warm-up
            method, url, kw = make(i)
            client.open(url, method=method, headers=h, **kw)
        # Without the profiler: this process's CPU time per request (the database's own
        # work runs in PostgreSQL's processes and is not in it), which other processes
        # on a shared machine disturb far less than throughput.
        cpu, wall, statuses = time.process_time(), time.perf_counter(), {}
        for i in range(args.requests):
            method, url, kw = make(i)
            status = client.open(url, method=method, headers=h, **kw).status_code
            statuses[status] = statuses.get(status, 0) + 1
        cpu = (time.process_time() - cpu) * 1000 / args.requests
        wall = (time.perf_counter() - wall) * 1000 / args.requests
        cpu_ms[label] = cpu
        print(f"\n*** {label}: {cpu:.2f} ms CPU (of this process) and {wall:.2f} ms wall per "
              f"request; CPU ratio /healthz to this: {cpu_ms['bare GET /healthz'] / cpu:.3f}; "
              f"answers {statuses}")  # fmt: skip
        if label.startswith("bare"):
            continue
        method, url, kw = make(0)
        sql = statements(app, client, method, url, headers=h, **kw)
        n = len(sql)
        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(args.requests):
            method, url, kw = make(i)
            client.open(url, method=method, headers=h, **kw)
        profiler.disable()
        if args.dump:
            name = label.split(" (")[0].replace(",", "").replace(" ", "_")
            profiler.dump_stats(Path(args.dump) / (name + ".prof"))
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        total = stats.total_tt
        print(f"\n=== {label}: {args.requests} requests, {1000 * total / args.requests:.2f} ms "
              f"each under cProfile; {n} SQL statements for one request ===")  # fmt: skip
        stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
        print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))
        print(f"statements of {method} {url} (ms from sending to the first row):")
        print("\n".join(f"  {ms:6.2f}  {text}" for ms, text in sql))


if __name__ == "__main__":
    main()
