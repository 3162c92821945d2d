"""The idea list's cards as a shared fragment (consult.challenges.cards): rendered once per
list, language and kind of viewer, then filled per request with the viewer's vote buttons.

What this proves: a voter's buttons are their own (their voted state, their CSRF token,
their no-JavaScript note), never another voter's, although the cards around them came from
the fragment another voter filled; the fragment path yields the very markup of a render
with the cache off; a vote invalidates the fragment and hidden counts stay hidden in it;
viewer kinds (voter, visitor, account without the citizen role) and languages never share
a fragment; searches, random orders and pages past the end are never stored whole, while
the cards of searches and random orders are kept one by one (the same markup, filled with
the voter's buttons, invalidated by a vote, hidden counts never in them); the clock
closing the vote takes the buttons away although an open list's fragment was stored; and
text that looks like a slot, or markup in the request's own URL, is escaped, never a form.
"""

import re
from datetime import timedelta

import pytest
from cache_support import card_fragments, card_hits, fragment_state, fragments, state
from sqlalchemy import event
from testdata import PASSWORD, pass_code_step, says
from voting_support import challenge_with_ideas, count_label, make_idea, make_juror

from consult.clock import frozen, travel
from consult.extensions import db
from consult.page_cache import FRAGMENT_HEADER, store
from consult.voting.services import cast_vote

CARDS = re.compile(r'<ol class="idea-list">.*?</ol>', re.S)
FORM = re.compile(
    r'<form method="post" action="(?P<action>[^"]*)" class="vote-form" '
    r'id="vote-(?P<id>\d+)".*?</form>',
    re.S,
)
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PRESSED = 'aria-pressed="true"'
LOGOUT = re.compile(
    r'action="/account/logout"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"'
)


# --- helpers ----------------------------------------------------------------------------


def cards_of(html: str) -> str:
    """The list's cards (the part of the page that comes from the fragment)."""
    found = CARDS.search(html)
    assert found, "no idea list on the page"
    return found.group(0)


def vote_forms(html: str) -> dict[int, str]:
    """The vote forms on the page, by idea id."""
    return {int(m["id"]): m.group(0) for m in FORM.finditer(html)}


def payload(token: str) -> str:
    """The signed token's payload, the session's raw token: the same for every token of
    one session, whatever the second it was signed in (the rest is time and signature)."""
    return token.split(".")[0]


def session_tokens(html: str) -> set[str]:
    return {payload(t) for t in TOKEN.findall(html)}


def form_token(form: str) -> str:
    return TOKEN.search(form).group(1)


def without_tokens(html: str) -> str:
    return TOKEN.sub('name="csrf_token" value="TOKEN"', html)


def get(browser, url: str, found: str | None = None):
    """GET ``url`` (200); ``found``: how its cards must have been found (hit, miss)."""
    response = browser.get(url)
    assert response.status_code == 200, url
    if found is not None:
        assert fragment_state(response) == found, (url, response.headers.get(FRAGMENT_HEADER))
    return response


@pytest.fixture
def browser(app, client):
    """A new browser (the fixture's client class), logged in as ``user`` if given."""

    def open_as(user=None, **cookies):
        other = type(client)(app.test_client())
        for name, value in cookies.items():
            other.set_cookie(name, value)
        if user is not None:
            response = other.post_form(
                "/account/login", {"email": user.email, "password": PASSWORD}
            )
            assert response.status_code == 302, response.get_data(as_text=True)
            response = pass_code_step(other, response, user)
            assert response.status_code == 302, response.get_data(as_text=True)
            other.forget_csrf()
            other.get(response.headers["Location"])  # the welcome, shown once
        return other

    return open_as


@pytest.fixture
def world(app, make_user):
    challenge, ideas = challenge_with_ideas(3, budget=5)
    return challenge, ideas, make_user(pseudonym="Anna"), make_user(pseudonym="Bernd")


# --- two voters, one fragment -----------------------------------------------------------


