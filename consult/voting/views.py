"""Voting: plain form POSTs that work without JavaScript; with it, JSON for in-place updates."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from ..challenges.services import get_challenge
from ..errors import UserError
from ..extensions import db
from ..i18n import _
from ..ideas.models import Idea
from ..permissions import check_role, login_required
from ..ratelimit import client_address
from ..security import is_safe_next, safe_next
from . import services

bp = Blueprint("voting", __name__)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _idea_id() -> int:
    """Exactly one idea id, a plain positive number that fits a database integer."""
    values = request.form.getlist("idea")
    value = values[0] if len(values) == 1 else ""
    # isdigit() accepts other scripts' digits ("１"), which int() would read: ASCII only.
    # The length comes first: int() refuses strings of over 4,300 digits with an error.
    if not (value.isascii() and value.isdigit() and len(value) <= 10) or not (
        0 < int(value) <= 2147483647
    ):
        abort(400, description=_("Please choose exactly one idea."))
    return int(values[0])


budget_message = services.budget_message

# Flash categories of a vote's answer shown at the idea's button, not at the top of the page:
# "vote:<outcome>:<idea id>" with outcome "done" or "refused".
NOTE_PREFIX = "vote:"


def _back_to_button(idea_id: int) -> str | None:
    """Where a plain form post goes back to, if it came from a vote button that shows its
    answer (its ``next`` ends in ``#vote-<id>``): the person lands at the button they
    tapped, on a phone maybe 800 px below the top of the page. Otherwise None."""
    target = request.form.get("next")
    if is_safe_next(target) and urlsplit(target).fragment == f"vote-{idea_id}":
        return target
    return None


def _tell(message: str, idea_id: int, outcome: str) -> str | None:
    """Flash ``message`` for the button of ``idea_id`` if the form came from one; returns
    where to go back to (None: the form did not come from a button that shows answers)."""
    back = _back_to_button(idea_id)
    if back is not None:
        flash(message, f"{NOTE_PREFIX}{outcome}:{idea_id}")
    return back


def vote_notes() -> dict[int, dict]:
    """The answers to votes made without JavaScript, by idea id, for their buttons."""
    notes: dict[int, dict] = {}
    for category, message in get_flashed_messages(with_categories=True):
        prefix, _sep, rest = category.partition(NOTE_PREFIX)
        outcome, _sep, idea = rest.partition(":")
        if not prefix and idea.isdigit():
            notes.setdefault(int(idea), {"message": message, "refused": outcome == "refused"})
    return notes


@bp.app_context_processor
def _vote_notes():
    def vote_note(idea_id: int) -> dict | None:
        """The answer to a vote on this idea made without JavaScript, for its button."""
        return vote_notes().get(idea_id)

    return {"vote_note": vote_note}


def _answer(
    counts: tuple[bool, bool, int],
    idea_id: int,
    state: services.BallotState,
    voted: bool,
    message: str,
):
    """``counts``: (hidden while voting, offline votes counted, challenge id), read before
    the commit."""
    counts_hidden, paper_counted, challenge_id = counts
    budget = budget_message(state)
    if _wants_json():
        answer = {
            "voted": voted,
            "message": message,
            "budget": budget,
            "remaining": state.remaining,
        }
        # A challenge that hides counts while voting never reveals them, not even here.
        if not counts_hidden:
            online = state.count
            if online is None:  # a repeated vote: nothing changed, so nothing was returned
                online = db.session.scalar(select(Idea.vote_count).where(Idea.id == idea_id))
            if not paper_counted:
                paper, event = 0, 0
            elif state.offline is not None:  # read by the vote's own statement
                paper, event = state.offline
            else:
                paper, event = services.offline_votes_of(idea_id, challenge_id)
            tally = services.VoteTally(online, paper, paper_counted, event)
            # The counted total, as the page shows it: online plus counted offline votes.
            answer["count"] = tally.total
            answer["count_label"] = tally.label
            answer["count_detail"] = tally.detail
        return jsonify(answer)
    # The page we go back to shows the budget once, in its summary: the message alone here.
    back = _tell(message, idea_id, "done")
    if back is None:
        flash(message, "success")
    default = url_for("ideas.show", idea_id=idea_id)
    return redirect(back or safe_next(request.form.get("next"), default))


def _refusal(error: UserError, idea_id: int):
    if _wants_json():
        return jsonify(message=error.message), error.status
    # From a vote button: back to it with the reason (e.g. the budget is used up), where
    # the person tapped, instead of an error page that loses their place in the list.
    back = _tell(error.message, idea_id, "refused")
    if back is not None:
        return redirect(back, 303)
    abort(error.status, description=error.message)


def _vote_action(challenge_id: int, cast: bool):
    challenge = get_challenge(challenge_id) or abort(404)
    idea_id = _idea_id()
    if not current_user.is_authenticated:
        # Tapping vote while logged out: log in, then come back to the idea.
        target = url_for("accounts.login", next=url_for("ideas.show", idea_id=idea_id))
        if _wants_json():
            return jsonify(message=_("Please log in to vote."), login=target), 401
        return redirect(target)
    # The CSRF token was already checked for every POST (consult.extensions.csrf).
    check_role("citizen")
    services.check_abuse_limits(current_user, client_address())
    # Read before the vote commits: afterwards the challenge would be loaded again.
    counts = (
        challenge.counts_hidden(),
        bool(challenge.count_paper_votes),
        challenge.id,
    )
    # Translated before the commit: the first translation picks the locale from the user's
    # setting, and after the commit that would load the user and their roles again.
    done = _("Your vote has been counted.") if cast else _("Your vote has been withdrawn.")
    try:
        if cast:
            state = services.cast_vote(current_user, challenge, idea_id, with_offline=counts[1])
            return _answer(counts, idea_id, state, True, done)
        state = services.withdraw_vote(current_user, challenge, idea_id, with_offline=counts[1])
        return _answer(counts, idea_id, state, False, done)
    except UserError as error:
        return _refusal(error, idea_id)


@bp.post("/challenges/<int:challenge_id>/vote")
def vote(challenge_id: int):
    return _vote_action(challenge_id, cast=True)


@bp.post("/challenges/<int:challenge_id>/unvote")
def unvote(challenge_id: int):
    return _vote_action(challenge_id, cast=False)


@bp.get("/my/votes")
@login_required
def my_votes():
    return render_template("voting/mine.html", groups=services.my_votes(current_user))


from . import staff_views  # noqa: E402, F401  (registers the staff pages on bp)
