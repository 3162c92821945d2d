"""Events: creating, opening and closing them, joining by code and leaving.

Staff create an event as a draft with a join code, open it for the evening and close it
afterwards. People join on their phones with the code: a display name, a language and
the privacy tick, nothing else. Logged-in citizens join as themselves.
"""

import io
import re
import secrets
import unicodedata
from datetime import datetime

import segno
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import ratelimit
from ..accounts.services import clean_public_name
from ..audit.services import record_action
from ..challenges.models import Challenge
from ..clock import now
from ..errors import FieldErrors, UserError
from ..extensions import db
from ..i18n import SUPPORTED_LOCALES, _, _l
from ..permissions import user_has_role
from ..text import checked_text
from ..urls import external_url
from . import live
from .models import CODE_ALPHABET, CODE_LENGTH, DISPLAY_NAME_MAX, Event, EventParticipant
from .participants import hash_token, new_token

STATUS_LABELS = {
    "draft": _l("Draft (not open yet)"),
    "open": _l("Open"),
    "closed": _l("Closed"),
}
TEXT_FIELDS = {"title_de": 160, "title_en": 160, "place": 200}
VIDEO_URL_MAX = 500
EDITABLE_FIELDS = ("title_de", "title_en", "place", "video_url", "starts_at", "ends_at")

# Wrong codes per address: a phone that mistypes a few times is fine, guessing is not.
# 10 wrong tries per 10 minutes leave 25^6 / 10 ≈ 24 million windows to find one code.
WRONG_CODE_LIMIT, WRONG_CODE_WINDOW = 10, 600
# Joins per address and event: a whole hall may share the venue Wi-Fi's one address
# (NAT), so the limit is generous — 600 joins per 10 minutes — and only stops a script
# filling the event with names.
JOIN_LIMIT, JOIN_WINDOW = 600, 600

_CODE_LOOSE = re.compile(r"[\s\-_.]")
# Attempts to pick a code that no running event has; 25^6 codes make a clash rare.
_CODE_TRIES = 20


# --- codes --------------------------------------------------------------------------------


