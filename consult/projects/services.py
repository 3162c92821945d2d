"""Use cases of lab projects: promote a ranked idea, run the project, tell its supporters.

A project grows from a published idea of a frozen challenge whose results are public (it
names a winner). The idea's author is asked by mail to join as co-creator; their name
appears only once they accept. Progress updates are mailed by one fan-out job to everyone
who voted for or follows the idea.
"""

from datetime import date

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import jobs
from ..accounts.models import User
from ..accounts.tokens import TokenError, consume_token, make_token, read_token
from ..audit.services import record_action
from ..challenges.models import Challenge
from ..clock import now
from ..errors import UserError
from ..extensions import db
from ..i18n import _, _l
from ..ideas.models import Idea, IdeaFollower
from ..jury.models import ShortlistEntry
from ..results.visibility import public_announcement
from ..text import checked_text, render_markdown
from ..urls import external_url
from ..voting.models import Vote
from .models import (
    PARTNER_SECTORS,
    PROJECT_STATES,
    CoCreator,
    LabProject,
    Milestone,
    Partner,
    ProjectUpdate,
)

TITLE_MAX, SUMMARY_MAX = 160, 5000
PARTNER_NAME_MAX, MILESTONE_TITLE_MAX, UPDATE_BODY_MAX = 160, 200, 10_000
# A co-creator invitation stays usable for a month: authors do not read mail every day.
COCREATOR_LINK_MAX_AGE = 30 * 24 * 3600
COCREATOR_ANSWERS = ("accept", "decline")
# Dates outside this range are typing mistakes, not plans of a city lab.
FIRST_YEAR, LAST_YEAR = 2000, 2100

STATUS_LABELS = {
    "incubating": _l("Incubating"),
    "piloting": _l("Piloting"),
    "implemented": _l("Implemented"),
    "paused": _l("Paused"),
    "discontinued": _l("Discontinued"),
}
SECTOR_LABELS = {
    "civil_society": _l("Civil society"),
    "administration": _l("Administration"),
    "business": _l("Business"),
    "politics": _l("Politics"),
    "science": _l("Science"),
}


class AlreadyPromoted(UserError):
    """The idea is a lab project already; ``project_id`` says which, so the page can link it."""

    def __init__(self, project_id: int | None):
        super().__init__(_("This idea is already a lab project."), status=409)
        self.project_id = project_id


# --- checks -------------------------------------------------------------------------------


def _require_staff(actor) -> None:
    # The views check the role too; this keeps every other caller (CLI, jobs) honest.
    if not (actor is not None and actor.is_authenticated and actor.has_role("staff")):
        raise UserError(_("Only staff can manage lab projects."), status=403)


def _line(value, field: str, limit: int, required: bool = False) -> str:
    return checked_text(value, field, limit, line=True, required=required)


def _body(value, field: str, limit: int) -> str:
    return checked_text(value, field, limit)


def _check_date(value, field: str, required: bool = True) -> date | None:
    if value is None:
        if required:
            raise UserError(_("Please enter a date, for example 2026-05-01."), field=field)
        return None
    if not isinstance(value, date) or not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise UserError(
            _(
                "Please enter a date between the years %(first)d and %(last)d.",
                first=FIRST_YEAR,
                last=LAST_YEAR,
            ),
            field=field,
        )
    return value


def _texts(data: dict) -> dict:
    """Both titles (required) and both summaries (optional) of a project, checked."""
    return {
        "title_de": _line(data.get("title_de"), "title_de", TITLE_MAX, required=True),
        "title_en": _line(data.get("title_en"), "title_en", TITLE_MAX, required=True),
        "summary_de": _body(data.get("summary_de"), "summary_de", SUMMARY_MAX),
        "summary_en": _body(data.get("summary_en"), "summary_en", SUMMARY_MAX),
    }


# --- promotion ----------------------------------------------------------------------------


def project_of_idea(idea_id: int) -> LabProject | None:
    """The lab project that grew from an idea, if any (for links from the idea page)."""
    return db.session.scalar(select(LabProject).where(LabProject.idea_id == idea_id))


