"""Use cases of ideas: drafts, submission, editing, withdrawal, comments, reports, listings."""

import re
import secrets
from dataclasses import dataclass
from functools import cache
from html import unescape
from typing import NamedTuple

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, joinedload, lazyload, selectinload

from .. import jobs, ratelimit
from ..accounts.models import User
from ..answers.states import answer_filter_sql, effective_state_sql
from ..audit.services import record_action
from ..challenges.models import Category, Challenge
from ..clock import now
from ..districts import District
from ..errors import UserError
from ..extensions import db
from ..i18n import SUPPORTED_LOCALES, _, _l, format_local
from ..jury.models import JurorAssignment, JuryCriterion, JuryReview, JuryScore
from ..media.models import Image
from ..media.services import discard_image, store_image
from ..text import checked_text, clean_line, clean_text, has_invisible_characters, render_markdown
from ..urls import external_url
from ..voting.services import (
    WITHDRAWN_BY_AUTHOR,
    offline_votes_by_idea,
    release_votes,
    tell_released_voters,
)
from .models import (
    BODY_MAX,
    COMMENT_MAX,
    SEARCH_DOCUMENT,
    TITLE_MAX,
    Comment,
    Idea,
    IdeaFollower,
    Report,
)

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

# How an idea's state is named for its author.
STATUS_LABELS = {
    "draft": _l("Draft: only you can see it"),
    "submitted": _l("Submitted, awaiting moderation"),
    "published": _l("Published"),
    "hidden": _l("Hidden by moderation"),
    "withdrawn": _l("Withdrawn"),
    # Its link leads to the idea it was merged into, which credits its author.
    "merged": _l("Merged with a similar idea"),
}
NOTE_MAX = 1000


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


def get_challenge_idea(challenge: Challenge, idea_id) -> Idea | None:
    """An idea of ``challenge``; None for any other id (another challenge's, or one no
    idea can have: the database is never asked for an id out of its integer range)."""
    key = idea_id if isinstance(idea_id, int) and 0 < idea_id < 2**31 else 0
    idea = db.session.get(Idea, key) if key else None
    return idea if idea is not None and idea.challenge_id == challenge.id else None


def get_own_idea(idea_id: int, author) -> Idea | None:
    """An idea the user wrote (for editing); None for everyone else's."""
    idea = db.session.get(Idea, idea_id)
    if idea is None or not _is_author(author, idea):
        return None
    return idea


