"""Voting rounds: timed, with a dot budget, closed by the clock.

Built like the challenge's voting (consult.voting.services, DESIGN §4); exactness comes
from the database, never from a check-then-insert in Python:
- one dot per (round, participant, idea) is the unique constraint on ``event_round_votes``;
- the budget is one conditional upsert of the participant's ``RoundBallot``
  (``used = used + 1 WHERE used < budget``, RETURNING), which the database serialises per
  participant (a row lock on PostgreSQL, the write lock on SQLite), so two tabs or two
  phones holding the same token can never spend one dot more than the budget;
- a round is open while ``starts_at <= now() < closes_at`` (``EventRound.is_open``): no job
  closes it. A vote checks that in SQL, for the moment it arrived, while taking a share
  lock on the round's row: a stop waits for the votes in flight, and a vote that arrived
  after the end (by the clock or by the stop) finds the round closed.

Times are UTC in the database, so a round across a change of daylight saving time closes
exactly when its minutes are over.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import format_time
from sqlalchemy import and_, delete, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from .. import ratelimit
from ..audit.services import record_action
from ..clock import now
from ..dbtypes import UTCDateTime
from ..errors import UserError
from ..extensions import db, sql_dialect
from ..i18n import _, ngettext
from ..ideas.models import Idea
from . import live
from .models import ROUND_SCOPES, Event, EventParticipant, EventRound, RoundBallot, RoundVote

MINUTES_MIN, MINUTES_MAX = 1, 120
BUDGET_MIN, BUDGET_MAX = 1, 20

# Abuse limits, fixed windows counted in Redis (shared by every web process), as for the
# challenge's votes. Per participant: 60 actions a minute is a tap every second for a whole
# minute, far above a person spending 20 dots and changing their mind, but it stops a script.
# Per address: a hall's Wi-Fi puts every phone behind one address. 500 phones spending 3
# dots each are 1,500 casts; if every phone also changes its mind on all 3 dots (a withdraw
# and a cast each) that is 4,500 actions, and a hall may well do all of it in the round's
# first minute. 6,000 a minute lets such a hall vote at once while still capping one
# address at 100 actions a second.
PARTICIPANT_LIMIT, PARTICIPANT_WINDOW = 60, 60
ADDRESS_LIMIT, ADDRESS_WINDOW = 6000, 60


@dataclass(frozen=True)
class RoundBallotState:
    """A participant's dots in a round after a vote or withdrawal."""

    used: int
    budget: int

    @property
    def remaining(self) -> int:
        return max(self.budget - self.used, 0)


def dots_message(state: RoundBallotState) -> str:
    """The remaining dots as a sentence: "2 of 3 dots left"."""
    return _("%(left)d of %(budget)d dots left", left=state.remaining, budget=state.budget)


# --- which round runs ---------------------------------------------------------------------


def _open_at(t: datetime):
    """The SQL condition of ``EventRound.is_open(t)``."""
    at = literal(t, UTCDateTime)
    return and_(
        EventRound.starts_at <= at,
        EventRound.ends_at > at,
        or_(EventRound.stopped_at.is_(None), EventRound.stopped_at > at),
    )


def current_round(event: Event) -> EventRound | None:
    """The round of ``event`` open now, or None (by the clock: an ended round is closed).

    Closing the event ends its voting too: a closed event has no running round.
    """
    if not event.is_open:
        return None
    return db.session.scalar(
        select(EventRound)
        .where(EventRound.event_id == event.id, _open_at(now()))
        .order_by(EventRound.number.desc())
        .limit(1)
    )


def closed_rounds(event: Event) -> list[EventRound]:
    """The rounds of ``event`` that are over, newest first."""
    t = now()
    rounds = db.session.scalars(
        select(EventRound)
        .where(EventRound.event_id == event.id, EventRound.starts_at <= literal(t, UTCDateTime))
        .order_by(EventRound.number.desc())
    )
    return [r for r in rounds if not r.is_open(t)]


def round_of(event: Event, round_id: int) -> EventRound | None:
    """The round ``round_id`` if it belongs to ``event`` (another event's round: None)."""
    found = db.session.get(EventRound, round_id)
    return found if found is not None and found.event_id == event.id else None


# --- starting and stopping (staff) --------------------------------------------------------


