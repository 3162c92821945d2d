"""/readyz for the orchestrator, /metrics for Prometheus (only with METRICS_TOKEN)."""

import hmac

from flask import Blueprint, Response, abort, current_app, jsonify, request

from . import metrics, readiness

bp = Blueprint("ops", __name__)


@bp.get("/readyz")
def readyz():
    checks = readiness.check_readiness()
    ready = all(state != "failed" for state in checks.values())
    response = jsonify(status="ready" if ready else "not ready", checks=checks)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def metrics_page():
    # Not for citizens: without a configured token, or with a wrong one, there is no page.
    token = current_app.config.get("METRICS_TOKEN")
    offered = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        abort(404)
    response = Response(metrics.scrape(current_app), mimetype="text/plain; version=0.0.4")
    response.headers["Cache-Control"] = "no-store"
    return response
