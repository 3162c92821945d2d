"""`python3 -m consult run`: host and port, the PUBLIC_URL that follows them, and the
development server's loop that sends what falls due with the clock (the results mail)."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from setup_support import free_port, missing_service
from sqlalchemy import select

from consult import __main__ as runner
from consult import cli, create_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def listening(monkeypatch):
    """Every port counts as free, for the tests of the parsing alone."""
    monkeypatch.setattr(runner, "cannot_listen", lambda host, port: None)


# --- arguments ----------------------------------------------------------------------------


def refused(capsys, argv: list[str], environ: dict | None = None) -> str:
    """Run `python3 -m consult run ARGV` in-process; it must stop with exit code 2 before
    any setup, and say why."""
    with pytest.raises(SystemExit) as stopped:
        runner.parse_run_args(argv, environ or {})
    assert stopped.value.code == 2
    return capsys.readouterr().err


def test_host_and_port_come_from_the_arguments_or_the_port_variable(listening):
    assert runner.parse_run_args([], {}) == ("127.0.0.1", 5000)
    assert runner.parse_run_args(["--port", "8123"], {}) == ("127.0.0.1", 8123)
    assert runner.parse_run_args([], {"PORT": " 8124 "}) == ("127.0.0.1", 8124)
    # The argument wins over the variable.
    assert runner.parse_run_args(["--port", "8125"], {"PORT": "8124"}) == ("127.0.0.1", 8125)
    assert runner.parse_run_args(["--host", "localhost", "--port", "8126"], {}) == (
        "localhost",
        8126,
    )


@pytest.mark.parametrize("bad", ["abc", "0", "65536", "-1", "80.5", "５０００", "1_000", ""])
def test_a_bad_port_is_refused_with_a_clear_message(capsys, listening, bad):
    message = refused(capsys, ["--port", bad])
    assert f"--port must be a whole number from 1 to 65535, not {bad!r}" in message


def test_a_bad_port_variable_is_refused_and_named(capsys, listening):
    message = refused(capsys, [], {"PORT": "http"})
    assert "the PORT variable must be a whole number from 1 to 65535, not 'http'" in message


def test_a_busy_port_and_an_unknown_host_are_refused_before_the_setup(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        message = refused(capsys, ["--port", str(port)])
    assert f"cannot listen on 127.0.0.1 port {port}" in message and "--port" in message
    assert "unknown host" in refused(capsys, ["--host", "no-such-host.invalid"])
    assert "--host must be" in refused(capsys, ["--host", "a b"])
    assert "unrecognized arguments: --debug" in refused(capsys, ["--debug"])


def test_the_main_command_exits_with_2_on_a_bad_port(capsys):
    with pytest.raises(SystemExit) as stopped:
        runner.main(["run", "--port", "99999"])
    assert stopped.value.code == 2
    assert "--port must be a whole number" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8080"),
        ("localhost", "http://localhost:8080"),
        ("0.0.0.0", "http://127.0.0.1:8080"),  # noqa: S104
        ("::", "http://[::1]:8080"),
        ("::1", "http://[::1]:8080"),
    ],
)
def test_the_development_public_url_follows_host_and_port(host, url):
    assert runner.dev_public_url(host, 8080) == url


def test_the_public_url_is_the_served_address_unless_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSULT_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("CONSULT_PUBLIC_URL", raising=False)
    assert create_app({"SECRET_KEY": "x"}).config["PUBLIC_URL"] == "http://127.0.0.1:5000"
    monkeypatch.setenv("CONSULT_DEV_PUBLIC_URL", "http://127.0.0.1:8123")
    assert create_app({"SECRET_KEY": "x"}).config["PUBLIC_URL"] == "http://127.0.0.1:8123"
    (tmp_path / "config.py").write_text("PUBLIC_URL = 'https://beteiligung.example'\n")
    assert create_app({"SECRET_KEY": "x"}).config["PUBLIC_URL"] == "https://beteiligung.example"
    monkeypatch.setenv("CONSULT_PUBLIC_URL", "https://mitmachen.example")
    assert create_app({"SECRET_KEY": "x"}).config["PUBLIC_URL"] == "https://mitmachen.example"


def test_the_development_config_goes_to_the_instance_folder(tmp_path, monkeypatch):
    folder = tmp_path / "elsewhere"
    monkeypatch.setenv("CONSULT_INSTANCE_PATH", str(folder))
    runner.ensure_dev_config()
    assert "SECRET_KEY = " in (folder / "config.py").read_text()
    assert create_app().config["SESSION_COOKIE_SECURE"] is False


# --- where the due loop runs ------------------------------------------------------------


@pytest.fixture
def bare_app(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSULT_INSTANCE_PATH", str(tmp_path))
    return create_app({"SECRET_KEY": "x", "TESTING": True})


@pytest.fixture
def serving(monkeypatch):
    """Record whether `flask serve` started the due loop and how it started the server."""
    calls = {"loops": 0, "servers": []}

    def fake_loop(app, *args, **kwargs):
        calls["loops"] += 1

    monkeypatch.setattr(cli, "start_due_loop", fake_loop)
    monkeypatch.setattr(
        "flask.cli.run_simple",
        lambda host, port, app, **kwargs: calls["servers"].append((host, port, kwargs)),
    )
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    return calls


def serve(app, *args):
    result = app.test_cli_runner().invoke(args=["serve", *args])
    assert result.exit_code == 0, result.output
    return result


def test_the_serving_process_runs_the_due_loop(bare_app, serving):
    serve(bare_app, "--host", "127.0.0.1", "--port", "5123")
    assert serving["loops"] == 1
    [(host, port, options)] = serving["servers"]
    assert (host, port, options["use_reloader"]) == ("127.0.0.1", 5123, False)


def test_the_reloaders_parent_does_not_run_the_due_loop(bare_app, serving, monkeypatch):
    serve(bare_app, "--reload")
    assert serving["loops"] == 0 and serving["servers"][0][2]["use_reloader"] is True
    # The child the reloader starts (and restarts) is the one that serves: it runs the loop.
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    serve(bare_app, "--reload")
    assert serving["loops"] == 1


def test_a_bad_port_is_refused_by_serve_too(bare_app, serving):
    result = bare_app.test_cli_runner().invoke(args=["serve", "--port", "70000"])
    assert result.exit_code == 2 and "70000" in result.output
    assert serving == {"loops": 0, "servers": []}


def test_nothing_but_serve_starts_a_due_loop(bare_app, monkeypatch):
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread.name))
    create_app({"SECRET_KEY": "x"})
    runner_ = bare_app.test_cli_runner()
    assert runner_.invoke(args=["results", "--help"]).exit_code == 0
    assert "due-tasks" not in started


def test_the_due_loop_keeps_running_after_a_failure(bare_app, monkeypatch):
    from consult import jobs

    calls = []

    def flaky():
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("database away")

    monkeypatch.setattr(jobs, "run_due_tasks", flaky)
    stop = threading.Event()
    thread = cli.start_due_loop(bare_app, every=0.01, stop=stop)
    try:
        deadline = time.monotonic() + 5
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(5)
    assert len(calls) >= 3 and thread.daemon and not thread.is_alive()


# --- the real run path ------------------------------------------------------------------


def _venv_ready() -> bool:
    """`run` installs into .venv unless it is installed already (as `consult test` does);
    this test must not need the network."""
    stamp = ROOT / ".venv" / ".consult-installed"
    return stamp.exists() and stamp.read_text() in {
        runner._install_digest(""),
        runner._install_digest("[dev]"),
    }


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
            return response.status == 200
    except OSError:
        return False


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
        return response.read().decode("utf-8")


@pytest.fixture
def running(tmp_path):
    """`python3 -m consult run --port P` with its own instance folder (SQLite, mail files)."""
    if not _venv_ready():
        missing_service("a .venv set up by `python3 -m consult test`")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONSULT_", "FLASK_"))}
    env.pop("PORT", None)
    env.update(
        CONSULT_INSTANCE_PATH=str(tmp_path),
        # Fast password hashes: the demo seed hashes every demo password on each run.
        CONSULT_ARGON2_PROFILE="cheapest",
        PYTHONDONTWRITEBYTECODE="1",
    )
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "consult", "run", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: the flask children end with it
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while not _answers(f"{base}/healthz"):
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        yield base, tmp_path, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(15)


def test_run_serves_on_its_port_and_mails_the_results_at_the_embargo(running):
    from consult.clock import now
    from consult.demo import results_challenge_id
    from consult.extensions import db
    from consult.results.models import Announcement, ResultsSubscription

    base, instance, log = running
    output = log.read_text()
    assert f"Demo city Dortmund is ready at {base}\n" in output
    # Every absolute link follows the port: sitemap, robots.txt, feed.
    assert f"Sitemap: {base}/sitemap.xml" in _get(f"{base}/robots.txt")
    sitemap = _get(f"{base}/sitemap.xml")
    assert f"<loc>{base}/</loc>" in sitemap and "127.0.0.1:5000" not in sitemap
    assert f"{base}/projects/" in _get(f"{base}/feed.atom")

    # The demo citizen asks for the results of a challenge whose embargo passes in a moment.
    app = create_app(
        {
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'consult.sqlite'}",
            "MAIL_DIR": str(instance / "test-mail"),
        }
    )
    with app.app_context():
        challenge_id = results_challenge_id()
        assert f"{base}/challenges/{challenge_id}/results" in output
        from consult.accounts.models import User

        citizen = db.session.scalar(select(User).where(User.email == "buergerin@demo.example"))
        announcement = db.session.scalar(
            select(Announcement).where(Announcement.challenge_id == challenge_id)
        )
        embargo = now() + timedelta(seconds=4)
        announcement.embargo_at = embargo
        announcement.results_mailed_at = None
        db.session.add(ResultsSubscription(challenge_id=challenge_id, user_id=citizen.id))
        db.session.commit()
        db.engine.dispose()

    def results_mails():
        found = []
        for path in (instance / "mail").glob("*.eml"):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            body = message.get_body(preferencelist=("plain",)).get_content()
            if f"/challenges/{challenge_id}/results" in body:
                found.append((path, message, body))
        return found

    deadline = embargo.timestamp() + 30
    while not results_mails() and time.time() < deadline:
        time.sleep(0.25)
    mails = results_mails()
    assert len(mails) == 1, log.read_text()[-3000:]
    path, message, body = mails[0]
    assert message["To"] == "buergerin@demo.example"
    # Not before the embargo, and within the loop's period (5 s) and some slack after it.
    sent = path.stat().st_mtime
    assert embargo.timestamp() <= sent <= embargo.timestamp() + 15
    assert re.search(rf"{re.escape(base)}/challenges/{challenge_id}/results\b", body)
    print(f"results mail {sent - embargo.timestamp():.1f} s after the embargo")
