"""Forms of live events: staff's event form, and the code and join forms of the phones.

The services check every value (and say what is wrong in the person's language); the
forms carry the CSRF token and show the fields. Times are typed in Berlin time, as on
the challenge form.
"""

from wtforms import BooleanField, StringField
from wtforms.fields.choices import RadioField, SelectChoice
from wtforms.validators import InputRequired

from ..challenges.forms import LocalDateTimeField
from ..forms import FlaskForm
from ..i18n import LANGUAGE_NAMES, _l
from .models import DISPLAY_NAME_MAX


def _when(label) -> LocalDateTimeField:
    return LocalDateTimeField(
        label, validators=[InputRequired(message=_l("Please fill in this field."))]
    )


class EventForm(FlaskForm):
    """Title in both languages, the place or video link, start and end (Berlin time)."""

    title_de = StringField(_l("Title (German)"), render_kw={"lang": "de", "maxlength": 160})
    title_en = StringField(_l("Title (English)"), render_kw={"lang": "en", "maxlength": 160})
    place = StringField(
        _l("Place"),
        description=_l('For example "Dietrich-Keuning-Haus, großer Saal". Optional online.'),
        render_kw={"maxlength": 200},
    )
    video_url = StringField(
        _l("Video call link (optional)"),
        description=_l("Only https:// addresses."),
        render_kw={"maxlength": 500, "inputmode": "url"},
    )
    starts_at = _when(_l("Starts"))
    ends_at = _when(_l("Ends"))

    FIELDS = ("title_de", "title_en", "place", "video_url", "starts_at", "ends_at")

    def service_data(self) -> dict:
        """Only the form's own fields reach the service."""
        return {name: self[name].data for name in self.FIELDS}


class CodeForm(FlaskForm):
    """The code a person reads off the projector or poster."""

    code = StringField(
        _l("Event code"),
        description=_l("Six letters and digits, as shown on the screen."),
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "maxlength": 20,
            "class": "join-code-input",
        },
    )


class JoinForm(FlaskForm):
    """A display name, a language and the privacy tick: all a participant gives."""

    display_name = StringField(
        _l("Your name for this event"),
        description=_l(
            "Shown with your ideas on the wall. A first name or a nickname is enough "
            "(at most %(max)d characters).",
            max=DISPLAY_NAME_MAX,
        ),
        render_kw={"autocomplete": "nickname", "maxlength": DISPLAY_NAME_MAX},
    )
    language = RadioField(
        _l("Language"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
        validate_choice=False,
    )
    privacy = BooleanField(_l("I have read the privacy note and want to join."))
