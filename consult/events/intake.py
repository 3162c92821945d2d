"""Taking an event's outcome into its challenge: one audited action, once per event.

The room's approved ideas (status ``room``) become published ideas of the challenge with
the event as their origin; the chosen round's dots become the ideas' *event votes*. Those
are not copied: ``Event.imported_round_id`` marks the round, and every count reads its
``RoundVote`` rows through ``consult.voting.services.counted_round_votes`` (the one place
that applies "nothing is counted twice").

Decisions:
- Ideas still waiting for moderation (``queued``) refuse the import (409): once imported
  the event cannot be imported again, so a queued idea would be stranded in the room.
  The confirmation page says how many wait and sends staff to the moderation queue.
- Merged ideas stay merged: the merge moved their credit and votes to the target.
- The import needs a closed round (when the event has rounds) or a closed event (when it
  has none), results that are not frozen, and it happens once: a conditional UPDATE of
  the event row (``imported_at IS NULL``) lets only one of two concurrent imports through.
"""

from dataclasses import dataclass

from sqlalchemy import func, literal, select, update

from ..audit.services import record_action
from ..challenges.models import Challenge
from ..clock import now
from ..errors import UserError
from ..extensions import db
from ..i18n import _
from ..ideas.models import Idea
from ..jury.locks import check_not_frozen
from ..text import clean_line
from ..voting.services import counted_round_votes, imported_rounds
from . import live
from .models import Event, EventRound, RoundVote
from .rounds import closed_rounds, round_of

WORKSHOP_NAME_MAX = 120


@dataclass
class ImportPreview:
    """What an import of ``event`` with ``round`` would do, as the confirmation page says it."""

    event: Event
    round: EventRound | None
    rounds: list[EventRound]  # the event's closed rounds, newest first (the choices)
    ideas: int  # approved room ideas that become ideas of the challenge
    merged: int  # merged ideas (their votes and credit are already on their targets)
    queued: int  # ideas still waiting for moderation (they block the import)
    votes: int  # dots given in the round
    counted: int  # of those, how many add to the challenge's event votes
    refusal: str | None = None  # why the import cannot happen now (translated), or None
    refusal_status: int = 409

    @property
    def not_counted_again(self) -> int:
        """Dots of registered citizens already counted (online or at another event)."""
        return self.votes - self.counted


@dataclass
class ImportPanel:
    """The import section of the staff event page (``events/_staff_import.html``)."""

    event: Event
    imported: bool
    round_number: int | None = None
    ideas: int = 0
    queued: int = 0
    closed_rounds: int = 0


def event_workshop_name(event: Event) -> str:
    """The event's name as the origin of its ideas: German title, else English, ≤ 120."""
    return clean_line(event.title_de or event.title_en or "")[:WORKSHOP_NAME_MAX]


def _status_counts(event: Event) -> dict[str, int]:
    rows = db.session.execute(
        select(Idea.status, func.count())
        .where(Idea.event_id == event.id, Idea.challenge_id == event.challenge_id)
        .group_by(Idea.status)
    )
    return {status: int(n) for status, n in rows}


def _event_vote_sum(challenge_id: int, rounds) -> int:
    counted = counted_round_votes(challenge_id, rounds=rounds).subquery()
    return int(db.session.scalar(select(func.coalesce(func.sum(counted.c.n), 0))))


def _chosen_round(event: Event, round_id) -> EventRound | None:
    """The round whose votes count: it must be one of this event's (404 otherwise)."""
    if round_id is None:
        return None
    chosen = round_of(event, round_id) if isinstance(round_id, int) else None
    if chosen is None:
        raise UserError(_("This round does not belong to this event."), status=404)
    return chosen


def _refusal(event: Event, chosen: EventRound | None, has_rounds: bool, queued: int):
    """Why the import cannot happen now (translated), or None. Order: the most basic first."""
    if event.imported_at is not None:
        return _("This event has already been taken into the challenge.")
    if event.status == "draft":
        return _("This event has not taken place yet.")
    if event.challenge.is_frozen:
        return _(
            "The results of this challenge are frozen: scores, votes and settings "
            "can no longer change."
        )
    if chosen is None and has_rounds:
        return _("Please choose the round whose votes count.")
    if chosen is not None and chosen.closes_at > now():
        return _("This round is still open. Wait until it has closed, or stop it first.")
    if chosen is None and event.status != "closed":
        return _("Close the event first: it has no closed voting round.")
    if queued:
        return _("Some ideas are still waiting for moderation. Approve, merge or hide them first.")
    return None


