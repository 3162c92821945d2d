"""The shipped nginx configuration (deploy/nginx) in front of the Procfile's gunicorn.

Real processes on loopback ports: gunicorn runs the Procfile's `web` line with
PROXY_COUNT=1 on a demo-seeded SQLite database, nginx runs the template rendered with only
its four variables filled in (as envsubst does). Debian's nginx is installed by
`python3 -m consult test`; in CI a missing nginx is a failure.
"""

import gzip
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, suppress
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

import pytest
from setup_support import free_port, migrate_database, missing_service

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "consult.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BIN = Path(sys.executable).parent


def procfile_line(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise LookupError(name)


def render_template(values: dict) -> str:
    """envsubst with an explicit list: only ${NAME} of these names is replaced."""
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    left = re.findall(r"\$\{CONSULT_\w+\}", text)
    assert not left, left
    return text


def _wait_for(port: int, process, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on {port}:\n{log.read_text(errors='replace')}")


def _stop(process) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """nginx in front of the Procfile's `web` and `live` gunicorns: its port and their logs."""
    if not Path(NGINX).exists():
        missing_service("Debian's nginx")
    tmp = tmp_path_factory.mktemp("nginx")
    url = "sqlite:///" + str(tmp / "consult.sqlite")
    migrate_database(url)
    web_port, live_port, nginx_port = free_port(), free_port(), free_port()
    env = dict(
        os.environ,
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        PORT=str(web_port),
        WEB_CONCURRENCY="2",
        LIVE_PORT=str(live_port),
        LIVE_THREADS="4",
        # A stream whose wall went away gives its thread back at the next heartbeat.
        CONSULT_LIVE_HEARTBEAT="1",
        CONSULT_SECRET_KEY="nginx-test-" + "x" * 32,
        CONSULT_SQLALCHEMY_DATABASE_URI=url,
        CONSULT_MAIL_DIR=str(tmp / "mail"),
        CONSULT_PROXY_COUNT="1",
        CONSULT_ARGON2_PROFILE="cheapest",
        CONSULT_PUBLIC_URL="http://localhost",
        CONSULT_INSTANCE_PATH=str(tmp / "instance"),
    )
    env.pop("CONSULT_REDIS_URL", None)
    subprocess.run(
        [BIN / "flask", "--app", "wsgi", "demo", "seed"],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    conf = render_template(
        {
            "CONSULT_LISTEN": f"127.0.0.1:{nginx_port}",
            "CONSULT_WEB_UPSTREAM": f"127.0.0.1:{web_port}",
            "CONSULT_LIVE_UPSTREAM": f"127.0.0.1:{live_port}",
            "CONSULT_STATIC_ROOT": str(ROOT / "consult" / "static"),
        }
    )
    (tmp / "consult.conf").write_text(conf)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / name).mkdir()
    # As root the workers would switch to `nobody`, who may not read the test's directory.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (tmp / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log warn;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
        f"  access_log {tmp}/access.log;\n"
        f"  client_body_temp_path {tmp}/body;\n  proxy_temp_path {tmp}/proxy;\n"
        f"  fastcgi_temp_path {tmp}/fastcgi;\n  uwsgi_temp_path {tmp}/uwsgi;\n"
        f"  scgi_temp_path {tmp}/scgi;\n  include {tmp}/consult.conf;\n}}\n"
    )
    with ExitStack() as stack:
        web_log = tmp / "gunicorn.log"
        web = subprocess.Popen(
            ["sh", "-c", "exec " + procfile_line("web")],
            cwd=ROOT, env=env, stdout=stack.enter_context(web_log.open("wb")),
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        stack.callback(_stop, web)
        live_log = tmp / "live.log"
        live = subprocess.Popen(
            ["sh", "-c", "exec " + procfile_line("live")],
            cwd=ROOT, env=env, stdout=stack.enter_context(live_log.open("wb")),
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        stack.callback(_stop, live)
        _wait_for(web_port, web, web_log)
        _wait_for(live_port, live, live_log)
        nginx_log = tmp / "nginx.out"
        nginx = subprocess.Popen(
            [NGINX, "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(tmp / "nginx.conf"),
             "-g", "daemon off;"],
            stdout=stack.enter_context(nginx_log.open("wb")), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        stack.callback(_stop, nginx)
        _wait_for(nginx_port, nginx, nginx_log)
        yield {"port": nginx_port, "web_log": web_log, "live_log": live_log, "database": url}


def get(port, path, headers=None, source="127.0.0.1", method="GET", timeout=10):
    conn = HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.msg, response.read()
    finally:
        conn.close()


def test_normal_requests_stay_fast_while_slow_and_silent_clients_hold_connections(stack):
    port = stack["port"]
    stop = threading.Event()
    sockets = []
    try:
        for _ in range(200):
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        slow = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(50)]
        sockets.extend(slow)
        get(port, "/")  # the workers have loaded their templates
        partial = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 200

        def drip():
            # One more byte on every slow connection every 50 ms, never finishing a header.
            for i in range(len(partial)):
                for sock in slow:
                    with suppress(OSError):
                        sock.send(partial[i : i + 1])
                if stop.wait(0.05):
                    return

        dripper = threading.Thread(target=drip, daemon=True)
        dripper.start()
        time.sleep(0.3)  # every slow connection has started its header
        times = []
        for _ in range(10):
            started = time.perf_counter()
            status, _headers, body = get(port, "/", timeout=5)
            times.append(time.perf_counter() - started)
            assert status == 200
            assert b"</html>" in body
        times.sort()
        print(
            f"\n/ with 200 silent and 50 slow-loris connections open: "
            f"median {times[len(times) // 2]:.3f} s, max {times[-1]:.3f} s"
        )
        assert max(times) < 1.0
    finally:
        stop.set()
        for sock in sockets:
            sock.close()


def _challenge_with_results(port) -> int:
    _status, _headers, body = get(port, "/sitemap.xml")
    return int(re.search(rb"/challenges/(\d+)/results<", body).group(1))


def _results_chart(port, challenge: int) -> str:
    _status, _headers, body = get(port, f"/challenges/{challenge}/results")
    name = re.search(rb"charts/([\w-]+\.svg)", body).group(1).decode()
    return f"/challenges/{challenge}/results/charts/{name}"


def test_gzip_for_html_css_js_json_svg_csv_and_the_feed(stack):
    port = stack["port"]
    challenge = _challenge_with_results(port)
    paths = {
        "html": "/",
        "css": "/static/css/app.css",
        "js": "/static/js/vote.js",
        "svg": _results_chart(port, challenge),
        "feed": "/feed.atom",
        "json": f"/challenges/{challenge}/results/ideas.json",
        "csv": f"/challenges/{challenge}/results/ideas.csv",
    }
    ratios = {}
    for kind, path in paths.items():
        status, plain_headers, plain = get(port, path)
        assert status == 200, (path, status)
        assert "Content-Encoding" not in plain_headers
        status, headers, packed = get(port, path, {"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers.get("Content-Encoding") == "gzip", (path, headers)
        assert "Accept-Encoding" in ", ".join(headers.get_all("Vary"))
        assert gzip.decompress(packed) == plain
        ratios[kind] = len(plain) / len(packed)
    # nginx weakens the app's ETag when it compresses; revalidation still gives a 304.
    _status, headers, _body = get(port, paths["html"], {"Accept-Encoding": "gzip"})
    assert headers["ETag"].startswith('W/"')
    status, _h, body = get(
        port, paths["html"], {"Accept-Encoding": "gzip", "If-None-Match": headers["ETag"]}
    )
    assert (status, body) == (304, b"")
    print("\ngzip ratios: " + ", ".join(f"{k} {v:.1f}:1" for k, v in ratios.items()))


def test_static_files_come_from_nginx_with_their_cache_headers(stack):
    port, web_log = stack["port"], stack["web_log"]
    status, app_headers, page = get(port, "/")
    assert "Content-Security-Policy" in app_headers
    versioned = re.search(rb'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', page).group(1)
    status, headers, body = get(port, versioned.decode())
    assert status == 200
    assert body == (ROOT / "consult" / "static" / "css" / "app.css").read_bytes()
    assert headers.get_all("Cache-Control") == ["public, max-age=31536000, immutable"]
    assert headers["Content-Type"].startswith("text/css")
    # The app marks its own answers with its security headers; nginx's file has none.
    assert "Content-Security-Policy" not in headers
    # Without a version: an hour, then a revalidation that costs a 304.
    status, headers, _body = get(port, "/static/css/app.css")
    assert headers.get_all("Cache-Control") == ["public, max-age=3600, must-revalidate"]
    status, _h, _b = get(port, "/static/css/app.css", {"If-None-Match": headers["ETag"]})
    assert status == 304
    # A path outside the static folder is not served from disk.
    status, _h, _b = get(port, "/static/../../pyproject.toml")
    assert status in (400, 404)
    # gunicorn (its access log is on stdout) never saw a static request.
    assert "GET / " in web_log.read_text()
    assert "/static/" not in web_log.read_text()


def _post_body(port, length: int, send: int, language: str) -> tuple[int, bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        sock.sendall(
            f"POST /ideas/new HTTP/1.1\r\nHost: localhost\r\nContent-Length: {length}\r\n"
            f"Content-Type: application/octet-stream\r\nAccept-Language: {language}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        try:
            chunk = b"x" * 65536
            for _ in range(send // len(chunk)):
                sock.sendall(chunk)
        except OSError:
            pass  # nginx answered and closed before taking the rest
        answer = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
            if b"</html>" in answer:
                break  # the whole page; nginx may keep reading the rest for a while
    finally:
        sock.close()
    status = int(answer.split(b" ", 2)[1])
    return status, answer


@pytest.mark.parametrize(
    ("language", "title"),
    [("de", "Die hochgeladene Datei ist zu groß"), ("en", "The upload is too large")],
)
def test_a_50_mb_body_gets_consults_own_413_page(stack, language, title):
    status, answer = _post_body(stack["port"], 50 * 1024 * 1024, 1024 * 1024, language)
    assert status == 413
    assert b"<html" in answer
    assert b'lang="' + language.encode() + b'"' in answer
    assert title.encode() in answer


def test_the_request_id_is_nginxs_own_not_one_the_client_sent(stack):
    """nginx passes its $request_id, so its log and consult's name the same request and a
    client cannot plant an id of its choosing in consult's logs."""
    _status, first, _body = get(stack["port"], "/healthz", {"X-Request-ID": "client-chosen-id-1"})
    _status, second, _body = get(stack["port"], "/healthz", {"X-Request-ID": "client-chosen-id-1"})
    ids = [first["X-Request-ID"], second["X-Request-ID"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids), ids
    assert ids[0] != ids[1]


def test_the_rate_limit_sees_nginxs_client_address_not_a_forged_one(stack):
    port = stack["port"]
    # 127.0.0.2 guesses event codes until it is throttled (10 wrong codes per address).
    statuses = [get(port, "/j/ZZZZZZ", source="127.0.0.2")[0] for _ in range(11)]
    assert statuses[-1] == 429, statuses
    assert 429 not in statuses[:10]
    # Naming another address in X-Forwarded-For does not escape it: nginx replaces it.
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"}
    assert get(port, "/j/ZZZZZZ", forged, source="127.0.0.2")[0] == 429
    # Another client address is not affected.
    assert get(port, "/j/ZZZZZZ", source="127.0.0.3")[0] != 429


def _log_in(port, email: str, password: str) -> str:
    """The session cookie of a login made through nginx."""
    status, headers, body = get(port, "/account/login")
    cookie = next(
        c.split(";", 1)[0]
        for c in headers.get_all("Set-Cookie")
        if c.startswith("consult_session=")
    )
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body).group(1).decode()
    form = urlencode({"csrf_token": token, "email": email, "password": password})
    conn = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "POST", "/account/login", form,
            {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        response = conn.getresponse()
        response.read()
        assert response.status in (302, 303), response.status
        cookies = [c.split(";", 1)[0] for c in response.msg.get_all("Set-Cookie")]
        cookie = next(c for c in cookies if c.startswith("consult_session="))
        location = response.getheader("Location", "")
    finally:
        conn.close()
    if "/account/two-factor/code" in location:
        cookie = _pass_code_step(port, location, cookie, email)
    return cookie


def _pass_code_step(port, location: str, cookie: str, email: str) -> str:
    """The second step of a demo account's login: the code of its printed demo key."""
    import pyotp

    from consult.demo import demo_totp_secret

    path = "/" + location.split("/", 3)[-1] if "://" in location else location
    conn = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Cookie": cookie})
        page = conn.getresponse()
        body = page.read()
        # The page's CSRF token went into the session: its cookie changed.
        cookie = next(
            (c.split(";", 1)[0] for c in page.msg.get_all("Set-Cookie") or []
             if c.startswith("consult_session=")),
            cookie,
        )  # fmt: skip
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body).group(1).decode()
        code = pyotp.TOTP(demo_totp_secret(email)).now()
        form = urlencode({"csrf_token": token, "code": code})
        conn.request(
            "POST", path, form,
            {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        response = conn.getresponse()
        response.read()
        assert response.status in (302, 303), response.status
        cookies = [c.split(";", 1)[0] for c in response.msg.get_all("Set-Cookie")]
        return next(c for c in cookies if c.startswith("consult_session="))
    finally:
        conn.close()


def test_the_walls_push_goes_to_the_live_process_unbuffered_and_uncompressed(stack):
    port = stack["port"]
    with sqlite3.connect(stack["database"].removeprefix("sqlite:///")) as db:
        event_id = db.execute("SELECT min(id) FROM events").fetchone()[0]
    cookie = _log_in(port, "moderation@demo.example", "demo-moderator-2026")
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        started = time.perf_counter()
        sock.sendall(
            f"GET /live/events/{event_id}/stream HTTP/1.1\r\nHost: localhost\r\n"
            f"Cookie: {cookie}\r\nAccept-Encoding: gzip\r\n\r\n".encode()
        )
        received = b""
        while b"event: changed" not in received:
            try:
                data = sock.recv(4096)
            except TimeoutError:
                data = b""
            assert data, (received, stack["live_log"].read_text()[-3000:])
            received += data
        elapsed = time.perf_counter() - started
    finally:
        sock.close()
    head = received.split(b"\r\n\r\n", 1)[0].decode()
    assert head.startswith("HTTP/1.1 200")
    assert "text/event-stream" in head
    assert "Content-Encoding" not in head
    print(f"\nfirst message of a wall's stream through nginx after {elapsed * 1000:.0f} ms")
    assert elapsed < 1.0
    # gunicorn logs a stream when it ends: at the first heartbeat after the wall left.
    deadline = time.monotonic() + 5
    while f"/live/events/{event_id}/stream" not in stack["live_log"].read_text():
        assert time.monotonic() < deadline, stack["live_log"].read_text()
        time.sleep(0.1)
    assert "/live/" not in stack["web_log"].read_text()
