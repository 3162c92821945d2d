"""Use cases of voting: cast and withdraw votes within the budget, paper votes, checks.

Exactness comes from the database, never from a check-then-insert in Python:
- one vote per (idea, citizen) is the unique constraint on ``votes``;
- the budget is one conditional ``UPDATE ballots SET used = used + 1 WHERE used < budget``,
  which the database serialises per citizen (a row lock on PostgreSQL, the write lock on
  SQLite), so concurrent requests from several tabs can never exceed it;
- the cached ``ideas.vote_count`` changes in the same transaction as the rows, and
  ``check_vote_counts()`` compares it with ``COUNT(*)``.
"""

from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import islice

from flask_babel import get_timezone
from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import selectinload

from .. import jobs, ratelimit
from ..accounts.models import User
from ..audit.services import record_action
from ..challenges.models import Challenge
from ..clock import now
from ..errors import FieldErrors, UserError
from ..events.models import Event, EventParticipant, RoundBallot, RoundVote
from ..extensions import db, sql_dialect
from ..i18n import _, ngettext
from ..ideas.models import Idea
from ..jury.locks import any_juror_submitted, check_not_frozen
from ..jury.models import JurorAssignment
from ..text import clean_line, clean_text, has_invisible_characters
from ..urls import external_url
from .models import Ballot, PaperVoteEntry, Vote

# Abuse limits, fixed windows counted in Redis so that every gunicorn worker shares them.
# Per account: 60 actions a minute is one vote or withdrawal every second for a whole
# minute, far above a person tapping buttons (a budget of 5 plus a few changes of mind),
# but it stops a script after a minute's worth. Per address: a carrier's NAT puts
# hundreds of phones behind one address; 200 citizens each using a budget of 5 and
# changing their mind a few times is ~2,000 actions, so 3,000 a minute lets them all
# vote at once while still capping one address at 50 actions a second.
ACCOUNT_LIMIT, ACCOUNT_WINDOW = 60, 60
ADDRESS_LIMIT, ADDRESS_WINDOW = 3000, 60
PAPER_MAX = 100_000


@dataclass(frozen=True)
class BallotState:
    used: int
    budget: int  # 0: one vote per idea, no limit on the number of ideas
    # The idea's vote count right after a vote or withdrawal (None when not known).
    count: int | None = None
    # (paper votes, event votes) of the idea, read by the vote's own statement when asked.
    offline: tuple[int, int] | None = None

    @property
    def remaining(self) -> int | None:
        return None if self.budget == 0 else max(self.budget - self.used, 0)


# --- who may vote -----------------------------------------------------------------------


def is_juror(user, challenge: Challenge) -> bool:
    return (
        db.session.get(JurorAssignment, {"challenge_id": challenge.id, "user_id": user.id})
        is not None
    )


def _check_voting_open(challenge: Challenge) -> None:
    if not challenge.voting_open():
        raise UserError(_("Voting is not open for this challenge."), status=409)


def _check_not_juror(user_id: int, challenge_id: int) -> None:
    if db.session.get(JurorAssignment, {"challenge_id": challenge_id, "user_id": user_id}):
        raise UserError(
            _("You are on the jury of this challenge, so you cannot vote in it."), status=403
        )


def _votable_idea(challenge: Challenge, idea_id: int) -> Idea:
    idea = db.session.get(Idea, idea_id)
    if idea is not None and idea.challenge_id == challenge.id and idea.status == "merged":
        # A page opened before a merge: say where the idea went rather than "no such idea".
        raise UserError(
            _("This idea has been merged into another one. Please vote for that idea."),
            status=409,
        )
    if (
        idea is None
        or idea.challenge_id != challenge.id
        or idea.status not in ("published", "hidden")
    ):
        raise UserError(_("This idea does not exist in this challenge."), status=404)
    if idea.status == "hidden":
        raise UserError(
            _("This idea has been hidden by moderation and cannot receive votes."), status=409
        )
    return idea


def check_abuse_limits(user, address: str) -> None:
    """429 with Retry-After when an account or an address votes implausibly fast."""
    wait = ratelimit.count_and_check(
        [
            (f"vote:user:{user.id}", ACCOUNT_LIMIT, ACCOUNT_WINDOW),
            (f"vote:addr:{address}", ADDRESS_LIMIT, ADDRESS_WINDOW),
        ]
    )
    if wait:
        raise ratelimit.too_many(
            wait, _("You are voting very fast. Please wait %(seconds)d seconds.", seconds=wait)
        )


# --- casting and withdrawing ------------------------------------------------------------


# A vote's statements are built once per shape (database, offline votes asked for) with
# these parameters and bound to each vote's values: building them anew each time cost
# more than a third of a vote's time in Python.
# (Named apart from the columns: SQLAlchemy keeps a column's own name for its VALUES.)
_VALUES = {
    "idea_id": bindparam("v_idea_id", type_=Integer),
    "challenge_id": bindparam("v_challenge_id", type_=Integer),
    "user_id": bindparam("v_user_id", type_=Integer),
    "budget": bindparam("v_budget", type_=Integer),
    "created_at": bindparam("v_created_at", type_=Vote.__table__.c.created_at.type),
}


def _vote_values(user_id: int, challenge_id: int, idea_id: int, budget: int) -> dict:
    # The app's clock, not the database's: created_at follows consult.clock like the rest.
    return {
        "v_idea_id": idea_id,
        "v_challenge_id": challenge_id,
        "v_user_id": user_id,
        "v_budget": budget,
        "v_created_at": now(),
    }


def _take_slot(after=None):
    """One statement that creates the ballot or takes a slot in it, within the budget.

    The upsert locks the citizen's ballot row and checks the budget on its latest
    version, so concurrent requests of one citizen queue here. RETURNING gives the new
    number of used votes, or no row when the budget is spent. ``after``: a CTE whose row
    must exist for this to run (PostgreSQL's one-statement vote).
    """
    v = _VALUES
    insert = sql_dialect().insert(Ballot)
    if after is None:
        insert = insert.values(challenge_id=v["challenge_id"], user_id=v["user_id"], used=1)
    else:
        insert = insert.from_select(
            ["challenge_id", "user_id", "used"],
            select(v["challenge_id"], v["user_id"], literal(1)).select_from(after),
        )
    return insert.on_conflict_do_update(
        index_elements=[Ballot.challenge_id, Ballot.user_id],
        set_={"used": Ballot.used + 1},
        where=or_(v["budget"] == 0, Ballot.used < v["budget"]),
    ).returning(Ballot.used)


