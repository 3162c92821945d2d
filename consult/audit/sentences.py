"""Audit entries as sentences in the reader's language, with links to what they concern.

The one place that turns an entry (action + details) into text: every action code that
``record_action`` writes has a sentence here (a test greps the code for the codes).
Details are stored as internal values (field names, reason codes, ids); they are shown
only through labels of the catalogs, never as they are stored.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import url_for
from flask_babel import format_date, format_number, get_translations
from markupsafe import Markup, escape
from sqlalchemy import select

from ..accounts.models import User
from ..answers.services import STATE_LABELS as ANSWER_STATE_LABELS
from ..challenges.models import Challenge
from ..extensions import db
from ..i18n import _, _l, current_locale, format_local
from ..ideas.models import Comment, Idea, Report
from ..moderation.services import hide_reason_text
from ..permissions import ROLE_LABELS
from ..projects.models import LabProject
from ..projects.services import STATUS_LABELS
from .models import AuditEntry

# Names of the fields that audit details list (challenge, jury, criterion, project).
FIELD_LABELS = {
    "title_de": _l("German title"),
    "title_en": _l("English title"),
    "question_de": _l("German question"),
    "question_en": _l("English question"),
    "description_de": _l("German description"),
    "description_en": _l("English description"),
    "summary_de": _l("German summary"),
    "summary_en": _l("English summary"),
    "easy_summary_de": _l("summary in plain German"),
    "easy_summary_en": _l("summary in plain English"),
    "submission_opens_at": _l("start of submission"),
    "submission_closes_at": _l("end of submission"),
    "voting_opens_at": _l("start of voting"),
    "voting_closes_at": _l("end of voting"),
    "results_at": _l("date of the results"),
    "archived_at": _l("archiving date"),
    "vote_budget": _l("votes per citizen"),
    "hide_counts_while_voting": _l("hiding of vote counts while voting runs"),
    "moderation": _l("moderation"),
    "count_paper_votes": _l("counting of paper votes"),
    "jury_alpha_percent": _l("jury weight"),
    "jury_centering": _l("centering of juror scores"),
    "shortlist_size": _l("shortlist size"),
    "name_de": _l("German name"),
    "name_en": _l("English name"),
    "weight": _l("weight"),
    "position": _l("position"),
    "status": _l("status"),
    "place": _l("place"),
    "video_url": _l("video call link"),
    "starts_at": _l("start"),
    "ends_at": _l("end"),
}


@dataclass
class _Names:
    """Titles and names of the objects a page of entries mentions, loaded in a few queries."""

    users: dict[int, User] = field(default_factory=dict)
    challenges: dict[int, Challenge] = field(default_factory=dict)
    ideas: dict[int, tuple[int, str]] = field(default_factory=dict)  # id -> (id, title)
    comment_ideas: dict[int, int] = field(default_factory=dict)
    report_ideas: dict[int, tuple[int, bool]] = field(default_factory=dict)  # (idea, comment?)
    projects: dict[int, LabProject] = field(default_factory=dict)

    def user(self, user_id) -> Markup:
        user = self.users.get(user_id) if isinstance(user_id, int) else None
        if user is None or not user.is_active:
            return escape(_("a deleted account"))
        href = url_for("admin.users", q=user.pseudonym)
        return Markup('<a href="%s">%s</a>') % (href, user.pseudonym)

    def actor(self, entry: AuditEntry) -> Markup:
        if entry.actor_id is None:
            return escape(_("The system"))
        user = self.users.get(entry.actor_id)
        if user is None or not user.is_active:
            return escape(_("A deleted account"))
        return self.user(entry.actor_id)

    def challenge(self, challenge_id) -> Markup:
        challenge = self.challenges.get(challenge_id) if isinstance(challenge_id, int) else None
        if challenge is None:
            return escape(_("a deleted challenge"))
        title, lang = challenge.text("title", current_locale())
        href = url_for("challenges.show", challenge_id=challenge.id)
        return Markup('<a href="%s" lang="%s">%s</a>') % (href, lang, title)

    def idea(self, idea_id) -> Markup:
        found = self.ideas.get(idea_id) if isinstance(idea_id, int) else None
        if found is None:
            return escape(_("a deleted idea"))
        href = url_for("ideas.show", idea_id=found[0])
        # Citizens write in their own language: dir="auto" keeps a title in Arabic readable.
        return Markup('<a href="%s" dir="auto">%s</a>') % (href, found[1])

    def project(self, project_id) -> Markup:
        project = self.projects.get(project_id) if isinstance(project_id, int) else None
        if project is None:
            return escape(_("a deleted lab project"))
        title, lang = project.text("title", current_locale())
        href = url_for("projects.show", project_id=project.id)
        return Markup('<a href="%s" lang="%s">%s</a>') % (href, lang, title)


def _say(template: str, **parts) -> Markup:
    """The translated template with its parts, each escaped unless it is markup already."""
    return escape(template) % {k: _part(v) for k, v in parts.items()}


def ngettext(singular: str, plural: str, num: int) -> str:
    """The translated singular or plural template, not yet filled in (``_say`` fills it)."""
    return get_translations().ngettext(singular, plural, num)


def _part(value):
    if isinstance(value, Markup):
        return value
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float):
        return format_number(value)
    return escape("" if value is None else str(value))


def _quoted(text) -> Markup:
    return _say(_("“%(text)s”"), text=text or "")


def _fields(names) -> str:
    """Field names as one phrase in the reader's language: "the title and the end of voting"."""
    labels = [str(FIELD_LABELS.get(name, _l("another field"))) for name in names or ()]
    if not labels:
        return _("nothing")
    if len(labels) == 1:
        return labels[0]
    return _("%(list)s and %(last)s", list=", ".join(labels[:-1]), last=labels[-1])


