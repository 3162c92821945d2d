"""Request ids and logs: one JSON line per request, and JSON for every other log record.

No personal data: no query strings (they may carry tokens), no form data, and paths of
routes with a token in them are logged with the token replaced. E-mail addresses are not
passed to log calls anywhere in consult; tests/ops/test_logs.py greps the logs of the main
flows for addresses and passwords.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

request_log = logging.getLogger("consult.request")

# An id the proxy sent (nginx's $request_id is 32 hex digits) is kept when it is harmless
# in a log line and a page; anything else is replaced by our own.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
# Paths nobody routes (scanners, mistyped links) can hold anything, addresses too.
_EMAIL_LIKE = re.compile(r"[^/@\s]+@[^/@\s]+")
# In messages: a library's exception may name a recipient (smtplib's refusals do).
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Attributes every LogRecord has; whatever else a record carries came from ``extra=``.
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def request_id() -> str | None:
    """This request's id (from X-Request-ID when safe, else new); None outside requests."""
    if not has_request_context():
        return None
    found = g.get("request_id")
    if found is None:
        offered = request.headers.get("X-Request-ID", "")
        found = offered if _SAFE_REQUEST_ID.fullmatch(offered) else secrets.token_hex(16)
        g.request_id = found
    return found


def loggable_path() -> str:
    """The request's path without query string, with the values of token arguments hidden."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if "token" in name and value:
            path = path.replace(str(value), "[token]")
    return _EMAIL_LIKE.sub("[email]", path)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _EMAIL.sub("[email]", record.getMessage()),
        }
        rid = request_id()
        if rid:
            entry["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = _EMAIL.sub("[email]", self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (it may be replaced after start)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def configure_logging(app: Flask) -> None:
    """LOG_FORMAT "json" (the default): every record as one JSON line on stderr.

    Called by wsgi.py, once per process, on the root logger, so consult's records and the
    libraries' come out alike (gunicorn's own logger keeps its handlers).
    """
    if app.config.get("LOG_FORMAT", "json") != "json":
        return
    root = logging.getLogger()
    if any(getattr(h, "consult_json", False) for h in root.handlers):
        return
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter())
    handler.consult_json = True
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)


def _start_request() -> None:
    # The one start time of the request: the log line and the latency metric both use it.
    g.request_started = time.perf_counter()
    request_id()


def endpoint_name() -> str:
    """The request's route name, or "unmatched": never the path (it may hold ids, tokens)."""
    return request.url_rule.endpoint if request.url_rule else "unmatched"


def _log_request(response):
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    rid = request_id()
    response.headers["X-Request-ID"] = rid
    path = loggable_path()
    request_log.info(
        "%s %s %s",
        request.method,
        path,
        response.status_code,
        extra={
            "method": request.method,
            "endpoint": endpoint_name(),
            "path": path,
            "status": response.status_code,
            "duration_ms": duration_ms,
            # No client address: consult keeps none (votes neither), and the proxy's own
            # log has it for abuse handling if the city wants it there.
        },
    )
    return response


def init_app(app: Flask) -> None:
    # The request lines are INFO records; without configure_logging they go wherever the
    # process's logging sends INFO (nowhere, by Python's default).
    request_log.setLevel(logging.INFO)
    # First of all hooks, so that even a request refused by another hook has its id.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_log_request)
    app.jinja_env.globals["request_id"] = request_id
