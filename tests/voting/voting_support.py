"""Helpers for the voting tests (imported by name; pytest does not collect this file)."""

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import force_locale, ngettext
from markupsafe import escape
from sqlalchemy import func, select
from testdata import plain as tr  # noqa: F401  (used by the voting tests)
from testdata import says  # noqa: F401

from consult.challenges.models import Challenge
from consult.clock import now
from consult.extensions import db
from consult.ideas.models import Idea
from consult.jury.models import JurorAssignment
from consult.text import render_markdown
from consult.voting.models import Ballot, Vote

DAY = timedelta(days=1)


def budget_text(left: int, budget: int, locale: str = "de") -> str:
    return tr("%(left)d of %(budget)d votes left", locale, left=left, budget=budget)


def voted_for_text(num: int, locale: str = "de") -> str:
    with force_locale(locale):
        return ngettext(
            "You have voted for %(num)d idea.", "You have voted for %(num)d ideas.", num
        )


def count_label(num: int, locale: str = "de") -> str:
    with force_locale(locale):
        return ngettext("%(num)d vote", "%(num)d votes", num)


def count_parts(total: int, online: int, paper: int, locale: str = "de") -> str:
    """The idea page's count with its parts: "84 Stimmen: 12 online, 72 auf Papier"."""
    with force_locale(locale):
        return str(
            escape(
                ngettext(
                    "%(num)d vote: %(online)d online, %(paper)d on paper",
                    "%(num)d votes: %(online)d online, %(paper)d on paper",
                    total,
                    online=online,
                    paper=paper,
                )
            )
        )


def make_challenge(
    budget: int = 5,
    opens: timedelta = -2 * DAY,
    closes: timedelta = 5 * DAY,
    at=None,
    **settings,
) -> Challenge:
    """A challenge whose voting runs (by default) from ``opens`` to ``closes`` relative to now.

    ``at`` gives absolute voting times instead: (opens_at, closes_at).
    """
    t = now()
    voting_opens, voting_closes = at or (t + opens, t + closes)
    challenge = Challenge(
        title_de="Abstimmung",
        title_en="Vote",
        question_de="Was wünschen Sie sich?",
        question_en="What do you wish for?",
        submission_opens_at=voting_opens - 10 * DAY,
        submission_closes_at=voting_opens - DAY,
        voting_opens_at=voting_opens,
        voting_closes_at=voting_closes,
        results_at=voting_closes + 7 * DAY,
        vote_budget=budget,
        **settings,
    )
    db.session.add(challenge)
    db.session.commit()
    return challenge


def challenge_with_ideas(ideas: int, **settings) -> tuple[Challenge, list[Idea]]:
    """A challenge whose voting runs, with ``ideas`` published ideas (no author needed)."""
    challenge = make_challenge(**settings)
    t = now()
    rows = [
        Idea(challenge_id=challenge.id, title=f"Idee {i}", status="published", published_at=t)
        for i in range(ideas)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return challenge, rows


def make_idea(challenge, author=None, status="published", title=None) -> Idea:
    t = now()
    idea = Idea(
        challenge_id=challenge.id,
        author_id=author.id if author is not None else None,
        title=title or "Bäume für den Marktplatz",
        body="Mehr Bäume.",
        body_html=render_markdown("Mehr Bäume."),
        language="de",
        status=status,
        submitted_at=None if status == "draft" else t,
        published_at=t if status in ("published", "hidden") else None,
    )
    db.session.add(idea)
    db.session.commit()
    return idea


def make_juror(challenge, user) -> None:
    db.session.add(JurorAssignment(challenge_id=challenge.id, user_id=user.id))
    db.session.commit()


@dataclass
class Snapshot:
    votes: list  # (idea_id, user_id) of every vote row
    used: dict  # (challenge_id, user_id) -> ballot.used
    counts: dict  # idea id -> cached vote_count


def snapshot() -> Snapshot:
    """Everything a vote can change, to compare before and after a refused request."""
    db.session.expire_all()
    return Snapshot(
        votes=sorted(db.session.execute(select(Vote.idea_id, Vote.user_id)).all()),
        used={
            (c, u): n
            for c, u, n in db.session.execute(
                select(Ballot.challenge_id, Ballot.user_id, Ballot.used)
            )
        },
        counts=dict(db.session.execute(select(Idea.id, Idea.vote_count)).all()),
    )


def assert_caches_match_rows() -> None:
    """The cached Idea.vote_count equals COUNT(*) of its rows; ballots match the rows too."""
    db.session.expire_all()
    rows = dict(db.session.execute(select(Vote.idea_id, func.count()).group_by(Vote.idea_id)).all())
    for idea_id, cached in db.session.execute(select(Idea.id, Idea.vote_count)):
        assert cached == rows.get(idea_id, 0), (idea_id, cached, rows.get(idea_id, 0))
    per_ballot = dict(
        (tuple(k[:2]), k[2])
        for k in db.session.execute(
            select(Vote.challenge_id, Vote.user_id, func.count()).group_by(
                Vote.challenge_id, Vote.user_id
            )
        )
    )
    for c, u, used in db.session.execute(select(Ballot.challenge_id, Ballot.user_id, Ballot.used)):
        assert used == per_ballot.get((c, u), 0), (c, u, used)