def new_join_code() -> str:
    """Six random characters from the alphabet without look-alikes."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _code_in_use(code: str, except_id: int | None = None) -> bool:
    query = select(Event.id).where(Event.join_code == code, Event.status != "closed")
    if except_id is not None:
        query = query.where(Event.id != except_id)
    return db.session.scalar(query.limit(1)) is not None


def _free_code(except_id: int | None = None) -> str:
    """A code no event that is not closed uses (the open ones' unique index is the guard)."""
    for _attempt in range(_CODE_TRIES):
        code = new_join_code()
        if not _code_in_use(code, except_id):
            return code
    raise RuntimeError("no free join code found")  # 25^6 codes: practically impossible


def normalise_code(raw) -> str:
    """A typed code as stored: upper case, spaces and dashes dropped."""
    if not isinstance(raw, str):
        return ""
    return _CODE_LOOSE.sub("", raw[:40]).upper()


def is_wellformed_code(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code)


# --- staff: creating, editing, opening, closing ------------------------------------------


def _check_event_data(data: dict) -> dict:
    """The cleaned values of the event form, or FieldErrors naming every wrong field."""
    values, errors = {}, {}
    for field, limit in TEXT_FIELDS.items():
        try:
            values[field] = checked_text(data.get(field, ""), field, limit, line=True)
        except UserError as error:
            errors[field] = error.message
    if "title_de" not in errors and not (values.get("title_de") or values.get("title_en")):
        errors["title_de"] = _("Please give the event a title in at least one language.")
    url = data.get("video_url") or ""
    url = url.strip() if isinstance(url, str) else ""
    if url and (
        len(url) > VIDEO_URL_MAX
        or not re.fullmatch(r"https://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?", url)
        or any(unicodedata.category(c)[0] == "C" for c in url)
    ):
        errors["video_url"] = _(
            "Please enter a web address starting with https://, at most %(max)d characters.",
            max=VIDEO_URL_MAX,
        )
    values["video_url"] = url
    for field in ("starts_at", "ends_at"):
        value = data.get(field)
        if not (isinstance(value, datetime) and value.tzinfo is not None):
            errors.setdefault(field, _("Please enter a date and time."))
        values[field] = value
    if (
        "starts_at" not in errors
        and "ends_at" not in errors
        and values["ends_at"] <= values["starts_at"]
    ):
        errors["ends_at"] = _("The event must end after it starts.")
    if errors:
        raise FieldErrors(errors)
    return values


def create_event(actor, challenge: Challenge, data: dict) -> Event:
    """A new draft event of ``challenge`` with a fresh join code; audited."""
    values = _check_event_data(data)
    event = Event(
        challenge_id=challenge.id,
        created_by_id=actor.id,
        join_code=_free_code(),
        status="draft",
        **values,
    )
    db.session.add(event)
    db.session.flush()
    record_action(actor, "event.create", "event", event.id, challenge=challenge.id,
                  title=event.title_de or event.title_en)  # fmt: skip
    db.session.commit()
    return event


def update_event(actor, event: Event, data: dict) -> bool:
    """Change the texts and times of an event; audited with the changed fields.

    Returns whether anything changed.
    """
    values = _check_event_data(data)
    changed = [name for name in EDITABLE_FIELDS if getattr(event, name) != values[name]]
    if not changed:
        return False
    for name in changed:
        setattr(event, name, values[name])
    record_action(actor, "event.update", "event", event.id, challenge=event.challenge_id,
                  title=event.title_de or event.title_en, fields=changed)  # fmt: skip
    db.session.commit()
    live.announce(event.id, "event")
    return True


def open_event(actor, event: Event) -> None:
    """Open the event: its code now lets people in. Audited.

    ``open_code``'s unique index guards against two running events sharing a code (two
    drafts may have drawn the same one): on a clash the event draws a new code.
    """
    if event.status == "open":
        raise UserError(_("The event is already open."), status=409)
    event_id = event.id
    for _attempt in range(_CODE_TRIES):
        # No flush before the commit: the clash must surface there, not in a lookup.
        with db.session.no_autoflush:
            if event.status == "closed" and _code_in_use(event.join_code, except_id=event.id):
                event.join_code = _free_code(except_id=event.id)
            record_action(actor, "event.open", "event", event.id, challenge=event.challenge_id,
                          title=event.title_de or event.title_en, code=event.join_code)  # fmt: skip
            event.status = "open"
            event.open_code = event.join_code
            event.opened_at = now()
            event.closed_at = None
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            event = db.session.get(Event, event_id)
            code = _free_code(except_id=event.id)
            event.join_code = code
            continue
        live.announce(event.id, "event")
        return
    raise RuntimeError("no free join code found")


def close_event(actor, event: Event) -> None:
    """Close the event: the code stops letting people in; phones see it has ended. Audited."""
    if event.status != "open":
        raise UserError(_("Only an open event can be closed."), status=409)
    event.status = "closed"
    event.open_code = None
    event.closed_at = now()
    record_action(actor, "event.close", "event", event.id, challenge=event.challenge_id,
                  title=event.title_de or event.title_en)  # fmt: skip
    db.session.commit()
    live.announce(event.id, "event")


def list_events(challenge: Challenge) -> list[Event]:
    """The events of a challenge, the latest start first."""
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.challenge_id == challenge.id)
            .order_by(Event.starts_at.desc(), Event.id.desc())
        )
    )


def join_url(event: Event) -> str:
    """The absolute address the QR code holds (from PUBLIC_URL, never the Host header)."""
    return external_url("events.join_by_link", code=event.join_code)


def join_page_url() -> str:
    """The absolute address of the page where the code is typed, for the poster."""
    return external_url("events.join_page")


def qr_image(event: Event) -> bytes:
    """The QR code of the event's join address as a standalone SVG file.

    White background (the wall is dark), a quiet zone, a viewBox to scale and a size for
    browsers that need one.
    """
    qr = segno.make(join_url(event), error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=8, border=4, omitsize=True, light="#fff",
            svgclass=None, lineclass=None, xmldecl=True)  # fmt: skip
    size = qr.symbol_size(scale=8, border=4)[0]
    return buffer.getvalue().replace(b"<svg ", f'<svg width="{size}" height="{size}" '.encode(), 1)