def test_each_voter_sees_only_their_own_votes_and_tokens_on_cards_another_voter_filled(
    browser, world
):
    challenge, (first, second, third), anna, bernd = world
    as_anna, as_bernd = browser(anna), browser(bernd)
    cast_vote(anna, challenge, first.id)
    cast_vote(bernd, challenge, second.id)
    url = f"/challenges/{challenge.id}"
    anna_page = get(as_anna, url, "miss")
    assert state(anna_page) == "bypass"
    bernd_page = get(as_bernd, url, "hit")  # the cards Anna's request rendered
    assert len(fragments()) == 1
    pages = {"Anna": anna_page.get_data(as_text=True), "Bernd": bernd_page.get_data(as_text=True)}
    own = {"Anna": first.id, "Bernd": second.id}
    unvote = f"/challenges/{challenge.id}/unvote"
    vote = f"/challenges/{challenge.id}/vote"
    for person, html in pages.items():
        forms = vote_forms(html)
        assert set(forms) == {first.id, second.id, third.id}, person
        for idea_id, form in forms.items():
            mine = idea_id == own[person]
            assert (PRESSED in form) is mine, (person, idea_id)
            assert ('aria-pressed="false"' in form) is not mine, (person, idea_id)
            assert f'action="{unvote if mine else vote}"' in form, (person, idea_id)
            assert f'name="next" value="{url}#vote-{idea_id}"' in form
        assert html.count(PRESSED) == 1, person
    # Every token on a page (the logout form's too) is of that person's session...
    anna_tokens, bernd_tokens = session_tokens(pages["Anna"]), session_tokens(pages["Bernd"])
    assert len(anna_tokens) == 1 and len(bernd_tokens) == 1
    assert anna_tokens != bernd_tokens
    for person, html in pages.items():
        logout = LOGOUT.search(html).group(1)
        assert {form_token(f) for f in vote_forms(html).values()} == {logout}, person
    # The shared fragment itself holds nobody's token nor voted state.
    entries = [raw for key, raw in store()._entries.items() if key in fragments()]
    assert len(entries) == 1
    for raw in entries:
        text = raw.decode()
        assert "csrf_token" not in text and PRESSED not in text and "vote-form" not in text
    # ...and it is the token that session's server accepts: a vote with it counts.
    token = form_token(vote_forms(pages["Bernd"])[third.id])
    voted = as_bernd.post(vote, data={"csrf_token": token, "idea": third.id})
    assert voted.status_code == 302
    stolen = as_anna.post(vote, data={"csrf_token": token, "idea": third.id})
    assert stolen.status_code == 400  # Bernd's token in Anna's session: refused


def test_the_cards_from_the_fragment_are_the_markup_of_a_render_without_the_cache(
    app, browser, world
):
    challenge, (first, _second, _third), anna, _bernd = world
    cast_vote(anna, challenge, first.id)
    as_anna = browser(anna)
    url = f"/challenges/{challenge.id}?sort=votes"
    rendered = get(as_anna, url, "miss").get_data(as_text=True)
    served = get(as_anna, url, "hit").get_data(as_text=True)
    saved = app.extensions["consult_page_cache"]
    app.extensions["consult_page_cache"] = False
    try:
        plain = as_anna.get(url)
    finally:
        app.extensions["consult_page_cache"] = saved
    assert plain.status_code == 200 and FRAGMENT_HEADER not in plain.headers
    plain = plain.get_data(as_text=True)
    assert len(vote_forms(plain)) == 3 and PRESSED in vote_forms(plain)[first.id]
    assert without_tokens(served) == without_tokens(plain)
    assert without_tokens(rendered) == without_tokens(plain)
    assert "<!--" not in cards_of(served)  # every slot filled


# --- invalidation and hidden counts -----------------------------------------------------


def test_a_vote_empties_the_fragment_and_the_next_list_shows_the_new_count(browser, world):
    challenge, (first, second, _third), anna, bernd = world
    as_anna, as_bernd = browser(anna), browser(bernd)
    url = f"/challenges/{challenge.id}"
    get(as_anna, url, "miss")
    assert count_label(1) not in cards_of(get(as_anna, url, "hit").get_data(as_text=True))
    # A vote through the service...
    cast_vote(bernd, challenge, first.id)
    html = get(as_anna, url, "miss").get_data(as_text=True)
    assert f'<span id="votes-{first.id}">{count_label(1)}</span>' in cards_of(html)
    get(as_anna, url, "hit")
    # ...and one posted as a form, without JavaScript.
    posted = as_bernd.post_form(
        f"/challenges/{challenge.id}/vote", {"idea": second.id, "next": url}
    )
    assert posted.status_code == 302
    html = get(as_anna, url, "miss").get_data(as_text=True)
    assert f'<span id="votes-{second.id}">{count_label(1)}</span>' in cards_of(html)
    # Bernd's own page (the fragment Anna just filled) shows both of his votes pressed.
    forms = vote_forms(get(as_bernd, url, "hit").get_data(as_text=True))
    assert PRESSED in forms[first.id] and PRESSED in forms[second.id]


