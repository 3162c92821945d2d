"""Use cases of challenges: create, edit, schedule, categories, cover, public listing."""

from datetime import datetime
from functools import cache

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.orm import joinedload

from ..audit.services import record_action
from ..clock import now
from ..errors import UserError
from ..extensions import db
from ..i18n import _
from ..text import checked_text, clean_line, has_invisible_characters
from .models import MODERATION_MODES, Category, Challenge

TEXT_FIELDS = {
    # field: (max length, single line)
    "title_de": (160, True),
    "title_en": (160, True),
    "question_de": (300, True),
    "question_en": (300, True),
    "description_de": (10_000, False),
    "description_en": (10_000, False),
    "plain_de": (5_000, False),
    "plain_en": (5_000, False),
    "cover_alt_de": (300, True),
    "cover_alt_en": (300, True),
}
SCHEDULE_FIELDS = (
    "submission_opens_at",
    "submission_closes_at",
    "voting_opens_at",
    "voting_closes_at",
    "results_at",
    "archived_at",
)
SETTING_FIELDS = ("vote_budget", "hide_counts_while_voting", "moderation", "count_paper_votes")
# What a running vote depends on: frozen from the moment voting opens.
LOCKED_ONCE_VOTING = (
    "vote_budget",
    "hide_counts_while_voting",
    "count_paper_votes",
    "voting_opens_at",
    "voting_closes_at",
)
# What the frozen results were computed from: fixed once they are frozen. Texts may still
# be corrected, and the results and archive dates only move the publication.
LOCKED_ONCE_FROZEN = SETTING_FIELDS + (
    "submission_opens_at",
    "submission_closes_at",
    "voting_opens_at",
    "voting_closes_at",
)
MAX_VOTE_BUDGET = 100
SETTING_DEFAULTS = {
    "vote_budget": 5,
    "hide_counts_while_voting": False,
    "moderation": "pre",
    "count_paper_votes": True,
}


def _clean_texts(data: dict) -> dict:
    cleaned = {}
    for field, (limit, single_line) in TEXT_FIELDS.items():
        if field not in data:
            continue
        cleaned[field] = checked_text(data[field], field, limit, line=single_line)
    return cleaned


def _is_aware(value) -> bool:
    # A naive datetime cannot be compared with the stored (aware UTC) ones: refuse it here
    # rather than fail with a TypeError half-way through a request.
    return isinstance(value, datetime) and value.tzinfo is not None


def check_schedule(values: dict) -> None:
    """The dates must follow each other; submission and voting may overlap."""
    for field in SCHEDULE_FIELDS[:-1]:
        if not _is_aware(values.get(field)):
            raise UserError(_("Please enter a date and time."), field=field)
    archived = values.get("archived_at")
    if archived is not None and not _is_aware(archived):
        raise UserError(_("Please enter a date and time."), field="archived_at")
    # (later, earlier, may they be equal, message). Only a phase's own window must not be
    # empty; voting may end the moment submission closes, results may follow at once.
    rules = [
        ("submission_closes_at", "submission_opens_at", False,
         _("Submission must close after it opens.")),
        ("voting_closes_at", "voting_opens_at", False, _("Voting must end after it starts.")),
        ("voting_opens_at", "submission_opens_at", True,
         _("Voting cannot start before submission opens.")),
        ("voting_closes_at", "submission_closes_at", True,
         _("Voting cannot end before submission closes.")),
        ("results_at", "voting_closes_at", True, _("Results cannot come before voting ends.")),
    ]  # fmt: skip
    for later, earlier, may_equal, message in rules:
        if values[later] < values[earlier] or (values[later] == values[earlier] and not may_equal):
            raise UserError(message, field=later)
    if archived is not None and archived <= values["results_at"]:
        raise UserError(
            _("A challenge can only be archived after its results."), field="archived_at"
        )


