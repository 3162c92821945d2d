"""Operations: request ids, one JSON log line per request, readiness and Prometheus metrics.

What a city's IT department needs to run the service: ``/healthz`` (the process answers),
``/readyz`` (its database and Redis answer), ``/metrics`` (behind a token) and logs that
a log collector can parse and that carry no personal data.
"""

from flask import Flask

from . import logs, metrics


def init_app(app: Flask) -> None:
    logs.init_app(app)
    metrics.init_app(app)
