"""Charts of the participation figures: drawn by a job, stored, served as plain images.

The figures come from ``services.participation_figures`` (the very numbers of the tables on
the results page), per locale, because category names and labels are in the chart's
language. Each chart is drawn once with matplotlib's object-oriented API (no pyplot: its
global state is not thread-safe) and saved twice: SVG for the page, PNG for the press kit.

Both are stored in ``ResultChart`` with ``source_hash``, the SHA-256 of the figures drawn
(plus ``CHART_VERSION``, so a change of the drawing code re-renders). A run that finds the
same hash stored draws nothing, so the job is cheap and safe to run twice. The page shows a
chart only while its hash matches the figures the page itself shows: a chart never
contradicts the table next to it, even if moderation changed a number after the render.
"""

import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import date

from flask import url_for
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from .. import figures
from ..challenges.models import Challenge
from ..clock import now
from ..extensions import db
from ..figures import CSS_DPI, IDEAS_COLOUR, LABEL_CHARS, LABEL_LINES, VOTES_COLOUR  # noqa: F401
from ..i18n import SUPPORTED_LOCALES, _, force_locale
from . import services
from .models import ResultChart

# Bump when the drawing changes, so that stored charts are drawn again.
CHART_VERSION = 1
CHART_NAMES = ("by-district", "by-category", "votes-by-day")
FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
_FILENAME = re.compile(r"^(?P<name>[a-z][a-z-]*[a-z])-(?P<locale>[a-z]{2})\.(?P<fmt>svg|png)$")

# The figure is 4 inches wide: 384 CSS pixels, so that on a 320 px phone the 12 pt labels
# still show at about 13 px; the PNG is 1600 px wide (400 dpi), sharp in print.
WIDTH_IN = 4.0
PNG_DPI = 400
# Colours, fonts and label wrapping are shared with the staff dashboard (consult.figures).
# Fewer bars than this compare nothing: the table says it as well.
MIN_BARS = 2


@dataclass(frozen=True)
class ChartSpec:
    """One chart to draw: what it shows, in which language, and its size."""

    name: str
    locale: str
    title: str
    alt: str
    rows: tuple  # ((label, ideas, votes), ...) or ((iso date, votes), ...)
    source_hash: str
    height_in: float

    @property
    def width_px(self) -> int:
        return round(WIDTH_IN * CSS_DPI)

    @property
    def height_px(self) -> int:
        return round(self.height_in * CSS_DPI)


@dataclass(frozen=True)
class ChartImage:
    """A stored, up-to-date chart as the results page links it."""

    name: str
    url: str
    png_url: str
    width: int
    height: int
    alt: str
    title: str


# --- what the charts show -----------------------------------------------------------------


def _hash(name: str, locale: str, rows: tuple) -> str:
    """SHA-256 of everything the chart shows: its rows and its words in its language.

    The words are included so that an improved translation is drawn again too.
    """
    words = [_(w) for w in ("Ideas", "Votes", "Day (Berlin time)")] + [_chart_title(name)]
    document = {
        "version": CHART_VERSION, "chart": name, "locale": locale, "words": words, "rows": rows,
    }  # fmt: skip
    canonical = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _bars_height(rows: tuple) -> float:
    """Inches for one panel of horizontal bars: room for every (wrapped) name."""
    return figures.bars_height(row[0] for row in rows)


def _every_day(by_day: list[tuple]) -> tuple:
    """Votes per Berlin day from the first to the last, days without votes as 0.

    A gap in the bars is itself information (a quiet weekend), so it is drawn as one.
    """
    if not by_day:
        return ()
    counts = dict(by_day)
    days = figures.every_day(by_day[0][0], by_day[-1][0])
    return tuple((day.isoformat(), counts.get(day, 0)) for day in days)


