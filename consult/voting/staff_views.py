"""Staff pages of voting: paper votes collected at events, entered a workshop sheet at a time.

Registered on the voting blueprint (``views.bp``); views.py imports this module last.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import User
from ..challenges.models import Challenge
from ..errors import FieldErrors, UserError
from ..extensions import db
from ..i18n import _, ngettext
from ..ideas.models import Idea
from ..permissions import role_required
from . import services
from .views import bp

# Typed values are shown again as sent, cut to what any valid value could need.
_KEEP = {"event_name": 120, "event_date": 10, "note": 1000}


def _render(
    challenge: Challenge,
    status: int = 200,
    failed: dict | None = None,
    sheet: dict | None = None,
):
    """The page. ``failed`` is a refused correction, ``sheet`` a refused sheet: what was
    typed (``values``, by field) and the messages (``errors``, by field)."""
    entries = services.list_paper_entries(challenge)
    people = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_({e.entered_by_id for e in entries if e.entered_by_id}))
        )
    }
    lines = services.paper_vote_board(challenge)
    sheet = sheet or {"values": {"event_date": services.paper_sheet_today().isoformat()}}
    sheet.setdefault("errors", {})
    return render_template(
        "voting/staff_paper_votes.html",
        challenge=challenge,
        lines=lines,
        entries=entries,
        people=people,
        idea_titles={line.idea.id: line.idea.title for line in lines},
        failed=failed or {},
        sheet=sheet,
        sheet_field=services.sheet_field,
        locked=services.paper_votes_lock(challenge),
    ), status


@bp.get("/staff/challenges/<int:challenge_id>/paper-votes")
@role_required("staff")
def staff_paper_votes(challenge_id: int):
    challenge = db.session.get(Challenge, challenge_id) or abort(404)
    return _render(challenge)


@bp.post("/staff/challenges/<int:challenge_id>/paper-votes/sheet")
@role_required("staff")
def staff_enter_paper_sheet(challenge_id: int):
    challenge = db.session.get(Challenge, challenge_id) or abort(404)
    counts = {}
    for key in request.form:
        if key.startswith("count-"):
            values = request.form.getlist(key)
            # A field sent twice is a count nobody can mean: the service refuses "?".
            counts[key.removeprefix("count-")] = values[0] if len(values) == 1 else "?"
    fields = {name: request.form.get(name, "") for name in _KEEP}
    # The service judges what was sent; the page shows it again, cut to a sane length.
    shown = {name: value[: _KEEP[name]] for name, value in fields.items()}
    shown.update({services.sheet_field(k[:12]): v[:12] for k, v in counts.items()})
    try:
        entries = services.enter_paper_vote_sheet(
            current_user, challenge, fields["event_name"], fields["event_date"], counts,
            fields["note"],
        )  # fmt: skip
    except FieldErrors as error:
        return _render(challenge, error.status, sheet={"values": shown, "errors": error.errors})
    except UserError as error:
        return _render(
            challenge, error.status, sheet={"values": shown, "errors": {"form": error.message}}
        )
    flash(
        ngettext(
            "The sheet of “%(event)s” has been entered: %(num)d paper vote.",
            "The sheet of “%(event)s” has been entered: %(num)d paper votes.",
            sum(e.count for e in entries),
            event=entries[0].event_name,
        ),
        "success",
    )
    return redirect(url_for("voting.staff_paper_votes", challenge_id=challenge.id))


@bp.post("/staff/challenges/<int:challenge_id>/paper-votes")
@role_required("staff")
def staff_enter_paper_votes(challenge_id: int):
    """One entry for one idea: how an earlier entry is corrected (a negative number)."""
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
    return redirect(url_for("voting.staff_paper_votes", challenge_id=challenge.id))