def _add_vote(after=None):
    """The vote row, unless it exists (a double tap): RETURNING its id, or no row.
    ``after``: a CTE whose row must exist for this to run (see ``_take_slot``)."""
    columns = ["challenge_id", "idea_id", "user_id", "created_at"]
    insert = sql_dialect().insert(Vote)
    if after is None:
        insert = insert.values({name: _VALUES[name] for name in columns})
    else:
        insert = insert.from_select(
            columns, select(*(_VALUES[name] for name in columns)).select_from(after)
        )
    return insert.on_conflict_do_nothing(index_elements=[Vote.idea_id, Vote.user_id]).returning(
        Vote.id
    )


@cache
def _cast_statements(database: str, with_offline: bool) -> tuple:
    """PostgreSQL: the one statement of a vote; SQLite: its three statements."""
    v = _VALUES
    change = _count_change(
        v["idea_id"], +1, v["challenge_id"], True, v["user_id"], with_offline, database
    )
    if database != "postgresql":
        return change, _take_slot(), _add_vote()
    change = change.cte("change")
    slot = _take_slot(after=change).cte("slot")
    return (_in_one_statement(change, slot, _add_vote(after=slot).cte("vote")),)


@cache
def _withdraw_statements(database: str, with_offline: bool) -> tuple:
    """PostgreSQL: the one statement of a withdrawal; SQLite: its three statements."""
    v = _VALUES
    change = _count_change(
        v["idea_id"], -1, v["challenge_id"], False, v["user_id"], with_offline, database
    )
    slot = (
        update(Ballot)
        .where(
            Ballot.challenge_id == v["challenge_id"],
            Ballot.user_id == v["user_id"],
            Ballot.used > 0,
        )
        .values(used=Ballot.used - 1)
        .returning(Ballot.used)
    )
    vote = delete(Vote).where(
        Vote.idea_id == v["idea_id"],
        Vote.user_id == v["user_id"],
        Vote.challenge_id == v["challenge_id"],
    )
    if database != "postgresql":
        return change, slot, vote
    change = change.cte("change")
    slot = slot.where(select(change.c.vote_count).exists()).cte("slot")
    vote = vote.where(select(slot.c.used).exists()).returning(Vote.id).cte("vote")
    return (_in_one_statement(change, slot, vote),)


def ballot_state(user, challenge: Challenge) -> BallotState:
    used = db.session.scalar(
        select(Ballot.used).where(Ballot.challenge_id == challenge.id, Ballot.user_id == user.id)
    )
    return BallotState(used or 0, challenge.vote_budget)


def has_voted(user, idea: Idea) -> bool:
    return has_voted_id(user.id, idea.id)


def has_voted_id(user_id: int, idea_id: int) -> bool:
    return (
        db.session.scalar(select(Vote.id).where(Vote.idea_id == idea_id, Vote.user_id == user_id))
        is not None
    )


def _count_change(
    idea_id: int,
    delta: int,
    challenge_id: int,
    published_only: bool,
    voter_id,
    with_offline: bool,
    database: str,
):
    """The cached count moves by ``delta``; the first statement of a vote or withdrawal.

    Going first, this UPDATE takes the idea's row lock before anything else, so votes,
    withdrawals and a moderator hiding the idea (``release_votes``) take turns per idea
    in one order (idea, then ballot, then vote rows) and cannot deadlock. With
    ``published_only`` the status is checked under that lock: a vote that waited for a
    hide finds the idea hidden and changes nothing, instead of landing on a hidden idea.

    ``voter_id``: nothing changes either if that account sits on the challenge's jury (the
    check rides along instead of costing a round trip of its own; the caller says why when
    no row came back). ``with_offline``: the idea's paper and event votes come back too,
    for the answer's count (one query less after the commit). ``database``: the name of
    the database's dialect (the statement is built once per database).
    """
    conditions = [Idea.id == idea_id, Idea.challenge_id == challenge_id]
    if published_only:
        conditions.append(Idea.status == "published")
    if voter_id is not None:
        conditions.append(
            ~select(JurorAssignment.user_id)
            .where(
                JurorAssignment.challenge_id == challenge_id, JurorAssignment.user_id == voter_id
            )
            .exists()
        )
    returned = [Idea.vote_count]
    # SQLite writes RETURNING's columns without their tables, which makes the subqueries'
    # joins ambiguous there: the caller then reads them after the commit, as before.
    if with_offline and database == "postgresql":
        paper = select(func.coalesce(func.sum(PaperVoteEntry.count), 0)).where(
            PaperVoteEntry.idea_id == idea_id
        )
        # correlate(None): the rule's own join to ideas must stay its own, not the row
        # being updated (SQLite calls that ambiguous).
        event = counted_round_votes(challenge_id, idea_id=idea_id).correlate(None).subquery()
        returned += [
            paper.scalar_subquery().label("paper"),
            select(func.coalesce(func.sum(event.c.n), 0))
            .correlate(None)
            .scalar_subquery()
            .label("event"),
        ]
    # updated_at is named so that its onupdate default does not fire: a vote is not an
    # edit of the idea (and the column would move on every vote).
    return (
        update(Idea)
        .where(*conditions)
        .values(vote_count=Idea.vote_count + delta, updated_at=Idea.updated_at)
        .returning(*returned)
    )


def _offline(row) -> tuple[int, int] | None:
    """(paper, event) votes from a ``_count_change`` row, if it returned them."""
    return (int(row.paper), int(row.event)) if "paper" in row._fields else None


def _in_one_statement(change, slot, vote):
    """PostgreSQL: the three writes of a vote or withdrawal as one statement of CTEs.

    Each write runs only on the row of the one before (the slot only if the count moved,
    the vote row only if a slot moved), and reading them in that order takes the locks
    in the order of the separate statements: idea, ballot, vote. The row that comes back
    has the count (with the offline votes, when asked), the ballot's ``used`` and the
    vote's id, None where a write found nothing; no row when the count did not move. A
    refusal rolls the whole transaction back, as with separate statements.
    """
    return select(*change.c, slot.c.used.label("used"), vote.c.id.label("vote_id")).select_from(
        change.outerjoin(slot, true()).outerjoin(vote, true())
    )