def get_comment(idea: Idea, comment_id: int) -> Comment | None:
    """A comment of this idea; None for a comment of any other idea."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.idea_id != idea.id:
        return None
    return comment


def can_change(idea: Idea) -> bool:
    """Whether the author may still edit, submit or withdraw the idea (to offer the buttons)."""
    return idea.status not in ("withdrawn", "hidden") and idea.challenge.submission_open()


def can_comment(idea: Idea) -> bool:
    """Whether the idea takes comments now (to offer the form)."""
    return idea.status == "published" and idea.challenge.phase() != "archived"


def _is_author(user, idea: Idea) -> bool:
    return bool(user and user.is_authenticated and idea.author_id == user.id)


def _is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.has_role("staff"))


def _is_moderator(user) -> bool:
    return bool(
        user and user.is_authenticated and (user.has_role("moderator") or user.has_role("staff"))
    )


def _require_author(user, idea: Idea) -> None:
    # The views already answer 404 for other people's ideas; this keeps every caller honest.
    if not _is_author(user, idea):
        raise UserError(_("This idea does not exist or is not yours."), status=404)


# --- writing ideas ----------------------------------------------------------------------

IMAGE_ALT_MAX = 300


def form_id(value) -> int | None:
    """A form's id value: None when left empty, 0 (matching no row) when it is no id.

    Numbers beyond the database's integer range would be an error on PostgreSQL.
    """
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return number if 0 < number < 2**31 else 0


def _clean_single_line(value, field: str, limit: int) -> str:
    return checked_text(value, field, limit, line=True)


def _clean_idea(challenge: Challenge, data: dict, require_body: bool = False) -> dict:
    """The editable fields of an idea, checked; anything else in ``data`` is ignored.

    Status, author, counts and moderation fields are never taken from a form. Citizens
    describe their idea; a workshop's paper card may carry no more than a title.
    """
    title = _clean_single_line(data.get("title"), "title", TITLE_MAX)
    if not title:
        raise UserError(_("Please give your idea a title."), field="title")
    body = checked_text(data.get("body"), "body", BODY_MAX)
    if require_body and not body:
        raise UserError(_("Please describe your idea."), field="body")
    values = {"title": title, "body": body, "body_html": render_markdown(body)}
    category_id = form_id(data.get("category_id"))
    if category_id is not None:
        category = db.session.get(Category, category_id) if category_id else None
        if category is None or category.challenge_id != challenge.id:
            raise UserError(
                _("Please choose one of this challenge's categories."), field="category_id"
            )
    elif challenge.categories:
        raise UserError(_("Please choose a category."), field="category_id")
    values["category_id"] = category_id
    district_id = form_id(data.get("district_id"))
    if district_id is not None and (
        not district_id or db.session.get(District, district_id) is None
    ):
        raise UserError(_("Please choose a district from the list."), field="district_id")
    values["district_id"] = district_id
    language = data.get("language") or "de"
    if language not in SUPPORTED_LOCALES:
        raise UserError(_("Please choose a language from the list."), field="language")
    values["language"] = language
    values["image_alt"] = _clean_single_line(data.get("image_alt"), "image_alt", IMAGE_ALT_MAX)
    return values


def require_submission_open(challenge: Challenge) -> None:
    """Refuse (409) writing, changing, submitting and withdrawing outside the submission phase."""
    if challenge.submission_open():
        return
    if now() < challenge.submission_opens_at:
        raise UserError(
            _("The submission phase of this challenge has not started yet."), status=409
        )
    raise UserError(
        _(
            "The submission phase of this challenge ended on %(date)s. Ideas can no longer be written, changed or withdrawn.",
            date=format_local(challenge.submission_closes_at),
        ),
        status=409,
    )


def require_changeable(idea: Idea) -> None:
    """Refuse (409) changes to a withdrawn or hidden idea, or once submission has closed."""
    if idea.status in ("withdrawn", "hidden"):
        raise UserError(_("This idea can no longer be changed."), status=409)
    require_submission_open(idea.challenge)


def _has_upload(upload) -> bool:
    # A form sent without choosing a file still carries an empty file part.
    return upload is not None and bool(getattr(upload, "filename", ""))


def _require_alt_text(values: dict, with_photo: bool) -> None:
    if not with_photo:
        values["image_alt"] = ""
    elif not values["image_alt"]:
        raise UserError(
            _("Please describe the photo for people who cannot see it."), field="image_alt"
        )


def _store_photo(upload, author) -> int:
    try:
        return store_image(upload, author).id
    except UserError:
        db.session.rollback()
        raise


def save_draft(author, challenge: Challenge, data: dict, upload=None) -> Idea:
    """Start a new idea as a draft; only the author sees it until it is submitted.

    The photo (optional) is checked and re-encoded here; its thumbnail is made by a job
    after the commit. Nothing is stored when any field is refused.
    """
    require_submission_open(challenge)
    values = _clean_idea(challenge, data, require_body=True)
    with_photo = _has_upload(upload)
    _require_alt_text(values, with_photo)
    idea = Idea(
        challenge_id=challenge.id,
        author_id=author.id,
        origin="online",
        status="draft",
        **values,
    )
    if with_photo:
        idea.image_id = _store_photo(upload, author)
    db.session.add(idea)
    db.session.commit()
    return idea


def update_idea(author, idea: Idea, data: dict, upload=None, remove_image: bool = False) -> None:
    """Edit an own idea while submission runs; a new photo replaces the old one.

    In a pre-moderated challenge an edited published idea goes back to the moderators,
    so that nothing unchecked becomes public by editing.
    """
    _require_author(author, idea)
    require_changeable(idea)
    values = _clean_idea(idea.challenge, data, require_body=True)
    new_photo = _has_upload(upload)
    old_image_id = idea.image_id
    _require_alt_text(values, new_photo or (old_image_id is not None and not remove_image))
    image_id = _store_photo(upload, author) if new_photo else old_image_id
    if remove_image and not new_photo:
        image_id = None
    for field, value in values.items():
        setattr(idea, field, value)
    idea.image_id = image_id
    if old_image_id is not None and old_image_id != image_id:
        db.session.flush()
        discard_image(old_image_id)
    if idea.status == "published" and idea.challenge.moderation == "pre":
        idea.status = "submitted"
        idea.published_at = None
    db.session.commit()


def submit_idea(author, idea: Idea) -> None:
    """Hand a draft in: to the moderators (pre-moderation) or straight to the public."""
    _require_author(author, idea)
    if idea.status != "draft":
        raise UserError(_("This idea has already been submitted."), status=409)
    require_submission_open(idea.challenge)
    t = now()
    published = idea.challenge.moderation == "post"
    # Only a draft changes: a double click (or two tabs) submits the idea once.
    db.session.execute(
        update(Idea)
        .where(Idea.id == idea.id, Idea.status == "draft")
        .values(
            status="published" if published else "submitted",
            submitted_at=t,
            published_at=t if published else None,
        )
    )
    db.session.commit()


def withdraw_idea(author, idea: Idea) -> None:
    """Take an own idea back while submission runs; it disappears from every list.

    A hidden idea may be withdrawn too: the author keeps the last word over their text.
    """
    _require_author(author, idea)
    if idea.status == "withdrawn":
        return
    challenge = idea.challenge
    require_submission_open(challenge)
    # A conditional UPDATE takes the idea's row lock first, as hiding does: a vote that
    # came first is released below, a later one finds the idea withdrawn (DESIGN §4).
    changed = db.session.execute(
        update(Idea)
        .where(Idea.id == idea.id, Idea.status != "withdrawn")
        .values(status="withdrawn", withdrawn_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        return
    # When submission and voting overlap, the idea's votes go back to their voters.
    if challenge.voting_open():
        released = release_votes(idea.id, challenge.id)
        tell_released_voters(released, idea, challenge, WITHDRAWN_BY_AUTHOR)
    db.session.commit()
    db.session.refresh(idea)


def delete_draft(author, idea: Idea) -> None:
    """Delete an own draft and its photo: nobody else has seen it, so nothing is kept.

    Allowed after submission has closed as well; submitted ideas are withdrawn instead.
    """
    _require_author(author, idea)
    if idea.status != "draft":
        raise UserError(
            _("Only drafts can be deleted. You can withdraw a submitted idea instead."),
            status=409,
        )
    image_id = idea.image_id
    db.session.delete(idea)
    db.session.flush()
    discard_image(image_id)
    db.session.commit()


def enter_workshop_idea(actor, challenge: Challenge, data: dict, workshop_name: str) -> Idea:
    """Staff enter an idea collected on paper at a workshop; published at once, audited."""
    name = clean_line(workshop_name or "")
    if not name:
        raise UserError(_("Please name the workshop."), field="workshop_name")
    if len(name) > 120:
        raise UserError(_("Please use at most %(max)d characters.", max=120), field="workshop_name")
    if has_invisible_characters(name):
        raise UserError(
            _("Please remove invisible control characters from this text."), field="workshop_name"
        )
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


# Comments and reports per account and window (seconds): generous for people, a wall
# for scripts flooding an idea or the moderators' queue.
POSTING_LIMITS = {"comment": (10, 600), "report": (20, 3600)}


def check_posting_limit(user, action: str) -> None:
    """429 with Retry-After when an account comments or reports implausibly often."""
    limit, window = POSTING_LIMITS[action]
    wait = ratelimit.count_and_check([(f"{action}:user:{user.id}", limit, window)])
    if wait:
        raise ratelimit.too_many(
            wait,
            _("You are writing very fast. Please wait %(minutes)d minutes.",
              minutes=ratelimit.wait_minutes(wait)),
        )  # fmt: skip


def add_comment(author, idea: Idea, body: str, language: str = "de") -> Comment:
    """Comment on a published idea of a running challenge; the idea's author is told by mail."""
    if not can_comment(idea):
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
    if language not in SUPPORTED_LOCALES:
        raise UserError(_("Please choose a language from the list."), field="language")
    comment = Comment(idea_id=idea.id, author_id=author.id, body=text, language=language)
    db.session.add(comment)
    # In SQL, not in Python: two comments at the same moment must both be counted.
    db.session.execute(
        update(Idea).where(Idea.id == idea.id).values(comment_count=Idea.comment_count + 1)
    )
    idea_author = idea.author
    if (
        idea_author is not None
        and idea_author.id != author.id
        and idea_author.is_active
        and idea_author.notify_comments
    ):
        from ..accounts.services import unsubscribe_url

        # The comment itself is not in the mail: it may be hidden before the mail is read.
        jobs.enqueue(
            jobs.send_email, idea_author.email, "new_comment", idea_author.locale,
            {"name": idea_author.pseudonym, "commenter": author.pseudonym, "title": idea.title,
             "url": external_url("ideas.show", idea_id=idea.id),
             "unsubscribe_url": unsubscribe_url(idea_author)},
        )  # fmt: skip
    db.session.commit()
    return comment


