"""/metrics: behind a token, labelled by endpoint (never a path or an id), and in
multiprocess mode the sum of every worker's counts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from consult.clock import now
from consult.extensions import db
from consult.jobs import Outbox

TOKEN = "metrics-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app_config():
    return {"METRICS_TOKEN": TOKEN}


def scrape(app) -> str:
    response = app.test_client().get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def sample(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"{name}{{{wanted}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.split()[-1])
    return 0.0


def test_no_token_no_page(app):
    http = app.test_client()
    assert http.get("/metrics").status_code == 404
    assert http.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert http.get("/metrics", headers={"Authorization": TOKEN}).status_code == 404
    app.config["METRICS_TOKEN"] = None
    assert http.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    assert http.get("/metrics", headers={"Authorization": "Bearer None"}).status_code == 404


def test_requests_are_counted_by_endpoint_without_personal_data(app, make_user, client, login):
    user = make_user(email="erika.mustermann@example.org")
    before = scrape(app)
    labels = {"endpoint": "pages.healthz", "method": "GET", "status": "2xx"}
    count = sample(before, "consult_http_requests_total", **labels)
    client.get("/healthz")
    client.get("/healthz")
    login(user)
    client.get(f"/account/reset/some-secret-token-{user.id}")
    client.get("/no/such/page/erika.mustermann@example.org")
    client.open("/healthz", method="BREW")
    after = scrape(app)
    assert sample(after, "consult_http_requests_total", **labels) == count + 2
    assert (
        sample(
            after, "consult_http_requests_total", endpoint="unmatched", method="GET", status="4xx"
        )
        >= 1
    )
    assert (
        sample(
            after, "consult_http_requests_total", endpoint="unmatched", method="other", status="4xx"
        )
        >= 1
    )
    assert (
        sample(
            after,
            "consult_http_request_duration_seconds_count",
            endpoint="pages.healthz",
            method="GET",
        )
        >= 2
    )
    assert "accounts.reset_password" in after or "accounts.reset" in after
    for secret in ("erika", "example.org", "some-secret-token", "/account/", "BREW"):
        assert secret not in after


def test_scrape_time_figures(app, make_user):
    text = scrape(app)
    assert sample(text, "consult_outbox_pending") == 0
    assert sample(text, "consult_votes_last_minute") == 0
    db.session.add(Outbox(job="x", args=[], created_at=now().replace(microsecond=0)))
    db.session.commit()
    text = scrape(app)
    assert sample(text, "consult_outbox_pending") == 1
    assert 0 <= sample(text, "consult_outbox_oldest_pending_age_seconds") < 60
    assert "consult_job_queue_length" not in text  # no Redis configured


def test_queue_length_with_redis(app, redis_url):
    app.config["REDIS_URL"] = redis_url
    assert sample(scrape(app), "consult_job_queue_length") == 0


WORKER = """
import os, sys
from consult import create_app
sys.path.insert(0, os.environ["TESTS_DIR"])
from setup_support import app_settings
app = create_app(app_settings(os.environ["DB_URL"], os.environ["MAIL_DIR"], METRICS_TOKEN="t"))
http = app.test_client()
for _ in range(int(sys.argv[1])):
    assert http.get("/healthz").status_code == 200
if len(sys.argv) > 2:
    sys.stdout.write(http.get("/metrics", headers={"Authorization": "Bearer t"}).get_data(as_text=True))
"""


def test_multiprocess_mode_sums_the_workers(tmp_path, database_url):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "TESTS_DIR": str(Path(__file__).parent.parent),
        "DB_URL": database_url,
        "MAIL_DIR": str(tmp_path / "mail"),
    }

    def worker(*args):
        return subprocess.run(
            [sys.executable, "-c", WORKER, *args], env=env, capture_output=True, text=True,
            timeout=60, check=True,
        ).stdout  # fmt: skip

    worker("2")
    text = worker("3", "scrape")
    labels = {"endpoint": "pages.healthz", "method": "GET", "status": "2xx"}
    assert sample(text, "consult_http_requests_total", **labels) == 5
    assert "consult_outbox_pending" in text
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(folder))
    summed = generate_latest(registry).decode()
    assert sample(summed, "consult_http_requests_total", **labels) == 5


def test_gunicorn_hooks_empty_the_folder_and_drop_dead_workers(tmp_path, monkeypatch):
    import runpy

    hooks = runpy.run_path(str(Path(__file__).parents[2] / "gunicorn.conf.py"))
    folder = tmp_path / "prometheus"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    monkeypatch.setenv("CONSULT_DB_POOL_SIZE", "3")  # restored afterwards
    server = type("Arbiter", (), {"cfg": type("Config", (), {"threads": 8})})
    hooks["on_starting"](server)
    (folder / "counter_4242.db").write_bytes(b"")
    (folder / "gauge_livesum_4242.db").write_bytes(b"")
    hooks["child_exit"](None, type("Worker", (), {"pid": 4242}))
    assert not (folder / "gauge_livesum_4242.db").exists()
    hooks["on_starting"](server)
    assert list(folder.iterdir()) == []
