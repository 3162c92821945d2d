"""Forms of the ideas feature: writing an idea, commenting, reporting."""

from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from ..districts import District
from ..extensions import db
from ..forms import FlaskForm, max_length, required
from ..i18n import LANGUAGE_NAMES, _, _l
from .models import BODY_MAX, COMMENT_MAX, TITLE_MAX
from .services import IMAGE_ALT_MAX, NOTE_MAX, REPORT_REASONS

LANGUAGE_CHOICES = [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]
IMAGE_TYPES = "image/jpeg,image/png,image/webp"


def _id_text(value) -> str:
    # Selects keep the raw text: the service turns it into an id and says, in the user's
    # language, what to choose when it is none of ours (WTForms' own messages are English).
    return "" if value is None else str(value)


class IdeaForm(FlaskForm):
    """A citizen's idea. Status, author and counts are not fields: a form cannot set them."""

    title = StringField(
        _l("Title"),
        validators=[required(), max_length(TITLE_MAX)],
        description=_l("A short name for your idea, at most %(max)d characters.", max=TITLE_MAX),
    )
    body = TextAreaField(
        _l("Your idea"),
        validators=[required(), max_length(BODY_MAX)],
        description=_l(
            "What should happen, where, and who would benefit? You can format your text: "
            "**bold**, *italic*, lists starting with - or 1., quotes starting with >, and "
            "links written as [text](https://example.org). Only web addresses (https) "
            "become links; HTML is shown as plain text."
        ),
        render_kw={"rows": 10},
    )
    category_id = SelectField(_l("Category"), coerce=_id_text, validate_choice=False)
    district_id = SelectField(
        _l("District (optional)"),
        coerce=_id_text,
        validate_choice=False,
        description=_l("Choose a district if your idea is about a particular part of the city."),
    )
    language = SelectField(
        _l("Language of your idea"),
        choices=LANGUAGE_CHOICES,
        validate_choice=False,
        description=_l("The language you write in, so that screen readers pronounce it right."),
    )
    image = FileField(
        _l("Photo (optional)"),
        description=_l(
            "JPEG, PNG or WebP, at most 8 MB and 40 megapixels. We remove the location and "
            "all other hidden data from the photo. Please only upload photos you took "
            "yourself, without recognisable people."
        ),
        render_kw={"accept": IMAGE_TYPES},
    )
    image_alt = StringField(
        _l("Description of the photo"),
        validators=[max_length(IMAGE_ALT_MAX)],
        description=_l("Needed with a photo: describe what it shows for people who cannot see it."),
    )
    remove_image = BooleanField(_l("Remove the current photo"))

    def __init__(self, challenge, locale: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Marked required for assistive technology; the service says what to choose.
        self.category_id.flags.required = bool(challenge.categories)
        self.category_id.choices = [SelectChoice("", _("Please choose"))] + [
            SelectChoice(str(c.id), c.name(locale)[0]) for c in challenge.categories
        ]
        districts = db.session.execute(
            select(District.id, District.name).order_by(District.position, District.name)
        ).all()
        self.district_id.choices = [SelectChoice("", _("No particular district"))] + [
            SelectChoice(str(i), name) for i, name in districts
        ]

    def idea_data(self) -> dict:
        """The values for save_draft and update_idea; the photo is passed separately."""
        return {
            "title": self.title.data or "",
            "body": self.body.data or "",
            "category_id": self.category_id.data,
            "district_id": self.district_id.data,
            "language": self.language.data,
            "image_alt": self.image_alt.data or "",
        }


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Your comment"),
        validators=[required(), max_length(COMMENT_MAX)],
        description=_l(
            "Plain text, at most %(max)d characters. Your public name is shown with it.",
            max=COMMENT_MAX,
        ),
        render_kw={"rows": 4},
    )
    language = SelectField(
        _l("Language of your comment"), choices=LANGUAGE_CHOICES, validate_choice=False
    )


class ReportForm(FlaskForm):
    """Reporting an idea or a comment. One page shows several: each gets its own prefix."""

    reason = SelectField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Please choose a reason."))],
        validate_choice=False,
    )
    note = TextAreaField(
        _l("Note for the moderators (optional)"),
        validators=[max_length(NOTE_MAX)],
        render_kw={"rows": 3},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.choices = [SelectChoice("", _("Please choose"))] + [
            SelectChoice(key, str(label)) for key, label in REPORT_REASONS.items()
        ]
