"""Citizen text: a safe Markdown subset rendered to sanitised HTML, and input clean-up."""

import unicodedata

import nh3
from markdown_it import MarkdownIt

# CommonMark without raw HTML and without images; tables and strikethrough are allowed.
# Raw HTML is not parsed at all (html=False), so "<script>" stays visible text.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.disable(["image", "html_block", "html_inline"])
_markdown.enable(["table", "strikethrough"])


def _is_web_link(url: str) -> bool:
    # Called with the normalised destination: entities are decoded and control characters
    # percent-encoded, so "java&#x09;script:" arrives as "java%09script:" and fails here.
    return url.lower().startswith(("http://", "https://"))


# Anything that is not an absolute web address is left as the text the citizen typed,
# instead of becoming a link without a target.
_markdown.validateLink = _is_web_link

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "s", "ul", "ol", "li", "blockquote", "code", "pre",
    "h3", "h4", "h5", "h6", "a", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
LINK_REL = "nofollow ugc"

# nh3 is the second line of defence: even if the Markdown renderer ever let something
# through, only these tags and only absolute http(s) links survive. Relative links are
# denied as well: "[Konto löschen](/account/delete)" must not look like one of our pages.
_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes={"a": {"href"}},
    url_schemes={"http", "https"},
    url_relative="deny",
    link_rel=LINK_REL,
)


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
    return _cleaner.clean(html)


# Invisible characters that are not format characters (Cf) but show as nothing:
# Hangul fillers and the Mongolian vowel separator, popular for "blank" names.
_INVISIBLE_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u180e"}
# Visible enough to keep: the soft hyphen is ordinary German typography pasted from
# word processors, and refusing a character nobody can see would leave people stuck.
_ALLOWED_FORMAT = {"\u00ad"}
_ZWJ = "\u200d"
_BLACK_FLAG = "\U0001f3f4"


def _is_pictograph(char: str) -> bool:
    # Emoji are "Symbol, other"; skin tones are modifiers (Sk); U+FE0F asks for emoji style.
    return unicodedata.category(char) in ("So", "Sk") or char == "\ufe0f"


def _emoji_part(value: str, index: int) -> bool:
    """Whether the format character at ``index`` belongs to an emoji sequence.

    Zero-width joiners build emoji such as 👨‍👩‍👧 (allowed between two pictographs), and
    tag characters build subdivision flags such as 🏴󠁧󠁢󠁳󠁣󠁴󠁿 (allowed after the black flag).
    Anywhere else they only hide or reorder text.
    """
    char = value[index]
    if char == _ZWJ:
        return (
            0 < index < len(value) - 1
            and _is_pictograph(value[index - 1])
            and _is_pictograph(value[index + 1])
        )
    if "\U000e0020" <= char <= "\U000e007f":
        start = index
        while start > 0 and "\U000e0020" <= value[start - 1] <= "\U000e007f":
            start -= 1
        return start > 0 and value[start - 1] == _BLACK_FLAG
    return False


def has_invisible_characters(value: str) -> bool:
    """True when the text contains control or invisible formatting characters.

    Refused: control characters other than line breaks and tabs, bidirectional overrides
    and isolates (they make "gpj.exe" look like "exe.jpg"), zero-width spaces and joiners,
    the byte order mark, and every other Unicode format character, except where an emoji
    needs one.
    """
    for index, char in enumerate(value):
        if char in _INVISIBLE_LETTERS:
            return True
        category = unicodedata.category(char)
        if category == "Cc" and char not in "\n\r\t":
            return True
        if category == "Cf" and char not in _ALLOWED_FORMAT and not _emoji_part(value, index):
            return True
    return False


def clean_line(value: str) -> str:
    """One line of text (titles, names): NFC, no line breaks, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def clean_text(value: str) -> str:
    """Multi-line text: NFC, Windows line ends made plain, outer blank space removed.

    The Unicode line and paragraph separators become ordinary line breaks: Markdown
    would otherwise treat them as spaces, and the text would not look as written.
    """
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\u2028", "\n").replace("\u2029", "\n").strip()


def checked_text(
    value, field: str, limit: int, *, line: bool = False, required: bool = False
) -> str:
    """Form text as a service stores it: cleaned, or a ``UserError`` tied to ``field``.

    ``line`` folds it to one line (titles, names). Refused: missing when ``required``, longer
    than ``limit``, or carrying invisible control characters. Anything but a string (a
    list from a repeated field, say) counts as empty.
    """
    from .errors import UserError
    from .i18n import _

    raw = value if isinstance(value, str) else ""
    text = clean_line(raw) if line else clean_text(raw)
    if required and not text:
        raise UserError(_("Please fill in this field."), field=field)
    if len(text) > limit:
        raise UserError(_("Please use at most %(max)d characters.", max=limit), field=field)
    if has_invisible_characters(text):
        raise UserError(
            _("Please remove invisible control characters from this text."), field=field
        )
    return text