def _value(name: str, value) -> str:
    if name == "status" and value in STATUS_LABELS:
        return str(STATUS_LABELS[value])
    if name == "jury_alpha_percent" and isinstance(value, int | float):
        return _("%(num)s %%", num=format_number(value))
    return str(_part(value))


def _date(value) -> str:
    try:
        return format_date(date.fromisoformat(value), "medium") if value else ""
    except (TypeError, ValueError):
        return ""


def _datetime(value) -> str:
    try:
        return format_local(datetime.fromisoformat(value), "short") if value else ""
    except (TypeError, ValueError):
        return ""


# --- one function per action code ---------------------------------------------------------

Render = Callable[[_Names, AuditEntry, dict], Markup]
SENTENCES: dict[str, Render] = {}
# The short name of each action, for the filter of the audit page.
ACTION_LABELS: dict[str, object] = {}


def sentence(action: str, label):
    """Register how entries of ``action`` read; ``label`` names the action in the filter."""

    def register(render: Render) -> Render:
        SENTENCES[action] = render
        ACTION_LABELS[action] = label
        return render

    return register


@sentence("role.grant", _l("Role granted"))
def _role_grant(n, e, d):
    return _say(
        _("%(actor)s gave %(user)s the role %(role)s."),
        actor=n.actor(e), user=n.user(e.object_id), role=_role(d.get("role")),
    )  # fmt: skip


@sentence("role.revoke", _l("Role revoked"))
def _role_revoke(n, e, d):
    return _say(
        _("%(actor)s took the role %(role)s away from %(user)s."),
        actor=n.actor(e), user=n.user(e.object_id), role=_role(d.get("role")),
    )  # fmt: skip


def _role(code) -> str:
    return str(ROLE_LABELS.get(code, _l("an unknown role")))


@sentence("sso.role_grant", _l("Role granted by the city's sign-in"))
def _sso_role_grant(n, e, d):
    return _say(
        _("The city's sign-in service gave %(user)s the role %(role)s."),
        user=n.user(e.object_id), role=_role(d.get("role")),
    )  # fmt: skip


@sentence("sso.role_revoke", _l("Role revoked by the city's sign-in"))
def _sso_role_revoke(n, e, d):
    return _say(
        _("The city's sign-in service took the role %(role)s away from %(user)s."),
        user=n.user(e.object_id), role=_role(d.get("role")),
    )  # fmt: skip


@sentence("sso.role_revoke_password", _l("Role from the city's sign-in ended by a password login"))
def _sso_role_revoke_password(n, e, d):
    return _say(
        _(
            "%(user)s logged in with a password, so the role %(role)s from the city's sign-in "
            "ends until their next sign-in with the city account."
        ),
        user=n.user(e.object_id), role=_role(d.get("role")),
    )  # fmt: skip


@sentence("sso.account_create", _l("Account created by the city's sign-in"))
def _sso_account_create(n, e, d):
    return _say(
        _("An account for %(user)s was created at their first sign-in with the city's account."),
        user=n.user(e.object_id),
    )


@sentence("sso.account_link", _l("Account linked to the city's sign-in"))
def _sso_account_link(n, e, d):
    return _say(
        _("The account of %(user)s was linked to their city account."),
        user=n.user(e.object_id),
    )


@sentence("account.create_admin", _l("Staff account created from the command line"))
def _create_admin(n, e, d):
    return _say(
        _("A staff account for %(user)s was created from the command line."),
        user=n.user(e.object_id),
    )


@sentence("two_factor.enable", _l("Two-factor authentication set up"))
def _two_factor_enable(n, e, d):
    return _say(_("%(user)s set up two-factor authentication."), user=n.user(e.object_id))


@sentence("two_factor.recovery_used", _l("Recovery code used"))
def _two_factor_recovery_used(n, e, d):
    return _say(_("%(user)s logged in with a recovery code."), user=n.user(e.object_id))