def report_content(
    reporter, idea: Idea, reason: str, note: str = "", comment: Comment | None = None
) -> Report:
    """A citizen reports a published idea or a visible comment for the moderators' queue.

    Reporting the same thing again changes nothing and returns the first report.
    """
    if comment is not None and comment.idea_id != idea.id:
        raise UserError(_("This comment does not belong to this idea."), status=404)
    if idea.status != "published" or (comment is not None and comment.status != "published"):
        raise UserError(_("Only published ideas and comments can be reported."), status=409)
    if reason not in REPORT_REASONS:
        raise UserError(_("Please choose a reason."), field="reason")
    text = clean_text(note or "")
    if len(text) > NOTE_MAX:
        raise UserError(_("Please use at most %(max)d characters.", max=NOTE_MAX), field="note")
    if has_invisible_characters(text):
        raise UserError(
            _("Please remove invisible control characters from this text."), field="note"
        )
    comment_id = comment.id if comment is not None else None
    existing = _existing_report(reporter, idea, comment_id)
    if existing is not None:
        return existing
    report = Report(
        idea_id=idea.id, comment_id=comment_id, reporter_id=reporter.id, reason=reason, note=text
    )
    db.session.add(report)
    try:
        db.session.commit()
    except IntegrityError:  # the same report from a double tap, stored a moment earlier
        db.session.rollback()
        return _existing_report(reporter, idea, comment_id)
    return report


