"""The city's districts: ideas and participation figures are filtered and counted by them."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db


class District(db.Model):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # District names are proper nouns, the same in German and English.
    name: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    # Inhabitants, for the share of participants per district on the staff dashboard;
    # configurable data (DISTRICT_POPULATION), None where unknown.
    population: Mapped[int | None] = mapped_column()