@sentence("two_factor.recovery_codes", _l("New recovery codes made"))
def _two_factor_recovery_codes(n, e, d):
    return _say(_("%(user)s made new recovery codes."), user=n.user(e.object_id))


@sentence("two_factor.disable", _l("Two-factor authentication turned off"))
def _two_factor_disable(n, e, d):
    return _say(_("%(user)s turned two-factor authentication off."), user=n.user(e.object_id))


@sentence("two_factor.reset", _l("Second factor reset"))
def _two_factor_reset(n, e, d):
    return _say(
        _("%(actor)s reset the second factor of %(user)s (lost device)."),
        actor=n.actor(e), user=n.user(e.object_id),
    )  # fmt: skip


@sentence("challenge.create", _l("Challenge created"))
def _challenge_create(n, e, d):
    return _say(
        _("%(actor)s created the challenge %(challenge)s."),
        actor=n.actor(e), challenge=n.challenge(e.object_id),
    )  # fmt: skip


@sentence("challenge.update", _l("Challenge changed"))
def _challenge_update(n, e, d):
    return _say(
        _("%(actor)s changed the challenge %(challenge)s: %(fields)s."),
        actor=n.actor(e), fields=_fields(d.get("fields")), challenge=n.challenge(e.object_id),
    )  # fmt: skip


@sentence("challenge.cover", _l("Cover image changed"))
def _challenge_cover(n, e, d):
    if d.get("replaced"):
        text = _("%(actor)s replaced the cover image of the challenge %(challenge)s.")
    else:
        text = _("%(actor)s added a cover image to the challenge %(challenge)s.")
    return _say(text, actor=n.actor(e), challenge=n.challenge(e.object_id))


@sentence("category.create", _l("Category added"))
def _category_create(n, e, d):
    return _say(
        _("%(actor)s added the category %(name)s to the challenge %(challenge)s."),
        actor=n.actor(e), name=_quoted(d.get("name")), challenge=n.challenge(e.object_id),
    )  # fmt: skip


@sentence("category.update", _l("Category renamed"))
def _category_update(n, e, d):
    return _say(
        _("%(actor)s renamed a category of the challenge %(challenge)s."),
        actor=n.actor(e), challenge=n.challenge(e.object_id),
    )  # fmt: skip


@sentence("category.delete", _l("Category removed"))
def _category_delete(n, e, d):
    return _say(
        _("%(actor)s removed a category from the challenge %(challenge)s."),
        actor=n.actor(e), challenge=n.challenge(e.object_id),
    )  # fmt: skip


@sentence("idea.workshop_entry", _l("Workshop idea entered"))
def _workshop_entry(n, e, d):
    return _say(
        _("%(actor)s entered the idea %(idea)s from the workshop %(workshop)s in the challenge %(challenge)s."),
        actor=n.actor(e), idea=n.idea(e.object_id), workshop=_quoted(d.get("workshop")),
        challenge=n.challenge(d.get("challenge")),
    )  # fmt: skip


@sentence("idea.publish", _l("Idea published"))
def _idea_publish(n, e, d):
    return _say(
        _("%(actor)s published the idea %(idea)s."), actor=n.actor(e), idea=n.idea(e.object_id)
    )


@sentence("idea.answer", _l("Idea answered"))
def _idea_answer(n, e, d):
    if d.get("change") == "text":
        return _say(
            _("%(actor)s corrected the official answer to the idea %(idea)s."),
            actor=n.actor(e), idea=n.idea(e.object_id),
        )  # fmt: skip
    code = d.get("state") if isinstance(d.get("state"), str) else ""
    state = ANSWER_STATE_LABELS.get(code, _l("an unknown state"))
    return _say(
        _("%(actor)s answered the idea %(idea)s: %(state)s."),
        actor=n.actor(e), idea=n.idea(e.object_id), state=str(state),
    )  # fmt: skip


@sentence("idea.hide", _l("Idea hidden"))
def _idea_hide(n, e, d):
    said = _say(
        _("%(actor)s hid the idea %(idea)s. Reason: %(reason)s"),
        actor=n.actor(e), idea=n.idea(e.object_id), reason=hide_reason_text(d.get("reason")),
    )  # fmt: skip
    released = d.get("votes_released")
    if isinstance(released, int) and released > 0:
        said += Markup(" ") + _released(released)
    return said


def _released(count: int) -> Markup:
    return _say(
        ngettext(
            "%(num)s vote went back to its voter.",
            "%(num)s votes went back to their voters.",
            count,
        ),
        num=count,
    )