def cast_vote(user, challenge: Challenge, idea_id: int, with_offline: bool = False) -> BallotState:
    """Vote for an idea. Voting again for the same idea changes nothing (idempotent).

    Three statements and a commit (the jury check rides in the first); values are read
    before the commit, because reading expired objects afterwards would cost a query each.
    ``with_offline``: the idea's paper and event votes come back in the state too.
    """
    check_not_frozen(challenge)
    _check_voting_open(challenge)
    user_id, challenge_id, budget = user.id, challenge.id, challenge.vote_budget
    values = _vote_values(user_id, challenge_id, idea_id, budget)
    change, *rest = _cast_statements(db.engine.dialect.name, with_offline)
    changed = db.session.execute(change, values).first()
    if changed is None:
        db.session.rollback()
        _check_not_juror(user_id, challenge_id)
        _votable_idea(challenge, idea_id)  # says why: not in this challenge, or hidden
        raise UserError(_("This idea does not exist in this challenge."), status=404)
    count, offline = changed.vote_count, _offline(changed)
    if not rest:  # the one statement did all three writes
        used, added = changed.used, changed.vote_id
    else:
        take_slot, add_vote = rest
        used = db.session.scalar(take_slot, values)
        added = None if used is None else db.session.scalar(add_vote, values)
    if used is None:
        db.session.rollback()
        if has_voted_id(user_id, idea_id):
            return ballot_state(user, challenge)
        raise UserError(
            _("You have used all %(budget)d of your votes. Withdraw one to vote for this idea.",
              budget=budget),
            status=409,
        )  # fmt: skip
    if added is None:
        # Already voted (a double tap or a second tab): undo the slot, change nothing.
        db.session.rollback()
        return ballot_state(user, challenge)
    db.session.commit()
    return BallotState(used, budget, count, offline)


def withdraw_vote(
    user, challenge: Challenge, idea_id: int, with_offline: bool = False
) -> BallotState:
    """Take a vote back while voting runs; the slot is free again.

    Whatever the idea's status: a vote that is still there can always be taken back.
    """
    check_not_frozen(challenge)
    _check_voting_open(challenge)
    user_id, challenge_id, budget = user.id, challenge.id, challenge.vote_budget
    # The idea first, then the ballot, then the vote row, as in cast_vote: in another
    # order a withdrawal and a vote for the same idea deadlock on PostgreSQL.
    values = _vote_values(user_id, challenge_id, idea_id, budget)
    change, *rest = _withdraw_statements(db.engine.dialect.name, with_offline)
    changed = db.session.execute(change, values).first()
    count = None if changed is None else changed.vote_count
    offline = None if changed is None else _offline(changed)
    if changed is not None and not rest:  # the one statement did all three writes
        used, removed = changed.used, changed.vote_id is not None
    else:
        free_slot, delete_vote = rest or (None, None)
        used = None if count is None else db.session.scalar(free_slot, values)
        removed = used is not None and db.session.execute(delete_vote, values).rowcount
    if not removed:
        db.session.rollback()
        if count is None:
            _check_not_juror(user_id, challenge_id)
            raise UserError(_("This idea does not exist in this challenge."), status=404)
        raise UserError(_("You have not voted for this idea."), status=409)
    db.session.commit()
    return BallotState(used, budget, count, offline)


# --- releasing the votes of a hidden idea ------------------------------------------------


def release_votes(idea_id: int, challenge_id: int) -> list[int]:
    """Delete the votes of an idea and give each voter the slot back; the caller commits.

    Called in the transaction that hides the idea, after the hiding UPDATE took the
    idea's row lock: a vote that came first is released here, a vote that comes later
    waits for that lock and then finds the idea hidden (see ``_count_change``). Returns
    the ids of the released voters.
    """
    voters = sorted(
        db.session.scalars(
            delete(Vote)
            .where(Vote.idea_id == idea_id)
            .returning(Vote.user_id)
            .execution_options(synchronize_session=False)
        )
    )
    if not voters:
        return []
    give_slots_back(challenge_id, voters)
    db.session.execute(
        update(Idea)
        .where(Idea.id == idea_id)
        .values(vote_count=0, updated_at=Idea.updated_at)
        .execution_options(synchronize_session=False)
    )
    return voters


def give_slots_back(challenge_id: int, user_ids: list[int]) -> None:
    """One used vote back to each of these citizens' ballots; the caller commits.

    Ballots are locked in one order (by user id), so two releases of overlapping voters
    (two hides, a hide and a merge) cannot deadlock each other.
    """
    db.session.execute(
        select(Ballot.user_id)
        .where(Ballot.challenge_id == challenge_id, Ballot.user_id.in_(user_ids))
        .order_by(Ballot.user_id)
        .with_for_update()
    ).all()
    db.session.execute(
        update(Ballot)
        .where(Ballot.challenge_id == challenge_id, Ballot.user_id.in_(user_ids), Ballot.used > 0)
        .values(used=Ballot.used - 1)
        .execution_options(synchronize_session=False)
    )


# The reason given to released voters when the author, not a moderator, took the idea back.
WITHDRAWN_BY_AUTHOR = "withdrawn_by_author"


def tell_released_voters(user_ids: list[int], idea: Idea, challenge: Challenge, reason: str):
    """Record one mail per released voter, in their language, in the caller's transaction:
    the idea was hidden (or its author withdrew it: ``WITHDRAWN_BY_AUTHOR``) and the vote is
    free again. Deleted accounts get no mail."""
    if not user_ids:
        return
    url = external_url("challenges.show", challenge_id=challenge.id)
    voters = db.session.scalars(
        select(User).where(User.id.in_(user_ids), User.deleted_at.is_(None)).order_by(User.id)
    )
    for voter in voters:
        challenge_title, _lang = challenge.text("title", voter.locale)
        jobs.enqueue(
            jobs.send_email, voter.email, "vote_released", voter.locale,
            {"name": voter.pseudonym, "title": idea.title, "challenge_title": challenge_title,
             "reason": reason, "url": url},
        )  # fmt: skip


