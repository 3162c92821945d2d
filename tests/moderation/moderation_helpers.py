"""Helpers shared by the moderation tests (imported by name; fixtures are in conftest.py)."""

from flask_babel import force_locale, gettext, ngettext
from markupsafe import escape
from sqlalchemy import func, select
from testdata import says  # noqa: F401  (used by the moderation tests)

from consult.audit.models import AuditEntry
from consult.extensions import db


def says_n(singular: str, plural: str, num: int, locale: str = "de") -> str:
    """A plural message as a page in ``locale`` shows it."""
    with force_locale(locale):
        return str(escape(ngettext(singular, plural, num)))


def plain(text, locale: str = "de", **kwargs) -> str:
    """``text`` (a source string or a lazy string) translated into ``locale``, unescaped."""
    with force_locale(locale):
        return gettext(text, **kwargs) if isinstance(text, str) else str(text)


def audit(action: str | None = None) -> list[AuditEntry]:
    db.session.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def fresh(obj):
    """The object as the database has it now."""
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)
