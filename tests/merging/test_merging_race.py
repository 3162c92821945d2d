"""Merging stays exact while citizens vote and withdraw on both ideas at the same moment.

On PostgreSQL the jobs run in threads released together by a barrier (``run_together``);
SQLite serialises every writer, so there the same jobs run one after another in a shuffled
order (serial semantics): the invariants must hold either way.
"""

import random

import pytest
from merging_support import NOTE_DE, assert_consistent
from setup_support import run_together, vote_job
from sqlalchemy import func, select
from voting.voting_support import make_idea

from consult.accounts.models import User
from consult.errors import UserError
from consult.extensions import db
from consult.ideas.models import Idea
from consult.merging import services
from consult.voting import services as votes
from consult.voting.models import Ballot, Vote

BUDGET = 2


@pytest.fixture
def app_config(redis_url):
    # Jobs go to Redis, as in production: run inline, each committing thread's mail would
    # take a second pooled connection while its first is still checked out (SQLAlchemy's
    # after_commit), and a few dozen threads could then wait on the pool for each other.
    return {"REDIS_URL": redis_url}


def run(app, jobs: list) -> None:
    if db.engine.dialect.name == "postgresql":
        run_together(jobs, workers=len(jobs))
    else:
        random.Random(5).shuffle(jobs)
        for job in jobs:
            job()


def test_votes_withdrawals_and_merges_at_once_keep_every_budget_and_count(app, make_user):
    from merging_support import merge_world

    w = merge_world(make_user, budget=BUDGET)
    extra = [make_idea(w.challenge, None, title=f"Idee {i}") for i in range(3)]
    challenge_id, staff_id = w.challenge.id, w.staff.id
    source_id, target_id = w.source.id, w.target.id
    others = [w.other.id] + [i.id for i in extra]
    # Citizens who voted for both before the merge: their budget is spent.
    doubles = [make_user() for _ in range(12)]
    for citizen in doubles:
        votes.cast_vote(citizen, w.challenge, source_id)
        votes.cast_vote(citizen, w.challenge, target_id)
    busy = [make_user() for _ in range(24)]
    for i, citizen in enumerate(busy):
        votes.cast_vote(citizen, w.challenge, (source_id, target_id, others[0])[i % 3])
    double_ids, busy_ids = [c.id for c in doubles], [c.id for c in busy]
    outcomes: list = []
    merges: dict = {}

    def citizen_job(user_id: int, idea_id: int, cast: bool):
        return vote_job(app, outcomes, user_id, challenge_id, idea_id, cast)

    def merge_job(name: str, source: int, target: int):
        def job():
            with app.app_context():
                try:
                    services.merge_idea(
                        db.session.get(User, staff_id), db.session.get(Idea, source), target,
                        "Bürgeramt", NOTE_DE, "",
                    )  # fmt: skip
                    merges[name] = "ok"
                except UserError as error:
                    merges[name] = error.status
                finally:
                    db.session.remove()

        return job

    rng = random.Random(12)
    jobs = [
        citizen_job(
            rng.choice(busy_ids), rng.choice([source_id, target_id, *others]), rng.random() < 0.6
        )  # fmt: skip
        for _ in range(60)
    ]
    # The double voters try to use a slot elsewhere: refused until the merge gives it back.
    jobs += [citizen_job(uid, others[1], True) for uid in double_ids]
    jobs += [
        merge_job("main", source_id, target_id),
        merge_job("second", others[0], target_id),  # also into the target, at the same time
        merge_job("cross-a", others[2], others[3]),  # two staff merging crosswise: one wins
        merge_job("cross-b", others[3], others[2]),
    ]
    run(app, jobs)

    assert set(outcomes) <= {"ok", 404, 409}, set(outcomes)
    assert len(outcomes) == 60 + len(double_ids)
    assert merges["main"] == merges["second"] == "ok", merges
    assert sorted([merges["cross-a"], merges["cross-b"]], key=str) == [409, "ok"], merges
    db.session.expire_all()
    assert_consistent()
    # Nothing is left on (or lands on) a merged idea.
    merged = db.session.scalars(select(Idea.id).where(Idea.status == "merged")).all()
    assert len(merged) == 3 and source_id in merged and others[0] in merged
    assert db.session.scalar(select(func.count()).where(Vote.idea_id.in_(merged))) == 0
    assert all(db.session.get(Idea, i).vote_count == 0 for i in merged)
    # No ballot over the budget; used equals the citizen's vote rows.
    for used, rows in db.session.execute(
        select(Ballot.used, func.count(Vote.id))
        .outerjoin(
            Vote, (Vote.user_id == Ballot.user_id) & (Vote.challenge_id == Ballot.challenge_id)
        )
        .group_by(Ballot.challenge_id, Ballot.user_id, Ballot.used)
    ):
        assert used == rows <= BUDGET
    # Every citizen who had voted for both keeps exactly one vote for the merged pair.
    for uid in double_ids:
        assert (
            db.session.scalar(
                select(func.count()).where(
                    Vote.user_id == uid, Vote.idea_id.in_([source_id, target_id])
                )
            )
            == 1
        )


def test_comments_and_follows_during_a_merge_neither_deadlock_nor_lose_a_count(app, make_user):
    """Citizens comment on and follow both ideas while the merge runs: every request ends
    (no deadlock between a comment's foreign-key lock and the merge's row locks), and each
    idea's cached comment count equals its published comments afterwards."""
    from merging_support import merge_world

    from consult.ideas import services as ideas
    from consult.ideas.models import Comment, IdeaFollower

    w = merge_world(make_user)
    staff_id, source_id, target_id = w.staff.id, w.source.id, w.target.id
    # Fewer threads than the connection pool holds (15): every comment queues a mail to the
    # idea's author, and a commit that queues a job takes a second connection for it.
    people = [make_user().id for _ in range(11)]
    outcomes: list = []

    def citizen_job(user_id: int, idea_id: int, follow: bool):
        def job():
            with app.app_context():
                try:
                    user, idea = db.session.get(User, user_id), db.session.get(Idea, idea_id)
                    if follow:
                        ideas.follow_idea(user, idea)
                    else:
                        ideas.add_comment(user, idea, "Dafür!")
                    outcomes.append("ok")
                except UserError as error:
                    outcomes.append(error.status)
                finally:
                    db.session.remove()

        return job

    def merge_job():
        with app.app_context():
            try:
                services.merge_idea(db.session.get(User, staff_id), db.session.get(Idea, source_id),
                                    target_id, "Bürgeramt", NOTE_DE, "")  # fmt: skip
                outcomes.append("merged")
            finally:
                db.session.remove()

    jobs = [citizen_job(uid, (source_id, target_id)[i % 2], i % 3 == 0)
            for i, uid in enumerate(people)]  # fmt: skip
    run(app, [*jobs, merge_job])

    assert outcomes.count("merged") == 1 and set(outcomes) <= {"ok", "merged", 409}
    db.session.expire_all()
    for idea_id in (source_id, target_id):
        published = db.session.scalar(
            select(func.count()).where(Comment.idea_id == idea_id, Comment.status == "published")
        )
        assert db.session.get(Idea, idea_id).comment_count == published
    following = db.session.scalars(select(IdeaFollower.user_id).where(
        IdeaFollower.idea_id == target_id)).all()  # fmt: skip
    assert len(following) == len(set(following))