@sentence("idea.merge", _l("Duplicate idea merged"))
def _idea_merge(n, e, d):
    said = _say(
        _("%(actor)s merged the duplicate idea %(idea)s into %(target)s."),
        actor=n.actor(e), idea=n.idea(e.object_id), target=n.idea(d.get("idea")),
    )  # fmt: skip
    moved = d.get("votes_moved")
    if isinstance(moved, int) and moved > 0:
        said += Markup(" ") + _say(
            ngettext("%(num)s vote moved with it.", "%(num)s votes moved with it.", moved),
            num=moved,
        )
    released = d.get("votes_released")
    if isinstance(released, int) and released > 0:
        said += Markup(" ") + _released(released)
    return said


# --- ideas from a live event's room -------------------------------------------------------


@sentence("event_idea.approve", _l("Room idea approved"))
def _event_idea_approve(n, e, d):
    return _say(
        _("%(actor)s approved the idea %(idea)s from the room of a live event."),
        actor=n.actor(e), idea=n.idea(e.object_id),
    )  # fmt: skip


@sentence("event_idea.hide", _l("Room idea hidden"))
def _event_idea_hide(n, e, d):
    said = _say(
        _("%(actor)s hid the idea %(idea)s from the room of a live event. Reason: %(reason)s"),
        actor=n.actor(e), idea=n.idea(e.object_id), reason=hide_reason_text(d.get("reason")),
    )  # fmt: skip
    released = d.get("votes_released")
    if isinstance(released, int) and released > 0:
        said += Markup(" ") + _released(released)
    return said


@sentence("event_idea.merge", _l("Room idea merged"))
def _event_idea_merge(n, e, d):
    return _say(
        _("%(actor)s merged the idea %(idea)s from the room of a live event into %(target)s."),
        actor=n.actor(e), idea=n.idea(e.object_id), target=n.idea(d.get("idea")),
    )  # fmt: skip


@sentence("votes.release", _l("Votes of a hidden idea released"))
def _votes_release(n, e, d):
    released = d.get("votes_released")
    count = released if isinstance(released, int) else 0
    return (
        _say(
            _("The votes left on the hidden idea %(idea)s were released by the vote check."),
            idea=n.idea(e.object_id),
        )
        + Markup(" ")
        + _released(count)
    )


@sentence("comment.hide", _l("Comment hidden"))
def _comment_hide(n, e, d):
    return _say(
        _("%(actor)s hid a comment on the idea %(idea)s. Reason: %(reason)s"),
        actor=n.actor(e), idea=n.idea(n.comment_ideas.get(e.object_id)),
        reason=hide_reason_text(d.get("reason")),
    )  # fmt: skip


@sentence("report.resolve", _l("Report closed"))
def _report_resolve(n, e, d):
    idea_id, about_comment = n.report_ideas.get(e.object_id, (None, False))
    hidden = d.get("outcome") == "hidden"
    if about_comment and hidden:
        text = _(
            "%(actor)s closed a report about a comment on the idea %(idea)s: the comment was hidden."
        )
    elif about_comment:
        text = _(
            "%(actor)s closed a report about a comment on the idea %(idea)s: the comment stays visible."
        )
    elif hidden:
        text = _("%(actor)s closed a report about the idea %(idea)s: the idea was hidden.")
    else:
        text = _("%(actor)s closed a report about the idea %(idea)s: the idea stays visible.")
    return _say(text, actor=n.actor(e), idea=n.idea(idea_id))


@sentence("votes.paper_entry", _l("Paper votes entered"))
def _paper_votes(n, e, d):
    count = d.get("count") if isinstance(d.get("count"), int) else 0
    if count < 0:
        return _say(
            _("%(actor)s corrected the paper votes for the idea %(idea)s by %(count)s (event: %(event)s)."),
            actor=n.actor(e), idea=n.idea(e.object_id), count=count, event=_quoted(d.get("event")),
        )  # fmt: skip
    return _say(
        ngettext(
            "%(actor)s entered %(num)s paper vote for the idea %(idea)s (event: %(event)s).",
            "%(actor)s entered %(num)s paper votes for the idea %(idea)s (event: %(event)s).",
            count,
        ),
        actor=n.actor(e), num=count, idea=n.idea(e.object_id), event=_quoted(d.get("event")),
    )  # fmt: skip


@sentence("votes.paper_sheet", _l("Workshop sheet of paper votes entered"))
def _paper_sheet(n, e, d):
    total = d.get("total") if isinstance(d.get("total"), int) else 0
    counts = d.get("counts") if isinstance(d.get("counts"), dict) else {}
    return _say(
        ngettext(
            "%(actor)s entered a workshop sheet of %(num)s paper vote for %(ideas)s ideas of the challenge %(challenge)s (event: %(event)s, %(day)s).",
            "%(actor)s entered a workshop sheet of %(num)s paper votes for %(ideas)s ideas of the challenge %(challenge)s (event: %(event)s, %(day)s).",
            total,
        ),
        actor=n.actor(e), num=total, ideas=len(counts), challenge=n.challenge(e.object_id),
        event=_quoted(d.get("event")), day=_date(d.get("date")),
    )  # fmt: skip