def voted_idea_ids(user, challenge: Challenge) -> set[int]:
    """The ideas of one challenge the user voted for (for the buttons on a list page)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        db.session.scalars(
            select(Vote.idea_id).where(Vote.challenge_id == challenge.id, Vote.user_id == user.id)
        )
    )


def budget_message(state: BallotState) -> str:
    """The remaining budget as a sentence: "2 of 5 votes left" (budget 0: ideas voted for)."""
    if state.remaining is None:
        return ngettext(
            "You have voted for %(num)d idea.", "You have voted for %(num)d ideas.", state.used
        )
    return _("%(left)d of %(budget)d votes left", left=state.remaining, budget=state.budget)


@dataclass(frozen=True)
class VotingPanel:
    """What a page with vote buttons needs to know about the viewer, for one challenge."""

    open: bool  # voting runs
    anonymous: bool  # show "Log in to vote" links (no forms: the page stays cacheable)
    juror: bool  # on the jury of this challenge: no buttons
    voter: bool  # show the buttons
    state: BallotState | None = None
    voted: frozenset[int] = frozenset()
    also: tuple = ()  # voting_panel's further facts: a tuple of values per function

    @property
    def budget(self) -> str:
        return budget_message(self.state) if self.state else ""


@cache
def _panel_statement(one_idea: bool, also: tuple = ()):
    """The query of ``voting_panel``, built once (with or without an idea, per set of
    further facts) and bound; and the number of columns of each further fact."""
    v = _VALUES
    used = (
        select(Ballot.used)
        .where(Ballot.challenge_id == v["challenge_id"], Ballot.user_id == v["user_id"])
        .scalar_subquery()
    )
    juror = (
        select(JurorAssignment.user_id)
        .where(
            JurorAssignment.challenge_id == v["challenge_id"],
            JurorAssignment.user_id == v["user_id"],
        )
        .exists()
    )
    facts = [columns(v["challenge_id"], v["user_id"]) for columns in also]
    further = [column for columns in facts for column in columns]
    # The ideas voted for as rows of the same query: one row per vote (one row of NULL
    # without any), each carrying the ballot, the jury seat and the further facts.
    voted_on = and_(Vote.challenge_id == v["challenge_id"], Vote.user_id == v["user_id"])
    if one_idea:
        voted_on = and_(voted_on, Vote.idea_id == v["idea_id"])
    one = select(literal(1).label("one")).subquery()
    statement = (
        select(Vote.idea_id, func.coalesce(used, 0), juror, *further)
        .select_from(one)
        .outerjoin(Vote, voted_on)
    )
    return statement, tuple(len(columns) for columns in facts)


def voting_panel(user, challenge: Challenge, idea_id: int | None = None, also=()) -> VotingPanel:
    """The viewer's voting state for a page: one query, however many ideas it lists.

    ``idea_id`` limits the voted ideas to one (the idea page); otherwise all of the challenge.
    ``also``: functions ``(challenge_id, user_id) -> [columns]`` of further facts about a
    citizen that the page needs (results mail, following), fetched in the same query
    whether voting runs or not; ``panel.also`` holds a tuple of their values for each
    function, in order (empty for anybody but a citizen).
    """
    is_open = challenge.voting_open()
    if not getattr(user, "is_authenticated", False):
        return VotingPanel(open=is_open, anonymous=is_open, juror=False, voter=False)
    # Unverified citizens see the button too: posting explains that they must confirm first.
    if "citizen" not in user.roles or not (is_open or also):
        return VotingPanel(open=is_open, anonymous=False, juror=False, voter=False)
    statement, sizes = _panel_statement(idea_id is not None, tuple(also))
    rows = db.session.execute(
        statement, {"v_challenge_id": challenge.id, "v_user_id": user.id, "v_idea_id": idea_id}
    ).all()
    _idea, used, is_juror_here, *further = rows[0]
    values = iter(further)
    facts = tuple(tuple(islice(values, size)) for size in sizes)
    if not is_open or is_juror_here:
        return VotingPanel(
            open=is_open,
            anonymous=False,
            juror=is_open and bool(is_juror_here),
            voter=False,
            also=facts,
        )
    return VotingPanel(
        open=True,
        anonymous=False,
        juror=False,
        voter=True,
        state=BallotState(used, challenge.vote_budget),
        voted=frozenset(row[0] for row in rows if row[0] is not None),
        also=facts,
    )


# --- counts as the public sees them -----------------------------------------------------


@dataclass(frozen=True)
class VoteTally:
    """An idea's votes as the public sees them: online (the rows), paper and event votes.

    Paper and event votes ("offline" votes) join the total only when the challenge counts
    them, exactly as the ranking does; otherwise they are shown apart as not counted.
    """

    online: int
    paper: int
    paper_counted: bool  # whether the challenge counts offline votes (paper and event)
    event: int = 0

    @property
    def total(self) -> int:
        return self.online + (self.paper + self.event if self.paper_counted else 0)

    @property
    def label(self) -> str:
        """ "84 votes" """
        return ngettext("%(num)d vote", "%(num)d votes", self.total)

    @property
    def detail(self) -> str:
        """ "84 votes: 12 online, 40 on paper, 32 at events" (the parts that are not zero,
        online always) when offline votes count, else the label."""
        if not ((self.paper or self.event) and self.paper_counted):
            return self.label
        if not self.event:
            return ngettext(
                "%(num)d vote: %(online)d online, %(paper)d on paper",
                "%(num)d votes: %(online)d online, %(paper)d on paper",
                self.total,
                online=self.online,
                paper=self.paper,
            )
        if not self.paper:
            return ngettext(
                "%(num)d vote: %(online)d online, %(event)d at events",
                "%(num)d votes: %(online)d online, %(event)d at events",
                self.total,
                online=self.online,
                event=self.event,
            )
        return ngettext(
            "%(num)d vote: %(online)d online, %(paper)d on paper, %(event)d at events",
            "%(num)d votes: %(online)d online, %(paper)d on paper, %(event)d at events",
            self.total,
            online=self.online,
            paper=self.paper,
            event=self.event,
        )

    @property
    def uncounted(self) -> str:
        """Paper and event votes that this challenge does not count, as sentences (or "")."""
        if self.paper_counted:
            return ""
        parts = []
        if self.paper:
            parts.append(
                ngettext(
                    "%(num)d paper vote is not counted in this challenge.",
                    "%(num)d paper votes are not counted in this challenge.",
                    self.paper,
                )
            )
        if self.event:
            parts.append(
                ngettext(
                    "%(num)d vote from events is not counted in this challenge.",
                    "%(num)d votes from events are not counted in this challenge.",
                    self.event,
                )
            )
        return " ".join(parts)


def vote_tally(idea: Idea, online: int | None = None) -> VoteTally:
    """The idea's tally: one query for its paper and event votes (``online`` defaults to
    the cache)."""
    paper, event = offline_votes_of(idea.id, idea.challenge_id)
    return VoteTally(
        idea.vote_count if online is None else online,
        paper,
        bool(idea.challenge.count_paper_votes),
        event,
    )


def paper_votes_by_idea(challenge_id: int):
    """A subquery (idea_id, n) of the paper votes per idea of one challenge.

    Paper votes come from few workshops, so this is small; lists join it to sort by and
    show the counted total in the same query as the ideas.
    """
    return (
        select(PaperVoteEntry.idea_id, func.sum(PaperVoteEntry.count).label("n"))
        .join(Idea, Idea.id == PaperVoteEntry.idea_id)
        .where(Idea.challenge_id == challenge_id)
        .group_by(PaperVoteEntry.idea_id)
        .subquery("paper")
    )


# --- event votes: the rounds of live events taken into the challenge --------------------


def imported_rounds(challenge_id: int):
    """The rounds whose votes are event votes of a challenge: one per imported event."""
    return select(Event.imported_round_id).where(
        Event.challenge_id == challenge_id, Event.imported_round_id.is_not(None)
    )


def counted_round_votes(challenge_id: int, rounds=None, idea_id: int | None = None):
    """THE rule of event votes, as a subquery (idea_id, n): the one place that counts them.

    Event votes are not copied anywhere: they are counted from the ``RoundVote`` rows of
    the rounds taken into the challenge (``rounds``, a select of round ids; by default
    every imported round). Nothing is counted twice:
    - a registered citizen's dot counts only when they have no online vote for the same
      idea (the online vote already counts), and at most once per idea across all events
      (``count(DISTINCT user_id)``);
    - anonymous participants' dots count each (one per participant, round and idea, by
      the rounds' unique constraint).
    The outer join to ``votes`` is on (idea, user), unique there, so it never multiplies rows.
    """
    rounds = imported_rounds(challenge_id) if rounds is None else rounds
    conditions = [
        RoundVote.round_id.in_(rounds),
        Idea.challenge_id == challenge_id,
        Vote.id.is_(None),
    ]
    if idea_id is not None:
        conditions.append(RoundVote.idea_id == idea_id)
    anonymous = func.count(case((EventParticipant.user_id.is_(None), RoundVote.id)))
    registered = func.count(EventParticipant.user_id.distinct())
    return (
        select(RoundVote.idea_id.label("idea_id"), (anonymous + registered).label("n"))
        .join(EventParticipant, EventParticipant.id == RoundVote.participant_id)
        .join(Idea, Idea.id == RoundVote.idea_id)
        .outerjoin(
            Vote, and_(Vote.idea_id == RoundVote.idea_id, Vote.user_id == EventParticipant.user_id)
        )
        .where(*conditions)
        .group_by(RoundVote.idea_id)
    )


def event_votes_by_idea(challenge_id: int):
    """A subquery (idea_id, n) of the event votes per idea of one challenge."""
    return counted_round_votes(challenge_id).subquery("event")


def offline_votes_by_idea(challenge_id: int):
    """A subquery (idea_id, n) of paper plus event votes per idea of one challenge: what
    lists, figures and exports add to the online votes when the challenge counts them."""
    paper = select(PaperVoteEntry.idea_id.label("idea_id"), PaperVoteEntry.count.label("n")).join(
        Idea, and_(Idea.id == PaperVoteEntry.idea_id, Idea.challenge_id == challenge_id)
    )
    both = union_all(paper, counted_round_votes(challenge_id)).subquery("offline_parts")
    return (
        select(both.c.idea_id, func.sum(both.c.n).label("n"))
        .group_by(both.c.idea_id)
        .subquery("offline")
    )


def event_vote_totals(challenge: Challenge) -> dict[int, int]:
    """Event votes per idea of a challenge, in one query."""
    rows = db.session.execute(counted_round_votes(challenge.id))
    return {idea_id: int(n) for idea_id, n in rows if n}


def offline_votes_of(idea_id: int, challenge_id: int) -> tuple[int, int]:
    """(paper votes, event votes) of one idea, in one query."""
    paper = select(func.coalesce(func.sum(PaperVoteEntry.count), 0)).where(
        PaperVoteEntry.idea_id == idea_id
    )
    event = counted_round_votes(challenge_id, idea_id=idea_id).subquery()
    paper_n, event_n = db.session.execute(
        select(
            paper.scalar_subquery(), select(func.coalesce(func.sum(event.c.n), 0)).scalar_subquery()
        )
    ).one()
    return int(paper_n), int(event_n)


# --- the citizen's own votes (/my/votes) -------------------------------------------------


@dataclass(frozen=True)
class MyVote:
    idea: Idea
    tally: VoteTally


@dataclass
class MyChallengeVotes:
    """The user's votes in one challenge, with what they can still do there."""

    challenge: Challenge
    state: BallotState
    votes: list[MyVote]

    @property
    def voting_open(self) -> bool:
        return self.challenge.voting_open()

    @property
    def counts_hidden(self) -> bool:
        return bool(self.challenge.hide_counts_while_voting) and self.voting_open

    @property
    def budget(self) -> str:
        """ "2 of 3 votes left", or for a budget of 0 that votes are unlimited."""
        if self.state.remaining is None:
            return ngettext(
                "Votes are unlimited in this challenge; you have voted for %(num)d idea.",
                "Votes are unlimited in this challenge; you have voted for %(num)d ideas.",
                self.state.used,
            )
        return budget_message(self.state)


