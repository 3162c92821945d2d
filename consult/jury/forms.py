"""Forms of the jury setup page: they carry and show values; the services check them.

Numbers stay text here, so that "5.5" or "abc" reach the service, which answers with one
message in the user's language (WTForms' own parse errors are English only). CSRF is
checked app-wide; several forms share the page's token.
"""

from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.widgets import NumberInput

from ..forms import FlaskForm
from ..i18n import _l
from .models import WEIGHT_MAX, WEIGHT_MIN
from .setup import (
    ALPHA_MAX,
    ALPHA_MIN,
    DESCRIPTION_MAX,
    NAME_MAX,
    POSITION_MAX,
    POSITION_MIN,
    REASON_MAX,
    SHORTLIST_MAX,
    SHORTLIST_MIN,
)


class NumberText(StringField):
    """A number input whose value is kept as typed."""

    widget = NumberInput(step=1)


class _Form(FlaskForm):
    class Meta:
        csrf = False


class SettingsForm(_Form):
    alpha_percent = NumberText(
        _l("Jury share in percent (alpha)"),
        description=_l(
            "A whole number from 0 to 100: how much the jury counts; the public votes "
            "count for the rest."
        ),
        render_kw={"min": ALPHA_MIN, "max": ALPHA_MAX, "inputmode": "numeric"},
    )
    centering = BooleanField(
        _l("Even out harsh and lenient jurors (juror centering)"),
        description=_l(
            "Each juror's scores are moved so that their average equals the average of all jurors."
        ),
    )
    shortlist_size = NumberText(
        _l("Shortlist size (top N by votes)"),
        description=_l("A whole number from 1 to 200."),
        render_kw={"min": SHORTLIST_MIN, "max": SHORTLIST_MAX, "inputmode": "numeric"},
    )

    def service_args(self) -> tuple:
        return self.alpha_percent.data, bool(self.centering.data), self.shortlist_size.data


class CriterionForm(_Form):
    """Used once for "add" and once per criterion (with a prefix) for "edit"."""

    name_de = StringField(
        _l("Name (German)"), render_kw={"lang": "de", "maxlength": NAME_MAX, "required": True}
    )
    name_en = StringField(
        _l("Name (English)"), render_kw={"lang": "en", "maxlength": NAME_MAX, "required": True}
    )
    description_de = TextAreaField(
        _l("Description for jurors (German, optional)"),
        render_kw={"lang": "de", "rows": 3, "maxlength": DESCRIPTION_MAX},
    )
    description_en = TextAreaField(
        _l("Description for jurors (English, optional)"),
        render_kw={"lang": "en", "rows": 3, "maxlength": DESCRIPTION_MAX},
    )
    weight = NumberText(
        _l("Weight"),
        description=_l("A whole number from 1 to 100; only the ratios between weights matter."),
        render_kw={"min": WEIGHT_MIN, "max": WEIGHT_MAX, "inputmode": "numeric"},
    )
    position = NumberText(
        _l("Position in the list"),
        render_kw={"min": POSITION_MIN, "max": POSITION_MAX, "inputmode": "numeric"},
    )

    def service_data(self) -> dict:
        return {
            name: self[name].data
            for name in (
                "name_de",
                "name_en",
                "description_de",
                "description_en",
                "weight",
                "position",
            )
        }


class PickForm(_Form):
    # Choices are the page's candidates; the service checks the idea belongs here.
    idea = SelectField(_l("Idea"), validate_choice=False)
    reason = TextAreaField(
        _l("Why this idea belongs on the shortlist"),
        description=_l("Required, at most 1000 characters. Kept in the audit log."),
        render_kw={"rows": 3, "maxlength": REASON_MAX},
    )


class SeatForm(_Form):
    person = StringField(
        _l("E-mail address or public name"),
        description=_l("The account must hold the juror role."),
        render_kw={"autocomplete": "off", "list": "available-jurors", "maxlength": 254},
    )