@sentence("event.import", _l("Event taken into the challenge"))
def _event_import(n, e, d):
    def number(key):
        return d.get(key) if isinstance(d.get(key), int) else 0

    ideas = _say(
        ngettext(
            "%(actor)s took the event %(event)s into the challenge %(challenge)s: %(num)s idea became a workshop idea",
            "%(actor)s took the event %(event)s into the challenge %(challenge)s: %(num)s ideas became workshop ideas",
            number("ideas"),
        ),
        actor=n.actor(e), event=_quoted(d.get("name")), challenge=n.challenge(d.get("challenge")),
        num=number("ideas"),
    )  # fmt: skip
    if not isinstance(d.get("round"), int):
        return ideas + _say(_(", without votes."))
    return ideas + _say(
        ngettext(
            ", and %(num)s vote of round %(round)s became event votes (%(counted)s counted).",
            ", and %(num)s votes of round %(round)s became event votes (%(counted)s counted).",
            number("votes"),
        ),
        num=number("votes"), round=number("round"), counted=number("counted"),
    )  # fmt: skip


@sentence("jury.settings", _l("Jury settings changed"))
def _jury_settings(n, e, d):
    changes = [
        _("%(field)s from %(old)s to %(new)s", field=FIELD_LABELS.get(name, _l("another field")),
          old=_value(name, pair[0]), new=_value(name, pair[1]))
        for name, pair in sorted(d.items())
        if isinstance(pair, list) and len(pair) == 2
    ]  # fmt: skip
    return _say(
        _("%(actor)s changed the jury settings of the challenge %(challenge)s: %(changes)s."),
        actor=n.actor(e), challenge=n.challenge(e.object_id), changes="; ".join(changes),
    )  # fmt: skip


@sentence("jury.criterion_create", _l("Jury criterion added"))
def _criterion_create(n, e, d):
    return _say(
        _("%(actor)s added the jury criterion %(name)s with weight %(weight)s to the challenge %(challenge)s."),
        actor=n.actor(e), name=_quoted(d.get("name")), weight=d.get("weight"),
        challenge=n.challenge(e.object_id),
    )  # fmt: skip


@sentence("jury.criterion_update", _l("Jury criterion changed"))
def _criterion_update(n, e, d):
    text = _say(
        _("%(actor)s changed a jury criterion of the challenge %(challenge)s: %(fields)s."),
        actor=n.actor(e), fields=_fields(d.get("fields")), challenge=n.challenge(e.object_id),
    )  # fmt: skip
    weight = d.get("weight")
    if isinstance(weight, list) and len(weight) == 2:
        text += Markup(" ") + _say(
            _("The weight went from %(old)s to %(new)s."), old=weight[0], new=weight[1]
        )
    return text


@sentence("jury.criterion_delete", _l("Jury criterion removed"))
def _criterion_delete(n, e, d):
    return _say(
        _("%(actor)s removed the jury criterion %(name)s from the challenge %(challenge)s."),
        actor=n.actor(e), name=_quoted(d.get("name")), challenge=n.challenge(e.object_id),
    )  # fmt: skip


@sentence("jury.shortlist_add", _l("Idea added to the shortlist"))
def _shortlist_add(n, e, d):
    ideas = d.get("ideas") if isinstance(d.get("ideas"), list) else []
    if d.get("source") == "staff":
        return _say(
            _("%(actor)s put the idea %(idea)s on the shortlist of the challenge %(challenge)s. Reason: %(reason)s"),
            actor=n.actor(e), idea=n.idea(ideas[0] if ideas else None),
            challenge=n.challenge(e.object_id), reason=_quoted(d.get("reason")),
        )  # fmt: skip
    return _say(
        ngettext(
            "%(actor)s put %(num)s idea with the most votes on the shortlist of the challenge %(challenge)s.",
            "%(actor)s put %(num)s ideas with the most votes on the shortlist of the challenge %(challenge)s.",
            len(ideas),
        ),
        actor=n.actor(e), num=len(ideas), challenge=n.challenge(e.object_id),
    )  # fmt: skip


@sentence("jury.shortlist_remove", _l("Idea removed from the shortlist"))
def _shortlist_remove(n, e, d):
    text = _say(
        _("%(actor)s removed the idea %(idea)s from the shortlist of the challenge %(challenge)s."),
        actor=n.actor(e), idea=n.idea(d.get("idea")), challenge=n.challenge(e.object_id),
    )  # fmt: skip
    if d.get("after_submission"):
        text += Markup(" ") + escape(_("Jurors had already submitted scores for it."))
    return text