def my_votes(user) -> list[MyChallengeVotes]:
    """The user's votes by challenge, challenges with voting open first, then the one voted
    in most recently; newest vote first within each. Three queries, however many votes."""
    mine = select(Vote.idea_id).where(Vote.user_id == user.id)
    paper = (
        select(PaperVoteEntry.idea_id, func.sum(PaperVoteEntry.count).label("n"))
        .where(PaperVoteEntry.idea_id.in_(mine))
        .group_by(PaperVoteEntry.idea_id)
        .subquery("paper")
    )
    rows = db.session.execute(
        select(Idea, func.coalesce(paper.c.n, 0))
        .join(Vote, and_(Vote.idea_id == Idea.id, Vote.user_id == user.id))
        .outerjoin(paper, paper.c.idea_id == Idea.id)
        .options(selectinload(Idea.challenge))
        .order_by(Vote.created_at.desc(), Vote.id.desc())
    ).all()
    used = dict(
        db.session.execute(
            select(Ballot.challenge_id, Ballot.used).where(Ballot.user_id == user.id)
        ).all()
    )
    groups: dict[int, MyChallengeVotes] = {}
    for idea, paper_votes in rows:
        challenge = idea.challenge
        group = groups.get(challenge.id)
        if group is None:
            state = BallotState(used.get(challenge.id, 0), challenge.vote_budget)
            group = groups[challenge.id] = MyChallengeVotes(challenge, state, [])
        tally = VoteTally(idea.vote_count, int(paper_votes), bool(challenge.count_paper_votes))
        group.votes.append(MyVote(idea, tally))
    # Stable sort: within open and closed, the order of the newest vote stays.
    return sorted(groups.values(), key=lambda group: not group.voting_open)


