"""Alembic builds the schema from nothing (the fixtures do that on both databases), and
the migrated schema matches the models exactly: `flask db check` finds nothing to do."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.schema import CreateIndex

from consult.extensions import db, schema_comparison_filter
from consult.ideas.models import Idea

# compare_metadata on SQLite mentions the PostgreSQL-only index before include_object
# leaves it out (migrations/env.py silences the same warning for `flask db check`).
pytestmark = pytest.mark.filterwarnings("ignore:.*expression-based index 'ix_ideas_search'")


def schema_differences():
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_object": schema_comparison_filter(conn.dialect.name),
            },
        )
        return compare_metadata(context, db.metadata)


def flask_db_check(app, capfd):
    """`flask db check` as an operator runs it: the exit code and what it printed."""
    capfd.readouterr()
    result = app.test_cli_runner().invoke(args=["db", "check"])
    printed = capfd.readouterr()  # Alembic writes to the process's stdout, not Click's
    return result.exit_code, printed.out + printed.err + result.output


def test_migrated_schema_matches_the_models(app):
    assert schema_differences() == []


def test_flask_db_check_is_clean(app, capfd):
    """The command a developer runs before `db migrate`, through migrations/env.py."""
    code, output = flask_db_check(app, capfd)
    assert code == 0, output
    assert "upgrade operations detected" not in output, output


def test_downgrade_to_nothing_and_back(app):
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert schema_differences() == []


def _search_index():
    return next(ix for ix in Idea.__table__.indexes if ix.name == "ix_ideas_search")


def _index_definition(name: str) -> str | None:
    with db.engine.connect() as conn:
        return conn.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"), {"name": name}
        )


@pytest.mark.postgres_only
def test_declared_search_index_is_the_migrated_one(app, capfd):
    """The check reports a missing full-text index, and the model's declaration creates
    exactly the index migration 0002 made (the expression `flask db check` cannot compare).
    """
    migrated = _index_definition("ix_ideas_search")
    assert migrated is not None and "to_tsvector" in migrated
    with db.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_ideas_search"))
    try:
        code, output = flask_db_check(app, capfd)
        assert code != 0 and "ix_ideas_search" in output, output
    finally:
        with db.engine.begin() as conn:
            conn.execute(CreateIndex(_search_index(), if_not_exists=True))
    assert _index_definition("ix_ideas_search") == migrated
    assert flask_db_check(app, capfd)[0] == 0


def test_search_index_is_left_out_on_sqlite_only(app):
    """SQLite has no full-text index and the check does not ask for one there."""
    include = schema_comparison_filter(db.engine.dialect.name)
    assert include(_search_index(), "ix_ideas_search", "index", False, None) == (
        db.engine.dialect.name == "postgresql"
    )
