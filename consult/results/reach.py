"""Reach: the Atom feed, the sitemap, robots.txt, link previews (Open Graph, Twitter cards)
and the printable poster with a QR code.

Everything about results asks ``visibility.public_announcement``, so nothing of an
announcement reaches a feed, a sitemap or a preview before its embargo. XML is built with
xml.etree, which escapes every text and attribute: user text is never pasted into markup.
"""

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import nh3
import segno
from flask import current_app
from markupsafe import Markup
from sqlalchemy import select

from ..challenges.models import Challenge
from ..challenges.timeline import PHASE_LABELS, format_when
from ..clock import now
from ..extensions import db
from ..i18n import _
from ..ideas.models import Idea
from ..media.services import get_image
from ..projects.models import LabProject, ProjectUpdate
from ..urls import external_url
from .models import Announcement, ResultChart
from .visibility import public_announcement

ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FEED_LIMIT = 50
# The sitemap protocol's limit for one file; a city's challenges stay far below it.
SITEMAP_LIMIT = 50_000
SUMMARY_MAX = 280
DESCRIPTION_MAX = 200
# Which chart previews a shared results link best, if it was rendered (consult.results.charts).
PREVIEW_CHARTS = ("votes-by-day", "by-district", "by-category")
OG_LOCALES = {"de": "de_DE", "en": "en_GB"}
# Medium error correction survives a crease or a smudge on a poster and keeps the code small.
QR_ERROR = "m"
QR_SCALE = 6
QR_BORDER = 4
# The <updated> of a feed without entries. Atom asks for the instant of the last change, and
# nothing has changed yet: a fixed instant, not the request time, keeps the document (and its
# ETag) the same between requests, so readers polling it get 304 Not Modified.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)

# --- text helpers -------------------------------------------------------------------------