def _check_settings(values: dict) -> None:
    budget = values.get("vote_budget")
    if (
        not isinstance(budget, int)
        or isinstance(budget, bool)
        or not 0 <= budget <= MAX_VOTE_BUDGET
    ):
        raise UserError(
            _("Please enter a whole number from %(min)d to %(max)d.", min=0, max=MAX_VOTE_BUDGET),
            field="vote_budget",
        )
    if values.get("moderation") not in MODERATION_MODES:
        raise UserError(_("Please choose a moderation mode."), field="moderation")
    for field in ("hide_counts_while_voting", "count_paper_votes"):
        if not isinstance(values.get(field), bool):
            raise UserError(_("Please choose yes or no."), field=field)


def _require_title(values: dict) -> None:
    if not (values.get("title_de") or values.get("title_en")):
        raise UserError(
            _("Please give the challenge a title in at least one language."), field="title_de"
        )
    if not (values.get("question_de") or values.get("question_en")):
        raise UserError(_("Please ask the question in at least one language."), field="question_de")


def create_challenge(actor, data: dict) -> Challenge:
    """A new challenge from staff; it stays a draft until its submission phase opens."""
    values = {**_clean_texts(data)}
    values.update({f: data.get(f) for f in SCHEDULE_FIELDS})
    # A setting left out takes its default; None would reach the NOT NULL columns.
    values.update({f: data.get(f, default) for f, default in SETTING_DEFAULTS.items()})
    _require_title(values)
    check_schedule(values)
    _check_settings(values)
    challenge = Challenge(created_by_id=actor.id, **values)
    db.session.add(challenge)
    db.session.flush()
    record_action(actor, "challenge.create", "challenge", challenge.id,
                  title=challenge.title_de or challenge.title_en)  # fmt: skip
    db.session.commit()
    return challenge


def update_challenge(actor, challenge: Challenge, data: dict) -> list[str]:
    """Change texts, schedule and settings; what a running vote depends on stays locked.

    Returns the names of the changed fields (also written to the audit log).
    """
    values = {**_clean_texts(data)}
    values.update({f: data[f] for f in SCHEDULE_FIELDS + SETTING_FIELDS if f in data})
    merged = {f: getattr(challenge, f) for f in TEXT_FIELDS}
    merged.update({f: getattr(challenge, f) for f in SCHEDULE_FIELDS + SETTING_FIELDS})
    merged.update(values)
    changed = [f for f, v in values.items() if getattr(challenge, f) != v]
    # The lock is checked first: once voting runs, "this can no longer change" is the
    # answer, not a complaint about the order of dates that must not move anyway.
    frozen = [f for f in changed if f in LOCKED_ONCE_FROZEN] if challenge.is_frozen else []
    if frozen:
        raise UserError(
            _(
                "The results of this challenge are frozen: its settings and the dates of "
                "submission and voting can no longer change."
            ),
            field=frozen[0],
            status=409,
        )
    if challenge.voting_started():
        locked = [f for f in changed if f in LOCKED_ONCE_VOTING]
        if locked:
            raise UserError(
                _(
                    "Voting has started: the vote budget, the voting dates and the counting rules can no longer change."
                ),
                field=locked[0],
                status=409,
            )
    _require_title(merged)
    check_schedule(merged)
    _check_settings(merged)
    if not changed:
        return []
    for field in changed:
        setattr(challenge, field, values[field])
    record_action(actor, "challenge.update", "challenge", challenge.id, fields=sorted(changed))
    db.session.commit()
    return changed


def set_cover_image(actor, challenge: Challenge, upload) -> None:
    """Store a new cover image (checked and re-encoded like every upload)."""
    from ..media.services import discard_image, store_image

    image = store_image(upload, actor)
    previous = challenge.cover_image_id
    challenge.cover_image_id = image.id
    db.session.flush()
    # The replaced cover is referenced by nothing now; keeping it would only pile up bytes.
    discard_image(previous)
    record_action(
        actor, "challenge.cover", "challenge", challenge.id, image=image.id, replaced=previous
    )
    db.session.commit()


