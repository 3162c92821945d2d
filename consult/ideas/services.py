"""Use cases of ideas: drafts, submission, editing, withdrawal, comments, reports, listings."""

import secrets

from sqlalchemy import BigInteger, case, cast, func, literal_column, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import jobs
from ..audit.services import record_action
from ..challenges.models import Category, Challenge
from ..clock import now
from ..districts import District
from ..errors import UserError
from ..extensions import db
from ..i18n import SUPPORTED_LOCALES, _, _l
from ..text import clean_line, clean_text, has_invisible_characters, render_markdown
from ..urls import external_url
from .models import BODY_MAX, COMMENT_MAX, TITLE_MAX, Comment, Idea, Report

PAGE_SIZE = 20
SORTS = ("newest", "votes", "random")
SEARCH_MAX = 200
REPORT_REASONS = {
    "offensive": _l("Offensive or discriminating"),
    "personal_data": _l("Reveals personal data"),
    "advertising": _l("Advertising or spam"),
    "illegal": _l("Possibly illegal"),
    "off_topic": _l("Has nothing to do with the challenge"),
    "other": _l("Something else"),
}


# --- access -----------------------------------------------------------------------------


def get_visible_idea(idea_id: int, viewer=None) -> Idea | None:
    """An idea the viewer may open, else None (the view answers 404).

    Published ideas are for everyone; hidden ones show as hidden; drafts, submitted and
    withdrawn ideas only to their author and the moderators, so nobody learns they exist.
    """
    idea = db.session.get(Idea, idea_id)
    if idea is None or (not idea.challenge.is_public() and not _is_staff(viewer)):
        return None
    if idea.status in ("published", "hidden") or _is_author(viewer, idea) or _is_moderator(viewer):
        return idea
    return None


def get_own_idea(idea_id: int, author) -> Idea | None:
    """An idea the user wrote (for editing); None for everyone else's."""
    idea = db.session.get(Idea, idea_id)
    if idea is None or not _is_author(author, idea):
        return None
    return idea


def _is_author(user, idea: Idea) -> bool:
    return bool(user and user.is_authenticated and idea.author_id == user.id)


def _is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.has_role("staff"))


def _is_moderator(user) -> bool:
    return bool(
        user and user.is_authenticated and (user.has_role("moderator") or user.has_role("staff"))
    )


# --- writing ideas ----------------------------------------------------------------------


def _clean_idea(challenge: Challenge, data: dict) -> dict:
    title = clean_line(data.get("title") or "")
    body = clean_text(data.get("body") or "")
    if not title:
        raise UserError(_("Please give your idea a title."), field="title")
    if len(title) > TITLE_MAX:
        raise UserError(_("Please use at most %(max)d characters.", max=TITLE_MAX), field="title")
    if len(body) > BODY_MAX:
        raise UserError(_("Please use at most %(max)d characters.", max=BODY_MAX), field="body")
    for field, value in (("title", title), ("body", body)):
        if has_invisible_characters(value):
            raise UserError(
                _("Please remove invisible control characters from this text."), field=field
            )
    values = {"title": title, "body": body, "body_html": render_markdown(body)}
    category_id = data.get("category_id")
    if category_id is not None:
        category = db.session.get(Category, category_id)
        if category is None or category.challenge_id != challenge.id:
            raise UserError(
                _("Please choose one of this challenge's categories."), field="category_id"
            )
    elif challenge.categories:
        raise UserError(_("Please choose a category."), field="category_id")
    values["category_id"] = category_id
    district_id = data.get("district_id")
    if district_id is not None and db.session.get(District, district_id) is None:
        raise UserError(_("Please choose a district from the list."), field="district_id")
    values["district_id"] = district_id
    language = data.get("language") or "de"
    if language not in SUPPORTED_LOCALES:
        raise UserError(_("Please choose a language from the list."), field="language")
    values["language"] = language
    alt = clean_line(data.get("image_alt") or "")
    if len(alt) > 300:
        raise UserError(_("Please use at most %(max)d characters.", max=300), field="image_alt")
    values["image_alt"] = alt
    return values


def _require_submission_open(challenge: Challenge) -> None:
    if not challenge.submission_open():
        raise UserError(
            _("Ideas can only be submitted or changed while the submission phase runs."), status=409
        )


def _attach_image(idea: Idea, upload, author) -> None:
    if upload is None or not getattr(upload, "filename", ""):
        return
    from ..media.services import store_image

    idea.image_id = store_image(upload, author).id
    if not idea.image_alt:
        raise UserError(
            _("Please describe the photo for people who cannot see it."), field="image_alt"
        )


