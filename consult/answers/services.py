"""Official answers to ideas (DESIGN §3): nobody's idea disappears into silence.

Staff give a published idea a state and a bilingual answer naming the department. The
state an idea shows is derived from its answer, the jury's shortlist and the lab (see
``consult.answers.states``), so it can never contradict the shortlist or the ranking;
staff choose only among ``STAFF_STATES``, and only for ideas the jury or the lab has not
decided. A new answer or a new state is mailed to the idea's author, followers and
voters, each once per state (``notify_people`` and its ledger).
"""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..audit.services import record_action
from ..challenges.models import Challenge
from ..clock import now
from ..errors import UserError
from ..extensions import db
from ..i18n import _, _l, force_locale
from ..ideas.models import Idea, IdeaFollower
from ..ideas.services import get_challenge_idea
from ..jury.models import ShortlistEntry
from ..notifications.services import notify_people
from ..projects.models import LabProject
from ..text import checked_text, render_markdown
from ..urls import external_url
from ..voting.models import Vote
from .models import STAFF_STATES, IdeaAnswer
from .states import AUTOMATIC_STATES, effective_state, has_answer_sql

TEXT_MAX = 5000
DEPARTMENT_MAX = 160

STATE_LABELS = {
    "under_review": _l("Under review"),
    "shortlisted": _l("Shortlisted"),
    "not_pursued": _l("Not pursued"),
    "already_planned": _l("Already planned"),
    "merged": _l("Merged"),
    "lab_project": _l("Lab project"),
}
# Why an automatic state is what it is, for the idea page and the answer form.
AUTOMATIC_REASONS = {
    "shortlisted": _l("The idea is on the jury's shortlist: the jury is evaluating it."),
    "lab_project": _l("The idea has become a project of the city's innovation lab."),
    "merged": _l("The idea has been merged with a similar one and lives on there."),
}


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerView:
    """What the idea page shows of an idea's answer; ``answer`` is None for a state the
    jury or the lab decided before staff wrote anything."""

    state: str
    answer: IdeaAnswer | None
    project: LabProject | None
    merged_into: Idea | None

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def reason(self) -> str | None:
        reason = AUTOMATIC_REASONS.get(self.state)
        return str(reason) if reason else None

    def text_html(self, locale: str) -> tuple[str, str]:
        """The answer's sanitised HTML in ``locale`` (else the other language), and its language."""
        if self.answer is None:
            return "", locale
        return self.answer.text("html", locale)


def _standing(idea: Idea) -> tuple[LabProject | None, bool]:
    project = db.session.scalar(select(LabProject).where(LabProject.idea_id == idea.id))
    on_shortlist = (
        db.session.get(ShortlistEntry, (idea.challenge_id, idea.id)) is not None
        if project is None
        else True
    )
    return project, on_shortlist


def _shown_state(idea: Idea, answer: IdeaAnswer | None) -> tuple[str | None, LabProject | None]:
    """The state the idea shows (staff's answer, overruled by the lab, the shortlist or a
    merge: ``effective_state``), and its lab project."""
    project, on_shortlist = _standing(idea)
    state = effective_state(answer.state if answer else None, project is not None, on_shortlist)
    return state, project


def answer_view(idea: Idea, known: tuple | None = None) -> AnswerView | None:
    """The idea's answer as the page shows it, or None while it waits for one.

    ``known``: (answer, lab project, on the shortlist) as the idea page loaded them along
    with the idea (consult.ideas.page), so that nothing is asked again.
    """
    if known is None:
        answer = db.session.get(IdeaAnswer, idea.id)
        state, project = _shown_state(idea, answer)
    else:
        answer, project, on_shortlist = known
        state = effective_state(answer.state if answer else None, project is not None, on_shortlist)
    if state is None:
        return None
    merged_into = None
    if state == "merged" and idea.merged_into_id:
        merged_into = db.session.get(Idea, idea.merged_into_id)
    return AnswerView(state, answer, project, merged_into)


