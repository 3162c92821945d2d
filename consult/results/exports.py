"""Open data: a challenge's published and ranked ideas, their votes and the frozen ranking, as
CSV and JSON.

Exports stream: rows are read from the database in batches and written out as they come, so
a challenge with 250,000 ideas costs the web process no more memory than one with 2,500.
The only thing held whole is the frozen ranking, which covers the shortlist (a few dozen).

No personal data: no author, no e-mail, no pseudonym. The ranking columns come from the frozen
snapshot, the very numbers its SHA-256 covers; the vote columns are counted from the rows.
"""

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction

from flask import current_app
from sqlalchemy import func, or_, select

from ..challenges.models import Category, Challenge
from ..clock import now
from ..districts import District
from ..extensions import db
from ..ideas.models import Idea
from ..jury.freezing import get_snapshot
from ..jury.ranking import three_decimals
from ..projects.models import LabProject
from ..urls import external_url
from ..voting.models import Vote
from ..voting.services import event_votes_by_idea, paper_votes_by_idea
from .models import Announcement

# The columns of both formats, in order; the names are the same in every language.
COLUMNS = (
    "idea_id",
    "title",
    "language",
    "category_de",
    "category_en",
    "district",
    "origin",
    "published_at",
    "votes_online",
    "votes_paper",
    "votes_event",
    "votes_total",
    "shortlisted",
    "rank",
    "jury_score",
    "vote_share",
    "combined_score",
    "jury_score_exact",
    "vote_share_exact",
    "combined_score_exact",
    "lab_project_id",
    "url",
)
# Only these are neutralised against formula injection: numbers, dates and fractions are
# written by us, and an apostrophe in front of them would turn numbers into text.
TEXT_COLUMNS = frozenset({"title", "category_de", "category_en", "district"})
# Spreadsheets read a cell as a formula when it starts with one of these (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@")
# Rows fetched from the database at a time, and bytes gathered before a chunk is sent.
BATCH_ROWS = 1000
CHUNK_BYTES = 64 * 1024
COMPACT = (",", ":")  # JSON separators: 250,000 ideas are 10 MB fewer without spaces
FORMATS = {
    "csv": "text/csv; charset=utf-8; header=present",
    "json": "application/json; charset=utf-8",
}


@dataclass(frozen=True)
class OpenDataExport:
    """A download ready to stream: its headers' values and the body as chunks of bytes."""

    filename: str
    mimetype: str
    licence: dict
    chunks: Iterator[bytes]


def open_data_licence() -> dict:
    """The licence of the exports ({"id", "name", "url"}), from OPEN_DATA_LICENCE."""
    licence = current_app.config["OPEN_DATA_LICENCE"]
    return {"id": licence.get("id", ""), "name": licence["name"], "url": licence["url"]}


def neutralise(value: str) -> str:
    """A text cell that a spreadsheet cannot mistake for a formula.

    A leading apostrophe makes Excel and LibreOffice show the text as written. Leading
    tabs, carriage returns and spaces count too: some spreadsheets strip them and then
    read what follows as a formula.
    """
    if value and (value[0] in "\t\r\n" or value.lstrip(" \t\r\n").startswith(FORMULA_STARTS)):
        return "'" + value
    return value


def export_ideas(challenge: Challenge, announcement: Announcement, fmt: str) -> OpenDataExport:
    """The open data of a challenge whose results are public, as CSV or JSON.

    The caller has checked ``visibility.require_public_results``. Everything small is read
    now, so that a problem shows before the first byte; the ideas are read while streaming,
    in the generator, which must run in the request's context (``stream_with_context``).
    """
    snapshot = get_snapshot(challenge)
    if snapshot is None or fmt not in FORMATS:  # public results are frozen; defensive
        raise LookupError("no frozen results to export")
    document = json.loads(snapshot.document)
    ranked = _ranking_by_idea(document)
    licence = open_data_licence()
    meta = {
        "licence": licence,
        "attribution": current_app.config["OPERATOR_NAME"],
        "challenge": {
            "id": challenge.id,
            "title_de": challenge.title_de,
            "title_en": challenge.title_en,
        },
        "generated_at": _iso(now()),
        "results_public_since": _iso(announcement.embargo_at),
        "snapshot": {
            "sha256": snapshot.sha256,
            "frozen_at": _iso(snapshot.frozen_at),
            "formula_version": document.get("formula_version", ""),
            "alpha": document.get("alpha", ""),
        },
        "paper_votes_counted": bool(challenge.count_paper_votes),
        "columns": list(COLUMNS),
    }
    rows = _rows(challenge.id, bool(challenge.count_paper_votes), ranked)
    chunks = _csv_chunks(rows) if fmt == "csv" else _json_chunks(meta, rows)
    return OpenDataExport(
        filename=f"challenge-{challenge.id}-ideas.{fmt}",
        mimetype=FORMATS[fmt],
        licence=licence,
        chunks=chunks,
    )


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _ranking_by_idea(document: dict) -> dict[int, tuple]:
    """idea id -> (rank, J, P, S) as Fractions, straight from the frozen document."""
    return {
        entry["idea"]: (
            entry["rank"],
            Fraction(entry["jury"]),
            Fraction(entry["popularity"]),
            Fraction(entry["score"]),
        )
        for entry in document["ranking"]
    }


