"""Helpers for the results tests (imported by name; pytest does not collect this file).

A frozen jury world (tests/jury/jury_support.py) plus a press officer and announcements,
written with the real services unless a test needs a state they refuse to make.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from jury.jury_support import DAY, add_votes, jury_world, make_idea  # noqa: F401
from sqlalchemy import func, select
from testdata import html, plain, says, shows  # noqa: F401

from consult.audit.models import AuditEntry
from consult.challenges.models import Category
from consult.clock import now
from consult.districts import District
from consult.extensions import db
from consult.jury.freezing import freeze_results
from consult.results import services
from consult.results.models import Announcement, AnnouncementHighlight

BERLIN = ZoneInfo("Europe/Berlin")

TEXTS = {
    "title_de": "Die Gewinner stehen fest",
    "title_en": "The winners are decided",
    "lead_de": "Trinkbrunnen und Bäume für die Innenstadt.",
    "lead_en": "Drinking fountains and trees for the city centre.",
    "body_de": "Danke an **alle**, die mitgemacht haben.",
    "body_en": "Thanks to **everyone** who took part.",
}


def frozen_world(make_user, freeze: bool = True):
    """The jury example (idea 2 first, then 1, then 3), frozen, plus a press officer.

    ``world.extra["press"]`` is the press officer.
    """
    world = jury_world(make_user)
    if freeze:
        freeze_results(world.staff, world.challenge)
        db.session.expire_all()
    world.extra["press"] = make_user(roles=("press",), pseudonym="Pressestelle")
    return world


def place_ideas(world, north_name: str = "Nordstadt") -> None:
    """Two districts and two categories for the example's ideas, so the figures have rows:
    idea 1 Bäume/Trees in the north, idea 2 Wasser/Water in Hörde, idea 3 in the north
    without a category. They go to ``world.extra`` (north, south, trees, water)."""
    north = District(name=north_name, position=1)
    south = District(name="Hörde", position=2)
    trees = Category(challenge_id=world.challenge.id, name_de="Bäume", name_en="Trees", position=0)
    water = Category(challenge_id=world.challenge.id, name_de="Wasser", name_en="Water", position=1)
    db.session.add_all([north, south, trees, water])
    db.session.commit()
    a, b, c = world.ideas
    a.category_id, a.district_id = trees.id, north.id
    b.category_id, b.district_id = water.id, south.id
    c.district_id = north.id
    db.session.commit()
    world.extra.update(north=north, south=south, trees=trees, water=water)


def press_of(world):
    return world.extra["press"]


def announcement_data(world, embargo=timedelta(hours=1), highlights=None, **texts) -> dict:
    """The service data of an announcement; ``embargo`` relative to now (None: none)."""
    data = dict(TEXTS, **texts)
    data["highlights"] = [world.ideas[1].id] if highlights is None else [i.id for i in highlights]
    data["embargo_at"] = now() + embargo if embargo is not None else None
    return data


def announce(world, embargo=timedelta(hours=1), publish: bool = True, **kwargs) -> Announcement:
    """Write (and by default publish) the announcement with the real services."""
    data = announcement_data(world, embargo, **kwargs)
    action = services.publish_announcement if publish else services.save_announcement
    return action(press_of(world), world.challenge, data)


def publish_past_embargo(world, ago=timedelta(minutes=1)) -> Announcement:
    """A published announcement whose embargo passed ``ago``: written directly, since the
    service (rightly) refuses an embargo in the past."""
    announcement = announce(world, embargo=timedelta(hours=1))
    announcement.embargo_at = now() - ago
    db.session.commit()
    return announcement


def berlin_input(moment: datetime) -> str:
    """A UTC moment as the datetime-local input shows it in Berlin time."""
    return moment.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")


def form_data(world, embargo=timedelta(hours=2), action: str = "save", **texts) -> dict:
    """The POST body of the announcement form; ``embargo`` relative to now, or a raw string."""
    data = dict(TEXTS, **texts)
    data["highlights"] = [str(world.ideas[1].id)]
    if isinstance(embargo, timedelta):
        # Whole minutes in the future, so the form's minute precision keeps it in the future.
        moment = (now() + embargo).replace(second=0, microsecond=0) + timedelta(minutes=1)
        data["embargo_at"] = berlin_input(moment)
    elif embargo is not None:
        data["embargo_at"] = embargo
    data["action"] = action
    return data


def edit_url(challenge) -> str:
    return f"/press/challenges/{challenge.id}/announcement"


def results_url(challenge) -> str:
    return f"/challenges/{challenge.id}/results"


def snapshot_url(challenge) -> str:
    return f"/challenges/{challenge.id}/results/snapshot.json"


def stored_announcement(challenge) -> Announcement | None:
    db.session.expire_all()
    return db.session.scalar(select(Announcement).where(Announcement.challenge_id == challenge.id))


def highlights_of(announcement) -> list[int]:
    return list(
        db.session.scalars(
            select(AnnouncementHighlight.idea_id)
            .where(AnnouncementHighlight.announcement_id == announcement.id)
            .order_by(AnnouncementHighlight.position)
        )
    )


def audit_count(action: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    )


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)
