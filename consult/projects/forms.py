"""Forms of the lab project pages (staff only).

Lengths, choices and required texts are checked by the services, so that a forged or
scripted request gets the same message in the user's language as a form does. Dates
parse themselves: WTForms' own messages are English only.
"""

import re
from datetime import date

from wtforms import Field, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import DateInput

from ..forms import FlaskForm
from ..i18n import _, _l
from .models import PARTNER_SECTORS, PROJECT_STATES
from .services import (
    MILESTONE_TITLE_MAX,
    PARTNER_NAME_MAX,
    SECTOR_LABELS,
    STATUS_LABELS,
    TITLE_MAX,
    UPDATE_BODY_MAX,
)

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MARKDOWN_HINT = _l("Simple formatting: **bold**, *italic*, lists, links. No HTML.")


class DayField(Field):
    """``<input type="date">``; ``data`` is a ``date`` or None when left empty."""

    widget = DateInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if self.data else ""

    def process_formdata(self, valuelist):
        self.data = None
        text = valuelist[0].strip() if valuelist else ""
        if not text:
            return
        try:
            if not _ISO_DATE.fullmatch(text):
                raise ValueError(text)
            self.data = date.fromisoformat(text)
        except ValueError:
            raise ValueError(_("Please enter a date, for example 2026-05-01.")) from None


def _line(label, limit: int, lang: str | None = None, required: bool = False) -> StringField:
    render_kw = {"maxlength": limit}
    if required:
        render_kw["required"] = True
    if lang:
        render_kw["lang"] = lang
    return StringField(label, render_kw=render_kw)


def _area(label, lang: str, rows: int = 6, hint=MARKDOWN_HINT) -> TextAreaField:
    return TextAreaField(label, description=hint, render_kw={"lang": lang, "rows": rows})


class PromoteForm(FlaskForm):
    title_de = _line(_l("Title (German)"), TITLE_MAX, "de", required=True)
    title_en = _line(_l("Title (English)"), TITLE_MAX, "en", required=True)
    summary_de = _area(_l("Summary (German)"), "de")
    summary_en = _area(_l("Summary (English)"), "en")

    def texts(self) -> dict:
        return {name: self[name].data or "" for name in TEXT_FIELDS}


TEXT_FIELDS = ("title_de", "title_en", "summary_de", "summary_en")


class ProjectForm(PromoteForm):
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(s, STATUS_LABELS[s]) for s in PROJECT_STATES],
        validate_choice=False,
    )

    def service_data(self) -> dict:
        return {**self.texts(), "status": self.status.data}


class PartnerForm(FlaskForm):
    name = _line(_l("Name of the partner"), PARTNER_NAME_MAX, required=True)
    sector = SelectField(
        _l("Sector"),
        choices=[SelectChoice(s, SECTOR_LABELS[s]) for s in PARTNER_SECTORS],
        validate_choice=False,
    )


class MilestoneForm(FlaskForm):
    title_de = _line(_l("Title (German)"), MILESTONE_TITLE_MAX, "de")
    title_en = _line(_l("Title (English)"), MILESTONE_TITLE_MAX, "en")
    due_on = DayField(_l("Due on"), description=_l("For example 2026-05-01."))


class ReachedForm(FlaskForm):
    """One per milestone on the page; a prefix keeps their field ids apart."""

    reached_on = DayField(
        _l("Reached on"), description=_l("Leave empty if the milestone is not reached.")
    )


class UpdateForm(FlaskForm):
    body_de = _area(_l("Update (German)"), "de", rows=8)
    body_en = _area(_l("Update (English)"), "en", rows=8)


__all__ = [
    "DayField",
    "MilestoneForm",
    "PartnerForm",
    "ProjectForm",
    "PromoteForm",
    "ReachedForm",
    "UpdateForm",
    "UPDATE_BODY_MAX",
]
