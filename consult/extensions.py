"""The Flask extensions, created unbound and attached in create_app()."""

from flask import current_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis import Redis
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def sql_dialect():
    """The dialect module whose ``insert`` has ``on_conflict_do_update`` for this database
    (PostgreSQL or SQLite): the upserts that keep counters exact under concurrency."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql if db.engine.dialect.name == "postgresql" else sqlite


migrate = Migrate(render_as_batch=True, compare_type=True)


def schema_comparison_filter(dialect_name: str):
    """Alembic's ``include_object`` when comparing the models with a ``dialect_name`` database.

    Used by migrations/env.py (``flask db check`` and ``db migrate``) and the tests. It
    leaves out
    - model objects made for another dialect only (``.ddl_if(dialect=...)``), such as the
      PostgreSQL full-text index, which SQLite never has;
    - the expression of an index marked ``info={"expression_compared_in_tests": True}``
      when it exists on both sides: PostgreSQL stores such an expression rewritten (casts,
      line breaks), so Alembic would report a change every time. Whether the index is
      missing or extra is still reported; tests/test_migrations.py compares the
      expression itself through PostgreSQL.
    """

    def include_object(obj, name, type_, reflected, compare_to):
        ddl_if = getattr(obj, "_ddl_if", None)
        if not reflected and ddl_if is not None and ddl_if.dialect not in (None, dialect_name):
            return False
        expression_on_both_sides = type_ == "index" and compare_to is not None
        return not (expression_on_both_sides and obj.info.get("expression_compared_in_tests"))

    return include_object


login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def get_redis() -> Redis | None:
    """The shared Redis client, or None when no REDIS_URL is configured.

    Short timeouts: a request must not hang when Redis is down or hung; callers fall back
    and, in requests, stop asking it after one failure (consult.redis_breaker). A second
    is a thousand times what the commands consult sends take. (RQ's worker lengthens the
    read timeout of its own process for its blocking wait.)
    """
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("consult_redis")
    if client is None:
        client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        current_app.extensions["consult_redis"] = client
    return client
