"""Browser tests: the real app on a live server, driven by Debian's Chromium via Playwright.

Every page a test looks at goes through ``check(page)``: it fails on any request to another
host (the app must make no third-party requests), on console errors and page errors (a
Content-Security-Policy violation shows up as one), and on any WCAG 2.1 A/AA violation
that axe-core finds. The CSP stays enforced: axe is injected through the DevTools
protocol (``page.evaluate``), never as a script tag. On a page with JavaScript disabled,
axe runs on a scripted copy of the same document (see ``Phones.mirror``).

Nothing is downloaded: Chromium is Debian's, axe-core comes from node_modules here.
"""

import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from setup_support import free_port, missing_service
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TIMEOUT_MS = 10_000


# --- which database a journey runs on ----------------------------------------------------

# A journey in German and English runs each language once, on one of the two databases:
# German on SQLite, English on PostgreSQL. Both databases and both languages are driven
# through the browser, and the suite does not pay for four runs of every journey (the
# database behaviour under each page is tested on both databases by the view tests).
# Browser tests without a language parameter still run on both databases.
JOURNEY_BACKEND = {"de": "sqlite", "en": "postgresql"}


def _journey_language(params: dict) -> str | None:
    value = params.get("lang") or params.get("locale")
    return value.split("-")[0] if isinstance(value, str) else None


def pytest_collection_modifyitems(config, items):
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        language = _journey_language(params)
        backend = params.get("backend")
        if (
            language in JOURNEY_BACKEND
            and backend is not None
            and item.path.is_relative_to(Path(__file__).parent)
            and JOURNEY_BACKEND[language] != backend
        ):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


# --- live server ------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str

    def __call__(self, path: str = "/") -> str:
        """The absolute URL of ``path`` on this server."""
        return self.url + path


@pytest.fixture
def live_server(app, request):
    """The test ``app`` served over HTTP in a background thread; mail links point here."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app.config["PUBLIC_URL"] = url
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield LiveServer(url)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


# --- browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def axe_source(request) -> str:
    if not AXE_JS.is_file():
        missing_service(f"axe-core at {AXE_JS} (run `npm ci` in tests/browser)")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def chromium(request):
    """One headless Chromium for the whole session (each test gets fresh contexts)."""
    if not CHROMIUM.exists():
        missing_service(f"Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Recorder:
    """What went wrong in one browser context, besides the test's own assertions."""

    javascript: bool = True
    foreign_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def on_request(self, req) -> None:
        parts = urlsplit(req.url)
        if parts.scheme not in ("data", "blob", "about") and parts.hostname not in LOCAL_HOSTS:
            self.foreign_requests.append(f"{req.method} {req.url}")

    def forget(self) -> None:
        """Drop what was recorded (for tests that provoke problems on purpose)."""
        self.foreign_requests.clear()
        self.console_errors.clear()

    def on_console(self, message) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.console_errors.append(f"console error: {message.text} ({where})")

    def on_page_error(self, error) -> None:
        self.console_errors.append(f"page error: {error}")

    def assert_clean(self) -> None:
        problems = [f"request to another host: {r}" for r in self.foreign_requests]
        problems += self.console_errors
        assert not problems, "the browser reported problems:\n  " + "\n  ".join(problems)


PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
# Staff work at a desk: their journeys run at a laptop's width.
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "is_mobile": False, "has_touch": False}


class Phones:
    """Opens pages on emulated phones and keeps what each one recorded."""

    def __init__(self, browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self.contexts = []  # (context, recorder)
        self._mirror = None
        self._snapshot = {}

    def __call__(self, locale: str = "de-DE", *, javascript: bool = True, desktop: bool = False):
        """A new page in a fresh context: ``phone("de-DE")``, ``phone("en-GB", javascript=False)``;
        ``desktop=True`` gives a laptop-sized window instead of a phone.

        The locale sets Accept-Language, so it decides the language a visitor starts in.
        Relative URLs in ``page.goto`` go to the live server.
        """
        context = self.browser.new_context(
            **(DESKTOP if desktop else PHONE),
            locale=locale,
            java_script_enabled=javascript,
            base_url=self.base_url,
        )
        context.set_default_timeout(TIMEOUT_MS)
        recorder = Recorder(javascript=javascript)
        context.on("request", recorder.on_request)
        page = context.new_page()
        page.on("console", recorder.on_console)
        page.on("pageerror", recorder.on_page_error)
        self.contexts.append((context, recorder))
        return page

    def recorder(self, page) -> Recorder:
        return next(r for c, r in self.contexts if c is page.context)

    def mirror(self, page):
        """A scripted page showing the same document as ``page``, for axe.

        With JavaScript disabled the page's timers never fire, so ``axe.run()`` would never
        finish there. The mirror gets the very same HTML (with the app's CSP), loads the
        same stylesheet from the live server, and has the same phone viewport.
        """
        from consult.security import CONTENT_SECURITY_POLICY

        if self._mirror is None:
            self._mirror = self("en-GB")
            self._mirror.route("**/*", self._serve_snapshot)
        self._snapshot = {
            "url": page.url,
            "html": page.content(),
            "csp": CONTENT_SECURITY_POLICY,
        }
        self._mirror.goto(page.url)
        return self._mirror

    def _serve_snapshot(self, route) -> None:
        request = route.request
        if request.resource_type == "document" and request.url == self._snapshot.get("url"):
            route.fulfill(
                status=200,
                body=self._snapshot["html"],
                headers={
                    "Content-Type": "text/html; charset=utf-8",
                    "Content-Security-Policy": self._snapshot["csp"],
                },
            )
        else:
            route.continue_()

    def close(self) -> None:
        for context, _recorder in self.contexts:
            context.close()


@pytest.fixture
def phone(chromium, live_server):
    """``phone(locale, javascript=True)`` opens a page on an emulated phone (see Phones)."""
    phones = Phones(chromium, live_server.url)
    yield phones
    phones.close()
    for _context, recorder in phones.contexts:
        recorder.assert_clean()


@pytest.fixture
def assert_accessible(axe_source):
    """Run axe-core's WCAG 2.1 A/AA rules on the page as it is now; fail on any violation."""

    def check_page(page) -> None:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(axe_source)
        violations = page.evaluate(
            """async (tags) => {
                const result = await axe.run(document, {
                    runOnly: {type: "tag", values: tags},
                    resultTypes: ["violations"],
                });
                return result.violations.map((v) => ({
                    id: v.id,
                    impact: v.impact,
                    help: v.help,
                    nodes: v.nodes.map((n) => ({
                        target: n.target.join(" "),
                        html: n.html,
                        summary: n.failureSummary,
                    })),
                }));
            }""",
            WCAG_TAGS,
        )
        assert not violations, _describe(page.url, violations)

    return check_page


def _describe(url: str, violations: list[dict]) -> str:
    lines = [f"axe found {len(violations)} accessibility violation(s) on {url}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"]:
            lines.append(f"    at {node['target']}: {node['html']}")
            for detail in (node["summary"] or "").splitlines():
                lines.append(f"      {detail.strip()}")
    return "\n".join(lines)


@pytest.fixture
def check(phone, assert_accessible):
    """Everything every visited page must pass: no foreign requests, no errors, no axe findings."""

    def check_page(page) -> None:
        page.wait_for_load_state("load")
        recorder = phone.recorder(page)
        recorder.assert_clean()
        assert_accessible(page if recorder.javascript else phone.mirror(page))
        recorder.assert_clean()  # axe itself must not trip the CSP either

    return check_page
