"""The press office's announcement form.

Lengths, required texts and the embargo's rules are checked by the services, so that a
forged or scripted request gets the same message in the user's language as the form does.
The embargo is typed in Berlin time, like every date staff enter.
"""

import re

from wtforms import Field, StringField, TextAreaField

from ..challenges.forms import LocalDateTimeField
from ..forms import FlaskForm
from ..i18n import _l
from .services import BODY_MAX, LEAD_MAX, TEXT_FIELDS, TITLE_MAX

_ID = re.compile(r"[0-9]{1,9}")
MARKDOWN_HINT = _l("Simple formatting: **bold**, *italic*, lists, links. No HTML.")


class IdListField(Field):
    """Checkboxes sharing one name; ``data`` is the list of ids ticked.

    Something that is not an id becomes 0, which matches no idea: the service then says
    in the user's language what to choose.
    """

    def process_formdata(self, valuelist):
        self.data = [int(v) if _ID.fullmatch(v.strip()) else 0 for v in valuelist]

    def _value(self):
        return ""


def _line(label, lang: str) -> StringField:
    return StringField(label, render_kw={"lang": lang, "maxlength": TITLE_MAX})


def _area(label, lang: str, limit: int, rows: int, hint=None) -> TextAreaField:
    return TextAreaField(
        label, description=hint, render_kw={"lang": lang, "rows": rows, "maxlength": limit}
    )


class AnnouncementForm(FlaskForm):
    title_de = _line(_l("Title (German)"), "de")
    title_en = _line(_l("Title (English)"), "en")
    lead_de = _area(_l("Lead (German)"), "de", LEAD_MAX, 3)
    lead_en = _area(_l("Lead (English)"), "en", LEAD_MAX, 3)
    body_de = _area(_l("Text (German)"), "de", BODY_MAX, 12, MARKDOWN_HINT)
    body_en = _area(_l("Text (English)"), "en", BODY_MAX, 12, MARKDOWN_HINT)
    highlights = IdListField(_l("Winners to highlight"), default=list)
    embargo_at = LocalDateTimeField(
        _l("Embargo (Berlin time)"),
        description=_l(
            "Until this moment nothing of the announcement is public. For example 2026-05-01 10:00."
        ),
    )

    def lock_embargo(self) -> None:
        """A published announcement keeps its embargo: shown, but not sent back."""
        self.embargo_at.render_kw = {**(self.embargo_at.render_kw or {}), "disabled": True}

    def service_data(self) -> dict:
        """The values for save_announcement / publish_announcement."""
        data = {name: self[name].data or "" for name in TEXT_FIELDS}
        data["highlights"] = list(self.highlights.data or [])
        data["embargo_at"] = self.embargo_at.data
        return data


__all__ = ["AnnouncementForm", "IdListField"]
