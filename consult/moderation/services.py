"""Use cases of moderation: the queue, publishing and hiding with a reason, reports.

Every decision is written to the audit log and, where content has an author with an
account, told to that author by mail in their language after the commit.
"""

from dataclasses import dataclass, field

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import selectinload

from .. import jobs
from ..audit.services import record_action
from ..challenges.models import Challenge
from ..clock import now
from ..errors import UserError
from ..extensions import db
from ..i18n import _, _l
from ..ideas.models import Comment, Idea, Report
from ..media.models import Image
from ..text import clean_text, has_invisible_characters
from ..urls import external_url
from ..voting.services import release_votes, tell_released_voters

# Reasons shown to the author (and, for hidden content, to everyone) in their language.
HIDE_REASONS = {
    "offensive": _l("It contains insults or discrimination."),
    "personal_data": _l("It reveals personal data of other people."),
    "advertising": _l("It is advertising or spam."),
    "illegal": _l("It may break the law."),
    "off_topic": _l("It does not answer the question of this challenge."),
    "duplicate": _l("The same idea has already been submitted."),
    "other": _l("It does not follow our participation rules."),
}
REPORT_OUTCOMES = ("hidden", "kept")
NOTE_MAX = 1000
# The page shows the oldest items first; the heading counts all of them.
QUEUE_LIMIT = 100

PUBLISHABLE = ("submitted", "hidden")
HIDEABLE = ("submitted", "published")


def hide_reason_text(code: str) -> str:
    """The reason text for a stored code, in the current locale (mails force the recipient's)."""
    return str(HIDE_REASONS.get(code, HIDE_REASONS["other"]))


# --- the queue --------------------------------------------------------------------------


@dataclass
class ReportedContent:
    """One idea or comment with all its open reports: moderators judge the content once."""

    idea: Idea
    comment: Comment | None
    reports: list[Report] = field(default_factory=list)

    @property
    def target(self) -> Idea | Comment:
        return self.comment if self.comment is not None else self.idea

    @property
    def kind(self) -> str:
        return "comment" if self.comment is not None else "idea"

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.target.id}"


@dataclass
class ModerationQueue:
    # (challenge, its ideas oldest first), challenges in the order their oldest idea waits.
    pending: list[tuple[Challenge, list[Idea]]]
    reported: list[ReportedContent]
    pending_total: int
    reported_total: int
    # Image id -> Image (without its bytes): moderators must see photos before publishing.
    images: dict = field(default_factory=dict)

    @property
    def waiting(self) -> int:
        return self.pending_total + self.reported_total


def moderation_queue() -> ModerationQueue:
    """Ideas waiting for a decision by challenge, and reported content, oldest first."""
    ideas = db.session.scalars(
        select(Idea)
        .where(Idea.status == "submitted")
        .options(selectinload(Idea.author), selectinload(Idea.challenge))
        .order_by(Idea.submitted_at, Idea.id)
        .limit(QUEUE_LIMIT)
    ).all()
    by_challenge: dict[int, tuple[Challenge, list[Idea]]] = {}
    for idea in ideas:
        by_challenge.setdefault(idea.challenge_id, (idea.challenge, []))[1].append(idea)
    pending_total = db.session.scalar(
        select(func.count()).select_from(Idea).where(Idea.status == "submitted")
    )

    reports = db.session.scalars(
        select(Report)
        .where(Report.resolved_at.is_(None))
        .options(
            selectinload(Report.idea).selectinload(Idea.author),
            selectinload(Report.idea).selectinload(Idea.challenge),
            selectinload(Report.comment).selectinload(Comment.author),
        )
        .order_by(Report.created_at, Report.id)
    ).all()
    grouped: dict[tuple[int, int | None], ReportedContent] = {}
    for report in reports:
        item = grouped.setdefault(
            (report.idea_id, report.comment_id), ReportedContent(report.idea, report.comment)
        )
        item.reports.append(report)
    reported = list(grouped.values())
    shown = [*ideas, *(item.idea for item in reported[:QUEUE_LIMIT])]
    image_ids = {idea.image_id for idea in shown if idea.image_id is not None}
    images = (
        {
            image.id: image
            for image in db.session.scalars(select(Image).where(Image.id.in_(image_ids)))
        }
        if image_ids
        else {}
    )
    return ModerationQueue(
        pending=list(by_challenge.values()),
        reported=reported[:QUEUE_LIMIT],
        pending_total=pending_total,
        reported_total=len(reported),
        images=images,
    )


