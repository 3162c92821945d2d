"""Helpers for the challenge tests (imported by name; this module holds no tests itself)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from testdata import says  # noqa: F401  (used by the challenge tests)

from consult import clock
from consult.audit.models import AuditEntry
from consult.challenges import services
from consult.challenges.models import Category, Challenge
from consult.extensions import db

BERLIN = ZoneInfo("Europe/Berlin")
INVISIBLE = "Please remove invisible control characters from this text."
BUDGET = "Please enter a whole number from %(min)d to %(max)d."
NOT_A_DATE = "Please enter a date and time, for example 2026-05-01 18:00."
NO_SUCH_TIME = (
    "This time does not exist in Berlin: the clocks are put forward that night. "
    "Please choose another time."
)
LOCKED = (
    "Voting has started: the vote budget, the voting dates and the counting rules can no "
    "longer change."
)
TEXT_FIELDS = tuple(
    f"{name}_{lang}"
    for name in ("title", "question", "description", "plain", "cover_alt")
    for lang in ("de", "en")
)


def html(response) -> str:
    return response.get_data(as_text=True)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit(action: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))


def berlin(*args) -> datetime:
    """A Berlin wall-clock time as aware UTC (unambiguous times only)."""
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def local_input(moment: datetime) -> str:
    """What a datetime-local input shows (and posts) for a UTC moment."""
    return moment.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")


def schedule(start: datetime | None = None) -> dict:
    """A valid schedule: submission 10 days, voting overlapping its second half."""
    start = start or (clock.now() + timedelta(days=10)).replace(second=0, microsecond=0)
    return {
        "submission_opens_at": start,
        "submission_closes_at": start + timedelta(days=10),
        "voting_opens_at": start + timedelta(days=5),
        "voting_closes_at": start + timedelta(days=20),
        "results_at": start + timedelta(days=30),
        "archived_at": None,
    }


def challenge_data(**overrides) -> dict:
    data = {
        "title_de": "Lebendige Innenstadt",
        "title_en": "A lively city centre",
        "question_de": "Wie wird die Innenstadt lebendiger?",
        "question_en": "How can the city centre come alive?",
        "description_de": "Beschreibung",
        "description_en": "Description",
        **schedule(),
        "vote_budget": 5,
        "hide_counts_while_voting": False,
        "moderation": "pre",
        "count_paper_votes": True,
    }
    data.update(overrides)
    return data


def make_challenge(actor, **overrides) -> Challenge:
    return services.create_challenge(actor, challenge_data(**overrides))


def form_data(challenge: Challenge | None = None, **overrides) -> dict:
    """What the browser posts for the challenge form: as shown for ``challenge``, or new."""
    source = challenge_data() if challenge is None else None
    data = {}
    for field in TEXT_FIELDS:
        data[field] = (getattr(challenge, field) if challenge else source.get(field, "")) or ""
    for field in services.SCHEDULE_FIELDS:
        value = getattr(challenge, field) if challenge else source[field]
        data[field] = local_input(value) if value else ""
    budget = challenge.vote_budget if challenge else source["vote_budget"]
    data["vote_budget"] = str(budget)
    data["moderation"] = challenge.moderation if challenge else source["moderation"]
    for field in ("hide_counts_while_voting", "count_paper_votes"):
        if getattr(challenge, field) if challenge else source[field]:
            data[field] = "y"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def fresh_challenge(challenge_id: int) -> Challenge | None:
    db.session.expire_all()
    return db.session.get(Challenge, challenge_id)


def snapshot(challenge_id: int) -> dict:
    """Every column of a challenge and its categories, as the database has them now."""
    challenge = fresh_challenge(challenge_id)
    columns = {c.key: getattr(challenge, c.key) for c in Challenge.__table__.columns}
    columns["categories"] = [
        (c.id, c.name_de, c.name_en, c.position)
        for c in db.session.scalars(
            select(Category).where(Category.challenge_id == challenge_id).order_by(Category.id)
        )
    ]
    return columns