def _existing_report(reporter, idea: Idea, comment_id: int | None) -> Report | None:
    return db.session.scalar(
        select(Report).where(
            Report.reporter_id == reporter.id,
            Report.idea_id == idea.id,
            Report.comment_id.is_(None) if comment_id is None else Report.comment_id == comment_id,
        )
    )


# --- following ------------------------------------------------------------------------


def is_following(user, idea: Idea) -> bool:
    """Whether the user follows the idea (to offer Follow or Unfollow)."""
    if not (user and user.is_authenticated):
        return False
    return db.session.get(IdeaFollower, (idea.id, user.id)) is not None


def follow_idea(user, idea: Idea) -> None:
    """Follow a published idea: updates of a lab project grown from it are mailed to the user.

    Following twice is no error; the primary key, not a check, keeps it to one row.
    """
    if idea.status != "published":
        raise UserError(_("Only published ideas can be followed."), status=409)
    if is_following(user, idea):
        return
    db.session.add(IdeaFollower(idea_id=idea.id, user_id=user.id))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # a second tab followed at the same moment: already done


def unfollow_idea(user, idea: Idea) -> None:
    """Stop following an idea (no error when the user did not follow it)."""
    db.session.execute(
        delete(IdeaFollower).where(IdeaFollower.idea_id == idea.id, IdeaFollower.user_id == user.id)
    )
    db.session.commit()


def list_comments(idea: Idea) -> list[Comment]:
    """All comments of an idea, oldest first; hidden ones are shown as hidden by the page."""
    return list(
        db.session.scalars(
            select(Comment)
            .where(Comment.idea_id == idea.id)
            # Only the authors' names are shown: joined, and their roles left unloaded.
            .options(joinedload(Comment.author).options(lazyload(User.role_grants)))
            .order_by(Comment.created_at, Comment.id)
        )
    )


# --- listing ----------------------------------------------------------------------------

SEED_MAX = 2_000_000_000
# A prime just below 2**31: products with ids stay far inside 64-bit integers.
_PRIME = 2_147_483_647
SEARCH_TERMS_MAX = 8
EXCERPT_LENGTH = 180
# Enough sanitised HTML for an excerpt, without fetching 20 bodies of up to 5,000 characters.
_EXCERPT_SOURCE = 800
# Search words are letters and digits only: no character can act as an operator, neither
# LIKE's % and _ nor tsquery's & | ! : * ( ).
_WORD = re.compile(r"[^\W_]+")
_TAG = re.compile(r"<[^>]*>")
# Inline markup sits inside words and sentences ("*überdacht*,"): removed without a gap.
_INLINE_TAG = re.compile(r"</?(?:a|em|strong|del|s|code)\b[^>]*>")


