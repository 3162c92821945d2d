"""Citizen text: a safe Markdown subset rendered to sanitised HTML, and input clean-up."""

import unicodedata

import nh3
from markdown_it import MarkdownIt

# CommonMark without raw HTML and without images; tables and strikethrough are allowed.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.disable(["image", "html_block", "html_inline"])
_markdown.enable(["table", "strikethrough"])

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "s", "ul", "ol", "li", "blockquote", "code", "pre",
    "h3", "h4", "h5", "h6", "a", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def render_markdown(source: str) -> str:
    """Markdown to HTML that cannot carry script: only http/https links, rel="nofollow ugc".

    Headings are shifted down (# becomes h3) so citizen text never competes with the
    page's own headings.
    """
    html = _markdown.render(source)
    for level in (2, 1):  # h2 -> h4 first, then h1 -> h3
        html = html.replace(f"<h{level}>", f"<h{level + 2}>").replace(
            f"</h{level}>", f"</h{level + 2}>"
        )
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https"},
        link_rel="nofollow ugc noopener",
    )


# Characters that change how text is displayed without being visible: bidi overrides
# and isolates, zero-width joiners and spaces, the byte order mark.
_INVISIBLE = {
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c",
    "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff", "\u2060",
}  # fmt: skip


def has_invisible_characters(value: str) -> bool:
    """True when the text contains control or invisible formatting characters."""
    return any(
        c in _INVISIBLE or (unicodedata.category(c) == "Cc" and c not in "\n\r\t") for c in value
    )


def clean_line(value: str) -> str:
    """One line of text (titles, names): NFC, no line breaks, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def clean_text(value: str) -> str:
    """Multi-line text: NFC, Windows line ends made plain, outer blank space removed."""
    return unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n").strip()
