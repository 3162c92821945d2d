"""The projector wall: what it shows (its state, fetched after each push) and the one
setting staff change for it, whether it shows a round's running tally.

The wall only ever reads its own event: ideas by ``Idea.event_id``, the tally by the
round of this event. Nothing here takes content from a request.
"""

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app, url_for
from sqlalchemy import func, select

from ..audit.services import record_action
from ..clock import now
from ..extensions import db
from ..i18n import current_locale
from ..ideas.models import Idea
from . import rounds
from .live import announce
from .models import Event, EventRound
from .room_ideas import credited_names_for

# More than fit on a projector; the wall drops those that do not fit (newest stay).
WALL_IDEAS = 30
TALLY_ROWS = 10


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


def join_address() -> tuple[str, str]:
    """The join page's address, and how the wall writes it (without "https://")."""
    url = current_app.config["PUBLIC_URL"].rstrip("/") + "/join"
    parts = urlsplit(url)
    return url, parts.netloc + parts.path


def room_ideas(event: Event, limit: int = WALL_IDEAS) -> list[Idea]:
    """The event's approved ideas, the most recently approved first."""
    return list(
        db.session.scalars(
            select(Idea)
            .where(Idea.event_id == event.id, Idea.status == "room")
            .order_by(func.coalesce(Idea.moderated_at, Idea.created_at).desc(), Idea.id.desc())
            .limit(limit)
        )
    )


def latest_round(event: Event) -> EventRound | None:
    return db.session.scalar(
        select(EventRound)
        .where(EventRound.event_id == event.id, EventRound.starts_at <= now())
        .order_by(EventRound.number.desc())
        .limit(1)
    )


def round_tally(event_round: EventRound, limit: int = TALLY_ROWS) -> list[dict]:
    """The round's dots per idea (``rounds.round_tally``, from the rows), as plain values."""
    return [
        {"id": idea.id, "title": idea.title, "votes": dots}
        for idea, dots in rounds.round_tally(event_round)[:limit]
    ]


def wall_state(event: Event) -> dict:
    """Everything the wall shows, as plain values (``state.json``)."""
    ideas = room_ideas(event)
    names = credited_names_for(ideas)
    title, title_lang = event.text("title", current_locale())
    join_url, join_text = join_address()
    state = {
        "event": {
            "id": event.id,
            "title": title,
            "lang": title_lang,
            "code": event.join_code,
            "join_url": join_url,
            "join_text": join_text,
            "status": event.status,
        },
        "ideas": [
            {"id": idea.id, "title": idea.title, "lang": idea.language, "names": names[idea.id]}
            for idea in ideas
        ],
        "round": None,
        "server_time": _iso(now()),
    }
    event_round = latest_round(event)
    if event_round is not None:
        is_open = event_round.is_open()
        state["round"] = {
            "number": event_round.number,
            "closes_at": _iso(event_round.closes_at),
            "open": is_open,
            "budget": event_round.budget,
        }
        # The running tally only when staff allow it; a closed round's result always.
        if not is_open or event.wall_shows_tally:
            state["round"]["tally"] = round_tally(event_round)
    return state


def wall_panel(event) -> dict:
    """What the staff event page's wall section shows (``events/_staff_wall.html``)."""
    return {
        "wall_url": url_for("events.wall", event_id=event.id),
        "tally_url": url_for("events.wall_tally", event_id=event.id),
        "shows_tally": bool(event.wall_shows_tally),
    }


def set_wall_tally(event: Event, shows: bool, actor) -> bool:
    """Show or hide a round's running tally on the event's wall; returns whether it
    changed. Audited; the walls refetch at once. (A closed round's result shows either way.)
    """
    shows = bool(shows)
    if bool(event.wall_shows_tally) == shows:
        return False
    event.wall_shows_tally = shows
    record_action(
        actor, "event.tally", "event", event.id, shows=shows, title=event.title_de or event.title_en
    )
    db.session.commit()
    announce(event.id, "event")
    return True