def new_random_seed() -> int:
    """A fresh seed for a visitor's random order (the view keeps it in the URL)."""
    return secrets.randbelow(SEED_MAX) + 1


def search_terms(query: str) -> list[str]:
    """The words of a search, lower-cased; longer searches are cut, not refused."""
    return _WORD.findall((query or "")[:SEARCH_MAX].lower())[:SEARCH_TERMS_MAX]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search_clause(query: str) -> tuple:
    """Every word of the search must occur in the title or the body: the condition, and
    the values its statement binds (``statement.params(values)``).

    PostgreSQL: full text with German and English stemming, each word also as a prefix
    ("Spielplätze" finds "Spielplatz", a half-typed "Spielpl" too), on the indexed
    document. SQLite: a plain substring match per word. A search without any letter or
    digit (such as "%") matches nothing, on both databases.
    """
    values = _search_values(query)
    if values is None:
        return false(), {}
    return _search_condition(db.engine.dialect.name, len(values)), values


def _search_values(query: str) -> dict | None:
    """The bound values of ``_search_condition`` for a search; None: it matches nothing."""
    terms = search_terms(query)
    if not terms:
        return None
    if db.engine.dialect.name != "postgresql":
        return {f"l_pattern_{i}": f"%{_escape_like(term)}%" for i, term in enumerate(terms)}
    return {"l_pattern_0": " & ".join(f"{term}:*" for term in terms)}


@cache
def _search_condition(database: str, patterns: int):
    """``_search_clause`` with its words as parameters (built once per database and, on
    SQLite, number of words)."""
    if database != "postgresql":
        words = [bindparam(f"l_pattern_{i}", type_=String) for i in range(patterns)]
        return and_(
            *(
                or_(
                    func.lower(Idea.title).like(word, escape="\\"),
                    func.lower(Idea.body).like(word, escape="\\"),
                )
                for word in words
            )
        )
    prefix = bindparam("l_pattern_0", type_=String)
    german = func.to_tsquery(literal_column("'german'::regconfig"), prefix)
    english = func.to_tsquery(literal_column("'english'::regconfig"), prefix)
    # A materialised CTE is computed once, on its own: the GIN index when PostgreSQL has
    # statistics, one pass over the ideas when it has none. Merged into the outer query (or
    # as a re-evaluated subplan) the planner underrates to_tsvector and may compute the
    # document per row and per outer row, which took minutes on 2,000 fresh ideas.
    matches = (
        select(Idea.id)
        .where(SEARCH_DOCUMENT.op("@@")(german.op("||")(english)))
        .cte("search_matches")
        .prefix_with("MATERIALIZED")
    )
    return Idea.id.in_(select(matches.c.id))


def _random_factor(seed: int) -> int:
    """The seed spread over the whole range (small seeds would barely move small ids)."""
    return (seed * 2_654_435_761) % _PRIME or 1


def _shuffled(factor):
    """A stable shuffle per seed (its ``_random_factor``, here a bound parameter), the same
    on SQLite and PostgreSQL. (id * factor) mod p alone keeps neighbouring ids at fixed
    distances, which the second, non-linear step breaks up."""
    mixed = (cast(Idea.id, BigInteger) * factor) % _PRIME
    return (mixed * (mixed % 65_521 + 1) + factor) % _PRIME


def _excerpt(html_start: str | None) -> str:
    """Plain text from the start of the sanitised body, cut at a word boundary.

    The result is text, not markup: the template escapes it like any other string.
    """
    source = html_start or ""
    cut_short = len(source) >= _EXCERPT_SOURCE
    if source.rfind("<") > source.rfind(">"):  # a tag cut in half by the substring
        source = source[: source.rfind("<")]
    text = " ".join(unescape(_TAG.sub(" ", _INLINE_TAG.sub("", source))).split())
    if len(text) <= EXCERPT_LENGTH and not cut_short:
        return text
    return text[:EXCERPT_LENGTH].rsplit(" ", 1)[0].rstrip(" ,;:.") + "…"


class ListedIdea(NamedTuple):
    """One idea as lists show it. Everything is loaded: the template never queries."""

    idea: Idea
    author_name: str | None  # None: a workshop idea or a deleted account
    excerpt: str
    thumbnail_digest: str | None
    # Counted paper plus event votes (0 when the challenge does not count offline votes).
    paper_votes: int = 0
    # The state of its official answer, None while it has none (consult.answers.states).
    answer_state: str | None = None

    @property
    def votes(self) -> int:
        """The counted total, as the ranking counts: online plus counted offline votes."""
        return self.idea.vote_count + self.paper_votes


