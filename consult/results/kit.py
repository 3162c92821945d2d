"""The press kit: one ZIP with the announcement (German and English, plain text and Markdown),
the chart images, the open data and the snapshot, for newsrooms that want it all at once.

The ZIP is built into a ``SpooledTemporaryFile``: in memory while small, on disk beyond
``SPOOL_BYTES``. The open data is written into it chunk by chunk from the same generator as
the downloads (``exports.export_ideas``), so the kit of a challenge with 250,000 ideas costs
no more memory than one with 2,500, and its files are byte for byte the downloads.
"""

import tempfile
import zipfile
from html.parser import HTMLParser

from babel.numbers import get_decimal_symbol
from flask import current_app

from ..challenges.models import Challenge
from ..i18n import SUPPORTED_LOCALES, _, force_locale
from ..jury.freezing import snapshot_download
from ..urls import external_url
from . import charts, exports, services
from .models import Announcement

# Kept in memory up to this size; a bigger kit goes to a temporary file on disk.
SPOOL_BYTES = 8 * 1024 * 1024
# Bytes read at a time when the finished ZIP is streamed to the client.
READ_BYTES = 64 * 1024
# Characters that would make Markdown of a citizen's idea title (emphasis, a link, a list).
_MARKDOWN_SPECIALS = "\\`*_{}[]()<>#+-.!|~"


def kit_filename(challenge: Challenge) -> str:
    """The download's file name, e.g. "results-7-press-kit.zip"."""
    return f"results-{challenge.id}-press-kit.zip"


def build_press_kit(challenge: Challenge, announcement: Announcement):
    """The press kit of public results as an open file positioned at its start.

    The caller has checked ``visibility.require_public_results``, streams the file and
    closes it. Must run in a request or app context (the exports read the database as
    they are written).
    """
    snapshot = services.get_snapshot(challenge)
    if snapshot is None:  # public results are frozen; defensive
        raise LookupError("no frozen results for a press kit")
    drawn = {}
    texts = {}
    for locale in SUPPORTED_LOCALES:
        with force_locale(locale):
            drawn[locale] = charts.current_png_charts(challenge, locale)
            page = services.results_page(challenge, announcement, locale)
            texts[locale] = (
                announcement_text(page, locale, markdown=False),
                announcement_text(page, locale, markdown=True),
            )
    names = []
    for locale in SUPPORTED_LOCALES:
        names += [f"announcement-{locale}.txt", f"announcement-{locale}.md"]
    chart_names = [f"charts/{name}-{locale}.png" for locale in drawn for name in drawn[locale]]
    names += chart_names + ["open-data/ideas.csv", "open-data/ideas.json", "snapshot.json"]

    # Not a with block: the file outlives this function; the response closes it.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as kit:
            kit.writestr("README.txt", _readme(challenge, snapshot.sha256, names))
            for locale in SUPPORTED_LOCALES:
                plain, markdown = texts[locale]
                kit.writestr(f"announcement-{locale}.txt", plain)
                kit.writestr(f"announcement-{locale}.md", markdown)
            for locale, rendered in drawn.items():
                for name in rendered:
                    # PNG is compressed already: deflating it again only costs time.
                    kit.writestr(
                        f"charts/{name}-{locale}.png",
                        charts.png_content(challenge, name, locale) or b"",
                        compress_type=zipfile.ZIP_STORED,
                    )
            for fmt in ("csv", "json"):
                export = exports.export_ideas(challenge, announcement, fmt)
                with kit.open(f"open-data/ideas.{fmt}", "w", force_zip64=True) as member:
                    for chunk in export.chunks:
                        member.write(chunk)
            kit.writestr("snapshot.json", snapshot_download(snapshot))
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def stream_file(handle):
    """The file's bytes in READ_BYTES pieces; closes it at the end."""
    try:
        while chunk := handle.read(READ_BYTES):
            yield chunk
    finally:
        handle.close()


# --- the texts ----------------------------------------------------------------------------


def _escape_markdown(value: str) -> str:
    return "".join("\\" + c if c in _MARKDOWN_SPECIALS else c for c in value)


