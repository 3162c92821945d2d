"""Ideas from the room: posting from a phone, the live moderation queue, merging.

Room ideas are ``Idea`` rows of the event's challenge with ``event_id`` and
``participant_id`` set. Posted ideas wait as ``queued`` (pre-moderation, the default for
events) or go straight to the wall as ``room`` (post-moderation). The moderator in the
room approves (``room``), hides with a reason (``hidden``) or merges a duplicate into an
approved room idea or a published idea of the challenge (``merged``); a merged idea's
round votes move to its target and its author keeps the credit (``credited_names``).

Every decision is one conditional change of the idea's state, so of two moderators
acting at once exactly one wins; the other hears "already moderated" (409).
"""

from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update

from .. import ratelimit
from ..audit.services import record_action
from ..challenges.models import Category
from ..clock import now
from ..districts import District
from ..errors import FieldErrors, UserError
from ..extensions import db
from ..i18n import _
from ..ideas.models import TITLE_MAX, Idea
from ..ideas.services import form_id
from ..moderation.services import HIDE_REASONS, NOTE_MAX, claim_state
from ..text import checked_text, clean_text, has_invisible_characters, render_markdown
from . import live
from .models import Event, EventParticipant, EventRound, RoundVote
from .rounds import give_dot_back

# A phone's idea is short: it is read out in the room and on the projector.
TEXT_MAX = 1000
# Per participant: generous for a person typing on a phone, a wall for a script. Per
# address: a whole hall may sit behind the venue's one NAT address.
POST_LIMITS = {"participant": (10, 600), "address": (600, 600)}
# Queued ideas shown to the moderator at once (oldest first), and ideas on the phone.
QUEUE_LIMIT = 100
ROOM_LIST_LIMIT = 200
APPROVABLE = ("queued",)
# When an idea reached the wall: approved, or posted when the event is post-moderated.
_ON_WALL_SINCE = func.coalesce(Idea.moderated_at, Idea.submitted_at, Idea.created_at)
HIDEABLE = ("queued", "room")
MERGEABLE = ("queued", "room")


# --- credit ------------------------------------------------------------------------------


def _own_credit(idea: Idea, participants: dict[int, EventParticipant]) -> str:
    """The name one idea is credited to, without the ideas merged into it."""
    if idea.participant_id is not None:
        participant = participants.get(idea.participant_id)
        if participant is not None and participant.left_at is None and participant.display_name:
            return participant.display_name
        # Leaving anonymises: the contribution stays, the name goes.
        return _("former participant")
    if idea.author is not None and idea.author.is_active:
        return idea.author.pseudonym
    return _("anonymous")


def credited_names_for(ideas: list[Idea]) -> dict[int, list[str]]:
    """For each idea, the names it is credited to: its own author first, then the authors
    of the ideas merged into it (each name once), in a few queries for a whole list."""
    if not ideas:
        return {}
    ids = [idea.id for idea in ideas]
    merged = db.session.scalars(
        select(Idea).where(Idea.merged_into_id.in_(ids), Idea.status == "merged").order_by(Idea.id)
    ).all()
    participant_ids = {i.participant_id for i in [*ideas, *merged] if i.participant_id}
    participants = (
        {
            p.id: p
            for p in db.session.scalars(
                select(EventParticipant).where(EventParticipant.id.in_(participant_ids))
            )
        }
        if participant_ids
        else {}
    )
    names: dict[int, list[str]] = {idea.id: [_own_credit(idea, participants)] for idea in ideas}
    for duplicate in merged:
        credit = _own_credit(duplicate, participants)
        if credit not in names[duplicate.merged_into_id]:
            names[duplicate.merged_into_id].append(credit)
    return names


def credited_names(idea: Idea) -> list[str]:
    """The names ``idea`` is credited to: a merged idea keeps both authors' credit.

    Participants who left show as "former participant"; ideas without any author as
    "anonymous" (both in the current language). Used by the phone page, the wall and the
    import into the challenge.
    """
    return credited_names_for([idea])[idea.id]


