"""Live events: one blueprint, its pages in several modules by who uses them.

- ``staff_views``: staff create, open and close events, print the QR poster, run rounds
  and take the outcome into the challenge.
- ``room_views``: joining by code and the phone pages (post ideas, vote, leave).
- ``moderation_views``: the room's live moderation queue.
- ``round_views``: starting and stopping rounds, and voting in them from a phone.
- ``wall_views``: the projector wall, its state and its push stream.
- ``import_views``: taking the event's outcome into the challenge.
"""

from flask import Blueprint

bp = Blueprint("events", __name__)

from . import (  # noqa: E402, F401  (each registers its pages on bp)
    import_views,
    moderation_views,
    room_views,
    round_views,
    staff_views,
    wall_views,
)