def _fixed(state: str | None) -> str | None:
    """The shown state if the jury, the lab or a merge decided it (staff cannot change it)."""
    return state if state in AUTOMATIC_STATES else None


@dataclass(frozen=True)
class AnswerForm:
    """What the answer form starts from."""

    idea: Idea
    answer: IdeaAnswer | None
    fixed_state: str | None  # the state staff cannot change here, if any
    department: str  # the current one, else the department this person answered for last


def answer_form(actor, challenge: Challenge, idea_id: int) -> AnswerForm:
    """The idea staff are about to answer and what the form starts from; refused as saving is."""
    idea = _answerable_idea(challenge, idea_id)
    answer = db.session.get(IdeaAnswer, idea.id)
    department = answer.department if answer else ""
    if not department:
        department = (
            db.session.scalar(
                select(IdeaAnswer.department)
                .where(IdeaAnswer.answered_by_id == actor.id)
                .order_by(IdeaAnswer.updated_at.desc())
                .limit(1)
            )
            or ""
        )
    return AnswerForm(idea, answer, _fixed(_shown_state(idea, answer)[0]), department)


# --- answering -----------------------------------------------------------------------------


def _answerable_idea(challenge: Challenge, idea_id) -> Idea:
    """The idea, if it belongs to the challenge (else 404) and may be answered (else 409).

    Published ideas may be answered; a merged idea only keeps the answer its merge wrote,
    whose texts staff may correct.
    """
    idea = get_challenge_idea(challenge, idea_id)
    if idea is None:
        raise UserError(_("This idea does not exist in this challenge."), status=404)
    if idea.status == "published":
        return idea
    if idea.status == "merged":
        answer = db.session.get(IdeaAnswer, idea.id)
        if answer is not None and answer.state == "merged":
            return idea
    raise UserError(_("Only published ideas can get an official answer."), status=409)


def _checked_state(requested, fixed: str | None) -> str:
    raw = requested if isinstance(requested, str) else ""
    if fixed is not None:
        if raw and raw != fixed:
            raise UserError(
                _(
                    "The state of this idea follows from the jury's shortlist, the lab or a "
                    "merge (%(state)s) and cannot be changed here.",
                    state=STATE_LABELS[fixed],
                ),
                field="state",
                status=409,
            )
        return fixed
    if raw in AUTOMATIC_STATES:
        raise UserError(
            _(
                "“%(state)s” is set by the jury's shortlist, the lab or a merge, not by hand.",
                state=STATE_LABELS[raw],
            ),
            field="state",
        )
    if raw not in STAFF_STATES:
        raise UserError(_("Please choose a state from the list."), field="state")
    return raw


def _checked_texts(data: dict) -> dict:
    text_de = checked_text(data.get("text_de"), "text_de", TEXT_MAX)
    text_en = checked_text(data.get("text_en"), "text_en", TEXT_MAX)
    if not text_de and not text_en:
        raise UserError(_("Please write the answer in at least one language."), field="text_de")
    department = checked_text(
        data.get("department"), "department", DEPARTMENT_MAX, line=True, required=True
    )
    return {
        "text_de": text_de,
        "text_en": text_en,
        "html_de": render_markdown(text_de),
        "html_en": render_markdown(text_en),
        "department": department,
    }


