"""The guards in conftest.py must really catch what they are for: a page that loads
something from another host, breaks the Content-Security-Policy, or fails axe.

The bad pages are served by Playwright in place of the live server (``page.route``),
so the app itself is never changed.
"""

import pytest

from consult.security import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.browser

BAD_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bad page</title></head>
<body><main><h1>Bad page</h1>
<img src="https://tracker.example.net/pixel.gif" alt="">
<script>document.title = "inline script ran";</script>
<form><input type="text" name="unlabelled"></form>
</main></body></html>"""


def serve(page, url: str, *, csp: bool) -> None:
    headers = {"Content-Type": "text/html; charset=utf-8"}
    if csp:
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    page.route(url, lambda route: route.fulfill(status=200, body=BAD_PAGE, headers=headers))
    page.route("https://tracker.example.net/**", lambda route: route.abort())


def test_a_request_to_another_host_fails_the_check(phone, check, live_server):
    page = phone("en-GB")
    serve(page, live_server("/bad-without-csp"), csp=False)
    page.goto("/bad-without-csp")
    with pytest.raises(AssertionError, match=r"request to another host: GET https://tracker"):
        check(page)
    phone.recorder(page).forget()


def test_a_csp_violation_and_axe_findings_fail_the_check(
    phone, check, assert_accessible, live_server
):
    page = phone("en-GB")
    serve(page, live_server("/bad-with-csp"), csp=True)
    page.goto("/bad-with-csp")
    assert page.title() == "Bad page"  # the CSP stopped the inline script
    with pytest.raises(AssertionError, match=r"Content Security Policy"):
        check(page)
    phone.recorder(page).forget()
    with pytest.raises(AssertionError, match=r"(?s)axe found .*- label \(critical\).*unlabelled"):
        assert_accessible(page)
