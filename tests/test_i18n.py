"""Languages: complete catalogs, messages.pot in step with the code, and locale choice."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from consult.translations_tool import extract

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?([sdifr%])")


def load(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


def placeholders(text: str) -> list[tuple[str, str]]:
    return sorted(PLACEHOLDER.findall(text))


def forms(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def source_forms(message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple) else [message.id]


@pytest.mark.parametrize("locale", ["de", "en"])
def test_catalog_is_complete_not_fuzzy_and_keeps_placeholders(locale):
    problems = []
    for message in load(locale):
        if not message.id:
            continue
        key = source_forms(message)[0][:60]
        if message.fuzzy:
            problems.append(f"fuzzy: {key}")
        if not all(forms(message)):
            problems.append(f"missing: {key}")
            continue
        expected = placeholders(source_forms(message)[-1])
        for translated in forms(message):
            if placeholders(translated) != expected:
                problems.append(f"placeholders differ: {key}")
    assert problems == []


def test_catalogs_hold_every_string_of_messages_pot():
    with (TRANSLATIONS / "messages.pot").open("rb") as fh:
        template_ids = {m.id for m in read_po(fh) if m.id}
    for locale in ("de", "en"):
        catalog_ids = {m.id for m in load(locale) if m.id}
        assert template_ids - catalog_ids == set(), f"{locale} lacks strings"


def test_messages_pot_is_up_to_date_with_the_code(tmp_path):
    fresh = tmp_path / "fresh.pot"
    extract(fresh)
    with fresh.open("rb") as fh:
        code_ids = {m.id for m in read_po(fh) if m.id}
    with (TRANSLATIONS / "messages.pot").open("rb") as fh:
        pot_ids = {m.id for m in read_po(fh) if m.id}
    assert code_ids - pot_ids == set(), "new strings: run `python3 -m consult translations`"
    assert pot_ids - code_ids == set(), "stale strings: run `python3 -m consult translations`"


@pytest.mark.parametrize("locale", ["de", "en"])
def test_compiled_catalog_matches_the_po_file(locale):
    def key(value):  # plural entries come as lists from .mo files and tuples from .po files
        return tuple(value) if isinstance(value, list | tuple) else value

    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        compiled = {key(m.id): key(m.string) for m in read_mo(fh) if m.id}
    source = {
        key(m.id): key(m.string) for m in load(locale) if m.id and all(forms(m)) and not m.fuzzy
    }
    assert compiled == source, "run `python3 -m consult translations` to compile"


# --- which language a request gets ------------------------------------------------------


def html_lang(response) -> str:
    return re.search(r'<html lang="(\w+)"', response.get_data(as_text=True)).group(1)


def test_german_is_the_default(client):
    assert html_lang(client.get("/")) == "de"


def test_accept_language_is_honoured(client):
    assert html_lang(client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})) == "en"
    assert html_lang(client.get("/", headers={"Accept-Language": "fr, en;q=0.5"})) == "en"
    assert html_lang(client.get("/", headers={"Accept-Language": "fr"})) == "de"


def test_explicit_choice_is_kept_in_a_cookie_and_beats_accept_language(client):
    response = client.get("/imprint?lang=en&x=1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/imprint?x=1"
    cookie = response.headers["Set-Cookie"]
    assert "consult_lang=en" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert html_lang(client.get("/", headers={"Accept-Language": "de"})) == "en"


def test_unknown_language_falls_back_without_a_cookie(client):
    response = client.get("/?lang=xx")
    assert response.status_code == 303
    assert "Set-Cookie" not in response.headers
    assert html_lang(client.get("/")) == "de"


def test_user_setting_beats_the_cookie(client, make_user, login):
    user = make_user(locale="en")
    client.get("/?lang=de")
    login(user)
    assert html_lang(client.get("/")) == "en"


def test_logged_in_switch_changes_the_setting(app, client, make_user, login):
    user = make_user(locale="de")
    login(user)
    response = client.post_form("/account/language", {"locale": "en", "next": "/imprint"})
    assert response.status_code == 303 and response.headers["Location"] == "/imprint"
    assert user.locale == "en"
    assert html_lang(client.get("/imprint")) == "en"


def test_language_switcher_is_on_every_page(client):
    for path in ("/", "/imprint", "/privacy", "/accessibility", "/account/login", "/nowhere"):
        body = client.get(path).get_data(as_text=True)
        assert 'hreflang="en"' in body and 'lang="de" aria-current="true"' in body, path


def test_dates_are_shown_in_berlin_time_for_the_locale(app):
    from flask_babel import force_locale

    from consult.i18n import format_local

    summer = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)  # 12:00 in Berlin (CEST)
    winter = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)  # 11:00 in Berlin (CET)
    with app.test_request_context():
        with force_locale("de"):
            assert format_local(summer, "short") == "01.07.26, 12:00"
            assert format_local(winter, "short") == "15.01.26, 11:00"
        with force_locale("en"):
            assert "12:00" in format_local(summer, "short")
            assert "7/1/26" in format_local(summer, "short") or "01/07/2026" in format_local(
                summer, "short"
            )
