"""Uploaded images, stored in the database so that every web process can serve them."""

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from ..clock import now
from ..dbtypes import UTCDateTime
from ..extensions import db


class Image(db.Model):
    __tablename__ = "images"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Re-encoded WebP without metadata; the thumbnail is made by a job.
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    thumbnail: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    width: Mapped[int]
    height: Mapped[int]
    # Content hash: the ETag, and part of the URL so caches can keep images forever.
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    def thumbnail_size(self, edge: int = 480) -> tuple[int, int]:
        """The size of the thumbnail (longest side ``edge``), for srcset and layout."""
        scale = min(1.0, edge / max(self.width, self.height, 1))
        return max(1, round(self.width * scale)), max(1, round(self.height * scale))
