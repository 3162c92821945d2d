"""Hostile input for the similar ideas: every answer is bounded, clear and never a 500."""

import time

import pytest
from similar_support import make_challenge, make_idea
from testdata import html

from consult.similar.services import find_similar_ideas

BENCHES = ("Mehr Bänke am Westenhellweg", "Auf dem Westenhellweg fehlen Bänke zum Ausruhen.")
METACHARACTERS = [
    "&|!:*()'\\",
    'Bänke & | ! : * ( ) \' \\ <-> <2> -Bänke "Bänke" or and not',
    "'); DROP TABLE ideas; --",
    "%_% \\% _ %%",
    "Bänke:* & !Westenhellweg | (Ausruhen",
    "\x00Bänke\x00",
    "Bä\x00nke",
    "\u202eBänke\u200b\ufeff",
    "𝔅𝔞𝔫𝔨 ¹²³ ½ ℌ 🙂🙂",
]


@pytest.fixture
def setup(app, make_user):
    challenge = make_challenge()
    idea = make_idea(challenge, *BENCHES)
    citizen = make_user(email="anna@example.org")
    return challenge, idea, citizen


def test_a_query_of_ten_thousand_characters_is_bounded(setup, client, login):
    challenge, idea, citizen = setup
    long_title = "Bänke am Westenhellweg " + "Sitzgelegenheit " * 700
    long_body = ("Ausruhen Westenhellweg Bank " * 400)[:10_000]
    assert len(long_title) > 10_000 and len(long_body) == 10_000
    started = time.monotonic()
    found = find_similar_ideas(challenge, long_title, long_body)
    assert time.monotonic() - started < 2
    assert [f.id for f in found] == [idea.id]
    login(citizen)
    for url, extra in (
        (f"/challenges/{challenge.id}/similar", {}),
        (f"/challenges/{challenge.id}/ideas/new", {"check_similar": "1"}),
    ):
        response = client.post_form(url, {"title": long_title, "body": long_body, **extra})
        assert response.status_code == 200
        assert f'href="/ideas/{idea.id}"' in html(response)


@pytest.mark.parametrize(
    "title,body",
    [
        ("und oder aber", "der die das"),
        ("the and or", "with which"),
        ("!!! ??? ...", "--- *** ///"),
        ("", ""),
        ("   ", "\n\t"),
        (None, None),
    ],
)
def test_stop_words_or_punctuation_find_nothing(setup, client, login, title, body):
    challenge, _idea, citizen = setup
    assert find_similar_ideas(challenge, title, body) == []
    login(citizen)
    response = client.post_form(
        f"/challenges/{challenge.id}/similar", {"title": title or "", "body": body or ""}
    )
    assert response.status_code == 200
    assert "/ideas/" not in html(response)


@pytest.mark.parametrize("text", METACHARACTERS)
def test_sql_and_tsquery_metacharacters_are_only_text(setup, client, login, text):
    challenge, _idea, citizen = setup
    find_similar_ideas(challenge, text, text)  # no error on either database
    login(citizen)
    for url, extra in (
        (f"/challenges/{challenge.id}/similar", {}),
        (f"/challenges/{challenge.id}/ideas/new", {"check_similar": "1"}),
    ):
        response = client.post_form(url, {"title": text, "body": text, **extra})
        # NUL bytes are refused (400) for every form before any view runs (consult.security).
        assert response.status_code == (400 if "\x00" in text else 200), text


def test_words_around_metacharacters_still_count(setup):
    challenge, idea, _citizen = setup
    found = find_similar_ideas(challenge, "Bänke:* & !Westenhellweg | (Ausruhen", "")
    assert [f.id for f in found] == [idea.id]


def test_another_or_a_missing_challenge(setup, client, login, make_user):
    challenge, idea, citizen = setup
    other = make_challenge("Anderswo")
    login(citizen)
    response = client.post_form(f"/challenges/{other.id}/similar", {"title": BENCHES[0]})
    assert response.status_code == 200
    assert f"/ideas/{idea.id}" not in html(response)
    for bad in ("999999", "99999999999999999999", "-1", "abc"):
        assert client.post_form(f"/challenges/{bad}/similar", {"title": "x"}).status_code == 404


def test_a_draft_challenge_is_not_found_for_citizens(app, client, login, make_user):
    draft = make_challenge("Entwurf", phase="draft")
    make_idea(draft, *BENCHES)
    login(make_user(email="anna@example.org"))
    response = client.post_form(f"/challenges/{draft.id}/similar", {"title": BENCHES[0]})
    assert response.status_code == 404


@pytest.mark.parametrize("status", ["draft", "submitted", "hidden", "withdrawn", "merged"])
def test_unpublished_ideas_never_show(setup, client, login, status):
    challenge, idea, citizen = setup
    secret = make_idea(challenge, "Geheime Bänke am Westenhellweg", BENCHES[1], status=status)
    login(citizen)
    page = html(client.post_form(f"/challenges/{challenge.id}/similar", {"title": BENCHES[0]}))
    assert f'href="/ideas/{idea.id}"' in page
    assert f'href="/ideas/{secret.id}"' not in page
    assert "Geheime" not in page


def test_an_odd_exclude_value_is_harmless(setup, client, login):
    challenge, idea, citizen = setup
    login(citizen)
    for value in ("abc", "-5", "99999999999999999999", "0", ""):
        response = client.post_form(
            f"/challenges/{challenge.id}/similar", {"title": BENCHES[0], "exclude": value}
        )
        assert response.status_code == 200
        assert f'href="/ideas/{idea.id}"' in html(response)


def test_markup_in_titles_is_escaped(setup, client, login):
    challenge, _idea, citizen = setup
    make_idea(challenge, "<script>alert(1)</script> Bänke Westenhellweg", BENCHES[1])
    login(citizen)
    page = html(client.post_form(f"/challenges/{challenge.id}/similar", {"title": BENCHES[0]}))
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page
