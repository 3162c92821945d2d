"""The README's two commands, with nothing but Python installed:

    python3 -m consult run     set up, migrate, seed the demo city, serve on 127.0.0.1:5000
    python3 -m consult test    set up everything the suite needs, lint, run the whole suite
    python3 -m consult translations
                               extract strings into messages.pot, update and compile catalogs

This file uses only the standard library: it creates ``.venv``, installs the project into
it and then runs the real tools from there. Extra arguments after ``test`` go to pytest.
"""

import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BROWSER_DIR = ROOT / "tests" / "browser"
CHROMIUM = Path("/usr/bin/chromium")


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*cmd, check=True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], check=check, cwd=ROOT, **kwargs)


def ensure_venv(extras: str) -> None:
    """Create .venv and install the project; skipped when pyproject.toml is unchanged."""
    if not (BIN / "python").exists():
        say("creating .venv")
        run(sys.executable, "-m", "venv", VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / ".consult-installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"installing consult{extras} and its dependencies")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", f".{extras}")
    stamp.write_text(digest)


def ensure_dev_config() -> None:
    """A development instance/config.py with a random secret; never overwritten."""
    config = ROOT / "instance" / "config.py"
    if config.exists():
        return
    config.parent.mkdir(exist_ok=True)
    config.write_text(
        "# Development settings written by `python3 -m consult run`; not for production.\n"
        f"SECRET_KEY = {secrets.token_hex(32)!r}\n"
        "SESSION_COOKIE_SECURE = False  # the development server speaks plain HTTP\n"
        "REMEMBER_COOKIE_SECURE = False\n"
    )
    say(f"wrote {config.relative_to(ROOT)}")


def flask(*args) -> None:
    run(BIN / "flask", "--app", "wsgi", *args)


def answering(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def as_root(*cmd) -> bool:
    """Run a system command when we may (root); report whether it ran."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return run(*cmd, check=False).returncode == 0
    return False


def ensure_services() -> None:
    """Start PostgreSQL and Redis if they are installed here but not answering."""
    if not answering(5432) and Path("/etc/postgresql").is_dir():
        for version in sorted(os.listdir("/etc/postgresql")):
            say(f"starting PostgreSQL {version}")
            as_root("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start")
    if not answering(6379) and shutil.which("redis-server"):
        say("starting Redis")
        run(
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
            check=False,
        )
    for name, port in (("PostgreSQL", 5432), ("Redis", 6379)):
        if not answering(port):
            say(
                f"{name} is not answering on 127.0.0.1:{port}; its tests "
                + ("will fail (CI)" if IN_CI else "are skipped")
            )


def ensure_browser() -> None:
    """Debian's Chromium (never a browser download) and axe-core from npm."""
    if not CHROMIUM.exists():
        say("installing Debian's chromium")
        as_root("apt-get", "update", "-qq")
        as_root("apt-get", "install", "-y", "-qq", "chromium")
    if not (BROWSER_DIR / "node_modules" / "axe-core" / "axe.min.js").exists():
        npm = shutil.which("npm")
        if npm is None and as_root("apt-get", "install", "-y", "-qq", "npm"):
            npm = shutil.which("npm")
        if npm:
            say("installing axe-core from npm")
            run(npm, "ci", "--silent", "--no-audit", "--no-fund", "--prefix", BROWSER_DIR)


def command_run() -> int:
    ensure_venv("")
    ensure_dev_config()
    flask("db", "upgrade")
    flask("demo", "seed")
    say("mail is written to instance/mail/ (no mail server needed); press Ctrl+C to stop")
    flask("run", "--host", "127.0.0.1", "--port", "5000")
    return 0


def command_test(pytest_args: list[str]) -> int:
    ensure_venv("[dev]")
    ensure_services()
    ensure_browser()
    say("ruff check")
    if run(BIN / "ruff", "check", ".", check=False).returncode != 0:
        return 1
    say("pytest (every app test on SQLite and on PostgreSQL)")
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    # One worker per core; each has its own databases (and Redis database).
    workers = ["-n", str(min(os.cpu_count() or 1, 4))] if "-n" not in pytest_args else []
    return run(
        BIN / "python", "-m", "pytest", *workers, *pytest_args, check=False, env=env
    ).returncode


def command_translations() -> int:
    """Extract, merge and compile; the English catalog mirrors the English source strings."""
    ensure_venv("[dev]")
    return run(BIN / "python", "-m", "consult.translations_tool", check=False).returncode


COMMANDS = {
    "run": lambda rest: command_run(),
    "test": command_test,
    "translations": lambda rest: command_translations(),
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    os.chdir(ROOT)
    try:
        return COMMANDS[argv[0]](argv[1:])
    except subprocess.CalledProcessError as error:
        print(f"failed: {' '.join(map(str, error.cmd))}", file=sys.stderr)
        return error.returncode or 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
