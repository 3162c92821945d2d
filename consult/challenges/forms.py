"""Forms of the challenges feature: staff create and edit challenges, categories, workshop ideas.

Dates are typed in the city's local time (Europe/Berlin) and handed to the services in
UTC. WTForms' own parse errors are English only, so the fields here parse themselves and
say what is wrong in the visitor's language.
"""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import BooleanField, Field, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired
from wtforms.widgets import DateTimeLocalInput, NumberInput

from ..districts import District
from ..extensions import db
from ..forms import FlaskForm, max_length, required
from ..i18n import LANGUAGE_NAMES, _, _l
from .models import MODERATION_MODES
from .services import LOCKED_ONCE_VOTING, MAX_VOTE_BUDGET, SCHEDULE_FIELDS, SETTING_FIELDS

# Names of the bilingual fields, for "missing translations" (Challenge.missing_translations).
TRANSLATION_LABELS = {
    "title_de": _l("Title (German)"),
    "title_en": _l("Title (English)"),
    "question_de": _l("Question (German)"),
    "question_en": _l("Question (English)"),
    "description_de": _l("Description (German)"),
    "description_en": _l("Description (English)"),
    "plain_de": _l("Leichte Sprache summary (German)"),
    "plain_en": _l("Plain language summary (English)"),
    "cover_alt_de": _l("Cover description (German)"),
    "cover_alt_en": _l("Cover description (English)"),
}

# datetime-local sends minutes; some browsers add seconds when a step is set.
_LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,9}")
_ID = re.compile(r"[0-9]{1,9}")


def local_zone() -> ZoneInfo:
    """The zone dates are typed and shown in: the same one the date filter uses."""
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Berlin")


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped when the clocks go forward (e.g. 02:30 on the last Sunday of March)."""


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive local wall-clock time as an aware UTC datetime.

    Deterministic around daylight saving time: a time that does not exist (the hour
    skipped in spring) is refused, because a deadline there is certainly a typo; a time
    that occurs twice (the hour repeated in autumn) means the first one, summer time,
    as the form's hint says.
    """
    first = local.replace(tzinfo=zone, fold=0)
    utc = first.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local:
        raise NonexistentLocalTime(local.isoformat())
    return utc


def utc_to_local_input(value: datetime | None, zone: ZoneInfo) -> str:
    """The value of a datetime-local input for a stored UTC datetime."""
    if value is None:
        return ""
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


class LocalDateTimeField(Field):
    """``<input type="datetime-local">`` in the city's local time; ``data`` is aware UTC."""

    widget = DateTimeLocalInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return utc_to_local_input(self.data, local_zone())

    def process_formdata(self, valuelist):
        if not valuelist:  # not sent at all (a disabled input): keep the stored value
            return
        self.data = None
        text = valuelist[0].strip()
        if not text:
            return
        for fmt in _LOCAL_FORMATS:
            try:
                local = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(_("Please enter a date and time, for example 2026-05-01 18:00."))
        try:
            self.data = local_to_utc(local, local_zone())
        except NonexistentLocalTime:
            raise ValueError(
                _(
                    "This time does not exist in Berlin: the clocks are put forward that night. "
                    "Please choose another time."
                )
            ) from None


