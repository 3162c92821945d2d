"""The dashboard's charts: drawn with the results page's drawing functions (consult.figures),
as SVG, on request, and kept in a small in-process cache keyed by what they show.

A chart is identified by the SHA-256 of its rows, words, language and ``CHART_VERSION``;
the page links it with that hash, and the image route draws it again only when no worker
process has it cached. Drawing takes 0.1–0.4 s, computing the figures a few milliseconds,
so a page view that changed nothing draws nothing.

A long challenge does not become thousands of hair-thin bars: beyond ``MAX_BARS`` days the
activity chart (and its table) count per week, beyond that many weeks per month. The CSV
always has every day.
"""

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta

from .. import figures
from ..figures import IDEAS_COLOUR, PEOPLE_COLOUR, VOTES_COLOUR
from ..i18n import _
from . import services

CHART_VERSION = 1
CHART_NAMES = ("activity", "districts", "categories")
# Wider than the results page's phone charts: the dashboard is read on a desk (1280 px).
WIDTH_IN = 7.5
MAX_BARS = 92
PANEL_IN = 1.9
CACHE_SIZE = 64
DECIMALS = "#,##0.00"


@dataclass(frozen=True)
class Period:
    """A day, a week (from Monday) or a month (from the 1st) of the activity chart."""

    start: date
    unit: str  # "day", "week" or "month"


@dataclass(frozen=True)
class ChartSpec:
    name: str
    locale: str
    title: str
    alt: str
    panels: tuple  # ((panel title, colour, ((label, value), ...)), ...)
    unit: str  # for "activity": the period unit of the bars
    source_hash: str
    height_in: float

    @property
    def width_px(self) -> int:
        return round(WIDTH_IN * figures.CSS_DPI)

    @property
    def height_px(self) -> int:
        return round(self.height_in * figures.CSS_DPI)


# --- periods ----------------------------------------------------------------------------------


def _period_start(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def _period_end(start: date, unit: str) -> date:
    """The first day after the period that begins at ``start``."""
    if unit == "week":
        return start + timedelta(days=7)
    if unit == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def period_unit(by_day: list) -> str:
    """Days while they fit, else weeks, else months."""
    if len(by_day) <= MAX_BARS:
        return "day"
    if len(by_day) <= MAX_BARS * 7:
        return "week"
    return "month"


def activity_periods(by_day: list[services.DayRow]) -> list[tuple[Period, dict[str, int]]]:
    """The activity summed per period (day, week or month), oldest first."""
    unit = period_unit(by_day)
    periods: dict[date, dict[str, int]] = {}
    for row in by_day:
        sums = periods.setdefault(
            _period_start(row.day, unit), dict.fromkeys(services.DAY_MEASURES, 0)
        )
        for measure in services.DAY_MEASURES:
            sums[measure] += row.value(measure)
    return [(Period(start, unit), sums) for start, sums in sorted(periods.items())]


def measure_label(measure: str) -> str:
    labels = {
        "registrations": _("Registrations"),
        "ideas": _("Ideas submitted"),
        "comments": _("Comments"),
        "online_votes": _("Online votes"),
        "paper_votes": _("Paper votes"),
        "event_votes": _("Event votes"),
    }
    return labels[measure]


def shown_measures(dashboard: services.Dashboard) -> tuple[str, ...]:
    """Paper and event votes only where the challenge counts them."""
    if dashboard.counts_offline:
        return services.DAY_MEASURES
    return tuple(m for m in services.DAY_MEASURES if m not in ("paper_votes", "event_votes"))


# --- specs ------------------------------------------------------------------------------------


def _hash(name: str, locale: str, title: str, panels: tuple, unit: str) -> str:
    document = {
        "version": CHART_VERSION, "chart": name, "locale": locale, "title": title,
        "panels": panels, "unit": unit, "words": [_("No figures yet"), _("Day (Berlin time)")],
    }  # fmt: skip
    canonical = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                           default=str)  # fmt: skip
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _spec(name: str, locale: str, title: str, alt: str, panels: tuple, unit: str = "") -> ChartSpec:
    if name == "activity":
        height = 0.5 + PANEL_IN * max(len(panels), 1)
    else:
        height = 0.45 + sum(
            figures.bars_height([label for label, _v in rows]) for *_x, rows in panels
        )
    return ChartSpec(name, locale, title, alt, panels, unit,
                     _hash(name, locale, title, panels, unit), height)  # fmt: skip


