"""Ideas from the room: posting from a phone, the live moderation queue, merging.

(Foundation stub: filled in by the room-ideas work.)
"""


def room_ideas_panel(event, participant) -> dict:
    """What the phone page's ideas section shows (``events/_room_ideas.html``)."""
    return {}
