"""A real OpenID Connect provider for the single sign-on tests (imported by name).

``tests/sso/provider.mjs`` runs the certified ``oidc-provider`` package under Node.js on
127.0.0.1. In front of it sits a small loopback proxy (test code): consult talks to the
provider through it, so a test can change the provider's token answer on the way (a
flipped signature byte, a token issued to another client) while the provider stays real.
The issuer is the proxy's address; the proxy passes the Host header on, so every URL the
provider builds points at the proxy as well.
"""

import base64
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from setup_support import free_port, missing_service

SSO_DIR = Path(__file__).parent / "sso"
SCRIPT = SSO_DIR / "provider.mjs"
CLIENT_ID, CLIENT_SECRET = "consult", "consult-test-secret"
OTHER_ID, OTHER_SECRET = "another-client", "another-test-secret"
TEST_CALLBACK = "http://localhost/account/sso/callback"

# People in the city's directory; tests change their claims with ``provider.set_account``.
ACCOUNTS = {
    "anna": {
        "claims": {
            "email": "anna.amt@stadt.example",
            "email_verified": True,
            "name": "Anna Amt",
            "roles": ["consult-staff", "other-app-admin"],
        },
        "amr": ["pwd", "mfa"],
        "acr": "urn:city:mfa",
    },
    "bernd": {
        "claims": {
            "email": "bernd@stadt.example",
            "email_verified": True,
            "name": "Bernd Büro",
            "roles": ["consult-press"],
        },
        "amr": ["pwd"],
        "acr": "urn:city:pwd",
    },
}