def answer_idea(actor, challenge: Challenge, idea_id: int, data: dict) -> str:
    """Save staff's answer to an idea of ``challenge``; audited, mailed on a new state.

    Returns "new" (first answer), "state" (the state changed), "text" (a correction of
    texts or department) or "unchanged". On "new" and "state" the author, followers and
    voters are told in their language, each once per state (a correction mails nobody);
    the mails are queued in this transaction. Nothing is stored when a field is refused.
    """
    if not (actor and actor.is_authenticated and actor.has_role("staff")):
        raise UserError(_("Only staff can answer ideas."), status=403)
    idea = _answerable_idea(challenge, idea_id)
    # Locked (PostgreSQL), so that two staff changing the state at once are serialised.
    answer = db.session.get(IdeaAnswer, idea.id, with_for_update=True, populate_existing=True)
    shown, _project = _shown_state(idea, answer)
    state = _checked_state(data.get("state"), _fixed(shown))
    values = _checked_texts(data)
    previous = shown if answer is not None else None
    if answer is not None:
        unchanged = answer.state == state and all(
            getattr(answer, name) == value for name, value in values.items()
        )
        if unchanged:
            db.session.rollback()
            return "unchanged"
    moment = now()
    if answer is None:
        answer = IdeaAnswer(idea_id=idea.id, answered_at=moment, **values)
        db.session.add(answer)
        outcome = "new"
    else:
        for name, value in values.items():
            setattr(answer, name, value)
        outcome = "state" if previous != state else "text"
        if outcome == "state":
            answer.answered_at = moment
    answer.state = state
    answer.answered_by_id = actor.id
    answer.updated_at = moment
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise UserError(
            _("Someone else answered this idea at the same moment. Please check their answer."),
            status=409,
        ) from None
    told = 0
    if outcome in ("new", "state"):
        told = notify_people(
            "answers", idea.id, answer_recipients(idea), "idea_answered",
            _mail_context(idea, answer), ledger_kind=f"answer:{state}",
        )  # fmt: skip
    record_action(
        actor, "idea.answer", "idea", idea.id,
        challenge=challenge.id, state=state, previous=previous, change=outcome, told=told,
    )  # fmt: skip
    db.session.commit()
    return outcome


def answer_recipients(idea: Idea) -> set[int]:
    """Everyone an answer concerns: the author, the idea's followers and its voters."""
    people = set(
        db.session.scalars(select(IdeaFollower.user_id).where(IdeaFollower.idea_id == idea.id))
    )
    people |= set(db.session.scalars(select(Vote.user_id).where(Vote.idea_id == idea.id)))
    if idea.author_id is not None:
        people.add(idea.author_id)
    return people


def _mail_context(idea: Idea, answer: IdeaAnswer):
    """The mail's context in each person's language: plain values only (digest items)."""
    url = external_url("ideas.show", idea_id=idea.id)

    def context(user, locale: str) -> dict:
        with force_locale(locale):
            label = str(STATE_LABELS[answer.state])
        text, lang = answer.text("text", locale)
        html, _html_lang = answer.text("html", locale)
        return {
            "title": idea.title, "title_lang": idea.language, "state": answer.state,
            "state_label": label, "answer": text, "answer_html": html, "answer_lang": lang,
            "department": answer.department, "url": url,
        }  # fmt: skip

    return context


# --- what is still open --------------------------------------------------------------------


def _unanswered(challenge_id: int):
    """Published ideas without an answer; a shortlist place or a lab project is an answer."""
    return select(Idea).where(
        Idea.challenge_id == challenge_id, Idea.status == "published", ~has_answer_sql()
    )


def unanswered_ideas(challenge_id: int, limit: int | None = None) -> list[Idea]:
    """The published ideas of a challenge without an official answer, oldest first
    (the first ``limit`` of them, when given)."""
    query = _unanswered(challenge_id).order_by(Idea.published_at, Idea.id)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def count_unanswered(challenge_id: int) -> int:
    """How many published ideas of a challenge still wait for an official answer."""
    return db.session.scalar(select(func.count()).select_from(_unanswered(challenge_id).subquery()))


def answer_counts(challenge_id: int) -> tuple[int, int]:
    """(answered, published) ideas of a challenge, for "N of M ideas got an answer"."""
    answered, total = db.session.execute(
        select(
            func.count().filter(has_answer_sql()),
            func.count(),
        ).where(Idea.challenge_id == challenge_id, Idea.status == "published")
    ).one()
    return int(answered or 0), int(total or 0)