def test_hidden_counts_never_appear_in_a_voters_cards_from_the_fragment(
    app, browser, world, make_user
):
    challenge, (first, _second, _third), anna, bernd = world
    challenge.hide_counts_while_voting = True
    db.session.commit()
    cast_vote(anna, challenge, first.id)
    cast_vote(bernd, challenge, first.id)
    juror = make_user(roles=("juror",))
    url = f"/challenges/{challenge.id}"
    viewers = [browser(anna), browser(bernd), browser(juror), browser(consult_session="x")]
    # Anna fills the voters' fragment, Bernd gets it; then the other kinds fill theirs.
    for viewer, found in zip(viewers, ("miss", "hit", "miss", "miss"), strict=True):
        cards = cards_of(get(viewer, url, found).get_data(as_text=True))
        assert 'id="votes-' not in cards and count_label(2) not in cards
    html = get(viewers[1], url, "hit").get_data(as_text=True)
    assert 'id="votes-' not in cards_of(html) and count_label(2) not in html
    assert PRESSED in vote_forms(html)[first.id]
    for raw in store()._entries.values():
        assert b'id="votes-' not in raw and count_label(2).encode() not in raw
    # Sorting by votes would reveal the ranking: ignored, so rendered and never stored.
    kept = set(fragments())
    by_votes = get(viewers[0], f"{url}?sort=votes", None)
    assert fragment_state(by_votes) is None and set(fragments()) == kept
    assert 'id="votes-' not in cards_of(by_votes.get_data(as_text=True))
    # Its cards, kept one by one like a search's, hide the counts as well.
    assert card_hits(get(viewers[0], f"{url}?sort=votes")) == "3/3"
    assert len(card_fragments()) == 3
    for raw in store()._entries.values():
        assert b'id="votes-' not in raw and count_label(2).encode() not in raw


# --- the answer to a vote without JavaScript --------------------------------------------


def test_a_vote_without_javascript_answers_at_its_own_button_on_cards_from_the_fragment(
    browser, world
):
    challenge, (first, second, third), anna, bernd = world
    as_anna, as_bernd = browser(anna), browser(bernd)
    url = f"/challenges/{challenge.id}"
    html = get(as_anna, url).get_data(as_text=True)
    token = form_token(vote_forms(html)[second.id])  # as the form on her page has it
    posted = as_anna.post(
        f"/challenges/{challenge.id}/vote",
        data={"csrf_token": token, "idea": second.id, "next": f"{url}#vote-{second.id}"},
    )
    assert posted.status_code == 302
    assert posted.headers["Location"].endswith(f"{url}#vote-{second.id}")
    get(as_bernd, url, "miss")  # after the vote's invalidation, Bernd fills the fragment
    html = get(as_anna, url, "hit").get_data(as_text=True)
    note = says("Your vote has been counted.")
    forms = vote_forms(html)
    assert note in forms[second.id] and PRESSED in forms[second.id]
    assert html.count(note) == 1  # at the button only, not at the top nor at the others
    for idea_id in (first.id, third.id):
        assert note not in forms[idea_id] and "data-vote-note></p>" in forms[idea_id]
    # Bernd's page never shows Anna's answer; hers shows it once only.
    assert note not in get(as_bernd, url, "hit").get_data(as_text=True)
    assert note not in get(as_anna, url, "hit").get_data(as_text=True)


def test_a_refused_vote_without_javascript_says_why_at_its_own_button(app, browser, make_user):
    challenge, (first, second) = challenge_with_ideas(2, budget=1)
    anna, bernd = make_user(pseudonym="Anna"), make_user(pseudonym="Bernd")
    as_anna, as_bernd = browser(anna), browser(bernd)
    cast_vote(anna, challenge, first.id)
    url = f"/challenges/{challenge.id}"
    get(as_bernd, url, "miss")
    posted = as_anna.post_form(
        f"/challenges/{challenge.id}/vote",
        {"idea": second.id, "next": f"{url}#vote-{second.id}"},
    )
    assert posted.status_code == 303
    html = get(as_anna, url, "hit").get_data(as_text=True)  # a refusal writes nothing
    forms = vote_forms(html)
    assert 'class="vote-note vote-refused"' in forms[second.id]
    assert "vote-refused" not in forms[first.id] and PRESSED in forms[first.id]
    assert "vote-refused" not in get(as_bernd, url, "hit").get_data(as_text=True)


# --- kinds of viewers -------------------------------------------------------------------