def promotion_problem(challenge: Challenge, idea: Idea) -> UserError | None:
    """Why the idea cannot be promoted now, or None: shown before staff fill in the form."""
    if idea.challenge_id != challenge.id:
        return UserError(_("This idea does not belong to this challenge."), status=404)
    if not challenge.is_frozen:
        return UserError(
            _(
                "The results of this challenge are not frozen yet. Ideas become lab "
                "projects only from the frozen ranking."
            ),
            status=409,
        )
    # A project names a winner, its page is public and its author is mailed: nothing of
    # the results may get out before the press office's embargo (DESIGN §7).
    if public_announcement(challenge) is None:
        return UserError(
            _(
                "Lab projects can be created once the results are public: after the press "
                "office has published them and their embargo has passed."
            ),
            status=409,
        )
    # A hidden or withdrawn idea must not reappear in public through its project.
    if idea.status != "published":
        return UserError(_("Only published ideas can become lab projects."), status=409)
    ranked = db.session.get(ShortlistEntry, (challenge.id, idea.id))
    if ranked is None:
        return UserError(_("This idea is not in the frozen ranking of the challenge."), status=409)
    existing = project_of_idea(idea.id)
    if existing is not None:
        return AlreadyPromoted(existing.id)
    return None


def promote_idea(
    actor,
    challenge: Challenge,
    idea_id: int,
    title_de: str,
    title_en: str,
    summary_de: str = "",
    summary_en: str = "",
) -> LabProject:
    """Make a ranked idea of a frozen challenge a lab project and invite its author.

    The unique ``idea_id`` decides a race between two staff members: the second insert
    fails in the database and is answered like any other second promotion.
    """
    _require_staff(actor)
    idea = db.session.get(Idea, idea_id)
    if idea is None:
        raise UserError(_("This idea does not exist."), status=404)
    problem = promotion_problem(challenge, idea)
    if problem is not None:
        raise problem
    texts = _texts(
        {"title_de": title_de, "title_en": title_en,
         "summary_de": summary_de, "summary_en": summary_en}
    )  # fmt: skip
    project = LabProject(
        challenge_id=challenge.id, idea_id=idea.id, created_by_id=actor.id, **texts
    )
    db.session.add(project)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        existing = project_of_idea(idea_id)
        raise AlreadyPromoted(existing.id if existing else None) from None
    record_action(actor, "project.create", "project", project.id, idea=idea.id)
    author = idea.author
    if author is not None and author.is_active and author.email:
        db.session.add(CoCreator(project_id=project.id, user_id=author.id, state="invited"))
        _invite_cocreator(project, author)
    db.session.commit()
    return project


def _invite_cocreator(project: LabProject, author: User) -> None:
    urls = {
        f"{answer}_url": external_url(
            "projects.cocreator_answer",
            project_id=project.id,
            answer=answer,
            token=make_token("cocreator", author.id, p=project.id, a=answer),
        )
        for answer in COCREATOR_ANSWERS
    }
    title, _lang = project.text("title", author.locale)
    jobs.enqueue(
        jobs.send_email, author.email, "cocreator_invitation", author.locale,
        {"name": author.pseudonym, "title": title, "idea_title": project_idea_title(project),
         "url": external_url("projects.show", project_id=project.id), **urls},
    )  # fmt: skip


def project_idea_title(project: LabProject) -> str:
    return db.session.scalar(select(Idea.title).where(Idea.id == project.idea_id)) or ""


# --- co-creator consent -------------------------------------------------------------------


def read_cocreator_link(project: LabProject, answer: str, token: str) -> CoCreator:
    """The invitation a link answers, checked without using the link (the confirm page).

    A link is bound to one project and one answer: neither can be swapped in the URL.
    """
    invalid = _("This link is not valid. Please copy it completely from the e-mail.")
    try:
        payload = read_token("cocreator", token, COCREATOR_LINK_MAX_AGE)
    except TokenError as error:
        raise UserError(error.message) from None
    if payload.get("p") != project.id or payload.get("a") != answer:
        raise UserError(invalid)
    cocreator = db.session.get(CoCreator, (project.id, payload["u"]))
    user = db.session.get(User, payload["u"])
    if cocreator is None or user is None or not user.is_active:
        raise UserError(invalid)
    if cocreator.state != "invited":
        raise UserError(_("You have already answered this invitation."))
    return cocreator