# --- paper votes ------------------------------------------------------------------------


def enter_paper_votes(
    actor, idea: Idea, count: int, event_name: str, note: str = ""
) -> PaperVoteEntry:
    """Record votes collected on paper (a negative count corrects an earlier entry); audited.

    Refused once a juror has submitted: from then on staff may see jury values, and votes
    entered after that could be steered by them.
    """
    check_paper_votes_open(idea.challenge)
    if (
        not isinstance(count, int)
        or isinstance(count, bool)
        or count == 0
        or abs(count) > PAPER_MAX
    ):
        raise UserError(
            _("Please enter a whole number other than 0, at most %(max)d.", max=PAPER_MAX),
            field="count",
        )
    name = clean_line(event_name or "")
    if not name or len(name) > 120 or has_invisible_characters(name):
        raise UserError(_("Please name the event (at most 120 characters)."), field="event_name")
    note = clean_text(note or "")
    if len(note) > 1000:
        raise UserError(_("Please use at most %(max)d characters.", max=1000), field="note")
    if idea.status != "published":
        raise UserError(_("Paper votes can only be entered for published ideas."), status=409)
    if idea.challenge.phase() in ("results", "archived"):
        raise UserError(
            _("The results of this challenge are out; votes can no longer change."), status=409
        )
    # The lock first, then the total: two corrections arriving together take turns, so the
    # second sees the first and cannot take the total below zero.
    _hold_unfrozen(idea.challenge)
    try:
        check_paper_votes_open(idea.challenge)
        if paper_vote_total(idea.id) + count < 0:
            raise UserError(
                _("A correction cannot take the paper votes below zero."), field="count"
            )
    except UserError:
        db.session.rollback()
        raise
    entry = PaperVoteEntry(
        idea_id=idea.id, count=count, event_name=name, note=note, entered_by_id=actor.id
    )
    db.session.add(entry)
    db.session.flush()
    record_action(
        actor, "votes.paper_entry", "idea", idea.id, count=count, event=name, entry=entry.id
    )
    db.session.commit()
    return entry


# A sheet lists every idea of a challenge; more fields than this is not a sheet but a script.
SHEET_IDEAS_MAX = 1000


def _sheet_count(raw) -> int | None:
    """A count on a sheet: empty is 0; otherwise ASCII digits up to PAPER_MAX, else None.

    int() would also take "1_000", " ١٢ " or "-3"; a sheet never corrects (see
    enter_paper_votes), so a minus is refused like any other stray character.
    """
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if 0 <= raw <= PAPER_MAX else None
    text = raw.strip() if isinstance(raw, str) else None
    if text is None:
        return None
    if text == "":
        return 0
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or int(text) > PAPER_MAX:
        return None
    return int(text)


def sheet_field(idea_id) -> str:
    """The form field of one idea's count on a sheet."""
    return f"count-{idea_id}"


def _sheet_date(raw, challenge: Challenge) -> date | None:
    """The event day (YYYY-MM-DD, Berlin): not in the future, not before ideas came in."""
    if isinstance(raw, date):
        day = raw
    else:
        try:
            day = date.fromisoformat(raw.strip()) if isinstance(raw, str) else None
        except ValueError:
            day = None
    if day is None:
        return None
    zone = get_timezone()
    first = challenge.submission_opens_at.astimezone(zone).date()
    today = now().astimezone(zone).date()
    return day if first <= day <= today else None


def paper_sheet_today() -> date:
    """Today in the city (Berlin): the date a new sheet starts with."""
    return now().astimezone(get_timezone()).date()


