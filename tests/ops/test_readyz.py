"""/readyz: 200 when the database and Redis answer, a quick 503 when one does not."""

import time

from hung_redis import SilentListener
from setup_support import app_settings, free_port

from consult import create_app
from consult.ops import readiness


def readyz(app):
    started = time.monotonic()
    response = app.test_client().get("/readyz")
    return response, time.monotonic() - started


def test_ready_without_redis(app):
    response, _ = readyz(app)
    assert response.status_code == 200
    assert response.json == {"status": "ready", "checks": {"database": "ok", "redis": "not used"}}
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_with_redis(app, redis_url):
    app.config["REDIS_URL"] = redis_url
    response, _ = readyz(app)
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "redis": "ok"}


def test_redis_on_a_closed_port_is_a_quick_503(app):
    app.config["REDIS_URL"] = f"redis://:secret-pw@127.0.0.1:{free_port()}/0"
    response, took = readyz(app)
    assert response.status_code == 503
    assert response.json == {
        "status": "not ready",
        "checks": {"database": "ok", "redis": "failed"},
    }
    assert took < 1.0
    assert "secret-pw" not in response.get_data(as_text=True)


def test_hung_redis_is_a_503_within_the_timeout(app):
    silent = SilentListener()
    try:
        app.config["REDIS_URL"] = silent.url
        response, took = readyz(app)
    finally:
        silent.end()
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "redis": "failed"}
    # The cap is TIMEOUT + 0.5 s; the rest is slack for a loaded CI machine (the run has
    # seen 0.5 s of scheduling delay), still far below a probe's own timeout.
    assert took < readiness.TIMEOUT + 2


def test_unreachable_database_is_a_quick_503(tmp_path):
    url = f"postgresql+psycopg://postgres:secret-pw@127.0.0.1:{free_port()}/test"
    app = create_app(app_settings(url, str(tmp_path / "mail")))
    response, took = readyz(app)
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "failed", "redis": "not used"}
    assert took < 1.0
    assert "secret-pw" not in response.get_data(as_text=True)


def test_healthz_stays_trivial(tmp_path):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    app = create_app(app_settings(url, str(tmp_path / "mail")))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok\n"


def test_hung_database_is_a_503_within_the_timeout(tmp_path):
    silent = SilentListener()  # accepts the connection, never answers PostgreSQL's greeting
    port = silent.url.rsplit(":", 1)[1].split("/")[0]
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"
        app = create_app(app_settings(url, str(tmp_path / "mail")))
        response, took = readyz(app)
    finally:
        silent.end()
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "failed"
    # The cap is TIMEOUT + 0.5 s; the rest is slack for a loaded CI machine (the run has
    # seen 0.5 s of scheduling delay), still far below a probe's own timeout.
    assert took < readiness.TIMEOUT + 2
