"""Use cases of moderation: the queue, publishing and hiding with a reason, reports."""

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from .. import jobs
from ..audit.services import record_action
from ..clock import now
from ..errors import UserError
from ..extensions import db
from ..i18n import _, _l
from ..ideas.models import Comment, Idea, Report
from ..text import clean_text
from ..urls import external_url

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


def moderation_queue():
    """Ideas waiting for a decision, and open reports, oldest first."""
    pending = db.session.scalars(
        select(Idea)
        .where(Idea.status == "submitted")
        .options(selectinload(Idea.author), selectinload(Idea.challenge))
        .order_by(Idea.submitted_at, Idea.id)
    ).all()
    reports = db.session.scalars(
        select(Report)
        .where(Report.resolved_at.is_(None))
        .options(selectinload(Report.idea), selectinload(Report.comment))
        .order_by(Report.created_at, Report.id)
    ).all()
    return pending, reports


def _clean_note(note: str) -> str:
    text = clean_text(note or "")
    if len(text) > 1000:
        raise UserError(_("Please use at most %(max)d characters.", max=1000), field="note")
    return text


def _tell_author(idea: Idea, template: str, reason: str = "", note: str = "") -> None:
    author = idea.author
    if author is None or not author.is_active:
        return
    jobs.enqueue(
        jobs.send_email, author.email, template, author.locale,
        {"name": author.pseudonym, "title": idea.title, "reason": reason, "note": note,
         "url": external_url("ideas.show", idea_id=idea.id)},
    )  # fmt: skip


def publish_idea(moderator, idea: Idea) -> None:
    """Make a submitted (or hidden) idea public; the author is told; audited."""
    if idea.status not in ("submitted", "hidden"):
        raise UserError(_("Only submitted or hidden ideas can be published."), status=409)
    t = now()
    idea.status, idea.published_at = "published", idea.published_at or t
    idea.moderation_reason, idea.moderation_note = "", ""
    idea.moderated_by_id, idea.moderated_at = moderator.id, t
    record_action(moderator, "idea.publish", "idea", idea.id)
    _tell_author(idea, "idea_published")
    db.session.commit()


def hide_idea(moderator, idea: Idea, reason: str, note: str = "") -> None:
    """Hide an idea with a reason the author sees; others see that it was hidden; audited."""
    if reason not in HIDE_REASONS:
        raise UserError(_("Please choose a reason."), field="reason")
    if idea.status not in ("submitted", "published"):
        raise UserError(_("Only submitted or published ideas can be hidden."), status=409)
    note = _clean_note(note)
    idea.status = "hidden"
    idea.moderation_reason, idea.moderation_note = reason, note
    idea.moderated_by_id, idea.moderated_at = moderator.id, now()
    record_action(moderator, "idea.hide", "idea", idea.id, reason=reason)
    _tell_author(idea, "idea_hidden", reason, note)
    db.session.commit()


def hide_comment(moderator, comment: Comment, reason: str, note: str = "") -> None:
    """Hide a comment with a reason; it shows as hidden; audited."""
    if reason not in HIDE_REASONS:
        raise UserError(_("Please choose a reason."), field="reason")
    if comment.status == "hidden":
        return
    comment.status = "hidden"
    comment.moderation_reason, comment.moderation_note = reason, _clean_note(note)
    comment.moderated_by_id, comment.moderated_at = moderator.id, now()
    db.session.execute(
        update(Idea).where(Idea.id == comment.idea_id).values(comment_count=Idea.comment_count - 1)
    )
    record_action(moderator, "comment.hide", "comment", comment.id, reason=reason)
    db.session.commit()


def resolve_report(moderator, report: Report, outcome: str) -> None:
    """Close a report; hiding the content itself is a separate, reasoned action."""
    if outcome not in REPORT_OUTCOMES:
        raise UserError(_("Please choose what was done."), field="outcome")
    if report.resolved_at is not None:
        return
    report.resolved_at, report.resolved_by_id, report.outcome = now(), moderator.id, outcome
    record_action(moderator, "report.resolve", "report", report.id, outcome=outcome)
    db.session.commit()


def open_report_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Report).where(Report.resolved_at.is_(None))
    )
