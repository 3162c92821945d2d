"""The dashboard's figures as CSV, for staff: one long table (figure, id, name, day, measure,
value), streamed, in UTF-8 with a BOM like the open data exports (consult.results.exports),
whose CSV writer and formula neutralisation it uses.

Names (districts, categories, idea titles) are in the language of the request; ``measure``
and ``figure`` are fixed English identifiers, so a spreadsheet built on the file keeps
working in either language. Every day from the first to the last with activity is a row
per measure, quiet days as 0, whatever the page's chart folds into weeks.
"""

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

from ..figures import local_zone
from ..results.exports import csv_chunks, neutralise
from . import charts, services

COLUMNS = ("figure", "id", "name", "day", "measure", "value")
MIMETYPE = "text/csv; charset=utf-8; header=present"


def _hours(value: timedelta | None) -> str:
    if value is None:
        return ""
    return str(Decimal(value.total_seconds() / 3600).quantize(Decimal("0.1")))


def _rows(dashboard: services.Dashboard) -> Iterator[list]:
    totals = (
        ("registrations", dashboard.registrations),
        ("participants", dashboard.participants),
        ("ideas_submitted", dashboard.ideas_submitted),
        ("ideas_published", dashboard.ideas_published),
        ("comments", dashboard.comments),
        ("votes_online", dashboard.online_votes),
        ("votes_paper", dashboard.paper_votes),
        ("votes_event", dashboard.event_votes),
        ("votes_total", dashboard.votes),
        ("unanswered_ideas", dashboard.unanswered),
    )
    for measure, value in totals:
        yield ["totals", "", "", "", measure, value]
    backlog = dashboard.backlog
    moderation = (
        ("ideas_waiting", backlog.ideas_waiting),
        ("oldest_idea_hours", _hours(backlog.oldest_idea)),
        ("median_idea_hours", _hours(backlog.median_idea)),
        ("reports_open", backlog.reports_open),
        ("oldest_report_hours", _hours(backlog.oldest_report)),
    )
    for measure, value in moderation:
        yield ["moderation", "", "", "", measure, value]
    measures = charts.shown_measures(dashboard)
    for row in dashboard.by_day:
        for measure in measures:
            yield ["per_day", "", "", row.day.isoformat(), measure, row.value(measure)]
    for row in dashboard.by_district:
        name = neutralise(row.name)
        yield ["by_district", "", name, "", "ideas", row.ideas]
        yield ["by_district", "", name, "", "votes", row.votes]
        yield ["by_district", "", name, "", "participants", row.participants]
        yield ["by_district", "", name, "", "population", row.population or ""]
        per_thousand = "" if row.per_thousand is None else str(row.per_thousand)
        yield ["by_district", "", name, "", "participants_per_1000", per_thousand]
    for row in dashboard.by_category:
        name = neutralise(row.name)
        yield ["by_category", "", name, "", "ideas", row.ideas]
        yield ["by_category", "", name, "", "votes", row.votes]
    zone = local_zone()
    for idea in services.all_unanswered(dashboard.challenge, dashboard.at):
        day = idea.published_at.astimezone(zone).date().isoformat() if idea.published_at else ""
        days = idea.waiting.days if idea.waiting is not None else ""
        yield ["unanswered", idea.idea_id, neutralise(idea.title), day, "days_waiting", days]


def dashboard_csv(dashboard: services.Dashboard) -> Iterator[bytes]:
    """The CSV in chunks; run inside the request's context (``stream_with_context``)."""
    return csv_chunks(COLUMNS, _rows(dashboard))


def csv_filename(dashboard: services.Dashboard) -> str:
    return f"challenge-{dashboard.challenge.id}-dashboard-{dashboard.at.astimezone(local_zone()).date().isoformat()}.csv"
