"""Merging a duplicate idea into another (DESIGN §3): staff keep one idea, nothing is lost.

Votes, comments, followers, paper and event votes move from the duplicate (the source)
to the idea that stays (the target); a citizen who voted for both keeps one vote and gets
the other slot of their budget back. Both authors stay credited on the target
(``consult.events.room_ideas.credited_names``), the source's page redirects there, and its
author is told why in an official answer and a mail.

Exact under concurrent votes: the merge locks the challenge row, then both idea rows in id
order, before it reads or moves anything. A vote or withdrawal takes its idea's row lock
first (``consult.voting.services._count_change``), so it either lands before the merge
and is moved with the others, or waits and then finds the source merged (refused) or
lands on the target. Ballots are locked in user-id order (``give_slots_back``).
"""

from dataclasses import dataclass

from sqlalchemy import delete, func, literal, select, update

from .. import jobs
from ..answers.models import IdeaAnswer
from ..audit.services import record_action
from ..challenges.models import Challenge
from ..clock import now
from ..errors import FieldErrors, UserError
from ..events.models import RoundVote
from ..events.room_ideas import move_round_votes
from ..extensions import db, sql_dialect
from ..i18n import _, mail_locale
from ..ideas.models import Comment, Idea, IdeaFollower, Report
from ..ideas.services import form_id
from ..jury.locks import check_not_frozen
from ..jury.models import ShortlistEntry
from ..notifications.services import notify_people
from ..projects.models import LabProject
from ..text import checked_text, render_markdown
from ..urls import external_url
from ..voting.models import PaperVoteEntry, Vote
from ..voting.services import give_slots_back

DEPARTMENT_MAX = 160
NOTE_MAX = 2000


class AlreadyMerged(UserError):
    """The source is already merged into the chosen target: a repeated (double) submit."""

    def __init__(self, target_id: int):
        super().__init__(_("This idea has already been merged into the chosen idea."), status=409)
        self.target_id = target_id


@dataclass(frozen=True)
class MergePreview:
    """What a merge would move, shown on the confirmation page."""

    votes_moved: int
    votes_released: int  # citizens who voted for both: one vote stays, one slot comes back
    comments: int
    followers: int  # followers of the source who do not follow the target yet
    paper_votes: int
    event_votes: int  # dots of live-event rounds on the source


@dataclass(frozen=True)
class MergeResult:
    target: Idea
    preview: MergePreview


# --- what may be merged -------------------------------------------------------------------


def merge_targets(source: Idea) -> list[tuple[int, str]]:
    """(id, title) of the ideas ``source`` may be merged into: the other published ideas
    of its challenge, by title."""
    return [
        (row.id, row.title)
        for row in db.session.execute(
            select(Idea.id, Idea.title)
            .where(
                Idea.challenge_id == source.challenge_id,
                Idea.status == "published",
                Idea.id != source.id,
            )
            .order_by(Idea.title, Idea.id)
        )
    ]


def mergeable_ideas(challenge: Challenge) -> list[Idea]:
    """The published ideas of a challenge, by title: the ones staff may merge."""
    return list(
        db.session.scalars(
            select(Idea)
            .where(Idea.challenge_id == challenge.id, Idea.status == "published")
            .order_by(Idea.title, Idea.id)
        )
    )


def source_problem(source: Idea) -> UserError | None:
    """Why ``source`` cannot be merged into any idea, or None (shown before the form)."""
    try:
        check_not_frozen(source.challenge)
    except UserError as error:
        return error
    if source.status == "merged":
        return UserError(_("This idea has already been merged into another idea."), status=409)
    if source.status != "published":
        return UserError(
            _("Only published ideas can be merged; drafts, withdrawn and hidden ideas cannot."),
            status=409,
        )
    if db.session.get(ShortlistEntry, (source.challenge_id, source.id)) is not None:
        return UserError(
            _(
                "This idea is on the jury's shortlist, so it cannot be merged into another "
                "idea. Take it off the shortlist first, or merge the other idea into this one."
            ),
            status=409,
        )
    if db.session.scalar(select(LabProject.id).where(LabProject.idea_id == source.id)):
        return UserError(
            _("This idea has become a lab project, so it cannot be merged into another idea."),
            status=409,
        )
    return None