@dataclass
class IdeaPage:
    """One page of a list; the attributes match templates/_pagination.html."""

    items: list[ListedIdea]
    page: int
    total: int
    per_page: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def list_ideas(
    challenge: Challenge,
    sort: str = "newest",
    category_id: int | None = None,
    district_id: int | None = None,
    query: str = "",
    page: int = 1,
    seed: int = 1,
    answer: str | None = None,
    ids_only: bool = False,
) -> IdeaPage:
    """One page of the challenge's published ideas: one query, whatever their number.

    An unknown sort is the newest first; a page past the end shows the last page (found by
    a count and a second query: only then). The caller has loaded the challenge's
    categories and the districts (the ideas' category and district are taken from them).
    ``ids_only``: the items are the ideas' ids, for a caller that has most of their cards
    already (``listed_ideas`` loads the others): a narrow query without the joins.
    """
    search = _search_values(query) if (query or "").strip() else {}
    shape = _ListShape(
        database=db.engine.dialect.name,
        sort=sort if sort in ("votes", "random") else "newest",
        category=category_id is not None,
        district=district_id is not None,
        answer=answer,
        # -1: a search that can match nothing; else the number of bound search words
        search=-1 if search is None else len(search),
        counts_paper=bool(challenge.count_paper_votes),
    )
    statements = _list_statements(shape)
    page_statement = statements.ids if ids_only else statements.page
    values = {
        "l_challenge_id": challenge.id,
        "l_category_id": category_id,
        "l_district_id": district_id,
        "l_factor": _random_factor(int(seed) % SEED_MAX or 1),
        **(search or {}),
    }
    result = IdeaPage(items=[], page=max(page, 1), total=0)
    rows = db.session.execute(
        page_statement, {**values, "l_offset": (result.page - 1) * PAGE_SIZE}
    ).all()
    if rows:
        result.total = rows[0].total
    elif result.page > 1:
        # Past the end (or nothing matches): count, then show the last page.
        result.total = db.session.scalar(statements.count, values)
        result.page = min(result.page, result.pages)
        offset = (result.page - 1) * PAGE_SIZE
        rows = (
            db.session.execute(page_statement, {**values, "l_offset": offset}).all()
            if result.total
            else []
        )
    result.items = [row.id for row in rows] if ids_only else _listed(rows)
    return result


def listed_ideas(challenge: Challenge, ids: list[int]) -> list[ListedIdea]:
    """The challenge's published ideas of ``ids`` as lists show them, in that order."""
    if not ids:
        return []
    rows = db.session.execute(
        _listed_by_id(db.engine.dialect.name, bool(challenge.count_paper_votes)),
        {"l_challenge_id": challenge.id, "l_ids": list(ids)},
    ).all()
    found = {item.idea.id: item for item in _listed(rows)}
    return [found[i] for i in ids if i in found]


def _listed(rows) -> list[ListedIdea]:
    return [
        ListedIdea(
            idea, name, _excerpt(html), digest, int(paper_n[0]) if paper_n else 0, answer_state
        )
        for idea, name, html, digest, answer_state, _total, *paper_n in rows
    ]


@dataclass(frozen=True)
class _ListShape:
    """What the list's statements depend on besides values (see ``_list_statements``)."""

    database: str
    sort: str
    category: bool
    district: bool
    answer: str | None
    search: int
    counts_paper: bool


class _ListStatements(NamedTuple):
    page: object  # the page's ideas with everything a card shows, and the total
    ids: object  # the page's ids and the total only
    count: object  # the number of matches (for a page past the end)


def _with_paper(statement, challenge_id, wanted: bool):
    """The statement outer-joined to the challenge's counted offline votes (paper and event
    votes, which join the total as in the ranking) when wanted, and their column.

    A subquery of the challenge's few paper entries and imported rounds; each statement
    joins its own copy, so that a page's subquery stays self-contained.
    """
    if not wanted:
        return statement, None
    paper = offline_votes_by_idea(challenge_id)
    statement = statement.outerjoin(paper, paper.c.idea_id == Idea.id)
    return statement, func.coalesce(paper.c.n, 0)


