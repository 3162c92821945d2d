"""Moderating room ideas stays exact when moderators act at the same moment (PostgreSQL:
SQLite serialises every writer with one lock, so there is nothing to race there)."""

import pytest
from events.event_support import (
    add_participant,
    give_dots,
    make_event,
    make_round,
    published_idea,
    room_idea,
)
from setup_support import run_in_contexts
from sqlalchemy import func, select

from consult.accounts.models import User
from consult.events import room_ideas
from consult.events.models import Event, RoundBallot, RoundVote
from consult.extensions import db
from consult.ideas.models import Idea

pytestmark = pytest.mark.postgres_only


def run_together(app, jobs: list) -> list:
    """Each job in its own thread and app context, released together; returns "ok" or the refusal's status per job."""
    return run_in_contexts(app, jobs, ok="ok")


def test_moderators_acting_on_one_idea_at_once_make_one_decision(app, make_user, monkeypatch):
    monkeypatch.setattr(room_ideas.live, "announce", lambda *a: None)
    event = make_event()
    moderators = [make_user(roles=("moderator",)).id for _ in range(3)]
    target = published_idea(event.challenge)
    ideas = [room_idea(event, add_participant(event), status="queued").id for _ in range(4)]
    ids = (event.id, target.id)

    def decide(kind: str, moderator_id: int, idea_id: int):
        def job():
            moderator, idea = db.session.get(User, moderator_id), db.session.get(Idea, idea_id)
            event = db.session.get(Event, ids[0])
            if kind == "approve":
                room_ideas.approve_room_idea(moderator, event, idea)
            elif kind == "hide":
                room_ideas.hide_room_idea(moderator, event, idea, "offensive", seen="queued")
            else:
                room_ideas.merge_room_idea(moderator, event, idea, str(ids[1]), "queued")

        return job

    kinds = ("approve", "hide", "merge")
    outcomes = run_together(
        app, [decide(k, m, i) for i in ideas for k, m in zip(kinds, moderators, strict=True)]
    )
    for n in range(len(ideas)):
        assert sorted(outcomes[3 * n : 3 * n + 3], key=str) == [409, 409, "ok"]
    db.session.expire_all()
    from consult.audit.models import AuditEntry

    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == len(ideas)
    assert all(db.session.get(Idea, i).status in ("room", "hidden", "merged") for i in ideas)


def test_two_merges_into_one_idea_at_once_leave_no_double_vote(app, make_user, monkeypatch):
    """Everybody voted for both duplicates; both are merged into the same target at the
    same moment. Each participant ends with one dot on the target and a ballot that
    equals their rows."""
    monkeypatch.setattr(room_ideas.live, "announce", lambda *a: None)
    event = make_event()
    moderators = [make_user(roles=("moderator",)).id for _ in range(2)]
    target = room_idea(event, None, status="room", title="Ziel")
    first = room_idea(event, None, status="room", title="Doppelt 1")
    second = room_idea(event, None, status="room", title="Doppelt 2")
    round_ = make_round(event, budget=2)
    people = [add_participant(event, f"P{i}") for i in range(8)]
    for person in people:
        give_dots(round_, person, first, second)
    event_id, target_id = event.id, target.id

    def merge(moderator_id: int, idea_id: int):
        def job():
            room_ideas.merge_room_idea(
                db.session.get(User, moderator_id),
                db.session.get(Event, event_id),
                db.session.get(Idea, idea_id),
                str(target_id),
            )

        return job

    assert run_together(app, [merge(moderators[0], first.id), merge(moderators[1], second.id)]) == [
        "ok", "ok",
    ]  # fmt: skip
    db.session.expire_all()
    rows = db.session.execute(select(RoundVote.participant_id, RoundVote.idea_id)).all()
    assert sorted(rows) == sorted((p.id, target_id) for p in people)
    for ballot in db.session.scalars(select(RoundBallot)):
        assert ballot.used == 1


def test_votes_racing_a_merge_never_land_on_the_merged_idea(app, make_user, monkeypatch):
    """Participants vote for and withdraw from a duplicate while a moderator merges it:
    every vote lands before the merge (and moves) or finds the idea merged (404); no
    deadlock, no vote on the merged idea, no double vote, ballots equal their rows."""
    from consult.events import rounds
    from consult.events.models import EventParticipant, EventRound

    monkeypatch.setattr(room_ideas.live, "announce", lambda *a: None)
    monkeypatch.setattr(rounds.live, "announce", lambda *a: None)
    event = make_event()
    moderator_id = make_user(roles=("moderator",)).id
    target = room_idea(event, None, status="room", title="Ziel")
    duplicate = room_idea(event, None, status="room", title="Doppelt")
    round_ = make_round(event, budget=2)
    people = [add_participant(event, f"V{i}") for i in range(16)]
    for person in people[::2]:
        give_dots(round_, person, target)
    ids = (event.id, round_.id, target.id, duplicate.id)

    def cast(participant_id: int, withdraw: bool):
        def job():
            participant = db.session.get(EventParticipant, participant_id)
            event, voting_round = db.session.get(Event, ids[0]), db.session.get(EventRound, ids[1])
            rounds.cast_round_vote(participant, event, voting_round, ids[3])
            if withdraw:
                rounds.withdraw_round_vote(participant, event, voting_round, ids[3])

        return job

    def merge():
        room_ideas.merge_room_idea(
            db.session.get(User, moderator_id),
            db.session.get(Event, ids[0]),
            db.session.get(Idea, ids[3]),
            str(ids[2]),
        )

    jobs = [cast(p.id, withdraw=n % 3 == 0) for n, p in enumerate(people)]
    outcomes = run_together(app, jobs[:8] + [merge] + jobs[8:])
    assert outcomes[8] == "ok"
    assert set(outcomes) <= {"ok", 404, 409}
    db.session.expire_all()
    assert db.session.get(Idea, ids[3]).status == "merged"
    rows = db.session.execute(
        select(RoundVote.participant_id, RoundVote.idea_id).where(RoundVote.round_id == ids[1])
    ).all()
    assert all(idea_id == ids[2] for _, idea_id in rows)
    assert len(rows) == len(set(rows))
    used = dict(db.session.execute(select(RoundBallot.participant_id, RoundBallot.used)).all())
    per_person = {}
    for participant_id, _ in rows:
        per_person[participant_id] = per_person.get(participant_id, 0) + 1
    assert {k: v for k, v in used.items() if v} == per_person