def plain_text(value: str, limit: int = DESCRIPTION_MAX, is_html: bool = True) -> str:
    """Plain text for previews and summaries, shortened at a word boundary.

    ``value`` is our sanitised HTML (Markdown is passed in rendered, so no ``**`` shows up)
    or, with ``is_html=False``, text as typed, where "<b>" is just what someone wrote.
    """
    if is_html:
        # nh3 without any allowed tag keeps only the text (and drops script and style).
        value = nh3.clean(value or "", tags=set(), clean_content_tags={"script", "style"})
        value = html.unescape(value)
    text = " ".join((value or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:-") + "…"


def _host() -> str:
    return urlsplit(current_app.config["PUBLIC_URL"]).hostname or "localhost"


def _tag_uri(day: datetime, specific: str) -> str:
    # RFC 4151: stable ids that do not change when the page layout does.
    return f"tag:{_host()},{day:%Y-%m-%d}:{specific}"


# --- the Atom feed ------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    summary: str
    link: str
    updated: datetime
    lang: str


def _announcement_entries(locale: str, at: datetime) -> list[FeedEntry]:
    challenges = db.session.scalars(
        select(Challenge)
        .join(Announcement, Announcement.challenge_id == Challenge.id)
        .where(Announcement.published_at.is_not(None), Challenge.results_frozen_at.is_not(None))
    ).all()
    entries = []
    for challenge in challenges:
        announcement = public_announcement(challenge, at)
        if announcement is None:
            continue
        title, lang = announcement.text("title", locale)
        lead, _lead_lang = announcement.text("lead", locale)
        body, _body_lang = announcement.text("body_html", locale)
        entries.append(
            FeedEntry(
                id=_tag_uri(challenge.created_at, f"results/{challenge.id}"),
                title=title,
                summary=plain_text(lead, SUMMARY_MAX, is_html=False)
                if lead
                else plain_text(body, SUMMARY_MAX),
                link=external_url("results.show", challenge_id=challenge.id),
                updated=announcement.embargo_at,
                lang=lang,
            )
        )
    return entries


def _update_entries(locale: str, at: datetime) -> list[FeedEntry]:
    rows = db.session.execute(
        select(ProjectUpdate, LabProject)
        .join(LabProject, LabProject.id == ProjectUpdate.project_id)
        .where(ProjectUpdate.published_at <= at)
        .order_by(ProjectUpdate.published_at.desc(), ProjectUpdate.id.desc())
        .limit(FEED_LIMIT)
    ).all()
    entries = []
    for update, project in rows:
        project_title, lang = project.text("title", locale)
        other = "en" if locale == "de" else "de"
        body = getattr(update, f"body_html_{locale}") or getattr(update, f"body_html_{other}")
        entries.append(
            FeedEntry(
                id=_tag_uri(update.published_at, f"project-update/{update.id}"),
                title=_("Lab project update: %(title)s", title=project_title),
                summary=plain_text(body, SUMMARY_MAX),
                link=external_url("projects.show", project_id=project.id),
                updated=update.published_at,
                lang=lang,
            )
        )
    return entries


def feed_entries(locale: str, at: datetime | None = None) -> list[FeedEntry]:
    """Public results announcements and lab project updates, newest first, at most 50."""
    at = at or now()
    entries = _announcement_entries(locale, at) + _update_entries(locale, at)
    entries.sort(key=lambda entry: (entry.updated, entry.id), reverse=True)
    return entries[:FEED_LIMIT]


def _sub(parent, tag: str, text: str | None = None, **attrs) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def feed_updated(entries: list[FeedEntry]) -> datetime:
    """When the feed last changed: its newest entry, or a fixed instant while it is empty."""
    return entries[0].updated if entries else EMPTY_FEED_UPDATED


def build_feed(locale: str, at: datetime | None = None) -> bytes:
    """The Atom 1.0 document of ``feed_entries`` in ``locale`` (xml:lang set)."""
    at = at or now()
    entries = feed_entries(locale, at)
    site = _site_name()
    # The namespace as a plain xmlns attribute on unqualified names: ET.register_namespace
    # would change global state shared by all threads.
    feed = ET.Element("feed", {"xmlns": ATOM_NS, XML_LANG: locale})
    _sub(feed, "id", external_url("results.feed"))
    _sub(feed, "title", _("Results and lab projects – %(site)s", site=site))
    _sub(feed, "subtitle", _("Published results of the challenges and news from the lab projects."))
    _sub(feed, "updated", _stamp(feed_updated(entries)))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=external_url("results.feed"))
    _sub(feed, "link", rel="alternate", type="text/html", href=external_url("pages.home"))
    author = _sub(feed, "author")
    _sub(author, "name", site)
    _sub(feed, "generator", "consult")
    for item in entries:
        entry = _sub(feed, "entry")
        if item.lang != locale:
            entry.set(XML_LANG, item.lang)
        _sub(entry, "id", item.id)
        _sub(entry, "title", item.title, type="text")
        _sub(entry, "updated", _stamp(item.updated))
        _sub(entry, "published", _stamp(item.updated))
        _sub(entry, "link", rel="alternate", type="text/html", href=item.link)
        if item.summary:
            _sub(entry, "summary", item.summary, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


# --- sitemap and robots.txt ---------------------------------------------------------------


@dataclass(frozen=True)
class SitemapUrl:
    loc: str
    lastmod: datetime | None = None


def sitemap_urls(at: datetime | None = None) -> list[SitemapUrl]:
    """Every public page worth indexing: challenges past their draft, their published
    ideas, results from their embargo on, lab projects and the legal pages."""
    at = at or now()
    urls = [
        SitemapUrl(external_url("pages.home")),
        SitemapUrl(external_url("projects.list_projects")),
    ]
    challenges = db.session.scalars(
        select(Challenge).where(Challenge.submission_opens_at <= at).order_by(Challenge.id)
    ).all()
    for challenge in challenges:
        if not challenge.is_public(at):
            continue
        urls.append(
            SitemapUrl(
                external_url("challenges.show", challenge_id=challenge.id), challenge.updated_at
            )
        )
        announcement = public_announcement(challenge, at)
        if announcement is not None:
            urls.append(
                SitemapUrl(
                    external_url("results.show", challenge_id=challenge.id),
                    max(announcement.embargo_at, announcement.updated_at),
                )
            )
    ideas = db.session.execute(
        select(Idea.id, Idea.updated_at)
        .join(Challenge, Challenge.id == Idea.challenge_id)
        .where(Idea.status == "published", Challenge.submission_opens_at <= at)
        .order_by(Idea.id)
        .limit(SITEMAP_LIMIT)
    ).all()
    urls += [SitemapUrl(external_url("ideas.show", idea_id=i), when) for i, when in ideas]
    projects = db.session.execute(
        select(LabProject.id, LabProject.updated_at).order_by(LabProject.id)
    ).all()
    urls += [SitemapUrl(external_url("projects.show", project_id=p), when) for p, when in projects]
    urls += [
        SitemapUrl(external_url(endpoint))
        for endpoint in ("pages.imprint", "pages.privacy", "pages.accessibility")
    ]
    return urls[:SITEMAP_LIMIT]


def build_sitemap(at: datetime | None = None) -> bytes:
    """The sitemap.xml document of ``sitemap_urls``."""
    root = ET.Element("urlset", {"xmlns": SITEMAP_NS})
    for url in sitemap_urls(at):
        element = ET.SubElement(root, "url")
        ET.SubElement(element, "loc").text = url.loc
        if url.lastmod is not None:
            ET.SubElement(element, "lastmod").text = _stamp(url.lastmod)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def robots_txt() -> str:
    """robots.txt: pages for staff and accounts are not for search engines; the sitemap is."""
    lines = ["User-agent: *"]
    lines += [f"Disallow: {path}" for path in ("/account/", "/staff/", "/press", "/moderation/")]
    lines.append(f"Sitemap: {external_url('results.sitemap')}")
    return "\n".join(lines) + "\n"


# --- link previews (Open Graph, Twitter cards) --------------------------------------------


@dataclass(frozen=True)
class SocialMeta:
    title: str
    description: str
    url: str
    type: str
    locale: str
    alternate_locale: str
    site_name: str
    image: str | None = None
    image_alt: str = ""
    image_width: int | None = None
    image_height: int | None = None
    image_type: str | None = None

    @property
    def twitter_card(self) -> str:
        return "summary_large_image" if self.image else "summary"


def _site_name() -> str:
    return f"consult {current_app.config['CITY_NAME']}"


def _meta(locale: str, title: str, description: str, url: str, type_: str = "website",
          image=None, image_alt: str = "", **image_info) -> SocialMeta:  # fmt: skip
    # ``description`` is plain text already; ``image`` a media Image or an absolute URL.
    other = "en" if locale == "de" else "de"
    if image is not None and not isinstance(image, str):
        image_info = {"image_width": image.width, "image_height": image.height,
                      "image_type": "image/webp"}  # fmt: skip
        image = external_url("media.image", image_id=image.id, digest=image.digest)
    return SocialMeta(
        title=title, description=description, url=url, type=type_,
        locale=OG_LOCALES[locale], alternate_locale=OG_LOCALES[other], site_name=_site_name(),
        image=image, image_alt=image_alt if image else "", **image_info,
    )  # fmt: skip


def _challenge_meta(challenge: Challenge, locale: str) -> SocialMeta | None:
    # Title and question only: the page of a challenge says nothing about its winners.
    if not challenge.is_public():
        return None
    title, _lang = challenge.text("title", locale)
    question, _lang = challenge.text("question", locale)
    alt, _lang = challenge.text("cover_alt", locale)
    url = external_url("challenges.show", challenge_id=challenge.id)
    description = plain_text(question, is_html=False)
    cover = get_image(challenge.cover_image_id)
    return _meta(locale, title, description, url, "website", cover, alt)


def _idea_meta(idea: Idea, locale: str) -> SocialMeta | None:
    # Only what every visitor sees: no preview of drafts, hidden or withdrawn ideas.
    if idea.status != "published" or not idea.challenge.is_public():
        return None
    url = external_url("ideas.show", idea_id=idea.id)
    return _meta(locale, idea.title, plain_text(idea.body_html), url, "article", get_image(idea.image_id),
                 idea.image_alt)  # fmt: skip


def _chart_image(challenge: Challenge, locale: str) -> str | None:
    """A rendered chart PNG of the results for the preview, in the page's language if any."""
    names = db.session.execute(
        select(ResultChart.name, ResultChart.locale)
        .where(ResultChart.challenge_id == challenge.id, ResultChart.format == "png")
        .order_by(ResultChart.name)
    ).all()

    def preference(row):
        name, chart_locale = row
        rank = PREVIEW_CHARTS.index(name) if name in PREVIEW_CHARTS else len(PREVIEW_CHARTS)
        return chart_locale != locale, rank, name

    ordered = sorted(names, key=preference)
    if not ordered:
        return None
    name, chart_locale = ordered[0]
    filename = f"{name}-{chart_locale}.png"
    return external_url("results.chart", challenge_id=challenge.id, filename=filename)


def _results_meta(announcement: Announcement, locale: str) -> SocialMeta | None:
    # The results page is 404 before the embargo; the press preview shows what will come.
    challenge = db.session.get(Challenge, announcement.challenge_id)
    if challenge is None or not challenge.is_frozen:
        return None
    title, _lang = announcement.text("title", locale)
    lead, _lang = announcement.text("lead", locale)
    body, _lang = announcement.text("body_html", locale)
    url = external_url("results.show", challenge_id=challenge.id)
    image = _chart_image(challenge, locale)
    alt = _("A chart of how people took part") if image else ""
    description = plain_text(lead, is_html=False) if lead else plain_text(body)
    return _meta(locale, title, description, url, "article", image, alt, image_type="image/png")


def _project_meta(project: LabProject, locale: str) -> SocialMeta | None:
    from ..text import render_markdown

    title, _lang = project.text("title", locale)
    summary, _lang = project.text("summary", locale)
    idea = db.session.get(Idea, project.idea_id)
    image = get_image(idea.image_id) if idea is not None and idea.status == "published" else None
    alt = idea.image_alt if image is not None else ""
    url = external_url("projects.show", project_id=project.id)
    description = plain_text(render_markdown(summary))
    return _meta(locale, title, description, url, "article", image, alt)


_DESCRIBERS = {
    "challenge": _challenge_meta,
    "idea": _idea_meta,
    "results": _results_meta,
    "project": _project_meta,
}


def describe_page(kind: str, obj, locale: str) -> SocialMeta | None:
    """The link preview of a challenge, idea, results (an Announcement) or project page,
    or None when the page has nothing public to preview."""
    if obj is None:
        return None
    return _DESCRIBERS[kind](obj, locale)


# --- the poster ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PosterDate:
    label: str
    starts: datetime
    ends: datetime | None

    @property
    def text(self) -> str:
        if self.ends is None:
            return format_when(self.starts)
        return _("%(start)s to %(end)s", start=format_when(self.starts), end=format_when(self.ends))


@dataclass(frozen=True)
class Poster:
    challenge: Challenge
    title: tuple[str, str]
    question: tuple[str, str]
    other_title: tuple[str, str] | None
    other_question: tuple[str, str] | None
    dates: list[PosterDate]
    call: str
    url: str
    short_url: str
    qr_svg: Markup


def qr_svg(url: str) -> Markup:
    """The QR code of ``url`` as inline SVG with a viewBox, so print CSS can size it.

    segno draws with presentation attributes (stroke), not style attributes, so the
    strict CSP (style-src 'self') lets it render inline.
    """
    qr = segno.make(url, error=QR_ERROR, micro=False)
    size = qr.symbol_size(scale=QR_SCALE, border=QR_BORDER)[0]
    svg = qr.svg_inline(omitsize=True, border=QR_BORDER, svgclass="qr-code", lineclass=None)
    # Our own markup (segno's output for our own URL): safe to give a size for screens.
    return Markup(svg.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1))  # noqa: S704


def _call_to_action(challenge: Challenge) -> str:
    phase = challenge.phase()
    if phase in ("draft", "submission"):
        return _("Have an idea for our city? Submit it, and vote for the ideas you like best.")
    if phase == "voting":
        return _("Vote for the ideas you like best.")
    return _("See the ideas, the results and what becomes of them.")


def build_poster(challenge: Challenge, locale: str) -> Poster:
    """Everything the A4 poster of a challenge shows, with the QR code of its page."""
    other = "en" if locale == "de" else "de"
    title, question = challenge.text("title", locale), challenge.text("question", locale)
    other_title = (getattr(challenge, f"title_{other}"), other)
    other_question = (getattr(challenge, f"question_{other}"), other)
    # The other language only when it exists and is not what is already shown large.
    if not other_title[0] or title[1] == other:
        other_title = other_question = None
    elif not other_question[0] or question[1] == other:
        other_question = None
    dates = [
        PosterDate(str(PHASE_LABELS["submission"]), challenge.submission_opens_at,
                   challenge.submission_closes_at),
        PosterDate(str(PHASE_LABELS["voting"]), challenge.voting_opens_at,
                   challenge.voting_closes_at),
        PosterDate(str(PHASE_LABELS["results"]), challenge.results_at, None),
    ]  # fmt: skip
    url = external_url("challenges.show", challenge_id=challenge.id)
    short = external_url("results.short_link", challenge_id=challenge.id)
    short = short.split("://", 1)[-1]
    return Poster(
        challenge, title, question, other_title, other_question, dates,
        _call_to_action(challenge), url, short, qr_svg(url),
    )  # fmt: skip
