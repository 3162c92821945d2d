"""The staff dashboard of a challenge: the page, its chart images and the CSV.

All three are for the staff role only (a visitor is sent to the login, anyone else gets 403)
and never cached by a shared cache: they show vote counts a challenge may hide.
"""

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_babel import format_date, format_decimal, format_timedelta

from ..challenges.models import Challenge
from ..challenges.timeline import phase_label
from ..extensions import db
from ..i18n import current_locale
from ..permissions import role_required
from ..results.kit_views import SVG_POLICY
from ..results.visibility import public_announcements
from . import charts, exports, services

bp = Blueprint("dashboard", __name__)


def _challenge(challenge_id: int) -> Challenge:
    return db.session.get(Challenge, challenge_id) or abort(404)


def _duration(value) -> str:
    return format_timedelta(value, threshold=1.5, add_direction=False)


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/staff/challenges/<int:challenge_id>/dashboard")
@role_required("staff")
def show(challenge_id: int):
    challenge = _challenge(challenge_id)
    locale = current_locale()
    dashboard = services.challenge_dashboard(challenge, locale)
    specs = charts.chart_specs(dashboard, locale)
    published = public_announcements([challenge])
    return _private(
        Response(
            render_template(
                "dashboard/show.html", challenge=challenge, dashboard=dashboard, specs=specs,
                periods=charts.activity_periods(dashboard.by_day),
                measures=charts.shown_measures(dashboard), measure_label=charts.measure_label,
                phase=phase_label(challenge, challenge.id in published),
                number=format_decimal, local_date=format_date, format_duration=_duration,
            )
        )
    )  # fmt: skip


@bp.get("/staff/challenges/<int:challenge_id>/dashboard/<name>.svg")
@role_required("staff")
def chart(challenge_id: int, name: str):
    challenge = _challenge(challenge_id)
    if name not in charts.CHART_NAMES:
        abort(404)
    locale = current_locale()
    spec = charts.chart_specs(services.challenge_dashboard(challenge, locale), locale)[name]
    response = Response(charts.chart_svg(spec), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_POLICY
    response.headers["Content-Disposition"] = f'inline; filename="{name}-{locale}.svg"'
    response.set_etag(spec.source_hash)
    return _private(response.make_conditional(request))


@bp.get("/staff/challenges/<int:challenge_id>/dashboard.csv")
@role_required("staff")
def export_csv(challenge_id: int):
    challenge = _challenge(challenge_id)
    dashboard = services.challenge_dashboard(challenge, current_locale())
    response = Response(
        stream_with_context(exports.dashboard_csv(dashboard)), content_type=exports.MIMETYPE
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{exports.csv_filename(dashboard)}"'
    )
    return _private(response)
