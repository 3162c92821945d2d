"""Writing and reading the audit log."""

from sqlalchemy import select

from ..extensions import db
from ..i18n import _l
from .models import AuditEntry

# What each action code means, for the staff page.
ACTION_LABELS = {
    "role.grant": _l("Role granted"),
    "role.revoke": _l("Role revoked"),
    "account.create_admin": _l("Staff account created from the command line"),
    "challenge.create": _l("Challenge created"),
    "challenge.update": _l("Challenge changed"),
    "challenge.cover": _l("Cover image changed"),
    "category.create": _l("Category added"),
    "category.update": _l("Category renamed"),
    "category.delete": _l("Category removed"),
    "idea.workshop_entry": _l("Workshop idea entered"),
    "idea.publish": _l("Idea published"),
    "idea.hide": _l("Idea hidden"),
    "comment.hide": _l("Comment hidden"),
    "report.resolve": _l("Report closed"),
    "votes.paper_entry": _l("Paper votes entered"),
    "votes.paper_sheet": _l("Workshop sheet of paper votes entered"),
    "jury.settings": _l("Jury settings changed"),
    "jury.criterion_create": _l("Jury criterion added"),
    "jury.criterion_update": _l("Jury criterion changed"),
    "jury.criterion_delete": _l("Jury criterion removed"),
    "jury.shortlist_add": _l("Idea added to the shortlist"),
    "jury.shortlist_remove": _l("Idea removed from the shortlist"),
    "jury.juror_assign": _l("Juror assigned"),
    "jury.juror_remove": _l("Juror removed"),
    "jury.conflict": _l("Conflict of interest declared"),
    "jury.score": _l("Scores saved"),
    "jury.submit": _l("Scores submitted"),
    "jury.remind": _l("Jurors reminded"),
    "results.freeze": _l("Results frozen"),
    "project.create": _l("Idea promoted to a lab project"),
    "project.update": _l("Lab project changed"),
    "project.cocreator": _l("Co-creator answered the invitation"),
    "project.partner": _l("Lab project partners changed"),
    "project.milestone": _l("Lab project milestones changed"),
    "project.progress": _l("Lab project update published"),
    "announcement.save": _l("Results announcement saved"),
    "announcement.publish": _l("Results announcement published with an embargo"),
    "announcement.withdraw": _l("Results announcement withdrawn before its embargo"),
}

PAGE_SIZE = 50


def record_action(actor, action: str, object_type: str, object_id: int | None, **details):
    """Add an audit entry to the current transaction; it commits with the change it records."""
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details,
    )
    db.session.add(entry)
    return entry


def list_actions(page: int = 1, action: str | None = None):
    """A page of audit entries, newest first, optionally for one action code."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if action:
        query = query.where(AuditEntry.action == action)
    return db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)