def open_report_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Report).where(Report.resolved_at.is_(None))
    )


# --- helpers ----------------------------------------------------------------------------


def _clean_note(note: str) -> str:
    text = clean_text(note or "")
    if len(text) > NOTE_MAX:
        raise UserError(_("Please use at most %(max)d characters.", max=NOTE_MAX), field="note")
    if has_invisible_characters(text):
        # The note goes to the author by mail; hidden bidi marks could disguise its meaning.
        raise UserError(
            _("Please remove invisible control characters from this text."), field="note"
        )
    return text


def _check_reason(reason: str) -> None:
    if reason not in HIDE_REASONS:
        raise UserError(_("Please choose a reason from the list."), field="reason")


def _refuse_own(moderator, author_id: int | None) -> None:
    # Nobody judges their own contribution: that would defeat the point of moderation.
    if author_id is not None and author_id == moderator.id:
        raise UserError(
            _("This is your own contribution; another moderator has to decide about it."),
            status=403,
        )


def _idea_state_error(status: str) -> UserError:
    messages = {
        "published": _("This idea has already been published."),
        "hidden": _("This idea has already been hidden."),
        "withdrawn": _("The author has withdrawn this idea."),
        "draft": _("This idea has not been submitted yet."),
    }
    return UserError(messages.get(status, _("This idea can no longer be changed.")), status=409)