def save_draft(author, challenge: Challenge, data: dict, upload=None) -> Idea:
    """Start a new idea as a draft; only the author sees it until it is submitted."""
    _require_submission_open(challenge)
    idea = Idea(
        challenge_id=challenge.id,
        author_id=author.id,
        status="draft",
        **_clean_idea(challenge, data),
    )
    db.session.add(idea)
    try:
        _attach_image(idea, upload, author)
    except UserError:
        db.session.rollback()
        raise
    db.session.commit()
    return idea


def update_idea(author, idea: Idea, data: dict, upload=None, remove_image: bool = False) -> None:
    """Edit an own idea while submission runs.

    In a pre-moderated challenge an edited published idea goes back to the moderators.
    """
    if idea.status in ("withdrawn", "hidden"):
        raise UserError(_("This idea can no longer be changed."), status=409)
    _require_submission_open(idea.challenge)
    for field, value in _clean_idea(idea.challenge, data).items():
        setattr(idea, field, value)
    if remove_image:
        idea.image_id = None
    try:
        _attach_image(idea, upload, author)
    except UserError:
        db.session.rollback()
        raise
    if idea.status == "published" and idea.challenge.moderation == "pre":
        idea.status = "submitted"
        idea.published_at = None
    db.session.commit()


def submit_idea(author, idea: Idea) -> None:
    """Hand a draft in: to the moderators (pre-moderation) or straight to the public."""
    if idea.status != "draft":
        raise UserError(_("This idea has already been submitted."), status=409)
    _require_submission_open(idea.challenge)
    t = now()
    idea.submitted_at = t
    if idea.challenge.moderation == "post":
        idea.status, idea.published_at = "published", t
    else:
        idea.status = "submitted"
    db.session.commit()


def withdraw_idea(author, idea: Idea) -> None:
    """Take an own idea back while submission runs; it disappears from every list."""
    if idea.status == "withdrawn":
        return
    _require_submission_open(idea.challenge)
    idea.status, idea.withdrawn_at = "withdrawn", now()
    db.session.commit()


def enter_workshop_idea(actor, challenge: Challenge, data: dict, workshop_name: str) -> Idea:
    """Staff enter an idea collected on paper at a workshop; published at once, audited."""
    name = clean_line(workshop_name or "")
    if not name:
        raise UserError(_("Please name the workshop."), field="workshop_name")
    if len(name) > 120 or has_invisible_characters(name):
        raise UserError(_("Please use at most %(max)d characters.", max=120), field="workshop_name")
    if challenge.phase() in ("results", "archived"):
        raise UserError(_("This challenge has ended."), status=409)
    t = now()
    idea = Idea(
        challenge_id=challenge.id,
        author_id=None,
        origin="workshop",
        workshop_name=name,
        entered_by_id=actor.id,
        status="published",
        submitted_at=t,
        published_at=t,
        **_clean_idea(challenge, data),
    )
    db.session.add(idea)
    db.session.flush()
    record_action(
        actor, "idea.workshop_entry", "idea", idea.id, challenge=challenge.id, workshop=name
    )
    db.session.commit()
    return idea


# --- comments and reports ---------------------------------------------------------------


def add_comment(author, idea: Idea, body: str, language: str = "de") -> Comment:
    """Comment on a published idea of a running challenge; the idea's author is told."""
    if idea.status != "published" or idea.challenge.phase() == "archived":
        raise UserError(_("Comments are closed for this idea."), status=409)
    text = clean_text(body or "")
    if not text:
        raise UserError(_("Please write a comment."), field="body")
    if len(text) > COMMENT_MAX:
        raise UserError(_("Please use at most %(max)d characters.", max=COMMENT_MAX), field="body")
    if has_invisible_characters(text):
        raise UserError(
            _("Please remove invisible control characters from this text."), field="body"
        )
    comment = Comment(
        idea_id=idea.id,
        author_id=author.id,
        body=text,
        language=language if language in SUPPORTED_LOCALES else "de",
    )
    db.session.add(comment)
    db.session.execute(
        update(Idea).where(Idea.id == idea.id).values(comment_count=Idea.comment_count + 1)
    )
    idea_author = idea.author
    if idea_author is not None and idea_author.id != author.id and idea_author.is_active:
        jobs.enqueue(
            jobs.send_email, idea_author.email, "new_comment", idea_author.locale,
            {"name": idea_author.pseudonym, "title": idea.title,
             "url": external_url("ideas.show", idea_id=idea.id)},
        )  # fmt: skip
    db.session.commit()
    return comment