class WholeNumberField(IntegerField):
    """A whole number with our own message (WTForms' own is English only)."""

    widget = NumberInput(step=1)

    def __init__(self, label=None, validators=None, message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        if not valuelist:  # not sent at all (a disabled input): keep the stored value
            return
        self.data = None
        text = valuelist[0].strip()
        if not text:
            return
        # Only ASCII digits: int() would also take "١٢" or "1_000".
        if not _WHOLE_NUMBER.fullmatch(text):
            raise ValueError(str(self.message or _("Please enter a whole number.")))
        self.data = int(text)


def _optional_id(value) -> int | None:
    """A select's value as an id: None when empty; 0 (matches nothing) when not an id.

    Unknown ids reach the service, which says in the user's language what to choose.
    Long numbers are cut off here so they never overflow an integer column.
    """
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    return int(value) if _ID.fullmatch(str(value)) else 0


def date_field(label, optional: bool = False) -> LocalDateTimeField:
    validators = [] if optional else [InputRequired(message=_l("Please fill in this field."))]
    return LocalDateTimeField(label, validators=validators)


def _text(label, limit: int, lang: str, area: bool = False, rows: int = 6):
    render_kw = {"lang": lang}
    if area:
        render_kw["rows"] = rows
        return TextAreaField(label, validators=[max_length(limit)], render_kw=render_kw)
    return StringField(label, validators=[max_length(limit)], render_kw=render_kw)


class ChallengeForm(FlaskForm):
    """Texts side by side in German and English, the schedule, the settings."""

    title_de = _text(_l("Title (German)"), 160, "de")
    title_en = _text(_l("Title (English)"), 160, "en")
    question_de = _text(_l("Question (German)"), 300, "de")
    question_en = _text(_l("Question (English)"), 300, "en")
    description_de = _text(_l("Description (German)"), 10_000, "de", area=True, rows=8)
    description_en = _text(_l("Description (English)"), 10_000, "en", area=True, rows=8)
    plain_de = _text(_l("Leichte Sprache summary (German)"), 5_000, "de", area=True)
    plain_en = _text(_l("Plain language summary (English)"), 5_000, "en", area=True)
    cover_alt_de = _text(_l("Cover description (German)"), 300, "de")
    cover_alt_en = _text(_l("Cover description (English)"), 300, "en")

    submission_opens_at = date_field(_l("Submission opens"))
    submission_closes_at = date_field(_l("Submission closes"))
    voting_opens_at = date_field(_l("Voting opens"))
    voting_closes_at = date_field(_l("Voting closes"))
    results_at = date_field(_l("Results are published"))
    archived_at = date_field(_l("Archived (optional)"), optional=True)

    vote_budget = WholeNumberField(
        _l("Votes per citizen"),
        default=5,
        validators=[InputRequired(message=_l("Please fill in this field."))],
        message=_l(
            "Please enter a whole number from %(min)d to %(max)d.", min=0, max=MAX_VOTE_BUDGET
        ),
        description=_l(
            "From 0 to 100. 0 means one vote per idea, for as many ideas as people like."
        ),
        render_kw={"min": 0, "max": MAX_VOTE_BUDGET},
    )
    hide_counts_while_voting = BooleanField(_l("Hide vote counts while voting runs"))
    # Checked by the service, so that a forged value gets a message in the user's language.
    moderation = SelectField(
        _l("Moderation"),
        choices=[
            SelectChoice(
                "pre", _l("Before publication (ideas appear once a moderator has checked them)")
            ),
            SelectChoice(
                "post", _l("After publication (ideas appear at once and are checked afterwards)")
            ),
        ],
        default="pre",
        validate_choice=False,
    )
    count_paper_votes = BooleanField(
        _l("Paper votes and votes at live events count towards the total"), default=True
    )

    TEXT_FIELDS = (
        "title",
        "question",
        "description",
        "plain",
        "cover_alt",
    )
    SCHEDULE_FIELDS = SCHEDULE_FIELDS
    SETTING_FIELDS = SETTING_FIELDS

    def lock_for_running_vote(self) -> None:
        """Show what a running vote depends on as disabled, so nobody tries to change it."""
        for name in LOCKED_ONCE_VOTING:
            field = self[name]
            field.render_kw = {**(field.render_kw or {}), "disabled": True}
            # Browsers do not send disabled inputs: their absence is no mistake here.
            field.validators = []
            field.flags.required = False

    def service_data(self, challenge=None) -> dict:
        """The submitted values for create_challenge / update_challenge.

        Only the form's own fields are passed on, so posted extras (``id``,
        ``created_by_id``...) never reach the model. When editing:

        - a locked field the browser did not send (it is disabled once voting runs) is
          left out, so it stays as it is;
        - a date sent back exactly as the form showed it keeps its stored value, so
          seconds, and the second 02:30 of an autumn night, survive an unrelated edit.
        """
        data = {}
        for name in self.TEXT_FIELDS:
            for lang in ("de", "en"):
                data[f"{name}_{lang}"] = self[f"{name}_{lang}"].data or ""
        for name in self.SCHEDULE_FIELDS + self.SETTING_FIELDS:
            data[name] = self[name].data
        if challenge is None:
            return data
        if challenge.voting_started():
            for name in LOCKED_ONCE_VOTING:
                if not self[name].raw_data:
                    data.pop(name)
        zone = local_zone()
        for name in self.SCHEDULE_FIELDS:
            field = self[name]
            stored = getattr(challenge, name)
            shown = utc_to_local_input(stored, zone)
            if name in data and field.raw_data and field.raw_data[0].strip() == shown and shown:
                data[name] = stored
        return data


class CoverForm(FlaskForm):
    image = FileField(
        _l("New cover image"),
        validators=[FileRequired(message=_l("Please choose an image file."))],
        description=_l("JPEG, PNG or WebP, at most 8 MB. Photo metadata is removed."),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )


class CategoryForm(FlaskForm):
    """Used once for "add" and once per category (with a prefix) for "rename"."""

    name_de = StringField(
        _l("Name (German)"), validators=[max_length(80)], render_kw={"lang": "de"}
    )
    name_en = StringField(
        _l("Name (English)"), validators=[max_length(80)], render_kw={"lang": "en"}
    )


def _district_choices() -> list[SelectChoice]:
    names = db.session.execute(
        select(District.id, District.name).order_by(District.position, District.name)
    ).all()
    return [SelectChoice("", _("No district"))] + [SelectChoice(str(i), n) for i, n in names]


class WorkshopIdeaForm(FlaskForm):
    """An idea collected on paper at a workshop, typed in by staff."""

    workshop_name = StringField(
        _l("Workshop"),
        validators=[required(), max_length(120)],
        description=_l('Shown as the author, for example "Zukunftswerkstatt Hörde, 12 May".'),
    )
    title = StringField(_l("Title of the idea"), validators=[required(), max_length(140)])
    body = TextAreaField(
        _l("Description"),
        validators=[max_length(5000)],
        description=_l("Simple formatting: **bold**, *italic*, lists, links. No HTML."),
        render_kw={"rows": 8},
    )
    # Choices are filled per challenge; the service checks the category belongs to it.
    category_id = SelectField(_l("Category"), coerce=_optional_id, validate_choice=False)
    district_id = SelectField(_l("District"), coerce=_optional_id, validate_choice=False)
    language = SelectField(
        _l("Language of the idea"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
        validate_choice=False,
    )

    def __init__(self, challenge, locale: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        categories = [SelectChoice(str(c.id), c.name(locale)[0]) for c in challenge.categories]
        self.category_id.choices = categories or [
            SelectChoice("", _("This challenge has no categories"))
        ]
        self.district_id.choices = _district_choices()

    def service_data(self) -> dict:
        """The values for enter_workshop_idea (the workshop's name is passed separately)."""
        return {
            "title": self.title.data or "",
            "body": self.body.data or "",
            "category_id": self.category_id.data,
            "district_id": self.district_id.data,
            "language": self.language.data,
        }


__all__ = [
    "TRANSLATION_LABELS",
    "MODERATION_MODES",
    "ChallengeForm",
    "CoverForm",
    "CategoryForm",
    "WorkshopIdeaForm",
    "local_to_utc",
    "utc_to_local_input",
]
