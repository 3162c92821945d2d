"""The figures of a running challenge for staff: activity per Berlin day, ideas, votes and
participants per district and category, the moderation backlog and unanswered ideas.

Everything is counted in SQL (a fixed handful of queries, whatever the challenge's size)
and builds on the results page's ``participation_figures``, so the two never disagree on
what an idea, a vote or a participant is. Vote counts are here even while a challenge hides
them: the dashboard is for staff only, and nothing of it is public or exported publicly.

Definitions (the page says them too):
- registrations: accounts created on the whole site from the moment submission opened to
  the end of voting (an account belongs to no challenge);
- participants: distinct accounts that submitted an idea, voted or commented here;
- a participant's district: an account has no address, so a person counts in each district
  whose ideas they wrote, voted for or commented on (shares may add up to more than 100 %).
"""

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from sqlalchemy import func, literal_column, select, union

from ..accounts.models import User
from ..answers.services import count_unanswered, unanswered_ideas
from ..challenges.models import Challenge
from ..clock import now
from ..districts import District
from ..events.models import Event
from ..extensions import db
from ..figures import every_day, hour_bucket, local_zone, per_berlin_day
from ..ideas.models import Comment, Idea, Report
from ..results.services import FigureRow, participation_figures
from ..voting.models import PaperVoteEntry, Vote
from ..voting.services import counted_round_votes

# The activity measures per day, in the order of the chart, the table and the CSV.
DAY_MEASURES = (
    "registrations",
    "ideas",
    "comments",
    "online_votes",
    "paper_votes",
    "event_votes",
)
# How many of the longest-waiting unanswered ideas the page lists (the CSV lists all).
UNANSWERED_SHOWN = 10


@dataclass(frozen=True)
class DayRow:
    day: date
    registrations: int = 0
    ideas: int = 0
    comments: int = 0
    online_votes: int = 0
    paper_votes: int = 0
    event_votes: int = 0

    def value(self, measure: str) -> int:
        return getattr(self, measure)


@dataclass(frozen=True)
class DistrictRow:
    name: str
    ideas: int
    votes: int
    participants: int
    population: int | None  # None: no figure configured (and for "No district given")
    per_thousand: Decimal | None  # participants per 1,000 inhabitants, two decimals


@dataclass(frozen=True)
class Backlog:
    """What waits for moderation in this challenge, and for how long (at ``at``)."""

    ideas_waiting: int
    oldest_idea: timedelta | None
    median_idea: timedelta | None
    reports_open: int
    oldest_report: timedelta | None


@dataclass(frozen=True)
class WaitingIdea:
    idea_id: int
    title: str
    language: str
    published_at: datetime | None
    waiting: timedelta | None


@dataclass
class Dashboard:
    challenge: Challenge
    at: datetime
    registrations: int
    participants: int
    ideas_submitted: int
    ideas_published: int
    comments: int
    online_votes: int
    paper_votes: int
    event_votes: int
    counts_offline: bool  # the challenge counts paper and event votes
    backlog: Backlog
    unanswered: int
    unanswered_oldest: list[WaitingIdea]
    by_day: list[DayRow] = field(default_factory=list)
    by_district: list[DistrictRow] = field(default_factory=list)
    by_category: list[FigureRow] = field(default_factory=list)

    @property
    def votes(self) -> int:
        return self.online_votes + self.paper_votes + self.event_votes


# --- population -----------------------------------------------------------------------------


def district_population(district: District) -> int | None:
    """Inhabitants of a district: its own column, else DISTRICT_POPULATION by name, else None."""
    if district.population:
        return district.population
    value = (current_app.config.get("DISTRICT_POPULATION") or {}).get(district.name)
    return int(value) if value else None


def fill_district_population() -> tuple[list[str], list[str]]:
    """Copy DISTRICT_POPULATION into the districts' ``population`` column.

    Returns (names filled, names without a configured figure). Districts the setting does
    not name keep what they have. Run by ``flask districts population`` and the demo seed.
    """
    figures = current_app.config.get("DISTRICT_POPULATION") or {}
    filled, missing = [], []
    for district in db.session.scalars(select(District).order_by(District.position, District.name)):
        value = figures.get(district.name)
        if value:
            district.population = int(value)
            filled.append(district.name)
        elif not district.population:
            missing.append(district.name)
    db.session.commit()
    return filled, missing