def import_preview(event: Event, round_id: int | None = None) -> ImportPreview:
    """What importing ``event`` with round ``round_id`` would do (a few queries, no change).

    Without ``round_id`` the newest closed round is proposed. A round of another event is
    a 404 (``UserError``).
    """
    rounds = closed_rounds(event)
    has_rounds = db.session.scalar(
        select(func.count()).select_from(EventRound).where(EventRound.event_id == event.id)
    )
    chosen = rounds[0] if round_id is None and rounds else _chosen_round(event, round_id)
    statuses = _status_counts(event)
    votes = counted = 0
    if chosen is not None:
        votes = int(
            db.session.scalar(
                select(func.count()).select_from(RoundVote).where(RoundVote.round_id == chosen.id)
            )
        )
        if event.imported_at is None:
            before = _event_vote_sum(event.challenge_id, imported_rounds(event.challenge_id))
            with_round = imported_rounds(event.challenge_id).union(select(literal(chosen.id)))
            counted = _event_vote_sum(event.challenge_id, with_round) - before
    queued = statuses.get("queued", 0)
    return ImportPreview(
        event=event,
        round=chosen,
        rounds=rounds,
        ideas=statuses.get("room", 0),
        merged=statuses.get("merged", 0),
        queued=queued,
        votes=votes,
        counted=counted,
        refusal=_refusal(event, chosen, bool(has_rounds), queued),
    )


def import_panel(event: Event) -> ImportPanel:
    """The staff page's import section: done (when, which round) or what is waiting."""
    statuses = _status_counts(event)
    imported_round = (
        db.session.get(EventRound, event.imported_round_id) if event.imported_round_id else None
    )
    return ImportPanel(
        event=event,
        imported=event.imported_at is not None,
        round_number=imported_round.number if imported_round else None,
        ideas=statuses.get("room", 0) + statuses.get("published", 0),
        queued=statuses.get("queued", 0),
        closed_rounds=len(closed_rounds(event)),
    )


@dataclass(frozen=True)
class ImportResult:
    ideas: int
    votes: int
    counted: int
    round_number: int | None


def import_event(event: Event, actor, round_id: int | None) -> ImportResult:
    """Take the event's outcome into its challenge, in one transaction, once; audited.

    The approved room ideas become published ideas (origin "event", the event's title as
    their workshop name, published now, submitted when they were posted); the round
    ``round_id`` (closed, of this event) becomes the source of the ideas' event votes.
    Refused (``UserError``): not staff 403; a round of another event 404; already
    imported, not held, round still open, ideas queued or results frozen 409.
    """
    try:
        if actor is None or not actor.has_role("staff"):
            raise UserError(_("Only staff can take an event into the challenge."), status=403)
        chosen = _chosen_round(event, round_id)
        has_rounds = db.session.scalar(
            select(func.count()).select_from(EventRound).where(EventRound.event_id == event.id)
        )
        # Locks the challenge row first, as freeze_results and paper votes do, so an import
        # and a freeze take turns: the import is in the frozen snapshot or refused.
        frozen_at = db.session.scalar(
            select(Challenge.results_frozen_at)
            .where(Challenge.id == event.challenge_id)
            .with_for_update()
        )
        if frozen_at is not None:
            db.session.refresh(event.challenge)
            check_not_frozen(event.challenge)
        queued = _status_counts(event).get("queued", 0)
        refusal = _refusal(event, chosen, bool(has_rounds), queued)
        if refusal is not None:
            raise UserError(refusal, status=409)
        before = _event_vote_sum(event.challenge_id, imported_rounds(event.challenge_id))
        t = now()
        # The conditional UPDATE is the guard against a second import: of two concurrent
        # ones, the second waits for the first's row lock and then matches no row.
        claimed = db.session.execute(
            update(Event)
            .where(Event.id == event.id, Event.imported_at.is_(None))
            .values(
                imported_at=t,
                imported_by_id=actor.id,
                imported_round_id=chosen.id if chosen else None,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            raise UserError(_("This event has already been taken into the challenge."), status=409)
        ideas = db.session.execute(
            update(Idea)
            .where(
                Idea.event_id == event.id,
                Idea.challenge_id == event.challenge_id,
                Idea.status == "room",
            )
            .values(
                status="published",
                origin="event",
                workshop_name=event_workshop_name(event),
                published_at=t,
                submitted_at=Idea.created_at,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        votes = 0
        if chosen is not None:
            votes = int(
                db.session.scalar(
                    select(func.count())
                    .select_from(RoundVote)
                    .where(RoundVote.round_id == chosen.id)
                )
            )
        counted = _event_vote_sum(event.challenge_id, imported_rounds(event.challenge_id)) - before
    except UserError:
        db.session.rollback()
        raise
    round_number = chosen.number if chosen else None
    record_action(
        actor, "event.import", "event", event.id,
        challenge=event.challenge_id, ideas=ideas, round=round_number, votes=votes,
        counted=counted, name=event_workshop_name(event),
    )  # fmt: skip
    event_id = event.id
    db.session.commit()
    live.announce(event_id, "ideas")
    live.announce(event_id, "event")
    return ImportResult(ideas=ideas, votes=votes, counted=counted, round_number=round_number)
