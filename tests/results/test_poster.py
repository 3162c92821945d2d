"""The printable A4 poster of a challenge: texts in both languages, Berlin dates, a short
address, and a QR code that encodes the challenge's absolute URL."""

import re
from datetime import UTC, datetime, timedelta

import segno
from jury.jury_support import evaluation_challenge
from testdata import html, says

from consult.challenges.models import Challenge
from consult.clock import now
from consult.extensions import db
from consult.results import reach

HOSTILE = '<script>alert("x")</script> ]]>'


def poster_url(challenge) -> str:
    return f"/challenges/{challenge.id}/poster"


def open_challenge(**texts) -> Challenge:
    """A challenge taking ideas, with a fixed schedule for checking the Berlin dates."""
    values = dict(
        title_de="Grünere Innenstadt", title_en="A greener city centre",
        question_de="Wie wird die Innenstadt grüner?",
        question_en="How can the city centre become greener?",
        submission_opens_at=now() - timedelta(days=1),
        submission_closes_at=datetime(2030, 3, 31, 16, 0, tzinfo=UTC),  # 18:00 in Berlin
        voting_opens_at=datetime(2030, 4, 1, 8, 0, tzinfo=UTC),
        voting_closes_at=datetime(2030, 4, 30, 16, 0, tzinfo=UTC),
        results_at=datetime(2030, 5, 15, 10, 0, tzinfo=UTC),
    )  # fmt: skip
    values.update(texts)
    challenge = Challenge(**values)
    db.session.add(challenge)
    db.session.commit()
    return challenge


def draft() -> Challenge:
    return open_challenge(submission_opens_at=now() + timedelta(days=2))


def expected_qr(url: str) -> segno.QRCode:
    # Built here, independently of the app, for the address a phone must open.
    return segno.make(url, error="m", micro=False)


def page_svg(page: str) -> str:
    match = re.search(r'<div class="poster-qr"[^>]*>(<svg.*?</svg>)</div>', page, re.S)
    assert match, "no inline QR code"
    return match.group(1)


# --- content ------------------------------------------------------------------------------


def test_the_poster_shows_the_challenge_in_both_languages(app, client):
    challenge = open_challenge()
    response = client.get(poster_url(challenge))
    assert response.status_code == 200
    page = html(response)
    assert '<h1 id="poster-title" lang="de">Grünere Innenstadt</h1>' in page
    assert '<p class="poster-other" lang="en">A greener city centre</p>' in page
    assert "Wie wird die Innenstadt grüner?" in page
    assert '<p class="poster-other" lang="en">How can the city centre become greener?</p>' in page
    assert (
        says("Have an idea for our city? Submit it, and vote for the ideas you like best.") in page
    )
    # Berlin time: 16:00 UTC on 31 March 2030 is 18:00 (summer time).
    assert "31. März 2030, 18:00" in page
    assert "15. Mai 2030, 12:00" in page
    assert f">localhost/c/{challenge.id}<" in page
    assert f'href="http://localhost/challenges/{challenge.id}"' in page


def test_an_english_visitor_gets_english_first_and_german_smaller(app, client):
    challenge = open_challenge()
    page = html(client.get(poster_url(challenge), headers={"Accept-Language": "en"}))
    assert '<h1 id="poster-title" lang="en">A greener city centre</h1>' in page
    assert '<p class="poster-other" lang="de">Grünere Innenstadt</p>' in page
    assert "Mar 31, 2030, 18:00" in page or "Mar 31, 2030, 6:00\u202fPM" in page


def test_a_challenge_in_one_language_shows_it_once(app, client):
    challenge = open_challenge(title_en="", question_en="")
    page = html(client.get(poster_url(challenge), headers={"Accept-Language": "en"}))
    assert '<h1 id="poster-title" lang="de">Grünere Innenstadt</h1>' in page
    assert "poster-other" not in page.split("</article>")[0].split('class="poster"')[1]


def test_the_call_to_action_follows_the_phase(app, client):
    voting = evaluation_challenge()
    page = html(client.get(poster_url(voting)))
    assert says("See the ideas, the results and what becomes of them.") in page


def test_the_qr_code_encodes_the_challenge_url(app, client):
    challenge = open_challenge()
    page = html(client.get(poster_url(challenge)))
    url = f"http://localhost/challenges/{challenge.id}"
    qr = expected_qr(url)
    svg = page_svg(page)
    reference = qr.svg_inline(omitsize=True, border=4, svgclass="qr-code", lineclass=None)
    # The same symbol byte for byte, plus only a screen size for the preview.
    assert re.sub(r' width="\d+" height="\d+"', "", svg, count=1) == reference
    assert str(reach.qr_svg(url)) == svg
    assert qr.version <= 4 and qr.error in "MQH"  # a small, robust symbol
    # A different address gives a different symbol: the comparison means something.
    other = expected_qr(url + "0").svg_inline(omitsize=True, border=4, svgclass="qr-code",
                                              lineclass=None)  # fmt: skip
    assert other != reference


def test_the_poster_keeps_the_content_security_policy(app, client):
    challenge = open_challenge()
    response = client.get(poster_url(challenge))
    page = html(response)
    assert " style=" not in page and "<style" not in page and "<script" not in page
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]
    assert 'role="img" aria-label=' in page


def test_the_poster_is_a_cacheable_public_page(app, client):
    challenge = open_challenge()
    response = client.get(poster_url(challenge))
    assert "public" in response.headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers


def test_hostile_titles_come_out_escaped(app, client):
    challenge = open_challenge(title_de=HOSTILE, question_de=HOSTILE)
    page = html(client.get(poster_url(challenge)))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; ]]&gt;" in page


def test_print_rules_give_the_poster_an_a4_page(app, client):
    css = client.get("/static/css/print.css").get_data(as_text=True)
    assert "@page poster { size: A4 portrait;" in css
    assert ".poster { page: poster;" in css


# --- who may see it -----------------------------------------------------------------------


def test_drafts_and_unknown_challenges_are_not_found(app, client, make_user, login):
    hidden = draft()
    assert client.get(poster_url(hidden)).status_code == 404
    assert client.get("/challenges/999999/poster").status_code == 404
    assert client.get(f"/c/{hidden.id}").status_code == 404
    login(make_user(pseudonym="Neugierig"))
    response = client.get(poster_url(hidden))
    assert response.status_code == 404
    assert "Grünere" not in html(response)


def test_staff_print_the_poster_of_a_draft_before_it_opens(app, client, make_user, login):
    hidden = draft()
    login(make_user(roles=("staff",)))
    response = client.get(poster_url(hidden))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    edit = html(client.get(f"/staff/challenges/{hidden.id}/edit"))
    assert f'href="/challenges/{hidden.id}/poster"' in edit


def test_the_short_address_leads_to_the_challenge(app, client):
    challenge = open_challenge()
    response = client.get(f"/c/{challenge.id}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/challenges/{challenge.id}")
