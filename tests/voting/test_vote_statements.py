"""What one vote costs: the SQL statements and transactions of a vote and of a withdrawal,
counted on the engine, and the Redis round trips of the abuse limits (DESIGN §4 keeps the
budget in the database; this keeps each vote cheap)."""

import pytest
from redis.connection import Connection
from sqlalchemy import event
from voting_support import make_challenge, make_idea

from consult.extensions import db

JSON = {"Accept": "application/json"}


@pytest.fixture
def app_config(redis_url):
    return {"REDIS_URL": redis_url}  # the abuse limits in Redis, as in production


def _costs(client, monkeypatch, url, data) -> tuple[list[str], int, list[str]]:
    """(first two words of each statement, commits, Redis round trips) of one request; a
    round trip is named "limits" (the abuse limits' script) or "other"."""
    seen, commits, sent = [], [], []

    def statement(conn, cursor, sql, parameters, context, executemany):
        seen.append(" ".join(sql.split()[:2]) if sql.startswith("SELECT") else sql.split()[0])

    send = Connection.send_packed_command

    def counted_send(self, command, check_health=True):
        packed = b"".join(command) if isinstance(command, list | tuple) else command
        sent.append("limits" if b"EVAL" in packed else "other")
        return send(self, command, check_health)

    def committed(conn):
        commits.append(1)

    monkeypatch.setattr(Connection, "send_packed_command", counted_send)
    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", committed)
    try:
        response = client.post_form(url, data, headers=JSON)
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", committed)
        monkeypatch.undo()
    assert response.status_code == 200, response.get_data(as_text=True)
    return seen, len(commits), sent


def test_a_vote_is_two_reads_three_writes_and_one_redis_round_trip(
    client, login, make_user, monkeypatch
):
    challenge = make_challenge(budget=5)
    ideas = [make_idea(challenge), make_idea(challenge)]
    login(make_user())
    client.csrf_token()
    base = f"/challenges/{challenge.id}"
    reads = ["SELECT challenges.id,", "SELECT users.id,"]  # the account with its roles
    # On SQLite the paper and event votes are read after the commit (see _count_change).
    after = [] if db.engine.dialect.name == "postgresql" else ["SELECT (SELECT"]
    _costs(client, monkeypatch, base + "/vote", {"idea": ideas[0].id})  # Redis has the script
    cast = _costs(client, monkeypatch, base + "/vote", {"idea": ideas[1].id})
    # The paper and event votes of the answer's count ride in the UPDATE, the jury check too;
    # nothing is read after the commit (not even the account for the locale).
    # Redis: the abuse limits in one script before, and after the commit the page cache's
    # one new generation token (the counts on visitors' pages changed).
    # On PostgreSQL the three writes are one statement of CTEs (WITH … UPDATE, INSERT,
    # INSERT): one round trip instead of three.
    postgres = db.engine.dialect.name == "postgresql"
    writes = ["WITH"] if postgres else ["UPDATE", "INSERT", "INSERT"]
    assert cast == ([*reads, *writes, *after], 1, ["limits", "other"])
    withdrawn = _costs(client, monkeypatch, base + "/unvote", {"idea": ideas[1].id})
    writes = ["WITH"] if postgres else ["UPDATE", "UPDATE", "DELETE"]
    assert withdrawn == ([*reads, *writes, *after], 1, ["limits", "other"])
