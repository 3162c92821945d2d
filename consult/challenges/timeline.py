"""How a challenge's schedule reads for visitors: phase names, timeline, "voting ends in 3 days".

Presentation only: the phase itself is derived by the model from the schedule and the clock.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from babel import Locale
from babel.dates import format_skeleton
from flask_babel import format_timedelta, get_timezone

from ..clock import now
from ..i18n import _l, current_locale
from .models import Challenge

PHASE_LABELS = {
    "draft": _l("Draft"),
    "submission": _l("Submitting ideas"),
    "voting": _l("Voting"),
    "evaluation": _l("Jury evaluation"),
    "results": _l("Results"),
    "archived": _l("Archived"),
    # Not a phase of the schedule: the press announcement is past its embargo (which may be
    # before the scheduled results date). Shown instead of the phase from then on.
    "published": _l("Results published"),
}

_DEADLINE_PHRASES = {
    "submission_opens": _l("Submission opens %(when)s"),
    "submission_closes": _l("Submission closes %(when)s"),
    "voting_opens": _l("Voting starts %(when)s"),
    "voting_closes": _l("Voting ends %(when)s"),
    "results": _l("Results are due %(when)s"),
}


@dataclass
class Step:
    phase: str
    starts: datetime
    ends: datetime | None
    state: str  # "done", "now" or "upcoming"

    @property
    def label(self) -> str:
        return str(PHASE_LABELS[self.phase])


def format_when(moment: datetime) -> str:
    """Date and time in Europe/Berlin for the current locale, without seconds."""
    return _formatted(moment, current_locale(), get_timezone())


# A challenge page shows its schedule's few moments on every request: formatting them
# (Babel's skeletons) took a tenth of its rendering. The result depends on nothing else.
@lru_cache(maxsize=4096)
def _formatted(moment: datetime, locale: str, tz) -> str:
    date = format_skeleton("yMMMd", moment, tzinfo=tz, locale=locale)
    time = format_skeleton("Hm", moment, tzinfo=tz, locale=locale)
    return Locale.parse(locale).datetime_formats["medium"].format(time, date)


def phase_label(challenge: Challenge, results_public: bool, at: datetime | None = None) -> str:
    """The phase badge. Once the results are public it says so, whatever the schedule says,
    so that no page calls a challenge "Jury evaluation" next to its published results."""
    phase = challenge.phase(at)
    if results_public and phase != "archived":
        phase = "published"
    return str(PHASE_LABELS[phase])


def build_timeline(
    challenge: Challenge, at: datetime | None = None, published_at: datetime | None = None
) -> list[Step]:
    """The public phases in order, each finished, running now or upcoming.

    Submission and voting may overlap, so two steps can run at the same time.
    ``published_at``: when the results became public (only pass it once they are); the
    evaluation ends there and "Results published" begins, instead of the scheduled date.
    """
    at = at or now()
    results = ("results", challenge.results_at)
    if published_at is not None:
        results = ("published", published_at)
    spans = [
        ("submission", challenge.submission_opens_at, challenge.submission_closes_at),
        ("voting", challenge.voting_opens_at, challenge.voting_closes_at),
        ("evaluation", challenge.voting_closes_at, results[1]),
        (results[0], results[1], challenge.archived_at),
    ]
    if challenge.archived_at is not None:
        spans.append(("archived", challenge.archived_at, None))
    steps = []
    for phase, starts, ends in spans:
        if ends is not None and at >= ends:
            state = "done"
        elif at >= starts:
            state = "now"
        else:
            state = "upcoming"
        steps.append(Step(phase, starts, ends, state))
    return steps


def deadline_phrase(
    challenge: Challenge, at: datetime | None = None, results_public: bool = False
) -> str | None:
    """The next date that changes what people can do, e.g. "Voting ends in 3 days"."""
    if results_public:
        return None  # "results are due in 2 weeks" beside the published results: nothing
    at = at or now()
    upcoming = challenge.next_deadline(at)
    if upcoming is None:
        return None
    name, when = upcoming
    relative = format_timedelta(when - at, granularity="minute", add_direction=True)
    return str(_DEADLINE_PHRASES[name]) % {"when": relative}
