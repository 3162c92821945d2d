"""Images: checked by decoding, re-encoded without metadata, served with the right caching."""

import time
from contextlib import contextmanager
from io import BytesIO

import pytest
from idea_support import (
    HTML_PAGE,
    SVG,
    bomb_png,
    build_world,
    count,
    make_idea,
    photo_bytes,
    plain,
)
from PIL import Image as PILImage
from sqlalchemy import event, select

from consult.errors import UserError
from consult.extensions import db
from consult.ideas.models import Idea
from consult.jobs import Outbox
from consult.media import services
from consult.media.models import Image


@pytest.fixture
def world(app, make_user):
    return build_world(make_user)


class Upload:
    """What a view passes to the service: a file-like object with a name."""

    def __init__(self, data: bytes, filename: str = "photo.jpg"):
        self.stream = BytesIO(data)
        self.filename = filename

    def read(self, size=-1):
        return self.stream.read(size)


def decoded(data: bytes) -> PILImage.Image:
    image = PILImage.open(BytesIO(data))
    image.load()
    return image


def refused_with(data: bytes, message: str, locale: str = "de") -> None:
    with pytest.raises(UserError) as caught:
        services.clean_image(services.read_upload(Upload(data)))
    assert caught.value.field == "image"
    assert caught.value.message == plain(message, locale)


NOT_AN_IMAGE = "This file is not an image we can read. Please upload a JPEG, PNG or WebP photo."
TOO_MANY_PIXELS = "The image may have at most 40 megapixels."


# --- cleaning -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_photos_are_re_encoded_as_webp_without_any_metadata(app, fmt):
    original = photo_bytes(fmt)
    assert decoded(original).getexif().get_ifd(0x8825)  # the upload does carry GPS
    data, width, height = services.clean_image(original)
    image = decoded(data)
    assert image.format == "WEBP"
    assert (width, height) == image.size == (64, 48)
    assert len(image.getexif()) == 0
    assert image.getexif().get_ifd(0x8825) == {}
    for key in ("exif", "xmp", "icc_profile", "XML:com.adobe.xmp"):
        assert key not in image.info
    for marker in (b"EXIF", b"XMP ", b"ICCP", b"PhoneMaker", b"Phone 12"):
        assert marker not in data


def test_the_orientation_the_camera_recorded_is_kept(app):
    exif = PILImage.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = BytesIO()
    PILImage.new("RGB", (60, 20), "white").save(out, "JPEG", exif=exif.tobytes())
    _data, width, height = services.clean_image(out.getvalue())
    assert (width, height) == (20, 60)


def test_phone_photos_saved_as_mpo_are_accepted(app):
    out = BytesIO()
    first, second = PILImage.new("RGB", (40, 30), "red"), PILImage.new("RGB", (40, 30), "blue")
    first.save(out, "MPO", save_all=True, append_images=[second])
    assert decoded(out.getvalue()).format == "MPO"
    data, width, height = services.clean_image(out.getvalue())
    assert decoded(data).format == "WEBP" and (width, height) == (40, 30)


def test_transparent_images_keep_their_transparency(app):
    out = BytesIO()
    PILImage.new("RGBA", (10, 10), (255, 0, 0, 0)).save(out, "PNG")
    data, _w, _h = services.clean_image(out.getvalue())
    assert decoded(data).mode == "RGBA"


def test_large_photos_are_scaled_down(app):
    out = BytesIO()
    PILImage.new("RGB", (4000, 1000), "green").save(out, "JPEG")
    _data, width, height = services.clean_image(out.getvalue())
    assert (width, height) == (2000, 500)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(SVG, id="svg"),
        pytest.param(HTML_PAGE, id="html-named-jpg"),
        pytest.param(b"GIF89a" + b"\x00" * 40, id="broken-gif"),
        pytest.param(photo_bytes("JPEG")[:200], id="truncated-jpeg"),
        pytest.param(b"%PDF-1.7\n" + b"0" * 100, id="pdf"),
    ],
)
def test_files_that_are_not_photos_are_refused(app, data):
    refused_with(data, NOT_AN_IMAGE)


def test_gif_is_not_among_the_accepted_types(app):
    out = BytesIO()
    PILImage.new("RGB", (5, 5)).save(out, "GIF")
    refused_with(out.getvalue(), NOT_AN_IMAGE)


def test_an_empty_file_is_refused(app):
    refused_with(b"", "The file is empty.")


def test_more_than_8_mb_is_refused_before_decoding(app):
    refused_with(b"\xff\xd8" + b"\x00" * (8 * 1024 * 1024), "The image may be at most 8 MB.")


def test_a_decompression_bomb_is_refused_from_its_header(app):
    bomb = bomb_png()
    assert len(bomb) < 100_000  # 20,000 x 20,000 pixels in a few KB
    started = time.monotonic()
    refused_with(bomb, TOO_MANY_PIXELS)
    assert time.monotonic() - started < 1.0  # never decoded


def test_just_over_40_megapixels_is_refused(app):
    refused_with(bomb_png(8000, 5001), TOO_MANY_PIXELS)


# --- storing, thumbnails ------------------------------------------------------------------