def answer_cocreator_invitation(project: LabProject, answer: str, token: str) -> CoCreator:
    """Accept or decline joining a project as co-creator, through the mailed link (once)."""
    cocreator = read_cocreator_link(project, answer, token)
    try:
        consume_token("cocreator", token, COCREATOR_LINK_MAX_AGE)
    except TokenError as error:
        raise UserError(error.message) from None
    # Conditional, so two answers sent at once cannot both count.
    changed = db.session.execute(
        update(CoCreator)
        .where(
            CoCreator.project_id == project.id,
            CoCreator.user_id == cocreator.user_id,
            CoCreator.state == "invited",
        )
        .values(state="accepted" if answer == "accept" else "declined", responded_at=now())
    ).rowcount
    if not changed:
        db.session.rollback()
        raise UserError(_("You have already answered this invitation."))
    # The invited person is the actor: they answered, nobody on their behalf.
    record_action(
        db.session.get(User, cocreator.user_id), "project.cocreator", "project", project.id,
        user=cocreator.user_id, answer=answer,
    )  # fmt: skip
    db.session.commit()
    db.session.refresh(cocreator)
    return cocreator


# --- running a project --------------------------------------------------------------------


def update_project(actor, project: LabProject, data: dict) -> bool:
    """Change titles, summaries and status; True when anything changed (audited)."""
    _require_staff(actor)
    values = _texts(data)
    status = data.get("status")
    if status not in PROJECT_STATES:
        raise UserError(_("Please choose a status from the list."), field="status")
    values["status"] = status
    changed = sorted(name for name, value in values.items() if getattr(project, name) != value)
    if not changed:
        return False
    for name in changed:
        setattr(project, name, values[name])
    record_action(actor, "project.update", "project", project.id, fields=changed, status=status)
    db.session.commit()
    return True


def add_partner(actor, project: LabProject, name: str, sector: str) -> Partner:
    """Add a partner with its sector (civil society, administration, ...)."""
    _require_staff(actor)
    name = _line(name, "name", PARTNER_NAME_MAX, required=True)
    if sector not in PARTNER_SECTORS:
        raise UserError(_("Please choose a sector from the list."), field="sector")
    last = db.session.scalar(
        select(func.max(Partner.position)).where(Partner.project_id == project.id)
    )
    partner = Partner(project_id=project.id, name=name, sector=sector, position=(last or 0) + 1)
    db.session.add(partner)
    db.session.flush()
    record_action(
        actor, "project.partner", "project", project.id, added=partner.id, name=name, sector=sector
    )
    db.session.commit()
    return partner


def remove_partner(actor, project: LabProject, partner: Partner) -> None:
    """Remove a partner of this project."""
    _require_staff(actor)
    if partner.project_id != project.id:
        raise UserError(_("This partner does not belong to this project."), status=404)
    record_action(
        actor, "project.partner", "project", project.id, removed=partner.id, name=partner.name
    )
    db.session.delete(partner)
    db.session.commit()


def add_milestone(
    actor, project: LabProject, title_de: str, title_en: str, due_on: date | None
) -> Milestone:
    """Add a milestone: a title in at least one language and the date it is due."""
    _require_staff(actor)
    titles = {
        "title_de": _line(title_de, "title_de", MILESTONE_TITLE_MAX),
        "title_en": _line(title_en, "title_en", MILESTONE_TITLE_MAX),
    }
    if not any(titles.values()):
        raise UserError(_("Please give the milestone a title."), field="title_de")
    milestone = Milestone(project_id=project.id, due_on=_check_date(due_on, "due_on"), **titles)
    db.session.add(milestone)
    db.session.flush()
    record_action(
        actor, "project.milestone", "project", project.id,
        added=milestone.id, due_on=milestone.due_on.isoformat(),
    )  # fmt: skip
    db.session.commit()
    return milestone


def _own_milestone(project: LabProject, milestone: Milestone) -> None:
    if milestone.project_id != project.id:
        raise UserError(_("This milestone does not belong to this project."), status=404)


def mark_milestone_reached(
    actor, project: LabProject, milestone: Milestone, reached_on: date | None
) -> None:
    """Record the day a milestone was reached (None: not reached after all)."""
    _require_staff(actor)
    _own_milestone(project, milestone)
    milestone.reached_on = _check_date(reached_on, "reached_on", required=False)
    record_action(
        actor, "project.milestone", "project", project.id, reached=milestone.id,
        reached_on=milestone.reached_on.isoformat() if milestone.reached_on else None,
    )  # fmt: skip
    db.session.commit()


def remove_milestone(actor, project: LabProject, milestone: Milestone) -> None:
    """Remove a milestone of this project."""
    _require_staff(actor)
    _own_milestone(project, milestone)
    record_action(actor, "project.milestone", "project", project.id, removed=milestone.id)
    db.session.delete(milestone)
    db.session.commit()


