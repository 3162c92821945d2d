"""Writing and reading the audit log (how entries read is in sentences.py)."""

from sqlalchemy import select

from ..extensions import db
from .models import AuditEntry

PAGE_SIZE = 50


def record_action(actor, action: str, object_type: str, object_id: int | None, **details):
    """Add an audit entry to the current transaction; it commits with the change it records.

    ``action`` needs a sentence in consult/audit/sentences.py (a test checks every call).
    """
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