# --- posting from a phone -------------------------------------------------------------------


def _check_post_limit(participant: EventParticipant) -> None:
    limit, window = POST_LIMITS["participant"]
    address_limit, address_window = POST_LIMITS["address"]
    wait = ratelimit.count_and_check(
        [
            (f"room_idea:participant:{participant.id}", limit, window),
            (f"room_idea:address:{ratelimit.client_address()}", address_limit, address_window),
        ]
    )
    if wait:
        raise ratelimit.too_many(
            wait,
            _("You are writing very fast. Please wait %(minutes)d minutes.",
              minutes=ratelimit.wait_minutes(wait)),
        )  # fmt: skip


def _clean_room_idea(event: Event, data: dict) -> dict:
    """The fields of a room idea, checked; all refusals at once, tied to their fields."""
    errors: dict[str, str] = {}
    values: dict = {}
    for name, check in (
        ("title", lambda v: checked_text(v, "title", TITLE_MAX, line=True, required=True)),
        ("text", lambda v: checked_text(v, "text", TEXT_MAX)),
    ):
        try:
            values[name] = check(data.get(name))
        except UserError as error:
            errors[name] = error.message
    category_id = form_id(data.get("category_id"))
    if category_id is not None:
        category = db.session.get(Category, category_id) if category_id else None
        if category is None or category.challenge_id != event.challenge_id:
            errors["category_id"] = _("Please choose one of this challenge's categories.")
    district_id = form_id(data.get("district_id"))
    if district_id is not None and (
        not district_id or db.session.get(District, district_id) is None
    ):
        errors["district_id"] = _("Please choose a district from the list.")
    if errors:
        raise FieldErrors(errors)
    values["category_id"], values["district_id"] = category_id, district_id
    return values


def require_event_open(event: Event) -> None:
    """Refuse (409) posting to an event that is not running."""
    if not event.is_open:
        raise UserError(
            _("This event is not running, so no ideas can be posted to it now."), status=409
        )


def post_room_idea(event: Event, participant: EventParticipant, data: dict) -> Idea:
    """A participant posts a short idea from their phone.

    It waits for the room's moderator (pre-moderation, the events' default) or goes to
    the wall at once (post-moderation). Checked before anything is counted or stored:
    the event must be open and the participant still in it; then the abuse limits.
    """
    require_event_open(event)
    if participant.event_id != event.id or participant.left_at is not None:
        raise UserError(
            _("Please join this event first: enter its code on the join page."), status=403
        )
    values = _clean_room_idea(event, data)
    _check_post_limit(participant)
    t = now()
    status = "room" if event.moderation == "post" else "queued"
    idea = Idea(
        challenge_id=event.challenge_id,
        event_id=event.id,
        participant_id=participant.id,
        author_id=participant.user_id,
        title=values["title"],
        body=values["text"],
        body_html=render_markdown(values["text"]),
        category_id=values["category_id"],
        district_id=values["district_id"],
        language=participant.language,
        origin="event",
        status=status,
        submitted_at=t,
    )
    db.session.add(idea)
    db.session.commit()
    live.announce(event.id, "ideas" if status == "room" else "queue")
    return idea


# --- what the phone shows ---------------------------------------------------------------


def approved_room_ideas(event: Event, limit: int = ROOM_LIST_LIMIT) -> list[Idea]:
    """The event's approved ideas (on the wall, or already taken into the challenge),
    newest first."""
    return list(
        db.session.scalars(
            select(Idea)
            .where(Idea.event_id == event.id, Idea.status.in_(("room", "published")))
            .order_by(_ON_WALL_SINCE.desc(), Idea.id.desc())
            .limit(limit)
        )
    )