def test_viewer_kinds_never_share_cards_after_a_voter_filled_the_fragment(
    browser, world, make_user
):
    challenge, (first, _second, _third), anna, _bernd = world
    juror_of_here = make_user(pseudonym="Jurorin")
    make_juror(challenge, juror_of_here)
    others = [
        browser(make_user(roles=("juror",))),
        browser(make_user(roles=("staff", "moderator"))),
        browser(juror_of_here),
    ]
    as_anna = browser(anna)
    cast_vote(anna, challenge, first.id)  # last: a login may empty the cache
    url = f"/challenges/{challenge.id}"
    anna_html = get(as_anna, url, "miss").get_data(as_text=True)
    anna_token = session_tokens(anna_html)
    assert len(vote_forms(anna_html)) == 3
    # Accounts without the citizen role, a staff account, a citizen on this jury: no forms.
    for i, viewer in enumerate(others):
        html = get(viewer, url, "miss" if i == 0 else "hit").get_data(as_text=True)
        cards = cards_of(html)
        assert "vote-form" not in cards and "vote-login" not in cards, i
        assert PRESSED not in html and not (session_tokens(html) & anna_token), i
    # A visitor with a session cookie (past the page cache): login links, no forms.
    visitor = browser(consult_session="x")
    for found in ("miss", "hit"):
        response = get(visitor, url, found)
        assert state(response) == "bypass"
        html = response.get_data(as_text=True)
        cards = cards_of(html)
        assert "vote-form" not in cards and cards.count('class="button secondary vote-login"') == 3
        assert says("Log in to vote") in cards and not (session_tokens(html) & anna_token)
    assert len(fragments()) == 3  # voter, other, anonymous
    # And the voter still gets her forms from her own kind's fragment.
    again = get(as_anna, url, "hit").get_data(as_text=True)
    assert len(vote_forms(again)) == 3 and "vote-login" not in cards_of(again)


def test_an_account_without_the_citizen_role_filling_first_never_takes_a_voters_buttons(
    browser, world, make_user
):
    challenge, _ideas, anna, _bernd = world
    url = f"/challenges/{challenge.id}"
    get(browser(make_user(roles=("juror",))), url, "miss")
    get(browser(consult_session="x"), url, "miss")
    html = get(browser(anna), url, "miss").get_data(as_text=True)
    assert len(vote_forms(html)) == 3 and "vote-login" not in cards_of(html)


# --- languages --------------------------------------------------------------------------


def test_voters_get_cards_in_their_own_language_from_separate_fragments(browser, world, make_user):
    challenge, (first, _second, _third), anna, _bernd = world
    ben = make_user(pseudonym="Ben", locale="en")
    cast_vote(ben, challenge, first.id)
    url = f"/challenges/{challenge.id}"
    as_anna, as_ben = browser(anna), browser(ben)
    expected = {
        "de": (as_anna, count_label(1, "de"), "0 Kommentare"),
        "en": (as_ben, count_label(1, "en"), "0 comments"),
    }
    assert expected["de"][1] != expected["en"][1]
    for locale, (viewer, votes, comments) in expected.items():
        for found in ("miss", "hit"):
            html = get(viewer, url, found).get_data(as_text=True)
            cards = cards_of(html)
            other = "en" if locale == "de" else "de"
            assert votes in cards and comments in cards, locale
            assert expected[other][1] not in cards and expected[other][2] not in cards
            forms = vote_forms(html)
            voted = first.id if viewer is as_ben else None
            for idea_id, form in forms.items():
                label = "Voted – withdraw" if idea_id == voted else "Vote"
                assert f">{says(label, locale)}</button>" in form, (locale, idea_id)
    # Anna has not voted, Ben has: the German cards never show Ben's vote as hers.
    assert PRESSED not in get(as_anna, url, "hit").get_data(as_text=True)
    assert len(fragments()) == 2
    # Visitors choosing English by cookie or Accept-Language share the English visitors'.
    by_cookie = browser(consult_session="x", consult_lang="en")
    by_header = browser(consult_session="y")
    assert says("Log in to vote", "en") in cards_of(
        get(by_cookie, url, "miss").get_data(as_text=True)
    )
    english = by_header.get(url, headers={"Accept-Language": "en"})
    assert fragment_state(english) == "hit"
    assert says("Log in to vote", "en") in cards_of(english.get_data(as_text=True))
    german = get(browser(consult_session="z"), url, "miss").get_data(as_text=True)
    assert says("Log in to vote", "de") in cards_of(german)


# --- what is never stored, and the clock ------------------------------------------------