@sentence("jury.juror_assign", _l("Juror assigned"))
def _juror_assign(n, e, d):
    if "given" in d or "taken" in d:
        given = d.get("given") if isinstance(d.get("given"), list) else []
        taken = d.get("taken") if isinstance(d.get("taken"), list) else []
        return _say(
            _("%(actor)s changed which ideas %(user)s scores in the challenge %(challenge)s: %(given)s added, %(taken)s taken away."),
            actor=n.actor(e), user=n.user(d.get("juror")), challenge=n.challenge(e.object_id),
            given=len(given), taken=len(taken),
        )  # fmt: skip
    return _say(
        _("%(actor)s seated %(user)s on the jury of the challenge %(challenge)s."),
        actor=n.actor(e), user=n.user(d.get("juror")), challenge=n.challenge(e.object_id),
    )  # fmt: skip


@sentence("jury.juror_remove", _l("Juror removed"))
def _juror_remove(n, e, d):
    return _say(
        _("%(actor)s removed %(user)s from the jury of the challenge %(challenge)s."),
        actor=n.actor(e), user=n.user(d.get("juror")), challenge=n.challenge(e.object_id),
    )  # fmt: skip


@sentence("jury.conflict", _l("Conflict of interest declared"))
def _conflict(n, e, d):
    if d.get("declared"):
        text = _("%(actor)s declared a conflict of interest for the idea %(idea)s.")
    else:
        text = _("%(actor)s withdrew the conflict of interest for the idea %(idea)s.")
    return _say(text, actor=n.actor(e), idea=n.idea(e.object_id))


@sentence("jury.score", _l("Scores saved"))
def _score(n, e, d):
    return _say(
        _("%(actor)s saved scores for the idea %(idea)s."),
        actor=n.actor(e), idea=n.idea(e.object_id),
    )  # fmt: skip


@sentence("jury.submit", _l("Scores submitted"))
def _submit(n, e, d):
    count = len(d.get("ideas")) if isinstance(d.get("ideas"), list) else 0
    return _say(
        ngettext(
            "%(actor)s submitted the scores for %(num)s idea of the challenge %(challenge)s.",
            "%(actor)s submitted the scores for %(num)s ideas of the challenge %(challenge)s.",
            count,
        ),
        actor=n.actor(e), num=count, challenge=n.challenge(e.object_id),
    )  # fmt: skip


@sentence("jury.remind", _l("Jurors reminded"))
def _remind(n, e, d):
    return _say(
        _("%(actor)s reminded the jurors of the challenge %(challenge)s."),
        actor=n.actor(e), challenge=n.challenge(e.object_id),
    )  # fmt: skip


@sentence("results.freeze", _l("Results frozen"))
def _freeze(n, e, d):
    checksum = Markup("<code>%s</code>") % (d.get("sha256") or "")
    return _say(
        _("%(actor)s froze the results of the challenge %(challenge)s (SHA-256 %(checksum)s)."),
        actor=n.actor(e), challenge=n.challenge(e.object_id), checksum=checksum,
    )  # fmt: skip


@sentence("project.create", _l("Idea promoted to a lab project"))
def _project_create(n, e, d):
    return _say(
        _("%(actor)s made the idea %(idea)s the lab project %(project)s."),
        actor=n.actor(e), idea=n.idea(d.get("idea")), project=n.project(e.object_id),
    )  # fmt: skip


@sentence("project.update", _l("Lab project changed"))
def _project_update(n, e, d):
    text = _say(
        _("%(actor)s changed the lab project %(project)s: %(fields)s."),
        actor=n.actor(e), fields=_fields(d.get("fields")), project=n.project(e.object_id),
    )  # fmt: skip
    if "status" in (d.get("fields") or ()):
        text += Markup(" ") + _say(
            _("The status is now %(status)s."), status=_value("status", d.get("status"))
        )
    return text


@sentence("project.cocreator", _l("Co-creator answered the invitation"))
def _cocreator(n, e, d):
    if d.get("answer") == "accept":
        text = _("%(user)s accepted the invitation to the lab project %(project)s as co-creator.")
    else:
        text = _("%(user)s declined the invitation to the lab project %(project)s as co-creator.")
    return _say(text, user=n.user(d.get("user")), project=n.project(e.object_id))


@sentence("project.partner", _l("Lab project partners changed"))
def _partner(n, e, d):
    if "removed" in d:
        text = _("%(actor)s removed the partner %(name)s from the lab project %(project)s.")
    else:
        text = _("%(actor)s added the partner %(name)s to the lab project %(project)s.")
    return _say(text, actor=n.actor(e), name=_quoted(d.get("name")), project=n.project(e.object_id))


