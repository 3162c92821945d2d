"""Prometheus metrics: requests per endpoint, and figures computed when scraped.

Labels are endpoint names, methods and status classes: never a path, an id or an address.
With several gunicorn workers, PROMETHEUS_MULTIPROC_DIR makes prometheus-client keep the
counters in files that every worker writes and the scraping worker sums up (see
gunicorn.conf.py and the README's Operations section).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import timedelta

from flask import Flask, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from .logs import endpoint_name

log = logging.getLogger(__name__)

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

# Process-wide, not per app: prometheus-client registers each name once per process.
_REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "consult_http_requests",
    "HTTP requests answered, by endpoint, method and status class.",
    ["endpoint", "method", "status"],
    registry=_REGISTRY,
)
LATENCY = Histogram(
    "consult_http_request_duration_seconds",
    "Time to answer an HTTP request, by endpoint and method.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=_REGISTRY,
)


def request_labels(status: int) -> tuple[str, str, str]:
    """The labels of this request: endpoint name ("unmatched" for no route), method
    (unknown ones as "other", so nobody can make up new series) and status class."""
    endpoint = endpoint_name()
    method = request.method if request.method in _METHODS else "other"
    return endpoint, method, f"{status // 100}xx"


def _count_request(response):
    endpoint, method, status = request_labels(response.status_code)
    REQUESTS.labels(endpoint, method, status).inc()
    started = g.get("request_started")  # set first thing by consult.ops.logs
    if started is not None:
        LATENCY.labels(endpoint, method).observe(time.perf_counter() - started)
    return response


class ScrapeTimeCollector:
    """Figures read from the database and Redis at each scrape (no state in the process).

    A figure whose source does not answer is left out of the scrape rather than failing it.
    """

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        yield from self._safely(self._queue_length)
        yield from self._safely(self._outbox)
        yield from self._safely(self._votes)

    def _safely(self, figure):
        try:
            return list(figure())
        except Exception as exc:  # a metric must never break the scrape
            log.warning("metric %s left out: %s", figure.__name__.lstrip("_"), type(exc).__name__)
            return []

    def _queue_length(self):
        from ..extensions import get_redis
        from ..jobs import _queue

        redis = get_redis()
        if redis is None:
            return
        yield GaugeMetricFamily(
            "consult_job_queue_length", "Jobs waiting in the RQ queue.", value=_queue(redis).count
        )

    def _outbox(self):
        from ..clock import now
        from ..extensions import db
        from ..jobs import Outbox

        count, oldest = db.session.execute(
            select(func.count(Outbox.id), func.min(Outbox.created_at)).where(
                Outbox.done_at.is_(None)
            )
        ).one()
        db.session.rollback()
        yield GaugeMetricFamily(
            "consult_outbox_pending", "Jobs in the outbox not done yet.", value=count
        )
        if oldest is not None and oldest.tzinfo is None:
            from datetime import UTC

            oldest = oldest.replace(tzinfo=UTC)
        age = (now() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "consult_outbox_oldest_pending_age_seconds",
            "Age of the oldest job in the outbox not done yet (0 when none).",
            value=max(age, 0.0),
        )

    def _votes(self):
        from ..clock import now
        from ..extensions import db
        from ..voting.models import Vote

        count = db.session.scalar(
            select(func.count(Vote.id)).where(Vote.created_at >= now() - timedelta(minutes=1))
        )
        db.session.rollback()
        yield GaugeMetricFamily(
            "consult_votes_last_minute", "Votes cast in the last 60 seconds.", value=count
        )


def scrape(app: Flask) -> bytes:
    """The exposition text: request metrics of this process (or of all workers in
    multiprocess mode) and the scrape-time figures."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_Forward(_REGISTRY))
    registry.register(ScrapeTimeCollector(app))
    return generate_latest(registry)


class _Forward:
    """Adds this process's own registry to a scrape registry."""

    def __init__(self, source: CollectorRegistry):
        self.source = source

    def collect(self):
        return self.source.collect()


def init_app(app: Flask) -> None:
    app.after_request(_count_request)