def _target_problem(source: Idea, target: Idea | None) -> UserError | None:
    if target is None or target.challenge_id != source.challenge_id:
        return UserError(
            _("The idea to keep must be an idea of the same challenge."), field="target", status=404
        )
    if target.id == source.id:
        return UserError(_("An idea cannot be merged into itself."), field="target", status=409)
    if target.status == "merged":
        # Also the cycle: the idea this one was merged from is merged, so it takes none in.
        return UserError(
            _("The idea to keep has itself been merged into another idea; choose that one."),
            field="target",
            status=409,
        )
    if target.status != "published":
        return UserError(
            _("Ideas can only be merged into a published idea."), field="target", status=409
        )
    return None


# --- what would move ----------------------------------------------------------------------


def _double_voters(source_id: int, target_id: int) -> list[int]:
    on_target = select(Vote.user_id).where(Vote.idea_id == target_id)
    return sorted(
        db.session.scalars(
            select(Vote.user_id).where(Vote.idea_id == source_id, Vote.user_id.in_(on_target))
        )
    )


def preview_merge(source: Idea, target: Idea) -> MergePreview:
    """What merging ``source`` into ``target`` would move now (nothing is changed)."""
    votes = db.session.scalar(select(func.count()).where(Vote.idea_id == source.id))
    doubles = len(_double_voters(source.id, target.id))
    comments = db.session.scalar(select(func.count()).where(Comment.idea_id == source.id))
    on_target = select(IdeaFollower.user_id).where(IdeaFollower.idea_id == target.id)
    followers = db.session.scalar(
        select(func.count()).where(
            IdeaFollower.idea_id == source.id, IdeaFollower.user_id.not_in(on_target)
        )
    )
    paper = db.session.scalar(
        select(func.coalesce(func.sum(PaperVoteEntry.count), 0)).where(
            PaperVoteEntry.idea_id == source.id
        )
    )
    dots = db.session.scalar(select(func.count()).where(RoundVote.idea_id == source.id))
    return MergePreview(votes - doubles, doubles, comments, followers, int(paper), dots)


def check_merge(source: Idea, target_id) -> Idea:
    """The target for a merge of ``source``, or the ``UserError`` saying why not (no lock:
    for the confirmation page; ``merge_idea`` checks again under the locks)."""
    problem = source_problem(source)
    if problem is not None:
        raise problem
    key = form_id(target_id)
    if key is None:
        raise UserError(_("Please choose the idea to keep."), field="target")
    target = db.session.get(Idea, key) if key else None
    problem = _target_problem(source, target)
    if problem is not None:
        raise problem
    return target


def clean_answer(department, note_de, note_en) -> dict:
    """The department and the bilingual note as stored; every refusal at its field."""
    checks = {
        "department": (department, DEPARTMENT_MAX, True),
        "note_de": (note_de, NOTE_MAX, False),
        "note_en": (note_en, NOTE_MAX, False),
    }
    errors, values = {}, {}
    for name, (raw, limit, line) in checks.items():
        try:
            values[name] = checked_text(raw, name, limit, line=line, required=line)
        except UserError as error:
            errors[name] = error.message
    if not errors and not (values["note_de"] or values["note_en"]):
        errors["note_de"] = _(
            "Please tell the author why the ideas were merged, in German or English."
        )
    if errors:
        raise FieldErrors(errors)
    return values


# --- the merge ----------------------------------------------------------------------------