def enter_paper_vote_sheet(
    actor, challenge: Challenge, event_name: str, event_date, counts: dict, note: str = ""
) -> list[PaperVoteEntry]:
    """Record one workshop sheet: a count per idea, all in one transaction, one audit entry.

    ``counts`` maps idea id (int or the text a form sent) to the count as typed; empty
    means 0. All or nothing: any refused value stores nothing, and every refusal is
    reported at its field at once (``FieldErrors``). A sheet only adds: corrections are
    single entries with a negative count (``enter_paper_votes``). Locked like single
    entries once a juror has submitted or the results are frozen.
    """
    try:
        check_paper_votes_open(challenge)
        if challenge.phase() in ("results", "archived"):
            raise UserError(
                _("The results of this challenge are out; votes can no longer change."),
                status=409,
            )
        if not isinstance(counts, dict) or len(counts) > SHEET_IDEAS_MAX:
            raise UserError(_("This sheet does not match the ideas of this challenge."))
        errors: dict[str, str] = {}
        name = clean_line(event_name or "") if isinstance(event_name, str) else ""
        if not name or len(name) > 120 or has_invisible_characters(name):
            errors["event_name"] = _("Please name the event (at most 120 characters).")
        day = _sheet_date(event_date, challenge)
        if day is None:
            errors["event_date"] = _(
                "Please enter the day of the event, from the start of the challenge to today."
            )
        cleaned_note = clean_text(note or "") if isinstance(note, str) else ""
        if len(cleaned_note) > 1000 or has_invisible_characters(cleaned_note):
            errors["note"] = _("Please use at most %(max)d characters.", max=1000)
        wanted: dict[int, int] = {}
        for key, raw in counts.items():
            text = str(key)
            value = _sheet_count(raw)
            if not (text.isascii() and text.isdigit()) or len(text) > 9:
                errors["form"] = _("This sheet does not match the ideas of this challenge.")
            elif value is None:
                errors[sheet_field(text)] = _(
                    "Please enter a whole number from 0 to %(max)d, or leave the field empty.",
                    max=PAPER_MAX,
                )
            elif value:
                wanted[int(text)] = value
        # The ideas' rows are locked with the challenge row, so a moderator hiding one of
        # them waits for this sheet or is seen by it.
        _hold_unfrozen(challenge)
        check_paper_votes_open(challenge)
        status = 400
        statuses = (
            dict(
                db.session.execute(
                    select(Idea.id, Idea.status)
                    .where(Idea.id.in_(list(wanted)), Idea.challenge_id == challenge.id)
                    .with_for_update()
                ).all()
            )
            if wanted
            else {}
        )
        for idea_id in wanted:
            if idea_id not in statuses:
                errors["form"] = _("This sheet does not match the ideas of this challenge.")
            elif statuses[idea_id] != "published":
                errors[sheet_field(idea_id)] = _(
                    "Paper votes can only be entered for published ideas."
                )
                status = 409
        if not wanted and not errors:
            errors["form"] = _("Please enter the paper votes of at least one idea.")
        if errors:
            raise FieldErrors(errors, status=status)
    except UserError:
        db.session.rollback()
        raise
    entries = [
        PaperVoteEntry(
            idea_id=idea_id, count=count, event_name=name, event_date=day, note=cleaned_note,
            entered_by_id=actor.id,
        )
        for idea_id, count in sorted(wanted.items())
    ]  # fmt: skip
    db.session.add_all(entries)
    db.session.flush()
    record_action(
        actor, "votes.paper_sheet", "challenge", challenge.id,
        event=name, date=day.isoformat(), counts={str(e.idea_id): e.count for e in entries},
        total=sum(wanted.values()), entries=[e.id for e in entries],
    )  # fmt: skip
    db.session.commit()
    return entries


def paper_votes_lock(challenge: Challenge) -> str | None:
    """Why paper votes of this challenge can no longer be entered (translated), or None."""
    try:
        check_paper_votes_open(challenge)
    except UserError as error:
        return error.message
    return None


def check_paper_votes_open(challenge: Challenge) -> None:
    """Paper votes may come in until the first juror submits, and never after freezing."""
    check_not_frozen(challenge)
    if any_juror_submitted(challenge):
        raise UserError(
            _(
                "A juror has already submitted scores for this challenge, so paper votes "
                "can no longer be entered or corrected."
            ),
            status=409,
        )


def _hold_unfrozen(challenge: Challenge) -> None:
    # Paper votes may still come in while the jury works. Locking the challenge row until
    # commit makes an entry and freeze_results (which updates that row first) take turns,
    # so an entry is either in the frozen snapshot or refused, never silently left out.
    frozen_at = db.session.scalar(
        select(Challenge.results_frozen_at).where(Challenge.id == challenge.id).with_for_update()
    )
    if frozen_at is not None:
        db.session.rollback()
        db.session.refresh(challenge)
        check_not_frozen(challenge)


def paper_vote_total(idea_id: int) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(PaperVoteEntry.count), 0)).where(
            PaperVoteEntry.idea_id == idea_id
        )
    )


def paper_vote_totals(challenge: Challenge) -> dict[int, int]:
    """Paper votes per idea of a challenge, in one query."""
    rows = db.session.execute(
        select(PaperVoteEntry.idea_id, func.sum(PaperVoteEntry.count))
        .join(Idea, Idea.id == PaperVoteEntry.idea_id)
        .where(Idea.challenge_id == challenge.id)
        .group_by(PaperVoteEntry.idea_id)
    )
    return {idea_id: int(total) for idea_id, total in rows}


@dataclass(frozen=True)
class PaperVoteLine:
    idea: Idea
    online: int
    paper: int
    total: int  # paper and event votes counted only when the challenge says so
    event: int = 0


def paper_vote_board(challenge: Challenge) -> list[PaperVoteLine]:
    """Every published idea with its online votes (rows), paper and event votes and total."""
    online = dict(
        db.session.execute(
            select(Vote.idea_id, func.count())
            .where(Vote.challenge_id == challenge.id)
            .group_by(Vote.idea_id)
        ).all()
    )
    paper = paper_vote_totals(challenge)
    event = event_vote_totals(challenge)
    ideas = db.session.scalars(
        select(Idea)
        .where(Idea.challenge_id == challenge.id, Idea.status == "published")
        .order_by(Idea.title, Idea.id)
    )
    lines = []
    for idea in ideas:
        n, p, e = online.get(idea.id, 0), paper.get(idea.id, 0), event.get(idea.id, 0)
        total = n + p + e if challenge.count_paper_votes else n
        lines.append(PaperVoteLine(idea, n, p, total, e))
    return lines


def list_paper_entries(challenge: Challenge) -> list[PaperVoteEntry]:
    """Every paper-vote entry of a challenge, newest first, with who entered it."""
    return list(
        db.session.scalars(
            select(PaperVoteEntry)
            .join(Idea, Idea.id == PaperVoteEntry.idea_id)
            .where(Idea.challenge_id == challenge.id)
            .order_by(PaperVoteEntry.entered_at.desc(), PaperVoteEntry.id.desc())
        )
    )


def offline_vote_totals(challenge: Challenge) -> dict[int, int]:
    """Paper plus event votes per idea of a challenge, in one query."""
    offline = offline_votes_by_idea(challenge.id)
    return {i: int(n) for i, n in db.session.execute(select(offline.c.idea_id, offline.c.n)) if n}


def counted_votes(challenge: Challenge) -> dict[int, int]:
    """Votes per published idea from the rows (plus paper and event votes when the
    challenge counts offline votes)."""
    ideas = db.session.scalars(
        select(Idea.id).where(Idea.challenge_id == challenge.id, Idea.status == "published")
    )
    return counted_votes_for(challenge, ideas)


