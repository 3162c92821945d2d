"""Helpers of the wall's tests alone (imported by name; pytest does not collect this file).

Events, people, room ideas and rounds come from ``events.event_support``: the wall only
reads them. ``approve`` stands in for the room-ideas work's approval service (commit, then
announce), so the push path is tested from a real commit.
"""

from consult.clock import now
from consult.events.live import announce
from consult.extensions import db
from consult.ideas.models import Idea


def approve(idea: Idea) -> None:
    """What the moderator's approval does, as far as the wall is concerned."""
    idea.status = "room"
    idea.moderated_at = now()
    db.session.commit()
    announce(idea.event_id, "ideas")