def room_ideas_panel(event, participant, form=None) -> dict:
    """What the phone page's ideas section shows (``events/_room_ideas.html``): the form
    to post (``form`` carries a refused one back), the approved ideas newest first with
    their credited names, and the participant's own ideas still waiting or hidden."""
    from .room_idea_forms import RoomIdeaForm

    ideas = approved_room_ideas(event)
    mine_waiting, mine_hidden = [], []
    if participant is not None:
        own = db.session.scalars(
            select(Idea)
            .where(
                Idea.event_id == event.id,
                Idea.participant_id == participant.id,
                Idea.status.in_(("queued", "hidden")),
            )
            .order_by(Idea.id.desc())
        ).all()
        mine_waiting = [i for i in own if i.status == "queued"]
        mine_hidden = [i for i in own if i.status == "hidden"]
    return {
        "event": event,
        "participant": participant,
        "can_post": event.is_open and participant is not None,
        "form": form if form is not None else RoomIdeaForm(event, formdata=None),
        "ideas": ideas,
        "credits": credited_names_for(ideas),
        "mine_waiting": mine_waiting,
        "mine_hidden": mine_hidden,
    }


# --- the moderation queue ------------------------------------------------------------------


@dataclass
class RoomQueue:
    queued: list[Idea]
    queued_total: int
    approved: list[Idea]
    # Possible merge targets: approved room ideas of the event, published ideas of the
    # challenge (as (id, title) pairs, in that order).
    targets: list[tuple[int, str]] = field(default_factory=list)
    credits: dict[int, list[str]] = field(default_factory=dict)


def room_queue(event: Event) -> RoomQueue:
    """The event's queued ideas oldest first, its approved ideas, and the merge targets."""
    waiting = select(Idea).where(Idea.event_id == event.id, Idea.status == "queued")
    queued = list(
        db.session.scalars(waiting.order_by(Idea.submitted_at, Idea.id).limit(QUEUE_LIMIT))
    )
    total = len(queued)
    if total == QUEUE_LIMIT:
        total = db.session.scalar(
            select(func.count())
            .select_from(Idea)
            .where(Idea.event_id == event.id, Idea.status == "queued")
        )
    approved = approved_room_ideas(event)
    return RoomQueue(
        queued=queued,
        queued_total=total,
        approved=approved,
        targets=merge_targets(event),
        credits=credited_names_for([*queued, *approved]),
    )


def merge_targets(event: Event) -> list[tuple[int, str]]:
    """(id, title) of the ideas a room idea may be merged into: the event's approved
    ideas newest first, then the challenge's published ideas by title."""
    room = db.session.execute(
        select(Idea.id, Idea.title)
        .where(Idea.event_id == event.id, Idea.status == "room")
        .order_by(_ON_WALL_SINCE.desc(), Idea.id.desc())
    ).all()
    published = db.session.execute(
        select(Idea.id, Idea.title)
        .where(Idea.challenge_id == event.challenge_id, Idea.status == "published")
        .order_by(Idea.title, Idea.id)
    ).all()
    return [(row.id, row.title) for row in [*room, *published]]


def get_event_idea(event: Event, idea_id: int) -> Idea | None:
    """An idea posted in ``event``; None for any other id (the view answers 404)."""
    if not 0 < idea_id < 2**31:
        return None
    return db.session.scalar(select(Idea).where(Idea.id == idea_id, Idea.event_id == event.id))


def _already_moderated(idea: Idea) -> UserError:
    db.session.rollback()
    db.session.refresh(idea)
    messages = {
        "room": _("This idea has already been approved."),
        "hidden": _("This idea has already been hidden."),
        "merged": _("This idea has already been merged into another idea."),
        "published": _("This idea has already been taken into the challenge."),
    }
    return UserError(
        messages.get(idea.status, _("This idea has already been moderated.")), status=409
    )


def _claim(idea: Idea, from_states: tuple[str, ...], **values) -> bool:
    """Change the idea only while it is still in ``from_states``: one moderator wins."""
    return claim_state(Idea, idea, from_states, **values)


