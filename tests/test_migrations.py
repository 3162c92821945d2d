"""Alembic builds the schema from nothing (the fixtures do that on both databases), and
the migrated schema matches the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from consult.extensions import db


def _not_the_search_index(obj, name, type_, reflected, compare_to):
    # The PostgreSQL full-text index is an expression the models cannot declare portably;
    # test_ideas_search checks that it exists and is used.
    return name != "ix_ideas_search"


def schema_differences():
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _not_the_search_index}
        )
        return compare_metadata(context, db.metadata)


def test_migrated_schema_matches_the_models(app):
    assert schema_differences() == []


def test_downgrade_to_nothing_and_back(app):
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert schema_differences() == []