def publish_update(actor, project: LabProject, body_de: str, body_en: str) -> ProjectUpdate:
    """Publish a progress update and, after the commit, mail it to the idea's supporters."""
    _require_staff(actor)
    bodies = {
        "body_de": _body(body_de, "body_de", UPDATE_BODY_MAX),
        "body_en": _body(body_en, "body_en", UPDATE_BODY_MAX),
    }
    if not any(bodies.values()):
        raise UserError(_("Please write the update in at least one language."), field="body_de")
    entry = ProjectUpdate(
        project_id=project.id,
        author_id=actor.id,
        body_html_de=render_markdown(bodies["body_de"]) if bodies["body_de"] else "",
        body_html_en=render_markdown(bodies["body_en"]) if bodies["body_en"] else "",
        **bodies,
    )
    db.session.add(entry)
    db.session.flush()
    record_action(actor, "project.progress", "project", project.id, update=entry.id)
    jobs.enqueue(jobs.send_project_update_mails, entry.id)
    db.session.commit()
    return entry


# --- mails about updates ------------------------------------------------------------------


def update_recipients(idea_id: int) -> list[User]:
    """Active, verified accounts that voted for or follow the idea and want project mails.

    Each person once, even when they both voted and follow. Paper votes have no account.
    """
    voters = select(Vote.user_id).where(Vote.idea_id == idea_id)
    followers = select(IdeaFollower.user_id).where(IdeaFollower.idea_id == idea_id)
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.id.in_(voters.union(followers)),
                User.deleted_at.is_(None),
                User.email_verified_at.is_not(None),
                User.email.is_not(None),
                User.notify_projects.is_(True),
            )
            .order_by(User.id)
        )
    )


def mail_project_update(update_id: int) -> int:
    """Mail one progress update to the idea's supporters; does nothing the second time.

    Run by the job ``jobs.send_project_update_mails``; returns how many mails were queued.

    Claiming the update (setting ``mailed_at``) and recording one mail job per person
    happen in one transaction: either everybody gets the mail once, or the job runs again.
    """
    claimed = db.session.execute(
        update(ProjectUpdate)
        .where(ProjectUpdate.id == update_id, ProjectUpdate.mailed_at.is_(None))
        .values(mailed_at=now())
    ).rowcount
    if not claimed:
        db.session.rollback()
        return 0
    entry = db.session.get(ProjectUpdate, update_id)
    project = db.session.get(LabProject, entry.project_id)
    recipients = update_recipients(project.idea_id)
    url = external_url("projects.show", project_id=project.id)
    for user in recipients:
        title, _title_lang = project.text("title", user.locale)
        body = getattr(entry, f"body_{user.locale}", "") or entry.body_de or entry.body_en
        jobs.enqueue(
            jobs.send_email, user.email, "project_update", user.locale,
            {"name": user.pseudonym, "title": title, "body": body, "url": url,
             "unsubscribe_url": project_unsubscribe_url(user)},
        )  # fmt: skip
    db.session.commit()
    return len(recipients)


def project_unsubscribe_url(user: User) -> str:
    """A lasting link that switches mails about lab projects off without logging in."""
    return external_url("projects.unsubscribe", token=make_token("project-unsubscribe", user.id))


def read_unsubscribe_link(token: str) -> User:
    """The account an unsubscribe link belongs to (the confirm page); UserError if none."""
    try:
        payload = read_token("project-unsubscribe", token, max_age=None)
    except TokenError as error:
        raise UserError(error.message) from None
    user = db.session.get(User, payload["u"])
    if user is None or not user.is_active:
        raise UserError(_("This link is not valid. Please copy it completely from the e-mail."))
    return user


def unsubscribe_project_mails(token: str) -> User:
    """Use an unsubscribe link (any number of times): no more mails about lab projects."""
    user = read_unsubscribe_link(token)
    user.notify_projects = False
    db.session.commit()
    return user


# --- reading ------------------------------------------------------------------------------


def pick_text(obj, field: str, locale: str) -> tuple[str, str]:
    """(value, its language) of a bilingual field: the visitor's language, else the other."""
    other = "en" if locale == "de" else "de"
    value = getattr(obj, f"{field}_{locale}", "")
    if value:
        return value, locale
    return getattr(obj, f"{field}_{other}", ""), other