@sentence("project.milestone", _l("Lab project milestones changed"))
def _milestone(n, e, d):
    project = n.project(e.object_id)
    if "added" in d:
        return _say(
            _("%(actor)s added a milestone due on %(date)s to the lab project %(project)s."),
            actor=n.actor(e), date=_date(d.get("due_on")), project=project,
        )  # fmt: skip
    if "reached" in d:
        if d.get("reached_on"):
            return _say(
                _("%(actor)s marked a milestone of the lab project %(project)s as reached on %(date)s."),
                actor=n.actor(e), project=project, date=_date(d.get("reached_on")),
            )  # fmt: skip
        return _say(
            _("%(actor)s marked a milestone of the lab project %(project)s as not reached yet."),
            actor=n.actor(e), project=project,
        )  # fmt: skip
    return _say(
        _("%(actor)s removed a milestone from the lab project %(project)s."),
        actor=n.actor(e), project=project,
    )  # fmt: skip


@sentence("project.progress", _l("Lab project update published"))
def _progress(n, e, d):
    return _say(
        _("%(actor)s published an update of the lab project %(project)s."),
        actor=n.actor(e), project=n.project(e.object_id),
    )  # fmt: skip


@sentence("announcement.save", _l("Results announcement saved"))
def _announcement_save(n, e, d):
    return _say(
        _("%(actor)s saved the results announcement of the challenge %(challenge)s."),
        actor=n.actor(e), challenge=n.challenge(e.object_id),
    )  # fmt: skip


@sentence("announcement.publish", _l("Results announcement published with an embargo"))
def _announcement_publish(n, e, d):
    return _say(
        _("%(actor)s published the results announcement of the challenge %(challenge)s with an embargo until %(embargo)s."),
        actor=n.actor(e), challenge=n.challenge(e.object_id), embargo=_datetime(d.get("embargo_at")),
    )  # fmt: skip


@sentence("announcement.withdraw", _l("Results announcement withdrawn before its embargo"))
def _announcement_withdraw(n, e, d):
    return _say(
        _("%(actor)s withdrew the results announcement of the challenge %(challenge)s before its embargo."),
        actor=n.actor(e), challenge=n.challenge(e.object_id),
    )  # fmt: skip


def _job_ids(d) -> tuple[int, str]:
    ids = [i for i in d.get("ids") or () if isinstance(i, int)]
    return len(ids), ", ".join(str(i) for i in ids)


@sentence("jobs.mark_done", _l("Pending jobs marked done from the command line"))
def _jobs_mark_done(n, e, d):
    count, ids = _job_ids(d)
    return _say(
        ngettext(
            "%(num)s pending background job (number %(ids)s) was marked done from the command line.",
            "%(num)s pending background jobs (numbers %(ids)s) were marked done from the command line.",
            count,
        ),
        num=count, ids=ids,
    )  # fmt: skip


@sentence("jobs.retry", _l("Pending jobs run again from the command line"))
def _jobs_retry(n, e, d):
    count, ids = _job_ids(d)
    return _say(
        ngettext(
            "%(num)s pending background job (number %(ids)s) was started again from the command line.",
            "%(num)s pending background jobs (numbers %(ids)s) were started again from the command line.",
            count,
        ),
        num=count, ids=ids,
    )  # fmt: skip


@sentence("event_round.start", _l("Voting round started at an event"))
def _event_round_start(n, e, d):
    minutes = d.get("minutes") if isinstance(d.get("minutes"), int) else 0
    budget = d.get("budget") if isinstance(d.get("budget"), int) else 0
    scope = (
        _("on all ideas of the challenge")
        if d.get("scope") == "challenge"
        else _("on the approved ideas of the event")
    )
    return _say(
        _("%(actor)s started voting round %(number)s (%(minutes)s, %(dots)s, %(scope)s) at an "
          "event of the challenge %(challenge)s."),
        actor=n.actor(e), number=d.get("number"), scope=scope,
        minutes=_say(ngettext("%(num)s minute", "%(num)s minutes", minutes), num=minutes),
        dots=_say(ngettext("%(num)s dot per person", "%(num)s dots per person", budget), num=budget),
        challenge=n.challenge(d.get("challenge")),
    )  # fmt: skip


@sentence("event_round.stop", _l("Voting round stopped at an event"))
def _event_round_stop(n, e, d):
    return _say(
        _("%(actor)s stopped voting round %(number)s early at an event of the challenge "
          "%(challenge)s."),
        actor=n.actor(e), number=d.get("number"), challenge=n.challenge(d.get("challenge")),
    )  # fmt: skip


@sentence("event.tally", _l("Running tally on the wall switched"))
def _event_tally(n, e, d):
    if d.get("shows"):
        text = _(
            "%(actor)s let the wall of the event %(event)s show the running tally of its rounds."
        )
    else:
        text = _(
            "%(actor)s hid the running tally of its rounds from the wall of the event %(event)s."
        )
    return _say(text, actor=n.actor(e), event=_quoted(d.get("title")))