def start_round(actor, event: Event, minutes: int, budget: int, scope: str) -> EventRound:
    """Start the next round of an open event now, for ``minutes``, with ``budget`` dots.

    Refused (409) on an event that is not open or while another round runs. Two staff
    starting at the same moment both get the same next number; the unique
    (event_id, number) constraint lets only one of them in.
    """
    if not (MINUTES_MIN <= minutes <= MINUTES_MAX and BUDGET_MIN <= budget <= BUDGET_MAX):
        raise UserError(_("Please choose a duration and a number of dots within the limits."))
    if scope not in ROUND_SCOPES:
        raise UserError(_("Please choose which ideas the round is about."), field="scope")
    event_id, challenge_id = event.id, event.challenge_id
    # Locking the event's row makes starts (and a close of the event) take turns.
    status = db.session.scalar(select(Event.status).where(Event.id == event_id).with_for_update())
    if status != "open":
        db.session.rollback()
        raise UserError(_("Rounds can only be started while the event is open."), status=409)
    if current_round(event) is not None:
        db.session.rollback()
        raise UserError(_("A round is already running. Stop it first."), status=409)
    number = (
        db.session.scalar(
            select(func.max(EventRound.number)).where(EventRound.event_id == event_id)
        )
        or 0
    ) + 1
    t = now()
    voting_round = EventRound(
        event_id=event_id,
        number=number,
        scope=scope,
        budget=budget,
        starts_at=t,
        ends_at=t + timedelta(minutes=minutes),
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(voting_round)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise UserError(_("A round is already running. Stop it first."), status=409) from None
    record_action(
        actor, "event_round.start", "event", event_id,
        challenge=challenge_id, round=voting_round.id, number=number,
        minutes=minutes, budget=budget, scope=scope,
    )  # fmt: skip
    db.session.commit()
    live.announce(event_id, "round")
    return voting_round


def stop_round(actor, event: Event, voting_round: EventRound) -> None:
    """End a running round early; 409 if it is over already.

    It waits for the votes in flight (they hold a share lock on the round), then one
    conditional UPDATE: only one of two stops wins.
    """
    event_id, round_id, number = event.id, voting_round.id, voting_round.number
    # The clock is read once the votes in flight have committed (they hold share locks on
    # the round): every dot already counted arrived before the stop's moment.
    db.session.execute(
        select(EventRound.id).where(EventRound.id == round_id).with_for_update(key_share=True)
    ).all()
    t = now()
    stopped = db.session.scalar(
        update(EventRound)
        .where(EventRound.id == round_id, _open_at(t))
        .values(stopped_at=t)
        .returning(EventRound.id)
        .execution_options(synchronize_session=False)
    )
    if stopped is None:
        db.session.rollback()
        raise UserError(_("This round has already ended."), status=409)
    record_action(
        actor, "event_round.stop", "event", event_id,
        challenge=event.challenge_id, round=round_id, number=number,
    )  # fmt: skip
    db.session.commit()
    live.announce(event_id, "round")


# --- voting from a phone ------------------------------------------------------------------


def _in_scope(voting_round: EventRound, event: Event):
    """The SQL condition for the ideas a round votes on.

    "event": the approved ideas of this event's room; "challenge": those plus the
    published ideas of the challenge.
    """
    room = and_(Idea.event_id == event.id, Idea.status == "room")
    if voting_round.scope == "challenge":
        return and_(Idea.challenge_id == event.challenge_id, or_(room, Idea.status == "published"))
    return and_(Idea.challenge_id == event.challenge_id, room)


def check_abuse_limits(participant: EventParticipant, address: str) -> None:
    """429 with Retry-After when a participant or an address votes implausibly fast."""
    wait = ratelimit.count_and_check(
        [
            (f"round:participant:{participant.id}", PARTICIPANT_LIMIT, PARTICIPANT_WINDOW),
            (f"round:addr:{address}", ADDRESS_LIMIT, ADDRESS_WINDOW),
        ]
    )
    if wait:
        raise ratelimit.too_many(
            wait, _("You are voting very fast. Please wait %(seconds)d seconds.", seconds=wait)
        )


def _hold_open_round(round_id: int, t: datetime) -> EventRound | None:
    """The round if it is open at ``t``, with a share lock until commit (see the module doc).

    ``t`` is when the vote arrived: a vote counts exactly when it arrived before the round
    closed, however long it then waited for a lock.
    """
    open_events = select(Event.id).where(Event.status == "open")
    return db.session.scalar(
        select(EventRound)
        .where(EventRound.id == round_id, EventRound.event_id.in_(open_events), _open_at(t))
        .with_for_update(read=True, of=EventRound)
    )


def _closed_refusal() -> UserError:
    return UserError(_("This round has ended: votes are no longer accepted."), status=409)


def _ballot_state(round_id: int, participant_id: int, budget: int) -> RoundBallotState:
    used = db.session.scalar(
        select(RoundBallot.used).where(
            RoundBallot.round_id == round_id, RoundBallot.participant_id == participant_id
        )
    )
    return RoundBallotState(used or 0, budget)


def _has_dot(round_id: int, participant_id: int, idea_id: int) -> bool:
    return (
        db.session.scalar(
            select(RoundVote.id).where(
                RoundVote.round_id == round_id,
                RoundVote.participant_id == participant_id,
                RoundVote.idea_id == idea_id,
            )
        )
        is not None
    )


def _take_dot(round_id: int, participant_id: int, budget: int):
    """One statement that creates the ballot or takes a dot from it, within the budget.

    The upsert locks the participant's ballot row and checks the budget on its latest
    version, so concurrent requests with one token queue here. RETURNING gives the new
    number of used dots, or no row when the budget is spent.
    """
    return (
        sql_dialect()
        .insert(RoundBallot)
        .values(round_id=round_id, participant_id=participant_id, used=1)
        .on_conflict_do_update(
            index_elements=[RoundBallot.round_id, RoundBallot.participant_id],
            set_={"used": RoundBallot.used + 1},
            where=RoundBallot.used < budget,
        )
        .returning(RoundBallot.used)
    )


def _idea_in_scope(event: Event, voting_round: EventRound, idea_id: int) -> bool:
    return (
        db.session.scalar(select(Idea.id).where(Idea.id == idea_id, _in_scope(voting_round, event)))
        is not None
    )


def _lock_idea(idea_id: int, *conditions) -> bool:
    """Take a share lock on the idea's row (the first lock of a vote or a withdrawal), and
    say whether it still meets ``conditions`` under that lock.

    A moderator's merge or hide locks the idea first too, then moves or gives back its
    votes: with the idea first everywhere, a vote waits for the merge and then finds the
    idea merged (PostgreSQL re-reads the row after the wait), instead of landing on it or
    deadlocking over the ballot and vote rows.
    """
    return (
        db.session.scalar(
            select(Idea.id)
            .where(Idea.id == idea_id, *conditions)
            .with_for_update(read=True, of=Idea)
        )
        is not None
    )


def cast_round_vote(
    participant: EventParticipant, event: Event, voting_round: EventRound, idea_id: int
) -> RoundBallotState:
    """Give one dot to an idea of the round. Giving it again changes nothing (idempotent).

    404 for an idea outside the round's scope, 409 when the round is over or the dots
    are spent. After the commit the wall hears of the new tally.
    """
    t = now()
    event_id, round_id, participant_id = event.id, voting_round.id, participant.id
    budget = voting_round.budget
    if not _lock_idea(idea_id, _in_scope(voting_round, event)):
        db.session.rollback()
        raise UserError(_("This idea is not part of this round."), status=404)
    if _hold_open_round(round_id, t) is None:
        db.session.rollback()
        raise _closed_refusal()
    used = db.session.scalar(_take_dot(round_id, participant_id, budget))
    if used is None:
        db.session.rollback()
        if _has_dot(round_id, participant_id, idea_id):
            return _ballot_state(round_id, participant_id, budget)
        raise UserError(
            ngettext(
                "You have used your %(num)d dot. Take it back from another idea to vote for this one.",
                "You have used all %(num)d of your dots. Take one back from another idea to vote for this one.",
                budget,
            ),
            status=409,
        )  # fmt: skip
    added = db.session.scalar(
        sql_dialect()
        .insert(RoundVote)
        .values(round_id=round_id, participant_id=participant_id, idea_id=idea_id, created_at=t)
        .on_conflict_do_nothing(
            index_elements=[RoundVote.round_id, RoundVote.participant_id, RoundVote.idea_id]
        )
        .returning(RoundVote.id)
    )
    if added is None:
        # Already given (a double tap, a second tab or phone): undo the dot, change nothing.
        db.session.rollback()
        return _ballot_state(round_id, participant_id, budget)
    db.session.commit()
    live.announce(event_id, "tally")
    return RoundBallotState(used, budget)


def give_dot_back(round_id: int, participant_id: int):
    """The UPDATE that gives a participant one dot of a round back (RETURNING how many are
    used now, no row when none was used): a withdrawal, and a merge or hide that removes a
    vote."""
    return (
        update(RoundBallot)
        .where(
            RoundBallot.round_id == round_id,
            RoundBallot.participant_id == participant_id,
            RoundBallot.used > 0,
        )
        .values(used=RoundBallot.used - 1)
        .returning(RoundBallot.used)
        .execution_options(synchronize_session=False)
    )


def withdraw_round_vote(
    participant: EventParticipant, event: Event, voting_round: EventRound, idea_id: int
) -> RoundBallotState:
    """Take a dot back while the round runs; it can be given again.

    The idea, the ballot, then the vote row, as in ``cast_round_vote``: in another order a
    withdrawal and a vote with the same token, or a merge, could deadlock on PostgreSQL.
    """
    t = now()
    event_id, round_id, participant_id = event.id, voting_round.id, participant.id
    budget = voting_round.budget
    _lock_idea(idea_id)
    if _hold_open_round(round_id, t) is None:
        db.session.rollback()
        raise _closed_refusal()
    used = db.session.scalar(give_dot_back(round_id, participant_id))
    removed = (
        used is not None
        and db.session.execute(
            delete(RoundVote)
            .where(
                RoundVote.round_id == round_id,
                RoundVote.participant_id == participant_id,
                RoundVote.idea_id == idea_id,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    )
    if not removed:
        db.session.rollback()
        if not _idea_in_scope(event, voting_round, idea_id):
            raise UserError(_("This idea is not part of this round."), status=404)
        raise UserError(_("You have not given a dot to this idea."), status=409)
    db.session.commit()
    live.announce(event_id, "tally")
    return RoundBallotState(used, budget)


# --- results ------------------------------------------------------------------------------


# Ideas whose dots are not shown: a moderator hid them after the round (a hide during the
# round gives the dots back), or they never were public.
NOT_SHOWN = ("hidden", "withdrawn", "draft", "queued")


def round_tally(voting_round: EventRound) -> list[tuple[Idea, int]]:
    """(idea, dots) for every shown idea with at least one dot in the round, counted from
    the rows: most dots first, ties by title (then id, so the order is always the same)."""
    dots = func.count(RoundVote.id).label("dots")
    rows = db.session.execute(
        select(Idea, dots)
        .join(RoundVote, RoundVote.idea_id == Idea.id)
        .where(RoundVote.round_id == voting_round.id, Idea.status.notin_(NOT_SHOWN))
        .group_by(Idea.id)
        .order_by(dots.desc(), Idea.title, Idea.id)
    ).all()
    return [(idea, int(count)) for idea, count in rows]


def round_ideas(event: Event, voting_round: EventRound) -> list[Idea]:
    """The ideas a round votes on, by title."""
    return list(
        db.session.scalars(
            select(Idea).where(_in_scope(voting_round, event)).order_by(Idea.title, Idea.id)
        )
    )


# --- what the pages show -----------------------------------------------------------------


def _ends_text(voting_round: EventRound) -> str:
    return format_time(voting_round.closes_at, "HH:mm")


def _minutes_left(voting_round: EventRound) -> int:
    """Whole minutes left, rounded up: "1 minute" until the very last second."""
    seconds = (voting_round.closes_at - now()).total_seconds()
    return max(int(-(-seconds // 60)), 0)


def _results(event: Event) -> list[dict]:
    return [{"round": r, "tally": round_tally(r)} for r in closed_rounds(event)]


def round_panel(event: Event, participant: EventParticipant | None) -> dict:
    """What the phone page's round section shows (``events/_room_round.html``): the open
    round with its ideas, the participant's dots and a button per idea, and the results of
    the rounds that are over."""
    running = current_round(event)
    panel = {"event": event, "round": running, "results": _results(event)}
    if running is None:
        return panel
    voted = set()
    state = RoundBallotState(0, running.budget)
    if participant is not None:
        voted = set(
            db.session.scalars(
                select(RoundVote.idea_id).where(
                    RoundVote.round_id == running.id, RoundVote.participant_id == participant.id
                )
            )
        )
        state = _ballot_state(running.id, participant.id, running.budget)
    panel.update(
        ideas=round_ideas(event, running),
        voted=voted,
        state=state,
        dots=dots_message(state),
        ends_at=_ends_text(running),
        minutes_left=_minutes_left(running),
        participant=participant,
    )
    return panel


def staff_rounds_panel(event: Event) -> dict:
    """What the staff event page's rounds section shows (``events/_staff_rounds.html``):
    the start form, the running round with its stop button and live tally, the results."""
    from .round_forms import StartRoundForm  # forms need a request; the panel is per page

    running = current_round(event)
    return {
        "event": event,
        "round": running,
        "form": StartRoundForm(formdata=None),
        "can_start": event.is_open and running is None,
        "tally": round_tally(running) if running else [],
        "ends_at": _ends_text(running) if running else "",
        "minutes_left": _minutes_left(running) if running else 0,
        "results": _results(event),
    }