def count_participants(event: Event) -> int:
    """People in the room now (those who left are not counted)."""
    return (
        db.session.scalar(
            select(func.count(EventParticipant.id)).where(
                EventParticipant.event_id == event.id, EventParticipant.left_at.is_(None)
            )
        )
        or 0
    )


# --- joining ------------------------------------------------------------------------------


def not_open_message(event: Event) -> str:
    """Why a phone cannot join ``event`` now, in the person's language."""
    if event.status == "closed":
        return _("This event is not open any more: it has ended.")
    return _("This event is not open yet. Please wait until the team opens it.")


def _not_open(event: Event) -> UserError:
    return UserError(not_open_message(event), status=409)


def find_event_by_code(raw_code, address: str) -> Event:
    """The open event of a typed code; a clear refusal otherwise, and throttled guessing.

    A wrong code counts towards the address's limit; after ``WRONG_CODE_LIMIT`` wrong
    tries in ``WRONG_CODE_WINDOW`` seconds every try is a 429 until the window ends.
    """
    key = f"event-code:{address}"
    wait = ratelimit.retry_after(key, WRONG_CODE_LIMIT, WRONG_CODE_WINDOW)
    if wait:
        raise ratelimit.too_many(
            wait, _("Too many wrong codes. Please wait a few minutes and try again.")
        )
    code = normalise_code(raw_code)
    event = None
    if is_wellformed_code(code):
        event = db.session.scalar(select(Event).where(Event.open_code == code))
        if event is None:
            event = db.session.scalar(
                select(Event).where(Event.join_code == code).order_by(Event.id.desc()).limit(1)
            )
    if event is not None and event.is_open:
        return event
    ratelimit.hit(key, WRONG_CODE_WINDOW)
    if event is not None:
        raise _not_open(event)
    raise UserError(
        _("There is no event with this code. Please check the code on the screen or poster."),
        field="code",
        status=404,
    )


# Names that only staff use in the room. Compared as "skeletons" (see _skeleton), and as
# parts of a name: "Die Moderation", "Admin-Team" and "St4ff" are refused alike.
RESERVED_NAMES = ("moderation", "moderator", "admin", "staff", "stadt dortmund", "consult")
# Letters that look like Latin ones (Cyrillic, Greek) and digits used as letters.
_LOOKALIKES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ӏ": "i", "һ": "h",
    "ԛ": "q", "ԝ": "w", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k",
    "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "μ": "u",
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "l": "i", "|": "i", "!": "i", "$": "s", "@": "a", "ß": "ss",
})  # fmt: skip


