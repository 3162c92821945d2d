"""Forms of the moderation queue."""

from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf

from ..forms import FlaskForm, required
from ..i18n import _l
from .services import HIDE_REASONS, NOTE_MAX, REPORT_OUTCOMES


class HideForm(FlaskForm):
    # No preselected reason: the moderator has to choose the one the author will read.
    reason = SelectField(
        _l("Reason"),
        choices=[
            SelectChoice("", _l("Please choose a reason")),
            *(SelectChoice(code, text) for code, text in HIDE_REASONS.items()),
        ],
        validate_choice=False,
        validators=[
            required(),
            AnyOf(list(HIDE_REASONS), message=_l("Please choose a reason from the list.")),
        ],
        description=_l("The author reads this reason in their language."),
    )
    note = TextAreaField(
        _l("Note to the author (optional)"),
        # Length is checked by the service after line ends are normalised: a browser
        # counts a line break as one character but sends two.
        description=_l("Sent to the author with the reason. Please write politely and briefly."),
        render_kw={"maxlength": NOTE_MAX, "rows": 3},
    )


class ResolveForm(FlaskForm):
    # Set by the button that was pressed.
    outcome = StringField(
        validators=[
            required(),
            AnyOf(list(REPORT_OUTCOMES), message=_l("Please choose what was done.")),
        ]
    )


def scoped(form: FlaskForm, key: str) -> FlaskForm:
    """Give every field an id unique on the page: the queue shows one form per item.

    Only ids change, not names, so the posted fields stay ``reason`` and ``note``.
    """
    for f in form:
        f.id = f"{key}-{f.short_name}"
        f.label.field_id = f.id
    return form