class Provider:
    """The running provider: its issuer URL, its directory, and the proxy's tamper hook."""

    def __init__(self, issuer: str, node_port: int, accounts_file: Path):
        self.issuer = issuer
        self.node_port = node_port
        self.accounts_file = accounts_file
        # fn(token_response: dict) -> dict, applied to the next token answers; None: pass.
        self.tamper = None
        self.reset()

    def reset(self) -> None:
        self.tamper = None
        self.accounts_file.write_text(json.dumps(ACCOUNTS))

    def set_account(self, name: str, **changes) -> None:
        """Change a person in the directory (claims, amr, acr); read at their next sign-in."""
        accounts = json.loads(self.accounts_file.read_text())
        entry = accounts.setdefault(name, {"claims": {}, "amr": ["pwd"]})
        entry["claims"].update(changes.pop("claims", {}))
        entry.update(changes)
        self.accounts_file.write_text(json.dumps(accounts))

    def settings(self, **extra) -> dict:
        """consult's settings for this provider."""
        return {
            "SSO_ISSUER": self.issuer,
            "SSO_CLIENT_ID": CLIENT_ID,
            "SSO_CLIENT_SECRET": CLIENT_SECRET,
            "SSO_ROLE_CLAIM": "roles",
            "SSO_ROLE_MAP": "consult-staff=staff,consult-press=press",
            "SSO_MFA_REPLACES_TOTP": True,
            "SSO_MFA_AMR": "mfa otp hwk",
            "SSO_TIMEOUT": 3,
            **extra,
        }

    # --- a person's browser at the provider ---------------------------------------------

    @staticmethod
    def browser() -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # never a proxy from the environment: loopback only
        return session

    def authorize(self, authorize_url: str, person: str, browser=None) -> str:
        """Sign ``person`` in at the provider's login page; the redirect back (with code)."""
        browser = browser or self.browser()
        url = authorize_url
        for _step in range(10):
            response = browser.get(url, allow_redirects=False, timeout=5)
            if response.status_code in (302, 303):
                url = urljoin(url, response.headers["Location"])
                if not url.startswith(self.issuer):
                    return url  # back to the client, with code and state
                continue
            form = re.search(r'<form method="post" action="([^"]+)"', response.text)
            assert form, response.text
            response = browser.post(
                urljoin(url, form.group(1)),
                data={"login": person},
                allow_redirects=False,
                timeout=5,
            )
            assert response.status_code in (302, 303), response.text
            url = urljoin(url, response.headers["Location"])
        raise AssertionError("the provider never sent the browser back")

    def token_for(self, client_id: str, secret: str, person: str, nonce: str) -> dict:
        """A complete code flow of another party (bypassing consult): the token answer."""
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        query = urlencode(
            {
                "client_id": client_id,
                "response_type": "code",
                "scope": "openid email profile",
                "redirect_uri": TEST_CALLBACK,
                "state": secrets.token_urlsafe(8),
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        back = self.authorize(f"{self.issuer}/auth?{query}", person)
        code = parse_qs(urlsplit(back).query)["code"][0]
        response = self.browser().post(
            f"http://127.0.0.1:{self.node_port}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": TEST_CALLBACK,
                "code_verifier": verifier,
            },
            auth=(client_id, secret),
            headers={"Host": urlsplit(self.issuer).netloc},
            timeout=5,
        )
        assert response.status_code == 200, response.text
        return response.json()


def _proxy_handler(provider_ref: list, node_port: int):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            upstream = http.client.HTTPConnection("127.0.0.1", node_port, timeout=10)
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            provider = provider_ref[0]
            if (
                provider is not None
                and provider.tamper is not None
                and self.command == "POST"
                and urlsplit(self.path).path == "/token"
                and answer.status == 200
            ):
                data = json.dumps(provider.tamper(json.loads(data))).encode()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            upstream.close()

        do_GET = do_POST = do_HEAD = _forward

    return Handler


@contextmanager
def running_provider(redirect_uris=(TEST_CALLBACK,)):
    """Start the provider and its proxy on loopback; yields a ``Provider``."""
    node = shutil.which("node")
    if node is None:
        missing_service("Node.js (node)")
    if not (SSO_DIR / "node_modules" / "oidc-provider").is_dir():
        missing_service("oidc-provider in tests/sso/node_modules (run `npm ci` in tests/sso)")
    node_port = free_port()
    provider_ref: list = [None]
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _proxy_handler(provider_ref, node_port))
    issuer = f"http://127.0.0.1:{proxy.server_address[1]}"
    folder = Path(tempfile.mkdtemp(prefix="consult-oidc-"))
    provider = Provider(issuer, node_port, folder / "accounts.json")
    provider_ref[0] = provider
    clients = [
        {"client_id": cid, "client_secret": secret, "redirect_uris": list(redirect_uris)}
        for cid, secret in ((CLIENT_ID, CLIENT_SECRET), (OTHER_ID, OTHER_SECRET))
    ]
    log = open(folder / "provider.log", "w+b")  # noqa: SIM115
    process = subprocess.Popen(
        [node, str(SCRIPT)],
        cwd=SSO_DIR,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PORT": str(node_port),
            "ISSUER": issuer,
            "CLIENTS": json.dumps(clients),
            "ACCOUNTS": str(provider.accounts_file),
            "NODE_ENV": "test",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    thread = threading.Thread(target=proxy.serve_forever, name="oidc-proxy", daemon=True)
    thread.start()
    # consult's HTTP client honours proxy variables (a city's egress proxy); loopback
    # must never go through one.
    saved = {name: os.environ.get(name) for name in ("NO_PROXY", "no_proxy")}
    for name, value in saved.items():
        os.environ[name] = ",".join(filter(None, [value, "127.0.0.1", "localhost"]))
    try:
        _wait_for(provider, process, log)
        yield provider
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        proxy.shutdown()
        proxy.server_close()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for(provider: Provider, process, log) -> None:
    deadline = time.monotonic() + 20
    # Asked directly, not through the proxy, which would report every refused connection.
    url = f"http://127.0.0.1:{provider.node_port}/.well-known/openid-configuration"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError("the OpenID provider exited:\n" + log.read().decode())
        try:
            if provider.browser().get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise RuntimeError("the OpenID provider did not start within 20 s")
