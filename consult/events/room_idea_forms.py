"""Forms of the room's ideas: posting from a phone, and merging in the moderation queue.

Hiding uses the moderation queue's own ``HideForm`` (the same reasons the author reads).
"""

from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ..districts import District
from ..extensions import db
from ..forms import FlaskForm, max_length, required
from ..i18n import _, _l, current_locale
from ..ideas.models import TITLE_MAX
from .room_ideas import TEXT_MAX


def _id_text(value) -> str:
    # The service turns the text into an id and says in the user's language what to
    # choose when it is none of ours (WTForms' own messages are English).
    return "" if value is None else str(value)


class RoomIdeaForm(FlaskForm):
    """A short idea from a phone. Event, participant and status are never fields."""

    title = StringField(
        _l("Title"),
        validators=[required(), max_length(TITLE_MAX)],
        description=_l("A short name for your idea, at most %(max)d characters.", max=TITLE_MAX),
        render_kw={"maxlength": TITLE_MAX, "autocomplete": "off"},
    )
    text = TextAreaField(
        _l("A few words more (optional)"),
        # The length is checked by the service after line ends are normalised.
        description=_l(
            "At most %(max)d characters. **bold**, *italic* and lists with - work; only "
            "web addresses (https) become links.",
            max=TEXT_MAX,
        ),
        render_kw={"rows": 4, "maxlength": TEXT_MAX},
    )
    category_id = SelectField(_l("Category (optional)"), coerce=_id_text, validate_choice=False)
    district_id = SelectField(_l("District (optional)"), coerce=_id_text, validate_choice=False)

    def __init__(self, event, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locale = current_locale()
        categories = event.challenge.categories
        self.category_id.choices = [SelectChoice("", _("No particular category"))] + [
            SelectChoice(str(c.id), c.name(locale)[0]) for c in categories
        ]
        districts = db.session.execute(
            select(District.id, District.name).order_by(District.position, District.name)
        ).all()
        self.district_id.choices = [SelectChoice("", _("No particular district"))] + [
            SelectChoice(str(i), name) for i, name in districts
        ]

        # Ids unique on the phone page, which holds the round's forms as well; the
        # posted names stay "title", "text"...
        for f in self:
            f.id = f"room-idea-{f.short_name}"
            f.label.field_id = f.id

    @property
    def has_categories(self) -> bool:
        return len(self.category_id.choices) > 1

    @property
    def has_districts(self) -> bool:
        return len(self.district_id.choices) > 1

    def idea_data(self) -> dict:
        return {
            "title": self.title.data or "",
            "text": self.text.data or "",
            "category_id": self.category_id.data,
            "district_id": self.district_id.data,
        }


class MergeForm(FlaskForm):
    target = SelectField(
        _l("Merge into"),
        coerce=_id_text,
        validate_choice=False,
        validators=[required()],
        description=_l("Its author keeps the credit, and its dots move to the chosen idea."),
    )

    def __init__(self, targets: list[tuple[int, str]], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.target.choices = [SelectChoice("", _("Please choose an idea"))] + [
            SelectChoice(str(i), title) for i, title in targets
        ]