def list_projects() -> list[LabProject]:
    """Every lab project, newest first (the public list and the staff list)."""
    return list(
        db.session.scalars(
            select(LabProject).order_by(LabProject.created_at.desc(), LabProject.id.desc())
        )
    )


def challenges_of(projects: list[LabProject]) -> dict[int, Challenge]:
    """The challenges of some projects by id, in one query."""
    ids = {p.challenge_id for p in projects}
    if not ids:
        return {}
    return {c.id: c for c in db.session.scalars(select(Challenge).where(Challenge.id.in_(ids)))}


def project_page(project: LabProject, locale: str) -> dict:
    """What the public page of a project shows: only accepted co-creators are named."""
    cocreators = db.session.scalars(
        select(User.pseudonym)
        .join(CoCreator, CoCreator.user_id == User.id)
        .where(
            CoCreator.project_id == project.id,
            CoCreator.state == "accepted",
            User.deleted_at.is_(None),
        )
        .order_by(CoCreator.responded_at, User.id)
    ).all()
    partners = db.session.scalars(
        select(Partner)
        .where(Partner.project_id == project.id)
        .order_by(Partner.position, Partner.id)
    ).all()
    by_sector = {
        sector: [p for p in partners if p.sector == sector]
        for sector in PARTNER_SECTORS
        if any(p.sector == sector for p in partners)
    }
    summary, summary_lang = project.text("summary", locale)
    return {
        "project": project,
        # Staff-written Markdown, through the same safe renderer as citizens' text.
        "summary_html": render_markdown(summary) if summary else "",
        "summary_lang": summary_lang,
        "challenge": db.session.get(Challenge, project.challenge_id),
        "idea": db.session.scalar(
            select(Idea).options(joinedload(Idea.challenge)).where(Idea.id == project.idea_id)
        ),
        "cocreators": list(cocreators),
        "partners": list(partners),
        "partners_by_sector": by_sector,
        "milestones": list_milestones(project),
        "updates": list(
            db.session.scalars(
                select(ProjectUpdate)
                .where(ProjectUpdate.project_id == project.id)
                .order_by(ProjectUpdate.published_at.desc(), ProjectUpdate.id.desc())
            )
        ),
    }


def list_milestones(project: LabProject) -> list[Milestone]:
    return list(
        db.session.scalars(
            select(Milestone)
            .where(Milestone.project_id == project.id)
            .order_by(Milestone.due_on, Milestone.id)
        )
    )


def list_cocreators(project: LabProject) -> list[tuple[CoCreator, User]]:
    """Every invitation of a project with its account (staff see who answered how)."""
    return list(
        db.session.execute(
            select(CoCreator, User)
            .join(User, User.id == CoCreator.user_id)
            .where(CoCreator.project_id == project.id)
            .order_by(CoCreator.invited_at)
        )
    )


# --- a person's own data (GDPR export and deletion) ---------------------------------------


def export_own_invitations(user) -> dict:
    """Invitations to join lab projects as co-creator, with their answers."""
    rows = db.session.execute(
        select(CoCreator, LabProject.title_de, LabProject.title_en)
        .join(LabProject, LabProject.id == CoCreator.project_id)
        .where(CoCreator.user_id == user.id)
        .order_by(CoCreator.invited_at, CoCreator.project_id)
    ).all()
    return {
        "cocreator_invitations": [
            {"project_id": invitation.project_id, "project_title_de": title_de,
             "project_title_en": title_en, "state": invitation.state,
             "invited_at": invitation.invited_at.isoformat(),
             "responded_at": invitation.responded_at.isoformat()
             if invitation.responded_at else None}
            for invitation, title_de, title_en in rows
        ]
    }  # fmt: skip


def withdraw_open_invitations(user) -> None:
    """An unanswered invitation cannot be answered by a deleted account: it goes.

    Answered ones stay as a record of consent; the page names only active accounts.
    """
    db.session.execute(
        delete(CoCreator).where(CoCreator.user_id == user.id, CoCreator.state == "invited")
    )


def _register_account_hooks() -> None:
    from ..accounts import services as accounts

    if export_own_invitations not in accounts.DATA_EXPORTERS:
        accounts.DATA_EXPORTERS.append(export_own_invitations)
        accounts.DELETION_HOOKS.append(withdraw_open_invitations)


_register_account_hooks()
