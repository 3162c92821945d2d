"""Staff pages of voting: paper votes collected at events, entered per idea.

Registered on the voting blueprint (``views.bp``); views.py imports this module last.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import User
from ..challenges.models import Challenge
from ..errors import UserError
from ..extensions import db
from ..i18n import _
from ..ideas.models import Idea
from ..permissions import role_required
from . import services
from .views import bp


def _render(challenge: Challenge, status: int = 200, failed: dict | None = None):
    entries = services.list_paper_entries(challenge)
    people = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_({e.entered_by_id for e in entries if e.entered_by_id}))
        )
    }
    lines = services.paper_vote_board(challenge)
    return render_template(
        "voting/staff_paper_votes.html",
        challenge=challenge,
        lines=lines,
        entries=entries,
        people=people,
        idea_titles={line.idea.id: line.idea.title for line in lines},
        failed=failed or {},
        locked=services.paper_votes_lock(challenge),
    ), status


@bp.get("/staff/challenges/<int:challenge_id>/paper-votes")
@role_required("staff")
def staff_paper_votes(challenge_id: int):
    challenge = db.session.get(Challenge, challenge_id) or abort(404)
    return _render(challenge)


@bp.post("/staff/challenges/<int:challenge_id>/paper-votes")
@role_required("staff")
def staff_enter_paper_votes(challenge_id: int):
    challenge = db.session.get(Challenge, challenge_id) or abort(404)
    raw_idea = request.form.get("idea", "")
    if not raw_idea.isdigit() or len(raw_idea) > 9:
        abort(400, description=_("Please choose exactly one idea."))
    idea = db.session.get(Idea, int(raw_idea))
    if idea is None or idea.challenge_id != challenge.id:
        abort(404)
    raw_count = request.form.get("count", "").strip()
    event_name = request.form.get("event_name", "")
    note = request.form.get("note", "")
    failed = {"idea": idea.id, "count": raw_count[:12], "event_name": event_name[:120]}
    failed["note"] = note[:1000]
    try:
        # Digits only (with an optional minus): int() would also take "1_000" or " ١٢ ".
        digits = raw_count[1:] if raw_count.startswith("-") else raw_count
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 9:
            raise UserError(
                _(
                    "Please enter a whole number other than 0, at most %(max)d.",
                    max=services.PAPER_MAX,
                ),
                field="count",
            )
        entry = services.enter_paper_votes(current_user, idea, int(raw_count), event_name, note)
    except UserError as error:
        failed["error"], failed["field"] = error.message, error.field
        return _render(challenge, error.status, failed)
    flash(
        _(
            '%(count)d paper votes entered for "%(title)s".',
            count=entry.count,
            title=idea.title,
        ),
        "success",
    )
    return redirect(
        url_for("voting.staff_paper_votes", challenge_id=challenge.id) + f"#idea-{idea.id}"
    )