def _lock(source: Idea, target_key: int) -> tuple[Idea, Idea | None]:
    """Lock the challenge row, then both idea rows in id order, and read them afresh.

    The challenge first, as a paper-vote sheet and freezing do: a merge lands before the
    freeze or is refused. FOR NO KEY UPDATE, not FOR UPDATE: every vote and ballot row
    written meanwhile takes a KEY SHARE lock on the challenge row (its foreign key), and a
    vote holding its idea's lock would otherwise wait for us while we wait for its idea
    (the race test found that deadlock). The ideas in id order: two merges crossing each
    other queue instead of deadlocking.
    """
    db.session.execute(
        select(Challenge.id)
        .where(Challenge.id == source.challenge_id)
        .with_for_update(key_share=True)
    ).all()
    locked = {
        row.id: row
        for row in db.session.scalars(
            select(Idea)
            .where(Idea.id.in_(sorted({source.id, target_key})))
            .order_by(Idea.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    db.session.refresh(source.challenge)
    return locked.get(source.id, source), locked.get(target_key)


def _move_votes(source: Idea, target: Idea) -> tuple[list[int], list[int]]:
    """Move the source's vote rows; release the second vote of those who voted for both.

    Returns (all voters of the source, the released double voters).
    """
    voters = sorted(db.session.scalars(select(Vote.user_id).where(Vote.idea_id == source.id)))
    doubles = _double_voters(source.id, target.id)
    if doubles:
        give_slots_back(source.challenge_id, doubles)
        db.session.execute(
            delete(Vote)
            .where(Vote.idea_id == source.id, Vote.user_id.in_(doubles))
            .execution_options(synchronize_session=False)
        )
    db.session.execute(
        update(Vote)
        .where(Vote.idea_id == source.id)
        .values(idea_id=target.id)
        .execution_options(synchronize_session=False)
    )
    for idea_id in (source.id, target.id):
        # The caches from the rows, not from arithmetic: the rows are the truth.
        rows = select(func.count()).where(Vote.idea_id == idea_id).scalar_subquery()
        db.session.execute(
            update(Idea)
            .where(Idea.id == idea_id)
            .values(vote_count=rows, updated_at=Idea.updated_at)
            .execution_options(synchronize_session=False)
        )
    return voters, doubles


def _move_comments(source: Idea, target: Idea) -> int:
    comment_ids = select(Comment.id).where(Comment.idea_id == source.id)
    # Reports of those comments go with them, so the report queue finds comment and idea.
    db.session.execute(
        update(Report)
        .where(Report.comment_id.in_(comment_ids))
        .values(idea_id=target.id)
        .execution_options(synchronize_session=False)
    )
    moved = db.session.execute(
        update(Comment)
        .where(Comment.idea_id == source.id)
        .values(idea_id=target.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    for idea_id in (source.id, target.id):
        published = (
            select(func.count())
            .where(Comment.idea_id == idea_id, Comment.status == "published")
            .scalar_subquery()
        )
        db.session.execute(
            update(Idea)
            .where(Idea.id == idea_id)
            .values(comment_count=published, updated_at=Idea.updated_at)
            .execution_options(synchronize_session=False)
        )
    return moved


def _move_followers(source: Idea, target: Idea) -> list[int]:
    """Followers of the source follow the target (the primary key keeps one row each)."""
    followers = sorted(
        db.session.scalars(select(IdeaFollower.user_id).where(IdeaFollower.idea_id == source.id))
    )
    if followers:
        db.session.execute(
            sql_dialect()
            .insert(IdeaFollower)
            .from_select(
                ["idea_id", "user_id", "created_at"],
                select(literal(target.id), IdeaFollower.user_id, IdeaFollower.created_at).where(
                    IdeaFollower.idea_id == source.id
                ),
            )
            .on_conflict_do_nothing()
        )
        db.session.execute(delete(IdeaFollower).where(IdeaFollower.idea_id == source.id))
    return followers


def _move_paper_votes(source: Idea, target: Idea) -> int:
    """Paper entries move whole: who entered them, when and from which event stays."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(PaperVoteEntry.count), 0)).where(
            PaperVoteEntry.idea_id == source.id
        )
    )
    db.session.execute(
        update(PaperVoteEntry)
        .where(PaperVoteEntry.idea_id == source.id)
        .values(idea_id=target.id)
        .execution_options(synchronize_session=False)
    )
    return int(total)


def _answer(source: Idea, actor, values: dict) -> None:
    """The source's official answer: "merged", with the staff's note and department."""
    answer = db.session.get(IdeaAnswer, source.id) or IdeaAnswer(idea_id=source.id)
    answer.state = "merged"
    answer.text_de, answer.text_en = values["note_de"], values["note_en"]
    answer.html_de = render_markdown(values["note_de"]) if values["note_de"] else ""
    answer.html_en = render_markdown(values["note_en"]) if values["note_en"] else ""
    answer.department = values["department"]
    answer.answered_by_id = actor.id
    answer.answered_at = now()
    db.session.add(answer)


def _note_for(values: dict, locale: str) -> str:
    own, other = values[f"note_{locale}"], values["note_en" if locale == "de" else "note_de"]
    return own or other


def _tell_people(source: Idea, target: Idea, values: dict, voters: list[int], followers):
    """The author by a transactional mail; voters and followers as an "answers" notice."""
    author = source.author
    target_url = external_url("ideas.show", idea_id=target.id)
    if author is not None and author.is_active and author.email:
        locale = mail_locale(author)
        jobs.enqueue(
            jobs.send_email, author.email, "idea_merged", locale,
            {"name": author.pseudonym, "title": source.title, "target_title": target.title,
             "url": target_url, "note": _note_for(values, locale),
             "department": values["department"]},
        )  # fmt: skip
    others = set(voters) | set(followers)
    others.discard(source.author_id)
    notify_people(
        "answers",
        source.id,
        others,
        "idea_merged_follower",
        lambda user, locale: {
            "title": source.title,
            "target_title": target.title,
            "url": target_url,
            "note": _note_for(values, locale),
            "department": values["department"],
        },
        ledger_kind="merged",
    )


def merge_idea(actor, source: Idea, target_id, department, note_de, note_en) -> MergeResult:
    """Merge the published idea ``source`` into the published idea ``target_id`` of the
    same challenge, in one transaction; audited; the people concerned are told.

    Under the locks (see the module's docstring) the states are checked again; then the
    votes move (a citizen who voted for both keeps one vote and gets a slot back), as do
    comments, followers, paper and event votes; ideas merged into the source earlier now
    point to the target (no chains); the source becomes "merged" with an official answer.
    A repeated submit of the same merge raises ``AlreadyMerged``.
    """
    values = clean_answer(department, note_de, note_en)
    key = form_id(target_id)
    if key is None:
        raise UserError(_("Please choose the idea to keep."), field="target")
    try:
        source, target = _lock(source, key)
        if source.status == "merged" and source.merged_into_id == key:
            raise AlreadyMerged(key)
        problem = source_problem(source) or _target_problem(source, target)
        if problem is not None:
            raise problem
        preview = preview_merge(source, target)
    except UserError:
        db.session.rollback()
        raise
    voters, doubles = _move_votes(source, target)
    comments = _move_comments(source, target)
    followers = _move_followers(source, target)
    paper = _move_paper_votes(source, target)
    dots_moved, dots_returned = move_round_votes(source.id, target.id)
    db.session.execute(
        update(Idea)
        .where(Idea.merged_into_id == source.id)
        .values(merged_into_id=target.id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Idea)
        .where(Idea.id == source.id, Idea.status == "published")
        .values(
            status="merged", merged_into_id=target.id, moderated_by_id=actor.id,
            moderated_at=now(),
        )
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    _answer(source, actor, values)
    record_action(
        actor, "idea.merge", "idea", source.id,
        idea=target.id, votes_moved=len(voters) - len(doubles), votes_released=len(doubles),
        comments=comments, followers=len(followers), paper_votes=paper,
        event_votes_moved=dots_moved, event_votes_returned=dots_returned,
    )  # fmt: skip
    _tell_people(source, target, values, voters, followers)
    db.session.commit()
    db.session.refresh(source)
    db.session.refresh(target)
    return MergeResult(target, preview)


def merged_target(idea_id: int) -> int | None:
    """The idea a merged idea now lives in (for the redirect of its old link), else None."""
    if not 0 < idea_id < 2**31:
        return None
    row = db.session.execute(
        select(Idea.status, Idea.merged_into_id).where(Idea.id == idea_id)
    ).first()
    if row is None or row.status != "merged" or row.merged_into_id is None:
        return None
    return row.merged_into_id


def merged_from_notice(idea: Idea, raw_id) -> Idea | None:
    """The duplicate whose old link brought the visitor to ``idea`` (``?merged_from=``), if
    it really was merged into it; anything else in the link shows no notice."""
    key = form_id(raw_id)
    if not key:
        return None
    duplicate = db.session.get(Idea, key)
    if duplicate is None or duplicate.status != "merged" or duplicate.merged_into_id != idea.id:
        return None
    return duplicate