def approve_room_idea(moderator, event: Event, idea: Idea) -> None:
    """Put a queued idea on the wall; audited; walls and moderators are told."""
    if idea.event_id != event.id:
        raise UserError(_("This idea does not belong to this event."), status=404)
    t = now()
    if not _claim(
        idea, APPROVABLE,
        status="room", moderated_by_id=moderator.id, moderated_at=t,
        moderation_reason="", moderation_note="",
    ):  # fmt: skip
        raise _already_moderated(idea)
    record_action(moderator, "event_idea.approve", "idea", idea.id, event=event.id)
    db.session.commit()
    live.announce(event.id, "ideas")
    live.announce(event.id, "queue")


def _release_round_votes(event: Event, idea_id: int) -> int:
    """Give the dots on ``idea_id`` in the event's running rounds back to their voters.

    Only while a round runs: a closed round's result stays as it was counted.
    """
    t = now()
    rounds = db.session.scalars(select(EventRound).where(EventRound.event_id == event.id)).all()
    released = 0
    for round_ in rounds:
        if not round_.is_open(t):
            continue
        votes = db.session.scalars(
            select(RoundVote).where(RoundVote.round_id == round_.id, RoundVote.idea_id == idea_id)
        ).all()
        for vote in votes:
            _give_slot_back(round_.id, vote.participant_id)
            db.session.delete(vote)
            released += 1
    return released


def _give_slot_back(round_id: int, participant_id: int) -> None:
    db.session.execute(give_dot_back(round_id, participant_id))


def _clean_note(note) -> str:
    text = clean_text(note if isinstance(note, str) else "")
    if len(text) > NOTE_MAX:
        raise UserError(_("Please use at most %(max)d characters.", max=NOTE_MAX), field="note")
    if has_invisible_characters(text):
        raise UserError(
            _("Please remove invisible control characters from this text."), field="note"
        )
    return text


