"""Helpers for the lab project tests (imported by name; pytest does not collect this file)."""

import re
from datetime import timedelta

from jury.jury_support import jury_world, make_idea  # noqa: F401  (used by the tests)
from sqlalchemy import func, select
from testdata import html, plain, says, shows  # noqa: F401

from consult.audit.models import AuditEntry
from consult.clock import now
from consult.extensions import db
from consult.jobs import Outbox
from consult.jury.models import ResultSnapshot
from consult.projects import services
from consult.projects.models import CoCreator, LabProject, Milestone, Partner, ProjectUpdate


def freeze(world, results_out: bool = True) -> None:
    """Freeze the world's results: with the real service when it exists, else directly.

    ``results_out``: afterwards the press office's announcement is public (its embargo
    passed a minute ago), so ideas may be promoted; freezing itself happens during
    evaluation, as staff do it.
    """
    try:
        from consult.jury.freezing import freeze_results
    except ImportError:
        challenge = world.challenge
        db.session.add(ResultSnapshot(challenge_id=challenge.id, document="{}", sha256="0" * 64))
        challenge.results_frozen_at = now()
        db.session.commit()
    else:
        freeze_results(world.staff, world.challenge)
        db.session.expire_all()
    if results_out:
        publish_results_time(world.challenge)


def publish_results_time(challenge) -> None:
    """The results are out: the results time and the announcement's embargo have passed."""
    from consult.results.models import Announcement

    challenge.results_at = now() - timedelta(minutes=1)
    db.session.add(
        Announcement(
            challenge_id=challenge.id,
            title_de="Ergebnisse",
            title_en="Results",
            published_at=now() - timedelta(hours=1),
            embargo_at=now() - timedelta(minutes=1),
        )
    )
    db.session.commit()


def frozen_world(make_user):
    world = jury_world(make_user)
    freeze(world)
    return world


def promote(world, idea=None, **texts):
    """Promote an idea of the world (the first, whose author has an account) as staff."""
    idea = idea or world.ideas[0]
    values = {"title_de": "Bäume für den Markt", "title_en": "Trees for the market",
              "summary_de": "Wir **pflanzen**.", "summary_en": "We **plant**."}  # fmt: skip
    values.update(texts)
    return services.promote_idea(world.staff, world.challenge, idea.id, **values)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def state() -> dict:
    """Rows of everything a lab project action may create: compared before and after."""
    db.session.expire_all()
    return {
        m.__name__: count(m)
        for m in (LabProject, CoCreator, Partner, Milestone, ProjectUpdate, AuditEntry, Outbox)
    }


def audit(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def field_error(page: str, field_id: str) -> str:
    """The error text tied to a field (the ``field`` macro's <p id="...-error">)."""
    found = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    return found.group(1) if found else ""