def test_searches_random_orders_and_pages_past_the_end_are_never_stored_whole(browser, world):
    challenge, (first, _second, _third), anna, _bernd = world
    cast_vote(anna, challenge, first.id)
    as_anna = browser(anna)
    url = f"/challenges/{challenge.id}"
    get(as_anna, url, "miss")
    kept = set(fragments())
    assert len(kept) == 1
    for odd in (f"{url}?q=Idee", f"{url}?sort=random&seed=42"):
        for _ in range(2):
            response = get(as_anna, odd)
            assert fragment_state(response) is None, odd  # no whole list looked up
            forms = vote_forms(response.get_data(as_text=True))
            assert len(forms) == 3 and PRESSED in forms[first.id], odd
            assert f'value="{odd}#vote-{first.id}"' in forms[first.id].replace("&amp;", "&")
    # A page past the end shows the last page, rendered each time, never under its number.
    for _ in range(2):
        html = get(as_anna, f"{url}?page=999", "miss").get_data(as_text=True)
        assert len(vote_forms(html)) == 3
    assert set(fragments()) == kept
    # The same list under another spelling of its options shares the entry.
    get(as_anna, f"{url}?page=1&sort=newest", "hit")
    assert set(fragments()) == kept


# --- single cards: searches and random orders -------------------------------------------


def test_a_search_keeps_its_cards_one_by_one_and_shares_them_with_other_searches(
    app, browser, world
):
    challenge, (first, second, third), anna, bernd = world
    cast_vote(anna, challenge, first.id)
    cast_vote(bernd, challenge, second.id)
    as_anna, as_bernd = browser(anna), browser(bernd)
    url = f"/challenges/{challenge.id}"
    search, shuffled = f"{url}?q=Idee", f"{url}?sort=random&seed=7"
    first_time = get(as_anna, search)
    assert card_hits(first_time) == "0/3" and len(card_fragments()) == 3
    # Another search, another seed, another voter: the same three cards from the cache.
    for viewer, other in ((as_anna, search), (as_bernd, shuffled), (as_bernd, f"{url}?q=IDEE")):
        assert card_hits(get(viewer, other)) == "3/3", other
    assert len(card_fragments()) == 3 and fragments() == []
    # Each voter's own buttons, their own token; the cards in the search's order.
    pages = {"Anna": get(as_anna, search), "Bernd": get(as_bernd, search)}
    own = {"Anna": first.id, "Bernd": second.id}
    for person, response in pages.items():
        html = response.get_data(as_text=True)
        forms = vote_forms(html)
        assert set(forms) == {first.id, second.id, third.id}, person
        assert [k for k, f in forms.items() if PRESSED in f] == [own[person]], person
        logout = LOGOUT.search(html).group(1)
        assert {form_token(f) for f in forms.values()} == {logout}, person
        assert "<!--" not in cards_of(html)
    tokens = [session_tokens(r.get_data(as_text=True)) for r in pages.values()]
    assert not (tokens[0] & tokens[1])
    for key in card_fragments():
        text = store()._entries[key].decode()
        assert "csrf_token" not in text and PRESSED not in text and "vote-form" not in text
    # The page put together from single cards is the very markup of a render without cache.
    for target in (search, shuffled):
        served = get(as_anna, target).get_data(as_text=True)
        saved = app.extensions["consult_page_cache"]
        app.extensions["consult_page_cache"] = False
        try:
            plain = as_anna.get(target).get_data(as_text=True)
        finally:
            app.extensions["consult_page_cache"] = saved
        assert without_tokens(served) == without_tokens(plain), target


def test_a_vote_empties_the_single_cards_and_the_next_search_shows_the_new_count(browser, world):
    challenge, (first, _second, _third), anna, bernd = world
    as_anna = browser(anna)
    search = f"/challenges/{challenge.id}?q=Idee"
    get(as_anna, search)
    assert card_hits(get(as_anna, search)) == "3/3"
    cast_vote(bernd, challenge, first.id)
    response = get(as_anna, search)
    assert card_hits(response) == "0/3"
    cards = cards_of(response.get_data(as_text=True))
    assert f'<span id="votes-{first.id}">{count_label(1)}</span>' in cards