def _seen_states(seen: str | None, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """The states a decision may start from: the one the moderator saw on the page, so
    that a colleague's decision a moment earlier is not silently overruled."""
    if seen is None:
        return allowed
    return (seen,) if seen in allowed else ()


def hide_room_idea(
    moderator, event: Event, idea: Idea, reason: str, note: str = "", seen: str | None = None
) -> None:
    """Hide a queued or approved room idea with a reason its author sees on the phone.

    ``seen`` is the state the moderator's page showed: the idea is hidden only if it is
    still in it. Dots on it in a running round go back to their voters. Audited; walls
    are told.
    """
    if reason not in HIDE_REASONS:
        raise UserError(_("Please choose a reason from the list."), field="reason")
    note = _clean_note(note)
    if idea.event_id != event.id:
        raise UserError(_("This idea does not belong to this event."), status=404)
    if not _claim(
        idea, _seen_states(seen, HIDEABLE),
        status="hidden", moderation_reason=reason, moderation_note=note,
        moderated_by_id=moderator.id, moderated_at=now(),
    ):  # fmt: skip
        raise _already_moderated(idea)
    # _claim holds the idea's row lock until the commit, so no dot lands on it meanwhile.
    released = _release_round_votes(event, idea.id)
    details = {"event": event.id, "reason": reason}
    if released:
        details["votes_released"] = released
    record_action(moderator, "event_idea.hide", "idea", idea.id, **details)
    db.session.commit()
    live.announce(event.id, "ideas")
    live.announce(event.id, "queue")
    if released:
        live.announce(event.id, "tally")


def _target_error(event: Event, idea: Idea, target: Idea | None) -> UserError | None:
    """Why ``target`` cannot take ``idea`` in, or None when it can (rows locked)."""
    if target is None or target.challenge_id != event.challenge_id:
        return UserError(
            _("The idea to merge into is not part of this event's challenge."),
            field="target",
            status=404,
        )
    if target.id == idea.id:
        return UserError(_("An idea cannot be merged into itself."), field="target", status=409)
    room_idea = target.status == "room" and target.event_id == event.id
    if not room_idea and target.status != "published":
        # Merged and hidden ideas cannot take others in: no chains, no cycles, no votes
        # moved onto an idea nobody can vote for.
        return UserError(
            _(
                "Ideas can only be merged into an approved idea of this event or a "
                "published idea of the challenge."
            ),
            field="target",
            status=409,
        )
    return None


def move_round_votes(source_id: int, target_id: int) -> tuple[int, int]:
    """Move the dots on ``source_id`` to ``target_id``, round by round.

    Where the same participant already has a dot on the target in that round, the
    duplicate is deleted and its slot given back: nobody votes twice for one idea and
    no ballot goes over its budget. Returns (moved, given back).
    """
    votes = db.session.scalars(
        select(RoundVote).where(RoundVote.idea_id == source_id).order_by(RoundVote.id)
    ).all()
    moved = returned = 0
    for vote in votes:
        duplicate = db.session.scalar(
            select(RoundVote.id).where(
                RoundVote.round_id == vote.round_id,
                RoundVote.participant_id == vote.participant_id,
                RoundVote.idea_id == target_id,
            )
        )
        if duplicate is not None:
            _give_slot_back(vote.round_id, vote.participant_id)
            db.session.execute(delete(RoundVote).where(RoundVote.id == vote.id))
            returned += 1
        else:
            db.session.execute(
                update(RoundVote).where(RoundVote.id == vote.id).values(idea_id=target_id)
            )
            moved += 1
    return moved, returned


def merge_room_idea(
    moderator, event: Event, idea: Idea, target_id, seen: str | None = None
) -> Idea:
    """Merge a queued or approved room idea into an approved room idea of the event or a
    published idea of the challenge, in one transaction.

    The two idea rows are locked in id order first (so two merges crossing each other
    cannot deadlock, and no vote lands on either meanwhile); then the states are checked,
    the round votes move (see ``move_round_votes``), ideas merged into this one are
    passed on to the target, and the idea becomes ``merged``. ``seen`` is the state the
    moderator's page showed (see ``hide_room_idea``). Audited; walls are told. Returns
    the target.
    """
    if idea.event_id != event.id:
        raise UserError(_("This idea does not belong to this event."), status=404)
    target_key = form_id(target_id)
    if target_key is None:
        raise UserError(_("Please choose the idea to merge into."), field="target")
    ids = sorted({idea.id, target_key})
    locked = {
        row.id: row
        for row in db.session.scalars(
            select(Idea)
            .where(Idea.id.in_(ids))
            .order_by(Idea.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    idea = locked.get(idea.id, idea)
    from_states = _seen_states(seen, MERGEABLE)
    if idea.status not in from_states:
        raise _already_moderated(idea)
    error = _target_error(event, idea, locked.get(target_key) if target_key else None)
    if error is not None:
        db.session.rollback()
        raise error
    target = locked[target_key]
    moved, returned = move_round_votes(idea.id, target.id)
    # Ideas merged into this one earlier now credit the target directly: no chains.
    db.session.execute(
        update(Idea)
        .where(Idea.merged_into_id == idea.id)
        .values(merged_into_id=target.id)
        .execution_options(synchronize_session=False)
    )
    if not _claim(
        idea, from_states,
        status="merged", merged_into_id=target.id,
        moderated_by_id=moderator.id, moderated_at=now(),
    ):  # fmt: skip
        raise _already_moderated(idea)
    record_action(
        moderator, "event_idea.merge", "idea", idea.id,
        event=event.id, idea=target.id, votes_moved=moved, votes_returned=returned,
    )  # fmt: skip
    db.session.commit()
    live.announce(event.id, "ideas")
    live.announce(event.id, "queue")
    if moved or returned:
        live.announce(event.id, "tally")
    return target
