"""The staff form that merges a duplicate idea into the idea that stays.

Choices and texts are checked by ``consult.merging.services``, so a forged request gets
the same message, in the user's language, as the form.
"""

from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ..forms import FlaskForm
from ..i18n import _, _l
from .services import DEPARTMENT_MAX, NOTE_MAX


class MergeForm(FlaskForm):
    target = SelectField(
        _l("Idea to keep"),
        validate_choice=False,
        description=_l(
            "The idea shown above is merged into this one: its votes, comments and followers "
            "move there, and both authors are credited."
        ),
    )
    department = StringField(
        _l("Department"),
        description=_l("Who answers, e.g. “Tiefbauamt”. Shown with the answer."),
        render_kw={"maxlength": DEPARTMENT_MAX, "autocomplete": "organization"},
    )
    note_de = TextAreaField(
        _l("Why the ideas were merged (German)"),
        description=_l(
            "Shown to the author and on the idea's answer. German or English is enough."
        ),
        render_kw={"lang": "de", "rows": 4, "maxlength": NOTE_MAX},
    )
    note_en = TextAreaField(
        _l("Why the ideas were merged (English)"),
        render_kw={"lang": "en", "rows": 4, "maxlength": NOTE_MAX},
    )

    def __init__(self, targets: list[tuple[int, str]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.target.choices = [SelectChoice("", _("Please choose an idea"))] + [
            SelectChoice(str(i), title) for i, title in targets
        ]

    def values(self) -> dict:
        return {
            name: self[name].data or "" for name in ("target", "department", "note_de", "note_en")
        }