def announcement_text(page: services.ResultsPage, locale: str, markdown: bool) -> str:
    """The announcement in ``locale`` as plain text or Markdown (call under force_locale).

    Title, lead and body, the winners with rank and score, the link to the results page,
    the open data licence and the snapshot's SHA-256: what a newsroom needs to quote and
    to check. A text missing in this language falls back to the other, as on the page.
    """
    announcement = page.announcement
    title, _lang = announcement.text("title", locale)
    lead, _lang = announcement.text("lead", locale)
    body, _lang = announcement.text("body", locale)
    body_html, _lang = announcement.text("body_html", locale)
    out = [f"# {title}", ""] if markdown else [title, "=" * len(title), ""]
    if lead:
        out += [lead, ""]
    if body:
        out += [body if markdown else html_to_text(body_html), ""]
    if page.highlights:
        heading = _("The winners")
        out += [f"## {heading}", ""] if markdown else [heading, "-" * len(heading), ""]
        for number, highlight in enumerate(page.highlights, start=1):
            facts = "{} · {}".format(
                _("Rank %(rank)d", rank=highlight.rank),
                _(
                    "combined score %(score)s",
                    score=highlight.score.replace(".", get_decimal_symbol(locale)),
                ),
            )
            if markdown:
                out.append(f"{number}. **{_escape_markdown(highlight.title)}** ({facts})")
            else:
                out.append(f"{number}. {highlight.title} ({facts})")
            if highlight.project is not None:
                project_title, _lang = highlight.project.text("title", locale)
                project_url = external_url("projects.show", project_id=highlight.project.id)
                out.append(f"   {_('Now a lab project:')} {project_title} <{project_url}>")
        out.append("")
    url = external_url("results.show", challenge_id=page.challenge.id)
    out += [_("The full results, the ranking and the formula: %(url)s", url=url), ""]
    out += _closing(page.snapshot.sha256)
    return "\n".join(out)


def _closing(sha256: str) -> list[str]:
    """The licence and checksum lines that end the texts and the README."""
    licence = exports.open_data_licence()
    return [
        _("Open data licence: %(name)s (%(url)s)", name=licence["name"], url=licence["url"]),
        _("SHA-256 of the snapshot: %(sha)s", sha=sha256),
        "",
    ]


class _TextFromHTML(HTMLParser):
    """The sanitised body HTML as plain text: paragraphs, list items and links kept."""

    BLOCKS = {"p", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.href: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        if tag == "li":
            self.parts.append("\n- ")
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "a":
            self.href.append(dict(attrs).get("href"))

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self.href:
            href = self.href.pop()
            if href:
                self.parts.append(f" ({href})")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(value: str) -> str:
    """Plain text of sanitised Markdown HTML (for the .txt files)."""
    parser = _TextFromHTML()
    parser.feed(value)
    parser.close()
    text = "".join(parser.parts)
    lines = [line.rstrip() for line in text.splitlines()]
    collapsed: list[str] = []
    for line in lines:
        if line or (collapsed and collapsed[-1]):
            collapsed.append(line)
    return "\n".join(collapsed).strip()


def _describe(name: str) -> str:
    if name.startswith("announcement-"):
        return _("The announcement: title, lead, text, winners and link")
    if name.startswith("charts/"):
        return _("A chart of the participation figures (PNG, 1600 pixels wide)")
    return {
        "open-data/ideas.csv": _("Every published idea with its votes and ranking (CSV)"),
        "open-data/ideas.json": _("Every published idea with its votes and ranking (JSON)"),
        "snapshot.json": _("The frozen results: every input of the formula, and the ranking"),
    }[name]


def _readme(challenge: Challenge, sha256: str, names: list[str]) -> str:
    """What is in the kit, in German and in English, with the snapshot's SHA-256."""
    sections = []
    for locale in SUPPORTED_LOCALES:
        with force_locale(locale):
            title, _lang = challenge.text("title", locale)
            lines = [
                _("Press kit: %(title)s", title=title),
                external_url("results.show", challenge_id=challenge.id),
                "",
                _("Files:"),
            ]
            lines += [f"  {name}: {_describe(name)}" for name in names]
            lines += ["", *_closing(sha256)]
            lines.append(
                _("Published by %(operator)s.", operator=current_app.config["OPERATOR_NAME"])
            )
            sections.append("\n".join(lines))
    return "\n\n".join(sections) + "\n"
