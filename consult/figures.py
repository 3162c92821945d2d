"""Shared by the results page and the staff dashboard: counting per Berlin day, and drawing
the charts of such figures with matplotlib.

Drawing uses matplotlib's object-oriented API only (no pyplot: its global state is not
thread-safe). Every chart writes its numbers next to its bars, so that it reads without an
axis scale and without telling colours apart; each panel has one colour and its own title.
"""

import io
import textwrap
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from babel.numbers import format_decimal
from flask import current_app
from sqlalchemy import func

from .extensions import db

# 96 CSS pixels per inch: a figure's size in inches times this is its size on the page.
CSS_DPI = 96
FONT = 12
TITLE_FONT = 13
# Colours with at least 7:1 contrast on white (WCAG AA asks 3:1 for graphics, 4.5:1 for text).
INK = "#1a1a1a"
IDEAS_COLOUR = "#1d4f91"
VOTES_COLOUR = "#7a3a00"
PEOPLE_COLOUR = "#1e5b2e"
GRID_COLOUR = "#c8c8c8"
# A long name wraps onto at most this many lines of this many characters.
LABEL_CHARS = 18
LABEL_LINES = 3


# --- counting per Berlin day --------------------------------------------------------------


def hour_bucket(column):
    """The UTC hour of a timestamp column, as the database can group by it."""
    # Berlin is a whole number of hours away from UTC, so hourly UTC buckets fold into
    # Berlin days exactly; the database does the counting on either engine.
    if db.engine.dialect.name == "postgresql":
        return func.date_trunc("hour", column)
    return func.strftime("%Y-%m-%d %H:00:00", column)


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Berlin")


def per_berlin_day(hourly) -> list[tuple]:
    """Fold (UTC hour, count) rows into [(Berlin date, count)], oldest first."""
    zone = local_zone()
    days: dict = {}
    for bucket, count in hourly:
        if isinstance(bucket, str):
            bucket = datetime.fromisoformat(bucket)
        if bucket.tzinfo is None:
            bucket = bucket.replace(tzinfo=ZoneInfo("UTC"))
        day = bucket.astimezone(zone).date()
        days[day] = days.get(day, 0) + int(count)
    return sorted(days.items())


def every_day(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included ([] when last is before first)."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- drawing ------------------------------------------------------------------------------


def wrap_label(label: str) -> str:
    """A name on at most LABEL_LINES lines, cut with an ellipsis when longer."""
    lines = textwrap.wrap(label, LABEL_CHARS, break_long_words=True) or [""]
    if len(lines) > LABEL_LINES:
        lines = lines[:LABEL_LINES]
        lines[-1] = lines[-1][: LABEL_CHARS - 1].rstrip() + "…"
    return "\n".join(lines)


def label_lines(label: str) -> int:
    return len(wrap_label(label).splitlines()) or 1


def format_number(value, locale: str, pattern: str | None = None) -> str:
    return format_decimal(value, format=pattern, locale=locale)


def bars_height(labels) -> float:
    """Inches for one panel of horizontal bars: room for every (wrapped) name."""
    return 0.55 + sum(0.2 + 0.2 * label_lines(label) for label in labels)


def bar_panel(
    ax, labels, values, title: str, colour: str, locale: str, pattern: str | None = None
) -> None:
    """Horizontal bars with the name left and the number at the end of each bar.

    The numbers are written out, so the chart reads without an axis scale (and without
    telling colours apart); the x axis is hidden. ``pattern``: a number pattern such as
    "#,##0.00" for the written numbers (default: as the locale writes the value).
    """
    positions = list(range(len(labels)))
    bars = ax.barh(positions, values, height=0.6, color=colour)
    ax.set_yticks(
        positions, labels=[wrap_label(label) for label in labels], fontsize=FONT, color=INK
    )
    ax.invert_yaxis()  # the first row at the top, as in the table
    ax.bar_label(
        bars,
        labels=[format_number(v, locale, pattern) for v in values],
        padding=4,
        fontsize=FONT,
        color=INK,
    )
    ax.set_xlim(0, max(max(values, default=0), 1) * 1.3)  # room for the number after the bar
    ax.set_title(title, loc="left", fontsize=FONT, fontweight="bold", color=INK)
    ax.xaxis.set_visible(False)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color(INK)


def day_panel(
    ax, days, counts, ylabel: str, xlabel: str, colour: str, locale: str,
    title: str | None = None, skeleton: str = "MMMd", max_ticks: int = 5, end: date | None = None,
) -> None:  # fmt: skip
    """Vertical bars over time: one bar per day, or, given ``end`` (where the last period
    ends), one bar per period from each of ``days`` to the next (weeks, months).

    With ``end`` the bars are one collection of rectangles, however many: hundreds of
    separate bars take matplotlib seconds to lay out and draw, a collection milliseconds.
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.dates import AutoDateLocator, date2num
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if end is None:
        ax.bar(days, counts, width=0.8, color=colour)
    elif days:
        edges = date2num([*days, end])
        boxes = []
        for left, right, count in zip(edges[:-1], edges[1:], counts, strict=False):
            gap = (right - left) * 0.1  # a white gap tells neighbouring periods apart
            if count:
                boxes.append([(left + gap, 0), (left + gap, count), (right - gap, count),
                              (right - gap, 0)])  # fmt: skip
        ax.add_collection(PolyCollection(boxes, facecolors=colour, edgecolors="none"))
        ax.xaxis_date()
        ax.set_xlim(edges[0], edges[-1])
        ax.set_ylim(0, max(max(counts, default=0), 1) * 1.05)
    # Few ticks: more dates than fit side by side would overlap.
    if 0 < len(days) <= max_ticks:
        ax.set_xticks(days)
    else:
        ax.xaxis.set_major_locator(AutoDateLocator(minticks=2, maxticks=max_ticks))
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda x, _pos: format_skeleton(skeleton, mpl_date(x), locale=locale))
    )
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: format_number(int(y), locale)))
    if not any(counts):
        ax.set_ylim(0, 1)  # an empty panel still has a sensible axis
    if title:
        ax.set_title(title, loc="left", fontsize=FONT, fontweight="bold", color=INK)
    ax.set_ylabel(ylabel, fontsize=FONT, color=INK)
    ax.set_xlabel(xlabel, fontsize=FONT, color=INK)
    ax.tick_params(labelsize=FONT, colors=INK)
    ax.grid(axis="y", color=GRID_COLOUR, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def mpl_date(value: float) -> date:
    from matplotlib.dates import num2date

    return num2date(value).date()


def new_figure(width_in: float, height_in: float, title: str):
    """A white matplotlib figure with its title top left, ready to draw on."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), layout="constrained", facecolor="white")
    FigureCanvasAgg(fig)
    fig.suptitle(title, fontsize=TITLE_FONT, fontweight="bold", color=INK, x=0.02, ha="left")
    return fig


def svg_bytes(fig, title: str) -> bytes:
    """The figure as SVG: text as paths (matplotlib's default), so it looks the same
    without the fonts installed; no script and no external reference in it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Title": title, "Date": None})
    return buffer.getvalue()
