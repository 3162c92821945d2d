"""The README's two commands, with nothing but Python installed:

    python3 -m consult run [--host HOST] [--port PORT]
                               set up, migrate, seed the demo city, serve on 127.0.0.1:5000
                               (or HOST and PORT; the PORT variable is the default port)
    python3 -m consult test    set up everything the suite needs, lint, run the whole suite
    python3 -m consult translations
                               extract strings into messages.pot, update and compile catalogs

This file uses only the standard library: it creates ``.venv``, installs the project into
it and then runs the real tools from there. Extra arguments after ``test`` go to pytest.
"""

import argparse
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
SSO_DIR = ROOT / "tests" / "sso"
CHROMIUM = Path("/usr/bin/chromium")
NGINX = Path("/usr/sbin/nginx")


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*cmd, check=True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], check=check, cwd=ROOT, **kwargs)


def _install_digest(extras: str) -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()


def ensure_venv(extras: str) -> None:
    """Create .venv and install the project; skipped when pyproject.toml is unchanged."""
    if not (BIN / "python").exists():
        say("creating .venv")
        run(sys.executable, "-m", "venv", VENV)
    digest = _install_digest(extras)
    # An install with the dev extras (from `test`) has everything `run` needs too; installing
    # again would need the network for nothing.
    enough = {digest, _install_digest("[dev]")} if not extras else {digest}
    stamp = VENV / ".consult-installed"
    if stamp.exists() and stamp.read_text() in enough:
        return
    say(f"installing consult{extras} and its dependencies")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", f".{extras}")
    stamp.write_text(digest)


def instance_folder() -> Path:
    """Where the app keeps its config, SQLite file and mail (as ``create_app`` decides)."""
    return Path(os.environ.get("CONSULT_INSTANCE_PATH") or ROOT / "instance")


def ensure_dev_config() -> None:
    """A development config.py with a random secret in the instance folder; never overwritten."""
    config = instance_folder() / "config.py"
    if config.exists():
        return
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "# Development settings written by `python3 -m consult run`; not for production.\n"
        f"SECRET_KEY = {secrets.token_hex(32)!r}\n"
        "SESSION_COOKIE_SECURE = False  # the development server speaks plain HTTP\n"
        "REMEMBER_COOKIE_SECURE = False\n"
        "LOG_FORMAT = 'plain'  # readable on a terminal; production logs JSON lines\n"
    )
    say(f"wrote {config}")


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


def ensure_oidc_provider() -> None:
    """The certified OpenID provider (oidc-provider from npm, run by Node.js on loopback)
    that the single sign-on tests sign in at; pinned in tests/sso/package-lock.json."""
    if (SSO_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None and as_root("apt-get", "install", "-y", "-qq", "npm"):
        npm = shutil.which("npm")
    if npm:
        say("installing oidc-provider from npm")
        run(npm, "ci", "--silent", "--no-audit", "--no-fund", "--prefix", SSO_DIR)


def ensure_nginx() -> None:
    """Debian's nginx, which tests/deploy/test_nginx.py starts in front of gunicorn."""
    if not NGINX.exists() and not shutil.which("nginx"):
        say("installing Debian's nginx")
        as_root("apt-get", "update", "-qq")
        as_root("apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx")


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000


def parse_port(raw: str) -> int | None:
    """A TCP port 1..65535 written in ASCII digits, or None."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 5:
        return None
    port = int(text)
    return port if 1 <= port <= 65535 else None


def url_host(host: str) -> str:
    """How a browser on this machine reaches a server listening on ``host``."""
    if host in ("", "0.0.0.0"):  # noqa: S104 (listening everywhere is the person's choice)
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def dev_public_url(host: str, port: int) -> str:
    return f"http://{url_host(host)}:{port}"


def parse_run_args(argv: list[str], environ=os.environ) -> tuple[str, int]:
    """``--host`` and ``--port`` (else ``PORT``, else 5000); a bad value exits with 2."""
    parser = argparse.ArgumentParser(
        prog="python3 -m consult run",
        description="Set up, migrate, seed the demo city and serve it for development.",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port", help=f"port to listen on (default: the PORT variable, else {DEFAULT_PORT})"
    )
    args = parser.parse_args(argv)
    if args.port is not None:
        raw, source = args.port, "--port"
    elif environ.get("PORT"):
        raw, source = environ["PORT"], "the PORT variable"
    else:
        raw, source = str(DEFAULT_PORT), "the default port"
    port = parse_port(raw)
    if port is None:
        parser.error(f"{source} must be a whole number from 1 to 65535, not {raw!r}")
    host = args.host.strip()
    if not host or any(c.isspace() or c in "/[]" for c in host):
        parser.error(f"--host must be an address or a host name, such as 127.0.0.1, not {host!r}")
    problem = cannot_listen(host, port)
    if problem:
        parser.error(f"cannot listen on {host} port {port}: {problem}; choose another with --port")
    return host, port


def cannot_listen(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port (in use, unknown host), or None.

    Checked before the setup, so a busy port is reported at once and not after a minute
    of installing and seeding.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        return f"unknown host ({error.strerror})"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As the development server does, so a port left in TIME_WAIT does not count as busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            return error.strerror or str(error)
    return None


def command_run(argv: list[str]) -> int:
    host, port = parse_run_args(argv)
    # The links in mails, the feed, the sitemap and robots.txt follow the address we serve
    # on, unless PUBLIC_URL is configured (the app decides, after all its config layers).
    os.environ["CONSULT_DEV_PUBLIC_URL"] = dev_public_url(host, port)
    ensure_venv("")
    ensure_dev_config()
    flask("db", "upgrade")
    flask("demo", "seed")
    mail = instance_folder() / "mail"
    say(f"mail is written to {mail}/ (no mail server needed); press Ctrl+C to stop")
    # `serve` is `flask run` plus a thread that sends what falls due with the clock.
    flask("serve", "--host", host, "--port", str(port))
    return 0


def command_test(pytest_args: list[str]) -> int:
    ensure_venv("[dev]")
    ensure_services()
    ensure_browser()
    ensure_oidc_provider()
    ensure_nginx()
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
    "run": command_run,
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