@sentence("event.create", _l("Live event created"))
def _event_create(n, e, d):
    return _say(
        _("%(actor)s created the live event %(event)s of the challenge %(challenge)s."),
        actor=n.actor(e), event=_quoted(d.get("title")), challenge=n.challenge(d.get("challenge")),
    )  # fmt: skip


@sentence("event.update", _l("Live event changed"))
def _event_update(n, e, d):
    return _say(
        _("%(actor)s changed the live event %(event)s of the challenge %(challenge)s: %(fields)s."),
        actor=n.actor(e), event=_quoted(d.get("title")), fields=_fields(d.get("fields")),
        challenge=n.challenge(d.get("challenge")),
    )  # fmt: skip


@sentence("event.open", _l("Live event opened"))
def _event_open(n, e, d):
    return _say(
        _("%(actor)s opened the live event %(event)s of the challenge %(challenge)s with the code %(code)s."),
        actor=n.actor(e), event=_quoted(d.get("title")), code=d.get("code") or "",
        challenge=n.challenge(d.get("challenge")),
    )  # fmt: skip


@sentence("event.close", _l("Live event closed"))
def _event_close(n, e, d):
    return _say(
        _("%(actor)s closed the live event %(event)s of the challenge %(challenge)s."),
        actor=n.actor(e), event=_quoted(d.get("title")), challenge=n.challenge(d.get("challenge")),
    )  # fmt: skip


# --- reading a page of entries ------------------------------------------------------------

# Detail keys that hold the id of another person (see _user_ids).
_PERSON_KEYS = ("juror", "user")


def _user_ids(entry: AuditEntry) -> set[int]:
    ids = {entry.actor_id} if entry.actor_id else set()
    if entry.object_type == "user" and entry.object_id:
        ids.add(entry.object_id)
    ids.update(v for k in _PERSON_KEYS if isinstance(v := entry.details.get(k), int))
    return ids


def _load_names(entries: list[AuditEntry]) -> _Names:
    names = _Names()
    by_type: dict[str, set[int]] = {}
    idea_ids: set[int] = set()
    challenge_ids: set[int] = set()
    user_ids: set[int] = set()
    for entry in entries:
        details = entry.details or {}
        if entry.object_id is not None:
            by_type.setdefault(entry.object_type, set()).add(entry.object_id)
        user_ids |= _user_ids(entry)
        for key in ("idea",):
            if isinstance(details.get(key), int):
                idea_ids.add(details[key])
        if isinstance(details.get("challenge"), int):
            challenge_ids.add(details["challenge"])
        ideas = details.get("ideas")
        if entry.action == "jury.shortlist_add" and isinstance(ideas, list) and ideas:
            idea_ids.add(ideas[0])
    if ids := by_type.get("comment"):
        names.comment_ideas = dict(
            db.session.execute(select(Comment.id, Comment.idea_id).where(Comment.id.in_(ids))).all()
        )
        idea_ids |= set(names.comment_ideas.values())
    if ids := by_type.get("report"):
        names.report_ideas = {
            row.id: (row.idea_id, row.comment_id is not None)
            for row in db.session.execute(
                select(Report.id, Report.idea_id, Report.comment_id).where(Report.id.in_(ids))
            )
        }
        idea_ids |= {idea_id for idea_id, _comment in names.report_ideas.values()}
    idea_ids |= by_type.get("idea", set())
    challenge_ids |= by_type.get("challenge", set())
    if idea_ids:
        names.ideas = {
            row.id: (row.id, row.title)
            for row in db.session.execute(select(Idea.id, Idea.title).where(Idea.id.in_(idea_ids)))
        }
    if challenge_ids:
        names.challenges = {
            c.id: c
            for c in db.session.scalars(select(Challenge).where(Challenge.id.in_(challenge_ids)))
        }
    if ids := by_type.get("project"):
        names.projects = {
            p.id: p for p in db.session.scalars(select(LabProject).where(LabProject.id.in_(ids)))
        }
    if user_ids:
        names.users = {
            u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))
        }
    return names


def _fallback(names: _Names, entry: AuditEntry, details: dict) -> Markup:
    """An action without a sentence (a test keeps this from happening): no raw values."""
    return _say(
        _("%(actor)s made a change that this page cannot describe."), actor=names.actor(entry)
    )


def describe_entries(entries: list[AuditEntry]) -> list[tuple[AuditEntry, Markup]]:
    """Each entry with its sentence in the current locale, in a handful of queries."""
    names = _load_names(entries)
    return [
        (entry, SENTENCES.get(entry.action, _fallback)(names, entry, entry.details or {}))
        for entry in entries
    ]


def details_for_export(entry: AuditEntry) -> dict:
    """The details of an entry for a personal data download: other people's ids left out."""
    details = dict(entry.details or {})
    for key in _PERSON_KEYS:
        details.pop(key, None)
    if entry.action == "jury.juror_assign":
        details.pop("name", None)  # the juror's public name
    return details
