"""Taking an event's outcome into its challenge: one audited action.

(Foundation stub: filled in by the import work.)
"""


def import_panel(event) -> dict:
    """What the staff event page's import section shows (``events/_staff_import.html``)."""
    return {}