def _card_statement(counts_paper: bool, challenge_id, joined, total, ordering=None):
    """Ideas with everything a card shows: author's name, excerpt, thumbnail, answer state,
    ``total``, counted offline votes. ``joined(statement)`` says which ideas (a join to the
    page's ids, or a condition on given ids); ``ordering``, if given, orders them."""
    # Authors and images come as columns, not objects: a User would bring its roles along.
    author_name = case((User.deleted_at.is_(None), User.pseudonym), else_=None)
    statement = select(
        Idea,
        author_name,
        func.substr(Idea.body_html, 1, _EXCERPT_SOURCE),
        Image.digest,
        effective_state_sql(),
        total,
    )
    statement = joined(statement)
    statement = statement.outerjoin(User, User.id == Idea.author_id).outerjoin(
        Image, Image.id == Idea.image_id
    )
    statement, paper_votes = _with_paper(statement, challenge_id, counts_paper)
    if paper_votes is not None:
        statement = statement.add_columns(paper_votes)
    # No joins for the category and district: the challenge page has loaded the
    # challenge's categories and the districts already, and each card's category and
    # district come from the session's identity map without a query.
    statement = statement.options(
        defer(Idea.body), defer(Idea.body_html), defer(Idea.moderation_note)
    )
    return statement.order_by(*ordering(paper_votes)) if ordering else statement


@cache
def _listed_by_id(database: str, counts_paper: bool):
    """``listed_ideas``' statement, built once per database and challenge kind."""
    challenge_id = bindparam("l_challenge_id", type_=Integer)
    return _card_statement(
        counts_paper,
        challenge_id,
        lambda statement: statement.where(
            Idea.id.in_(bindparam("l_ids", expanding=True)),
            Idea.challenge_id == challenge_id,
            Idea.status == "published",
        ),
        literal(0).label("total"),
    )


@cache
def _list_statements(shape: _ListShape) -> _ListStatements:
    """The list's statements, built once per shape and bound to each request's values:
    building them anew cost about a fifth of a list page's time."""
    challenge_id = bindparam("l_challenge_id", type_=Integer)
    conditions = [Idea.challenge_id == challenge_id, Idea.status == "published"]
    if shape.category:
        conditions.append(Idea.category_id == bindparam("l_category_id", type_=Integer))
    if shape.district:
        conditions.append(Idea.district_id == bindparam("l_district_id", type_=Integer))
    if shape.answer is not None:
        conditions.append(answer_filter_sql(shape.answer))
    if shape.search:
        conditions.append(
            false() if shape.search < 0 else _search_condition(shape.database, shape.search)
        )

    def ordering(paper_votes):
        if shape.sort == "votes":
            votes = Idea.vote_count if paper_votes is None else Idea.vote_count + paper_votes
            return (votes.desc(), Idea.published_at.desc(), Idea.id.desc())
        if shape.sort == "random":
            return (_shuffled(bindparam("l_factor", type_=BigInteger)), Idea.id)
        return (Idea.published_at.desc(), Idea.id.desc())

    # The page's ids first, sorting narrow rows; the joins and the excerpt then run for 20
    # ideas instead of all of them (the planner cannot push a LIMIT below the joins). The
    # total comes along as a window count: one scan of the matches, not a second query (a
    # search would otherwise be matched twice).
    page_ids, paper_votes = _with_paper(
        select(Idea.id, func.count().over().label("total")).where(*conditions),
        challenge_id,
        shape.counts_paper and shape.sort == "votes",
    )
    page_ids = (
        page_ids.order_by(*ordering(paper_votes))
        .limit(PAGE_SIZE)
        .offset(bindparam("l_offset", type_=BigInteger))
    )
    page = page_ids.subquery("page")
    return _ListStatements(
        page=_card_statement(
            shape.counts_paper,
            challenge_id,
            lambda statement: statement.join(page, page.c.id == Idea.id),
            page.c.total,
            ordering,
        ),
        ids=page_ids,
        count=select(func.count()).select_from(Idea).where(*conditions),
    )


def list_own_ideas(author) -> list[Idea]:
    """Every idea the user wrote, drafts and withdrawn ones included, last changed first."""
    return list(
        db.session.scalars(
            select(Idea)
            .where(Idea.author_id == author.id)
            .options(selectinload(Idea.challenge), selectinload(Idea.category))
            .order_by(Idea.updated_at.desc(), Idea.id.desc())
        )
    )


# --- the author's own data (GDPR export and deletion) -----------------------------------


