"""Benchmark: voting and withdrawing against a bare endpoint of the same app, same run.

A script, not a pytest test:

    .venv/bin/python tests/bench/bench_voting.py [--requests 2000] [--clients 16]

It creates a throw-away PostgreSQL database (CONSULT_TEST_PG, default
postgresql://postgres@127.0.0.1:5432/test) with one challenge in its voting phase (200
published ideas, a budget of 5 votes) and 300 verified citizens, whose session cookies are
signed here with the app's secret (no argon2 login needed). It serves the app with
gunicorn (gthread) on 127.0.0.1 with the abuse limits in Redis as in production, and sends
a bounded number of requests from client threads over loopback: GET /healthz (the app's
per-request work without templates or the database), then POST vote / unvote as random
citizens on random ideas (JSON answers, as the page's script asks for them), in two
interleaved rounds. Each citizen comes from its own address (X-Forwarded-For behind one
trusted proxy), as phones do. It prints actions/s, p50/p99 latency and the ratio
voting/bare, then checks that every cached count and every ballot equals the rows.

Clients and server share the machine's cores, so the figures compare the two endpoints;
they are not a capacity plan. Redis database 11 is used (it must be empty) and only the
keys this run made are removed afterwards.
"""

import json
import os
import random
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "bench")]

from benchkit import (  # noqa: E402
    bench_account,
    bench_app,
    empty_redis,
    free_port,
    merge,
    on_fresh_database,
    run,
    server_options,
    start_server,
    stop_server,
    wait_until_up,
)

REDIS_URL = os.environ.get("CONSULT_BENCH_REDIS", "redis://127.0.0.1:6379/11")
IDEAS, CITIZENS, BUDGET = 200, 300, 5
USER_AGENT = "bench-voting"


def address(i: int) -> str:
    return f"10.{i // 250}.{i % 250}.1"


def seed(app) -> tuple[int, list[int], list[dict]]:
    """Migrate and fill the database; returns the challenge, idea ids and one login each."""
    from datetime import timedelta

    from flask import session
    from flask_login import login_user
    from flask_migrate import upgrade
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import text

    from consult.challenges.models import Challenge
    from consult.clock import now
    from consult.extensions import db
    from consult.ideas.models import Idea

    with app.app_context():
        upgrade()
        t = now()
        challenge = Challenge(
            title_de="Wofür soll das Geld ausgegeben werden?",
            title_en="What should the money be spent on?",
            submission_opens_at=t - timedelta(days=20),
            submission_closes_at=t - timedelta(days=5),
            voting_opens_at=t - timedelta(days=2),
            voting_closes_at=t + timedelta(days=12),
            results_at=t + timedelta(days=30),
            vote_budget=BUDGET,
        )
        db.session.add(challenge)
        db.session.flush()
        db.session.add_all(
            Idea(
                challenge_id=challenge.id,
                title=f"Idee Nummer {i}",
                body="Ein Vorschlag für die Stadt.",
                status="published",
                published_at=t,
            )
            for i in range(IDEAS)
        )
        users = [bench_account(f"v{i}", f"Voter {i}", at=t) for i in range(CITIZENS)]
        db.session.add_all(users)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        challenge_id = challenge.id
        idea_ids = list(db.session.scalars(db.select(Idea.id).order_by(Idea.id)))
        logins = []
        for i, user in enumerate(users):
            # The session the login form would leave, made for the address the server sees.
            with (
                app.app_context(),
                app.test_request_context(
                    "/", headers={"X-Forwarded-For": address(i), "User-Agent": USER_AGENT}
                ),
            ):
                login_user(user)
                token = generate_csrf()
                data = dict(session)
            cookie = app.session_interface.get_signing_serializer(app).dumps(data)
            logins.append(
                {
                    "cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}",
                    "token": token,
                    "address": address(i),
                }
            )
        db.engine.dispose()
    return challenge_id, idea_ids, logins


class Voting:
    """Random citizens voting for, or withdrawing from, random ideas."""

    def __init__(self, challenge_id: int, idea_ids: list[int], logins: list[dict], seed: int):
        self.challenge_id, self.idea_ids, self.logins = challenge_id, idea_ids, logins
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        # What each citizen believes it voted for (as its page shows); a stale belief under
        # concurrency just yields a 409, which is a correct answer too.
        self.mine: list[set[int]] = [set() for _ in logins]
        self.statuses: dict[str, int] = {}

    def request(self):
        with self.lock:
            who = self.rng.randrange(len(self.logins))
            votes = self.mine[who]
            if votes and (len(votes) >= BUDGET or self.rng.random() < 0.4):
                idea, action = self.rng.choice(sorted(votes)), "unvote"
            else:
                idea, action = self.rng.choice(self.idea_ids), "vote"
        login = self.logins[who]
        body = urlencode({"idea": idea, "csrf_token": login["token"]})
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Cookie": login["cookie"],
            "User-Agent": USER_AGENT,
            "X-Forwarded-For": login["address"],
            "Connection": "close",
        }
        return (
            "POST",
            f"/challenges/{self.challenge_id}/{action}",
            body,
            headers,
            (who, idea, action),
        )

    def answered(self, status: int, payload: bytes, context) -> bool:
        who, idea, action = context
        key = f"{action} {status}"
        with self.lock:
            self.statuses[key] = self.statuses.get(key, 0) + 1
            if status == 200:
                voted = json.loads(payload)["voted"]
                (self.mine[who].add if voted else self.mine[who].discard)(idea)
            elif status == 409 and action == "unvote":
                self.mine[who].discard(idea)
        return status in (200, 409)