def test_storing_an_image_makes_its_thumbnail_in_a_job_after_the_commit(app, world):
    out = BytesIO()
    PILImage.new("RGB", (1600, 1200), "navy").save(out, "JPEG")
    image = services.store_image(Upload(out.getvalue()), world.author)
    assert count(Outbox) == 1
    assert image.thumbnail is None  # nothing ran before the commit
    db.session.commit()
    stored = db.session.get(Image, image.id)
    db.session.refresh(stored)
    assert decoded(stored.thumbnail).size == (480, 360) == stored.thumbnail_size()
    assert decoded(stored.data).size == (1600, 1200)
    assert db.session.get(Outbox, 1).done_at is not None
    services.make_thumbnail(image.id)  # running the job twice changes nothing
    assert db.session.get(Outbox, 1).attempts == 1


# --- serving ------------------------------------------------------------------------------


@contextmanager
def statements():
    """The SQL statements sent while the block runs."""
    seen = []

    def remember(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)


def published_photo(world, thumbnail=True):
    out = BytesIO()
    PILImage.new("RGB", (800, 600), "teal").save(out, "PNG")
    image = services.store_image(Upload(out.getvalue()), world.author)
    db.session.commit()
    if not thumbnail:
        db.session.get(Image, image.id).thumbnail = None
        db.session.commit()
    make_idea(world.challenge, world.author, image_id=image.id, image_alt="Ein Platz")
    return db.session.get(Image, image.id)


def url(image, thumbnail=False):
    return f"/media/{image.id}/{image.digest}{'-thumb' if thumbnail else ''}.webp"


def test_published_photos_are_served_with_long_caching(client, world):
    image = published_photo(world)
    response = client.get(url(image))
    assert response.status_code == 200
    assert response.mimetype == "image/webp"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert decoded(response.data).size == (800, 600)
    thumb = client.get(url(image, thumbnail=True))
    assert thumb.status_code == 200 and decoded(thumb.data).size == (480, 360)
    assert thumb.headers["ETag"] != response.headers["ETag"]


def test_only_the_column_asked_for_is_loaded(client, world):
    image = published_photo(world)
    with statements() as full:
        client.get(url(image))
    with statements() as thumb:
        client.get(url(image, thumbnail=True))
    image_queries = [s for s in full if "images." in s]
    assert any("images.data" in s for s in image_queries)
    assert not any("images.thumbnail" in s for s in image_queries)
    image_queries = [s for s in thumb if "images." in s]
    assert any("images.thumbnail" in s for s in image_queries)
    assert not any("images.data" in s for s in image_queries)


def test_a_cached_copy_is_confirmed_without_loading_the_bytes(client, world):
    image = published_photo(world)
    etag = client.get(url(image)).headers["ETag"]
    with statements() as seen:
        response = client.get(url(image), headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""
    assert not any("images.data" in s or "images.thumbnail" in s for s in seen)


def test_a_missing_thumbnail_is_stood_in_for_but_not_cached(client, world):
    image = published_photo(world, thumbnail=False)
    response = client.get(url(image, thumbnail=True))
    assert response.status_code == 200
    assert decoded(response.data).size == (800, 600)
    assert response.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/media/{id}/{wrong}.webp",
        "/media/{id}/{wrong}-thumb.webp",
        "/media/999/{digest}.webp",
        "/media/99999999999999999999/{digest}.webp",
        "/media/{id}/../{digest}.webp",
        "/media/{id}/{digest}.png",
    ],
)
def test_wrong_addresses_are_not_found(client, world, path):
    image = published_photo(world)
    wrong = "0" * 64
    response = client.get(path.format(id=image.id, digest=image.digest, wrong=wrong))
    assert response.status_code == 404


def test_photos_of_unpublished_ideas_are_private(client, world, login):
    out = BytesIO()
    PILImage.new("RGB", (30, 30), "red").save(out, "PNG")
    image = services.store_image(Upload(out.getvalue()), world.author)
    db.session.commit()
    idea = make_idea(world.challenge, world.author, status="draft", image_id=image.id)
    address = url(image)
    assert client.get(address).status_code == 404  # visitors
    login(world.other)
    assert client.get(address).status_code == 404  # other citizens
    client.post_form("/account/logout")
    client.forget_csrf()
    login(world.author)
    response = client.get(address)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    # Once published, the same address is public; once hidden, private again.
    idea.status = "published"
    db.session.commit()
    client.post_form("/account/logout")
    client.forget_csrf()
    assert client.get(address).headers["Cache-Control"].startswith("public")
    idea.status, idea.moderation_reason = "hidden", "personal_data"
    db.session.commit()
    assert client.get(address).status_code == 404
    login(world.moderator)
    assert client.get(address).status_code == 200


def test_a_withdrawn_idea_keeps_its_photo_away_from_the_public(client, world):
    image = published_photo(world)
    idea = db.session.scalar(select(Idea).where(Idea.image_id == image.id))
    idea.status = "withdrawn"
    db.session.commit()
    assert client.get(url(image)).status_code == 404


def test_a_challenge_cover_is_public(client, world):
    out = BytesIO()
    PILImage.new("RGB", (30, 30), "red").save(out, "PNG")
    image = services.store_image(Upload(out.getvalue()), world.moderator)
    world.challenge.cover_image_id = image.id
    db.session.commit()
    assert client.get(url(image)).status_code == 200
