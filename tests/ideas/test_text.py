"""Citizen text: the Markdown subset, and the checks for invisible characters."""

import re
from html.parser import HTMLParser

import pytest

from consult.text import clean_line, clean_text, has_invisible_characters, render_markdown


def links(html: str) -> list[str]:
    return re.findall(r"<a\b[^>]*>", html)


def link_attributes(html: str) -> list[dict]:
    """The attributes of every link, as a browser's parser sees them."""
    found = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "a":
                found.append(dict(attrs))

    Parser().feed(html)
    return found


# --- Markdown -----------------------------------------------------------------------------


def test_the_allowed_formatting_renders():
    html = render_markdown(
        "# Titel\n\n**fett** und *kursiv* und ~~weg~~\n\n- eins\n- zwei\n\n1. a\n\n> Zitat\n\n`code`"
    )
    for tag in ("<h3>", "<strong>fett</strong>", "<em>kursiv</em>", "<s>weg</s>", "<ul>",
                "<ol>", "<blockquote>", "<code>code</code>"):  # fmt: skip
        assert tag in html


def test_headings_never_compete_with_the_page_headings():
    html = render_markdown("# Eins\n\n## Zwei")
    assert "<h1>" not in html and "<h2>" not in html
    assert "<h3>Eins</h3>" in html and "<h4>Zwei</h4>" in html


@pytest.mark.parametrize("url", ["https://example.org/a?b=1&c=2", "http://example.org"])
def test_web_links_get_nofollow_ugc(url):
    html = render_markdown(f"[Mehr dazu]({url})")
    (link,) = links(html)
    assert 'rel="nofollow ugc"' in link
    assert 'href="http' in link


def test_autolinks_are_links_and_bare_addresses_stay_text():
    assert links(render_markdown("<https://example.org>"))
    assert not links(render_markdown("www.example.org"))


@pytest.mark.parametrize(
    "source",
    [
        "[klick](javascript:alert(1))",
        "[klick](JaVaScRiPt:alert(1))",
        "[klick](java&#x09;script:alert(1))",
        "[klick](javascript&colon;alert(1))",
        "[klick](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[klick](vbscript:msgbox(1))",
        "[klick](file:///etc/passwd)",
        "[klick](mailto:someone@example.org)",
        "[klick](/account/delete)",
        "[klick](//evil.example/login)",
        "<javascript:alert(1)>",
        "[klick][ref]\n\n[ref]: javascript:alert(1)",
    ],
)
def test_links_other_than_web_addresses_stay_plain_text(source):
    html = render_markdown(source)
    assert links(html) == []
    assert "href" not in html
    assert "klick" in html or "javascript" in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '"><svg onload=alert(1)>',
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=https://evil.example></iframe>",
        "<style>body{display:none}</style>",
    ],
)
def test_raw_html_is_shown_as_text(source):
    html = render_markdown(source)
    assert "<script" not in html and "<svg" not in html and "<img" not in html
    assert "<iframe" not in html and "<style" not in html and "<a " not in html
    assert "&lt;" in html


def test_images_are_not_embedded():
    html = render_markdown("![Bild](https://tracker.example/pixel.png)")
    assert "<img" not in html


@pytest.mark.parametrize(
    "source",
    [
        '[x](https://example.org "t\\" onmouseover=\\"alert(1)")',
        '[x](https://example.org" onmouseover="alert(1))',
        '[x](<https://example.org" onmouseover="alert(1)>)',
    ],
)
def test_quotes_cannot_break_out_of_a_link(source):
    for attributes in link_attributes(render_markdown(source)):
        assert set(attributes) <= {"href", "title", "rel"}, attributes


# --- invisible characters -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Idee\u202egpj.exe",  # right-to-left override
        "Idee\u2066x\u2069",  # isolates
        "Ide\u200be",  # zero-width space
        "Ide\u200ce",  # zero-width non-joiner
        "Ide\u200de",  # zero-width joiner between letters
        "\ufeffIdee",  # byte order mark
        "Ide\u2060e",  # word joiner
        "Idee\x07",  # bell
        "\u3164",  # Hangul filler: a "blank" that is not a space
        "Idee\U000e0041",  # a tag character on its own
    ],
)
def test_invisible_characters_are_found(text):
    assert has_invisible_characters(text)


@pytest.mark.parametrize(
    "text",
    [
        "Straßenfest für alle",
        "Zeile eins\nZeile zwei\tmit Tab",
        "Familie 👨\u200d👩\u200d👧 willkommen",  # joiners inside an emoji
        "Schottland \U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "Daumen 👍🏽",
        "Fahr\u00adrad",  # soft hyphen from a word processor
        "مرحبا שלום",  # right-to-left scripts themselves are fine
    ],
)
def test_ordinary_text_passes(text):
    assert not has_invisible_characters(text)


def test_clean_line_and_clean_text():
    assert clean_line("  Viele   Bäume\n für\talle ") == "Viele Bäume für alle"
    assert clean_line("Cafe\u0301") == "Café"  # NFC
    assert clean_text("\r\n eins\r\nzwei\rdrei\u2028vier \n") == "eins\nzwei\ndrei\nvier"
