"""The answer form (staff only).

Lengths, the state and the required fields are checked by the service, so that a forged
request gets the same message in the user's language as the form does.
"""

from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ..forms import FlaskForm
from ..i18n import _l
from .models import STAFF_STATES
from .services import DEPARTMENT_MAX, STATE_LABELS

MARKDOWN_HINT = _l("Simple formatting: **bold**, *italic*, lists, links. No HTML.")


class AnswerForm(FlaskForm):
    state = SelectField(
        _l("State"),
        choices=[SelectChoice(s, STATE_LABELS[s]) for s in STAFF_STATES],
        validate_choice=False,
    )
    text_de = TextAreaField(
        _l("Answer (German)"), description=MARKDOWN_HINT, render_kw={"lang": "de", "rows": 8}
    )
    text_en = TextAreaField(
        _l("Answer (English)"), description=MARKDOWN_HINT, render_kw={"lang": "en", "rows": 8}
    )
    department = StringField(
        _l("Department that answers"),
        description=_l("For example: Tiefbauamt, Grünflächenamt."),
        render_kw={"maxlength": DEPARTMENT_MAX, "required": True},
    )

    def service_data(self) -> dict:
        return {
            name: self[name].data or "" for name in ("state", "text_de", "text_en", "department")
        }
