"""Which answer state an idea shows: one rule, in Python for a page and in SQL for a list.

The jury's shortlist and the lab decide two states themselves. Rather than copying them
into ``idea_answers`` (where a later change of the shortlist could leave a stale copy),
the state an idea *shows* is derived when it is read:

1. an answer written by a merge ("merged") stays: the idea lives on in another one;
2. an idea that became a lab project shows "lab_project";
3. an idea on the jury's shortlist shows "shortlisted";
4. otherwise the state staff chose (under review, not pursued, already planned);
5. a stored "shortlisted" or "lab_project" that no longer holds (the idea was taken off
   the shortlist before the results were frozen) shows "under_review": the text staff
   wrote is still shown, the state never contradicts the shortlist or the ranking;
6. no answer and none of the above: no state (the idea waits for its answer).

Staff cannot store a state that contradicts 1–3 (see ``services.answer_idea``).
"""

from sqlalchemy import case, exists, select

from ..ideas.models import Idea
from ..jury.models import ShortlistEntry
from ..projects.models import LabProject
from .models import ANSWER_STATES, IdeaAnswer

# States that follow from the jury, the lab or a merge, never from the answer form.
AUTOMATIC_STATES = ("shortlisted", "lab_project", "merged")
# The answer filter of the idea list: ideas there are published, so never "merged".
LIST_FILTERS = (*(s for s in ANSWER_STATES if s != "merged"), "unanswered")


def effective_state(stored: str | None, in_lab: bool, on_shortlist: bool) -> str | None:
    """The state an idea shows, from its stored answer state and where it stands."""
    if stored == "merged":
        return "merged"
    if in_lab:
        return "lab_project"
    if on_shortlist:
        return "shortlisted"
    if stored in ("shortlisted", "lab_project"):
        return "under_review"
    return stored


def effective_state_sql():
    """``effective_state`` as an SQL expression over ``Idea`` (NULL: no answer yet).

    Correlated lookups by primary or unique key: cheap for a page of 20 ideas, and a
    filter over a challenge's ideas uses the same indexes.
    """
    stored = select(IdeaAnswer.state).where(IdeaAnswer.idea_id == Idea.id).scalar_subquery()
    in_lab = exists().where(LabProject.idea_id == Idea.id)
    on_shortlist = exists().where(
        ShortlistEntry.challenge_id == Idea.challenge_id, ShortlistEntry.idea_id == Idea.id
    )
    return case(
        (stored == "merged", "merged"),
        (in_lab, "lab_project"),
        (on_shortlist, "shortlisted"),
        (stored.in_(("shortlisted", "lab_project")), "under_review"),
        else_=stored,
    )


def answer_filter_sql(value: str):
    """The idea list's condition for one of ``LIST_FILTERS``."""
    if value == "unanswered":
        return ~has_answer_sql()
    return effective_state_sql() == value


def has_answer_sql():
    """True for ideas that count as answered: an answer row, a shortlist place or a project."""
    return (
        exists().where(IdeaAnswer.idea_id == Idea.id)
        | exists().where(LabProject.idea_id == Idea.id)
        | exists().where(
            ShortlistEntry.challenge_id == Idea.challenge_id, ShortlistEntry.idea_id == Idea.id
        )
    )
