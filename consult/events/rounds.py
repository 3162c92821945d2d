"""Voting rounds: timed, with a dot budget, closed by the clock.

(Foundation stub: filled in by the rounds work.)
"""


def round_panel(event, participant) -> dict:
    """What the phone page's round section shows (``events/_room_round.html``)."""
    return {}


def staff_rounds_panel(event) -> dict:
    """What the staff event page's rounds section shows (``events/_staff_rounds.html``)."""
    return {}