def test_single_cards_are_kept_per_language_and_kind_of_viewer(browser, world, make_user):
    challenge, _ideas, anna, _bernd = world
    ben = make_user(pseudonym="Ben", locale="en")
    search = f"/challenges/{challenge.id}?q=Idee"
    viewers = {
        "voter, de": browser(anna),
        "voter, en": browser(ben),
        "other": browser(make_user(roles=("juror",))),
        "visitor": browser(consult_session="x"),
    }
    for label, viewer in viewers.items():
        assert card_hits(get(viewer, search)) == "0/3", label
        html = get(viewer, search).get_data(as_text=True)
        cards = cards_of(html)
        assert ("vote-form" in cards) is label.startswith("voter"), label
        assert ("vote-login" in cards) is (label == "visitor"), label
        lang = "en" if label == "voter, en" else "de"
        assert count_label(0, lang) in cards, label
    assert len(card_fragments()) == 3 * len(viewers)


def test_the_list_of_a_search_runs_one_query_for_its_cards_from_the_cache(browser, world):
    challenge, _ideas, anna, _bernd = world
    as_anna = browser(anna)
    search = f"/challenges/{challenge.id}?q=Idee"
    runs = []
    for _ in range(2):
        statements = []

        def count(conn, cursor, statement, *args, seen=statements):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            get(as_anna, search)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        # The cards' query: ideas with their answer states (the page's ids come without).
        runs.append((len(statements), sum("idea_answers" in s for s in statements)))
    # Missing cards: the page's ids, then the cards' ideas; all cached: the ids alone.
    assert runs[0][1] == 1 and runs[1][1] == 0
    assert runs[1][0] < runs[0][0]


def test_the_clock_closing_the_vote_takes_the_buttons_away_despite_a_stored_fragment(
    browser, world
):
    challenge, (first, _second, _third), anna, _bernd = world
    cast_vote(anna, challenge, first.id)
    as_anna = browser(anna)
    url = f"/challenges/{challenge.id}"
    get(as_anna, url, "miss")
    assert len(vote_forms(get(as_anna, url, "hit").get_data(as_text=True))) == 3
    with frozen(challenge.voting_closes_at + timedelta(seconds=1)):
        for _ in range(2):
            html = get(as_anna, url).get_data(as_text=True)
            assert "vote-form" not in html and PRESSED not in html
            assert count_label(1) in cards_of(html)
    # A second before the close, the open list's fragment still serves her buttons.
    with frozen(challenge.voting_closes_at - timedelta(seconds=1)):
        assert len(vote_forms(get(as_anna, url).get_data(as_text=True))) == 3
    with travel(timedelta(days=30)):
        assert "vote-form" not in get(as_anna, url).get_data(as_text=True)


# --- hostile text -----------------------------------------------------------------------


def test_text_that_looks_like_a_slot_or_markup_is_escaped_never_a_form(
    app, browser, world, make_user
):
    challenge, ideas, anna, _bernd = world
    titles = [
        f"<!--{'0' * 16}:{ideas[0].id}-->",
        f"<!--deadbeefdeadbeef:{ideas[1].id}--> Kommentar",
        '<form class="vote-form" id="vote-1"><!-- nicht schließen',
    ]
    hostile = [make_idea(challenge, title=title) for title in titles]
    as_anna = browser(anna)
    url = f"/challenges/{challenge.id}"
    published = {i.id for i in ideas} | {i.id for i in hostile}
    viewers = [as_anna, browser(make_user(roles=("juror",))), browser(consult_session="x")]
    for found in ("miss", "hit"):
        for viewer in viewers:
            html = get(viewer, url, found).get_data(as_text=True)
            cards = cards_of(html)
            assert "<!--" not in cards and cards.count("&lt;!--") == len(titles)
            assert "&lt;form class=&#34;vote-form&#34;" in cards
            forms = vote_forms(html)
            assert set(forms) == (published if viewer is as_anna else set())
            assert cards.count("<form") == len(forms)
    # The same from single cards (a random order lists every idea).
    for expected in ("0/", f"{len(published)}/"):
        for viewer in viewers:
            response = get(viewer, f"{url}?sort=random&seed=9")
            html = response.get_data(as_text=True)
            cards = cards_of(html)
            assert "<!--" not in cards and cards.count("&lt;!--") == len(titles)
            forms = vote_forms(html)
            assert set(forms) == (published if viewer is as_anna else set())
            assert cards.count("<form") == len(forms)
        assert card_hits(response).startswith(expected)
    # The request's own URL goes into the buttons: escaped, though the cards are shared.
    attack = f'{url}?utm="><script>alert(1)</script>'
    html = get(as_anna, attack, "hit").get_data(as_text=True)
    assert "<script>alert(1)" not in html and len(vote_forms(html)) == len(published)