def counted_votes_for(challenge: Challenge, idea_ids) -> dict[int, int]:
    """Votes of the given ideas from the rows (plus paper and event votes when the challenge
    counts offline votes), whatever their status now: a shortlisted idea hidden later keeps
    the votes it got."""
    ids = list(idea_ids)
    if not ids:
        return {}
    online = dict(
        db.session.execute(
            select(Vote.idea_id, func.count())
            .where(Vote.challenge_id == challenge.id, Vote.idea_id.in_(ids))
            .group_by(Vote.idea_id)
        ).all()
    )
    offline = offline_vote_totals(challenge) if challenge.count_paper_votes else {}
    return {i: online.get(i, 0) + offline.get(i, 0) for i in ids}


# --- checking the caches ----------------------------------------------------------------


def check_vote_counts(repair: bool = False) -> list[tuple[int, int, int]]:
    """(idea id, cached count, rows) for every idea whose cache differs from its rows."""
    rows = select(Vote.idea_id, func.count().label("n")).group_by(Vote.idea_id).subquery()
    mismatches = [
        (idea_id, cached, actual)
        for idea_id, cached, actual in db.session.execute(
            select(Idea.id, Idea.vote_count, func.coalesce(rows.c.n, 0))
            .outerjoin(rows, rows.c.idea_id == Idea.id)
            .where(Idea.vote_count != func.coalesce(rows.c.n, 0))
        )
    ]
    if repair and mismatches:
        for idea_id, _cached, actual in mismatches:
            db.session.execute(update(Idea).where(Idea.id == idea_id).values(vote_count=actual))
        db.session.commit()
    return mismatches


def _unreleased_votes():
    """Votes on ideas hidden while voting ran, per idea: there must be none.

    Hiding an idea while voting runs releases its votes (``release_votes``); its last
    moderation, the hide, is then before the close of voting. Ideas hidden after voting
    closed keep their votes, as the ranking does.
    """
    return (
        select(Idea.id, func.count(Vote.id))
        .join(Vote, Vote.idea_id == Idea.id)
        .join(Challenge, Challenge.id == Idea.challenge_id)
        .where(Idea.status == "hidden", Idea.moderated_at < Challenge.voting_closes_at)
        .group_by(Idea.id)
        .order_by(Idea.id)
    )


def check_released_votes(repair: bool = False) -> list[tuple[int, int]]:
    """(idea id, votes) for every idea hidden while voting ran that still holds votes.

    With ``repair`` the votes are released as the hide would have done (audited); their
    voters are mailed while voting still runs, when the freed vote can still be used.
    """
    mismatches = [tuple(row) for row in db.session.execute(_unreleased_votes())]
    if repair and mismatches:
        for idea_id, _votes in mismatches:
            idea = db.session.get(Idea, idea_id)
            challenge = idea.challenge
            if challenge.is_frozen:
                continue  # frozen results never change; the report stays for a person
            released = release_votes(idea.id, challenge.id)
            record_action(None, "votes.release", "idea", idea.id, votes_released=len(released))
            if challenge.voting_open():
                tell_released_voters(released, idea, challenge, idea.moderation_reason)
        db.session.commit()
    return mismatches


def check_ballots(repair: bool = False) -> list[tuple[int, int, int, int]]:
    """(challenge id, user id, cached used, rows) for every ballot that differs from its votes.

    A citizen with votes but no ballot row counts too (cached used 0).
    """
    rows = (
        select(Vote.challenge_id, Vote.user_id, func.count().label("n"))
        .group_by(Vote.challenge_id, Vote.user_id)
        .subquery()
    )
    stale = (
        select(Ballot.challenge_id, Ballot.user_id, Ballot.used, func.coalesce(rows.c.n, 0))
        .outerjoin(
            rows, and_(rows.c.challenge_id == Ballot.challenge_id, rows.c.user_id == Ballot.user_id)
        )
        .where(Ballot.used != func.coalesce(rows.c.n, 0))
    )
    missing = (
        select(rows.c.challenge_id, rows.c.user_id, literal(0), rows.c.n)
        .outerjoin(
            Ballot,
            and_(rows.c.challenge_id == Ballot.challenge_id, rows.c.user_id == Ballot.user_id),
        )
        .where(Ballot.user_id.is_(None))
    )
    mismatches = sorted(
        tuple(row) for row in db.session.execute(stale).all() + db.session.execute(missing).all()
    )
    if repair and mismatches:
        for challenge_id, user_id, _cached, actual in mismatches:
            db.session.execute(
                sql_dialect()
                .insert(Ballot)
                .values(challenge_id=challenge_id, user_id=user_id, used=actual)
                .on_conflict_do_update(
                    index_elements=[Ballot.challenge_id, Ballot.user_id], set_={"used": actual}
                )
            )
        db.session.commit()
    return mismatches


def check_round_ballots(repair: bool = False) -> list[tuple[int, int, int, int]]:
    """(round id, participant id, cached used, rows) for every round ballot whose ``used``
    differs from the participant's dots in that round (a ballot with no row counts as 0).

    Event votes themselves are counted from the rows (``counted_round_votes``), so there is
    no cache of them to check; only the budget's counter can drift.
    """
    rows = (
        select(RoundVote.round_id, RoundVote.participant_id, func.count().label("n"))
        .group_by(RoundVote.round_id, RoundVote.participant_id)
        .subquery()
    )
    join = and_(
        rows.c.round_id == RoundBallot.round_id, rows.c.participant_id == RoundBallot.participant_id
    )
    stale = (
        select(
            RoundBallot.round_id,
            RoundBallot.participant_id,
            RoundBallot.used,
            func.coalesce(rows.c.n, 0),
        )
        .outerjoin(rows, join)
        .where(RoundBallot.used != func.coalesce(rows.c.n, 0))
    )
    missing = (
        select(rows.c.round_id, rows.c.participant_id, literal(0), rows.c.n)
        .outerjoin(RoundBallot, join)
        .where(RoundBallot.round_id.is_(None))
    )
    mismatches = sorted(
        tuple(row) for row in db.session.execute(stale).all() + db.session.execute(missing).all()
    )
    if repair and mismatches:
        for round_id, participant_id, _cached, actual in mismatches:
            db.session.execute(
                sql_dialect()
                .insert(RoundBallot)
                .values(round_id=round_id, participant_id=participant_id, used=actual)
                .on_conflict_do_update(
                    index_elements=[RoundBallot.round_id, RoundBallot.participant_id],
                    set_={"used": actual},
                )
            )
        db.session.commit()
    return mismatches