def per_thousand(people: int, population: int | None) -> Decimal | None:
    if not population:
        return None
    return (Decimal(people) * 1000 / Decimal(population)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


# --- per Berlin day -------------------------------------------------------------------------


def _daily(column, *conditions, joins=()) -> dict[date, int]:
    """Rows per Berlin day of ``column``, counted in SQL per UTC hour and folded here."""
    bucket = hour_bucket(column).label("bucket")
    statement = select(bucket, func.count())
    for target, onclause in joins:
        statement = statement.join(target, onclause)
    rows = db.session.execute(
        statement.where(column.is_not(None), *conditions).group_by(literal_column("bucket"))
    ).all()
    return dict(per_berlin_day(rows))


def _registrations_by_day(challenge: Challenge, at: datetime) -> dict[date, int]:
    end = min(at, challenge.voting_closes_at)
    if end < challenge.submission_opens_at:
        return {}
    return _daily(
        User.created_at,
        User.created_at >= challenge.submission_opens_at,
        User.created_at <= end,
    )


def _paper_by_day(challenge: Challenge) -> dict[date, int]:
    """Paper votes per day of their sheet (the workshop's date, else the day they were typed in)."""
    rows = db.session.execute(
        select(PaperVoteEntry.event_date, PaperVoteEntry.entered_at, PaperVoteEntry.count)
        .join(Idea, Idea.id == PaperVoteEntry.idea_id)
        .where(Idea.challenge_id == challenge.id, Idea.status == "published")
    ).all()
    zone = local_zone()
    days: dict[date, int] = {}
    for event_date, entered_at, count in rows:
        day = event_date or entered_at.astimezone(zone).date()
        days[day] = days.get(day, 0) + int(count)
    return days


def _event_votes_by_day(challenge: Challenge) -> dict[date, int]:
    """Event votes on the day of the event that first counted them.

    Events in the order they started; each day gets what its event adds to the counted
    total of the events before it, so a citizen's dot counted at two events (once in the
    total, by the rule of ``counted_round_votes``) lands once, on the first. The days add
    up to exactly the challenge's event votes.
    """
    events = db.session.execute(
        select(Event.id, Event.starts_at)
        .where(Event.challenge_id == challenge.id, Event.imported_round_id.is_not(None))
        .order_by(Event.starts_at, Event.id)
    ).all()
    zone = local_zone()
    days: dict[date, int] = {}
    so_far: list[int] = []
    before = 0
    for event_id, starts_at in events:
        so_far.append(event_id)
        rounds = select(Event.imported_round_id).where(Event.id.in_(list(so_far)))
        counted = counted_round_votes(challenge.id, rounds).subquery()
        total = int(
            db.session.scalar(
                select(func.coalesce(func.sum(counted.c.n), 0))
                .join(Idea, Idea.id == counted.c.idea_id)
                .where(Idea.status == "published")
            )
            or 0
        )
        day = starts_at.astimezone(zone).date()
        days[day] = days.get(day, 0) + total - before
        before = total
    return days


def _by_day(series: dict[str, dict[date, int]]) -> list[DayRow]:
    """Every day from the first to the last with any activity, quiet days as zeros."""
    seen = [day for counts in series.values() for day in counts]
    if not seen:
        return []
    return [
        DayRow(day, **{measure: counts.get(day, 0) for measure, counts in series.items()})
        for day in every_day(min(seen), max(seen))
    ]


# --- districts, backlog ---------------------------------------------------------------------


def _participants_by_district(challenge: Challenge) -> dict[int, int]:
    """Distinct people per district of the ideas they wrote, voted for or commented on."""
    pairs = union(
        select(Idea.author_id.label("uid"), Idea.district_id.label("did")).where(
            Idea.challenge_id == challenge.id,
            Idea.submitted_at.is_not(None),
            Idea.author_id.is_not(None),
        ),
        select(Vote.user_id, Idea.district_id)
        .join(Idea, Idea.id == Vote.idea_id)
        .where(Vote.challenge_id == challenge.id),
        select(Comment.author_id, Idea.district_id)
        .join(Idea, Idea.id == Comment.idea_id)
        .where(Idea.challenge_id == challenge.id, Comment.author_id.is_not(None)),
    ).subquery()
    rows = db.session.execute(
        select(pairs.c.did, func.count(pairs.c.uid.distinct()))
        .where(pairs.c.did.is_not(None))
        .group_by(pairs.c.did)
    ).all()
    return {district_id: int(n) for district_id, n in rows}


def _district_rows(challenge: Challenge, figure_rows: list[FigureRow]) -> list[DistrictRow]:
    """Every district (those without any activity too: a zero is the finding), then the
    ideas and votes without a district, as the results page counts them."""
    by_name = {row.name: row for row in figure_rows}
    people = _participants_by_district(challenge)
    rows = []
    names = set()
    for district in db.session.scalars(select(District).order_by(District.position, District.name)):
        names.add(district.name)
        figures = by_name.get(district.name)
        population = district_population(district)
        participants = people.get(district.id, 0)
        rows.append(
            DistrictRow(
                district.name,
                figures.ideas if figures else 0,
                figures.votes if figures else 0,
                participants,
                population,
                per_thousand(participants, population),
            )
        )
    for row in figure_rows:
        if row.name not in names:  # "No district given"
            rows.append(DistrictRow(row.name, row.ideas, row.votes, 0, None, None))
    return rows


def _age(at: datetime, since: datetime | None) -> timedelta | None:
    return max(at - since, timedelta(0)) if since is not None else None


def moderation_backlog(challenge: Challenge, at: datetime | None = None) -> Backlog:
    """Ideas of the challenge waiting for moderation ("submitted") and its open reports:
    how many, the age of the oldest and (ideas) the median age."""
    at = at or now()
    waiting = list(
        db.session.scalars(
            select(Idea.submitted_at).where(
                Idea.challenge_id == challenge.id, Idea.status == "submitted"
            )
        )
    )
    ages = sorted(_age(at, since) or timedelta(0) for since in waiting)
    reports, oldest_report = db.session.execute(
        select(func.count(Report.id), func.min(Report.created_at))
        .join(Idea, Idea.id == Report.idea_id)
        .where(Idea.challenge_id == challenge.id, Report.resolved_at.is_(None))
    ).one()
    if isinstance(oldest_report, str):  # SQLite's min() returns the stored text
        oldest_report = datetime.fromisoformat(oldest_report)
    if oldest_report is not None and oldest_report.tzinfo is None:
        oldest_report = oldest_report.replace(tzinfo=at.tzinfo)
    return Backlog(
        ideas_waiting=len(ages),
        oldest_idea=ages[-1] if ages else None,
        median_idea=statistics.median_low(ages) if ages else None,
        reports_open=int(reports or 0),
        oldest_report=_age(at, oldest_report),
    )


def _unanswered_list(challenge: Challenge, at: datetime, limit: int | None) -> list[WaitingIdea]:
    ideas = unanswered_ideas(challenge.id, limit)
    return [
        WaitingIdea(idea.id, idea.title, idea.language, idea.published_at,
                    _age(at, idea.published_at))
        for idea in ideas
    ]  # fmt: skip


def all_unanswered(challenge: Challenge, at: datetime | None = None) -> list[WaitingIdea]:
    """Every published idea without an official answer, longest waiting first (for the CSV)."""
    return _unanswered_list(challenge, at or now(), None)


# --- the dashboard --------------------------------------------------------------------------


def challenge_dashboard(challenge: Challenge, locale: str) -> Dashboard:
    """Every figure of the staff dashboard of ``challenge``, names in ``locale``."""
    at = now()
    figures = participation_figures(challenge, locale)
    counts_offline = bool(challenge.count_paper_votes)
    series = {
        "registrations": _registrations_by_day(challenge, at),
        "ideas": _daily(
            Idea.submitted_at, Idea.challenge_id == challenge.id, Idea.status != "draft"
        ),
        "comments": _daily(
            Comment.created_at,
            Idea.challenge_id == challenge.id,
            Idea.status == "published",
            Comment.status == "published",
            joins=[(Idea, Idea.id == Comment.idea_id)],
        ),
        "online_votes": dict(figures.by_day),
        "paper_votes": _paper_by_day(challenge) if counts_offline else {},
        "event_votes": _event_votes_by_day(challenge) if counts_offline else {},
    }
    ideas_submitted = db.session.scalar(
        select(func.count(Idea.id)).where(
            Idea.challenge_id == challenge.id,
            Idea.submitted_at.is_not(None),
            Idea.status != "draft",
        )
    )
    return Dashboard(
        challenge=challenge,
        at=at,
        registrations=sum(series["registrations"].values()),
        participants=figures.citizens,
        ideas_submitted=int(ideas_submitted or 0),
        ideas_published=figures.ideas,
        comments=figures.comments,
        online_votes=figures.online_votes,
        paper_votes=figures.paper_votes,
        event_votes=figures.event_votes,
        counts_offline=counts_offline,
        backlog=moderation_backlog(challenge, at),
        unanswered=count_unanswered(challenge.id),
        unanswered_oldest=_unanswered_list(challenge, at, UNANSWERED_SHOWN),
        by_day=_by_day(series),
        by_district=_district_rows(challenge, figures.by_district),
        by_category=figures.by_category,
    )