def export_own_contributions(user) -> dict:
    """Ideas (drafts included), comments and reports of the user, for "download my data"."""
    ideas = db.session.scalars(select(Idea).where(Idea.author_id == user.id).order_by(Idea.id))
    comments = db.session.scalars(
        select(Comment).where(Comment.author_id == user.id).order_by(Comment.id)
    )
    reports = db.session.scalars(
        select(Report).where(Report.reporter_id == user.id).order_by(Report.id)
    )
    followed = db.session.scalars(
        select(IdeaFollower.idea_id)
        .where(IdeaFollower.user_id == user.id)
        .order_by(IdeaFollower.idea_id)
    )
    return {
        "followed_ideas": list(followed),
        "ideas": [
            {"id": i.id, "challenge_id": i.challenge_id, "title": i.title, "body": i.body,
             "language": i.language, "status": i.status, "created_at": i.created_at.isoformat(),
             "submitted_at": i.submitted_at.isoformat() if i.submitted_at else None}
            for i in ideas
        ],
        "comments": [
            {"id": c.id, "idea_id": c.idea_id, "body": c.body, "status": c.status,
             "created_at": c.created_at.isoformat()}
            for c in comments
        ],
        "reports": [
            {"id": r.id, "idea_id": r.idea_id, "comment_id": r.comment_id, "reason": r.reason,
             "note": r.note, "created_at": r.created_at.isoformat()}
            for r in reports
        ],
    }  # fmt: skip


def delete_own_drafts(user) -> None:
    """Drafts were never public, so they leave with the account, photos included.

    Submitted and published ideas and comments stay, shown as "deleted account".
    """
    for idea in db.session.scalars(
        select(Idea).where(Idea.author_id == user.id, Idea.status == "draft")
    ):
        image_id = idea.image_id
        db.session.delete(idea)
        db.session.flush()
        discard_image(image_id)
    # Nobody is left to mail: a deleted account follows nothing.
    db.session.execute(delete(IdeaFollower).where(IdeaFollower.user_id == user.id))


def export_own_jury_reviews(user) -> dict:
    """A juror's own work on ideas: conflicts, scores per criterion, private notes, dates."""
    reviews = db.session.execute(
        select(JuryReview, Idea.title, JurorAssignment.submitted_at)
        .join(Idea, Idea.id == JuryReview.idea_id)
        .outerjoin(
            JurorAssignment,
            (JurorAssignment.challenge_id == JuryReview.challenge_id)
            & (JurorAssignment.user_id == JuryReview.juror_id),
        )
        .where(JuryReview.juror_id == user.id)
        .order_by(JuryReview.challenge_id, JuryReview.idea_id)
    ).all()
    scores: dict[int, list[dict]] = {}
    for score, criterion in db.session.execute(
        select(JuryScore, JuryCriterion)
        .join(JuryCriterion, JuryCriterion.id == JuryScore.criterion_id)
        .where(JuryScore.review_id.in_([row[0].id for row in reviews]))
        .order_by(JuryCriterion.position, JuryCriterion.id)
    ):
        scores.setdefault(score.review_id, []).append(
            {"criterion_id": criterion.id, "criterion_de": criterion.name_de,
             "criterion_en": criterion.name_en, "value": score.value}
        )  # fmt: skip
    return {
        "jury_reviews": [
            {"challenge_id": review.challenge_id, "idea_id": review.idea_id,
             "idea_title": title, "conflict_of_interest": review.conflict, "scores": scores.get(review.id, []),
             "note": review.note,
             "saved_at": review.saved_at.isoformat() if review.saved_at else None,
             "submitted_at": submitted.isoformat() if submitted else None}
            for review, title, submitted in reviews
        ]
    }  # fmt: skip


def forget_jury_notes(user) -> None:
    """Private notes leave with the juror; submitted scores stay, under a pseudonym."""
    db.session.execute(update(JuryReview).where(JuryReview.juror_id == user.id).values(note=""))


def _register_account_hooks() -> None:
    from ..accounts import services as accounts

    if export_own_contributions not in accounts.DATA_EXPORTERS:
        accounts.DATA_EXPORTERS.append(export_own_contributions)
        accounts.DELETION_HOOKS.append(delete_own_drafts)
    # Jury reviews are a juror's work on ideas; they join the same export and deletion.
    if export_own_jury_reviews not in accounts.DATA_EXPORTERS:
        accounts.DATA_EXPORTERS.append(export_own_jury_reviews)
        accounts.DELETION_HOOKS.append(forget_jury_notes)


_register_account_hooks()