def chart_specs(figures: services.ParticipationFigures, locale: str) -> list[ChartSpec]:
    """The charts the figures allow, in ``locale`` (call under ``force_locale(locale)``).

    A chart that would compare nothing is left out: bars need two rows at least (a lone
    "No district given" bar says nothing), votes over time need online votes. The page
    then shows the table alone, which says the same.
    """
    specs = []
    groups = (
        ("by-district", figures.by_district,
         _("Bar chart: ideas and votes by district. The table below lists the numbers.")),
        ("by-category", figures.by_category,
         _("Bar chart: ideas and votes by category. The table below lists the numbers.")),
    )  # fmt: skip
    for name, figure_rows, alt in groups:
        rows = tuple((row.name, row.ideas, row.votes) for row in figure_rows)
        if len(rows) >= MIN_BARS:
            height = 0.45 + 2 * _bars_height(rows)
            specs.append(
                ChartSpec(
                    name, locale, _chart_title(name), alt, rows, _hash(name, locale, rows), height
                )
            )
    days = _every_day(figures.by_day)
    if days:
        specs.append(
            ChartSpec(
                "votes-by-day", locale, _chart_title("votes-by-day"),
                _("Bar chart: online votes per day. The table below lists the numbers."),
                days, _hash("votes-by-day", locale, days), 3.2,
            )
        )  # fmt: skip
    return specs


def _chart_title(name: str) -> str:
    titles = {
        "by-district": _("Ideas and votes by district"),
        "by-category": _("Ideas and votes by category"),
        "votes-by-day": _("Online votes over time"),
    }
    return titles[name]


# --- drawing ------------------------------------------------------------------------------

# The shared drawing functions (consult.figures), under the names the tests know.
_wrap = figures.wrap_label
_number = figures.format_number


def _bar_panel(ax, rows: tuple, column: int, title: str, colour: str, locale: str) -> None:
    figures.bar_panel(ax, [row[0] for row in rows], [row[column] for row in rows], title,
                      colour, locale)  # fmt: skip


def _draw_bars(fig, spec: ChartSpec) -> None:
    weights = [len(spec.rows) + 1, len(spec.rows) + 1]
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": weights})
    _bar_panel(top, spec.rows, 1, _("Ideas"), IDEAS_COLOUR, spec.locale)
    _bar_panel(bottom, spec.rows, 2, _("Votes"), VOTES_COLOUR, spec.locale)


def _draw_days(fig, spec: ChartSpec) -> None:
    days = [date.fromisoformat(day) for day, _count in spec.rows]
    counts = [count for _day, count in spec.rows]
    figures.day_panel(
        fig.subplots(), days, counts, _("Votes"), _("Day (Berlin time)"), VOTES_COLOUR,
        spec.locale,
    )  # fmt: skip


def draw_chart(spec: ChartSpec) -> dict[str, bytes]:
    """Draw one chart and return it as {"svg": bytes, "png": bytes}.

    SVG keeps its text as paths (``svg.fonttype`` "path", matplotlib's default): about
    three times the size of real text, but it looks the same without the fonts installed
    on the reader's phone; each glyph is stored once and reused. The text stays in the
    file as comments, and the title as metadata.
    """
    fig = figures.new_figure(WIDTH_IN, spec.height_in, spec.title)
    if spec.name == "votes-by-day":
        _draw_days(fig, spec)
    else:
        _draw_bars(fig, spec)
    png = io.BytesIO()
    svg = figures.svg_bytes(fig, spec.title)
    fig.savefig(png, format="png", dpi=PNG_DPI, metadata={"Title": spec.title, "Software": None})
    return {"svg": svg, "png": png.getvalue()}


# --- storing ------------------------------------------------------------------------------


def render_charts(challenge_id: int) -> int:
    """Draw and store the charts of a challenge in every language; returns how many were drawn.

    Run by the ``render_result_charts`` job when an announcement is published, and by
    ``flask results render-charts ID``. A chart whose figures are unchanged (same
    ``source_hash``) is not drawn again; charts whose figures vanished are removed. Two
    runs at once may both draw a chart: the second insert fails on the primary key and
    is dropped, since the first stored the same figures.
    """
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None:
        return 0
    drawn = 0
    for locale in SUPPORTED_LOCALES:
        with force_locale(locale):
            specs = chart_specs(services.participation_figures(challenge, locale), locale)
            stored = _stored(challenge_id, locale)
            for spec in specs:
                rows = stored.get(spec.name, {})
                if set(rows) == set(FORMATS) and all(
                    row.source_hash == spec.source_hash for row in rows.values()
                ):
                    continue
                _store(challenge_id, spec, rows, draw_chart(spec))
                drawn += 1
            gone = set(stored) - {spec.name for spec in specs}
            if gone:
                db.session.execute(
                    delete(ResultChart).where(
                        ResultChart.challenge_id == challenge_id,
                        ResultChart.locale == locale,
                        ResultChart.name.in_(gone),
                    )
                )
                db.session.commit()
    return drawn