def chart_specs(dashboard: services.Dashboard, locale: str) -> dict[str, ChartSpec]:
    """The three charts, by name, in ``locale`` (call under that locale). Always all three:
    without figures a chart says so, so that the page looks the same from day one."""
    periods = activity_periods(dashboard.by_day)
    unit = period_unit(dashboard.by_day)
    colours = {"registrations": PEOPLE_COLOUR, "ideas": IDEAS_COLOUR, "comments": IDEAS_COLOUR}
    activity = tuple(
        (measure_label(m), colours.get(m, VOTES_COLOUR),
         tuple((period.start.isoformat(), sums[m]) for period, sums in periods))
        for m in shown_measures(dashboard)
    ) if periods else ()  # fmt: skip
    district_panels = [
        (_("Published ideas"), IDEAS_COLOUR, tuple((r.name, r.ideas) for r in dashboard.by_district)),
        (_("Votes"), VOTES_COLOUR, tuple((r.name, r.votes) for r in dashboard.by_district)),
        (_("Participants per 1,000 inhabitants"), PEOPLE_COLOUR,
         tuple((r.name, str(r.per_thousand)) for r in dashboard.by_district
               if r.per_thousand is not None)),
    ]  # fmt: skip
    category_panels = [
        (_("Published ideas"), IDEAS_COLOUR, tuple((r.name, r.ideas) for r in dashboard.by_category)),
        (_("Votes"), VOTES_COLOUR, tuple((r.name, r.votes) for r in dashboard.by_category)),
    ]  # fmt: skip
    titles = {
        "week": _("Activity per week (Berlin time)"),
        "month": _("Activity per month (Berlin time)"),
    }
    return {
        "activity": _spec(
            "activity", locale, titles.get(unit, _("Activity per day (Berlin time)")),
            _("Bar charts: registrations, ideas, comments and votes over time. "
              "The table after the chart lists the numbers."),
            activity, unit,
        ),
        "districts": _spec(
            "districts", locale, _("Ideas, votes and participants by district"),
            _("Bar charts: published ideas, votes and participants per 1,000 inhabitants by "
              "district. The table after the chart lists the numbers."),
            tuple(p for p in district_panels if p[2]),
        ),
        "categories": _spec(
            "categories", locale, _("Ideas and votes by category"),
            _("Bar charts: published ideas and votes by category. "
              "The table after the chart lists the numbers."),
            tuple(p for p in category_panels if p[2]),
        ),
    }  # fmt: skip


# --- drawing ----------------------------------------------------------------------------------


def _empty(fig) -> None:
    ax = fig.subplots()
    ax.set_axis_off()
    ax.text(0.5, 0.5, _("No figures yet"), ha="center", va="center",
            fontsize=figures.FONT, color=figures.INK, transform=ax.transAxes)  # fmt: skip


def draw_svg(spec: ChartSpec) -> bytes:
    """Draw one chart as SVG bytes."""
    fig = figures.new_figure(WIDTH_IN, spec.height_in, spec.title)
    if not spec.panels:
        _empty(fig)
    elif spec.name == "activity":
        axes = fig.subplots(len(spec.panels), 1, sharex=True, squeeze=False)[:, 0]
        skeleton = "yMMM" if spec.unit == "month" else "MMMd"
        for index, (ax, (title, colour, rows)) in enumerate(zip(axes, spec.panels, strict=True)):
            last = index == len(spec.panels) - 1
            days = [date.fromisoformat(day) for day, _v in rows]
            figures.day_panel(
                ax, days, [v for _d, v in rows], "", _("Day (Berlin time)") if last else "",
                colour, spec.locale, title=title, skeleton=skeleton, max_ticks=8,
                end=_period_end(days[-1], spec.unit),
            )  # fmt: skip
    else:
        weights = [len(rows) + 1 for *_x, rows in spec.panels]
        axes = fig.subplots(len(spec.panels), 1, squeeze=False,
                            gridspec_kw={"height_ratios": weights})[:, 0]  # fmt: skip
        for ax, (title, colour, rows) in zip(axes, spec.panels, strict=True):
            decimals = any(isinstance(v, str) for _l, v in rows)  # per 1,000: two decimals
            values = [float(v) if isinstance(v, str) else v for _l, v in rows]
            figures.bar_panel(ax, [label for label, _v in rows], values, title, colour,
                              spec.locale, DECIMALS if decimals else None)  # fmt: skip
    return figures.svg_bytes(fig, spec.title)


# --- the cache --------------------------------------------------------------------------------

_cache: OrderedDict[str, bytes] = OrderedDict()
_lock = threading.Lock()


def chart_svg(spec: ChartSpec) -> bytes:
    """The SVG of a spec, from the cache when this process drew it before."""
    with _lock:
        if spec.source_hash in _cache:
            _cache.move_to_end(spec.source_hash)
            return _cache[spec.source_hash]
    svg = draw_svg(spec)  # outside the lock: two requests may draw the same chart, no harm
    with _lock:
        _cache[spec.source_hash] = svg
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return svg


def clear_cache() -> None:
    with _lock:
        _cache.clear()