def _exact(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def _rows(challenge_id: int, paper_counts: bool, ranked: dict[int, tuple]) -> Iterator[dict]:
    """One dict per published or ranked idea, in id order, read in batches of BATCH_ROWS.

    Plain columns, not ORM objects: nothing lands in the session's identity map, and on
    PostgreSQL ``yield_per`` reads through a server-side cursor.
    """
    online = (
        select(Vote.idea_id, func.count().label("n"))
        .where(Vote.challenge_id == challenge_id)
        .group_by(Vote.idea_id)
        .subquery()
    )
    paper = paper_votes_by_idea(challenge_id)
    event = event_votes_by_idea(challenge_id)
    statement = (
        select(
            Idea.id,
            Idea.title,
            Idea.language,
            Category.name_de,
            Category.name_en,
            District.name,
            Idea.origin,
            Idea.published_at,
            func.coalesce(online.c.n, 0),
            func.coalesce(paper.c.n, 0),
            LabProject.id,
            func.coalesce(event.c.n, 0),
        )
        .outerjoin(Category, Category.id == Idea.category_id)
        .outerjoin(District, District.id == Idea.district_id)
        .outerjoin(online, online.c.idea_id == Idea.id)
        .outerjoin(paper, paper.c.idea_id == Idea.id)
        .outerjoin(event, event.c.idea_id == Idea.id)
        .outerjoin(LabProject, LabProject.idea_id == Idea.id)
        .where(
            Idea.challenge_id == challenge_id,
            # Every idea of the ranking too: one hidden after voting closed keeps its place
            # and its votes there (its votes were never released), so it stays here as well.
            or_(Idea.status == "published", Idea.id.in_(list(ranked) or [-1])),
        )
        .order_by(Idea.id)
    )
    # Built once: one URL per row through the URL map would cost seconds at 250,000 rows.
    url_prefix = external_url("ideas.show", idea_id=1)[: -len("1")]
    # A connection of its own, not the request's session: when a client stops reading, the
    # generator is closed (or collected) and the ``with`` ends the transaction and the
    # server-side cursor at once, instead of leaving them open holding locks.
    with db.engine.connect() as connection:
        yield from _row_dicts(
            connection.execution_options(yield_per=BATCH_ROWS).execute(statement),
            paper_counts, ranked, url_prefix,
        )  # fmt: skip


def _row_dicts(result, paper_counts: bool, ranked: dict[int, tuple], url_prefix: str):
    for row in result:
        (idea_id, title, language, cat_de, cat_en, district, origin, published_at) = row[:8]
        votes_online, votes_paper, project_id = int(row[8]), int(row[9]), row[10]
        votes_event = int(row[11])
        rank = ranked.get(idea_id)
        yield {
            "idea_id": idea_id,
            "title": title,
            "language": language,
            "category_de": cat_de or "",
            "category_en": cat_en or "",
            "district": district or "",
            "origin": origin,
            "published_at": _iso(published_at),
            "votes_online": votes_online,
            "votes_paper": votes_paper,
            "votes_event": votes_event,
            "votes_total": votes_online + (votes_paper + votes_event if paper_counts else 0),
            "shortlisted": rank is not None,
            "rank": rank[0] if rank else None,
            "jury_score": three_decimals(rank[1]) if rank else None,
            "vote_share": three_decimals(rank[2]) if rank else None,
            "combined_score": three_decimals(rank[3]) if rank else None,
            "jury_score_exact": _exact(rank[1]) if rank else None,
            "vote_share_exact": _exact(rank[2]) if rank else None,
            "combined_score_exact": _exact(rank[3]) if rank else None,
            "lab_project_id": project_id,
            "url": f"{url_prefix}{idea_id}",
        }


def _csv_cell(column: str, value) -> str | int:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if column in TEXT_COLUMNS:
        return neutralise(value)
    return value


def _csv_chunks(rows: Iterator[dict]) -> Iterator[bytes]:
    return csv_chunks(
        COLUMNS, ([_csv_cell(column, row[column]) for column in COLUMNS] for row in rows)
    )


def csv_chunks(header, rows) -> Iterator[bytes]:
    """RFC 4180 CSV (comma, CRLF, quotes as needed) in UTF-8 with a BOM, in chunks.

    The BOM is what makes Excel, as set up in Germany, read the file as UTF-8 (umlauts).
    ``rows`` yields lists of cells, text already ``neutralise``d (also the staff dashboard's).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _json_chunks(meta: dict, rows: Iterator[dict]) -> Iterator[bytes]:
    """One JSON object: the metadata first, then "ideas", written one idea at a time.

    One idea per line, so that line-based tools (grep, head, jq --stream) can cope too.
    """
    head = json.dumps(meta, ensure_ascii=False, separators=COMPACT)
    parts = [head[:-1], ',"ideas":[']
    size = 0
    separator = "\n"
    for row in rows:
        line = separator + json.dumps(row, ensure_ascii=False, separators=COMPACT)
        parts.append(line)
        size += len(line)
        separator = ",\n"
        if size >= CHUNK_BYTES:
            yield "".join(parts).encode("utf-8")
            parts, size = [], 0
    parts.append("\n]}\n")
    yield "".join(parts).encode("utf-8")