def _stored(challenge_id: int, locale: str) -> dict[str, dict[str, ResultChart]]:
    result: dict = {}
    for row in db.session.scalars(
        select(ResultChart).where(
            ResultChart.challenge_id == challenge_id, ResultChart.locale == locale
        )
    ):
        result.setdefault(row.name, {})[row.format] = row
    return result


def _store(challenge_id: int, spec: ChartSpec, rows: dict, images: dict[str, bytes]) -> None:
    for fmt, content in images.items():
        row = rows.get(fmt)
        if row is None:
            row = ResultChart(challenge_id=challenge_id, name=spec.name, locale=spec.locale)
            row.format = fmt
            db.session.add(row)
        row.content = content
        row.source_hash = spec.source_hash
        row.created_at = now()
    try:
        db.session.commit()
    except IntegrityError:
        # Another run stored this chart at the same moment, from the same figures.
        db.session.rollback()


# --- reading ------------------------------------------------------------------------------


def chart_filename(name: str, locale: str, fmt: str) -> str:
    """The file name a chart is served under, e.g. "by-district-de.svg"."""
    return f"{name}-{locale}.{fmt}"


def parse_chart_filename(filename: str) -> tuple[str, str, str] | None:
    """(name, locale, format) of a chart's file name, or None for anything else."""
    match = _FILENAME.match(filename)
    if not match or match["name"] not in CHART_NAMES or match["locale"] not in SUPPORTED_LOCALES:
        return None
    return match["name"], match["locale"], match["fmt"]


def get_chart(challenge: Challenge, name: str, locale: str, fmt: str) -> ResultChart | None:
    """A stored chart, or None when it has not been drawn (yet)."""
    return db.session.get(ResultChart, (challenge.id, name, locale, fmt))


def current_charts(
    challenge: Challenge, figures: services.ParticipationFigures, locale: str
) -> dict[str, ChartImage]:
    """The stored charts drawn from exactly these figures, by name (for the page).

    Call under the page's locale (the figures are in it). Reads only the hashes, never
    the images; a chart not drawn yet, or drawn from other figures, is left out.
    """
    specs = {spec.name: spec for spec in chart_specs(figures, locale)}
    if not specs:
        return {}
    hashes = {
        (name, fmt): source_hash
        for name, fmt, source_hash in db.session.execute(
            select(ResultChart.name, ResultChart.format, ResultChart.source_hash).where(
                ResultChart.challenge_id == challenge.id, ResultChart.locale == locale
            )
        )
    }
    result = {}
    for name, spec in specs.items():
        if hashes.get((name, "svg")) != spec.source_hash:
            continue
        version = spec.source_hash[:16]  # a new rendering gets a new URL: caches may keep it
        urls = {
            fmt: url_for(
                "results.chart", challenge_id=challenge.id,
                filename=chart_filename(name, locale, fmt), v=version,
            )
            for fmt in FORMATS
        }  # fmt: skip
        result[name] = ChartImage(
            name, urls["svg"], urls["png"], spec.width_px, spec.height_px, spec.alt, spec.title
        )
    return result


def current_png_charts(challenge: Challenge, locale: str) -> list[str]:
    """Names of the up-to-date PNG charts in ``locale``, for the press kit.

    Only the names: the kit loads each image (``png_content``) as it writes it, so no
    more than one is in memory. Call under ``force_locale(locale)``.
    """
    specs = chart_specs(services.participation_figures(challenge, locale), locale)
    current = {
        (name, source_hash)
        for name, source_hash in db.session.execute(
            select(ResultChart.name, ResultChart.source_hash).where(
                ResultChart.challenge_id == challenge.id,
                ResultChart.locale == locale,
                ResultChart.format == "png",
            )
        )
    }
    return [spec.name for spec in specs if (spec.name, spec.source_hash) in current]


def png_content(challenge: Challenge, name: str, locale: str) -> bytes | None:
    """The stored PNG bytes of one chart (a plain column read: nothing stays in the session)."""
    return db.session.scalar(
        select(ResultChart.content).where(
            ResultChart.challenge_id == challenge.id,
            ResultChart.name == name,
            ResultChart.locale == locale,
            ResultChart.format == "png",
        )
    )
