"""What the idea page shows, loaded in few queries.

The idea with its challenge, author, category and district, its photo's metadata, its
official answer and lab project, whether it is on the shortlist or took merged duplicates,
and whether the viewer follows it: one query. With the comments (one query, their authors
joined), the vote tally and the viewer's voting state, the page stays within five queries
(the account with its roles included) however many comments it has.
"""

from dataclasses import dataclass

from sqlalchemy import false, select
from sqlalchemy.orm import aliased, joinedload, lazyload

from ..accounts.models import User
from ..answers.models import IdeaAnswer
from ..extensions import db
from ..jury.models import ShortlistEntry
from ..media.models import Image
from ..projects.models import LabProject
from .models import Idea, IdeaFollower
from .services import _is_author, _is_moderator, _is_staff


@dataclass(frozen=True)
class IdeaPageFacts:
    idea: Idea
    image: Image | None
    answer: IdeaAnswer | None
    project: LabProject | None
    on_shortlist: bool
    has_merged: bool  # duplicates were merged into it (their authors are credited)
    following: bool  # the viewer follows it


def load_idea_page(idea_id: int, viewer) -> tuple[int | None, IdeaPageFacts | None]:
    """(the idea it lives in now, None) for a merged duplicate's old link; (None, facts) for
    an idea the viewer may open (the rules of ``services.get_visible_idea``); else (None,
    None): the page answers 404."""
    if not 0 < idea_id < 2**31:
        return None, None
    viewer_id = viewer.id if viewer is not None and viewer.is_authenticated else None
    shortlisted = (
        select(ShortlistEntry.idea_id)
        .where(ShortlistEntry.challenge_id == Idea.challenge_id, ShortlistEntry.idea_id == Idea.id)
        .exists()
    )
    duplicate = aliased(Idea)
    has_merged = (
        select(duplicate.id)
        .where(duplicate.merged_into_id == Idea.id, duplicate.status == "merged")
        .exists()
    )
    following = (
        select(IdeaFollower.user_id)
        .where(IdeaFollower.idea_id == Idea.id, IdeaFollower.user_id == viewer_id)
        .exists()
        if viewer_id is not None
        else false()
    )
    row = db.session.execute(
        select(Idea, Image, IdeaAnswer, LabProject, shortlisted, has_merged, following)
        .outerjoin(Image, Image.id == Idea.image_id)
        .outerjoin(IdeaAnswer, IdeaAnswer.idea_id == Idea.id)
        .outerjoin(LabProject, LabProject.idea_id == Idea.id)  # unique: at most one
        .where(Idea.id == idea_id)
        .options(
            joinedload(Idea.challenge),
            joinedload(Idea.category),
            joinedload(Idea.district),
            # The page shows the author's name only: their roles stay unloaded.
            joinedload(Idea.author).options(lazyload(User.role_grants)),
        )
    ).first()
    if row is None:
        return None, None
    idea, image, answer, project, on_shortlist, merged_in, follows = row
    if idea.status == "merged" and idea.merged_into_id is not None:
        return idea.merged_into_id, None
    if not idea.challenge.is_public() and not _is_staff(viewer):
        return None, None
    if not (
        idea.status in ("published", "hidden") or _is_author(viewer, idea) or _is_moderator(viewer)
    ):
        return None, None
    facts = IdeaPageFacts(
        idea, image, answer, project, bool(on_shortlist or project), bool(merged_in), bool(follows)
    )
    return None, facts