def claim_state(model, obj, from_states: tuple[str, ...], **values) -> bool:
    """Change the row only while it is still in ``from_states``.

    Of two moderators (or one double click) acting at once exactly one wins; the other
    is told it was too late instead of sending the author a second mail.
    """
    result = db.session.execute(
        update(model)
        .where(model.id == obj.id, model.status.in_(from_states))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _too_late(obj, make_error) -> UserError:
    db.session.rollback()
    db.session.refresh(obj)
    return make_error(obj.status)


def _close_reports(moderator, idea_id: int, comment_id: int | None, outcome: str) -> int:
    """Close the open reports about one idea (not its comments) or one comment; audited."""
    target = Report.comment_id.is_(None) if comment_id is None else Report.comment_id == comment_id
    ids = db.session.scalars(
        select(Report.id).where(Report.idea_id == idea_id, target, Report.resolved_at.is_(None))
    ).all()
    t, closed = now(), 0
    for report_id in ids:
        done = db.session.execute(
            update(Report)
            .where(Report.id == report_id, Report.resolved_at.is_(None))
            .values(resolved_at=t, resolved_by_id=moderator.id, outcome=outcome)
            .execution_options(synchronize_session=False)
        ).rowcount
        if done:  # a colleague may have closed it a moment ago
            record_action(moderator, "report.resolve", "report", report_id, outcome=outcome)
            closed += 1
    return closed


def _tell_author(author, template: str, title: str, url: str, reason: str = "", note: str = ""):
    if author is None or not author.is_active:
        return  # workshop ideas have no account; deleted accounts get no mail
    jobs.enqueue(
        jobs.send_email, author.email, template, author.locale,
        {"name": author.pseudonym, "title": title, "reason": reason, "note": note, "url": url},
    )  # fmt: skip


def _idea_url(idea: Idea) -> str:
    return external_url("ideas.show", idea_id=idea.id)


# --- decisions --------------------------------------------------------------------------


def publish_idea(moderator, idea: Idea) -> None:
    """Make a submitted (or hidden) idea public; the author is told; audited."""
    _refuse_own(moderator, idea.author_id)
    if idea.status not in PUBLISHABLE:
        raise _idea_state_error(idea.status)
    t = now()
    # published_at keeps the first publication, so "newest" lists do not reshuffle.
    claimed = claim_state(
        Idea, idea, PUBLISHABLE,
        status="published", published_at=idea.published_at or t,
        moderation_reason="", moderation_note="", moderated_by_id=moderator.id, moderated_at=t,
    )  # fmt: skip
    if not claimed:
        raise _too_late(idea, _idea_state_error)
    record_action(moderator, "idea.publish", "idea", idea.id, challenge=idea.challenge_id)
    _tell_author(idea.author, "idea_published", idea.title, _idea_url(idea))
    db.session.commit()


def hide_idea(moderator, idea: Idea, reason: str, note: str = "") -> int:
    """Hide an idea with a reason the author sees; others see that it was hidden; audited.

    Open reports about the idea are closed with it, as "hidden". Returns the number of
    votes released (only while voting runs).
    """
    _check_reason(reason)
    note = _clean_note(note)
    _refuse_own(moderator, idea.author_id)
    if idea.status not in HIDEABLE:
        raise _idea_state_error(idea.status)
    claimed = claim_state(
        Idea, idea, HIDEABLE,
        status="hidden", moderation_reason=reason, moderation_note=note,
        moderated_by_id=moderator.id, moderated_at=now(),
    )  # fmt: skip
    if not claimed:
        raise _too_late(idea, _idea_state_error)
    # While voting runs, the votes of a hidden idea go back to their voters, who can use
    # them elsewhere (DESIGN §4: nobody's vote is lost). claim_state holds the idea's row lock,
    # so no vote can land on it between here and the commit. Once voting has closed the
    # votes stay: they were cast in time, and a shortlisted idea keeps them in the ranking.
    challenge, released, details = idea.challenge, [], {}
    if challenge.voting_open():
        released = release_votes(idea.id, challenge.id)
        details["votes_released"] = len(released)
    # Whether it was ever public stays visible in published_at (None: rejected before).
    record_action(moderator, "idea.hide", "idea", idea.id, reason=reason, **details)
    _close_reports(moderator, idea.id, None, "hidden")
    _tell_author(idea.author, "idea_hidden", idea.title, _idea_url(idea), reason, note)
    tell_released_voters(released, idea, challenge, reason)
    db.session.commit()
    return len(released)


def _comment_state_error(status: str) -> UserError:
    if status == "hidden":
        return UserError(_("This comment has already been hidden."), status=409)
    return UserError(_("This comment can no longer be changed."), status=409)


def hide_comment(moderator, comment: Comment, reason: str, note: str = "") -> None:
    """Hide a comment with a reason; it shows as hidden; its author is told; audited."""
    _check_reason(reason)
    note = _clean_note(note)
    _refuse_own(moderator, comment.author_id)
    if comment.status != "published":
        raise _comment_state_error(comment.status)
    claimed = claim_state(
        Comment, comment, ("published",),
        status="hidden", moderation_reason=reason, moderation_note=note,
        moderated_by_id=moderator.id, moderated_at=now(),
    )  # fmt: skip
    if not claimed:
        raise _too_late(comment, _comment_state_error)
    # Only the winner of claim_state gets here, so the cached count drops exactly once.
    db.session.execute(
        update(Idea)
        .where(Idea.id == comment.idea_id)
        .values(comment_count=case((Idea.comment_count > 0, Idea.comment_count - 1), else_=0))
        .execution_options(synchronize_session=False)
    )
    record_action(moderator, "comment.hide", "comment", comment.id, reason=reason)
    _close_reports(moderator, comment.idea_id, comment.id, "hidden")
    idea = comment.idea
    _tell_author(comment.author, "comment_hidden", idea.title, _idea_url(idea), reason, note)
    db.session.commit()


def resolve_report(moderator, report: Report, outcome: str) -> int:
    """Close a report, and the other open reports about the same content; audited.

    "hidden" needs the content hidden first (hiding is a separate, reasoned action that
    closes the reports itself); "kept" needs it visible. Returns how many were closed:
    0 when a colleague or a double click was faster.
    """
    if outcome not in REPORT_OUTCOMES:
        raise UserError(_("Please choose what was done."), field="outcome")
    target = report.comment if report.comment_id is not None else report.idea
    _refuse_own(moderator, target.author_id)
    if report.resolved_at is not None:
        return 0
    if outcome == "hidden" and target.status != "hidden":
        raise UserError(
            _("This content is not hidden. Please hide it with a reason first."), status=409
        )
    if outcome == "kept" and target.status == "hidden":
        raise UserError(
            _("This content is hidden, so the report cannot be closed as kept."), status=409
        )
    closed = _close_reports(moderator, report.idea_id, report.comment_id, outcome)
    db.session.commit()
    return closed
