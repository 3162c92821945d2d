"""The staff form that starts a voting round.

WTForms' own parse errors are English only: the numbers parse themselves (ASCII digits
only) and every message comes from our catalog.
"""

from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from ..challenges.forms import WholeNumberField
from ..forms import FlaskForm
from ..i18n import _l
from .rounds import BUDGET_MAX, BUDGET_MIN, MINUTES_MAX, MINUTES_MIN

SCOPE_LABELS = {
    "event": _l("The approved ideas of this event"),
    "challenge": _l("All ideas of the challenge and the approved ideas of this event"),
}


def _whole_number(low: int, high: int):
    return _l("Please enter a whole number from %(min)d to %(max)d.", min=low, max=high)


def _within(low: int, high: int):
    """The number lies in [low, high]; a value that did not parse has its message already."""

    def check(form, field):
        if field.data is not None and not low <= field.data <= high:
            raise ValidationError(str(_whole_number(low, high)))

    return check


class StartRoundForm(FlaskForm):
    """Duration, dots per person and which ideas: everything a round needs.

    The ids are prefixed: the staff page holds other sections' forms next to this one.
    """

    minutes = WholeNumberField(
        _l("Duration in minutes"),
        validators=[
            InputRequired(message=_l("Please fill in this field.")),
            _within(MINUTES_MIN, MINUTES_MAX),
        ],
        message=_whole_number(MINUTES_MIN, MINUTES_MAX),
        default=3,
        id="round-minutes",
        render_kw={"min": MINUTES_MIN, "max": MINUTES_MAX},
    )
    budget = WholeNumberField(
        _l("Dots per person"),
        validators=[
            InputRequired(message=_l("Please fill in this field.")),
            _within(BUDGET_MIN, BUDGET_MAX),
        ],
        message=_whole_number(BUDGET_MIN, BUDGET_MAX),
        default=3,
        id="round-budget",
        render_kw={"min": BUDGET_MIN, "max": BUDGET_MAX},
    )
    scope = SelectField(
        _l("Ideas to vote on"),
        choices=[SelectChoice(value, label) for value, label in SCOPE_LABELS.items()],
        default="event",
        id="round-scope",
        validate_choice=False,
    )

    def validate_scope(self, field):
        if field.data not in SCOPE_LABELS:
            raise ValidationError(str(_l("Please choose which ideas the round is about.")))
