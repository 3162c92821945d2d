"""Checking, cleaning and storing uploaded images."""

import hashlib
from io import BytesIO

from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from .. import jobs
from ..errors import UserError
from ..extensions import db
from ..i18n import _
from .models import Image

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
# Stored images are at most this wide or high; phones never need more.
STORED_EDGE = 2000
THUMBNAIL_EDGE = 480


def _unreadable() -> UserError:
    return UserError(
        _("This file is not an image we can read. Please upload a JPEG, PNG or WebP photo."),
        field="image",
    )


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
        with PILImage.open(BytesIO(data)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise _unreadable()
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise UserError(_("The image may have at most 40 megapixels."), field="image")
            probe.verify()
        with PILImage.open(BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)  # keep the orientation the EXIF asked for
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            image.thumbnail((STORED_EDGE, STORED_EDGE))
            out = BytesIO()
            image.save(out, "WEBP", quality=82, method=4)  # no exif/icc passed: stripped
            return out.getvalue(), image.width, image.height
    except UserError:
        raise
    except (
        UnidentifiedImageError,
        PILImage.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
    ) as exc:
        raise _unreadable() from exc


def store_image(upload, owner) -> Image:
    """Clean an upload and add it to the current transaction; the thumbnail follows in a job."""
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


def make_thumbnail(image_id: int) -> None:
    """Render the list-sized version of an image (idempotent)."""
    image = db.session.get(Image, image_id)
    if image is None or image.thumbnail is not None:
        return
    with PILImage.open(BytesIO(image.data)) as source:
        source.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))
        out = BytesIO()
        source.save(out, "WEBP", quality=75, method=4)
    image.thumbnail = out.getvalue()
    db.session.commit()