def report_content(
    reporter, idea: Idea, reason: str, note: str = "", comment: Comment | None = None
) -> Report:
    """A citizen reports an idea or a comment; repeating the same report changes nothing."""
    if reason not in REPORT_REASONS:
        raise UserError(_("Please choose a reason."), field="reason")
    text = clean_text(note or "")
    if len(text) > 1000:
        raise UserError(_("Please use at most %(max)d characters.", max=1000), field="note")
    if comment is not None and comment.idea_id != idea.id:
        raise UserError(_("This comment does not belong to this idea."), status=404)
    existing = db.session.scalar(
        select(Report).where(
            Report.reporter_id == reporter.id,
            Report.idea_id == idea.id,
            Report.comment_id.is_(None) if comment is None else Report.comment_id == comment.id,
        )
    )
    if existing is not None:
        return existing
    report = Report(idea_id=idea.id, comment_id=getattr(comment, "id", None), reporter_id=reporter.id,
                    reason=reason, note=text)  # fmt: skip
    db.session.add(report)
    try:
        db.session.commit()
    except IntegrityError:  # the same report from a double tap
        db.session.rollback()
    return report


def list_comments(idea: Idea) -> list[Comment]:
    return list(
        db.session.scalars(
            select(Comment)
            .where(Comment.idea_id == idea.id)
            .options(selectinload(Comment.author))
            .order_by(Comment.created_at, Comment.id)
        )
    )


# --- listing ----------------------------------------------------------------------------


def new_random_seed() -> int:
    """A per-visitor seed for the random order, kept in the visitor's session."""
    return secrets.randbelow(2_000_000_000) + 1


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# The same expression is indexed (GIN) by the migration, so PostgreSQL can use the index:
# literals instead of bound parameters keep the expression identical.
_SEARCH_CONFIG = case(
    (Idea.language == literal_column("'en'"), literal_column("'english'::regconfig")),
    else_=literal_column("'german'::regconfig"),
)
SEARCH_DOCUMENT = func.to_tsvector(
    _SEARCH_CONFIG, Idea.title.concat(literal_column("' '")).concat(Idea.body)
)


def _search_clause(query: str):
    """Full text on PostgreSQL (German and English stemming), a plain match on SQLite.

    A title that merely contains the words also matches, so half-typed words find ideas.
    """
    title_match = func.lower(Idea.title).like(f"%{_escape_like(query.lower())}%", escape="\\")
    if db.engine.dialect.name != "postgresql":
        body_match = func.lower(Idea.body).like(f"%{_escape_like(query.lower())}%", escape="\\")
        return or_(title_match, body_match)
    german = func.websearch_to_tsquery(literal_column("'german'::regconfig"), query)
    english = func.websearch_to_tsquery(literal_column("'english'::regconfig"), query)
    return or_(SEARCH_DOCUMENT.op("@@")(german.op("||")(english)), title_match)


def list_ideas(
    challenge: Challenge,
    sort: str = "newest",
    category_id: int | None = None,
    district_id: int | None = None,
    query: str = "",
    page: int = 1,
    seed: int = 1,
):
    """One page of the challenge's published ideas, in a constant number of queries."""
    stmt = select(Idea).where(Idea.challenge_id == challenge.id, Idea.status == "published")
    if category_id is not None:
        stmt = stmt.where(Idea.category_id == category_id)
    if district_id is not None:
        stmt = stmt.where(Idea.district_id == district_id)
    query = (query or "").strip()[:SEARCH_MAX]
    if query:
        stmt = stmt.where(_search_clause(query))
    if sort == "votes":
        stmt = stmt.order_by(Idea.vote_count.desc(), Idea.published_at.desc(), Idea.id.desc())
    elif sort == "random":
        # A stable shuffle per visitor: (id * seed) mod a prime, the same on both databases.
        stmt = stmt.order_by((cast(Idea.id, BigInteger) * seed) % 2147483647, Idea.id)
    else:
        stmt = stmt.order_by(Idea.published_at.desc(), Idea.id.desc())
    stmt = stmt.options(
        selectinload(Idea.author), selectinload(Idea.category), selectinload(Idea.district)
    )
    return db.paginate(stmt, page=page, per_page=PAGE_SIZE, error_out=False, count=True)


def list_own_ideas(author) -> list[Idea]:
    return list(
        db.session.scalars(
            select(Idea).where(Idea.author_id == author.id).order_by(Idea.updated_at.desc())
        )
    )
