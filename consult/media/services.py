"""Checking, cleaning, storing and serving uploaded images."""

import hashlib
from io import BytesIO

from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError
from sqlalchemy import delete, exists, select

from .. import jobs
from ..errors import UserError
from ..extensions import db
from ..i18n import _
from .models import Image

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
# Pillow only ever tries these decoders on an upload, whatever the file is called: an
# SVG, an HTML page or a PSD renamed to .jpg never reaches any other parser.
DECODERS = ["JPEG", "PNG", "WEBP"]
# Phones save many photos as MPO (a JPEG with a second, embedded picture): it is a JPEG.
ALLOWED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}
# Stored images are at most this wide or high; phones never need more.
STORED_EDGE = 2000
THUMBNAIL_EDGE = 480


def _unreadable() -> UserError:
    return UserError(
        _("This file is not an image we can read. Please upload a JPEG, PNG or WebP photo."),
        field="image",
    )


def _too_many_pixels() -> UserError:
    return UserError(_("The image may have at most 40 megapixels."), field="image")


def read_upload(upload) -> bytes:
    """The bytes of an uploaded file, refusing empty and oversized ones before decoding."""
    data = upload.read(MAX_BYTES + 1)
    if not data:
        raise UserError(_("The file is empty."), field="image")
    if len(data) > MAX_BYTES:
        raise UserError(_("The image may be at most 8 MB."), field="image")
    return data


def clean_image(data: bytes) -> tuple[bytes, int, int]:
    """Decode, check and re-encode as WebP: no metadata, no GPS, no hidden payload.

    The type is decided by decoding, never by the file name; the pixel count is checked
    from the header before anything is decompressed (decompression bombs).
    """
    try:
        # Opening reads the header only. Pillow itself refuses far larger headers with
        # DecompressionBombError (and merely warns below that): ours is the tighter limit.
        with PILImage.open(BytesIO(data), formats=DECODERS) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise _unreadable()
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise _too_many_pixels()
            probe.verify()
        with PILImage.open(BytesIO(data), formats=DECODERS) as image:
            image.load()
            image = ImageOps.exif_transpose(image)  # keep the orientation the EXIF asked for
            transparent = "A" in image.getbands() or "transparency" in image.info
            image = image.convert("RGBA" if transparent else "RGB")
            image.thumbnail((STORED_EDGE, STORED_EDGE))
            out = BytesIO()
            # No exif, xmp or icc_profile passed: the WebP carries pixels only.
            image.save(out, "WEBP", quality=82, method=4)
            return out.getvalue(), image.width, image.height
    except UserError:
        raise
    except PILImage.DecompressionBombError as exc:
        raise _too_many_pixels() from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _unreadable() from exc


def store_image(upload, owner) -> Image:
    """Clean an upload and add it to the current transaction; the thumbnail follows in a job.

    The caller commits; the job is dispatched only after that commit.
    """
    webp, width, height = clean_image(read_upload(upload))
    image = Image(
        owner_id=getattr(owner, "id", None),
        data=webp,
        width=width,
        height=height,
        digest=hashlib.sha256(webp).hexdigest(),
    )
    db.session.add(image)
    db.session.flush()
    jobs.enqueue(jobs.make_thumbnail, image.id)
    return image


def discard_image(image_id: int | None) -> None:
    """Delete an image nothing refers to any more, in the caller's transaction.

    A replaced or removed photo may show the author's street or face: it is not kept.
    """
    if image_id is None:
        return
    from ..challenges.models import Challenge
    from ..ideas.models import Idea

    still_used = db.session.scalar(
        select(
            exists().where(Idea.image_id == image_id)
            | exists().where(Challenge.cover_image_id == image_id)
        )
    )
    if not still_used:
        db.session.execute(delete(Image).where(Image.id == image_id))


def get_image(image_id: int | None) -> Image | None:
    """An image's metadata (id, digest, size) for building its URLs; the bytes stay unloaded."""
    return db.session.get(Image, image_id) if image_id is not None else None


def image_digest(image_id: int) -> str | None:
    """Only the content hash: enough to answer a cache's "not modified"."""
    return db.session.scalar(select(Image.digest).where(Image.id == image_id))


def image_bytes(image_id: int, thumbnail: bool) -> tuple[bytes | None, bool]:
    """The stored WebP bytes, loading only the one column asked for, and whether they are
    what was asked for: a thumbnail the job has not made yet is answered with the full image.
    """
    column = Image.thumbnail if thumbnail else Image.data
    data = db.session.scalar(select(column).where(Image.id == image_id))
    if data is None and thumbnail:
        return db.session.scalar(select(Image.data).where(Image.id == image_id)), False
    return data, True


def image_audience(image_id: int, viewer) -> str | None:
    """Who may load an image: "public", "private" (its author and moderators) or None.

    Photos of published ideas and challenge covers are public. The photo of a draft,
    a withdrawn or a hidden idea is private: hiding an idea for showing someone's
    personal data must also stop serving its photo to people who kept the link.
    """
    from ..challenges.models import Challenge
    from ..ideas.models import Idea

    if db.session.scalar(select(exists().where(Challenge.cover_image_id == image_id))):
        return "public"
    ideas = db.session.execute(
        select(Idea.status, Idea.author_id).where(Idea.image_id == image_id)
    ).all()
    if any(status == "published" for status, _author in ideas):
        return "public"
    if viewer is None or not viewer.is_authenticated:
        return None
    if viewer.has_role("moderator") or viewer.has_role("staff"):
        return "private"
    owner_id = db.session.scalar(select(Image.owner_id).where(Image.id == image_id))
    if owner_id == viewer.id or any(author == viewer.id for _status, author in ideas):
        return "private"
    return None


def make_thumbnail(image_id: int) -> None:
    """Render the list-sized version of an image (idempotent)."""
    image = db.session.get(Image, image_id)
    if image is None or image.thumbnail is not None:
        return
    with PILImage.open(BytesIO(image.data), formats=["WEBP"]) as source:
        source.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))
        out = BytesIO()
        source.save(out, "WEBP", quality=75, method=4)
    image.thumbnail = out.getvalue()
    db.session.commit()
