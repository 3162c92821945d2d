"""Helpers for the idea tests (imported by name; pytest does not collect this file).

Each test module defines its own ``world`` fixture with ``build_world``: challenges in
every phase, categories, a district and the people who take part.
"""

import re
import struct
import zlib
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO

from PIL import Image as PILImage
from sqlalchemy import func, select
from testdata import html, plain, says, shows  # noqa: F401  (used by the idea tests)

from consult.challenges.models import Category, Challenge
from consult.clock import now
from consult.districts import District
from consult.extensions import db
from consult.ideas.models import Comment, Idea, Report
from consult.jobs import Outbox
from consult.media.models import Image
from consult.text import render_markdown

# --- text ---------------------------------------------------------------------------------


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def counts() -> dict:
    """Rows of everything a citizen's action may create: compared before and after."""
    return {m.__name__: count(m) for m in (Idea, Image, Comment, Report, Outbox)}


def fresh(obj):
    """The row as the database has it now."""
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def field_error(page: str, field_id: str) -> str:
    """The error text tied to a field (the ``field`` macro's <p id="...-error">)."""
    found = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    return found.group(1) if found else ""


# --- the world ----------------------------------------------------------------------------


@dataclass
class World:
    challenge: Challenge  # submission runs, pre-moderated
    open_post: Challenge  # submission runs, post-moderated
    draft: Challenge  # submission has not started
    closed: Challenge  # submission closed, voting runs
    archived: Challenge
    category: Category
    other_category: Category  # belongs to open_post
    district: District
    author: object
    other: object
    english: object
    unverified: object
    moderator: object


def make_challenge(name: str, opens: timedelta, closes: timedelta, **settings) -> Challenge:
    """A challenge with its schedule relative to now (negative: in the past)."""
    t = now()
    archived = settings.pop("archived_after", None)
    challenge = Challenge(
        title_de=f"{name} (de)",
        title_en=f"{name} (en)",
        question_de="Was wünschen Sie sich?",
        question_en="What do you wish for?",
        submission_opens_at=t + opens,
        submission_closes_at=t + closes,
        voting_opens_at=t + closes,
        voting_closes_at=t + closes + timedelta(days=7),
        results_at=t + closes + timedelta(days=14),
        archived_at=t + archived if archived is not None else None,
        moderation=settings.pop("moderation", "pre"),
        **settings,
    )
    db.session.add(challenge)
    db.session.flush()
    return challenge


def build_world(make_user) -> World:
    day = timedelta(days=1)
    challenge = make_challenge("Innenstadt", -day, 7 * day)
    challenge.categories = [
        Category(name_de="Grün", name_en="Green", position=0),
        Category(name_de="Verkehr", name_en="Traffic", position=1),
    ]
    open_post = make_challenge("Spielplätze", -day, 7 * day, moderation="post")
    open_post.categories = [Category(name_de="Spiel", name_en="Play", position=0)]
    draft = make_challenge("Entwurf", 3 * day, 10 * day)
    closed = make_challenge("Vorbei", -10 * day, -day)
    archived = make_challenge("Archiv", -60 * day, -50 * day, archived_after=-2 * day)
    district = District(name="Hörde", position=1)
    db.session.add(district)
    db.session.commit()
    return World(
        challenge=challenge,
        open_post=open_post,
        draft=draft,
        closed=closed,
        archived=archived,
        category=challenge.categories[0],
        other_category=open_post.categories[0],
        district=district,
        author=make_user(email="anna@example.org", pseudonym="Anna"),
        other=make_user(email="otto@example.org", pseudonym="Otto"),
        english=make_user(email="emma@example.org", pseudonym="Emma", locale="en"),
        unverified=make_user(email="udo@example.org", pseudonym="Udo", verified=False),
        moderator=make_user(
            email="mona@example.org", pseudonym="Mona", roles=("citizen", "moderator")
        ),
    )


def make_idea(challenge, author, status="published", **fields) -> Idea:
    """An idea stored directly, in any state (the services are tested elsewhere)."""
    body = fields.pop("body", "Mehr **Bäume** am Markt.")
    t = now()
    idea = Idea(
        challenge_id=challenge.id,
        author_id=author.id if author is not None else None,
        title=fields.pop("title", "Bäume für den Marktplatz"),
        body=body,
        body_html=render_markdown(body),
        language=fields.pop("language", "de"),
        status=status,
        submitted_at=None if status == "draft" else t,
        published_at=t if status == "published" else None,
        category_id=fields.pop(
            "category_id", challenge.categories[0].id if challenge.categories else None
        ),
        **fields,
    )
    db.session.add(idea)
    db.session.commit()
    return idea


def make_comment(idea, author, body="Gute Idee!", **fields) -> Comment:
    comment = Comment(idea_id=idea.id, author_id=author.id, body=body, **fields)
    db.session.add(comment)
    db.session.commit()
    return comment


def idea_form(world: World, **fields) -> dict:
    """A complete, valid idea form; ``None`` leaves a field out."""
    data = {
        "title": "Bänke im Westpark",
        "body": "Mehr **Bänke** zum Ausruhen.",
        "category_id": str(world.category.id),
        "district_id": str(world.district.id),
        "language": "de",
        "image_alt": "",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


# --- images -------------------------------------------------------------------------------


def photo_bytes(fmt: str = "JPEG", size=(64, 48), with_gps: bool = True, **save) -> bytes:
    """A small photo; with EXIF that records where (GPS) and with what it was taken."""
    image = PILImage.new("RGB", size, (200, 120, 40))
    for x in range(size[0] // 2):
        image.putpixel((x, 0), (0, 0, 255))  # something to tell orientation by
    exif = PILImage.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    exif[0x0131] = "Camera app 1.0"  # Software
    if with_gps:
        gps = exif.get_ifd(0x8825)
        gps[1] = "N"
        gps[2] = (51.0, 30.0, 4.0)
        gps[3] = "E"
        gps[4] = (7.0, 28.0, 1.0)
    out = BytesIO()
    image.save(out, fmt, exif=exif.tobytes(), **save)
    return out.getvalue()


def bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid 1-bit PNG of width x height pixels, about 20 KB compressed.

    Decoding it would need gigabytes; the test must never decode it, only upload it.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the bits of one row
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row * 1000) for _ in range(height // 1000)]
    parts.append(compressor.compress(row * (height % 1000)))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" '
    b'onload="alert(1)"><script>alert(document.cookie)</script></svg>'
)
HTML_PAGE = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def upload(data: bytes, name: str = "photo.jpg"):
    """A file part for the test client's multipart form."""
    return (BytesIO(data), name)