def _clean_category(name_de: str, name_en: str) -> tuple[str, str]:
    de, en = clean_line(name_de or ""), clean_line(name_en or "")
    for field, value in (("name_de", de), ("name_en", en)):
        if len(value) > 80:
            raise UserError(_("Please use at most %(max)d characters.", max=80), field=field)
        if has_invisible_characters(value):
            raise UserError(
                _("Please remove invisible control characters from this text."), field=field
            )
    if not (de or en):
        raise UserError(_("Please name the category in at least one language."), field="name_de")
    return de, en


def add_category(actor, challenge: Challenge, name_de: str, name_en: str) -> Category:
    """Add a bilingual category to a challenge; audited."""
    de, en = _clean_category(name_de, name_en)
    category = Category(name_de=de, name_en=en, position=len(challenge.categories))
    challenge.categories.append(category)
    db.session.flush()
    record_action(
        actor, "category.create", "challenge", challenge.id, category=category.id, name=de or en
    )
    db.session.commit()
    return category


def rename_category(actor, category: Category, name_de: str, name_en: str) -> None:
    """Rename a category; audited."""
    category.name_de, category.name_en = _clean_category(name_de, name_en)
    record_action(
        actor, "category.update", "challenge", category.challenge_id, category=category.id
    )
    db.session.commit()


def delete_category(actor, category: Category) -> None:
    """Remove a category that no idea uses yet; audited."""
    from ..ideas.models import Idea

    used = db.session.scalar(
        select(func.count()).select_from(Idea).where(Idea.category_id == category.id)
    )
    if used:
        raise UserError(_("Ideas already use this category; rename it instead."), status=409)
    record_action(
        actor, "category.delete", "challenge", category.challenge_id, category=category.id
    )
    db.session.delete(category)
    db.session.commit()


def get_challenge(challenge_id: int, with_categories: bool = False) -> Challenge | None:
    """A challenge by id, whatever its state (a vote checks the state itself).

    ``with_categories``: its categories in the same query (the challenge page lists them).
    """
    result = db.session.execute(_challenge_query(with_categories), {"v_id": challenge_id})
    return result.unique().scalar_one_or_none()


@cache
def _challenge_query(with_categories: bool):
    """Built once, bound per request: building the query was a good part of its time."""
    statement = select(Challenge).where(Challenge.id == bindparam("v_id", type_=Integer))
    return statement.options(joinedload(Challenge.categories)) if with_categories else statement


def get_public_challenge(
    challenge_id: int, viewer=None, with_categories: bool = False
) -> Challenge | None:
    """A challenge visitors may see: not a draft, unless the viewer is staff.

    ``with_categories``: its categories in the same query (the challenge page lists them).
    """
    if with_categories:
        challenge = get_challenge(challenge_id, with_categories=True)
    else:
        challenge = db.session.get(Challenge, challenge_id)
    if challenge is None:
        return None
    if challenge.is_public() or (
        viewer is not None and viewer.is_authenticated and viewer.has_role("staff")
    ):
        return challenge
    return None


def list_public_challenges(at: datetime | None = None) -> tuple[list[Challenge], list[Challenge]]:
    """(current, past) challenges for the home page; drafts are not listed."""
    at = at or now()
    rows = db.session.scalars(
        select(Challenge)
        .where(Challenge.submission_opens_at <= at)
        .order_by(Challenge.submission_opens_at.desc())
    ).all()
    current = [c for c in rows if c.phase(at) in ("submission", "voting", "evaluation")]
    past = [c for c in rows if c.phase(at) in ("results", "archived")]
    return current, past


def list_all_challenges() -> list[Challenge]:
    """Every challenge, newest first, for staff."""
    return list(db.session.scalars(select(Challenge).order_by(Challenge.id.desc())))
