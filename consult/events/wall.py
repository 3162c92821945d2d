"""The projector wall's state, fetched by the wall after each push.

(Foundation stub: filled in by the wall work.)
"""


def wall_panel(event) -> dict:
    """What the staff event page's wall section shows (``events/_staff_wall.html``)."""
    return {}
