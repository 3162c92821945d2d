"""The Dockerfile, compose.yaml and the Procfile agree (the image cannot be built here).

The image runs every process type through deploy/procfile-run, which executes the
Procfile's line; these tests run that script with stand-ins for gunicorn and flask and
compare what they were called with to the Procfile, and check the files' structure.
"""

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "deploy" / "procfile-run"


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def expand_defaults(line: str, environ: dict) -> list[str]:
    """The Procfile line as sh would run it: ${NAME:-default} filled in, then split."""

    def value(match):
        return environ.get(match.group(1)) or match.group(2)

    return shlex.split(re.sub(r"\$\{(\w+):-([^}]*)\}", value, line))


def compose_services() -> dict[str, dict]:
    """Each service's `command` and `target` from compose.yaml (flat, as this file is written)."""
    services, current, in_services = {}, None, False
    for line in (ROOT / "compose.yaml").read_text().splitlines():
        if re.match(r"^\S", line):
            in_services = line.startswith("services:")
            continue
        if not in_services:
            continue
        name = re.match(r"^  ([\w-]+):\s*$", line)
        if name:
            current = services.setdefault(name.group(1), {})
            continue
        field = re.match(r"^    (command|target|image|<<): (.+)$", line)
        target = re.match(r"^      target: (.+)$", line)
        if field and current is not None:
            key, raw = field.groups()
            current[key] = json.loads(raw) if raw.startswith("[") else raw.strip()
        elif target and current is not None:
            current["target"] = target.group(1).strip()
    return services


def dockerfile_stages() -> dict[str, list[str]]:
    stages, current = {}, None
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        start = re.match(r"^FROM \S+ AS (\w+)", line)
        if start:
            current = stages.setdefault(start.group(1), [])
        elif current is not None and line.strip() and not line.startswith("#"):
            current.append(line.strip())
    return stages


@pytest.fixture
def stand_ins(tmp_path):
    """gunicorn and flask that print the arguments they were called with, one per line."""
    for name in ("gunicorn", "flask"):
        stub = tmp_path / name
        stub.write_text(
            f'#!/bin/sh\necho "metrics-dir=${{PROMETHEUS_MULTIPROC_DIR-unset}}"\n'
            f'echo {name}\nfor a in "$@"; do echo "$a"; done\n'
        )
        stub.chmod(0o755)
    return tmp_path


@pytest.mark.parametrize("environ", [{}, {"WEB_CONCURRENCY": "3", "PORT": "9000"}])
@pytest.mark.parametrize("process", ["web", "worker", "live", "release"])
def test_the_image_runs_each_process_type_exactly_as_the_procfile_says(stand_ins, process, environ):
    settings = set(re.findall(r"\$\{(\w+):-", (ROOT / "Procfile").read_text()))
    clean = {k: v for k, v in os.environ.items() if k not in settings}
    env = clean | environ | {"PATH": f"{stand_ins}{os.pathsep}{os.environ['PATH']}"}
    env["PROMETHEUS_MULTIPROC_DIR"] = "/metrics-dir"
    result = subprocess.run(
        [str(RUNNER), process], env=env, capture_output=True, text=True, timeout=10, check=True
    )
    expected = expand_defaults(procfile()[process], environ)
    # A line may start with `env -u NAME …` (live runs without the metrics folder): the
    # stand-in then sees the variable unset.
    unset = set()
    if expected[0] == "env":
        expected.pop(0)
        while expected[0] == "-u":
            unset.add(expected[1])
            del expected[:2]
    metrics_dir = "unset" if "PROMETHEUS_MULTIPROC_DIR" in unset else "/metrics-dir"
    assert result.stdout.splitlines() == [f"metrics-dir={metrics_dir}", *expected]


def test_the_runner_runs_any_other_command(stand_ins):
    env = dict(os.environ, PATH=f"{stand_ins}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(
        [str(RUNNER), "flask", "--app", "wsgi", "users", "create-admin", "a@b.example"],
        env=env, capture_output=True, text=True, timeout=10, check=True,
    )  # fmt: skip
    assert result.stdout.split()[1:] == [
        "flask",
        "--app",
        "wsgi",
        "users",
        "create-admin",
        "a@b.example",
    ]
    # A name that is no process type and has odd characters is not looked up in the Procfile.
    result = subprocess.run([str(RUNNER), "we.b"], capture_output=True, timeout=10)
    assert result.returncode != 0


def test_compose_starts_every_procfile_process_and_the_services_around_it():
    services = compose_services()
    commands = {
        name: spec["command"] for name, spec in services.items() if spec.get("<<") == "*consult"
    }
    assert commands == {name: [name] for name in procfile()}
    assert {"postgres", "redis", "nginx"} <= services.keys()
    assert services["nginx"]["target"] == "nginx"
    text = (ROOT / "compose.yaml").read_text()
    # The web healthcheck asks the port the Procfile's web line binds by default.
    port = re.search(r"PORT:-(\d+)", procfile()["web"]).group(1)
    assert f"http://127.0.0.1:{port}/healthz" in text
    assert 'CONSULT_PROXY_COUNT: "1"' in text
    # No secret is written into the file; they come from .env.
    assert re.search(r"CONSULT_SECRET_KEY: \$\{CONSULT_SECRET_KEY:\?", text)
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in text


def test_the_final_image_is_small_non_root_and_starts_through_the_procfile():
    stages = dockerfile_stages()
    assert list(stages) == ["build", "nginx", "app"]  # the app image is the default target
    app = stages["app"]
    assert not any("apt-get install" in line or "build-essential" in line for line in app)
    assert any(line.startswith("COPY --from=build /venv /venv") for line in app)
    user = next(line for line in app if line.startswith("USER "))
    assert user.split()[1] not in ("root", "0")
    assert 'ENTRYPOINT ["/app/deploy/procfile-run"]' in app
    assert app[-1] == 'CMD ["web"]'
    build = " ".join(stages["build"])
    assert "pybabel compile" in build
    assert "COPY wsgi.py Procfile ./" in build


def test_the_nginx_image_fills_in_every_variable_of_the_template():
    template = (ROOT / "deploy" / "nginx" / "consult.conf.template").read_text()
    needed = set(re.findall(r"\$\{(CONSULT_\w+)\}", template))
    env_line = " ".join(line for line in dockerfile_stages()["nginx"] if line.startswith("ENV "))
    given = dict(re.findall(r"(CONSULT_\w+)=(\S+)", env_line))
    assert needed == set(given)
    web, live = procfile()["web"], procfile()["live"]
    assert given["CONSULT_WEB_UPSTREAM"] == "web:" + re.search(r"PORT:-(\d+)", web).group(1)
    assert given["CONSULT_LIVE_UPSTREAM"] == "live:" + re.search(r"LIVE_PORT:-(\d+)", live).group(1)


def test_local_state_and_secrets_stay_out_of_the_image_and_the_repository():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", "instance", ".git"} <= set(ignored)
    assert ".env" in (ROOT / ".gitignore").read_text().split()