class Bare:
    statuses: dict[str, int] = {}

    def request(self):
        return "GET", "/healthz", None, {"Connection": "close"}, None

    def answered(self, status: int, payload: bytes, context) -> bool:
        return status == 200


def check_counts(app) -> None:
    """Every cached count and ballot against the rows; exits non-zero on any difference."""
    from sqlalchemy import func, select

    from consult.extensions import db
    from consult.ideas.models import Idea
    from consult.voting.models import Ballot, Vote
    from consult.voting.services import check_ballots, check_vote_counts

    with app.app_context():
        ideas, ballots = check_vote_counts(), check_ballots()
        rows = db.session.scalar(select(func.count()).select_from(Vote))
        cached = db.session.scalar(select(func.sum(Idea.vote_count)))
        used = db.session.scalar(select(func.sum(Ballot.used)))
        over = db.session.scalar(
            select(func.count()).select_from(Ballot).where(Ballot.used > BUDGET)
        )
        db.engine.dispose()
    print(
        f"check: {rows} vote rows; sum of Idea.vote_count {cached}; sum of Ballot.used {used}; "
        f"ideas differing {len(ideas)}; ballots differing {len(ballots)}; "
        f"ballots over the budget {over}"
    )
    if ideas or ballots or over or not (rows == cached == used):
        sys.exit("FAILED: a cached count differs from the rows")
    print("check: every count equals its rows")


def explain_vote(app, challenge_id: int) -> str:
    """PostgreSQL's plans for the statements of one vote (index use, no sequential scans)."""
    from sqlalchemy import text

    from consult.extensions import db

    # The statements of consult.voting.services.cast_vote and withdraw_vote.
    statements = [
        f"INSERT INTO ballots (challenge_id, user_id, used) VALUES ({challenge_id}, 1, 1) "
        "ON CONFLICT (challenge_id, user_id) DO UPDATE SET used = ballots.used + 1 "
        "WHERE ballots.used < 5 RETURNING used",
        f"INSERT INTO votes (challenge_id, idea_id, user_id, created_at) VALUES "
        f"({challenge_id}, 1, 1, now()) ON CONFLICT (idea_id, user_id) DO NOTHING RETURNING id",
        "UPDATE ideas SET vote_count = vote_count + 1 WHERE id = 1 RETURNING vote_count",
        f"DELETE FROM votes WHERE idea_id = 1 AND user_id = 1 AND challenge_id = {challenge_id}",
    ]
    lines = []
    with app.app_context(), db.engine.connect() as conn:
        conn.execute(text("ANALYZE"))  # the planner sees the tables as they are now
        for sql in statements:
            plan = conn.execute(text("EXPLAIN " + sql)).all()
            lines.append("    " + sql + "\n" + "\n".join("      " + r[0] for r in plan))
        conn.rollback()
        db.engine.dispose()
    return "\n".join(lines)


def main() -> None:
    parser = server_options(__doc__, requests=2000, clients=16, threads=8)
    args = parser.parse_args()
    with empty_redis(REDIS_URL):
        on_fresh_database(measure, args)


def measure(args, database_url: str, log) -> None:
    server = None
    try:
        t0 = time.perf_counter()
        app = bench_app(database_url, PROXY_COUNT=1)
        challenge_id, idea_ids, logins = seed(app)
        print(
            f"data: one challenge in voting, {IDEAS} published ideas, budget {BUDGET}, "
            f"{CITIZENS} citizens with signed session cookies; set up in "
            f"{time.perf_counter() - t0:.1f} s"
        )

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
            f"{os.cpu_count()} CPUs shared; abuse limits in Redis"
        )
        voting = Voting(challenge_id, idea_ids, logins, seed=1)
        run(port, Bare(), 300, args.clients)  # warm-up: imports, connections, caches
        run(port, voting, 300, args.clients)
        bare1 = run(port, Bare(), args.requests, args.clients)
        vote1 = run(port, voting, args.requests, args.clients)
        bare2 = run(port, Bare(), args.requests, args.clients)
        vote2 = run(port, voting, args.requests, args.clients)
        bare, voted = merge(bare1, bare2), merge(vote1, vote2)

        print(f"{'endpoint':<40}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
        for label, r in (
            ("bare GET /healthz", bare),
            ("POST /challenges/<id>/vote|unvote", voted),
        ):
            print(f"{label:<40}{r['requests']:>9}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}")
        print("answers (warm-up included): " + ", ".join(
            f"{k}: {v}" for k, v in sorted(voting.statuses.items())
        ))  # fmt: skip
        print(
            f"votes and withdrawals per second: {voted['rps']:.0f}; "
            f"ratio voting/bare: throughput {voted['rps'] / bare['rps']:.3f} "
            f"(bare is {bare['rps'] / voted['rps']:.1f}x faster), "
            f"p50 latency {voted['p50'] / bare['p50']:.1f}x"
        )
    finally:
        stop_server(server)
    check_counts(app)
    print(
        "plans of a vote's statements after the run (EXPLAIN):\n" + explain_vote(app, challenge_id)
    )
    print(f"total time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