def _skeleton(name: str) -> str:
    """What a name looks like: NFKC, case-folded, accents and look-alikes folded, only letters."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name).casefold())
    text = "".join(c for c in text if not unicodedata.combining(c)).translate(_LOOKALIKES)
    text = "".join(c for c in text if c.isalpha())
    return text.replace("rn", "m").replace("vv", "w")


_RESERVED_SKELETONS = tuple(_skeleton(n) for n in RESERVED_NAMES)


def check_display_name(raw) -> str:
    """The display name as shown, or a UserError on ``display_name`` saying what is wrong."""
    name = clean_public_name(
        raw,
        "display_name",
        1,
        DISPLAY_NAME_MAX,
        (
            _("Please use only letters, digits, spaces and . - _ ' in your name."),
            _("Your name needs at least one letter or digit."),
        ),
        marks=True,
    )
    skeleton = _skeleton(name)
    city = _skeleton("stadt " + (current_app.config.get("CITY_NAME") or ""))
    if any(reserved in skeleton for reserved in (*_RESERVED_SKELETONS, city)):
        raise UserError(
            _("This name is kept for the event's team. Please choose another one."),
            field="display_name",
        )
    return name


def _check_join(display_name, language, privacy) -> tuple[str, str]:
    errors = {}
    name = ""
    try:
        name = check_display_name(display_name)
    except UserError as error:
        errors["display_name"] = error.message
    if language not in SUPPORTED_LOCALES:
        errors["language"] = _("Please choose a language.")
    if privacy is not True:
        errors["privacy"] = _("Please agree to the privacy note to join.")
    if errors:
        raise FieldErrors(errors)
    return name, language


def join_event(event: Event, user, display_name, language, privacy, address: str):
    """Let a person into an open event. Returns ``(participant, token)``.

    Anyone joins with a new random token (``token`` is None for a logged-in citizen, who
    is found by account): only its SHA-256 is stored. A logged-in citizen joins as
    themselves, once: a second join returns the same participant (the unique constraint
    on event and account decides, not a check before the insert). The citizen's language
    setting follows the choice, so the phone pages speak it.
    """
    if not event.is_open:
        raise _not_open(event)
    name, language = _check_join(display_name, language, privacy)
    wait = ratelimit.count_and_check(
        [(f"event-join:{event.id}:{address}", JOIN_LIMIT, JOIN_WINDOW)]
    )
    if wait:
        raise ratelimit.too_many(
            wait, _("Too many people joined from this network. Please wait a moment.")
        )
    as_citizen = user_has_role(user, "citizen")
    token = None if as_citizen else new_token()
    participant = EventParticipant(
        event_id=event.id,
        display_name=name,
        language=language,
        user_id=user.id if as_citizen else None,
        token_hash=hash_token(token) if token else None,
    )
    db.session.add(participant)
    if as_citizen and user.locale != language:
        user.locale = language
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if not as_citizen:
            raise
        participant = db.session.scalar(
            select(EventParticipant).where(
                EventParticipant.event_id == event.id, EventParticipant.user_id == user.id
            )
        )
        if participant is None:  # pragma: no cover - the row that clashed is gone again
            raise
        if participant.left_at is not None:
            # Back after leaving: the same row (one per account and event), named again.
            participant.display_name, participant.language = name, language
            participant.left_at = None
            db.session.commit()
    return participant, token


def leave_event(participant: EventParticipant) -> None:
    """Leave and be forgotten: name and token go; ideas and votes stay without a name.

    A registered citizen's account link stays, as their online votes keep theirs: it is
    what counts their vote for an idea once when they also voted for it online (DESIGN
    §5a), and it is never shown. Deleting the account anonymises the account itself.
    """
    participant.display_name = ""
    participant.token_hash = None
    participant.left_at = now()
    db.session.commit()
    live.announce(participant.event_id, "ideas")


# --- accounts: the download and deletion ---------------------------------------------------


def export_own_event_participation(user) -> dict:
    """The events the person joined while logged in: title, display name, joined, left."""
    rows = db.session.execute(
        select(EventParticipant, Event.title_de, Event.title_en)
        .join(Event, Event.id == EventParticipant.event_id)
        .where(EventParticipant.user_id == user.id)
        .order_by(EventParticipant.joined_at, EventParticipant.id)
    ).all()
    return {
        "event_participation": [
            {"event_id": p.event_id, "event_title_de": title_de, "event_title_en": title_en,
             "display_name": p.display_name, "language": p.language,
             "joined_at": p.joined_at.isoformat() if p.joined_at else None,
             "left_at": p.left_at.isoformat() if p.left_at else None}
            for p, title_de, title_en in rows
        ]
    }  # fmt: skip


def anonymise_event_participation(user) -> None:
    """A deleted account leaves every event it joined, as ``leave_event`` (not committed:
    the account's deletion commits). The link to the now anonymous account stays, as the
    account's votes keep theirs, so that no vote is counted twice."""
    joined = db.session.scalars(select(EventParticipant).where(EventParticipant.user_id == user.id))
    for participant in joined:
        participant.display_name = ""
        participant.token_hash = None
        participant.left_at = participant.left_at or now()


def _register_account_hooks() -> None:
    from ..accounts import services as accounts

    if export_own_event_participation not in accounts.DATA_EXPORTERS:
        accounts.DATA_EXPORTERS.append(export_own_event_participation)
        accounts.DELETION_HOOKS.append(anonymise_event_participation)


_register_account_hooks()
